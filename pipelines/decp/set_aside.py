"""Files whose reading stopped the process (a crash inside the reader, a kill by the OOM killer
or a timeout): read again in a child process with bounded memory and time, before the pipeline
reads them; set aside only when they stop that child, alone. The files a kill interrupted
together are read together in one child, and split in halves only while their child stops
(``stopping_files``): a kill from outside costs one more read of the batch, not a child per
file. What the operator needs (``files_needing_attention``, for ``pnad status``) and retrying
a file set aside (``retry_files``, for ``pnad retry``).

The child reads the files into an in-memory database with the same code as the pipeline
(``parsing.read_files_alone``): when it ends, well or with a file's own reason, the pipeline
then reads them for real; a signal, the memory bound or the time bound sets them aside.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.common.limits import limits
from pipelines.common.paths import PROJECT_ROOT, PnadPaths

# The line of a Python trace that names the error ("_duckdb.IOException: ...").
ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b")


# The child's exit status when the reading needed more memory than allowed.
EXIT_OUT_OF_MEMORY = 3


# The child bounds its own address space first thing, then reads the file. Not a preexec_fn:
# Python code run between fork and exec in a process with threads (Dagster's, DuckDB's, tqdm's)
# can deadlock the child before it even starts, and the refresh then waits for its time bound.
CHILD_CODE = (
    "import resource, sys\n"
    "bound = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (bound, bound))\n"
    "from pipelines.decp.set_aside import child_main\n"
    "sys.exit(child_main(*sys.argv[2:4]))\n"
)


def stopping_files(paths: PnadPaths, files: list[tuple[str, str]], fmt: str) -> dict[str, str]:
    """Among ``files`` (id, path) whose reading was interrupted, those that stop a child process
    reading them, each with why it is set aside. They are read together in one child first: a
    kill from outside (a reboot, an operator, a CI timeout) interrupts a whole batch of innocent
    files, which one child then reads in about the batch's time. Only a group that stops its
    child is split in two and each half read again, down to the files that stop it alone."""
    if not files:
        return {}
    reason = read_alone_in_child(paths, files, fmt)
    if reason is None:
        return {}
    if len(files) == 1:
        return {files[0][0]: reason}
    half = len(files) // 2
    return stopping_files(paths, files[:half], fmt) | stopping_files(paths, files[half:], fmt)


def read_alone_in_child(paths: PnadPaths, files: list[tuple[str, str]], fmt: str) -> str | None:
    """Read files (id, path) in a child process of their own; None when it ended (well, or with
    a reason the pipeline gives when it reads them), else why the first must be set aside
    (French: meant for a single file)."""
    bounds = limits()
    scratch = paths.work_db.parent / "scratch" / f"alone-{os.getpid()}"
    bound = str(int(bounds.child_memory_bytes))
    command = [sys.executable, "-c", CHILD_CODE, bound, fmt, str(scratch)]
    file_id = files[0][0]
    retry = f"pnad retry {file_id[:12]} le relit quand la cause est corrigée"
    try:
        done = subprocess.run(  # noqa: S603 - our own module, arguments from the database
            command,
            input=json.dumps(files),  # the files on stdin: no limit on their number
            cwd=PROJECT_ROOT,
            timeout=bounds.child_seconds,
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
        )
    except subprocess.TimeoutExpired:
        return (
            f"la lecture de ce fichier seul dure plus de {bounds.child_seconds:,.0f} s "
            f"(PNAD_CHILD_MAX_SECONDS) : mis de côté pour que les autres fichiers soient lus ; "
            + retry
        ).replace(",", " ")
    if done.returncode == 0:
        return None
    if done.returncode == EXIT_OUT_OF_MEMORY:
        return (
            "la lecture de ce fichier seul dépasse la mémoire permise "
            f"({bounds.child_memory_bytes / 1e9:.1f} Go, PNAD_CHILD_MEMORY) : mis de côté pour "
            "que les autres fichiers soient lus ; " + retry
        ).replace(".", ",", 1)
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        return (
            f"la lecture de ce fichier seul arrête le processus (signal {name}) : mis de côté "
            "pour que les autres fichiers soient lus ; " + retry
        )
    errors = [line for line in done.stderr.splitlines() if ERROR_LINE.match(line)]
    last = (errors or done.stderr.strip().splitlines() or ["sans message"])[-1][:200]
    return f"la lecture de ce fichier seul a échoué (code {done.returncode} : {last}) ; " + retry


def record_set_aside(con: duckdb.DuckDBPyConnection, file_id: str, reason: str) -> None:
    """Mark a file set aside for stopping the process (kept for files_needing_attention)."""
    con.execute(
        "update ingest_parse_attempts set set_aside_at = now(), set_aside_reason = $reason "
        "where file_id = $file_id",
        {"reason": reason, "file_id": file_id},
    )


def files_needing_attention(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The files an operator must know about: set aside because reading them, alone, stopped
    the process (``state`` 'set_aside'), and those whose reading was interrupted and that the
    next run reads alone first (``state`` 'interrupted'); with attempts, reason (French) and
    the command that reads a set-aside file again."""
    cursor = con.execute(
        "select f.file_id, f.relative_path, f.original_name, f.status, "
        "case when a.set_aside_at is null then 'interrupted' else 'set_aside' end as state, "
        "coalesce(a.set_aside_reason, 'lecture interrompue (arrêt du processus) : le fichier "
        "sera lu seul au prochain traitement') as reason, "
        "a.attempts, a.last_started_at, a.set_aside_at "
        "from ingest_parse_attempts as a join ingest_files as f using (file_id) "
        "where a.set_aside_at is not null or f.status = 'registered' "
        "order by a.set_aside_at nulls last, f.ingest_seq"
    )
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["retry_command"] = (
            f"pnad retry {row['file_id'][:12]}" if row["state"] == "set_aside" else None
        )
    return rows


class RetryError(ValueError):
    """What was given to retry names no file set aside (French message)."""


def resolve_files(con: duckdb.DuckDBPyConnection, paths: PnadPaths, given: str) -> list[str]:
    """The file_id(s) that ``given`` names: a file (by its content), a path under the data root,
    a name as handed over, or the first 6+ characters of a file_id."""
    from pipelines.decp.landing import sha256_of

    candidate = Path(given).expanduser()
    if candidate.is_file():
        ids = [sha256_of(candidate)]
    else:
        ids = [
            row[0]
            for row in con.execute(
                "select file_id from ingest_files where relative_path = $given "
                "or original_name = $given "
                "or (length($given) >= 6 and starts_with(file_id, lower($given)))",
                {"given": given},
            ).fetchall()
        ]
    known = con.execute(
        "select file_id from ingest_files where file_id in (select unnest($ids))", {"ids": ids}
    ).fetchall()
    if not known:
        raise RetryError(
            f"{given} : aucun fichier reçu ne correspond (donnez un fichier, son nom, son chemin "
            "sous raw/ ou les 6 premiers caractères de son identifiant)"
        )
    if len(known) > 1:
        raise RetryError(f"{given} : {len(known)} fichiers correspondent ; précisez l'identifiant")
    return [known[0][0]]


def retry_files(con: duckdb.DuckDBPyConnection, paths: PnadPaths, file_ids: list[str]) -> int:
    """Make set-aside files pending again (the next run reads them, alone first when they
    stopped the process before; a snapshot release set aside is then put in use without the
    shrink guard); returns how many. A parsed file, or a snapshot release replaced by a newer
    one, is left as it is."""
    from pipelines.decp.releases import waive_guard

    rows = con.execute(
        "select file_id, relative_path, status from ingest_files "
        "where file_id in (select unnest($ids)) and status not in ('parsed', 'superseded')",
        {"ids": file_ids},
    ).fetchall()
    missing = [relative for _, relative, _ in rows if not (paths.home / relative).is_file()]
    if missing:
        raise RetryError(f"{missing[0]} n'est plus sous {paths.home} : rien à relire")
    ids = [file_id for file_id, _, _ in rows]
    con.execute("begin transaction")
    try:
        con.execute(
            "delete from ingest_rejects where file_id in (select unnest($ids))", {"ids": ids}
        )
        con.execute(
            "update ingest_files set status = 'registered', status_reason = null, format = null, "
            "records_read = null, records_rejected = null, parsed_at = null "
            "where file_id in (select unnest($ids))",
            {"ids": ids},
        )
        con.execute(
            "update ingest_parse_attempts set set_aside_at = null, set_aside_reason = null "
            "where file_id in (select unnest($ids))",
            {"ids": ids},
        )
        waive_guard(con, ids)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return len(ids)


def child_main(fmt: str, scratch: str) -> int:
    """The child's work (CHILD_CODE): read the files given on stdin; its exit status says how it
    ended."""
    from pipelines.decp.parsing import read_files_alone

    files = [(file_id, path) for file_id, path in json.load(sys.stdin)]
    try:
        read_files_alone(files, fmt, Path(scratch))
    except (MemoryError, duckdb.OutOfMemoryException):
        return EXIT_OUT_OF_MEMORY
    return 0
