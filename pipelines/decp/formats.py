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
import zlib
from pathlib import Path

from pipelines.common.download import looks_like_html
from pipelines.common.formatting import size_fr
from pipelines.common.limits import limits
from pipelines.common.personal_data import personal_columns
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
    except (OSError, EOFError, zlib.error) as error:
        raise DamagedGzipError(f"fichier gzip endommagé ({error})") from error


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


# What a file is, from its first bytes, when it is not data (said in the reason it is set aside).
MAGIC_NUMBERS = (
    (b"\x89PNG\r\n\x1a\n", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"%PDF", "un document PDF"),
    (b"PK\x03\x04", "une archive ZIP (ou un classeur Excel)"),
    (b"\xd0\xcf\x11\xe0", "un document Office ancien (.xls, .doc)"),
    (b"BZh", "un fichier compressé bzip2 (seul gzip est lu)"),
    (b"\xfd7zXZ\x00", "un fichier compressé xz (seul gzip est lu)"),
    (b"\x28\xb5\x2f\xfd", "un fichier compressé zstd (seul gzip est lu)"),
    (b"7z\xbc\xaf\x27\x1c", "une archive 7-Zip"),
    (b"Rar!", "une archive RAR"),
    (b"SQLite format 3\x00", "une base SQLite"),
    (b"\x7fELF", "un programme"),
)


# Byte order marks of the Unicode encodings other than UTF-8 (UTF-32 first: its mark starts
# with UTF-16's).
UNICODE_MARKS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def unicode_encoding(head: bytes) -> str | None:
    """The encoding of a text in UTF-16 or UTF-32 (with its mark, or without when its first
    character is ASCII: a zero byte beside it); None for anything else."""
    for mark, encoding in UNICODE_MARKS:
        if head.startswith(mark):
            return encoding
    if len(head) >= 4 and head[0] and not any(head[1:4]):
        return "utf-32-le"
    if len(head) >= 4 and not any(head[:3]) and head[3]:
        return "utf-32-be"
    if len(head) >= 2 and head[0] and not head[1]:
        return "utf-16-le"
    if len(head) >= 2 and not head[0] and head[1]:
        return "utf-16-be"
    return None


def as_utf8_text(head: bytes) -> bytes:
    """The first bytes as UTF-8 text: decoded from UTF-16 or UTF-32 when they are in it."""
    encoding = unicode_encoding(head)
    if encoding is None:
        return head
    return head.decode(encoding, errors="ignore").lstrip("\ufeff").encode("utf-8")


# Bytes no text file holds (control characters other than tab, line feed, form feed, carriage
# return): in random data, about one byte in nine.
CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13}) + b"\x7f"


def is_binary(head: bytes) -> bool:
    """Binary content: over 5 % of control bytes (one stray NUL in a text does not make it
    binary: that record is rejected, the others read)."""
    controls = len(head) - len(head.translate(None, CONTROL_BYTES))
    return controls > len(head) // 20


def sniff_format(path: Path) -> tuple[str | None, str | None]:
    """(format, reason): the format read from the first bytes, or why the file is unusable
    (in French: it is stored and shown as it is)."""
    try:
        head = read_head(path)
    except DamagedGzipError as error:
        return None, str(error)
    if not head.strip():
        return None, "fichier vide (ou seulement des blancs)"
    what = next((name for magic, name in MAGIC_NUMBERS if head.startswith(magic)), None)
    if what:
        return None, f"ce fichier est {what}, pas un fichier de données DECP"
    if head.startswith(b"PAR1"):
        return _bounded("decp-tabular-parquet", path)
    text = as_utf8_text(head).removeprefix(b"\xef\xbb\xbf").lstrip()
    if is_binary(text):
        return None, "contenu binaire : ni JSON, ni XML, ni CSV, ni Parquet"
    if text[:1] in (b"{", b"["):
        if b'"marches"' in text or has_marches_key(path):
            return _bounded("decp-json", path)
        return None, "JSON sans racine « marches » : pas un fichier DECP"
    if text[:1] == b"<":
        if looks_like_html(text):
            return None, "page HTML (une page d'erreur enregistrée comme fichier de données ?)"
        return _bounded("decp-xml", path)
    header = text.split(b"\n", 1)[0].lower()
    personal = personal_columns(header)
    if personal:
        return None, (
            f"données personnelles probables (colonnes {', '.join(personal)}) : fichier non "
            "lu ; un export de facilitateur se charge avec pnad ingest --facilitator NOM"
        )
    if is_decp_csv_header(header):
        return _bounded("decp-tabular-csv", path)
    if b";" in header or b"," in header or b"\t" in header:
        return None, "CSV sans colonnes DECP (pas de colonne acheteur dans l'en-tête)"
    return None, "contenu non reconnu (ni JSON, ni XML, ni CSV, ni Parquet)"


def _bounded(fmt: str, path: Path) -> tuple[str | None, str | None]:
    """The format, unless the file's content is over the bounds (content_problem)."""
    problem = content_problem(path)
    return (None, problem) if problem else (fmt, None)


def content_problem(path: Path) -> str | None:
    """Why a file's content is too large to be read (French), or None.

    A gzip file is decompressed, streaming, to count its content (its trailer can lie): one over
    PNAD_MAX_CONTENT_BYTES, or a decompression bomb (more than 1 GB at a ratio over
    PNAD_MAX_COMPRESSION_RATIO), is refused before anything reads it whole.
    """
    bounds = limits()
    if not head_is_gzip(path):
        if path.stat().st_size > bounds.max_content_bytes:
            return f"fichier trop grand : plus de {size_fr(bounds.max_content_bytes)}"
        return None
    content = 0
    with path.open("rb") as raw:
        try:
            with gzip.open(raw, "rb") as handle:
                while chunk := handle.read(1 << 22):
                    content += len(chunk)
                    if content > bounds.max_content_bytes:
                        return (
                            "contenu décompressé trop grand : plus de "
                            f"{size_fr(bounds.max_content_bytes)} (PNAD_MAX_CONTENT_BYTES)"
                        )
                    ratio = content / max(raw.tell(), 1)
                    if content > 10**9 and ratio > bounds.max_compression_ratio:
                        return (
                            f"bombe de décompression : {size_fr(content)} décompressés de "
                            f"{size_fr(raw.tell())} (taux supérieur à "
                            f"{bounds.max_compression_ratio}, PNAD_MAX_COMPRESSION_RATIO)"
                        )
        except (OSError, EOFError, zlib.error) as error:
            return f"fichier gzip endommagé ({error})"
    return None


def has_marches_key(path: Path) -> bool:
    """Whether a JSON document holds a "marches" key anywhere (past the first bytes too: a
    document may start with long metadata), read streaming up to PNAD_MAX_CONTENT_BYTES."""
    with path.open("rb") as probe:
        start = probe.read(SNIFF_BYTES)
    encoding = unicode_encoding(start.removeprefix(b"\xef\xbb\xbf"))
    needle = '"marches"'.encode(encoding or "utf-8")  # utf-16-le, ...: no byte order mark
    opener = gzip.open if head_is_gzip(path) else open
    read, tail, budget = 0, b"", limits().max_content_bytes
    try:
        with opener(path, "rb") as handle:
            while read < budget and (chunk := handle.read(1 << 22)):
                if needle in tail + chunk:
                    return True
                tail, read = chunk[-len(needle) :], read + len(chunk)
    except (OSError, EOFError, zlib.error):
        return False
    return False


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


def utf8_copy(path: Path, target: Path) -> str | None:
    """When a text file is not UTF-8, write it to ``target`` in UTF-8 and return the encoding it
    was read in: UTF-16 or UTF-32 when it is in one (byte order mark, or zero bytes beside the
    first characters), else Windows-1252 (what French spreadsheets and older platforms save in;
    a byte it does not define becomes U+FFFD); return None for a UTF-8 file. Streaming, for files
    of any size."""
    opener = gzip.open if head_is_gzip(path) else open
    try:
        with opener(path, "rb") as handle:
            encoding = unicode_encoding(handle.read(SNIFF_BYTES))
    except (OSError, EOFError, zlib.error):
        return None  # a damaged gzip file: the first reading's reason stands
    if encoding is None:
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            with opener(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return None
        except UnicodeDecodeError:
            encoding = "cp1252"
        except (OSError, EOFError, zlib.error):
            return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with opener(path, "rb") as source, target.open("w", encoding="utf-8") as out:
        text = io.TextIOWrapper(source, encoding=encoding, errors="replace")
        out.write(text.read(1 << 16).removeprefix("\ufeff"))  # a byte order mark is not data
        shutil.copyfileobj(text, out)
    return "Windows-1252" if encoding == "cp1252" else encoding.upper()


def head_is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC
