"""The SQL macros on exact values: list shapes, SIRET checks, spelling keys, territory rules."""

from __future__ import annotations

import random

import duckdb
import pytest
from stdnum import luhn as stdnum_luhn
from stdnum.fr import siret as stdnum_siret

from pipelines.common.sql import run_sql
from pipelines.common.warehouse import MACROS
from pipelines.reference import sirene


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    for macro in MACROS:
        run_sql(connection, macro)
    yield connection
    connection.close()


def value(con, sql: str, params: dict | None = None):
    return con.execute(f"select {sql}", params or {}).fetchone()[0]  # noqa: S608 - test literals


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            '{"considerationSociale": ["Clause sociale", "Critère social"]}',
            ["Clause sociale", "Critère social"],
        ),
        (
            '{"considerationSociale": "Clause sociale"}',
            ["Clause sociale"],
        ),  # single value, XML-converted
        ('["Clause sociale"]', ["Clause sociale"]),  # 2.0.0 flat draft
        ("[]", []),
        ('{"considerationSociale": []}', []),
        ("{}", []),
        ('[{"considerationSociale": "Marché réservé"}]', ["Marché réservé"]),
    ],
)
def test_decp_list_reads_every_list_shape(con, document, expected):
    assert (
        value(con, "decp_list($doc::json, 'considerationSociale')", {"doc": document}) == expected
    )


def test_decp_list_of_missing_field_is_null(con):
    assert value(con, "decp_list(null, 'considerationSociale')") is None


@pytest.mark.parametrize(
    ("siret", "valid"),
    [
        ("28741020300015", True),  # real buyer SIRET
        ("28741020300016", False),  # wrong check digit
        ("2874102030001", False),  # 13 characters
        ("287410203 00015", False),  # embedded space
        ("35600000000048", True),  # La Poste's head office: the Luhn check
        ("35600000049837", True),  # a La Poste establishment: digits add up to 45
        ("35600000000055", False),  # La Poste's SIREN, digits add up to 24: no longer accepted
        ("12345678100012", False),  # the SIRET passes Luhn, its SIREN does not
        (None, False),
    ],
)
def test_siret_is_valid(con, siret, valid):
    assert value(con, "siret_is_valid($s)", {"s": siret}) is valid
    assert sirene.siret_is_valid(siret) is valid  # the Python twin that filters SIRENE queries


def generated_sirets(count: int) -> list[str]:
    """Numbers of every kind the check must tell apart: random digits, La Poste's SIREN with
    random establishment numbers, SIRETs made Luhn-valid (with Luhn-valid SIRENs or not), and
    near misses (a wrong length, a letter)."""
    draw = random.Random(20250115)
    numbers = []
    for index in range(count):
        digits = "".join(draw.choice("0123456789") for _ in range(14))
        kind = index % 5
        if kind == 1:
            digits = "356000000" + digits[9:]
        elif kind in (2, 3):
            body = digits[:13]
            digits = next(body + d for d in "0123456789" if stdnum_luhn.is_valid(body + d))
            if kind == 3:  # a Luhn-valid SIREN too
                siren = next(
                    digits[:8] + d for d in "0123456789" if stdnum_luhn.is_valid(digits[:8] + d)
                )
                digits = next(
                    siren + digits[9:13] + d
                    for d in "0123456789"
                    if stdnum_luhn.is_valid(siren + digits[9:13] + d)
                )
        elif kind == 4:
            digits = draw.choice([digits[:13], digits + "0", digits[:6] + "A" + digits[7:]])
        numbers.append(digits)
    return numbers


def test_siret_check_agrees_with_python_stdnum_on_generated_numbers(con):
    numbers = generated_sirets(20_000)
    checked = dict(
        con.execute(
            "select n, siret_is_valid(n) from unnest($numbers::varchar[]) as t(n)",
            {"numbers": numbers},
        ).fetchall()
    )
    expected = {n: stdnum_siret.is_valid(n) for n in numbers}
    assert checked == expected
    assert {n: sirene.siret_is_valid(n) for n in numbers} == expected
    # the sample covers both outcomes of every branch, La Poste's included
    la_poste = [n for n in numbers if n.startswith("356000000") and len(n) == 14]
    assert 500 < sum(expected[n] for n in la_poste) < len(la_poste) - 500
    assert 3000 < sum(expected.values()) < len(numbers) - 3000


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Critère social ", "critere social"),
        ("CRITERE SOCIAL", "critere social"),
        ("Appel d’offres ouvert", "appel d'offres ouvert"),
        ("Marché réservé", "marche reserve"),
    ],
)
def test_spelling_key(con, raw, key):
    assert value(con, "spelling_key($v)", {"v": raw}) == key


@pytest.mark.parametrize(
    ("siret", "departement"),
    [
        ("21740056300011", "74"),  # commune of Haute-Savoie (INSEE 74056)
        ("21972209700016", "972"),  # commune of Martinique: three digits
        ("21971120900015", None),  # 21971: Guadeloupe, Saint-Barthélemy or Saint-Martin
        ("21200004000017", None),  # Corsica: 2A or 2B cannot be told from the number
        ("22740001700015", "74"),  # département
        ("28741020300015", "74"),  # local public establishment
        ("22974001500018", "974"),  # La Réunion
        ("22980001000018", None),  # 2298: Mayotte or TAAF
        ("20004107700011", None),  # created after 2000: SIRENE decides
        ("13001845000028", None),  # State body
        ("abc", None),
    ],
)
def test_siren_departement_code(con, siret, departement):
    assert value(con, "siren_departement_code($s)", {"s": siret}) == departement


@pytest.mark.parametrize(
    ("code", "type_code", "departement"),
    [
        ("74960", "Code postal", "74"),
        ("20000", "Code postal", "2A"),  # Ajaccio
        ("20200", "Code postal", "2B"),  # Bastia
        ("97400", "Code postal", "974"),
        ("74056", "Code commune", "74"),
        ("2B033", "Code commune", "2B"),
        ("97209", "Code commune", "972"),
        ("93", "Code département", "93"),
        ("5", "CODE DEPARTEMENT", "05"),
        ("974", "Code département", "974"),  # padded to two characters, never cut to 97
        ("2A", "Code département", "2A"),
        ("98714", "Code postal", "987"),  # Papeete: a collectivité's three digits, like 97x
        ("98735", "Code commune", "987"),
        ("84", "Code région", None),  # ambiguous: région 84 or département 84
        ("99134", "Code pays", None),
        ("(29) Finistère", "Code département", None),
    ],
)
def test_place_departement_code(con, code, type_code, departement):
    assert value(con, "place_departement_code($c, $t)", {"c": code, "t": type_code}) == departement


@pytest.mark.parametrize(
    ("code", "width", "padded"),
    [("5", 2, "05"), ("74", 2, "74"), ("974", 2, "974"), ("1000", 5, "01000"), ("", 2, "00")],
)
def test_zero_pad_pads_and_never_cuts(con, code, width, padded):
    assert value(con, "zero_pad($c, $w)", {"c": code, "w": width}) == padded
