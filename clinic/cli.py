"""Commands: ``flask demo seed``, ``flask outbox send``, ``flask worker``."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from clinic.demo import seed_demo

demo = AppGroup("demo", help="Demo data for trying the site.")
outbox = AppGroup("outbox", help="The queue of emails waiting to be sent.")


def _now() -> datetime:
    return datetime.now(UTC)


def _log_to_stderr() -> None:
    """Show the outbox's and worker's INFO lines through the app's log handler."""
    current_app.logger.setLevel(logging.INFO)


@demo.command("seed")
def seed_command() -> None:
    """Create a demo clinic with two practitioners, unless the database already has a clinic."""
    if seed_demo():
        click.echo("Demo clinic created: two practitioners, bookable from today.")
    else:
        click.echo("The database already has a clinic; nothing changed.")


@outbox.command("send")
@click.option(
    "--retry-now",
    is_flag=True,
    help="Also retry messages waiting after a failed attempt (use once the mail server is back).",
)
def send_command(retry_now: bool) -> None:
    """Deliver every message that is due, once, and say how many."""
    from clinic.notify.delivery import deliver_due, retry_waiting

    _log_to_stderr()
    now = _now()
    if retry_now:
        click.echo(f"{retry_waiting(now)} waiting messages made due now.")
    report = deliver_due(now)
    click.echo(f"Outbox: {report}.")


@click.command("worker")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
def worker_command(interval: float) -> None:
    """Deliver emails and reminders as they fall due, until stopped (Ctrl+C or SIGTERM)."""
    from clinic.extensions import db
    from clinic.notify.delivery import deliver_due, worker_name

    _log_to_stderr()
    log = logging.getLogger("clinic.worker")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    name = worker_name()
    log.info("Worker %s started; delivering every %s seconds.", name, interval)
    while not stop.is_set():
        try:
            report = deliver_due(_now(), owner=name)
            if report.total:
                log.info("Outbox: %s.", report)
        except Exception:  # the database may be briefly away: log, wait, go on
            log.exception("Delivery round failed; trying again in %s seconds.", interval)
            db.session.rollback()
        finally:
            db.session.remove()
        stop.wait(interval)
    log.info("Worker %s stopped.", name)


def init_app(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(outbox)
    app.cli.add_command(worker_command)
