"""``pnad demo``: demo DECP files and facilitators' exports, written, then run through the whole
pipeline, offline."""

from __future__ import annotations

import argparse
import shutil

from pipelines.cli.common import (
    SharedOptions,
    print_summary,
    run_refresh,
)
from pipelines.common.french_argparse import decimal_number, whole_number
from pipelines.common.paths import PnadPaths
from pipelines.demo.buyers import contract_count


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.common import warehouse
    from pipelines.decp import landing
    from pipelines.demo.facilitator_exports import (
        DEMO_FACILITATORS,
        demo_export_paths,
        write_demo_exports,
    )
    from pipelines.demo.generator import generate_demo
    from pipelines.demo.sirene_stock import write_demo_sirene_stock
    from pipelines.facilitators import loading
    from pipelines.reference import sirene

    paths = PnadPaths.resolve().ensure()
    demo_dir = paths.raw / "demo"
    with warehouse.connect(paths) as con:
        landing.forget_source(con, "demo")  # the demo is regenerated whole each time
        loading.forget_facilitators(con, list(DEMO_FACILITATORS))
    shutil.rmtree(demo_dir, ignore_errors=True)
    # the earlier demo's exports go too: left in the drop folder, the first run below would
    # load them again beside the new ones (another seed's hours counted twice)
    for export in demo_export_paths(paths.facilitator_drop):
        export.unlink(missing_ok=True)
    print(
        f"génération de {args.size} contrats de démonstration (graine {args.seed}) dans {demo_dir}"
    )
    result = generate_demo(demo_dir, size=args.size, seed=args.seed, fault_rate=args.fault_rate)
    print(
        f"{len(result.files)} fichiers, {result.records} enregistrements écrits (avec les "
        "republications ; les défauts injectés, comme un SIRET mal formé, font apparaître "
        "quelques contrats distincts de plus)"
    )
    # Buyer names and establishments, as a user with the SIRENE stock file has them
    stock = write_demo_sirene_stock(
        paths.home / "ref" / "demo_sirene_stock.csv", args.size, args.seed
    )
    with warehouse.connect(paths) as con:
        sirene.load_stock_file(con, stock)
    run_refresh(paths, allow_shrink=True, quiet=args.quiet)
    # The facilitators' exports follow marchés of the demo DECP: written from its contracts,
    # then loaded by a second (short) run, as a drop in facilitateurs/ would be.
    with warehouse.connect(paths) as con:
        exports = write_demo_exports(con, paths.facilitator_drop, seed=args.seed)
    print(
        "exports de facilitateurs de démonstration : "
        + ", ".join(str(p.relative_to(paths.home)) for p in exports)
    )
    run_refresh(paths, allow_shrink=True, quiet=args.quiet)
    print_summary(paths)
    return 0


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    demo = sub.add_parser(
        "demo",
        parents=[shared.quiet],
        help="génère des fichiers DECP de démonstration et exécute tout le pipeline (hors ligne)",
    )
    demo.add_argument(
        "--size",
        type=contract_count,
        default=20_000,
        help="nombre de contrats à générer (100 à 3 000 000)",
    )
    demo.add_argument(
        "--seed", type=whole_number, default=42, help="graine (même graine, mêmes fichiers)"
    )
    demo.add_argument(
        "--fault-rate",
        type=decimal_number,
        default=0.01,
        help="part des enregistrements portant un défaut réel (défaut 0,01)",
    )
    demo.set_defaults(func=cmd_demo)
