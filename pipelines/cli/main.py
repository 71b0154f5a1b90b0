"""The ``pnad`` command: the operations Dagster runs, for people and for cron.

One module per command (``pipelines/cli/<command>.py``: its ``add_parser`` and what it runs);
this one only assembles them. Every command exits 0 on success and non-zero with a one-line
reason on failure.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import sys
from collections.abc import Sequence

from pipelines.cli import (
    demo,
    exports,
    hours,
    ingest,
    refresh,
    report,
    retry,
    run,
    schedule,
    shares,
    status,
    ui,
)
from pipelines.cli.common import CliError, SharedOptions, writing
from pipelines.common import french_argparse

COMMANDS = (demo, run, refresh, ingest, retry, status, schedule, hours, shares, exports, report, ui)


# Commands that write in the data root: one at a time (the writer lock, writer_lock.py).
WRITING_COMMANDS = ("demo", "run", "refresh", "ingest", "retry")


def writes(args: argparse.Namespace) -> bool:
    return args.command in WRITING_COMMANDS or bool(getattr(args, "withdraw", None))


def build_parser() -> argparse.ArgumentParser:
    french_argparse.install()  # argparse's own labels and errors in French
    parser = french_argparse.FrenchArgumentParser(
        prog="pnad",
        description="Suivi du PNAD : parts de contrats avec considération sociale et "
        "environnementale, à partir des DECP. Données sous $PNAD_HOME (défaut : data/ du projet).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")
    # Options of every command that runs the pipeline, declared once.
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument(
        "--quiet", action="store_true", help="n'affiche que les avertissements du pipeline"
    )
    publishing = argparse.ArgumentParser(add_help=False, parents=[quiet])
    publishing.add_argument(
        "--allow-shrink",
        action="store_true",
        help="publie même avec beaucoup moins de contrats que la dernière fois",
    )
    for command in COMMANDS:
        command.add_parser(sub, SharedOptions(quiet, publishing))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # a crash inside a native library (DuckDB) still says where it happened
    faulthandler.enable()
    logging.getLogger("dagster").setLevel(
        logging.WARNING if getattr(args, "quiet", False) else logging.INFO
    )
    try:
        if writes(args):
            with writing(f"pnad {args.command}"):
                return args.func(args)
        return args.func(args)
    except BrokenPipeError:  # `pnad hours | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except CliError as error:
        print(f"pnad : erreur : {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - the user gets one line, the trace with PNAD_DEBUG
        if os.environ.get("PNAD_DEBUG"):
            raise
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"pnad : erreur : {reason} (PNAD_DEBUG=1 pour le détail)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
