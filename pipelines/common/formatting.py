"""French formatting of what a person reads: numbers ``12 345,6`` and ``14,2 %`` (narrow
no-break spaces), buyer categories as words."""

from __future__ import annotations

import math
from datetime import date, datetime

THIN_SPACE = "\u202f"  # espace fine insécable, the French thousands separator


def number_fr(value: float | int | None, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", THIN_SPACE).replace(".", ",")


def percent_fr(share: float | None, decimals: int = 1) -> str:
    """A share in [0, 1] as a French percentage: 0.142 -> '14,2 %'."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{number_fr(100 * share, decimals)}{THIN_SPACE}%"


def points_fr(points: float | None) -> str:
    """A gap in percentage points: 15.8 -> '15,8 pts'."""
    if points is None or (isinstance(points, float) and math.isnan(points)):
        return "–"
    return f"{number_fr(points, 1)}{THIN_SPACE}pts"


def trend_fr(points: float | None) -> str:
    """A change in points with its sign: '+1,4 pts', '−2,8 pts'."""
    if points is None or points == 0:
        return points_fr(points)
    sign = "+" if points > 0 else "\u2212"
    return sign + points_fr(abs(points))


def gap_fr(points: float | None) -> str:
    """The gap to a target: points still to go, or 'cible atteinte' when it is reached."""
    if points is not None and points <= 0:
        return "cible atteinte"
    return points_fr(points)


def date_fr(value: date | datetime | None) -> str:
    """A date as 31/12/2025, or a dash."""
    return value.strftime("%d/%m/%Y") if value else "–"


def size_fr(size: int | None) -> str:
    """A size in bytes as 12,3 ko / Mo / Go (French decimal comma), or a dash."""
    if size is None:
        return "–"
    if size < 1_000_000:
        return f"{number_fr(size / 1000, 1)}\u202fko"
    if size < 1_000_000_000:
        return f"{number_fr(size / 1_000_000, 1)}\u202fMo"
    return f"{number_fr(size / 1_000_000_000, 1)}\u202fGo"


# What became of one download (download_manifest.outcome) as a person reads it.
OUTCOMES_FR = {
    "downloaded": "téléchargé",
    "copied": "copié",
    "unchanged": "inchangé",
    "not_modified": "non modifié",
    "quarantined": "mis de côté",
    "failed": "en échec",
}


# A facilitator's export's status (facilitator_files.status) as a person reads it.
EXPORT_STATUS_FR = {"active": "actif", "replaced": "remplacé", "withdrawn": "retiré"}


# A buyer's category (contracts.buyer_category) as a person reads it.
CATEGORY_LABELS = {
    "commune": "commune",
    "departement": "département",
    "region": "région",
    "intercommunalite": "intercommunalité",
    "etablissement_public_local": "établissement public local",
    "etat": "État",
    "hopital": "hôpital",
    "autre": "autre",
}


def category_fr(category: str | None) -> str:
    """'etablissement_public_local' -> 'établissement public local'; None -> '–'."""
    return CATEGORY_LABELS.get(category, category) if category else "–"


MONTH_NAMES_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def month_long_fr(month: date | str | None, *, year: bool = True) -> str:
    """A month as a sentence says it: 2026-11 -> 'novembre 2026' ('novembre' without the
    year); a 'YYYY-MM' text is read as that month."""
    if not month:
        return "–"
    if isinstance(month, str):
        month = date(int(month[:4]), int(month[5:7]), 1)
    name = MONTH_NAMES_FR[month.month - 1]
    return f"{name} {month.year}" if year else name
