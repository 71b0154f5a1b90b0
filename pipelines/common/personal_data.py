"""Recognising personal data by its column headers (a person's name, first name, birth date),
so that a file holding it is never landed, parsed as DECP data or published: only a
facilitator's export is read with it, and pseudonymised on load."""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache

from pipelines.common.paths import REFERENCE_DIR

# Words that carry no meaning in a column header ("Nombre d'heures réalisées" = "heures réalisées").
STOP_WORDS = frozenset(
    "de d du des la le les l en a au aux nombre nb total totaux h hrs ht ttc".split()
)


# The fields of facilitator_fields.csv that say who a person is (an identifier alone does not).
PERSON_FIELDS = ("participant_last_name", "participant_first_name", "participant_birth_date")


def header_key(text: object) -> str:
    """The comparison key of a column header: no accents, lower case, words only, no stop words.
    'Nombre d’heures réalisées (h)' and 'HEURES REALISEES' share the key 'heures realisees'."""
    plain = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", plain.lower()).split()
    return " ".join(w for w in words if w not in STOP_WORDS)


@cache
def _person_header_keys() -> frozenset[str]:
    """Header keys of a name, first name or birth date: the synonyms of PERSON_FIELDS."""
    keys: set[str] = set()
    with (REFERENCE_DIR / "facilitator_fields.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["field"] in PERSON_FIELDS:
                keys |= {header_key(s) for s in row["synonyms"].split("|")}
    return frozenset(keys)


def personal_columns(header: bytes | str) -> list[str]:
    """The columns of a CSV header line that name a person or a birth date (as written)."""
    if isinstance(header, bytes):
        header = header.decode("utf-8", errors="replace")
    header = header.removeprefix("\ufeff").splitlines()[0] if header.strip() else ""
    delimiter = max((";", ",", "\t", "|"), key=header.count)
    cells = next(csv.reader([header], delimiter=delimiter), [])
    return [cell.strip() for cell in cells if header_key(cell) in _person_header_keys()]
