"""``pnad retry FILE|ID``: read again a file that was set aside (one whose reading stopped the
process, alone; or any file set aside, after its cause was fixed), then process and publish."""

from __future__ import annotations

import argparse

from pipelines.cli.common import CliError, SharedOptions, print_summary, run_refresh
from pipelines.cli.ingest import STATUS_FR
from pipelines.common.paths import PnadPaths


def cmd_retry(args: argparse.Namespace) -> int:
    from pipelines.common import warehouse
    from pipelines.decp.set_aside import RetryError, resolve_files, retry_files

    paths = PnadPaths.resolve().ensure()
    with warehouse.connect(paths) as con:
        try:
            file_ids = [
                file_id for given in args.files for file_id in resolve_files(con, paths, given)
            ]
            again = retry_files(con, paths, file_ids)
        except RetryError as error:
            raise CliError(str(error)) from error
    if not again:
        print("ces fichiers ont déjà été lus : rien à relire")
        return 0
    print(f"{again} fichier(s) à relire ; traitement en cours")
    run_refresh(paths, allow_shrink=args.allow_shrink, quiet=args.quiet)
    with warehouse.connect(paths) as con:
        outcome = con.execute(
            "select relative_path, status, status_reason, records_read from ingest_files "
            "where file_id in (select unnest($ids)) order by ingest_seq",
            {"ids": file_ids},
        ).fetchall()
    for relative, status, reason, read in outcome:
        detail = f" ({reason})" if reason else ""
        print(f"{relative} : {STATUS_FR.get(status, status)}{detail}, {read or 0} lus")
    print_summary(paths)
    if any(status != "parsed" for _, status, _, _ in outcome):
        raise CliError("au moins un fichier reste mis de côté (raison ci-dessus)")
    return 0


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    retry = sub.add_parser(
        "retry",
        parents=[shared.publishing],
        help="relit un fichier mis de côté (par exemple après un arrêt du processus), puis publie",
        description="Relit un fichier mis de côté : un fichier dont la lecture, seule, arrêtait "
        "le processus (il est relu seul dans un processus à part, avec une mémoire bornée, "
        "PNAD_CHILD_MEMORY), ou tout fichier mis de côté dont la cause est corrigée. FILE est "
        "le fichier lui-même, son nom, son chemin sous raw/ ou les 6 premiers caractères de son "
        "identifiant (ingest_files.file_id).",
    )
    retry.add_argument("files", nargs="+", metavar="FILE|ID", help="fichier ou identifiant")
    retry.set_defaults(func=cmd_retry)
