"""The dashboard site in a real browser: Debian's headless Chromium, driven by selenium, opens the
pages from the file system as ministry staff do. Screenshots land in tests/output/screenshots/
(git-ignored) for inspection."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from pipelines.lib.paths import PROJECT_ROOT, PnadPaths
from tests.test_publish_and_dashboard import (
    MARKUP,
    build_site_warehouse,
    sample_outlines,
    write_site,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = PROJECT_ROOT / "tests" / "output" / "screenshots"
PAGES = ("index.html", "regions/84.html", "departements/74.html")

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them: "
    "apt-get install chromium chromium-driver)",
)

# Every chart of the page with an svg drawn by plotly, and a table in its chart block.
CHARTS = """
return Array.from(document.querySelectorAll('.plotly-graph-div')).map(function (chart) {
  var block = chart.closest('.chart-block');
  return {id: chart.id, svg: chart.querySelector('.main-svg') !== null,
          table: block !== null && block.querySelector('table') !== null};
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


def screenshot(browser: webdriver.Chrome, page: str) -> Path:
    """The whole page as a PNG in tests/output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
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
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert screenshot(browser, page).stat().st_size > 10_000


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
