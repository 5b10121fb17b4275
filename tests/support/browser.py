"""Shared by the browser tests: Debian's Chromium driven by Playwright, and a live server.

The app is served for real (werkzeug in a background thread) with CSRF on. Without Chromium
at ``/usr/bin/chromium`` or the ``playwright`` package the ``browser`` fixture (conftest.py)
skips with the reason, and fails under ``CI=true``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from clinic.core.extensions import db

try:
    from playwright.sync_api import Page, expect, sync_playwright  # noqa: F401 - re-exported
except ImportError as error:  # pragma: no cover - depends on the machine
    PLAYWRIGHT_MISSING: str | None = f"playwright cannot be imported: {error}"
    Page = expect = sync_playwright = None
else:
    PLAYWRIGHT_MISSING = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


@dataclass
class LiveServer:
    """The app served over HTTP on 127.0.0.1 from a background thread."""

    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="live-server", daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def serve(app: Flask) -> LiveServer:
    """Start serving ``app`` on a free port; its absolute links point at that port."""
    live = LiveServer(app, make_server("127.0.0.1", 0, app, threaded=True))
    app.config["CLINIC_BASE_URL"] = live.url
    live.start()
    return live


def watch_for_trouble(page: Page) -> list[str]:
    """Server errors (5xx) and uncaught JavaScript errors seen by the page, as they happen."""
    trouble: list[str] = []
    page.on(
        "response",
        lambda r: (
            trouble.append(f"{r.status} from {r.request.method} {r.url}")
            if r.status >= 500
            else None
        ),
    )
    page.on("pageerror", lambda e: trouble.append(f"JavaScript error: {e}"))
    return trouble
