"""Locating public buyers by SIRET through SIRENE, with every answer cached in DuckDB.

The SIREN prefix rule (domain guide §5) leaves some buyers without a département: bodies created
after 2000 (``200…``), State bodies (``1…``), Corsica, Saint-Barthélemy/Saint-Martin, Mayotte/TAAF.
For those, the establishment's commune comes from SIRENE, by one of two routes:

* :func:`lookup_sirets` asks the public API Recherche d'entreprises
  (``GET /search?q=<siret>``, no key, at most 7 requests per second per IP) once per SIRET and
  stores the answer, found or not, in ``sirene_cache``; later runs never ask again. Network
  failures are not stored, so they are retried on the next run.
* :func:`load_stock_file` fills the same cache in bulk from the INSEE ``StockEtablissement`` file
  (CSV or Parquet), entirely in DuckDB.

The département is derived from the commune code (first two characters, three for overseas
``97x``/``98x``, Corsica ``2A``/``2B`` as written; Paris, Lyon and Marseille arrondissement codes
fall in 75, 69 and 13 by the same rule). The caller checks it against ``ref_departements``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import requests

from pipelines.common.download import make_session
from pipelines.common.sql import run_sql

DEFAULT_API = "https://recherche-entreprises.api.gouv.fr"
# Connect, read: a SIRET search is one small JSON document.
TIMEOUT = (10, 30)
# After this many failures in a row the API is taken to be down or refusing us: stop asking and
# leave the rest for the next run instead of spending retries and backoff on every SIRET.
MAX_CONSECUTIVE_FAILURES = 20

SIRET_PATTERN = re.compile(r"[0-9]{14}")
# La Poste's establishments follow another check than Luhn (INSEE), its head office aside.
LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"
COMMUNE_PATTERN = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")

INSERT_ROW = """
insert into sirene_cache (
    siret, found, siren, name, legal_category, commune_code, postal_code, departement_code,
    source, http_status, fetched_at
) values (
    $siret, $found, $siren, $name, $legal_category, $commune_code, $postal_code,
    $departement_code, 'api', $http_status, $fetched_at
)
on conflict do nothing
"""

# The same rule as departement_from_commune, for the bulk path; {c} is a column expression.
DEPARTEMENT_SQL = """
case when regexp_full_match({c}, '([0-9]{{2}}|2[AB])[0-9]{{3}}') then
    case when {c}[1:2] in ('97', '98') then {c}[1:3] else {c}[1:2] end
end
"""

# INSEE StockEtablissement columns; the legal category is in the legal-units file, not here.
STOCK_REQUIRED = ("siret", "codeCommuneEtablissement")
# The establishment's own name, else its first sign (the company name is in the other file).
STOCK_NAME_COLUMNS = ("denominationUsuelleEtablissement", "enseigne1Etablissement")


def api_base() -> str:
    """The API root, read at call time so tests and mirrors can point elsewhere."""
    return os.environ.get("PNAD_SIRENE_API", DEFAULT_API).rstrip("/")


def _luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def siret_is_valid(siret: object) -> bool:
    """A valid SIRET, as the ``siret_is_valid`` SQL macro says (14 digits, a Luhn-valid SIREN,
    the Luhn check or, for La Poste's establishments, digits adding up to a multiple of 5): an
    invalid SIRET cannot be found, so it is never asked."""
    if not isinstance(siret, str) or not SIRET_PATTERN.fullmatch(siret):
        return False
    if not _luhn_is_valid(siret[:9]):
        return False
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_HEAD_OFFICE:
        return sum(int(char) for char in siret) % 5 == 0
    return _luhn_is_valid(siret)


def departement_from_commune(code: str | None) -> str | None:
    """The département (or overseas collectivity) code of an INSEE commune code, or None."""
    if not code:
        return None
    code = code.strip().upper()
    if not COMMUNE_PATTERN.fullmatch(code):
        return None
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def ensure_cache_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``sirene_cache`` if it does not exist (one row per SIRET ever looked up)."""
    run_sql(con, "reference/create_sirene_cache")


class RateLimiter:
    """Spaces calls at least ``1 / max_per_second`` apart (client side, before the server's 429)."""

    def __init__(
        self,
        max_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_per_second <= 0:
            raise ValueError(f"max_per_second must be positive, got {max_per_second}")
        self.interval = 1.0 / max_per_second
        self._clock, self._sleep = clock, sleep
        self._next: float | None = None

    def wait(self) -> None:
        """Block until the next call is allowed, then book the slot after it."""
        if self._next is not None:
            while (now := self._clock()) < self._next:
                self._sleep(self._next - now)
        self._next = self._clock() + self.interval


def _pick_establishment(payload: object, siret: str) -> dict | None:
    """The asked establishment and its company from a /search answer, or None if absent.

    A SIRET query is a direct search: ``matching_etablissements`` holds the matching
    establishment; the ``siege`` is used when it is the one asked (kept as a fallback in case the
    list is trimmed). Anything else (another establishment of the same company) is not a match.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise ValueError("unexpected response shape: no 'results' list")
    for company in payload["results"]:
        if not isinstance(company, dict):
            continue
        candidates = list(company.get("matching_etablissements") or [])
        candidates.append(company.get("siege") or {})
        for etablissement in candidates:
            if isinstance(etablissement, dict) and str(etablissement.get("siret")) == siret:
                commune = etablissement.get("commune")
                return {
                    "siren": company.get("siren") or siret[:9],
                    "name": company.get("nom_complet") or company.get("nom_raison_sociale"),
                    "legal_category": company.get("nature_juridique"),
                    "commune_code": commune,
                    "postal_code": etablissement.get("code_postal"),
                    # Foreign or unknown commune: the API's own département when it gives one.
                    "departement_code": departement_from_commune(commune)
                    or etablissement.get("departement"),
                }
    return None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _pending(
    con: duckdb.DuckDBPyConnection, sirets: Iterable[str], limit: int | None
) -> tuple[list[str], set[str], int]:
    """(the valid SIRETs to ask, at most ``limit``; those already cached; invalid ones)."""
    wanted: set[str] = set()
    invalid = 0
    for siret in sirets:
        candidate = siret.strip() if isinstance(siret, str) else siret
        if siret_is_valid(candidate):
            wanted.add(candidate)
        else:
            invalid += 1
    cached = {
        row[0]
        for row in con.execute(
            "select siret from sirene_cache where siret in (select unnest($sirets::varchar[]))",
            {"sirets": sorted(wanted)},
        ).fetchall()
    }
    # Sorted so that a capped run is reproducible and the next run continues where it stopped.
    pending = sorted(wanted - cached)
    if limit is not None:
        pending = pending[: max(limit, 0)]
    return pending, cached, invalid


def _cache_row(siret: str, match: dict | None, status: int | None) -> dict:
    """The sirene_cache row of one answer (found or not)."""
    row = {
        "siret": siret,
        "found": match is not None,
        "siren": None,
        "name": None,
        "legal_category": None,
        "commune_code": None,
        "postal_code": None,
        "departement_code": None,
        "http_status": status,
        "fetched_at": _now(),
    }
    row.update(match or {})
    return row


def lookup_sirets(
    con: duckdb.DuckDBPyConnection,
    sirets: Iterable[str],
    *,
    session: requests.Session | None = None,
    max_per_second: float = 5.0,
    limit: int | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, int]:
    """Ask the API for every valid SIRET not yet in ``sirene_cache`` and cache each answer.

    ``limit`` caps the API calls of this run (a large backlog is spread over runs). Returns
    counts: ``asked`` (API calls made), ``found``, ``not_found``, ``failed`` (not cached, asked
    again next run) and ``cached_before`` (valid SIRETs already in the cache).
    """
    ensure_cache_table(con)
    pending, cached, invalid = _pending(con, sirets, limit)
    counts = {"asked": 0, "found": 0, "not_found": 0, "failed": 0, "cached_before": len(cached)}
    if invalid:
        log(f"SIRENE : {invalid} SIRET non valide(s) ignoré(s)")
    if not pending:
        log(f"SIRENE : rien à demander ({len(cached)} déjà en cache)")
        return counts

    session = session or make_session()
    limiter = RateLimiter(max_per_second)
    url = f"{api_base()}/search"
    in_a_row = 0
    log(f"SIRENE : {len(pending)} SIRET demandé(s) à l'API, {len(cached)} déjà en cache")
    for number, siret in enumerate(pending, start=1):
        if in_a_row >= MAX_CONSECUTIVE_FAILURES:
            log(
                f"SIRENE : {in_a_row} échecs de suite, arrêt ; le reste attend la prochaine "
                "exécution"
            )
            break
        limiter.wait()
        counts["asked"] += 1
        status: int | None = None
        try:
            # The session retries connection errors, 429 (honouring Retry-After) and 5xx.
            response = session.get(url, params={"q": siret}, timeout=TIMEOUT)
            status = response.status_code
            if status != 200:
                raise requests.HTTPError(f"HTTP {status}")
            match = _pick_establishment(response.json(), siret)
        except requests.ConnectionError as error:
            # The service cannot be reached at all (no network, DNS): asking the other SIRETs
            # would only wait out the same retries again. They are asked on the next run.
            counts["failed"] += 1
            reason = (str(error).splitlines() or [type(error).__name__])[0][:200]
            log(f"SIRENE : injoignable ({reason}) ; les {len(pending) - number} autre(s) attendent")
            break
        except (requests.RequestException, ValueError) as error:
            counts["failed"] += 1
            in_a_row += 1
            reason = (str(error).splitlines() or [type(error).__name__])[0][:200]
            log(f"SIRENE : échec pour {siret} ({reason})")
            continue
        in_a_row = 0
        row = _cache_row(siret, match, status)
        con.execute(INSERT_ROW, row)  # one row at a time: an interrupted run keeps its answers
        counts["found" if match else "not_found"] += 1
        if number % 100 == 0:
            log(f"SIRENE : {number}/{len(pending)} demandé(s)")
    log(
        "SIRENE : {asked} demandé(s), {found} trouvé(s), {not_found} introuvable(s), "
        "{failed} échec(s), {cached_before} déjà en cache".format(**counts)
    )
    return counts


def load_stock_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    sirets: Iterable[str] | None = None,
) -> int:
    """Fill ``sirene_cache`` from an INSEE ``StockEtablissement`` file (``.parquet`` or CSV,
    uncompressed or ``.csv.gz``), keeping only ``sirets`` when given. SIRETs already cached (from
    the API or an earlier stock) are left as they are. Returns the number of rows inserted."""
    ensure_cache_table(con)
    path = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(path)
    # Everything as text: SIRETs and commune codes keep their leading zeros and 2A/2B.
    if path.lower().endswith(".parquet"):
        reader = "read_parquet($path)"
    else:
        reader = "read_csv($path, header = true, all_varchar = true)"
    present = {
        row[0].lower(): row[1]
        for row in con.execute(f"describe select * from {reader}", {"path": path}).fetchall()  # noqa: S608
    }
    missing = [column for column in STOCK_REQUIRED if column.lower() not in present]
    if missing:
        raise ValueError(f"{path} is not a SIRENE establishments stock file: no {missing}")

    def text(column: str) -> str:
        # Column names come from this module's constants, never from the file.
        if column.lower() not in present:
            return "cast(null as varchar)"
        return f"nullif(trim(cast({column} as varchar)), '')"

    siret = text("siret")
    if present["siret"] != "VARCHAR":
        # A Parquet stock may type the SIRET as a number: restore its leading zeros.
        # (lpad would also cut a longer value to 14 characters: those are left to fail the check)
        siret = f"case when length({siret}) < 14 then lpad({siret}, 14, '0') else {siret} end"
    names = [text(column) for column in STOCK_NAME_COLUMNS if column.lower() in present]
    name = f"coalesce({', '.join(names)})" if names else "cast(null as varchar)"
    params: dict[str, object] = {"path": path, "fetched_at": _now()}
    restrict = ""
    if sirets is not None:
        params["wanted"] = sorted({s for s in sirets if isinstance(s, str)})
        restrict = "and siret in (select unnest($wanted::varchar[]))"
    before = con.execute("select count(*) from sirene_cache").fetchone()[0]
    con.execute(
        f"""
        insert into sirene_cache (
            siret, found, siren, name, legal_category, commune_code, postal_code,
            departement_code, source, http_status, fetched_at
        )
        select siret, true, siret[1:9], name, null, commune_code, postal_code,
            {DEPARTEMENT_SQL.format(c="commune_code")}, 'stock', null, $fetched_at
        from (
            select
                {siret} as siret,
                upper({text("codeCommuneEtablissement")}) as commune_code,
                {text("codePostalEtablissement")} as postal_code,
                {name} as name
            from {reader}
        )
        where regexp_full_match(siret, '[0-9]{{14}}')
            {restrict}
            and siret not in (select siret from sirene_cache)
        qualify row_number() over (partition by siret order by commune_code nulls last) = 1
        """,  # noqa: S608 - fixed column names and reader; values are bound parameters
        params,
    )
    return con.execute("select count(*) from sirene_cache").fetchone()[0] - before
