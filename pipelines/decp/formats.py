"""What a DECP file is, read from its first bytes, never from its name: JSON (and the shape of
its "marches" root), XML, Parquet, CSV of DECP columns, or why it is unusable; its encoding and
its size once decompressed."""

from __future__ import annotations

import codecs
import gzip
import io
import os
import re
import shutil
from pathlib import Path

from pipelines.common.download import looks_like_html
from pipelines.decp.tabular_columns import DECP_EXTRACT_COLUMNS

FORMAT_LABELS = {
    "decp-json": "JSON",
    "decp-xml": "XML",
    "decp-tabular-parquet": "Parquet",
    "decp-tabular-csv": "CSV",
}


PARSERS = tuple(FORMAT_LABELS)


SNIFF_BYTES = 64 * 1024


GZIP_MAGIC = b"\x1f\x8b"


# The "marches" root and the first character of its value: '{' wrapped lists, '[' an array.
JSON_ROOT = re.compile(rb'"marches"\s*:\s*([\[{])')


SUFFIX_BY_FORMAT = {
    "decp-json": ".json",
    "decp-xml": ".xml",
    "decp-tabular-parquet": ".parquet",
    "decp-tabular-csv": ".csv",
}


class DamagedGzipError(Exception):
    """A gzip file whose content cannot be decompressed."""


def read_head(path: Path) -> bytes:
    """The first bytes of a file's content, decompressed when it is gzipped (.json.gz, .csv.gz,
    .xml.gz)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head[:2] != GZIP_MAGIC:
        return head
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(SNIFF_BYTES)
    except (OSError, EOFError) as error:
        raise DamagedGzipError(f"damaged gzip file ({error})") from error


def header_delimiter(header: bytes) -> bytes:
    """The delimiter of a CSV header line: the most frequent of ; , tab | (DuckDB's sniffer, from a
    few rows, can be misled by one malformed row)."""
    return max((b";", b",", b"\t", b"|"), key=header.count)


def is_decp_csv_header(header: bytes) -> bool:
    """A CSV header line of DECP data: a buyer column (acheteur_id, acheteur.id, ...), or a
    decp-processing uid beside at least one other DECP column (an analyst's partial extract)."""
    header = header.lower()
    delimiter = header_delimiter(header)
    if delimiter not in header:
        return False
    if b"acheteur" in header:
        return True
    names = {name.strip().strip(b'"') for name in header.split(delimiter)}
    return b"uid" in names and bool(names & DECP_EXTRACT_COLUMNS)


def sniff_format(path: Path) -> tuple[str | None, str | None]:
    """(format, reason): the format read from the first bytes, or why the file is unusable."""
    try:
        head = read_head(path)
    except DamagedGzipError as error:
        return None, str(error)
    if not head.strip():
        return None, "empty file"
    if head.startswith(b"PAR1"):
        return "decp-tabular-parquet", None
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        if b'"marches"' in text:
            return "decp-json", None
        return None, 'JSON without a "marches" root: not a DECP file'
    if text[:1] == b"<":
        if looks_like_html(text):
            return None, "HTML page (an error page saved as a data file?)"
        return "decp-xml", None
    header = text.split(b"\n", 1)[0].lower()
    if is_decp_csv_header(header):
        return "decp-tabular-csv", None
    if b";" in header or b"," in header:
        return None, "CSV without DECP columns (no acheteur column in the header)"
    return None, "unrecognised content (not JSON, XML, CSV or Parquet)"


def json_root_shape(path: Path) -> str | None:
    """What the "marches" root of a DECP JSON file holds, read from its first bytes: 'wrapped'
    (an object of lists, the 2022 format) or 'array' (2019 format, 2.0.0 flat draft); None when
    the first bytes do not tell."""
    try:
        match = JSON_ROOT.search(read_head(path))
    except (OSError, DamagedGzipError):
        return None  # the generic read reports what is wrong with the file
    if match is None:
        return None
    return "wrapped" if match.group(1) == b"{" else "array"


def content_size(path: Path) -> int:
    """Bytes of the file's content: a gzip file gives it in its last four bytes (modulo 4 GiB,
    so a content that seems smaller than the compressed file is taken as larger than 4 GiB)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if handle.read(2) != GZIP_MAGIC or size < 18:
            return size
        handle.seek(-4, os.SEEK_END)
        content = int.from_bytes(handle.read(4), "little")
    return content if content >= size else content + (1 << 32)


def utf8_copy(path: Path, target: Path) -> bool:
    """When a text file is not UTF-8, write it to ``target`` decoded as Windows-1252 (what French
    spreadsheets and older platforms save in; a byte it does not define becomes U+FFFD) and
    return True; return False for a UTF-8 file. Streaming, for files of any size."""
    opener = gzip.open if head_is_gzip(path) else open
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with opener(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return False
    except UnicodeDecodeError:
        pass
    except (OSError, EOFError):
        return False  # a damaged gzip file: the first reading's reason stands
    target.parent.mkdir(parents=True, exist_ok=True)
    with opener(path, "rb") as source, target.open("w", encoding="utf-8") as out:
        shutil.copyfileobj(io.TextIOWrapper(source, encoding="cp1252", errors="replace"), out)
    return True


def head_is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC
