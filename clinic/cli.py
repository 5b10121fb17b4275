"""Commands: ``flask demo seed``, ``flask staff create``, ``flask outbox send``, ``worker``.

Each round of ``outbox send`` and of the worker first escalates the urgent intake alerts that
fell due (``clinic.intake.alerts.escalate_due``), so their emails go out in the same round.
"""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from clinic.core.clock import utc_now
from clinic.demo import seed_demo

demo = AppGroup("demo", help="Demo data for trying the site.")
outbox = AppGroup("outbox", help="The queue of emails waiting to be sent.")
staff = AppGroup("staff", help="Staff accounts for the console at /staff.")


def _log_to_stderr() -> None:
    """Show the outbox's and worker's INFO lines through the app's log handler."""
    current_app.logger.setLevel(logging.INFO)


@demo.command("seed")
def seed_command() -> None:
    """Create a demo clinic with two practitioners, unless the database already has a clinic."""
    if seed_demo():
        from clinic.demo import DEMO_PASSWORD, DEMO_STAFF

        click.echo("Demo clinic created: two practitioners, bookable from today.")
        accounts = ", ".join(f"{email} ({role})" for email, role, _ in DEMO_STAFF)
        click.echo(f"Staff sign-in at /staff: {accounts}; password {DEMO_PASSWORD}")
    else:
        click.echo("The database already has a clinic; nothing changed.")


@staff.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "practitioner", "frontdesk"]))
@click.option("--password", default=None, help="Asked for (hidden, twice) when not given.")
@click.option("--name", default="", help="The name shown in the console.")
@click.option(
    "--practitioner",
    "practitioner_id",
    type=int,
    default=None,
    help="For --role practitioner: the practitioner's id (found by email when omitted).",
)
def create_staff_command(
    email: str, role: str, password: str | None, name: str, practitioner_id: int | None
) -> None:
    """Create a staff account that can sign in at /staff."""
    from clinic.accounts.services import AccountError, create_staff

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_staff(email, role, password, name=name, practitioner_id=practitioner_id)
    except AccountError as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(f"Staff account created: {user.email} ({user.role}).")


@outbox.command("send")
@click.option(
    "--retry-now",
    is_flag=True,
    help="Also retry messages waiting after a failed attempt (use once the mail server is back).",
)
def send_command(retry_now: bool) -> None:
    """Escalate urgent intake alerts that fell due, then deliver every message that is due,
    once, and say how many."""
    from clinic.intake.alerts import escalate_due
    from clinic.notify.delivery import deliver_due
    from clinic.notify.outbox_admin import retry_waiting

    _log_to_stderr()
    now = utc_now()
    click.echo(f"Alerts: {escalate_due(now)} escalated to the admins.")
    if retry_now:
        click.echo(f"{retry_waiting(now)} waiting messages made due now.")
    report = deliver_due(now)
    click.echo(f"Outbox: {report}.")


@click.command("worker")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
def worker_command(interval: float) -> None:
    """Escalate unacknowledged urgent alerts, read practitioners' own calendars and deliver
    emails and reminders as they fall due, until stopped (Ctrl+C or SIGTERM)."""
    from clinic.core.extensions import db
    from clinic.intake.alerts import escalate_due
    from clinic.notify.delivery import deliver_due, worker_name

    _log_to_stderr()
    log = logging.getLogger("clinic.worker")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    name = worker_name()
    log.info("Worker %s started; delivering every %s seconds.", name, interval)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    calendars = threading.Thread(
        target=_read_calendars, args=(app, stop, interval, log), name="calendars", daemon=True
    )
    calendars.start()
    while not stop.is_set():
        try:  # apart from delivery: a failure here must not hold up the emails
            escalated = escalate_due(utc_now())
            if escalated:
                log.info("Alerts: %s escalated to the admins.", escalated)
        except Exception:
            log.exception("Escalating alerts failed; trying again in %s seconds.", interval)
            db.session.rollback()
        try:
            report = deliver_due(utc_now(), owner=name)
            if report.total:
                log.info("Outbox: %s.", report)
        except Exception:  # the database may be briefly away: log, wait, go on
            log.exception("Delivery round failed; trying again in %s seconds.", interval)
            db.session.rollback()
        finally:
            db.session.remove()
        stop.wait(interval)
    calendars.join(timeout=60)
    log.info("Worker %s stopped.", name)


def _read_calendars(app: Flask, stop: threading.Event, interval: float, log) -> None:
    """Practitioners' own calendars, read and written in a thread of their own: a slow or
    silent calendar server holds up nothing but its own calendars, never an email."""
    from clinic.core.extensions import db
    from clinic.own_calendars.push import push_due
    from clinic.own_calendars.sync import sync_due

    with app.app_context():
        while not stop.is_set():
            try:
                synced = sync_due(utc_now())
                if synced:
                    log.info("Calendars: %s read.", synced)
                pushed = push_due(utc_now())
                if pushed:
                    log.info("Calendars: consult copies brought up to date: %s.", pushed)
            except Exception:
                log.exception("Reading calendars failed; trying again in %s seconds.", interval)
                db.session.rollback()
            finally:
                db.session.remove()
            stop.wait(interval)


def init_app(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(outbox)
    app.cli.add_command(staff)
    app.cli.add_command(worker_command)

    from clinic.privacy.commands import data, patient

    app.cli.add_command(patient)
    app.cli.add_command(data)
