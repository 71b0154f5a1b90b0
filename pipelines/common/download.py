"""Downloading source files: timeouts, retries with backoff, conditional GET, checksum checks,
streaming to a temporary file and an atomic rename.

The landed file's name is always chosen by the caller (the project), never taken from the remote
side. A body that is truncated, empty, an HTML page where data was expected, or that does not match
its published checksum is moved to quarantine with its reason; it never lands among raw files.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pipelines.common.limits import limits

USER_AGENT = "pnad-tracker/0.1 (suivi des achats publics durables)"
CONNECT_TIMEOUT, READ_TIMEOUT = 10, 120
RETRY_STATUSES = (429, 500, 502, 503, 504)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
CHUNK = 1024 * 1024
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Previous:
    """What is known of the last successful fetch of the same URL (for a conditional GET)."""

    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None


@dataclass
class FetchResult:
    url: str
    outcome: str  # downloaded | not_modified | unchanged | quarantined | failed
    path: Path | None = None
    sha256: str | None = None
    size: int | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    reason: str | None = None
    attempts: int = 0
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))


# When the current download must end (time.monotonic()), for the retries urllib3 makes inside
# one request: a Retry object cannot be given per request, the session's is shared.
_DEADLINE: ContextVar[float | None] = ContextVar("download_deadline", default=None)


def _remaining() -> float:
    deadline = _DEADLINE.get()
    return float("inf") if deadline is None else deadline - time.monotonic()


class BoundedRetry(Retry):
    """Retries that wait at most PNAD_RETRY_AFTER_MAX seconds for a Retry-After (a server
    asking for an hour does not stall a run) and stop at the download's time budget."""

    def __init__(self, *args, retry_after_cap: float | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_cap = (
            limits().retry_after_seconds if retry_after_cap is None else retry_after_cap
        )

    def new(self, **kwargs) -> BoundedRetry:
        retry = super().new(**kwargs)
        retry.retry_after_cap = self.retry_after_cap
        return retry

    def get_retry_after(self, response) -> float | None:
        seconds = super().get_retry_after(response)
        if seconds is None:
            return None
        return max(0.0, min(seconds, self.retry_after_cap, _remaining()))

    def get_backoff_time(self) -> float:
        return max(0.0, min(super().get_backoff_time(), _remaining()))

    def is_exhausted(self) -> bool:
        return super().is_exhausted() or _remaining() <= 0


def make_session(retries: int = 4, backoff: float = 0.5) -> requests.Session:
    """A session that retries connection errors and 429/5xx answers with exponential backoff,
    honouring Retry-After up to PNAD_RETRY_AFTER_MAX seconds, and follows at most 10
    redirects."""
    retry = BoundedRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.max_redirects = MAX_REDIRECTS
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _digest(algorithm: str) -> hashlib._Hash:
    algorithm = algorithm.lower().replace("-", "")
    if algorithm not in {"sha1", "sha256", "md5", "sha512"}:
        raise ValueError(f"unsupported checksum type: {algorithm}")
    return hashlib.new(algorithm)


# The first tag of an HTML page, with or without a doctype ("<head>", "<body>", "<title>"…).
HTML_START = re.compile(
    rb"<(!doctype\s+html|html|head|body|title|meta|link|script|style|div|p|h[1-6]|table|center|pre)"
    rb"[\s>/]"
)


def looks_like_html(head: bytes) -> bool:
    """An HTML page (typically an error page) where a data file was expected: the first bytes
    (after any comment) start with an HTML tag, a doctype or not. Also used to sniff landed
    files."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024].lower()
    while start.startswith(b"<!--") and b"-->" in start:
        start = start.split(b"-->", 1)[1].lstrip()
    return bool(HTML_START.match(start)) or (start.startswith(b"<") and b"<html" in start[:512])


class _BodyError(Exception):
    """The body could not be read whole (connection cut, truncated)."""


class _OverBounds(Exception):
    """The download went over its time budget or its size limit (French reason)."""


class _Answered(Exception):  # noqa: N818 - not an error: the server answered without a body
    """The server answered without a body to land (304, an HTTP error): the result says it."""


# Errors that a new attempt may get past.
TRANSIENT = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    _BodyError,
)


@dataclass(frozen=True)
class Bounds:
    """What one download may take: seconds in all (attempts and waits included), bytes."""

    seconds: float
    max_bytes: int

    @classmethod
    def from_settings(cls) -> Bounds:
        bounds = limits()
        return cls(bounds.download_seconds, bounds.download_bytes)


@dataclass
class _Body:
    size: int
    sha256: hashlib._Hash
    head: bytes
    published: hashlib._Hash | None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def _receive(
    session: requests.Session,
    url: str,
    headers: dict[str, str],
    timeout: tuple[float, float],
    partial: Path,
    result: FetchResult,
    checksum: tuple[str, str] | None,
    bounds: Bounds,
    progress: Callable[[int, int | None], None] | None,
) -> _Body:
    """One GET, its body streamed into ``partial``; raises _Answered (304, HTTP error: the
    result says it), _OverBounds, or one of TRANSIENT."""
    left = max(_remaining(), 0.001)
    timeout = (min(timeout[0], left), min(timeout[1], left))
    with session.get(url, headers=headers, stream=True, timeout=timeout) as response:
        result.http_status = response.status_code
        result.etag = response.headers.get("ETag")
        result.last_modified = response.headers.get("Last-Modified")
        if response.status_code == 304:
            result.outcome = "not_modified"
            raise _Answered
        if response.status_code != 200:
            result.reason = f"HTTP {response.status_code}"
            raise _Answered
        announced = response.headers.get("Content-Length")
        expected = int(announced) if announced and announced.isdigit() else None
        if expected is not None and expected > bounds.max_bytes:
            raise _OverBounds(_too_large(bounds))
        body = _Body(0, hashlib.sha256(), b"", _digest(checksum[0]) if checksum else None)
        with partial.open("wb") as out:
            for chunk in _chunks(response):
                out.write(chunk)
                body.sha256.update(chunk)
                if body.published:
                    body.published.update(chunk)
                if len(body.head) < 4096:
                    body.head += chunk[: 4096 - len(body.head)]
                body.size += len(chunk)
                if progress:
                    progress(body.size, expected)
                if body.size > bounds.max_bytes:
                    raise _OverBounds(_too_large(bounds))
                if _remaining() <= 0:
                    raise _OverBounds(_too_long(bounds))
            out.flush()
            os.fsync(out.fileno())
        # Content-Length counts the bytes sent, compressed when the server gzips the body:
        # compare it with the bytes read from the socket, not the decoded ones
        received = response.raw.tell() if response.raw is not None else body.size
        if expected is not None and received != expected:
            raise _BodyError(f"corps tronqué : {received} octets reçus sur {expected}")
    return body


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: each read returns what the socket has (a server sending one byte
    a second gives control back every second, so the time budget is checked), decoded."""
    try:
        while chunk := response.raw.read1(CHUNK, decode_content=True):
            yield chunk
    except urllib3.exceptions.HTTPError as error:  # cut, timed out, bad chunking
        raise _BodyError(_first_line(error)) from error


def _too_large(bounds: Bounds) -> str:
    return (
        f"taille maximale dépassée : plus de {bounds.max_bytes:,} octets (PNAD_DOWNLOAD_MAX_BYTES)"
    ).replace(",", " ")


def _too_long(bounds: Bounds) -> str:
    return (
        f"durée maximale dépassée : plus de {bounds.seconds:,.0f} s pour ce téléchargement "
        "(PNAD_DOWNLOAD_MAX_SECONDS)"
    ).replace(",", " ")


def _refused(error: requests.RequestException) -> str:
    """Why a request that no new attempt would get past failed (French)."""
    if isinstance(error, requests.exceptions.TooManyRedirects):
        return f"trop de redirections (plus de {MAX_REDIRECTS}, une boucle ?)"
    if isinstance(error, requests.exceptions.InvalidSchema | requests.exceptions.InvalidURL):
        return f"adresse refusée (seuls http et https sont suivis) : {_first_line(error)}"
    return f"requête impossible : {_first_line(error)}"


def fetch(
    url: str,
    target_dir: Path,
    stem: str,
    suffix: str,
    *,
    quarantine_dir: Path,
    previous: Previous | None = None,
    checksum: tuple[str, str] | None = None,
    expect_data: bool = True,
    session: requests.Session | None = None,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    body_attempts: int = 3,
    body_backoff: float = 1.0,
    progress: Callable[[int, int | None], None] | None = None,
    bounds: Bounds | None = None,
) -> FetchResult:
    """Download ``url`` into ``target_dir`` as ``<stem>-<sha256 prefix><suffix>``, atomically.

    The name is the project's (``stem`` from the source configuration) plus the content hash, so a
    landed file is immutable: a new version of a resource is a new file. ``checksum`` is the
    published (type, value); ``previous`` enables a conditional GET. ``bounds`` (default: the
    settings PNAD_DOWNLOAD_MAX_SECONDS and PNAD_DOWNLOAD_MAX_BYTES) bound the whole download,
    retries and waits included. Never raises for network or content problems: ``outcome`` and
    ``reason`` say what happened.
    """
    if not SAFE_NAME.match(stem + suffix) or not re.fullmatch(r"(\.[a-z0-9]{1,8}){0,2}", suffix):
        raise ValueError(f"unsafe target file name: {stem + suffix!r}")
    target = target_dir / f"{stem}{suffix}"
    session, previous = session or make_session(), previous or Previous()
    bounds = bounds or Bounds.from_settings()
    headers = {"If-None-Match": previous.etag} if previous.etag else {}
    if previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    result = FetchResult(url=url, outcome="failed")
    token = _DEADLINE.set(time.monotonic() + bounds.seconds)
    try:
        for attempt in range(1, body_attempts + 1):
            result.attempts = attempt
            try:
                body = _receive(
                    session, url, headers, timeout, partial, result, checksum, bounds, progress
                )
            except _Answered:
                if result.outcome == "not_modified":
                    result.sha256 = previous.sha256
                return result
            except _OverBounds as error:
                result.reason = str(error)
                return result
            except TRANSIENT as error:
                result.reason = _first_line(error)
                if attempt < body_attempts and _remaining() > 0:
                    partial.unlink(missing_ok=True)
                    time.sleep(max(0.0, min(body_backoff * 2 ** (attempt - 1), _remaining())))
                    continue
                return _cut_short(result, partial, quarantine_dir, target.name, bounds)
            except requests.RequestException as error:
                result.reason = _refused(error)
                return result
            landing = (target_dir, stem, suffix)
            return _land(result, body, partial, landing, quarantine_dir, expect_data, checksum)
        return result
    finally:
        _DEADLINE.reset(token)
        partial.unlink(missing_ok=True)


def _cut_short(
    result: FetchResult, partial: Path, quarantine_dir: Path, name: str, bounds: Bounds
) -> FetchResult:
    """No attempt got the body whole: what arrived of it (the body had started, HTTP 200) is
    set aside for diagnosis, never landed (requests may drop the last piece it read)."""
    if _remaining() <= 0:
        result.reason = f"{_too_long(bounds)} ({result.reason})"
    if partial.exists():
        if not result.reason.startswith("corps tronqué"):
            result.reason = f"corps tronqué : {result.reason}"
        result.outcome = "quarantined"
        result.path = _quarantine(partial, quarantine_dir, name)
    return result


def _land(
    result: FetchResult,
    body: _Body,
    partial: Path,
    landing: tuple[Path, str, str],
    quarantine_dir: Path,
    expect_data: bool,
    checksum: tuple[str, str] | None,
) -> FetchResult:
    """The received body landed under its content hash, or quarantined with the reason."""
    result.size, result.sha256 = body.size, body.sha256.hexdigest()
    problem = None
    if body.size == 0:
        problem = "corps vide"
    elif expect_data and looks_like_html(body.head):
        problem = "page HTML au lieu du fichier de données attendu"
    elif body.published and body.published.hexdigest().lower() != checksum[1].lower():
        problem = (
            f"empreinte {checksum[0]} différente : publiée {checksum[1]}, "
            f"reçue {body.published.hexdigest()}"
        )
    target_dir, stem, suffix = landing
    if problem:
        result.outcome, result.reason = "quarantined", problem
        result.path = _quarantine(partial, quarantine_dir, f"{stem}{suffix}")
        return result
    final = target_dir / f"{stem}-{result.sha256[:16]}{suffix}"
    result.outcome, result.path = ("unchanged" if final.exists() else "downloaded"), final
    if result.outcome == "downloaded":
        os.replace(partial, final)  # atomic: readers see no file or the whole file, never half
    return result


# Bodies set aside kept per quarantine folder (a source): enough to see what the server sent
# lately; a source failing every day for months does not fill the disk.
QUARANTINE_KEEP = 5


def _quarantine(partial: Path, quarantine_dir: Path, name: str) -> Path:
    """Move a received body that must not land into quarantine/, named by time and target; the
    oldest beyond QUARANTINE_KEEP are removed (the manifest keeps their reason and checksum)."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    destination = quarantine_dir / f"{stamp}_{name}"
    os.replace(partial, destination)
    kept = sorted(quarantine_dir.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
    for old in kept[:-QUARANTINE_KEEP]:
        if old.is_file() and old != destination:
            old.unlink()
    return destination
