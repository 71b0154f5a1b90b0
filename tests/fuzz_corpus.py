"""The fuzz corpus: every hostile or unlucky input the pipeline met, written by code (no binary
is committed). ``write_decp_cases(folder)`` writes the DECP inputs, ``write_export_cases``
the facilitators' drop-folder inputs; each case says what must become of it.

Run it to look at the files: ``uv run python tests/fuzz_corpus.py /tmp/corpus``.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

BUYER = "21740056300011"


def record(contract_id: str, **extra) -> dict:
    return {
        "id": contract_id,
        "acheteur": {"id": BUYER},
        "dateNotification": "2024-05-01",
        "montant": 1000,
        **extra,
    }


def wrapped(*records: dict) -> str:
    return json.dumps({"marches": {"marche": list(records)}}, ensure_ascii=False)


@dataclass(frozen=True)
class Case:
    """One input: its file name, and what must become of it: ``loads`` the contract ids it
    gives; ``reason`` a French phrase its set-aside reason holds (None: read)."""

    name: str
    loads: tuple[str, ...] = ()
    reason: str | None = None


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(200)


def _random_parquet(path: Path) -> None:
    """A valid Parquet file with nothing of DECP in it."""
    with duckdb.connect() as con:
        con.execute(
            "copy (select range as a, 'x' || range as b from range(100)) to $path (format parquet)",
            {"path": str(path)},
        )


def _deep_xml(levels: int) -> str:
    return (
        "<marches><marche><id>X1</id><acheteur><id>"
        + BUYER
        + "</id></acheteur>"
        + "<a>" * levels
        + "1"
        + "</a>" * levels
        + "</marche></marches>"
    )


def _whitespace_bomb(path: Path, content_bytes: int) -> None:
    """A gzip file of blanks after an opening brace: tiny, huge once decompressed."""
    block = b" " * (1 << 20)
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b'{"marches": [')
        for _ in range(content_bytes // len(block)):
            out.write(block)
        out.write(b"]}")


def write_decp_cases(folder: Path, bomb_bytes: int = 80 * (1 << 20)) -> list[Case]:
    """Every DECP input case under ``folder``; the good files give the contracts GOOD*."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def write(name: str, content: bytes | str, case: Case) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
        cases.append(case)

    write(
        "good.json",
        wrapped(record("GOOD1"), record("GOOD2")),
        Case("good.json", ("GOOD1", "GOOD2")),
    )
    # poison inputs
    write("deep.xml", _deep_xml(2000), Case("deep.xml", reason="XML trop imbriqué"))
    write("bad.csv", _png(), Case("bad.csv", reason="une image PNG"))
    write("photo.json", _jpeg(), Case("photo.json", reason="une image JPEG"))
    _random_parquet(folder / "random.parquet")
    cases.append(Case("random.parquet", reason="Parquet illisible"))
    write(
        "noise.parquet", random.Random(7).randbytes(4000), Case("noise.parquet", reason="binaire")
    )
    write("empty.json", "   \n", Case("empty.json", reason="fichier vide"))
    write(
        "page.json",
        "<head><title>502</title></head><body>Bad gateway</body>",
        Case("page.json", reason="page HTML"),
    )
    # encodings and shapes that are valid DECP
    write(
        "utf16.json",
        b"\xff\xfe" + wrapped(record("GOOD16")).encode("utf-16-le"),
        Case("utf16.json", ("GOOD16",)),
    )
    write(
        "utf32.json",
        b"\xff\xfe\x00\x00" + wrapped(record("GOOD32")).encode("utf-32-le"),
        Case("utf32.json", ("GOOD32",)),
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-16"?><marches><marche><id>GOODX16</id>'
        f"<acheteur><id>{BUYER}</id></acheteur><dateNotification>2024-05-01</dateNotification>"
        "<montant>1000</montant></marche></marches>"
    )
    write("utf16.xml", xml.encode("utf-16"), Case("utf16.xml", ("GOODX16",)))
    late = json.dumps(
        {"metadata": {"note": "x" * 70_000}, "marches": {"marche": [record("LATE1")]}}
    )
    write("late_root.json", late, Case("late_root.json", ("LATE1",)))
    # one bad record: the others are read
    nul = wrapped(record("NUL1"), record("NUL2", objet="a\x00b")).replace("\\u0000", "\x00")
    write("nul.json", nul, Case("nul.json", ("NUL1", "NUL2")))
    twice = wrapped(record("DUP1")).replace('"id": "DUP1"', '"id": "DUP0", "id": "DUP1"')
    write("duplicate_key.json", twice, Case("duplicate_key.json", ("DUP0",)))
    # bounded decompressed size
    _whitespace_bomb(folder / "bomb.json.gz", bomb_bytes)
    cases.append(Case("bomb.json.gz", reason="contenu décompressé trop grand"))
    return cases


PARTICIPANTS = (
    "Nom;Prénom;Date de naissance;Acheteur;Commune\n"
    "Zorglubeau;Ysolde;12/03/1990;Ville de Test;Annecy\n"
    "Quenouillard;Anatole;01/07/1985;Ville de Test;Annecy\n"
)


def write_participants_list(path: Path) -> Path:
    """A participants list (names, birth dates, no hours): personal data, never a DECP file."""
    path.write_text(PARTICIPANTS, encoding="utf-8")
    return path


def write_export_cases(drop_folder: Path, outside: Path) -> dict[str, str]:
    """Bad files in the facilitators' drop folder: name -> French phrase of their reason. A
    link to a file outside the folder, a PNG named .csv."""
    drop_folder.mkdir(parents=True, exist_ok=True)
    outside.write_text("secret;valeur\n1;2\n", encoding="utf-8")
    (drop_folder / "lien.csv").symlink_to(outside)
    (drop_folder / "image.csv").write_bytes(_png())
    return {"lien.csv": "lien symbolique non suivi", "image.csv": "une image PNG"}


def non_utf8_name(folder: Path, content: str) -> Path:
    """A file whose name is not UTF-8 (Latin-1 « é »)."""
    name = os.fsdecode(b"march\xe9s.json")
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz_corpus")
    for case in write_decp_cases(target / "decp"):
        print(case)
    write_participants_list(target / "participants.csv")
