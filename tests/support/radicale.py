"""A real CalDAV server for tests: Radicale, started on loopback with one user, which can be
stopped and started again on the same port with the same storage (an outage, then recovery)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port

USER = "dana"
PASSWORD = "app-password-1"


class Radicale:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        (folder / "users").write_text(f"{USER}:{PASSWORD}\n")
        (folder / "config").write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {folder / 'users'}\n"
            "htpasswd_encryption = plain\n"
            "delay = 0\n"
            "[rights]\n"
            "type = owner_only\n"
            "[storage]\n"
            f"filesystem_folder = {folder / 'collections'}\n"
            "[logging]\n"
            "level = warning\n"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def calendar_url(self, name: str) -> str:
        return f"{self.url}{USER}/{name}/"

    def make_calendars(self, **names: str) -> None:
        """Calendars for the user, by their address's last part: ``work="Work"``."""
        from caldav.davclient import DAVClient

        with DAVClient(url=self.url, username=USER, password=PASSWORD) as client:
            principal = client.principal()
            for cal_id, name in names.items():
                principal.make_calendar(name=name, cal_id=cal_id)

    def start(self) -> None:
        with (self.folder / "radicale.log").open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(self.folder / "config")],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.folder / "radicale.log").read_text()
                raise RuntimeError(f"Radicale exited at start:\n{log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("Radicale did not start listening within 20 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextmanager
def running_radicale(folder: Path, **calendars: str) -> Iterator[Radicale]:
    """Radicale storing in ``folder`` (made if missing) with the user's ``calendars``
    (``work="Work"``), stopped on the way out, whatever happened meanwhile."""
    folder.mkdir(parents=True, exist_ok=True)
    server = Radicale(folder)
    server.start()
    try:
        server.make_calendars(**calendars)
        yield server
    finally:
        server.stop()
