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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "pnad-tracker/0.1 (suivi des achats publics durables)"
CONNECT_TIMEOUT, READ_TIMEOUT = 10, 120
RETRY_STATUSES = (429, 500, 502, 503, 504)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
CHUNK = 1024 * 1024


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


def make_session(retries: int = 4, backoff: float = 0.5) -> requests.Session:
    """A session that retries connection errors and 429/5xx answers with exponential backoff,
    honouring Retry-After."""
    retry = Retry(
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
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _digest(algorithm: str) -> hashlib._Hash:
    algorithm = algorithm.lower().replace("-", "")
    if algorithm not in {"sha1", "sha256", "md5", "sha512"}:
        raise ValueError(f"unsupported checksum type: {algorithm}")
    return hashlib.new(algorithm)


def looks_like_html(head: bytes) -> bool:
    """An HTML page (typically an error page) where a data file was expected: the first bytes
    start a tag and hold <html or an HTML doctype. Also used to sniff landed files."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    return start.startswith(b"<") and (b"<html" in start or b"<!doctype html" in start)


class _BodyError(Exception):
    """The body could not be read whole (connection cut, truncated)."""


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
) -> FetchResult:
    """Download ``url`` into ``target_dir`` as ``<stem>-<sha256 prefix><suffix>``, atomically.

    The name is the project's (``stem`` from the source configuration) plus the content hash, so a
    landed file is immutable: a new version of a resource is a new file. ``checksum`` is the
    published (type, value); ``previous`` enables a conditional GET. Never raises for network or
    content problems: ``outcome`` and ``reason`` say what happened.
    """
    if not SAFE_NAME.match(stem + suffix) or not re.fullmatch(r"(\.[a-z0-9]{1,8}){0,2}", suffix):
        raise ValueError(f"unsafe target file name: {stem + suffix!r}")
    target = target_dir / f"{stem}{suffix}"
    session = session or make_session()
    previous = previous or Previous()
    headers = {}
    if previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    result = FetchResult(url=url, outcome="failed")

    for attempt in range(1, body_attempts + 1):
        result.attempts = attempt
        try:
            with session.get(url, headers=headers, stream=True, timeout=timeout) as response:
                result.http_status = response.status_code
                result.etag = response.headers.get("ETag")
                result.last_modified = response.headers.get("Last-Modified")
                if response.status_code == 304:
                    result.outcome, result.sha256 = "not_modified", previous.sha256
                    return result
                if response.status_code != 200:
                    result.reason = f"HTTP {response.status_code}"
                    return result
                expected_size = response.headers.get("Content-Length")
                expected_size = (
                    int(expected_size) if expected_size and expected_size.isdigit() else None
                )
                sha256 = hashlib.sha256()
                published = _digest(checksum[0]) if checksum else None
                size, head = 0, b""
                with partial.open("wb") as out:
                    for chunk in response.iter_content(CHUNK):
                        out.write(chunk)
                        sha256.update(chunk)
                        if published:
                            published.update(chunk)
                        if len(head) < 4096:
                            head += chunk[: 4096 - len(head)]
                        size += len(chunk)
                        if progress:
                            progress(size, expected_size)
                    out.flush()
                    os.fsync(out.fileno())
                # Content-Length counts the bytes sent, compressed when the server gzips the
                # body: compare it with the bytes read from the socket, not the decoded ones
                received = response.raw.tell() if response.raw is not None else size
                if expected_size is not None and received != expected_size:
                    raise _BodyError(f"truncated body: {received} of {expected_size} bytes")
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            _BodyError,
        ) as error:
            result.reason = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
            if attempt < body_attempts:
                partial.unlink(missing_ok=True)
                time.sleep(body_backoff * 2 ** (attempt - 1))
                continue
            if partial.exists():
                # the body had started (HTTP 200) and was cut: what arrived of it is set aside
                # for diagnosis, never landed (requests may drop the last piece it read)
                if not result.reason.startswith("truncated body"):
                    result.reason = f"truncated body: {result.reason}"
                result.outcome = "quarantined"
                result.path = _quarantine(partial, quarantine_dir, target.name)
            return result
        break

    result.size, result.sha256 = size, sha256.hexdigest()
    problem = None
    if size == 0:
        problem = "empty body"
    elif expect_data and looks_like_html(head):
        problem = "HTML page where a data file was expected"
    elif published and published.hexdigest().lower() != checksum[1].lower():
        problem = (
            f"{checksum[0]} checksum mismatch: published {checksum[1]}, got {published.hexdigest()}"
        )
    if problem:
        destination = _quarantine(partial, quarantine_dir, target.name)
        result.outcome, result.reason, result.path = "quarantined", problem, destination
        return result
    final = target_dir / f"{stem}-{result.sha256[:16]}{suffix}"
    if final.exists():
        partial.unlink(missing_ok=True)  # same content already landed: nothing new to parse
        result.outcome, result.path = "unchanged", final
        return result
    os.replace(partial, final)  # atomic: readers see no file or the whole file, never half
    result.outcome, result.path = "downloaded", final
    return result


def _quarantine(partial: Path, quarantine_dir: Path, name: str) -> Path:
    """Move a received body that must not land into quarantine/, named by time and target."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    destination = quarantine_dir / f"{stamp}_{name}"
    os.replace(partial, destination)
    return destination
