"""The downloader against a real HTTP server on 127.0.0.1, started by the test."""

from __future__ import annotations

import gzip
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipelines.common.download import Previous, fetch, make_session

BODY = b'{"marches": {"marche": [{"id": "1"}]}}' * 200
ETAG = '"v1"'


class Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args) -> None:  # keep test output clean
        return None

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        count = Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        if self.path == "/decp.json":
            if self.headers.get("If-None-Match") == ETAG:
                return self._send(304)
            return self._send(
                200, BODY, {"ETag": ETAG, "Last-Modified": "Mon, 03 Nov 2025 08:00:00 GMT"}
            )
        if self.path == "/busy.json":
            if count == 1:
                return self._send(429, b"slow down", {"Retry-After": "0"})
            return self._send(200, BODY)
        if self.path == "/flaky-body.json":
            if count == 1:  # announce the whole body, send half, drop the connection
                self.send_response(200)
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY[: len(BODY) // 2])
                self.wfile.flush()
                self.connection.shutdown(2)
                return None
            return self._send(200, BODY)
        if self.path == "/always-cut.json":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY[:100])
            self.wfile.flush()
            self.connection.shutdown(2)
            return None
        if self.path == "/gzipped.json":  # Content-Length counts the compressed bytes
            return self._send(200, gzip.compress(BODY), {"Content-Encoding": "gzip"})
        if self.path == "/error-page.json":
            return self._send(200, b"<!DOCTYPE html><html><body>Service indisponible</body></html>")
        if self.path == "/empty.json":
            return self._send(200, b"")
        return self._send(404, b"not found")


@pytest.fixture
def server():
    Handler.hits = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def get(server: str, path: str, tmp_path: Path, **kwargs):
    return fetch(
        f"{server}{path}",
        tmp_path / "raw",
        "resource",
        ".json",
        quarantine_dir=tmp_path / "quarantine",
        session=make_session(retries=3, backoff=0),
        body_backoff=0,
        **kwargs,
    )


def test_download_then_304_when_unchanged(server, tmp_path):
    first = get(server, "/decp.json", tmp_path)
    assert first.outcome == "downloaded" and first.http_status == 200
    assert first.path.read_bytes() == BODY
    assert first.path.name == f"resource-{hashlib.sha256(BODY).hexdigest()[:16]}.json"
    assert first.etag == ETAG
    second = get(
        server,
        "/decp.json",
        tmp_path,
        previous=Previous(etag=first.etag, last_modified=first.last_modified, sha256=first.sha256),
    )
    assert (second.outcome, second.http_status) == ("not_modified", 304)
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [first.path.name]


def test_same_content_again_is_unchanged(server, tmp_path):
    get(server, "/decp.json", tmp_path)
    again = get(server, "/decp.json", tmp_path)  # no validators given: body fetched, same hash
    assert again.outcome == "unchanged"
    assert len(list((tmp_path / "raw").iterdir())) == 1


def test_429_is_retried_then_succeeds(server, tmp_path):
    result = get(server, "/busy.json", tmp_path)
    assert result.outcome == "downloaded" and Handler.hits["/busy.json"] == 2


def test_connection_cut_mid_body_is_retried(server, tmp_path):
    result = get(server, "/flaky-body.json", tmp_path)
    assert result.outcome == "downloaded" and result.path.read_bytes() == BODY
    assert result.attempts == 2


def test_body_always_cut_is_quarantined_and_never_lands(server, tmp_path):
    result = get(server, "/always-cut.json", tmp_path, body_attempts=2)
    assert result.outcome == "quarantined" and result.reason.startswith("corps tronqué : ")
    assert result.path.parent == tmp_path / "quarantine"
    assert result.path.stat().st_size < len(BODY)
    assert not list((tmp_path / "raw").glob("*"))


def test_a_gzip_encoded_body_lands_whole_and_decoded(server, tmp_path):
    result = get(server, "/gzipped.json", tmp_path)
    assert result.outcome == "downloaded" and result.path.read_bytes() == BODY


def test_html_error_page_is_quarantined(server, tmp_path):
    result = get(server, "/error-page.json", tmp_path)
    assert (result.outcome, result.reason) == (
        "quarantined",
        "page HTML au lieu du fichier de données attendu",
    )
    assert result.path.parent == tmp_path / "quarantine"
    assert not list((tmp_path / "raw").glob("*.json"))


def test_empty_body_is_quarantined(server, tmp_path):
    result = get(server, "/empty.json", tmp_path)
    assert (result.outcome, result.reason) == ("quarantined", "corps vide")


def test_checksum_mismatch_is_quarantined(server, tmp_path):
    result = get(server, "/decp.json", tmp_path, checksum=("sha1", "0" * 40))
    assert result.outcome == "quarantined" and "empreinte sha1 différente" in result.reason
    good = get(server, "/decp.json", tmp_path, checksum=("sha1", hashlib.sha1(BODY).hexdigest()))
    assert good.outcome == "downloaded"


def test_http_error_is_reported(server, tmp_path):
    result = get(server, "/missing.json", tmp_path)
    assert (result.outcome, result.reason) == ("failed", "HTTP 404")


def test_unsafe_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unsafe"):
        fetch("http://127.0.0.1:9/x", tmp_path, "../etc/passwd", ".json", quarantine_dir=tmp_path)
