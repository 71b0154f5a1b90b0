"""After 2025: the 2026 obligations' rules on hand-made contracts at their edges, the three
states, the PNAD 2022-2025 final balance, silent buyers and late publications, and the
projection on a series whose answer is known."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipelines.common import warehouse
from pipelines.common.settings import SettingsError
from pipelines.indicators import obligations as obligation_rules
from pipelines.indicators.build import build_indicator
from pipelines.indicators.obligations import load_consultation_lags
from tests.conftest import build_warehouse, marche, write_decp_2022

COMMUNE = "21740056300011"  # a commune of Haute-Savoie: autre pouvoir adjudicateur, 216 000 EUR
EPCI = "24740001300014"  # a grouping: may be an entité adjudicatrice (432 000 EUR)
STATE = "11000001500013"  # the State: 140 000 EUR
SERVICES = "90910000"  # cleaning: services
BOTH_ENV = ["Clause environnementale", "Critère environnemental"]

# Consultations are launched exactly 30 days before notification for an appel d'offres ouvert
# and a concession's procedure (so the entry date of 21 August 2026 falls between two days), and
# 30 to 60 days before for any other procedure.
LAGS = """
[consultation_lag]
default_days = [30, 60]

[consultation_lag.by_procedure]
"Appel d'offres ouvert" = [30, 30]
"Procédure négociée ouverte" = [30, 30]
"""


def obliged(contract_id: str, notified: str, **fields) -> dict:
    fields.setdefault("published", notified)
    fields.setdefault("cpv", SERVICES)
    return marche(contract_id, notified=notified, **fields)


@pytest.fixture
def obligations(pnad_paths):
    (pnad_paths.home / "obligations.toml").write_text(LAGS, encoding="utf-8")
    clause_only = ["Clause environnementale"]
    marches = [
        # the entry date +- 1 day: launched on 20 August 2026 (before), on 21 August (after)
        obliged("DAY_BEFORE", "2026-09-19", amount=216_000, environmental=BOTH_ENV),
        obliged("DAY_OF", "2026-09-20", amount=216_000, environmental=BOTH_ENV,
                social=["Clause sociale"]),
        # the threshold -1 EUR: not subject to the social obligation, for sure
        obliged("BELOW", "2026-10-01", amount=215_999, environmental=clause_only),
        # notified before the entry date: launched before, certainly
        obliged("EARLY", "2026-08-20", amount=900_000),
        # defence and security: out of both obligations
        obliged("DEFENCE", "2026-10-01", buyer=STATE, amount=900_000,
                nature="Marché de défense ou de sécurité"),
        # a grouping at 300 000 EUR: above 216 000, below 432 000 (entité adjudicatrice?)
        obliged("EPCI", "2026-10-01", buyer=EPCI, amount=300_000, environmental=BOTH_ENV),
        # a marché subséquent: its accord-cadre (consultation before the entry date) decides
        obliged("AC1", "2026-07-01", amount=2_000_000, nature="Accord-cadre"),
        obliged("SUB1", "2026-11-02", amount=250_000, nature="Marché subséquent",
                idAccordCadre="AC1", social=["Critère social"]),
        # a marché subséquent whose accord-cadre is not in the data: undetermined
        obliged("SUB9", "2026-11-02", amount=250_000, nature="Marché subséquent",
                idAccordCadre="AC9"),
        # nothing declared: subject, compliance unknown
        obliged("SILENT", "2026-11-02", amount=250_000, environmental=["NC"], social=["NC"]),
        # without competition, the award criterion is not asked: the clause suffices
        obliged("DIRECT", "2026-11-02", amount=50_000, environmental=clause_only,
                procedure="Marché passé sans publicité ni mise en concurrence préalable"),
        # a procedure whose launch range (30-60 days) straddles the entry date
        obliged("MAPA", "2026-10-01", amount=50_000, procedure="Procédure adaptée"),
    ]  # fmt: skip
    concession = {
        "id": "K1",
        "autoriteConcedante": {"id": COMMUNE},
        "nature": "Concession de service",
        "objet": "Restauration scolaire",
        "procedure": "Procédure négociée ouverte",
        "dateSignature": "2026-10-01",
        "datePublicationDonnees": "2026-10-05",
        "valeurGlobale": 9_000_000,
        "dureeMois": 60,
        "considerationsSociales": {"considerationSociale": ["Pas de considération sociale"]},
        "considerationsEnvironnementales": {
            "considerationEnvironnementale": ["Critère environnemental"]
        },
    }
    write_decp_2022(pnad_paths.raw / "feed" / "day1.json", marches, [concession])
    build_warehouse(pnad_paths)
    return pnad_paths


def rows(paths, sql: str, params: dict | None = None) -> list[tuple]:
    with duckdb.connect(str(paths.work_db), read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def states(paths) -> dict[str, tuple]:
    found = rows(
        paths,
        "select contract_id, environmental_obligation, environmental_obligation_reason, "
        "environmental_obligation_certainty, environmental_compliance, social_obligation, "
        "social_obligation_reason, social_obligation_certainty, social_compliance "
        "from contract_obligations",
    )
    return {row[0]: row[1:] for row in found}


def test_each_rule_at_its_edges(obligations):
    found = states(obligations)
    assert found["DAY_BEFORE"] == (
        "not_subject", "launched_before", "estimated", "compliant",
        "not_subject", "launched_before", "estimated", "non_compliant",
    )  # fmt: skip
    assert found["DAY_OF"] == (
        "subject", "launched_after", "estimated", "compliant",
        "subject", "launched_after", "estimated", "compliant",
    )  # fmt: skip
    # 215 999 EUR: below the threshold, whatever the dates (certain); the environmental
    # obligation still applies and a clause without an award criterion does not meet it
    assert found["BELOW"][4:7] == ("not_subject", "below_threshold", "certain")
    assert found["BELOW"][:4] == ("subject", "launched_after", "estimated", "non_compliant")
    assert found["EARLY"][:3] == ("not_subject", "launched_before", "certain")
    assert found["EARLY"][4:7] == ("not_subject", "launched_before", "certain")
    assert found["DEFENCE"][:3] == ("not_subject", "excluded_nature", "certain")
    assert found["DEFENCE"][4:7] == ("not_subject", "excluded_nature", "certain")
    assert found["K1"][:4] == ("subject", "launched_after", "estimated", "non_compliant")
    assert found["K1"][4:7] == ("not_subject", "kind_not_covered", "certain")
    assert found["DIRECT"][:4] == ("subject", "launched_after", "estimated", "compliant")


def test_three_states_and_never_a_silent_guess(obligations):
    found = states(obligations)
    assert found["EPCI"][4:7] == ("undetermined", "threshold_depends_on_buyer_type", None)
    assert found["EPCI"][0] == "subject"
    # the accord-cadre's consultation was launched before 21 August 2026: not subject
    assert found["SUB1"][0:2] == ("not_subject", "launched_before")
    assert found["SUB1"][4:6] == ("not_subject", "launched_before")
    assert found["SUB9"][0:3] == ("undetermined", "framework_missing", None)
    assert found["MAPA"][0:3] == ("undetermined", "launch_date_uncertain", None)
    assert found["SILENT"][3] == "unknown" and found["SILENT"][7] == "unknown"
    assert set(found["SILENT"][0::4]) == {"subject"}
    governing = rows(
        obligations,
        "select governing_date_source, governing_date::varchar, governing_amount "
        "from contract_obligations where contract_id = 'SUB1'",
    )
    assert governing == [("accord_cadre", "2026-07-01", 2_000_000.0)]


def test_obligations_are_computed_again_only_for_the_contracts_a_change_touches(
    obligations, monkeypatch
):
    """Issue 18: a new file changing AC1 (an accord-cadre) computes again AC1, its subséquent
    SUB1 (whose threshold it decides) and the new contract, not the others; the table equals one
    computed whole."""
    before = states(obligations)
    write_decp_2022(
        obligations.raw / "feed" / "day2.json",
        [
            obliged("AC1", "2026-07-01", amount=100_000, nature="Accord-cadre",
                    published="2026-07-05"),
            obliged("NEW1", "2026-11-03", amount=50_000, procedure="Procédure adaptée"),
        ],
    )  # fmt: skip
    computed = []
    real_run_sql = obligation_rules.run_sql

    def spy(con, name, params=None):
        if name == "indicators/contract_obligations":
            all_contracts = params["all_contracts"]
            scope = "select uid from obligation_uids_to_compute"
            computed.append(None if all_contracts else sorted(con.execute(scope).fetchall()))
        return real_run_sql(con, name, params)

    monkeypatch.setattr(obligation_rules, "run_sql", spy)
    monkeypatch.setattr(obligation_rules, "INCREMENT_MAX_SHARE", 0.5)
    build_warehouse(obligations)
    touched = rows(
        obligations,
        "select uid from contracts where contract_id in ('AC1', 'SUB1', 'NEW1') order by uid",
    )
    assert computed == [touched]
    after = states(obligations)
    # its accord-cadre's amount is now below the EU threshold, so is the subséquent's
    assert after["SUB1"][4:7] == ("not_subject", "below_threshold", "certain")
    assert before["SUB1"][4:7] == ("not_subject", "launched_before", "estimated")
    unchanged = {k: v for k, v in before.items() if k not in ("AC1", "SUB1")}
    assert {k: v for k, v in after.items() if k not in ("AC1", "SUB1", "NEW1")} == unchanged
    with warehouse.connect(obligations) as con:
        table = "select * from contract_obligations"
        updated = sorted(map(repr, con.execute(table).fetchall()))
        con.execute("delete from build_state where step = 'contract_obligations_basis'")
        obligation_rules.build_contract_obligations(con, load_consultation_lags(obligations))
        assert con.execute("select whole, computed from obligation_build").fetchone() == (
            True,
            None,
        )
        assert sorted(map(repr, con.execute(table).fetchall())) == updated
    assert computed[-1] is None


def test_compliance_shares_keep_the_undetermined_beside(obligations):
    national = rows(
        obligations,
        "select obligation, contracts, subject, undetermined, compliant, non_compliant, "
        "compliance_unknown, compliance_share from obligation_compliance "
        "where level = 'national' and dimension = 'total' and month is null order by obligation",
    )
    # notified from 21 August 2026: all but EARLY and AC1 (11 marchés + the concession)
    # environmental subject: DAY_OF, BELOW, EPCI, SILENT, DIRECT, K1 (6); compliant: DAY_OF,
    # EPCI, DIRECT; undetermined: SUB9, MAPA
    # social subject: DAY_OF, SILENT; undetermined: EPCI, SUB9 (MAPA is below the threshold)
    assert national == [
        ("environmental", 11, 6, 2, 3, 2, 1, 0.5),
        ("social", 11, 2, 2, 1, 0, 1, 0.5),
    ]
    listed = rows(
        obligations,
        "select obligation, uid, compliance, missing from obligation_noncompliant "
        "order by obligation, uid",
    )
    assert listed == [
        ("environmental", COMMUNE + "BELOW", "non_compliant", ["critere_attribution"]),
        ("environmental", COMMUNE + "K1", "non_compliant", ["condition_execution"]),
        ("environmental", COMMUNE + "SILENT", "unknown", ["condition_execution",
                                                          "critere_attribution"]),
        ("social", COMMUNE + "SILENT", "unknown", ["condition_execution"]),
    ]  # fmt: skip
    by_category = rows(
        obligations,
        "select category, subject, undetermined from obligation_compliance where "
        "level = 'national' and dimension = 'buyer_category' and obligation = 'social' "
        "order by category",
    )
    assert by_category == [("commune", 2, 1), ("etat", 0, 0), ("intercommunalite", 0, 1)]


def test_lag_settings_are_checked_in_french(pnad_paths):
    (pnad_paths.home / "obligations.toml").write_text(
        "[consultation_lag]\ndefault_days = [60, 30]\n", encoding="utf-8"
    )
    with pytest.raises(SettingsError, match="consultation_lag.default_days : doit être"):
        load_consultation_lags(pnad_paths)
    shipped = load_consultation_lags(type(pnad_paths)(pnad_paths.home / "nothing-here"))
    assert shipped.by_procedure["Procédure adaptée"] == (15, 60)


# --- the PNAD 2022-2025 final balance ---------------------------------------------------------


@pytest.fixture
def balance(pnad_paths):
    social, env = ["Clause sociale"], ["Clause environnementale"]
    contracts = [
        # 2024: 4 contracts, 1 social (25 %), 2 environmental (50 %)
        marche("A24", notified="2024-03-01", published="2024-03-05", social=social,
               environmental=env),
        marche("B24", notified="2024-04-01", published="2024-04-05", environmental=env),
        marche("C24", notified="2024-05-01", published="2024-05-05"),
        marche("D24", notified="2024-06-01", published="2024-06-05"),
        # 2025: 5 contracts, 2 social (40 %: reached), 4 environmental (80 %: not reached), one
        # declaring nothing (completeness 80 %), one first published in April 2026, after the
        # figure became final (1 March 2026)
        marche("A25", notified="2025-03-01", published="2025-03-05", social=social,
               environmental=env),
        marche("B25", notified="2025-04-01", published="2025-04-05", social=social,
               environmental=env),
        marche("C25", notified="2025-05-01", published="2025-05-05", environmental=env),
        marche("D25", notified="2025-12-20", published="2026-04-01", environmental=env),
        marche("E25", notified="2025-06-01", published="2025-06-05", social=["NC"],
               environmental=["NC"]),
    ]  # fmt: skip
    write_decp_2022(pnad_paths.raw / "feed" / "day1.json", contracts)
    build_warehouse(pnad_paths)
    return pnad_paths


def test_final_balance_of_the_pnad(balance):
    found = rows(
        balance,
        "select contracts, social_share, social_target_reached, social_gap_points, "
        "social_progress_points, social_completeness, environmental_share, "
        "environmental_target_reached, environmental_gap_points, environmental_progress_points, "
        "final_from::varchar, is_provisional, published_after_final_from, "
        "latest_first_publication::varchar from pnad_final_balance where level = $level",
        {"level": "national"},
    )
    assert found == [
        (5, 0.4, True, -10.0, 15.0, 0.8, 0.8, False, 20.0, 30.0, "2026-03-01", False, 1,
         "2026-04-01"),
    ]  # fmt: skip
    # the same for the région and the département of the buyer
    territories = rows(
        balance,
        "select level, territory_code, contracts, social_share from pnad_final_balance "
        "where level <> 'national' order by level",
    )
    assert territories == [("departement", "74", 5, 0.4), ("region", "84", 5, 0.4)]


# --- buyers who stop publishing, late publications ---------------------------------------------


def test_silent_buyers_and_late_publications(pnad_paths):
    quiet_since_2025 = "22740001700015"  # the Haute-Savoie département
    quiet_since_2024 = "21690123100011"  # a commune of the Rhône
    contracts = [
        marche("Q1", buyer=quiet_since_2025, notified="2025-02-01", published="2025-02-10"),
        marche("Q2", buyer=quiet_since_2025, notified="2025-09-01", published="2025-09-03"),
        marche("R1", buyer=quiet_since_2024, notified="2024-05-01", published="2024-05-02",
               place=("69001", "Code postal")),
        # still publishing: 2024 and this year; one contract published 70 days late
        marche("C1", notified="2024-05-01", published="2024-05-02"),
        marche("C2", notified="2026-01-05", published="2026-03-16"),
        marche("C3", notified="2026-01-05", published="2026-01-10"),
    ]  # fmt: skip
    write_decp_2022(pnad_paths.raw / "feed" / "day1.json", contracts)
    build_warehouse(pnad_paths)
    silent = rows(
        pnad_paths,
        "select year, buyer_siret, contracts_previous_year, last_publication_date::varchar, "
        "buyer_departement_code from silent_buyers order by year",
    )
    assert silent == [
        (2025, quiet_since_2024, 1, "2024-05-02", "69"),
        (2026, quiet_since_2025, 2, "2025-09-03", "74"),
    ]
    delays = rows(
        pnad_paths,
        "select buyer_siret, year, contracts, published_late, late_share, max_delay_days "
        "from buyer_publication_delays where buyer_siret = $b order by year",
        {"b": COMMUNE},
    )
    assert delays == [(COMMUNE, 2024, 1, 0, 0.0, 1), (COMMUNE, 2026, 2, 1, 0.5, 70)]
    weaknesses = rows(
        pnad_paths,
        "select year, published_late, late_share, silent_buyers, "
        "silent_buyers_previous_contracts from publication_weaknesses "
        "where level = 'region' and territory_code = '84' order by year",
    )
    # the Rhône commune is in région 84 too: silent in 2025
    assert weaknesses == [(2024, 0, 0.0, 0, 0), (2025, 0, 0.0, 1, 1), (2026, 1, 0.5, 1, 2)]


# --- the projection ----------------------------------------------------------------------------


def projection_fixture(con: duckdb.DuckDBPyConnection) -> None:
    """France: January to June 2026, 100 contracts a month, the social share 10 % + 2 points a
    month exactly, the environmental one 50 % every month; région 84: two months only."""
    con.execute(
        "create table pnad_shares_monthly as select make_date(2026, x, 1) as month, "
        "'national' as level, 'FR' as territory_code, 100 as contracts, 10 + 2 * x as social_yes, "
        "50 as environmental_yes from range(1, 7) as t(x) "
        "union all select make_date(2026, x, 1), 'region', '84', 50, 10, 10 from range(1, 3) as t(x)"
        " union all select make_date(2025, 12, 1), 'national', 'FR', 100, 90, 90"
    )
    con.execute("create table ref_regions as select '84' as region_code, 'ARA' as region_name")
    con.execute(
        "create table ref_departements as select '74' as departement_code, "
        "'Haute-Savoie' as departement_name"
    )


def test_projection_on_a_series_with_a_known_answer():
    con = duckdb.connect()
    projection_fixture(con)
    build_indicator(con, "pnad_share_projection", {"today": date(2026, 7, 15)})
    found = {
        (level, consideration): rest
        for level, consideration, *rest in con.execute(
            "select level, consideration, method, observed_months, remaining_months, "
            "observed_share, remaining_share, projected_share, projected_low, projected_high "
            "from pnad_share_projection"
        ).fetchall()
    }
    # the line is exact: the mean remaining month (9.5) has 10 + 2 x 9.5 = 29 %;
    # 102 of 600 observed + 29 % of 600 expected = 276 of 1 200 = 23 %, no residual: no margin
    method, months, remaining, observed, rest, projected, low, high = found[("national", "social")]
    assert (method, months, remaining) == ("linear_trend", 6, 6)
    assert observed == pytest.approx(0.17)
    assert rest == pytest.approx(0.29)
    assert projected == pytest.approx(0.23) and low == pytest.approx(0.23)
    assert high == pytest.approx(0.23)
    assert found[("national", "environmental")][5:] == pytest.approx([0.5, 0.5, 0.5])
    # two months: the observed 20 % carries on; binomial margin 1.645 x 1/2 x sqrt(.2 x .8 / 100)
    method, months, _, _, _, projected, low, high = found[("region", "social")]
    assert (method, months) == ("flat", 2)
    assert projected == pytest.approx(0.2)
    assert high - projected == pytest.approx(1.645 * 0.5 * 0.04)
    assert projected - low == pytest.approx(1.645 * 0.5 * 0.04)


# --- what a coordinator reads ------------------------------------------------------------------


def test_territory_page_and_report_show_the_obligations(obligations):
    from pipelines.common import warehouse
    from pipelines.publishing import dashboard
    from pipelines.publishing.database import publish_database
    from pipelines.publishing.regional_report import ReportRequest, write_report

    with warehouse.connect(obligations) as con:
        dashboard.write_site(con, obligations)
        publish_database(con, obligations, run_id="t")
    page = (obligations.reports / "regions" / "84.html").read_text(encoding="utf-8")
    for expected in (
        "Bilan PNAD 2022-2025",
        "Obligations en vigueur depuis le 21 août 2026",
        "Contrats soumis qui ne montrent pas qu'ils remplissent l'obligation (4)",
        "Travaux BELOW",
        "critère d'attribution",
        "rien de déclaré",
        "Ce qui affaiblit les parts",
    ):
        assert expected in page, expected
    # the environmental row: 11 notified, 6 subject, 3 compliant (50,0 %), 5 of 6 declared,
    # 2 undetermined, 3 not subject
    row = page.split('id="table-obligations"')[1].split("</tr>")[1]
    cells = [c.split(">")[-1] for c in row.split("</td>")[:-1]]
    assert cells[1:] == ["11", "6", "3", "50,0\u202f%", "83,3\u202f%", "2", "3"]
    report = write_report(obligations, ReportRequest("region", "84", date(2026, 11, 1)))
    text = report["html"].read_text(encoding="utf-8")
    assert "Obligations en vigueur depuis le 21 août 2026" in text and "Travaux BELOW" in text
    assert "Bilan PNAD 2022-2025" in text
    # the current year marked as everywhere else: a badge, not words in brackets
    for html in (page, text):
        assert '<td class="text">2026 <span class="badge">provisoire</span></td>' in html
        assert "(provisoire)</td>" not in html  # (the charts' descriptions keep the words)


def test_projection_chart_is_hollow_labelled_and_described():
    from pipelines.publishing.svg_projection import projection_svg

    row = {
        "consideration": "social",
        "observed_share": 0.17,
        "projected_share": 0.23,
        "projected_low": 0.21,
        "projected_high": 0.25,
    }
    svg = str(projection_svg([row], "France : trajectoire <2026>", "chart-projection"))
    assert 'role="img"' in svg and "France : trajectoire &lt;2026&gt;" in svg
    description = svg.split('<desc id="chart-projection-desc">')[1].split("</desc>")[0]
    assert description.startswith("Projection, pas une observation")
    assert (
        "projection au 31 décembre 23,0\u202f% (intervalle à 90 % de 21,0\u202f% à 25,0\u202f%)"
        in (description)
    )
    # the observed point is filled, the projection hollow (white fill), each with its label
    assert svg.count('fill="#ffffff" stroke="#b5476b"') >= 2  # legend sample + the projection
    assert "observé 17,0\u202f%" in svg and "projection 23,0\u202f%" in svg


# --- the demo's calendar: monthly provisional flags and facilitator hours -----------------------


def test_the_last_three_complete_months_are_provisional(pnad_paths):
    today = date.today()
    first = today.replace(day=1)

    def months_back(n: int) -> str:
        total = first.year * 12 + first.month - 1 - n
        return date(total // 12, total % 12 + 1, 15).isoformat()

    write_decp_2022(
        pnad_paths.raw / "feed" / "day1.json",
        [marche(f"M{n}", notified=months_back(n), published=months_back(n)) for n in (1, 3, 4)],
    )
    build_warehouse(pnad_paths)
    flags = rows(
        pnad_paths,
        "select is_provisional from pnad_shares_monthly where level = 'national' order by month",
    )
    assert flags == [(False,), (True,), (True,)]


def test_demo_hours_never_exceed_full_time_over_the_days_worked():
    import random

    from pipelines.demo.facilitator_exports import (
        FULL_TIME_HOURS_PER_YEAR,
        Marche,
        _add_participants,
    )

    today = date(2026, 7, 1)  # a year half covered: contracts cut at 30 June
    marche_ = Marche("F", "R1", None, COMMUNE, "Commune", "74", "Travaux", "travaux",
                     date(2026, 3, 1), 5e6, 20_000)  # fmt: skip
    _add_participants(marche_, random.Random(3), today)
    assert marche_.participants
    for p in marche_.participants:
        days = (p["end"] - p["start"]).days + 1
        assert p["end"] < today
        assert p["hours"] <= FULL_TIME_HOURS_PER_YEAR * days / 365 + 0.5


def test_the_checks_the_assets_will_run_pass_on_a_consistent_build(obligations):
    from pipelines.common import warehouse
    from pipelines.common.sql import run_sql

    with warehouse.connect(obligations) as con:
        assert run_sql(con, "indicators/checks/obligations_add_up").fetchall() == []
        assert run_sql(con, "indicators/checks/projection_within_bounds").fetchall() == []
        # a contract lost from contract_obligations is caught
        con.execute("delete from contract_obligations where contract_id = 'MAPA'")
        problems = run_sql(con, "indicators/checks/obligations_add_up").fetchall()
    assert problems[0][0] == "contract_obligations rows <> contracts in scope"
