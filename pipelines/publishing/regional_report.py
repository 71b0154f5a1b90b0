"""The coordinators' report for one région (or, on request, one département): the territory
against the PNAD targets, change since the previous report, the buyers furthest from the
targets, the opportunities, the facilitators' hours beside the DECP with the two gap lists, a
data-quality appendix and a provenance footer. One self-contained HTML file (prints cleanly; a
PDF through headless Chromium when it is installed), read from the published database only.

Reports land in PNAD_HOME/reports/regionaux/<level>-<code>_<YYYY-MM>.html, each with a JSON
file of its key figures: the next report reads it to say what changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
from jinja2 import Environment

from pipelines.common.formatting import OUTCOMES_FR, month_long_fr
from pipelines.common.paths import PnadPaths
from pipelines.common.sql import run_sql
from pipelines.publishing.after_2025_sections import territory_sections
from pipelines.publishing.svg_charts import ranking_svg, trend_svg
from pipelines.publishing.svg_projection import projection_svg
from pipelines.publishing.templating import page_environment

LEVELS = ("region", "departement")
LISTED = 25  # rows of each list in a report (the published database has them all)
MIN_BUYER_CONTRACTS = 5  # a buyer's share on fewer contracts says little: not ranked


# A territory level as a sentence names it, with its article.
LEVEL_LABELS = {"region": "région", "departement": "département"}
LEVEL_WITH_ARTICLE = {"region": "la région", "departement": "le département"}


class ReportError(ValueError):
    """A report that cannot be made as asked (unknown territory, nothing published...)."""


@dataclass(frozen=True)
class ReportRequest:
    level: str  # region | departement
    code: str
    month: date  # first day of the reported month

    @property
    def stem(self) -> str:
        return f"{self.level}-{self.code}_{self.month:%Y-%m}"


def parse_month(text: str | None, today: date | None = None) -> date:
    """'2026-10' -> 2026-10-01; None -> the last complete month (reports run early in a month)."""
    if text is None:
        today = today or date.today()
        return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    try:
        parsed = datetime.strptime(text, "%Y-%m").date()
    except ValueError as error:
        raise ReportError(f"mois {text!r} : écrivez-le AAAA-MM, par exemple 2026-10") from error
    return parsed


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[dict]:
    # only the parameters the query names (DuckDB refuses the others)
    cursor = con.execute(query, {k: v for k, v in params.items() if f"${k}" in query})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def report_data(con: duckdb.DuckDBPyConnection, request: ReportRequest) -> dict:
    """Everything the report shows, from the published database (views of the data
    dictionary). Values only: the template formats and escapes them."""
    name = _territory_name(con, request)
    year = request.month.year
    if request.month > date.today():
        raise ReportError(
            f"{request.month:%m/%Y} est dans le futur : aucune donnée ne peut encore le couvrir"
        )
    period_end = date(year + request.month.month // 12, request.month.month % 12 + 1, 1)
    params = {"code": request.code, "level": request.level}
    shares = _shares(con, request, params, period_end)
    underdeclared, unfollowed = _gaps(con, params)
    return {
        "request": request,
        "name": name,
        "year": year,
        **shares,
        "monthly": _monthly(con, request, params, period_end),
        **_lists(con, params, year, period_end),
        "hours": _rows(
            con,
            "select year, hours_worked, etp, hours_planned, completion_rate, participants, "
            "work_contracts, marches, buyers, companies, hours_worked_change, "
            "is_small_aggregate from facilitator_hours where level = $level "
            "and territory_code = $code and year <= $year order by year",
            {**params, "year": year},
        ),
        "underdeclared": underdeclared[:LISTED],
        "underdeclared_count": len(underdeclared),
        "unfollowed": unfollowed[:LISTED],
        "unfollowed_count": len(unfollowed),
        **_provenance(con, params, year),
        "after": territory_sections(con, request.level, request.code, LISTED),
    }


def _territory_name(con: duckdb.DuckDBPyConnection, request: ReportRequest) -> str:
    name_row = con.execute(
        "select region_name from ref_regions where region_code = $code"
        if request.level == "region"
        else "select departement_name from ref_departements where departement_code = $code",
        {"code": request.code},
    ).fetchone()
    if name_row is None:
        raise ReportError(
            f"code de {LEVEL_LABELS[request.level]} inconnu : {request.code!r} "
            f"(voir la table ref_{request.level}s)"
        )
    return name_row[0]


def _shares(con, request: ReportRequest, params: dict, period_end: date) -> dict:
    """The territory's shares by year (earlier years whole, the report's year to the end of its
    month), the national ones beside, and its départements for a région."""
    year = request.month.year
    earlier = _rows(
        con,
        "select year, level, territory_code, territory_name, contracts, social_share, "
        "social_completeness, social_gap_points, environmental_share, "
        "environmental_completeness, environmental_gap_points, is_provisional from pnad_shares "
        "where scope = 'all' and year < $year and (level = 'national' or "
        "(level = $level and territory_code = $code)) order by year, level",
        {**params, "year": year},
    )
    to_date = _sql_rows(
        con, "publishing/territory_year_to_date", {**params, "year": year, "end": period_end}
    )
    shares = earlier + [
        r
        for r in to_date
        if r["level"] == "national"
        or (r["level"] == request.level and r["territory_code"] == request.code)
    ]
    mine = [r for r in shares if r["level"] == request.level]
    if not mine:
        raise ReportError(
            f"aucun contrat publié pour {LEVEL_WITH_ARTICLE[request.level]} {request.code} "
            f"jusqu'en {year} : lancez d'abord le traitement, ou vérifiez le code"
        )
    national = {r["year"]: r for r in shares if r["level"] == "national"}
    children = (
        [r for r in to_date if r["level"] == "departement"] if request.level == "region" else []
    )
    current = next((r for r in reversed(mine) if r["year"] == year), None)
    return {
        "current": current,
        "shares": mine,
        "national": national,
        "children": children,
    }


def _monthly(con, request: ReportRequest, params: dict, period_end: date) -> list[dict]:
    """The twelve months up to the report's, with none where nothing was notified."""
    monthly_rows = _rows(
        con,
        "select month, contracts, social_share, social_completeness, environmental_share, "
        "environmental_completeness, is_provisional from pnad_shares_monthly "
        "where level = $level and territory_code = $code "
        "and month < $end and month >= $end - interval 12 month order by month",
        {**params, "end": period_end},
    )
    by_month = {row["month"]: row for row in monthly_rows}
    monthly = []
    for back in range(11, -1, -1):
        total = request.month.year * 12 + request.month.month - 1 - back
        month = date(total // 12, total % 12 + 1, 1)
        empty = dict.fromkeys(
            ("social_share", "social_completeness", "environmental_share", "is_provisional")
        )
        monthly.append(by_month.get(month, {**empty, "month": month, "contracts": 0}))
    return monthly


def _lists(con, params: dict, year: int, period_end: date) -> dict:
    """The buyers furthest from the target, and the opportunities."""
    buyers = _rows(
        con,
        "select buyer_siret, buyer_name, buyer_category, contracts, social_share, "
        "social_completeness, social_gap_points, environmental_share, social_trend_points "
        "from buyer_shares where year = $year "
        "and (($level = 'region' and buyer_region_code = $code) "
        "or ($level = 'departement' and buyer_departement_code = $code)) "
        "and contracts >= $min_contracts "
        "and social_gap_points > 0 "  # a buyer that met the target is not "far from" it
        "order by social_gap_points desc, contracts desc, buyer_siret limit $listed",
        {**params, "year": year, "min_contracts": MIN_BUYER_CONTRACTS, "listed": LISTED},
    )
    opportunities = _rows(
        con,
        "select notification_date, buyer_siret, buyer_name, objet, sector, current_amount, "
        "social_status from opportunities where (($level = 'region' and buyer_region_code = $code) "
        "or ($level = 'departement' and buyer_departement_code = $code)) "
        "and notification_date < $end "
        "order by current_amount desc nulls last, notification_date desc limit $listed",
        {**params, "end": period_end, "listed": LISTED},
    )
    return {"buyers": buyers, "opportunities": opportunities}


def _gaps(con, params: dict) -> tuple[list[dict], list[dict]]:
    """The two gap lists between the facilitators and the DECP, in the territory."""
    underdeclared = _rows(
        con,
        "select notification_date, buyer_name, buyer_siret, objet, social_status, facilitator, "
        "hours_planned, hours_worked, link_method, link_confidence "
        "from facilitator_gap_underdeclared "
        "where (($level = 'region' and buyer_region_code = $code) "
        "or ($level = 'departement' and buyer_departement_code = $code)) "
        "order by hours_planned desc nulls last, notification_date desc",
        params,
    )
    unfollowed = _rows(
        con,
        "select notification_date, buyer_name, buyer_siret, objet, market_type, current_amount "
        "from facilitator_gap_unfollowed where (($level = 'region' and buyer_region_code = $code) "
        "or ($level = 'departement' and buyer_departement_code = $code)) "
        "order by current_amount desc nulls last, notification_date desc",
        params,
    )
    return underdeclared, unfollowed


def _provenance(con, params: dict, year: int) -> dict:
    """The data-quality appendix and the provenance footer: territory methods, unplaced
    contracts, files, sources, exports, references, the publication."""
    quality = _rows(
        con,
        "select buyer_territory_method as method, count(*) as contracts from contracts "
        "where in_pnad_scope and notification_year = $year "
        "and (($level = 'region' and buyer_region_code = $code) "
        "or ($level = 'departement' and buyer_departement_code = $code)) "
        "group by 1 order by 2 desc",
        {**params, "year": year},
    )
    unplaced = con.execute(
        "select coalesce(sum(contracts), 0) from pnad_shares where scope = 'all' "
        "and level = 'region' and territory_code is null and year = $year",
        {"year": year},
    ).fetchone()[0]
    files = con.execute(
        "select count(*), coalesce(sum(records_read), 0), coalesce(sum(records_rejected), 0), "
        "count(*) filter (where status not in ('parsed', 'superseded')) from ingest_files"
    ).fetchone()
    sources = _rows(
        con,
        "select source, url, outcome, fetched_at, coalesce(sha256, '') as checksum "
        "from download_manifest qualify row_number() over "
        "(partition by source order by fetched_at desc) = 1 order by source",
        {},
    )
    files_by_source = _rows(
        con,
        "select source, count(*) as files, max(registered_at) as latest, "
        "coalesce(sum(records_read), 0) as records_read from ingest_files "
        "group by source order by source",
        {},
    )
    exports = _rows(
        con,
        "select file_name, facilitator, period_start, period_end, file_id, rows_read, "
        "rows_rejected from facilitator_files where status = 'active' and file_id in ("
        "select file_id from facilitator_followed_marches where "
        "($level = 'region' and region_code = $code) "
        "or ($level = 'departement' and departement_code = $code)) order by facilitator",
        params,
    )
    references = _rows(
        con,
        "select reference, origin, file, sha256, fetched_at, note from reference_status "
        "order by reference",
        {},
    )
    publication = _rows(con, "select published_at, run_id, contracts from publication", {})[0]
    return {
        "quality": quality,
        "unplaced_national": unplaced,
        "files": dict(
            zip(("files", "records_read", "records_rejected", "files_unusable"), files, strict=True)
        ),
        "sources": sources,
        "files_by_source": files_by_source,
        "references": references,
        "exports": exports,
        "publication": publication,
    }


def _sql_rows(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> list[dict]:
    """The rows of sql/<name>.sql as dictionaries."""
    cursor = run_sql(con, name, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def key_figures(data: dict) -> dict:
    """What the next report compares itself with."""
    current = data["current"] or {}
    hours = next((h for h in data["hours"] if h["year"] == data["year"]), {})
    return {
        "month": f"{data['request'].month:%Y-%m}",
        "year": data["year"],
        "contracts": current.get("contracts"),
        "social_share": current.get("social_share"),
        "social_completeness": current.get("social_completeness"),
        "environmental_share": current.get("environmental_share"),
        "hours_worked": hours.get("hours_worked"),
    }


def previous_figures(folder: Path, request: ReportRequest) -> dict | None:
    """The key figures of the latest earlier report of the same territory, if any."""
    earlier = sorted(
        p for p in folder.glob(f"{request.level}-{request.code}_*.json") if p.stem < request.stem
    )
    if not earlier:
        return None
    try:
        return json.loads(earlier[-1].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def report_charts(data: dict) -> dict[str, str]:
    """Inline SVG charts of the report (the dashboard's territory charts: no script, small,
    printable); each has its table beside it in the template."""
    charts = {"trend": trend_svg(data["shares"], f"{data['name']} : parts par année")}
    projection = data["after"]["projection"]
    if projection:
        charts["projection"] = projection_svg(
            projection, f"{data['name']} : trajectoire {projection[0]['year']}"
        )
    if data["children"]:
        children = [
            {**row, "is_provisional": (data["current"] or {}).get("is_provisional")}
            for row in data["children"]
        ]
        charts["children"] = ranking_svg(
            children, f"Départements, {data['year']}", chart_id="chart-report-departements"
        )
    return charts


def _environment() -> Environment:
    env = page_environment()
    env.filters.update(
        month=lambda d: f"{d:%m/%Y}" if d else "–",
        month_long=month_long_fr,
        outcome=lambda o: OUTCOMES_FR.get(o, o or "–"),
        month_name=lambda d: month_long_fr(d, year=False),
        plural=lambda n, one, many: one if (n or 0) <= 1 else many,
        day=lambda d: f"{d:%d/%m/%Y}" if d else "–",
    )
    return env


def render_report(data: dict, previous: dict | None, run_id: str | None = None) -> str:
    return (
        _environment()
        .get_template("regional_report.html.j2")
        .render(
            **data,
            charts=report_charts(data),
            previous=previous,
            run_id=run_id or data["publication"]["run_id"],
            generated_at=datetime.now(),
        )
    )


def _write_atomically(target: Path, text: str) -> None:
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)


def chromium() -> str | None:
    """The headless browser that prints PDFs, when one is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def print_pdf(html: Path, target: Path, browser: str) -> Path:
    """Print an HTML report to PDF with headless Chromium (its print stylesheet applies)."""
    with tempfile.TemporaryDirectory() as profile:
        partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        subprocess.run(  # noqa: S603 - fixed arguments, our own files
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={partial}",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        os.replace(partial, target)
    return target


def write_report(
    paths: PnadPaths,
    request: ReportRequest,
    *,
    run_id: str | None = None,
    pdf: bool = False,
) -> dict[str, Path]:
    """Write one territory's report (and its key figures; a PDF when asked and possible)."""
    if not paths.published_db.exists():
        raise ReportError(
            f"pas de base publiée à {paths.published_db} : lancez d'abord le traitement"
        )
    folder = paths.reports / "regionaux"
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.published_db), read_only=True) as con:
        data = report_data(con, request)
    html = folder / f"{request.stem}.html"
    _write_atomically(html, render_report(data, previous_figures(folder, request), run_id))
    figures = folder / f"{request.stem}.json"
    _write_atomically(figures, json.dumps(key_figures(data), ensure_ascii=False, indent=2))
    written = {"html": html, "figures": figures}
    # a PDF of an earlier run would contradict the new HTML beside it (also when this one
    # cannot be printed)
    (folder / f"{request.stem}.pdf").unlink(missing_ok=True)
    if pdf:
        browser = chromium()
        if browser is None:
            raise ReportError(
                "Chromium introuvable pour écrire le PDF (installez le paquet chromium)"
            )
        written["pdf"] = print_pdf(html, folder / f"{request.stem}.pdf", browser)
    return written
