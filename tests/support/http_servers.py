"""Small HTTP servers on loopback: pages (answered 304 when their ETag is sent back), an
error status on any path, and misbehaviour on request: a body that never ends, one that
trickles, redirects in a chain or to anywhere, a slow answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # a body without Content-Length ends when the socket does
    server: Server

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_PROPFIND(self) -> None:  # noqa: N802 - a CalDAV client's first question
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        path = self.path
        self.server.hits.append(path)
        self.server.asked.append(dict(self.headers))
        try:
            if path in self.server.statuses:
                self._send(self.server.statuses[path], b"<html>No</html>", {"Content-Length": "15"})
            elif path in self.server.pages:
                body, headers = self.server.pages[path]
                etag = headers.get("ETag")
                if etag is not None and self.headers.get("If-None-Match") == etag:
                    self._send(304, headers={"ETag": etag})
                    return
                self._send(200, body, {"Content-Length": str(len(body)), **headers})
            elif path.startswith("/redirect?to="):
                self._send(302, headers={"Location": path.split("=", 1)[1]})
            elif path.startswith("/chain/"):
                left = int(path.rsplit("/", 1)[1])
                if left == 0:
                    self._send(200, b"end", {"Content-Length": "3"})
                else:
                    self._send(302, headers={"Location": f"/chain/{left - 1}"})
            elif path.startswith("/bytes/"):  # that many bytes, no Content-Length
                self._send(200, b"x" * int(path.rsplit("/", 1)[1]))
            elif path == "/claims-a-gigabyte":
                self._send(200, b"", {"Content-Length": str(10**9)})
            elif path == "/endless":
                self._send(200)
                while True:
                    self.wfile.write(b"y" * 65536)
            elif path == "/trickle":
                self._send(200)
                while True:
                    self.wfile.write(b"z")
                    self.wfile.flush()
                    time.sleep(0.05)
            elif path == "/slow":
                time.sleep(3)
                self._send(200, b"late")
            elif path == "/silent":  # a long wait, within a client's read timeout
                time.sleep(4)
                self._send(503)
            else:
                self._send(404)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.hits: list[str] = []
        self.asked: list[dict[str, str]] = []  # each request's headers
        self.pages: dict[str, tuple[bytes, dict[str, str]]] = {}  # 304 when the ETag matches
        self.statuses: dict[str, int] = {}  # paths answered with just that status

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@contextmanager
def http_server(host: str = "127.0.0.1") -> Iterator[Server]:
    server = Server(host)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
