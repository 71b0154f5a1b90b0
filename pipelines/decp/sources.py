"""The configured DECP sources (``pipelines/decp/sources.toml``, overridden by
``$PNAD_HOME/sources.toml``) and fetching them into ``raw/<source>/``.

One source failing never stops the others: each outcome is returned and recorded in the
``download_manifest`` table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import requests
from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from pipelines.common.download import FetchResult, Previous, fetch, make_session
from pipelines.common.formatting import OUTCOMES_FR
from pipelines.common.paths import PnadPaths
from pipelines.common.personal_data import personal_columns
from pipelines.common.progress import DownloadProgress
from pipelines.common.settings import SettingsError, read_toml, validate
from pipelines.decp.formats import DamagedGzipError, read_head
from pipelines.decp.landing import copy_atomically, is_data_file, sha256_of

SHIPPED_SOURCES = Path(__file__).with_name("sources.toml")
KINDS = ("datagouv_resource", "datagouv_dataset", "url", "local_folder")
PUBLISHES = ("snapshot", "incremental")
# How a source publishes when sources.toml does not say: one resource or URL fetched again and
# again is republished whole; a dataset's many resources and a folder's files add up.
DEFAULT_PUBLISHES = {
    "datagouv_resource": "snapshot",
    "url": "snapshot",
    "datagouv_dataset": "incremental",
    "local_folder": "incremental",
}
NAME = re.compile(r"^[a-z][a-z0-9_]{0,60}$")
Log = Callable[[str], None]


class SourceConfigError(ValueError):
    """The sources file is invalid (the message names the source and the problem)."""


def datagouv_api() -> str:
    return os.environ.get("PNAD_DATAGOUV_API", "https://www.data.gouv.fr/api").rstrip("/")


class SourceSettings(BaseModel):
    """One ``[sources.NAME]`` table of sources.toml, checked key by key (mistakes said in French
    with the file and the key)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    title: str = ""
    enabled: StrictBool = True
    resource_id: str | None = None
    dataset: str | None = None
    url: str | None = None
    path: str | None = None
    formats: tuple[str, ...] = ()
    suffix: str = ".json"
    # "snapshot": each release replaces the previous one of its resource whole (releases.py);
    # "incremental": each file adds publications. Default: DEFAULT_PUBLISHES by kind.
    publishes: str | None = None
    keep_releases: StrictInt = 2  # snapshot: raw release files kept (the one in use always is)
    # snapshot: fewer usable records than this share of the previous release's, and the new
    # release is quarantined
    shrink_guard: StrictFloat | StrictInt = 0.9

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"kind doit valoir l'un de {', '.join(KINDS)}")
        return kind

    @field_validator("publishes")
    @classmethod
    def _known_publishing(cls, publishes: str | None) -> str | None:
        if publishes is not None and publishes not in PUBLISHES:
            raise ValueError(
                "publishes vaut « snapshot » (chaque publication remplace la précédente) ou "
                "« incremental » (chaque fichier s'ajoute)"
            )
        return publishes

    @field_validator("keep_releases")
    @classmethod
    def _some_kept(cls, keep: int) -> int:
        if keep < 1:
            raise ValueError(
                "keep_releases est un nombre entier de publications gardées, au moins 1"
            )
        return keep

    @field_validator("shrink_guard")
    @classmethod
    def _a_share(cls, guard: float) -> float:
        if not 0 <= guard <= 1:
            raise ValueError(
                "shrink_guard est une part entre 0 et 1 des enregistrements de la publication "
                "précédente (0,9 : moins de 90 % met la nouvelle de côté)"
            )
        return guard

    @model_validator(mode="after")
    def _where_to_fetch(self) -> SourceSettings:
        required = REQUIRED_BY_KIND[self.kind]
        if not getattr(self, required):
            raise ValueError(f"{self.kind} demande `{required}`")
        return self


class Source(SourceSettings):
    """A configured source: its settings under its name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str

    @property
    def is_snapshot(self) -> bool:
        return (self.publishes or DEFAULT_PUBLISHES[self.kind]) == "snapshot"


# What each kind of source needs to say where to fetch.
REQUIRED_BY_KIND = {
    "datagouv_resource": "resource_id",
    "datagouv_dataset": "dataset",
    "url": "url",
    "local_folder": "path",
}


def load_sources(paths: PnadPaths, section: str = "sources") -> list[Source]:
    """Shipped sources, with those of ``$PNAD_HOME/sources.toml`` replacing same-named ones.
    ``section`` "sources" holds the DECP sources, "reference" the reference tables (INSEE
    communes, La Poste postal codes)."""
    tables: dict[str, tuple[dict, Path]] = {}
    for file in (SHIPPED_SOURCES, paths.home / "sources.toml"):
        if file.exists():
            try:
                content = read_toml(file)
            except SettingsError as error:
                raise SourceConfigError(str(error)) from None
            tables.update((name, (table, file)) for name, table in content.get(section, {}).items())
    sources = []
    for name, (table, file) in tables.items():
        if not NAME.match(name):
            raise SourceConfigError(
                f"{file} : nom de source {name!r} : lettres minuscules, chiffres et _ seulement"
            )
        try:
            settings = validate(SourceSettings, table, str(file), f"{section}.{name}")
        except SettingsError as error:
            raise SourceConfigError(str(error)) from None
        publishes = settings.publishes or DEFAULT_PUBLISHES[settings.kind]
        sources.append(Source(name=name, **{**settings.model_dump(), "publishes": publishes}))
    return sources


def _last_success(
    con: duckdb.DuckDBPyConnection, url: str
) -> tuple[Previous, tuple[str, str] | None, str | None, str | None]:
    """Validators, body hash, published checksum, published last_modified and landed path of
    the last good fetch of ``url``."""
    row = con.execute(
        "select etag, last_modified, sha256, checksum_type, checksum, published_last_modified, "
        "relative_path from download_manifest "
        "where url = $url and outcome in ('downloaded', 'unchanged', 'not_modified') "
        "order by fetched_at desc limit 1",
        {"url": url},
    ).fetchone()
    if not row:
        return Previous(), None, None, None
    return Previous(*row[:3]), ((row[3], row[4]) if row[3] else None), row[5], row[6]


def _checksum(resource: dict) -> tuple[str, str] | None:
    checksum = resource.get("checksum") or {}
    if checksum.get("type") and checksum.get("value"):
        return checksum["type"], checksum["value"]
    return None


def _resources(session: requests.Session, source: Source) -> list[dict]:
    """The resources to fetch for a data.gouv.fr source: url, id, checksum, last_modified."""
    timeout = (10, 60)
    if source.kind == "datagouv_resource":
        response = session.get(
            f"{datagouv_api()}/2/datasets/resources/{source.resource_id}/", timeout=timeout
        )
        if response.status_code == 200:
            resource = response.json().get("resource", {})
            return [{**resource, "id": source.resource_id}]
        # The stable redirect to the latest file works even when the metadata call does not.
        return [
            {
                "id": source.resource_id,
                "url": f"https://www.data.gouv.fr/fr/datasets/r/{source.resource_id}",
            }
        ]
    response = session.get(f"{datagouv_api()}/1/datasets/{source.dataset}/", timeout=timeout)
    response.raise_for_status()
    formats = {f.lower() for f in source.formats}
    return [
        r
        for r in response.json().get("resources", [])
        if r.get("url") and (not formats or str(r.get("format", "")).lower() in formats)
    ]


def _record(
    con: duckdb.DuckDBPyConnection,
    paths: PnadPaths,
    source: Source,
    resource_id: str | None,
    checksum: tuple[str, str] | None,
    result: FetchResult,
    published_last_modified: str | None = None,
) -> None:
    relative = None
    if result.path is not None:
        try:
            relative = result.path.relative_to(paths.home).as_posix()
        except ValueError:
            relative = str(result.path)
    con.execute(
        """
        insert into download_manifest (source, url, resource_id, checksum_type, checksum,
            sha256, size_bytes, fetched_at, http_status, outcome, reason, etag, last_modified,
            relative_path, published_last_modified)
        values ($source, $url, $resource_id, $checksum_type, $checksum, $sha256, $size,
            $fetched_at, $http_status, $outcome, $reason, $etag, $last_modified, $relative_path,
            $published_last_modified)
        """,
        {
            "source": source.name,
            "url": result.url,
            "resource_id": resource_id,
            "checksum_type": checksum[0] if checksum else None,
            "checksum": checksum[1] if checksum else None,
            "sha256": result.sha256,
            "size": result.size,
            "fetched_at": result.fetched_at.replace(tzinfo=None),
            "http_status": result.http_status,
            "outcome": result.outcome,
            "reason": result.reason,
            "etag": result.etag,
            "last_modified": result.last_modified,
            "relative_path": relative,
            "published_last_modified": published_last_modified,
        },
    )


def _copy_local(paths: PnadPaths, source: Source) -> list[FetchResult]:
    folder = Path(source.path).expanduser()
    if not folder.is_dir():
        return [FetchResult(url=str(folder), outcome="failed", reason="dossier introuvable")]
    target_dir = paths.raw / source.name
    target_dir.mkdir(parents=True, exist_ok=True)
    results = []
    files = sorted(p for p in folder.rglob("*") if p.is_file() and is_data_file(p.name))
    if source.is_snapshot and files:  # the folder holds the current release: its newest file
        files = [max(files, key=lambda p: (p.stat().st_mtime_ns, p.as_posix()))]
    for file in files:
        try:
            personal = personal_columns(read_head(file).split(b"\n", 1)[0])
        except DamagedGzipError:
            personal = []  # copied: reading it sets it aside with that reason
        if personal:  # never landed: it may hold names
            reason = f"données personnelles probables (colonnes {', '.join(personal)}) : non copié"
            results.append(FetchResult(url=str(file), outcome="failed", reason=reason))
            continue
        digest = sha256_of(file)
        target = target_dir / f"{source.name}-{digest[:16]}{file.suffix.lower()}"
        outcome = "unchanged" if target.exists() else "downloaded"
        if outcome == "downloaded":
            copy_atomically(file, target)
        results.append(
            FetchResult(
                url=str(file),
                outcome=outcome,
                path=target,
                sha256=digest,
                size=target.stat().st_size,
            )
        )
    return results


def fetch_sources(
    con: duckdb.DuckDBPyConnection,
    paths: PnadPaths,
    sources: list[Source],
    log: Log = print,
    session: requests.Session | None = None,
    landing: Path | None = None,
) -> list[tuple[Source, FetchResult]]:
    """Fetch every enabled source into <landing>/<name>/ (default raw/, the DECP landing zone;
    reference tables go to ref/); record each outcome in download_manifest. One source that
    fails, whatever the way, is recorded with its reason and the others are fetched."""
    session = session or make_session()
    landing = landing or paths.raw
    outcomes = []
    for source in (s for s in sources if s.enabled):
        try:
            results = _fetch_source(con, paths, source, session, landing, log)
        except Exception as error:  # noqa: BLE001 - one source never stops the others
            reason = f"source en échec : {type(error).__name__}: {str(error)[:200]}"
            results = [
                (None, None, FetchResult(url=_source_url(source), outcome="failed", reason=reason))
            ]
        for resource, published_at, result in results:
            checksum = _checksum(resource) if resource else None
            resource_id = resource.get("id") if resource else source.resource_id
            _record(con, paths, source, resource_id, checksum, result, published_at)
            outcomes.append((source, result))
            log(
                f"{source.name} : {OUTCOMES_FR.get(result.outcome, result.outcome)}"
                + (f" ({result.reason})" if result.reason else "")
            )
    return outcomes


def _source_url(source: Source) -> str:
    return source.url or source.dataset or source.resource_id or source.path or ""


def _fetch_source(
    con: duckdb.DuckDBPyConnection,
    paths: PnadPaths,
    source: Source,
    session: requests.Session,
    landing: Path,
    log: Log,
) -> list[tuple[dict | None, str | None, FetchResult]]:
    """(resource, published last_modified, outcome) for each resource of one source."""
    if source.kind == "local_folder":
        return [(None, None, result) for result in _copy_local(paths, source)]
    try:
        resources = (
            [{"url": source.url, "id": None}]
            if source.kind == "url"
            else _resources(session, source)
        )
    except (requests.RequestException, ValueError) as error:
        reason = f"liste des ressources impossible à obtenir : {str(error).splitlines()[0][:200]}"
        failed = FetchResult(url=_source_url(source), outcome="failed", reason=reason)
        return [(None, None, failed)]
    return [
        (
            resource,
            resource.get("last_modified") or None,
            _fetch_resource(con, paths, source, resource, session, landing, log),
        )
        for resource in resources
    ]


def _fetch_resource(
    con: duckdb.DuckDBPyConnection,
    paths: PnadPaths,
    source: Source,
    resource: dict,
    session: requests.Session,
    landing: Path,
    log: Log,
) -> FetchResult:
    """One resource: not downloaded when its published checksum (or, without one, its published
    last_modified) has not changed, else fetched."""
    checksum = _checksum(resource)
    published_at = resource.get("last_modified") or None
    previous, last_checksum, last_published_at, landed = _last_success(con, resource["url"])
    still_landed = landed is not None and (paths.home / landed).is_file()
    if checksum and checksum == last_checksum:
        return FetchResult(
            url=resource["url"],
            outcome="unchanged",
            sha256=previous.sha256,
            reason="empreinte publiée inchangée : pas téléchargé",
        )
    if not checksum and published_at and published_at == last_published_at and still_landed:
        # no checksum published: the API's last_modified says the resource did not change
        return FetchResult(
            url=resource["url"],
            outcome="unchanged",
            sha256=previous.sha256,
            reason="date de mise à jour publiée inchangée : pas téléchargé",
            path=paths.home / landed,
        )
    stem = source.name
    if source.kind == "datagouv_dataset":
        resource_key = re.sub(r"[^a-z0-9]", "", str(resource["id"]).lower())[:12]
        stem = f"{source.name}-{resource_key}"
    log(f"{source.name} : téléchargement de {resource['url']}")
    shown = DownloadProgress(source.name, log)
    try:
        return fetch(
            resource["url"],
            landing / source.name,
            stem,
            source.suffix,
            quarantine_dir=paths.home / "quarantine" / source.name,
            previous=previous,
            checksum=checksum,
            session=session,
            progress=shown,
        )
    finally:
        shown.finish()
