"""The site as a production process (``gunicorn wsgi:app``) on a free loopback port, for tests
that need several separate processes, each with its own environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

PROJECT = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = 30  # seconds for gunicorn to answer /healthz


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """One gunicorn with one worker, so each server is exactly one app process."""

    def __init__(self, database_url: str, log_dir: Path, **settings: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"gunicorn-{self.port}.log"
        env = {
            **os.environ,
            "CLINIC_ENV": "production",
            "SECRET_KEY": "app-server-test-secret",
            "DATABASE_URL": database_url,
            "CLINIC_BASE_URL": self.base,
            "PYTHONUNBUFFERED": "1",
            **settings,
        }
        command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{self.port}"]
        command += ["--no-control-socket", "--graceful-timeout", "5", "wsgi:app"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_until_up(self) -> AppServer:
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass  # not listening yet
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer /healthz:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def serving(database_url: str, log_dir: Path, count: int, **settings: str):
    """``count`` servers on one database, all up; each is stopped, and its log printed (pytest
    shows it for a failed test), on the way out."""
    servers = [AppServer(database_url, log_dir, **settings) for _ in range(count)]
    try:
        yield [server.wait_until_up() for server in servers]
    finally:
        for server in servers:
            server.stop()
            print(f"----- {server.base} (exit {server.process.returncode}) -----\n{server.log()}")
