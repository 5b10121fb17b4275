"""Running the outbox worker as its own process and reading what arrived."""

from __future__ import annotations

import os
import re
import sys
from collections import Counter

from tests.support.smtp import SmtpSink


def arrivals(sink: SmtpSink) -> Counter:
    """How many times each Message-ID reached the server."""
    with sink.lock:
        received = list(sink.received)
    return Counter(r.message_id for r in received)


def outbox_send(runner, *args: str) -> dict[str, int]:
    """Run ``flask outbox send`` in-process; its report line as numbers."""
    result = runner.invoke(args=["outbox", "send", *args])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return parse_report(result.output)


def worker_env(database_url: str, sink: SmtpSink) -> dict[str, str]:
    """The environment of a production process using the test database and SMTP sink."""
    return {
        **os.environ,
        "CLINIC_ENV": "production",
        "SECRET_KEY": "testing-secret",
        "DATABASE_URL": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(sink.port),
        "MAIL_TIMEOUT": "10",
        "PYTHONUNBUFFERED": "1",
    }


FLASK = [sys.executable, "-m", "flask", "--app", "wsgi:app"]


def parse_report(output: str) -> dict[str, int]:
    match = REPORT_LINE.search(output)
    assert match, f"no report line in:\n{output}"
    return {key: int(value) for key, value in match.groupdict().items()}


REPORT_LINE = re.compile(
    r"Outbox: (?P<sent>\d+) sent, (?P<retrying>\d+) to retry, (?P<failed>\d+) failed, "
    r"(?P<dropped>\d+) dropped, (?P<logged>\d+) logged"
)
