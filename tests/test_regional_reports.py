"""The coordinators' reports: contents, change since the previous report, one territory per
run, the Dagster partitions and schedule, the CLI, the PDF and a real browser."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.common import warehouse
from pipelines.common.paths import PnadPaths
from pipelines.facilitators import build, loading
from pipelines.publishing.database import publish_database
from pipelines.publishing.regional_report import (
    ReportError,
    ReportRequest,
    chromium,
    parse_month,
    render_report,
    report_data,
    write_report,
)
from pipelines.publishing.report_schedule import ReportConfigError, load_report_schedule
from tests.conftest import build_warehouse, marche, write_decp_2022
from tests.test_browser import browser  # noqa: F401 - the shared headless Chromium fixture
from tests.test_facilitator import BUYER, write_abc_export, write_decp

MARKUP = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> PnadPaths:
    """The facilitator tests' DECP and export, plus a contract whose object carries markup,
    published as a real run would."""
    root = tmp_path_factory.mktemp("reports")
    paths = PnadPaths.resolve(root / "pnad_home").ensure()
    write_decp(paths)
    write_decp_2022(
        paths.raw / "local" / "markup.json",
        [
            marche(
                "2024-099",
                BUYER,
                social=["Clause sociale"],
                notified="2024-10-01",
                objet=f"Entretien {MARKUP}",
            )
        ],
    )
    build_warehouse(paths)
    with warehouse.connect(paths) as con:
        loading.load_export(con, paths, write_abc_export(root))
        build.build_facilitator_links(con)
        build.build_facilitator_hours(con)
        publish_database(con, paths, run_id="run-test-42", allow_shrink=True)
    return paths


def report(paths: PnadPaths, month: str, level: str = "region", code: str = "84") -> str:
    written = write_report(paths, ReportRequest(level, code, parse_month(month)))
    return written["html"].read_text(encoding="utf-8")


def test_region_report_has_every_part(published):
    html = report(published, "2024-12")
    assert "Région Auvergne-Rhône-Alpes (84)" in html
    assert "74 Haute-Savoie" in html  # its départements
    assert "Nettoyage des locaux de la mairie" in html  # declared clause nobody follows
    assert "Réfection de la voirie communale rue des Lilas" in html  # followed, not declared
    assert "Contrats déclarant une clause sociale qu'aucun facilitateur ne suit (2)" in html
    assert "Marchés suivis sans considération sociale déclarée dans les DECP (1)" in html
    # hours by year worked: 727.5 h (0,5 ETP) in 2024, 1 770 h planned, 5 people
    assert '<td class="text">2024</td><td>728</td><td>0,5</td><td>1 770</td>' in html
    # appendix and provenance footer
    assert "Annexe : qualité des données" in html
    assert "run run-test-42" in html
    assert "MDE Test" in html and "@media print" in html
    assert "Tables de référence" in html and "table de La Poste non téléchargée" in html
    # the first report of a territory says so
    assert "Premier rapport pour ce territoire" in html
    # charts are inline SVG with their description; no script at all: a small, printable file
    assert html.count('role="img"') == 2 and "<desc" in html
    assert "<script" not in html and len(html.encode()) < 300_000


def test_a_buyer_that_met_the_target_is_not_among_the_furthest(published, tmp_path):
    copy = tmp_path / "pnad.duckdb"  # the module's publication stays as it is
    shutil.copy(published.published_db, copy)
    with duckdb.connect(str(copy)) as con:
        # the région's largest buyer of 2024 over the target, with enough contracts to rank
        con.execute(
            "update store.buyer_shares set social_share = 0.4, social_gap_points = -10, "
            "contracts = greatest(contracts, 5) where year = 2024 and buyer_siret = "
            "(select buyer_siret from buyer_shares where year = 2024 and buyer_region_code = "
            "'84' order by contracts desc, buyer_siret limit 1)"
        )
        met = con.execute(
            "select buyer_siret from buyer_shares where year = 2024 and buyer_region_code = '84' "
            "and contracts >= 5 and social_gap_points <= 0"
        ).fetchall()
        listed = report_data(con, ReportRequest("region", "84", parse_month("2024-12")))
    assert met
    assert {b["buyer_siret"] for b in listed["buyers"]}.isdisjoint({m[0] for m in met})
    assert all(b["social_gap_points"] > 0 for b in listed["buyers"])


def test_the_year_is_provisional_and_small_counts_flagged_as_on_the_dashboard(published, tmp_path):
    copy = tmp_path / "pnad.duckdb"  # the module's publication stays as it is
    shutil.copy(published.published_db, copy)
    with duckdb.connect(str(copy)) as con:
        # the dashboard's flag for the year (pnad_shares), whatever the report's months say:
        # June 2024's months are long final, 2024 is made the year still filling in
        con.execute("update store.pnad_shares set is_provisional = (year = 2024)")
        data = report_data(con, ReportRequest("region", "84", parse_month("2024-06")))
    assert data["current"]["is_provisional"] is True
    html = render_report(data, None)
    assert 'Chiffres clés 2024 <span class="badge">provisoire</span></h2>' in html
    # the région's 2024 row counts 3 contracts by June: a small count, provisional
    assert (
        '<td class="text">2024 <span class="badge">faible effectif</span> '
        '<span class="badge">provisoire</span></td><td>3</td>'
    ) in html
    assert "« Faible effectif » : moins de 30 contrats" in html
    # its départements' rows carry the same badges
    assert re.search(r"74 Haute-Savoie <span class=\"badge\">faible effectif</span> <span", html)
    # as published (2024 final, its months too), nothing is marked provisional
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        final = report_data(con, ReportRequest("region", "84", parse_month("2024-06")))
    assert 'class="badge">provisoire' not in render_report(final, None)


def test_text_from_the_data_is_escaped(published):
    html = report(published, "2024-11")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<script>" not in html and "<img" not in html


def test_a_report_compares_itself_with_the_previous_one(published):
    report(published, "2025-03")
    html = report(published, "2025-04")
    assert "Comparaison avec le rapport de mars 2025 (année 2025)" in html
    # 2025's hours were worked by 3 people: too few to show how many
    assert "secret (&lt; 5)" in html
    figures = json.loads(
        (published.reports / "regionaux" / "region-84_2025-04.json").read_text(encoding="utf-8")
    )
    assert figures["month"] == "2025-04" and figures["year"] == 2025


def test_a_report_counts_the_year_up_to_its_month(published):
    report(published, "2024-05")
    report(published, "2024-12")
    folder = published.reports / "regionaux"
    may, december = (
        json.loads((folder / f"region-84_2024-{m}.json").read_text(encoding="utf-8"))
        for m in ("05", "12")
    )
    # 2024-001 (March), 2024-002 and 2024-004 (May) by the end of May; all five by December
    assert (may["contracts"], december["contracts"]) == (3, 5)
    with pytest.raises(ReportError, match="dans le futur"):
        report(published, "2099-01")


def test_departement_report_on_request(published):
    html = report(published, "2024-12", "departement", "74")
    assert "Département Haute-Savoie (74)" in html
    assert "Les départements de la région" not in html
    assert '<td class="text">2024</td><td>728</td>' in html


def test_unknown_territory_and_bad_month_are_clear_errors(published):
    with pytest.raises(ReportError, match="code de région inconnu : '99'"):
        report(published, "2025-01", "region", "99")
    with pytest.raises(ReportError, match="écrivez-le AAAA-MM"):
        parse_month("janvier")
    with pytest.raises(ReportError, match="aucun contrat publié pour la région 11"):
        report(published, "2025-01", "region", "11")


def test_default_month_is_the_last_complete_one():
    assert parse_month(None, today=datetime(2026, 1, 3).date()).isoformat() == "2025-12-01"
    assert parse_month(None, today=datetime(2026, 11, 22).date()).isoformat() == "2026-10-01"


def test_a_stale_pdf_is_not_left_beside_a_newer_html(published):
    request = ReportRequest("region", "84", parse_month("2025-01"))
    stale = published.reports / "regionaux" / f"{request.stem}.pdf"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"%PDF-1.4 an earlier run's report")
    written = write_report(published, request, pdf=False)
    assert written["html"].is_file() and not stale.exists()


@pytest.mark.skipif(chromium() is None, reason="no Chromium installed (.ci/run installs it)")
def test_pdf_through_headless_chromium(published):
    written = write_report(
        published, ReportRequest("region", "84", parse_month("2025-01")), pdf=True
    )
    assert written["pdf"].read_bytes()[:5] == b"%PDF-"
    assert written["pdf"].stat().st_size > 10_000
    if shutil.which("pdftotext") is None:
        return
    # on paper, no SIRET broken across lines, no amount whose "€" sits alone on a line
    text = subprocess.run(
        ["pdftotext", str(written["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    sirets = set(re.findall(r'class="code siret">(\d{14})<', written["html"].read_text("utf-8")))
    assert sirets and all(siret in text for siret in sirets)
    assert [line for line in text.splitlines() if line.strip() == "€"] == []
    # a reference table's note is a sentence: cut between words, never inside one
    assert "table de La Poste non téléchargée : exceptions intégrées au projet" in " ".join(
        text.split()
    )
    # the provenance footer, the last block, is whole on the last page
    if shutil.which("pdfinfo"):
        assert any(line.startswith("Provenance.") for line in last_page_lines(written["pdf"]))


POPPLER = shutil.which("pdfinfo") and shutil.which("pdftotext")


def last_page_lines(pdf: Path) -> list[str]:
    """The lines of text of a PDF's last page (pdfinfo, pdftotext)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1)
    text = subprocess.run(
        ["pdftotext", "-layout", "-f", pages, "-l", pages, str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.mark.skipif(
    not (Path("/usr/bin/chromium").is_file() and Path("/usr/bin/chromedriver").is_file()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)
@pytest.mark.skipif(
    not POPPLER, reason="poppler-utils (pdfinfo, pdftotext) is not installed (.ci/run installs it)"
)
def test_the_printed_report_never_ends_on_a_near_empty_page(published, browser, tmp_path):  # noqa: F811
    """Whatever the length of what comes before it (a blank block of 0 to 1 000 px, about a
    printed page, in 60 px steps), the last page holds the whole provenance footer, never its
    last table or a few lines alone."""
    html = write_report(published, ReportRequest("region", "84", parse_month("2025-01")))["html"]
    source = html.read_text(encoding="utf-8")
    assert source.count("<footer>") == 1
    ends = {}
    for height in range(0, 1021, 60):
        page = tmp_path / f"report-{height}.html"
        page.write_text(
            source.replace("<footer>", f'<div style="height: {height}px"></div><footer>'),
            encoding="utf-8",
        )
        browser.get(page.as_uri())
        # as print_pdf prints: the report's own @page size and margins
        printed = browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})
        pdf = tmp_path / f"report-{height}.pdf"
        pdf.write_bytes(base64.b64decode(printed["data"]))
        lines = last_page_lines(pdf)
        ends[height] = (len(lines), any(line.startswith("Provenance.") for line in lines))
    assert all(count >= 12 and whole for count, whole in ends.values()), ends


# --- Dagster ---------------------------------------------------------------------------------


def test_partitions_job_and_schedule_are_in_the_definitions():
    from pipelines.definitions import defs

    definitions = defs()
    job = definitions.resolve_job_def("regional_reports")
    # one partition per territory and month: which months exist is visible and backfillable
    partitions = job.partitions_def
    territories = partitions.get_partitions_def_for_dimension("territory").get_partition_keys()
    assert len(territories) == 18 and "region-84" in territories and "region-94" in territories
    months = partitions.get_partitions_def_for_dimension("month").get_partition_keys(
        current_time=datetime(2026, 12, 6)
    )
    assert months[0] == "2024-01" and months[-1] == "2026-11"  # complete months only
    schedule = definitions.resolve_schedule_def("monthly_regional_reports")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 7 3 * *", "Europe/Paris")
    # the refresh jobs leave the partitioned reports to their own job
    refresh = definitions.resolve_job_def("pnad_refresh")
    assert "regional_report" not in {n.name for n in refresh.graph.node_defs}
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2027, 1, 3, 7))
    requests = list(schedule(context))
    assert len(requests) == 18
    assert requests[0].partition_key == dg.MultiPartitionKey(
        {"territory": "region-01", "month": "2026-12"}
    )
    # it only reads the published database: it does not wait for the writer
    graph = definitions.resolve_asset_graph()
    assert graph.get(dg.AssetKey("regional_report")).pools in (set(), None)


def test_a_run_for_one_region_writes_only_that_regions_file(published):
    from assets.publishing.regional_reports import regional_report
    from assets.resources import PnadDuckDBResource

    folder = published.reports / "regionaux"
    before = set(folder.glob("*")) if folder.exists() else set()
    result = dg.materialize(
        [regional_report],
        partition_key=dg.MultiPartitionKey({"territory": "region-84", "month": "2025-06"}),
        resources={"duckdb": PnadDuckDBResource(home=str(published.home))},
        run_config={"ops": {"regional_report": {"config": {"pdf": False}}}},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert {p.name for p in set(folder.glob("*")) - before} == {
        "region-84_2025-06.html",
        "region-84_2025-06.json",
    }
    html = (folder / "region-84_2025-06.html").read_text(encoding="utf-8")
    assert f"run {result.run_id}" in html


def test_which_territories_is_configuration(tmp_path):
    paths = PnadPaths.resolve(tmp_path)
    assert len(load_report_schedule(paths).partition_keys) == 18
    (tmp_path / "reports.toml").write_text(
        '[regional_reports]\nregions = ["84", "27"]\ndepartements = ["74"]\ncron = "0 8 1 * *"\n',
        encoding="utf-8",
    )
    schedule = load_report_schedule(paths)
    assert schedule.partition_keys == ["region-84", "region-27", "departement-74"]
    assert schedule.cron == "0 8 1 * *"
    (tmp_path / "reports.toml").write_text(
        '[regional_reports]\nregions = ["84", "99"]\n', encoding="utf-8"
    )
    with pytest.raises(ReportConfigError) as refused:
        load_report_schedule(paths)
    assert str(refused.value) == (
        f"{tmp_path / 'reports.toml'} : regional_reports.regions : codes de région inconnus "
        "['99'] (voir ref_regions) (reçu : ['84', '99'])"
    )
    # a mistake in a value or a key is said in French, with the file and the key
    (tmp_path / "reports.toml").write_text(
        '[regional_reports]\npdf = "oui"\ncron = "tous les mois"\nfrequence = 1\n',
        encoding="utf-8",
    )
    with pytest.raises(ReportConfigError) as refused:
        load_report_schedule(paths)
    message = str(refused.value)
    assert "regional_reports.pdf : doit valoir true ou false (reçu : 'oui')" in message
    assert "regional_reports.cron : n'est pas une expression cron" in message
    assert "regional_reports.frequence : clé inconnue" in message


def test_cli_report(published):
    from tests.test_cli import pnad

    result = pnad("report", "--region", "84", "--month", "2025-02", home=published.home)
    assert result.returncode == 0, result.stderr
    assert "region-84_2025-02.html" in result.stdout
    bad = pnad("report", "--region", "99", home=published.home)
    assert bad.returncode == 1 and "code de région inconnu : '99'" in bad.stderr


# --- a real browser --------------------------------------------------------------------------


@pytest.mark.skipif(
    not (Path("/usr/bin/chromium").is_file() and Path("/usr/bin/chromedriver").is_file()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)
def test_report_in_headless_chromium(published, browser):  # noqa: F811 - the fixture
    from tests.test_browser import screenshot

    written = write_report(published, ReportRequest("region", "84", parse_month("2024-10")))
    browser.get_log("browser")
    browser.get(written["html"].as_uri())
    logs = browser.get_log("browser")
    assert [entry for entry in logs if entry["level"] == "SEVERE"] == []
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.execute_script("return document.querySelectorAll('table').length") >= 8
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg[role=img]'))"
        ".map(s => s.getBoundingClientRect().width)"
    )
    assert len(sizes) == 2 and all(width > 300 for width in sizes)
    assert MARKUP[:20] in browser.execute_script("return document.body.innerText")
    assert screenshot(browser, "regionaux/region-84_2024-10").exists()
