"""``pnad status``: the state of the service in one screen (or ``--json``); exits 1 when
something needs attention, so that cron and monitoring can use it."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from pipelines.cli.common import SharedOptions
from pipelines.common.formatting import OUTCOMES_FR, number_fr
from pipelines.common.paths import PnadPaths

RUN_STATUS_FR = {
    "QUEUED": "en attente",
    "STARTING": "au démarrage",
    "STARTED": "en cours",
    "FAILURE": "en échec",
}


def _when(value: datetime | None) -> str:
    return "jamais" if value is None else f"{value:%d/%m/%Y %H:%M}"


def _size(size: int) -> str:
    for unit, scale in (("Go", 1e9), ("Mo", 1e6), ("ko", 1e3)):
        if size >= scale:
            return f"{number_fr(size / scale, 1)} {unit}"
    return f"{size} o"


def _print_runs(status: dict) -> None:
    last = status["last_successful_run"]
    print(
        "  dernière actualisation réussie : "
        + (f"{_when(last['at'])} ({last['job']})" if last else "aucune")
    )
    for run in status["runs_in_progress"]:
        print(f"  en cours : {run['job']} ({RUN_STATUS_FR[run['status']]}, {_when(run['at'])})")
    print(f"  exécutions en échec ces 7 derniers jours : {len(status['failed_runs'])}")
    for run in status["failed_runs"][:5]:
        print(f"    {_when(run['at'])} {run['job']} (run {run['run_id'][:8]})")
    automation = "allumée" if status["automation"] else "éteinte (pnad schedule on)"
    daemon = "en marche" if status["daemon_alive"] else "arrêté"
    print(f"  automatisation : {automation} ; démon Dagster : {daemon}")


def _print_sources(status: dict) -> None:
    print("  sources :")
    if not status["sources"]:
        print("    aucun téléchargement (données locales ou de démonstration)")
    for source in status["sources"]:
        state = "en échec" if source["failing"] else "rien de neuf" if source["stale"] else "à jour"
        checksum = (source["checksum"] or "")[:12]
        outcome = OUTCOMES_FR.get(source["last_outcome"], source["last_outcome"])
        print(
            f"    {source['source']} : dernière version {_when(source['last_release'])}"
            f"{f', empreinte {checksum}' if checksum else ''} ; dernier essai "
            f"{_when(source['last_attempt'])} ({outcome}) — {state}"
        )
        for release in source.get("releases", []):
            print(_release_line(release))


def _release_line(release: dict) -> str:
    """A snapshot source's release in use (with the contracts it added and removed) or set
    aside since (with why)."""
    received = f"publication reçue le {_when(release['received_at'])}"
    checksum = release["checksum"][:12]
    if release["outcome"] == "in_use":
        return (
            f"      en usage : {received} (empreinte {checksum}), "
            f"{number_fr(release['contracts'])} contrats ; par rapport à la précédente : "
            f"{number_fr(release['added'])} ajouté(s), {number_fr(release['removed'])} retiré(s)"
        )
    return f"      mise de côté : {received} (empreinte {checksum}) — {release['reason']}"


def print_status(status: dict) -> None:
    published = status["published"]
    print(f"pnad-tracker : état du service (données sous {status['data_root']})")
    if published:
        print(
            f"  base publiée : {_when(published['at'])}, {number_fr(published['contracts'])} "
            f"contrats — {published['freshness']}"
        )
    else:
        print("  base publiée : aucune")
    _print_runs(status)
    _print_sources(status)
    for item in status["files_set_aside"][:10]:
        print(f"  mis de côté : {item['file']} — {item['reason'] or item['status']}")
    disk = status["disk_bytes"]
    print(
        "  disque : "
        + ", ".join(f"{name}/ {_size(size)}" for name, size in disk.items())
        + f" ; libre {_size(status['disk_free_bytes'])}"
    )
    if status["alerts_log"]:
        print(f"  alertes : {status['alerts_log']}")
    if status["attention"]:
        print("À regarder :")
        for reason in status["attention"]:
            print(f"  - {reason}")
    else:
        print("Tout va bien.")


def cmd_status(args: argparse.Namespace) -> int:
    from pipelines.service.status import service_status

    status = service_status(PnadPaths.resolve())
    if args.json:
        print(json.dumps(status, ensure_ascii=False, indent=2, default=str))
    else:
        print_status(status)
    return 1 if status["attention"] else 0


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    status = sub.add_parser(
        "status",
        help="état du service : publication, sources, exécutions en échec, fichiers mis de "
        "côté, disque (code de sortie 1 quand quelque chose demande attention)",
    )
    status.add_argument("--json", action="store_true", help="le même état en JSON")
    status.set_defaults(func=cmd_status)
