"""Everything a person reads is French: the command line (help, errors, what a run prints) and
the generated pages and report, checked for English leftovers with a list of known phrases and
English function words (code, paths and scripts aside)."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli.main import COMMANDS, main
from pipelines.common.formatting import MONTH_NAMES_FR
from tests.test_cli import pnad

# Phrases English code once printed, and words no French sentence holds.
ENGLISH_PHRASES = (
    "usage:",
    "error:",
    "options:\n  -h, --help            show",
    "show this help message",
    "the following arguments are required",
    "invalid choice",
    "not a plausible year",
    "no such file or folder",
    "not downloaded",
    "tile grid",
    "refusing to publish",
    "pipeline run failed",
    "run the pipeline",
    "(empty file)",
    "unrecognised content",
    "does not say which facilitator",
    " - dagster - ",
    "INFO",
    "file(s)",
    "received",
    "built-in",
    "etablissement_public_local",
)
ENGLISH_WORDS = re.compile(
    r"\b(the|and|with|from|which|not|is|are|of|to|was|found|unknown|failed|missing)\b"
)


def english_leftovers(text: str) -> list[str]:
    """The known English phrases and English words of a text a person reads (file paths,
    which hold any name, left out)."""
    readable = " ".join(word for word in text.split() if "/" not in word and "\\" not in word)
    found = [phrase for phrase in ENGLISH_PHRASES if phrase in text]
    return found + sorted({m.group(0) for m in ENGLISH_WORDS.finditer(readable)})


def visible_text(page: str) -> str:
    """What a browser shows of an HTML page: no scripts, styles, tags nor attributes."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.DOTALL)  # table and column names
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_word_list_catches_english():
    assert english_leftovers("pnad: error: no such file or folder: /tmp/x")
    assert english_leftovers("the dashboard draws a tile grid") == [
        "tile grid",
        "the",
    ]
    assert not english_leftovers("fichier ou dossier introuvable : /tmp/pytest-of-root/x")


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as stop:
        code = stop.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("command", [None, *(c.__name__.rsplit(".", 1)[1] for c in COMMANDS)])
def test_every_help_is_french(capsys, command):
    code, out, err = run_main(capsys, *([command] if command else []), "--help")
    assert code == 0 and out.startswith("usage : pnad")
    assert "affiche cette aide et quitte" in out
    assert "\noptions :\n" in out and "options:" not in out  # a space before the colon
    assert english_leftovers(out) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("frobnicate",), "choix non valide : 'frobnicate'"),
        ((), "arguments obligatoires manquants : COMMANDE"),
        (("ingest",), "arguments obligatoires manquants : CHEMIN"),
        (("shares", "--level", "canton"), "choix non valide : 'canton'"),
        (("shares", "--year", "1850"), "année non plausible : 1850"),
        (("shares", "--year", "deux"), "valeur non valide (année attendu) : 'deux'"),
        (("demo", "--seed", "x"), "valeur non valide (nombre entier attendu) : 'x'"),
        (("demo", "--size", "50"), "la taille doit être comprise entre 100 et"),
        (("shares", "--bogus"), "arguments non reconnus : --bogus"),
        (("report",), "l'un des arguments --region --departement est obligatoire"),
        (("report", "--region", "84", "--departement", "74"), "incompatible avec l'argument"),
        (("shares", "--year"), "une valeur est attendue"),
    ],
)
def test_every_usage_error_is_french(capsys, args, expected):
    code, out, err = run_main(capsys, *args)
    assert code == 2
    assert "erreur : " in err and expected in err
    assert english_leftovers(err) == []


def test_the_demo_generator_alone_speaks_french(tmp_path):
    """The developers' generator (python -m pipelines.demo.generator), as they type it."""

    def generator(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipelines.demo.generator", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    shown = generator("--help")
    assert shown.returncode == 0 and shown.stdout.startswith("usage : python -m pipelines.demo")
    assert "affiche cette aide et quitte" in shown.stdout and "--start AAAA-MM-JJ" in shown.stdout
    assert english_leftovers(shown.stdout) == []
    for args, expected in (
        ((), "arguments obligatoires manquants : DOSSIER"),
        ((str(tmp_path), "--size", "50"), "la taille doit être comprise entre 100 et"),
        ((str(tmp_path), "--start", "2024-13-01"), "(date AAAA-MM-JJ attendu) : '2024-13-01'"),
        ((str(tmp_path), "--shape", "csv"), "choix non valide : 'csv'"),
        ((str(tmp_path), "--end", "2023-06-30"), "la fin (30/06/2023) précède le début"),
        ((str(tmp_path), "--fault-rate", "2"), "le taux de défauts doit être compris entre 0"),
    ):
        refused = generator(*args)
        assert refused.returncode == 2 and expected in refused.stderr, refused.stderr
        assert english_leftovers(refused.stderr) == [], refused.stderr
    written = generator(str(tmp_path / "demo"), "--size", "100", "--seed", "3")
    assert written.returncode == 0, written.stderr
    assert re.fullmatch(
        r"\d+ fichiers dans \S+ : 100 contrats, \d+ enregistrements \(dont \d+ republications, "
        r"\d+ de test, \d+ avec un défaut\)\n",
        written.stdout,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("shares",), "pas de base publiée"),
        (("hours",), "pas de base publiée"),
        (("report", "--region", "84"), "pas de base publiée"),
        (("ingest", "/nonexistent/decp.json"), "fichier ou dossier introuvable"),
        (("exports", "--withdraw", "abcdef"), "export"),
    ],
)
def test_every_refusal_is_one_french_line(tmp_path, args, expected):
    result = pnad(*args, home=tmp_path / "home")
    assert result.returncode == 1
    assert result.stderr.startswith("pnad : erreur : ") and expected in result.stderr
    assert english_leftovers(result.stderr) == []


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("french") / "pnad_home"
    result = pnad("demo", "--size", "300", home=home)
    assert result.returncode == 0, result.stderr[-3000:]
    return home, result.stdout + result.stderr


def test_a_run_prints_french_and_no_dagster_console_line(demo):
    _, output = demo
    assert "lu(s)" in output and "contrats distincts" in output
    assert english_leftovers(output) == []


def test_the_cli_tables_are_french_with_french_numbers(demo):
    home, _ = demo
    for args in (("shares", "--level", "region"), ("hours",), ("exports",), ("status",)):
        result = pnad(*args, home=home)
        assert result.returncode == 0 or args == ("status",), result.stderr
        assert english_leftovers(result.stdout + result.stderr) == [], args
    exports = pnad("exports", home=home).stdout
    assert "actif" in exports and " active " not in exports
    listed = json.loads(pnad("exports", "--json", home=home).stdout)
    assert {"period_start", "period_end", "loaded_at"} <= set(listed[0])
    shares = pnad("shares", "--level", "region", home=home).stdout
    assert "région" in shares and " region " not in shares


def test_generated_pages_hold_no_english_sentence(demo):
    home, _ = demo
    reports = home / "reports"
    pages = [reports / "index.html", reports / "methode.html"]
    pages += (
        sorted(reports.glob("regions/*.html"))[:3] + sorted(reports.glob("departements/*.html"))[:3]
    )
    for page in pages:
        html_text = page.read_text(encoding="utf-8")
        # the downloads table quotes the data's own codes (« résultat (downloaded, failed…) »):
        # known phrases only there
        downloads = re.search(r'<table id="table-downloads".*?</table>', html_text, re.DOTALL)
        if downloads:
            html_text = html_text.replace(downloads[0], "")
            phrases = english_leftovers(" ".join(visible_text(downloads[0]).split()))
            assert [p for p in phrases if p in ENGLISH_PHRASES] == [], page.name
        text = visible_text(html_text)
        assert english_leftovers(text) == [], page.name
        captions = re.findall(r"<caption>(.*?)</caption>", page.read_text(encoding="utf-8"))
        assert [c for c in captions if re.search(r"\b[a-z]+_[a-z_]+\b", c)] == [], page.name
    methode = visible_text((reports / "methode.html").read_text(encoding="utf-8"))
    assert "grille de tuiles" in methode


def test_the_regional_report_holds_no_english_sentence(demo):
    home, _ = demo
    result = pnad("report", "--region", "84", home=home)
    assert result.returncode == 0, result.stderr
    page = next((home / "reports" / "regionaux").glob("region-84_*.html"))
    text = visible_text(page.read_text(encoding="utf-8"))
    assert english_leftovers(text) == []
    assert "établissement public local" in text or "commune" in text
    month = re.search(r"rapport de (\w+) (\d{4}) : l'année \d{4} de janvier à fin (\w+)", text)
    assert month and month[1] == month[3] and month[1] in MONTH_NAMES_FR, text[:600]
