"""The INSEE commune table and the La Poste postal-code table: downloaded with the DECP
downloader from a local HTTP server, used when they are good, the built-in tables with a note
when they cannot be had."""

from __future__ import annotations

import csv
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from pipelines.common import warehouse
from pipelines.common.download import make_session
from pipelines.common.paths import REFERENCE_DIR, PnadPaths
from pipelines.decp.sources import fetch_sources, load_sources
from pipelines.reference.outlines import install_departement_outlines
from pipelines.reference.tables import build_reference

COMMUNES = (
    "TYPECOM,COM,REG,DEP,CTCD,ARR,TNCC,NCC,NCCENR,LIBELLE,CAN,COMPARENT\n"
    "COM,01173,84,01,01D,012,0,GEX,Gex,Gex,0110,\n"
    "COM,74012,84,74,74D,743,1,ANNEMASSE,Annemasse,Annemasse,7401,\n"
    "COM,04019,93,04,04D,041,0,BEVONS,Bevons,Bevons,0401,\n"
    "COM,05001,93,05,05D,051,0,ABRIES,Abries,Abriès,0501,\n"
    "COM,75056,11,75,75C,751,0,PARIS,Paris,Paris,75ZZ,\n"
    "ARM,75101,,,,751,0,PARIS 1ER ARRONDISSEMENT,Paris 1er Arrondissement,Paris 1er Arrondissement,,75056\n"
    "COM,2A004,94,2A,20R,2A1,1,AJACCIO,Ajaccio,Ajaccio,2A98,\n"
).encode()
# 01200 also delivers a Haute-Savoie commune; 05110 a commune of Alpes-de-Haute-Provence
POSTAL_CODES = (
    "Code_commune_INSEE;Nom_de_la_commune;Code_postal;Libelle_d_acheminement;Ligne_5\r\n"
    "01173;GEX;01170;GEX;\r\n"
    "01173;GEX;01200;GEX;\r\n"
    "74012;ANNEMASSE;01200;ANNEMASSE;\r\n"
    "04019;BEVONS;05110;BEVONS;\r\n"
    "05001;ABRIES;05110;ABRIES;\r\n"
    "75101;PARIS 01;75001;PARIS;\r\n"
    "2A004;AJACCIO;20000;AJACCIO;\r\n"
).encode("cp1252")


class ReferenceServer(BaseHTTPRequestHandler):
    files: dict[str, tuple[int, bytes]] = {}

    def log_message(self, *args) -> None:
        return None

    def do_GET(self) -> None:  # noqa: N802
        status, body = self.files.get(self.path, (404, b""))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ReferenceServer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def configure(paths: PnadPaths, base: str) -> None:
    (paths.home / "sources.toml").write_text(
        "[reference.cog_communes]\n"
        f'kind = "url"\nurl = "{base}/v_commune.csv"\nsuffix = ".csv"\n\n'
        "[reference.laposte_postal_codes]\n"
        f'kind = "url"\nurl = "{base}/hexasmal"\nsuffix = ".csv"\n\n'
        "[reference.departement_outlines]\n"
        f'kind = "url"\nurl = "{base}/departements.geojson"\nsuffix = ".geojson"\n',
        encoding="utf-8",
    )


def download_and_build(paths: PnadPaths) -> dict:
    with warehouse.connect(paths) as con:
        sources = load_sources(paths, section="reference")
        outcomes = fetch_sources(
            con, paths, sources, lambda _: None, make_session(retries=0), landing=paths.home / "ref"
        )
        install_departement_outlines(con, paths)
        build_reference(con, paths)
        return {
            "outcomes": {source.name: result.outcome for source, result in outcomes},
            "status": {
                row[0]: row[1:]
                for row in con.execute(
                    "select reference, origin, file, note from reference_status"
                ).fetchall()
            },
            "exceptions": dict(
                con.execute(
                    "select postal_code, departement_codes from ref_postal_code_exceptions"
                ).fetchall()
            ),
            "communes": dict(
                con.execute("select commune_code, departement_code from ref_communes").fetchall()
            ),
        }


OUTLINES = (
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
    b'{"code": "74", "nom": "Haute-Savoie"}, "geometry": {"type": "Polygon", "coordinates": '
    b"[[[6.0, 46.0], [6.9, 46.0], [6.9, 46.4], [6.0, 46.0]]]}}]}"
)


def test_downloaded_tables_are_used(pnad_paths, server):
    ReferenceServer.files = {
        "/v_commune.csv": (200, COMMUNES),
        "/hexasmal": (200, POSTAL_CODES),
        "/departements.geojson": (200, OUTLINES),
    }
    configure(pnad_paths, server)
    built = download_and_build(pnad_paths)
    assert built["outcomes"] == {
        "cog_communes": "downloaded",
        "laposte_postal_codes": "downloaded",
        "departement_outlines": "downloaded",
    }
    # the outlines are where the dashboard reads them
    assert (pnad_paths.home / "ref" / "departements.geojson").read_bytes() == OUTLINES
    assert built["status"]["departement_outlines"][:2] == ("downloaded", "ref/departements.geojson")
    assert built["exceptions"] == {"01200": ["01", "74"], "05110": ["04", "05"]}
    # an arrondissement takes its parent commune's département
    assert built["communes"]["75101"] == "75" and built["communes"]["2A004"] == "2A"
    origin, file, note = built["status"]["ref_postal_code_exceptions"]
    assert origin == "downloaded" and file.startswith("ref/laposte_postal_codes/") and note is None
    assert (pnad_paths.home / file).is_file()


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "non téléchargée"),  # 404: nothing landed
        ({"/v_commune.csv": (500, b""), "/hexasmal": (500, b"")}, "non téléchargée"),
        (
            {
                "/v_commune.csv": (200, b"<!DOCTYPE html><html>maintenance</html>"),
                "/hexasmal": (200, b"<html><body>Erreur</body></html>"),
            },
            "non téléchargée",
        ),
    ],
)
def test_unavailable_downloads_fall_back_to_the_built_in_tables_with_a_note(
    pnad_paths, server, files, reason
):
    ReferenceServer.files = files
    configure(pnad_paths, server)
    built = download_and_build(pnad_paths)
    assert set(built["outcomes"].values()) <= {"failed", "quarantined"}
    origin, _, note = built["status"]["ref_postal_code_exceptions"]
    assert origin == "built-in" and reason in note
    with (REFERENCE_DIR / "postal_code_exceptions.csv").open(encoding="utf-8") as handle:
        assert len(built["exceptions"]) == sum(1 for _ in csv.DictReader(handle))
    assert built["status"]["ref_communes"][0] == "built-in" and built["communes"] == {}
    assert not (pnad_paths.home / "ref" / "departements.geojson").exists()
    assert built["status"]["departement_outlines"][0] == "built-in"


def test_outlines_that_are_not_geojson_are_not_installed(pnad_paths, server):
    ReferenceServer.files = {"/departements.geojson": (200, b'{"type": "Feature"}')}
    configure(pnad_paths, server)
    built = download_and_build(pnad_paths)
    assert built["outcomes"]["departement_outlines"] == "downloaded"
    assert not (pnad_paths.home / "ref" / "departements.geojson").exists()
    assert "grille de tuiles" in built["status"]["departement_outlines"][2]


def test_a_downloaded_file_that_cannot_be_read_keeps_the_built_in_table(pnad_paths, server):
    ReferenceServer.files = {
        "/v_commune.csv": (200, b"colonne_inattendue\nvaleur\n"),
        "/hexasmal": (200, POSTAL_CODES),
    }
    configure(pnad_paths, server)
    built = download_and_build(pnad_paths)
    origin, file, note = built["status"]["ref_communes"]
    assert origin == "built-in" and "illisible" in note and file is None
    # the La Poste table still works, with the communes' own prefixes
    assert built["exceptions"] == {"01200": ["01", "74"], "05110": ["04", "05"]}


def test_the_real_tables_give_the_built_in_exceptions(pnad_paths, sample_data: Path):
    """The built-in postal_code_exceptions.csv is what the rule gives on the real tables."""
    cog = duckdb.execute(
        "select 'COM' as TYPECOM, commune_code as COM, region_code as REG, "
        "departement_code as DEP, commune_nom as LIBELLE, null as COMPARENT "
        "from read_csv($path, all_varchar = true)",
        {"path": str(sample_data / "ref" / "cog_communes_departements_regions_2025.csv")},
    ).df()
    insee = pnad_paths.home / "v_commune.csv"
    cog.to_csv(insee, index=False)
    with warehouse.connect(pnad_paths) as con:
        build_reference(con)
        from pipelines.common.sql import run_sql

        run_sql(con, "reference/ref_communes", {"path": str(insee)})
        run_sql(
            con,
            "reference/ref_postal_code_exceptions_laposte",
            {"path": str(sample_data / "ref" / "laposte_019HexaSmal_2023-12.csv")},
        )
        derived = dict(con.execute("select * from ref_postal_code_exceptions").fetchall())
    with (REFERENCE_DIR / "postal_code_exceptions.csv").open(encoding="utf-8") as handle:
        built_in = {
            r["postal_code"]: r["departement_codes"].split() for r in csv.DictReader(handle)
        }
    assert derived == built_in
