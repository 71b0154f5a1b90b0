"""SIRENE lookups against a real HTTP server on 127.0.0.1 that plays the API Recherche
d'entreprises (``/search?q=<siret>``), and bulk loads from hand-written INSEE stock files.

Names are those of real public bodies; SIRETs, addresses and codes are made up (valid: the SIREN and the SIRET pass the Luhn check)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from pipelines.common.download import make_session
from pipelines.reference import sirene

LYON_ANNEXE = "21690123100177"  # commune, secondary establishment in Lyon 3e (69383)
LYON_SIEGE = "21690123100011"
METROPOLE = "20005480700017"  # 200… intercommunality, only its siege in the answer (13202)
PARIS = "13002526500021"  # State service, Paris 8e (75108)
AJACCIO = "21200004600012"  # Corsica, 2A004
REUNION = "23974001200012"  # overseas, 97411
UNKNOWN = "21700000900019"  # empty results
BUSY = "21200004600038"  # 429 with Retry-After: 0 on the first call
BROKEN = "20005480700041"  # always 500
OTHER_ETAB = "13002526500039"  # the company comes back, but not this establishment
DOWN = ("99999999800019", "99999999800027", "99999999800035")  # always 500


def etab(siret: str, commune: str, code_postal: str, libelle: str, *, siege: bool = False) -> dict:
    """An establishment as the API shows it (siege and matching_etablissements share the shape)."""
    return {
        "siret": siret,
        "est_siege": siege,
        "etat_administratif": "A",
        "activite_principale": "84.11Z",
        "adresse": f"1 PLACE DE L'HOTEL DE VILLE {code_postal} {libelle}",
        "commune": commune,
        "libelle_commune": libelle,
        "code_postal": code_postal,
        "latitude": "45.0",
        "longitude": "4.8",
        "liste_enseignes": None,
        "nom_commercial": None,
    }


def company(siren: str, nom: str, nature: str, siege: dict, matching: list[dict]) -> dict:
    siege = {
        **siege,
        "departement": sirene.departement_from_commune(siege["commune"]),
        "region": "00",
    }
    return {
        "siren": siren,
        "nom_complet": nom,
        "nom_raison_sociale": nom,
        "sigle": None,
        "nombre_etablissements": 3,
        "nombre_etablissements_ouverts": 2,
        "siege": siege,
        "activite_principale": "84.11Z",
        "categorie_entreprise": None,
        "etat_administratif": "A",
        "nature_juridique": nature,
        "section_activite_principale": "O",
        "statut_diffusion": "O",
        "matching_etablissements": matching,
        "dirigeants": [],
        "finances": None,
        "complements": {"collectivite_territoriale": None, "est_service_public": True},
    }


def page(*results: dict) -> dict:
    return {
        "results": list(results),
        "total_results": len(results),
        "page": 1,
        "per_page": 10,
        "total_pages": 1 if results else 0,
    }


LYON = company(
    "216901231",
    "COMMUNE DE LYON",
    "7210",
    etab(LYON_SIEGE, "69381", "69001", "LYON 1ER ARRONDISSEMENT", siege=True),
    [etab(LYON_ANNEXE, "69383", "69003", "LYON 3EME ARRONDISSEMENT")],
)
STATE = company(
    "130025265",
    "DIRECTION INTERMINISTERIELLE DU NUMERIQUE",
    "7120",
    etab("13002526500013", "75107", "75007", "PARIS 7", siege=True),
    [etab(PARIS, "75108", "75008", "PARIS 8")],
)
ANSWERS = {
    LYON_ANNEXE: page(LYON),
    METROPOLE: page(
        company(
            "200054807",
            "METROPOLE D'AIX-MARSEILLE-PROVENCE",
            "7344",
            etab(METROPOLE, "13202", "13002", "MARSEILLE 2", siege=True),
            [],
        )
    ),
    PARIS: page(STATE),
    AJACCIO: page(
        company(
            "212000046",
            "COMMUNE D'AJACCIO",
            "7210",
            etab(AJACCIO, "2A004", "20000", "AJACCIO", siege=True),
            [etab(AJACCIO, "2A004", "20000", "AJACCIO", siege=True)],
        )
    ),
    REUNION: page(
        company(
            "239740012",
            "REGION REUNION",
            "7230",
            etab(REUNION, "97411", "97400", "SAINT-DENIS", siege=True),
            [etab(REUNION, "97411", "97400", "SAINT-DENIS", siege=True)],
        )
    ),
    BUSY: page(
        company(
            "212000046",
            "COMMUNE D'AJACCIO",
            "7210",
            etab(AJACCIO, "2A004", "20000", "AJACCIO", siege=True),
            [etab(BUSY, "2A004", "20090", "AJACCIO")],
        )
    ),
    UNKNOWN: page(),
    OTHER_ETAB: page(STATE),
}


class FakeSirene(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}
    user_agents: set[str] = set()

    def log_message(self, *args) -> None:
        return None

    def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        url = urlsplit(self.path)
        q = parse_qs(url.query).get("q", [""])[0]
        count = FakeSirene.hits[q] = FakeSirene.hits.get(q, 0) + 1
        FakeSirene.user_agents.add(self.headers.get("User-Agent", ""))
        if url.path != "/search":
            return self._send(404, {"erreur": "not found"})
        if q == BUSY and count == 1:
            return self._send(429, {"erreur": "too many requests"}, {"Retry-After": "0"})
        if q == BROKEN or q.startswith("999999998"):
            return self._send(500, {"erreur": "internal error"})
        return self._send(200, ANSWERS.get(q, page()))


@pytest.fixture
def api(monkeypatch):
    FakeSirene.hits, FakeSirene.user_agents = {}, set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeSirene)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    # Set after the module was imported: the API address must be read at call time.
    monkeypatch.setenv("PNAD_SIRENE_API", f"http://127.0.0.1:{httpd.server_address[1]}/")
    yield FakeSirene.hits
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "t.duckdb"))
    yield connection
    connection.close()


def lookup(con, sirets, **kwargs):
    kwargs.setdefault("max_per_second", 1000)
    kwargs.setdefault("log", lambda _: None)
    return sirene.lookup_sirets(con, sirets, session=make_session(retries=2, backoff=0), **kwargs)


def cache(con) -> list[tuple]:
    return con.execute(
        "select siret, found, siren, name, legal_category, commune_code, postal_code, "
        "departement_code, source, http_status from sirene_cache order by siret"
    ).fetchall()


def found(siret: str, *values: str) -> tuple:
    """An expected cache row for a SIRET the API located."""
    return (siret, True, *values, "api", 200)


def absent(siret: str) -> tuple:
    """An expected cache row for a SIRET the API answered about without finding it."""
    return (siret, False, None, None, None, None, None, None, "api", 200)


def tally(asked: int, found: int, not_found: int, failed: int, cached_before: int) -> dict:
    """The counts lookup_sirets returns."""
    return {
        "asked": asked,
        "found": found,
        "not_found": not_found,
        "failed": failed,
        "cached_before": cached_before,
    }


ALL = [LYON_ANNEXE, METROPOLE, PARIS, AJACCIO, REUNION, UNKNOWN, BUSY, BROKEN, OTHER_ETAB]


def test_first_run_caches_every_answer(api, con):
    counts = lookup(con, ALL)
    assert counts == tally(9, 6, 2, 1, 0)
    dinum, ajaccio = "DIRECTION INTERMINISTERIELLE DU NUMERIQUE", "COMMUNE D'AJACCIO"
    metropole = "METROPOLE D'AIX-MARSEILLE-PROVENCE"
    assert cache(con) == [
        found(PARIS, "130025265", dinum, "7120", "75108", "75008", "75"),
        absent(OTHER_ETAB),
        found(METROPOLE, "200054807", metropole, "7344", "13202", "13002", "13"),
        found(AJACCIO, "212000046", ajaccio, "7210", "2A004", "20000", "2A"),
        found(BUSY, "212000046", ajaccio, "7210", "2A004", "20090", "2A"),
        found(LYON_ANNEXE, "216901231", "COMMUNE DE LYON", "7210", "69383", "69003", "69"),
        absent(UNKNOWN),
        found(REUNION, "239740012", "REGION REUNION", "7230", "97411", "97400", "974"),
    ]
    fetched = con.execute("select min(fetched_at), max(fetched_at) from sirene_cache").fetchone()
    assert all(abs((value - sirene._now()).total_seconds()) < 60 for value in fetched)
    assert api[BUSY] == 2  # the 429 was retried after Retry-After, then answered
    assert api[BROKEN] == 3  # first try + 2 retries, then given up
    assert {ua.split("/")[0] for ua in FakeSirene.user_agents} == {"pnad-tracker"}


def test_second_run_asks_nothing_and_failures_are_asked_again(api, con):
    lookup(con, ALL)
    hits = dict(api)
    cached = [s for s in ALL if s != BROKEN]
    assert lookup(con, cached + cached) == tally(0, 0, 0, 0, 8)
    assert api == hits
    # The failure was not cached: the next run asks for it again, and only for it.
    assert con.execute(
        "select count(*) from sirene_cache where siret = $s", {"s": BROKEN}
    ).fetchone() == (0,)
    assert lookup(con, ALL) == tally(1, 0, 0, 1, 8)
    assert api == {**hits, BROKEN: hits[BROKEN] + 3}


def test_invalid_sirets_are_skipped(api, con):
    messages: list[str] = []
    invalid = ["2169012310017", "21690123100178", "2169O123100177", "", None, 21690123100177]
    counts = lookup(con, [*invalid, f" {AJACCIO} "], log=messages.append)
    assert counts == tally(1, 1, 0, 0, 0)
    assert api == {AJACCIO: 1}
    assert [row[0] for row in cache(con)] == [AJACCIO]
    assert "SIRENE : 6 SIRET non valide(s) ignoré(s)" in messages


def test_limit_caps_calls_per_run(api, con):
    backlog = [REUNION, LYON_ANNEXE, AJACCIO, PARIS, METROPOLE]
    assert lookup(con, backlog, limit=2)["asked"] == 2
    assert [row[0] for row in cache(con)] == [PARIS, METROPOLE]  # in SIRET order
    assert lookup(con, backlog, limit=2) == tally(2, 2, 0, 0, 2)
    assert lookup(con, backlog, limit=0)["asked"] == 0
    assert lookup(con, backlog)["asked"] == 1
    assert sum(api.values()) == 5


def test_rate_limiter_spaces_calls(api, con):
    session = make_session(retries=0)
    starts: list[float] = []
    real_get = session.get

    def timed_get(*args, **kwargs):
        starts.append(time.monotonic())
        return real_get(*args, **kwargs)

    session.get = timed_get
    sirets = [LYON_ANNEXE, METROPOLE, PARIS, AJACCIO, REUNION]
    began = time.monotonic()
    counts = sirene.lookup_sirets(
        con, sirets, session=session, max_per_second=20, log=lambda _: None
    )
    elapsed = time.monotonic() - began
    assert counts["asked"] == 5 and len(starts) == 5
    assert elapsed >= (5 - 1) / 20
    assert all(b - a >= 0.05 - 0.002 for a, b in zip(starts, starts[1:], strict=False))


def test_rate_limiter_with_a_fake_clock():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = sirene.RateLimiter(4, clock=lambda: now[0], sleep=sleep)
    limiter.wait()  # the first call does not wait
    now[0] += 0.1
    limiter.wait()
    now[0] += 0.3  # slower than the limit: no wait
    limiter.wait()
    limiter.wait()
    assert slept == [0.15, 0.25]
    with pytest.raises(ValueError):
        sirene.RateLimiter(0)


def test_consecutive_failures_stop_the_run(api, con, monkeypatch):
    monkeypatch.setattr(sirene, "MAX_CONSECUTIVE_FAILURES", 2)
    counts = lookup(con, [*DOWN])
    assert counts == tally(2, 0, 0, 2, 0)
    assert DOWN[2] not in api
    assert cache(con) == []


@pytest.mark.parametrize(
    ("commune", "departement"),
    [
        ("01001", "01"),
        ("75108", "75"),
        ("69383", "69"),
        ("13202", "13"),
        ("2A004", "2A"),
        ("2B033", "2B"),
        ("97411", "974"),
        ("97701", "977"),
        ("98818", "988"),
        ("7510", None),
        ("2C004", None),
        ("", None),
        (None, None),
    ],
)
def test_departement_rule_is_the_same_in_python_and_sql(commune, departement):
    assert sirene.departement_from_commune(commune) == departement
    query = f"select {sirene.DEPARTEMENT_SQL.format(c='c')} from (select $c::varchar as c)"  # noqa: S608 - the module's own fixed SQL
    assert duckdb.execute(query, {"c": commune}).fetchone()[0] == departement


STOCK_COLUMNS = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,"
    "etablissementSiege,enseigne1Etablissement,denominationUsuelleEtablissement,"
    "codePostalEtablissement,libelleCommuneEtablissement,codeCommuneEtablissement,"
    "codePaysEtrangerEtablissement,etatAdministratifEtablissement"
)
STOCK_ROWS = [
    # siren, nic, siret, enseigne, denomination usuelle, code postal, libellé, commune, pays
    ("212000046", "00012", AJACCIO, "", "MAIRIE", "20000", "AJACCIO", "2A004", ""),
    ("200054807", "00058", "20005480700058", "", "POLE DE BASTIA", "20200", "BASTIA", "2B033", ""),
    ("005520135", "00012", "00552013500012", "BUREAU", "", "69003", "LYON 3E", "69383", ""),
    ("239740012", "00020", "23974001200020", "", "", "97400", "SAINT-DENIS", "97411", ""),
    ("130025265", "00047", "13002526500047", "", "", "", "", "", "99134"),
    ("216901231", "00011", LYON_SIEGE, "", "HOTEL DE VILLE", "69001", "LYON 1ER", "69381", ""),
]


def write_stock_csv(path: Path) -> Path:
    lines = [STOCK_COLUMNS]
    for siren, nic, siret, enseigne, denomination, postal, libelle, commune, pays in STOCK_ROWS:
        lines.append(
            f'{siren},{nic},{siret},O,2001-01-01,true,{enseigne},"{denomination}",'
            f"{postal},{libelle},{commune},{pays},A"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stocked(siret: str, name: str | None, commune: str | None, postal: str | None, dep: str | None):
    """An expected cache row from the stock file (no legal category there, no HTTP status)."""
    return (siret, True, siret[:9], name, None, commune, postal, dep, "stock", None)


STOCK_EXPECTED = {
    row[0]: row
    for row in [
        stocked(AJACCIO, "MAIRIE", "2A004", "20000", "2A"),
        stocked("20005480700058", "POLE DE BASTIA", "2B033", "20200", "2B"),
        stocked("00552013500012", "BUREAU", "69383", "69003", "69"),  # enseigne as the name
        stocked("23974001200020", None, "97411", "97400", "974"),
        stocked("13002526500047", None, None, None, None),  # abroad: no commune
        stocked(LYON_SIEGE, "HOTEL DE VILLE", "69381", "69001", "69"),
    ]
}


def test_stock_csv_restricted_to_wanted_sirets_keeps_api_rows(api, con, tmp_path):
    lookup(con, [AJACCIO])  # an API row first: the stock must not replace it
    api_row = cache(con)
    csv = write_stock_csv(tmp_path / "StockEtablissement_utf8.csv")
    wanted = {AJACCIO, "20005480700058", "00552013500012", "13002526500047", UNKNOWN}
    assert sirene.load_stock_file(con, csv, sirets=wanted) == 3
    assert cache(con) == sorted(
        [
            *api_row,
            *(STOCK_EXPECTED[s] for s in ("20005480700058", "00552013500012", "13002526500047")),
        ]
    )
    # Again, unrestricted: only what is not cached yet comes in.
    assert sirene.load_stock_file(con, csv) == 2
    assert sirene.load_stock_file(con, csv) == 0
    assert cache(con) == sorted([*api_row, *(v for k, v in STOCK_EXPECTED.items() if k != AJACCIO)])


def test_stock_parquet_with_numeric_siret(con, tmp_path):
    csv = write_stock_csv(tmp_path / "stock.csv")
    parquet = tmp_path / "StockEtablissement_utf8.parquet"
    # INSEE's Parquet may type the SIRET as a number: leading zeros must come back.
    duckdb.execute(
        "copy (select * replace (cast(siret as bigint) as siret) "
        "from read_csv($csv, all_varchar = true)) to '" + str(parquet) + "' (format parquet)",
        {"csv": str(csv)},
    )
    assert sirene.load_stock_file(con, parquet, sirets=["00552013500012", LYON_SIEGE]) == 2
    assert cache(con) == [STOCK_EXPECTED["00552013500012"], STOCK_EXPECTED[LYON_SIEGE]]


def test_stock_file_must_have_the_insee_columns(con, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("siret,commune\n21200004600012,2A004\n", encoding="utf-8")
    with pytest.raises(ValueError, match="codeCommuneEtablissement"):
        sirene.load_stock_file(con, other)
    with pytest.raises(FileNotFoundError):
        sirene.load_stock_file(con, tmp_path / "missing.csv")


def test_unreachable_service_stops_at_the_first_call(con, monkeypatch):
    # nothing listens on port 9 of the loopback: connection refused, as without a network
    monkeypatch.setenv("PNAD_SIRENE_API", "http://127.0.0.1:9")
    counts = sirene.lookup_sirets(
        con,
        [PARIS, AJACCIO, REUNION],
        session=make_session(retries=1, backoff=0),
        log=lambda _: None,
    )
    assert counts == tally(1, 0, 0, 1, 0)
    assert con.execute("select count(*) from sirene_cache").fetchone() == (0,)
