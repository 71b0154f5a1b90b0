"""The dashboard site in a real browser: Debian's headless Chromium, driven by selenium, opens the
pages from the file system as ministry staff do: the index's plotly charts and the territory
pages' inline SVG charts drawn, with their tables, no console error, markup from the data shown
as text. Screenshots land in tests/output/screenshots/ (git-ignored) for inspection."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from pipelines.common import warehouse
from pipelines.common.paths import PROJECT_ROOT, PnadPaths
from pipelines.indicators.build import build_shares
from pipelines.publishing.label_placement import Box
from pipelines.publishing.svg_charts import trend_svg
from tests.test_chart_labels import CASES as CHART_CASES
from tests.test_chart_labels import drawn
from tests.test_publish_and_dashboard import (
    MARKUP,
    build_site_warehouse,
    sample_outlines,
    write_site,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = PROJECT_ROOT / "tests" / "output" / "screenshots"
TERRITORY_PAGES = ("regions/84.html", "departements/74.html")
PAGES = ("index.html", *TERRITORY_PAGES)
PHONE_WIDTH = 390  # CSS pixels of a current phone's screen

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them: "
    "apt-get install chromium chromium-driver)",
)

# Every chart of the page: a plotly figure (index) with the svg plotly drew, or an inline SVG
# chart (territory pages); whether it is shown with a size, and a table in its chart block.
CHARTS = """
return Array.from(document.querySelectorAll('.plotly-graph-div, svg.svg-chart')).map(function (chart) {
  var block = chart.closest('.chart-block');
  var inline = chart.tagName.toLowerCase() === 'svg';
  var drawn = inline ? chart : chart.querySelector('.main-svg');
  var box = drawn ? drawn.getBoundingClientRect() : {width: 0, height: 0};
  var style = drawn ? window.getComputedStyle(drawn) : null;
  return {id: chart.id, kind: inline ? 'svg' : 'plotly',
          svg: drawn !== null && box.width > 0 && box.height > 0
               && style.display !== 'none' && style.visibility !== 'hidden',
          width: box.width, height: box.height,
          table: block !== null && block.querySelector('table') !== null};
});
"""
# An SVG chart's accessible name and description: the text of the elements it is labelled by.
SVG_LABELS = """
return Array.from(document.querySelectorAll('svg.svg-chart')).map(function (chart) {
  return {id: chart.id, role: chart.getAttribute('role'),
          labels: chart.getAttribute('aria-labelledby').split(' ').map(function (id) {
            var element = document.getElementById(id);
            return element === null ? null : element.textContent;
          })};
});
"""


@pytest.fixture(scope="module")
def site_home(tmp_path_factory) -> PnadPaths:
    """The site of the dashboard tests' warehouse; with the real département outlines when the
    shared sample data is there (the outline map is then drawn too)."""
    paths = PnadPaths.resolve(tmp_path_factory.mktemp("browser") / "pnad_home").ensure()
    build_site_warehouse(paths)
    try:
        outlines = sample_outlines()
    except pytest.skip.Exception:
        outlines = None
    write_site(paths, outlines)
    return paths


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="pnad-chromium-")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1000",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(browser: webdriver.Chrome, paths: PnadPaths, page: str) -> list[dict]:
    """Open a page by its file:// URL, wait until every chart is drawn; the console messages."""
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get((paths.reports / page).as_uri())
    WebDriverWait(browser, 60).until(
        lambda driver: (
            driver.execute_script("return document.readyState") == "complete"
            and all(chart["svg"] for chart in driver.execute_script(CHARTS))
        )
    )
    return browser.get_log("browser")


def screenshot(browser: webdriver.Chrome, page: str, width: int = 1280) -> Path:
    """The page as a PNG in tests/output/screenshots/ (the whole page when the window can be
    made as tall; a phone's screen as it is)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    if width == 1280:
        browser.set_window_size(1280, min(height, 16000))
    target = SCREENSHOTS / f"{page.replace('/', '_').removesuffix('.html')}.png"
    assert browser.save_screenshot(str(target))
    browser.set_window_size(1280, 1000)
    return target


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_every_chart_with_its_table_and_no_error(browser, site_home, page):
    logs = open_page(browser, site_home, page)
    assert [entry for entry in logs if entry["level"] == "SEVERE"] == []
    charts = browser.execute_script(CHARTS)
    assert charts, "no chart on the page"
    assert [c["id"] for c in charts if not (c["svg"] and c["table"])] == []
    # plotly on the index only; the territory pages draw inline SVG without any script library
    plotly = browser.execute_script("return typeof window.Plotly") != "undefined"
    assert plotly == (page == "index.html")
    assert {c["kind"] for c in charts} == {"plotly" if page == "index.html" else "svg"}
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert screenshot(browser, page).stat().st_size > 10_000


@pytest.mark.parametrize("page", TERRITORY_PAGES)
def test_territory_svg_charts_are_named_sized_and_fit_the_printed_page(browser, site_home, page):
    open_page(browser, site_home, page)
    expected = (
        {"chart-trend", "chart-departements"} if page.startswith("regions") else {"chart-trend"}
    )
    labels = browser.execute_script(SVG_LABELS)
    assert {c["id"] for c in labels} == expected
    for chart in labels:
        title, description = chart["labels"]
        assert chart["role"] == "img" and title and "tableau qui suit" in description, chart
    # drawn at their natural size on a wide screen (800 px), within the text column
    sizes = {c["id"]: (c["width"], c["height"]) for c in browser.execute_script(CHARTS)}
    assert all(width == pytest.approx(800, abs=1) for width, _ in sizes.values()), sizes
    # printed (A4 portrait, about 700 px wide): each chart shrinks to the page, nothing cut
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    browser.set_window_size(700, 1000)
    try:
        width = browser.execute_script("return document.body.clientWidth")
        for chart in browser.execute_script(CHARTS):
            assert chart["svg"] and 0 < chart["width"] <= width, chart
        pdf = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})
        assert len(pdf["data"]) > 10_000
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.set_window_size(1280, 1000)


@pytest.fixture(scope="module")
def marked_site_home(tmp_path_factory) -> PnadPaths:
    """The same site with markup in the name of Haute-Savoie, which the SVG charts draw (the
    département's trend title, the région's bar labels)."""
    paths = PnadPaths.resolve(tmp_path_factory.mktemp("browser-markup") / "pnad_home").ensure()
    build_site_warehouse(paths)
    with warehouse.connect(paths) as con:
        con.execute(
            "update ref_departements set departement_name = $name where departement_code = '74'",
            {"name": f"Haute-Savoie {MARKUP}"},
        )
        build_shares(con, force=True)
    write_site(paths)
    return paths


@pytest.mark.parametrize("page", TERRITORY_PAGES)
def test_markup_in_a_territory_name_is_drawn_as_text_in_the_svg_charts(
    browser, marked_site_home, page
):
    logs = open_page(browser, marked_site_home, page)
    assert [entry for entry in logs if entry["level"] == "SEVERE"] == []
    drawn = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg.svg-chart text, svg.svg-chart title'))"
        ".map(function (t) { return t.textContent; })"
    )
    assert any(MARKUP in text for text in drawn)
    assert browser.find_elements(By.CSS_SELECTOR, "svg img, svg script, main img") == []
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    screenshot(browser, page.replace(".html", "_markup.html"))


def test_markup_from_the_data_is_shown_as_text_and_runs_nothing(browser, site_home):
    open_page(browser, site_home, "departements/74.html")
    buyers = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#table-buyers td")]
    objects = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#table-opportunities td")]
    assert f"Acheteur {MARKUP}" in buyers
    assert f"Travaux {MARKUP}" in objects
    assert browser.find_elements(By.CSS_SELECTOR, "main img") == []
    assert browser.execute_script("return typeof window.__pwned") == "undefined"


def test_tables_sort_when_a_header_is_clicked(browser, site_home):
    open_page(browser, site_home, "index.html")

    def contracts() -> list[int]:
        cells = browser.find_elements(By.CSS_SELECTOR, "#table-departements tbody td:nth-child(3)")
        return [int(c.get_attribute("data-sort")) for c in cells]

    header = browser.find_element(By.XPATH, "//table[@id='table-departements']//th[3]/button")
    assert header.text == "Contrats"
    header.click()
    assert contracts() == sorted(contracts()) and contracts()[-1] > 0
    header.click()
    assert contracts() == sorted(contracts(), reverse=True)
    assert (
        browser.find_element(By.XPATH, "//table[@id='table-departements']//th[3]").get_attribute(
            "aria-sort"
        )
        == "descending"
    )


def test_a_click_on_a_map_tile_opens_the_territory_page(browser, site_home):
    open_page(browser, site_home, "index.html")
    # plotly's own click event, as a click on the Haute-Savoie tile emits it
    browser.execute_script(
        "document.getElementById('chart-departement-social')"
        ".emit('plotly_click', {points: [{customdata: 'departements/74.html'}]})"
    )
    WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("/departements/74.html"))
    assert "Haute-Savoie" in browser.title


# Every scroll box whose table is taller than the box: how far its visible bottom edge is from
# the nearest bottom edge of a row, and from the row under the header.
SCROLL_BOXES = """
return Array.from(document.querySelectorAll('.scroll')).filter(function (box) {
  return box.scrollHeight > box.clientHeight + 1;
}).map(function (box) {
  var bottom = box.getBoundingClientRect().top + box.clientTop + box.clientHeight;
  var edges = Array.from(box.querySelectorAll('tbody tr')).map(function (row) {
    return Math.abs(row.getBoundingClientRect().bottom - bottom);
  });
  return {id: box.querySelector('table').id, top: box.scrollTop, rows: edges.length,
          off: Math.min.apply(null, edges)};
});
"""


@pytest.mark.parametrize("width", [1280, PHONE_WIDTH])
@pytest.mark.parametrize("page", PAGES)
def test_a_scroll_box_never_cuts_a_row_in_half(browser, site_home, page, width):
    """The bottom edge of a table's scroll box is a row's bottom edge, as the page opens (on a
    screen or a phone, where rows wrap) and wherever it is scrolled to (it snaps to rows)."""
    with phone(browser) if width == PHONE_WIDTH else nullcontext():  # on a phone, rows wrap
        open_page(browser, site_home, page)
        WebDriverWait(browser, 5).until(
            lambda driver: all(box["off"] <= 1 for box in driver.execute_script(SCROLL_BOXES)),
            f"a row cut at the bottom of a scroll box at {width} px",
        )
        boxes = browser.execute_script(SCROLL_BOXES)
        assert boxes or page != "index.html"  # the index's territory tables overflow
        for scrolled in (45, 130, 333, 10_000):
            browser.execute_script(
                "document.querySelectorAll('.scroll').forEach(function (box) {"
                f" box.scrollTop = {scrolled}; }})"
            )
            WebDriverWait(browser, 5).until(
                lambda d: all(box["off"] <= 1 for box in d.execute_script(SCROLL_BOXES)),
                f"a row cut at the bottom of a scroll box scrolled to {scrolled} px",
            )
        # the last scroll went to the end of every box (the others may snap back to the top)
        assert all(box["top"] > 0 for box in browser.execute_script(SCROLL_BOXES))


CHART_TEXTS = """
// Every text drawn in each chart (plotly figures and SVG charts), as the quadrilateral it covers
// on the screen (a tick label may be turned); the pairs of texts that overlap, and the texts
// outside their chart.
function corners(text) {
  var box = text.getBBox(), m = text.getScreenCTM();
  return [[box.x, box.y], [box.x + box.width, box.y], [box.x + box.width, box.y + box.height],
          [box.x, box.y + box.height]].map(function (p) {
    return [m.a * p[0] + m.c * p[1] + m.e, m.b * p[0] + m.d * p[1] + m.f];
  });
}
function apart(one, other) {  // separating axis test, with a pixel of tolerance
  return [one, other].some(function (quad) {
    return quad.some(function (p, i) {
      var q = quad[(i + 1) % 4], axis = [q[1] - p[1], p[0] - q[0]];
      var length = Math.hypot(axis[0], axis[1]);
      function span(points) {
        var values = points.map(function (r) { return (r[0] * axis[0] + r[1] * axis[1]) / length; });
        return [Math.min.apply(null, values), Math.max.apply(null, values)];
      }
      var a = span(one), b = span(other);
      return Math.min(a[1], b[1]) - Math.max(a[0], b[0]) < 1;
    });
  });
}
return Array.from(document.querySelectorAll('.plotly-graph-div, svg.svg-chart')).map(function (chart) {
  var frame = chart.getBoundingClientRect();
  var texts = Array.from(chart.querySelectorAll('text')).filter(function (text) {
    var box = text.getBoundingClientRect();
    return text.textContent.trim() !== '' && box.width > 0
        && getComputedStyle(text).display !== 'none';
  }).map(function (text) { return {text: text.textContent, quad: corners(text)}; });
  var overlaps = [];
  texts.forEach(function (one, i) {
    texts.slice(i + 1).forEach(function (other) {
      if (!apart(one.quad, other.quad)) { overlaps.push([one.text, other.text]); }
    });
  });
  var outside = texts.filter(function (t) {
    return t.quad.some(function (p) { return p[0] < frame.left - 1 || p[0] > frame.right + 1; });
  }).map(function (t) { return t.text; });
  // an SVG chart may be wider than a phone inside its figure, which scrolls sideways: the
  // figure must fit the screen, and the chart's text stay readable (its rendered size)
  var svg = chart.tagName.toLowerCase() === 'svg';
  var holder = svg ? (chart.closest('figure') || chart) : chart;
  var size = svg ? chart.getScreenCTM().d * parseFloat(chart.getAttribute('font-size')) : null;
  return {id: chart.id, right: holder.getBoundingClientRect().right, texts: texts.length,
          overlaps: overlaps, outside: outside, text_px: size};
});
"""


@contextmanager
def phone(browser: webdriver.Chrome) -> Iterator[None]:
    """The browser as a phone's: a 390 CSS pixels wide screen (a window cannot be made as
    narrow as that)."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("page", PAGES)
def test_charts_fit_a_phone_screen_without_overlapping_labels(browser, site_home, page):
    """At 390 px, no chart (or the figure an SVG chart scrolls in) is wider than the screen,
    an SVG chart's text is at least 9 px, nothing makes the page scroll sideways, and no text
    of a chart (titles, axes, legends, target labels, tiles' labels) overlaps
    another or leaves its chart; on a wide screen neither."""
    open_page(browser, site_home, page)
    assert [c for c in browser.execute_script(CHART_TEXTS) if c["overlaps"] or c["outside"]] == []
    with phone(browser):
        open_page(browser, site_home, page)
        assert browser.execute_script("return document.documentElement.clientWidth") == 390
        try:  # plotly's figures adapt once the page has loaded
            WebDriverWait(browser, 10).until(
                lambda d: (
                    not any(c["overlaps"] or c["outside"] for c in d.execute_script(CHART_TEXTS))
                )
            )
        except TimeoutException:
            pass  # the assertion below says which texts
        charts = browser.execute_script(CHART_TEXTS)
        assert [c for c in charts if c["overlaps"] or c["outside"]] == []
        assert charts and all(c["right"] <= PHONE_WIDTH for c in charts), charts
        # an SVG chart's text stays readable on a phone: at least 9 px (it read 5 px when the
        # chart shrank to the screen)
        assert all(c["text_px"] >= 9 for c in charts if c["text_px"] is not None), charts
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        screenshot(browser, page.replace(".html", "_phone.html"), PHONE_WIDTH)


# The value labels of an SVG chart as the browser lays them out (viewBox units).
LABEL_BOXES = """
return Array.from(document.querySelectorAll('svg text')).filter(function (text) {
  var box = text.previousElementSibling;
  return box && box.tagName === 'rect' && box.getAttribute('fill') === '#ffffff';
}).map(function (text) {
  var b = text.getBBox();
  return [b.x, b.y, b.width, b.height];
});
"""


@pytest.mark.parametrize("case", CHART_CASES)
def test_chart_labels_do_not_overlap_lines_targets_or_each_other(browser, tmp_path, case):
    svg = str(trend_svg(CHART_CASES[case], "Essai"))
    page = tmp_path / "chart.html"
    page.write_text(
        '<!DOCTYPE html><html lang="fr"><meta charset="utf-8"><body style="font-family: '
        f'system-ui, sans-serif; width: 820px">{svg}</body></html>',
        encoding="utf-8",
    )
    browser.get(page.as_uri())
    boxes = [Box(x, y, x + w, y + h) for x, y, w, h in browser.execute_script(LABEL_BOXES)]
    _, segments = drawn(svg)
    assert len(boxes) == 2 * len(CHART_CASES[case])
    for index, box in enumerate(boxes):
        assert not any(box.crosses(segment) for segment in segments), (case, index, box)
        assert not any(box.overlaps(other) for other in boxes[index + 1 :]), (case, index)
