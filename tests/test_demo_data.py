"""Tests of the deterministic, streaming DECP demo generator (pipelines.demo.generator)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tracemalloc
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.demo.buyers import demo_buyers
from pipelines.demo.draws import luhn_ok
from pipelines.demo.generator import (
    MANIFEST_NAME,
    SHAPES,
    generate_demo,
    last_complete_month_end,
    main,
)
from pipelines.demo.places import REFERENCE_DIR
from pipelines.demo.vocabulary import ENVIRONMENTAL_POSITIVE, SOCIAL_POSITIVE, TEST_BUYER_SIRET

DAILY_NAME = re.compile(r"decp-2022_\d{4}-\d{2}-\d{2}\.json")


def _digests(result) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in result.files}


def _read_daily(result) -> list[tuple[str, str, dict]]:
    """(file name, "marche" | "contrat-concession", record) for every record of a daily run."""
    out = []
    for path in result.files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for kind in ("marche", "contrat-concession"):
            out.extend((path.name, kind, rec) for rec in data["marches"][kind])
    return out


def _buyer_id(rec: dict) -> str:
    return (rec.get("acheteur") or rec["autoriteConcedante"])["id"]


def _departements() -> set[str]:
    with open(REFERENCE_DIR / "departements.csv", encoding="utf-8", newline="") as handle:
        return {r["departement_code"] for r in csv.DictReader(handle) if r["kind"] == "departement"}


# The calendar of the runs below, fixed: the demo's default follows the real date.
CALENDAR = {"end": date(2026, 11, 30), "today": date(2026, 12, 6)}


@pytest.fixture(scope="module")
def big_run(tmp_path_factory):
    result = generate_demo(tmp_path_factory.mktemp("big"), 20_000, 42, fault_rate=0.0, **CALENDAR)
    return result, _read_daily(result)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    result = generate_demo(tmp_path_factory.mktemp("small"), 2_000, 42, fault_rate=0.0, **CALENDAR)
    return result, _read_daily(result)


def test_same_arguments_give_identical_bytes(tmp_path, small_run):
    first, _ = small_run
    reference = _digests(first)
    again = generate_demo(tmp_path / "again", 2_000, 42, fault_rate=0.0, **CALENDAR)
    assert _digests(again) == reference
    assert (tmp_path / "again" / MANIFEST_NAME).read_bytes() == (
        first.out_dir / MANIFEST_NAME
    ).read_bytes()
    other = _digests(generate_demo(tmp_path / "other", 2_000, 43, fault_rate=0.0, **CALENDAR))
    common = set(other) & set(reference)
    assert sum(other[n] != reference[n] for n in common) > 0.9 * len(common)


def test_daily_files_and_counts(small_run):
    result, records = small_run
    assert result.files == sorted(result.files)
    assert all(DAILY_NAME.fullmatch(p.name) for p in result.files)
    assert not any(p.name == MANIFEST_NAME for p in result.files)
    uids = {(_buyer_id(r), r["id"]) for _, _, r in records if _buyer_id(r) != TEST_BUYER_SIRET}
    assert len(uids) == result.contracts == 2_000
    assert result.records == len(records)
    assert result.records == result.contracts + result.republications + result.test_records
    assert result.test_records == 1 and result.faulty_records == 0
    manifest = json.loads((result.out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["result"]["records"] == result.records
    assert manifest["arguments"]["size"] == 2_000


def test_consideration_shares_on_target(big_run):
    _, records = big_run
    contracts = {}
    for _, _, rec in records:
        if _buyer_id(rec) != TEST_BUYER_SIRET:
            contracts.setdefault((_buyer_id(rec), rec["id"]), rec)
    counts = defaultdict(lambda: [0, 0, 0])
    for rec in contracts.values():
        year = (rec.get("dateNotification") or rec["dateSignature"])[:4]
        social = rec["considerationsSociales"]["considerationSociale"]
        environmental = rec["considerationsEnvironnementales"]["considerationEnvironnementale"]
        counts[year][0] += 1
        counts[year][1] += any(v in SOCIAL_POSITIVE for v in social)
        counts[year][2] += any(v in ENVIRONMENTAL_POSITIVE for v in environmental)
    assert set(counts) == {"2024", "2025", "2026"}
    share = {y: (s / n, e / n) for y, (n, s, e) in counts.items()}
    assert share["2024"][0] == pytest.approx(0.14, abs=0.015)
    assert share["2024"][1] == pytest.approx(0.18, abs=0.015)
    assert share["2026"][0] > share["2024"][0] + 0.03
    assert share["2026"][1] > share["2024"][1] + 0.04


@pytest.mark.parametrize("run", ["small_run", "big_run"])
def test_every_departement_has_buyers_with_contracts(run, request):
    result, records = request.getfixturevalue(run)
    size = result.contracts
    where = {b.siret: b.departement_code for b in demo_buyers(size, 42)}
    seen = {where[_buyer_id(r)] for _, _, r in records if _buyer_id(r) != TEST_BUYER_SIRET}
    assert _departements() <= seen
    assert {b.departement_code for b in demo_buyers(size, 42)} == _departements()


def test_buyer_sirets_and_siren_prefixes(big_run):
    _, records = big_run
    ids = {_buyer_id(r) for _, _, r in records}
    assert all(len(s) == 14 and luhn_ok(s) and luhn_ok(s[:9]) for s in ids)
    for buyer in demo_buyers(20_000, 42):
        dept = "20" if buyer.departement_code in ("2A", "2B") else buyer.departement_code
        if buyer.kind == "commune":
            assert buyer.siret[:2] == "21" and buyer.siret[2:4] == dept[:2]
        elif buyer.kind in ("departement", "epci", "syndicat", "hopital", "etablissement_local"):
            assert buyer.siret[2 : 2 + len(dept)] == dept
        elif buyer.kind == "etat":
            assert buyer.siret.startswith("1")


def test_faults_and_single_test_record(tmp_path):
    result = generate_demo(tmp_path, 2_000, 42, fault_rate=0.2)
    records = _read_daily(result)
    ids = [_buyer_id(r) for _, _, r in records]
    assert ids.count(TEST_BUYER_SIRET) == 1 and result.test_records == 1
    assert any(not luhn_ok(s) for s in ids)
    assert result.faulty_records == pytest.approx(0.2 * (result.records - 1), rel=0.15)
    text = "".join(p.read_text(encoding="utf-8") for p in result.files)
    for sample in ('"montant":"', "+01:00", "Procedure adaptee", '"NC"', "CODE POSTAL"):
        assert sample in text, sample
    test = next(r for _, _, r in records if _buyer_id(r) == TEST_BUYER_SIRET)
    assert "Testville" in test["objet"] and test["montant"] == 0


def test_republications_modifications_concessions(big_run):
    result, records = big_run
    published = defaultdict(set)
    for name, _, rec in records:
        published[(_buyer_id(rec), rec["id"])].add((name, rec["datePublicationDonnees"]))
    republished = [v for v in published.values() if len({n for n, _ in v}) > 1]
    assert len(republished) > 0.05 * result.contracts
    assert any(len({d for _, d in v}) > 1 for v in republished)
    assert result.republications == result.records - result.contracts - result.test_records
    marches = [r for _, k, r in records if k == "marche"]
    concessions = [r for _, k, r in records if k == "contrat-concession"]
    with_mods = [r for r in marches if r.get("modifications")]
    assert 0.05 * len(marches) < len(with_mods) < 0.2 * len(marches)
    mod = with_mods[0]["modifications"][0]["modification"]
    assert mod["id"] == 1 and mod["dateNotificationModification"] > with_mods[0]["dateNotification"]
    assert 0.01 * len(records) < len(concessions) < 0.04 * len(records)
    assert all("lieuExecution" not in c and "dateSignature" in c for c in concessions)
    multi = [r for r in marches if len(r["considerationsSociales"]["considerationSociale"]) > 1]
    assert multi and any(
        len(r["considerationsEnvironnementales"]["considerationEnvironnementale"]) > 1
        for r in marches
    )
    assert {r["lieuExecution"]["typeCode"] for r in marches} >= {
        "Code postal",
        "Code département",
        "Code commune",
        "Code région",
        "Code pays",
    }
    cpv_types = defaultdict(int)
    for r in marches:
        div = int(r["codeCPV"][:2])
        cpv_types["T" if div == 45 else "F" if div <= 44 or div == 48 else "S"] += 1
    assert cpv_types["T"] / len(marches) == pytest.approx(0.35, abs=0.03)
    assert cpv_types["S"] / len(marches) == pytest.approx(0.40, abs=0.03)


def _distinct_contracts(shape: str, result) -> tuple[set, int]:
    """(distinct uids without the test buyer, number of records) read back from the files."""
    uids, n = set(), 0
    for path in result.files:
        if shape == "decp_processing_parquet":
            table = pq.read_table(path, columns=["uid", "acheteur_id", "donneesActuelles"])
            rows = table.to_pylist()
            uids |= {r["uid"] for r in rows if r["acheteur_id"] != TEST_BUYER_SIRET}
            n += len({r["uid"] for r in rows})
        elif shape == "decp2022_xml":
            root = ET.parse(path).getroot()
            for el in root:
                buyer = (
                    el.find("acheteur/id")
                    if el.tag == "marche"
                    else el.find("autoriteConcedante/id")
                )
                n += 1
                if buyer.text != TEST_BUYER_SIRET:
                    uids.add((buyer.text, el.find("id").text))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
            items = data["marches"]
            if isinstance(items, dict):
                items = items["marche"] + items["contrat-concession"]
            for rec in items:
                n += 1
                if _buyer_id(rec) != TEST_BUYER_SIRET:
                    uids.add((_buyer_id(rec), rec["id"]))
    return uids, n


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_parses(shape, tmp_path):
    result = generate_demo(tmp_path, 1_000, 3, shape=shape, fault_rate=0.0)
    uids, n = _distinct_contracts(shape, result)
    assert len(uids) == result.contracts
    assert n == result.records
    assert result.test_records == 1
    if shape == "decp_processing_parquet":
        assert 0.95 * 1_000 < result.contracts < 1_000  # concessions are not in decp.parquet
        table = pq.read_table(result.files[0])
        social = set(table.column("considerationsSociales").to_pylist())
        assert "Sans objet" in social and any(s and ", " in s for s in social)
    else:
        assert result.contracts == 1_000
    if shape == "decp2019_json":
        data = json.loads(result.files[0].read_text(encoding="utf-8"))
        rec = data["marches"][0]
        assert rec["_type"] in ("Marché", "Contrat de concession")
        assert "nom" in (rec.get("acheteur") or rec["autoriteConcedante"])
        assert not any(k.startswith("considerations") for r in data["marches"] for k in r)
    if shape == "decp2022_flat_json":
        data = json.loads(result.files[0].read_text(encoding="utf-8"))
        assert all(isinstance(r["considerationsSociales"], list) for r in data["marches"])
    if shape == "decp2022_xml":
        text = "".join(p.read_text(encoding="utf-8") for p in result.files)
        assert "</considerationSociale><considerationSociale>" in text
        assert "&amp;" in text


def test_memory_does_not_grow_with_size(tmp_path):
    # tracemalloc makes allocation-heavy code ~10x slower: 1 000 vs 10 000 keeps this test short
    # while still spanning a factor of 10 in size.
    peaks = []
    for size in (1_000, 10_000):
        tracemalloc.start()
        try:
            generate_demo(tmp_path / str(size), size, 5)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] < 2 * peaks[0], peaks


def test_invalid_arguments(tmp_path):
    for size in (99, 3_000_001, 0):
        with pytest.raises(ValueError, match="comprise entre 100 et 3\u202f000\u202f000"):
            generate_demo(tmp_path, size)
    with pytest.raises(ValueError) as info:
        generate_demo(tmp_path, 1_000, shape="decp2023")
    assert all(shape in str(info.value) for shape in SHAPES)
    assert not any(Path(tmp_path).iterdir())


def test_rerun_replaces_only_previous_demo_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not ours", encoding="utf-8")
    generate_demo(tmp_path, 1_000, 1)
    result = generate_demo(tmp_path, 100, 1, shape="decp2019_json")
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {p.name for p in result.files} | {MANIFEST_NAME, "notes.txt"}


def test_command_line(tmp_path, capsys):
    assert main([str(tmp_path), "--size", "100", "--seed", "9", "--shape", "decp2022_xml"]) == 0
    assert "100 contrats, " in capsys.readouterr().out
    assert all(p.suffix == ".xml" for p in tmp_path.iterdir() if p.name != MANIFEST_NAME)


# --- the calendar follows today ------------------------------------------------------------------


def test_default_calendar_ends_with_the_last_complete_month_and_publishes_nothing_later(tmp_path):
    today = date.today()
    result = generate_demo(tmp_path, 2_000, 42, fault_rate=0.0)
    records = _read_daily(result)
    notified = [(r.get("dateNotification") or r["dateSignature"])[:10] for _, _, r in records]
    assert max(notified) <= last_complete_month_end(today).isoformat()
    assert max(notified) >= (last_complete_month_end(today) - timedelta(days=10)).isoformat()
    # no file, publication, modification or republication dated after today
    assert max(p.name[10:20] for p in result.files) <= today.isoformat()
    for _, _, rec in records:
        assert rec["datePublicationDonnees"][:10] <= today.isoformat()
        for modification in rec.get("modifications", []):
            published = modification["modification"]["datePublicationDonneesModification"]
            assert published[:10] <= today.isoformat()
    manifest = json.loads((result.out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["arguments"]["today"] == today.isoformat()


def test_last_complete_month_end():
    assert last_complete_month_end(date(2026, 12, 6)) == date(2026, 11, 30)
    assert last_complete_month_end(date(2027, 1, 1)) == date(2026, 12, 31)
    assert last_complete_month_end(date(2028, 3, 31)) == date(2028, 2, 29)


def test_obligations_raise_the_environmental_share_and_leave_some_contracts_without(big_run):
    """Consultations launched from 21 August 2026 mostly carry an environmental consideration
    (both kinds, mostly): the demo's contracts notified well after that date do; not all."""
    _, records = big_run
    late, before = [], []
    for _, _, rec in records:
        if _buyer_id(rec) == TEST_BUYER_SIRET:
            continue
        notified = (rec.get("dateNotification") or rec["dateSignature"])[:10]
        if notified >= "2026-11-01" and rec.get("procedure") == "Procédure adaptée":
            late.append(rec)
        elif "2026-01-01" <= notified < "2026-06-01":
            before.append(rec)

    def share(recs, values=ENVIRONMENTAL_POSITIVE):
        found = [
            any(
                v in values
                for v in r["considerationsEnvironnementales"]["considerationEnvironnementale"]
            )
            for r in recs
        ]
        return sum(found) / len(found)

    assert share(before) < 0.4
    assert 0.75 < share(late) < 0.97  # the law raised it; a list of non-compliant ones remains
    both = [
        r for r in late
        if {"Clause environnementale", "Critère environnemental"}
        <= set(r["considerationsEnvironnementales"]["considerationEnvironnementale"])
    ]  # fmt: skip
    assert len(both) > 0.6 * len(late)
