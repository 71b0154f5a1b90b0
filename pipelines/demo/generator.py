"""Deterministic, streaming generator of synthetic DECP files, for demos, tests and load tests:
realistic marchés and concessions with the known defects of real files, in flat memory.

File naming per shape (all under ``out_dir``; days or months without records have no file):

* ``decp2022_json``: one file per publication day, ``decp-2022_YYYY-MM-DD.json``
* ``decp2022_flat_json``: one file per month, ``decp-2022-flat_YYYY-MM.json``
* ``decp2019_json``: one file per month, ``decp-2019_YYYY-MM.json``
* ``decp2022_xml``: one file per month, ``decp-2022_YYYY-MM.xml``
* ``decp_processing_parquet``: one file ``decp.parquet`` (marchés only, latest version of each
  contract, one row per contract x titulaire x modification as decp-processing does)

plus ``_demo_manifest.json`` (arguments and counts; not listed in ``DemoResult.files``).
"""

from __future__ import annotations

import gc
import heapq
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pipelines.common import french_argparse
from pipelines.common.formatting import number_fr
from pipelines.demo.buyers import MAX_SIZE, MIN_SIZE, check_size, contract_count
from pipelines.demo.faults import apply_fault, fix_titulaire_ids
from pipelines.demo.records import RecordBuilder
from pipelines.demo.writers.daily_2022 import Daily2022Sink
from pipelines.demo.writers.monthly_arrays import ArraySink, to_2019, to_flat
from pipelines.demo.writers.tabular_parquet import ParquetSink
from pipelines.demo.writers.xml_2022 import XmlSink

SHAPES = (
    "decp2022_json",
    "decp2022_flat_json",
    "decp2019_json",
    "decp2022_xml",
    "decp_processing_parquet",
)


MANIFEST_NAME = "_demo_manifest.json"


VARIANT_TEST = 9


@dataclass(frozen=True)
class DemoResult:
    """What ``generate_demo`` wrote.

    ``contracts`` counts distinct contracts (distinct acheteur.id + id), platform test records
    excluded; for the parquet shape it counts marchés only (concessions are not in decp.parquet).
    ``records`` counts records written: contracts + republications + test records (for parquet,
    one per contract version kept, i.e. contracts + test records; rows are more numerous).
    ``republications`` counts records of a contract already published earlier (0 for parquet).
    ``faulty_records`` counts written records that received one deliberate fault.
    """

    out_dir: Path
    files: list[Path]
    contracts: int
    records: int
    republications: int
    test_records: int
    faulty_records: int


def remove_previous_run(out_dir: Path) -> None:
    manifest = out_dir / MANIFEST_NAME
    if not manifest.is_file():
        return
    try:
        names = json.loads(manifest.read_text(encoding="utf-8"))["result"]["files"]
    except (ValueError, KeyError, TypeError):
        return
    for name in names:
        path = out_dir / name
        if path.parent == out_dir and path.is_file():
            path.unlink()


def generate_demo(
    out_dir: Path,
    size: int = 20_000,
    seed: int = 42,
    *,
    shape: str = "decp2022_json",
    fault_rate: float = 0.01,
    start: date = date(2024, 1, 1),
    end: date | None = None,
    today: date | None = None,
) -> DemoResult:
    """Write ``size`` synthetic DECP contracts (notified between ``start`` and ``end``) under
    ``out_dir`` in ``shape`` and return what was written.

    ``today`` (default: the real date) is the calendar's present: nothing is published after
    it. ``end`` defaults to the last day of the last complete month before ``today``. Same
    arguments (dates included) give byte-identical files. Files of a previous run listed in
    ``out_dir/_demo_manifest.json`` are removed first; other files are left alone.
    """
    today = today or date.today()
    end = end or last_complete_month_end(today)
    check_size(size)
    if shape not in SHAPES:
        raise ValueError(f"forme inconnue {shape!r} ; formes possibles : {', '.join(SHAPES)}")
    if not 0.0 <= fault_rate <= 1.0:
        raise ValueError(
            f"le taux de défauts doit être compris entre 0 et 1 (reçu : {number_fr(fault_rate, 2)})"
        )
    if end < start:
        raise ValueError(f"la fin ({end:%d/%m/%Y}) précède le début ({start:%d/%m/%Y})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_previous_run(out_dir)
    builder = RecordBuilder(size, seed, shape, fault_rate, start, end, today)
    run = _Run(builder, _writer(shape, out_dir))
    run.write_all(size)
    if shape == "decp_processing_parquet":
        # One consolidated version per contract: what was written is not a republication.
        contracts, republications = run.written - run.tests, 0
    else:
        contracts, republications = size, run.republications
    result = DemoResult(
        out_dir=out_dir,
        files=sorted(run.sink.files),
        contracts=contracts,
        records=run.written,
        republications=republications,
        test_records=run.tests,
        faulty_records=run.faulty,
    )
    arguments = {"size": size, "seed": seed, "shape": shape, "fault_rate": fault_rate}
    dates = {"start": start.isoformat(), "end": end.isoformat(), "today": today.isoformat()}
    _write_manifest(result, {**arguments, **dates})
    return result


def last_complete_month_end(today: date) -> date:
    """The last day of the month before ``today``'s: the demo's notifications stop there."""
    return today.replace(day=1) - timedelta(days=1)


def _writer(shape: str, out_dir: Path):
    """The writer of one output shape."""
    if shape == "decp2022_json":
        return Daily2022Sink(out_dir)
    if shape == "decp2022_flat_json":
        return ArraySink(out_dir, "decp-2022-flat", to_flat)
    if shape == "decp2019_json":
        return ArraySink(out_dir, "decp-2019", to_2019)
    if shape == "decp2022_xml":
        return XmlSink(out_dir)
    return ParquetSink(out_dir)


class _Run:
    """One run: records ordered by publication day, built when due, written at once; counts."""

    def __init__(self, gen: RecordBuilder, sink) -> None:
        self.gen, self.sink = gen, sink
        self.written = self.republications = self.faulty = self.tests = 0

    def write_all(self, size: int) -> None:
        gen = self.gen
        # (publication day, contract index, variant, sequence number, plan): the plan rides
        # along so that popping does not recompute it; the heap only spans the publication
        # window.
        heap: list[tuple] = []
        if size >= 1000:
            test_day = gen.plan(size // 2)[0] + 3
            heapq.heappush(heap, (test_day, size, VARIANT_TEST, 0, None))
        # Records are acyclic: the cyclic collector only costs time here.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for i in range(size):
                plan = gen.plan(i)
                notif = plan[0]
                while heap and heap[0][0] < notif:
                    self.emit(heapq.heappop(heap))
                seq = gen.next_seq(plan[2], int(gen.iso(notif)[:4]))
                heapq.heappush(heap, (plan[5], i, 0, seq, plan))
                for v, rday in enumerate(plan[6], 1):
                    heapq.heappush(heap, (rday, i, v, seq, plan))
            while heap:
                self.emit(heapq.heappop(heap))
        finally:
            self.sink.close()
            if gc_was_enabled:
                gc.enable()

    def emit(self, entry: tuple) -> None:
        gen = self.gen
        day, i, variant, seq, plan = entry
        if variant == VARIANT_TEST:
            rec, ctx = gen.test_record(day - 3)
            if self.sink.add(gen.iso(day), rec, ctx, True):
                self.written += 1
                self.tests += 1
            return
        rec, ctx = gen.build(i, plan, seq)
        # A republication carries the changes of the earlier ones: the latest is the most
        # complete.
        previous = plan[5]
        for v in range(1, variant + 1):
            gen.republish(i, rec, v, plan[6][v - 1], previous)
            previous = plan[6][v - 1]
        final = variant == len(plan[6])
        got_fault = apply_fault(gen, i, variant, rec, ctx)
        if got_fault:
            fix_titulaire_ids(rec, ctx)
        if self.sink.add(gen.iso(day), rec, ctx, final):
            self.written += 1
            self.faulty += got_fault
            self.republications += variant > 0


def _write_manifest(result: DemoResult, arguments: dict) -> None:
    manifest = {
        "generator": "pipelines.demo.generator",
        "arguments": arguments,
        "result": {
            "files": [p.name for p in result.files],
            "contracts": result.contracts,
            "records": result.records,
            "republications": result.republications,
            "test_records": result.test_records,
            "faulty_records": result.faulty_records,
        },
    }
    (result.out_dir / MANIFEST_NAME).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def _parser() -> french_argparse.FrenchArgumentParser:
    french_argparse.install()  # argparse's own labels and errors in French, as in pnad
    parser = french_argparse.FrenchArgumentParser(
        prog="python -m pipelines.demo.generator",
        description="Écrit des fichiers DECP de démonstration, sans les charger (pnad demo les "
        "écrit et lance tout le traitement).",
    )
    parser.add_argument(
        "out_dir",
        metavar="DOSSIER",
        help="dossier où les écrire (ceux d'une génération précédente y sont remplacés)",
    )
    parser.add_argument(
        "--size",
        type=contract_count,
        default=20_000,
        help=f"nombre de contrats distincts ({number_fr(MIN_SIZE)} à {number_fr(MAX_SIZE)}, "
        f"défaut {number_fr(20_000)})",
    )
    parser.add_argument(
        "--seed",
        type=french_argparse.whole_number,
        default=42,
        help="graine (même graine et mêmes dates, mêmes fichiers ; défaut 42)",
    )
    parser.add_argument(
        "--shape",
        choices=SHAPES,
        default="decp2022_json",
        metavar="FORME",
        help=f"format des fichiers : {', '.join(SHAPES)} (défaut decp2022_json)",
    )
    parser.add_argument(
        "--fault-rate",
        type=french_argparse.decimal_number,
        default=0.01,
        help="part des enregistrements portant un défaut réel (défaut 0,01)",
    )
    parser.add_argument(
        "--start",
        type=french_argparse.iso_date,
        default=date(2024, 1, 1),
        help="premier jour de notification (défaut 2024-01-01)",
    )
    parser.add_argument(
        "--end",
        type=french_argparse.iso_date,
        default=None,
        help="dernier jour de notification (défaut : fin du dernier mois complet)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m pipelines.demo.generator DOSSIER --size N --seed S --shape FORME``: the demo
    files alone, for developers and benchmarks; every message in French, as ``pnad``'s."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result = generate_demo(
            args.out_dir,
            args.size,
            args.seed,
            shape=args.shape,
            fault_rate=args.fault_rate,
            start=args.start,
            end=args.end,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(
        f"{number_fr(len(result.files))} fichiers dans {result.out_dir} : "
        f"{number_fr(result.contracts)} contrats, {number_fr(result.records)} enregistrements "
        f"(dont {number_fr(result.republications)} republications, "
        f"{number_fr(result.test_records)} de test, {number_fr(result.faulty_records)} avec "
        "un défaut)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
