"""Participants pseudonymised on load: a keyed hash (HMAC-SHA256 with a per-installation
secret) of their identity, and the mapped rows as the staged frame that reaches the database,
without any name or birth date."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from datetime import datetime
from functools import lru_cache

import pandas as pd

from pipelines.common.paths import PnadPaths
from pipelines.facilitators.mapping import PERSONAL_FIELDS, MappedSheet, canonical_fields


def installation_secret(paths: PnadPaths) -> bytes:
    """The key of participant pseudonyms: $PNAD_PSEUDONYM_SECRET, else a random secret created
    once in PNAD_HOME/.pnad_secret (readable by its owner only). The same person gets the same
    pseudonym in every export of this installation, and nobody without the key can go back."""
    if os.environ.get("PNAD_PSEUDONYM_SECRET"):
        return os.environ["PNAD_PSEUDONYM_SECRET"].encode()
    target = paths.pseudonym_secret
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return target.read_text().strip().encode()


NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1 << 16)  # identities and facilitator names repeat from line to line
def _identity_key(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return NOT_ALPHANUMERIC.sub("", text.lower())


def _date_key(text: str) -> str:
    """A date however it is written (1990-05-04, 04/05/1990, Excel's datetime) as ISO digits."""
    text = text.strip()[:10]
    for layout in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, layout).strftime("%Y%m%d")
        except ValueError:
            continue
    return _identity_key(text)


def pseudonym(secret: bytes, facilitator: str, row: dict[str, str]) -> str | None:
    """HMAC-SHA256 of the participant's identity. From name + first name + birth date when
    present (the same person across facilitators), else from the facilitator's own identifier
    (scoped to that facilitator: two tools may reuse a number). None when neither is given."""
    last = _identity_key(row.get("participant_last_name", ""))
    if last:
        first = _identity_key(row.get("participant_first_name", ""))
        birth = _date_key(row.get("participant_birth_date", ""))
        identity = f"person|{last}|{first}|{birth}"
    elif _identity_key(row.get("participant_id", "")):
        identity = f"id|{_identity_key(facilitator)}|{_identity_key(row['participant_id'])}"
    else:
        return None
    return "P" + hmac.new(secret, identity.encode(), hashlib.sha256).hexdigest()[:20]


TOTAL_LABEL = re.compile(r"(sous[- ]?)?(total|totaux)\b|ensemble\b")


def _is_total_row(cells: list[str]) -> bool:
    """A totals line at the bottom of a sheet ('Total', 'TOTAL GÉNÉRAL', 'Sous-total')."""
    for cell in cells[:4]:
        # cheap test first: a label of a totals line starts with t, s or e
        if cell[:1] in "TtSsEe" and TOTAL_LABEL.match(cell.lower()):
            return True
    return False


STAGED_FIELDS = [f for f in canonical_fields() if f not in PERSONAL_FIELDS]


def staged_frame(mapped: list[MappedSheet], secret: bytes, facilitator: str) -> pd.DataFrame:
    """One text row per data row of every mapped sheet, canonical columns only, with the
    participant pseudonym in place of any personal column. Built column by column: an export
    of a few hundred thousand lines takes seconds."""
    frames = []
    for item in mapped:
        rows = [cells for _, cells in item.sheet.rows]
        column = {
            f: [cells[i] if i < len(cells) else "" for cells in rows]
            for f, i in item.columns.items()
        }
        frame = pd.DataFrame({f: column.get(f) for f in STAGED_FIELDS if f in column})
        for name in frame.columns:
            # an empty cell is no value; in a column of publics the file has, it means "no"
            if name != "publics" and not name.startswith("public_"):
                frame[name] = frame[name].mask(frame[name] == "")
        frame.insert(0, "sheet", item.sheet.name)
        frame.insert(1, "sheet_kind", item.kind)
        frame.insert(2, "line_number", [line for line, _ in item.sheet.rows])
        frame.insert(3, "is_total_row", [_is_total_row(cells) for cells in rows])
        if item.kind == "participants":
            personal = [column.get(f, [""] * len(rows)) for f in (*PERSONAL_FIELDS, "facilitator")]
            frame.insert(
                4,
                "participant_key",
                [
                    pseudonym(
                        secret,
                        row_facilitator or facilitator,
                        dict(zip(PERSONAL_FIELDS, values, strict=True)),
                    )
                    for *values, row_facilitator in zip(*personal, strict=True)
                ],
            )
        frames.append(frame)
    columns = [
        "sheet",
        "sheet_kind",
        "line_number",
        "is_total_row",
        "participant_key",
        *STAGED_FIELDS,
    ]
    combined = pd.concat(frames, ignore_index=True).reindex(columns=columns)
    return combined.astype(
        {c: "string" for c in columns if c not in ("line_number", "is_total_row")}
    )


def value_map(mapped: list[MappedSheet]) -> pd.DataFrame:
    """The vocabulary of the export's coded values: the file's own mapping first, then the
    built-in vocabulary (pipelines/reference/facilitator_vocabulary.csv)."""
    rows = [
        (name, spelling, value)
        for item in mapped
        for name, values in item.mapping.values.items()
        for spelling, value in values.items()
    ]
    return pd.DataFrame(rows, columns=["field", "spelling", "value"], dtype="string")
