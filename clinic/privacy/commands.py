"""Commands: ``flask patient export``, ``flask patient erase``, ``flask data purge``.

Thin: each parses its arguments, asks before anything is removed (unless ``--yes``), calls
one service and says what happened. The services own the transactions and the audit rows.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import click
from flask.cli import AppGroup

from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.formatting import stored_zone, when_label
from clinic.privacy.erasure import ErasureInterrupted, erase_patient
from clinic.privacy.export import PatientNotFound, export_patient
from clinic.privacy.records import counted
from clinic.privacy.retention import RetentionRefused, purge

patient = AppGroup("patient", help="One patient's data: export it, or erase it on request.")
data = AppGroup("data", help="Retention: remove personal and health data of long-past consults.")


def _when(moment: datetime) -> str:
    return when_label(moment, stored_zone(clinic_settings().timezone))


def _write_private(path: str, text: str) -> None:
    """Write UTF-8 text; a new file is readable by its owner only (it holds health data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as file:
        file.write(text)


@patient.command("export")
@click.argument("email")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the JSON to this file (new files readable by you only) instead of printing it.",
)
def export_command(email: str, output: str | None) -> None:
    """Everything the clinic holds about the patient with EMAIL, as JSON (audited)."""

    def write(data: dict) -> None:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if output is None:
            click.echo(text, nl=False)
        else:
            _write_private(output, text)

    try:
        consults = export_patient(email, utc_now(), write)
    except PatientNotFound as problem:
        raise click.ClickException(str(problem)) from None
    except OSError as problem:
        raise click.ClickException(
            f"Could not write {output}: {problem.strerror}. Nothing was exported."
        ) from None
    if output is not None:
        click.echo(f"Exported the patient's data ({counted(consults, 'consult')}) to {output}.")


@patient.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Erase without asking for confirmation.")
def erase_command(email: str, yes: bool) -> None:
    """Erase the personal and health data held under EMAIL (audited).

    The consults stay, with no patient, for the schedule's history; booked ones that have not
    ended are cancelled and only the practitioner is emailed.
    """
    plan = erase_patient(email, utc_now(), dry_run=True)
    if not plan.found:
        click.echo("Nothing left to erase: no patient record, email or sign-in holds that address.")
        return
    click.echo(f"This erases {plan}.")
    for consult in plan.cancelled:
        click.echo(
            f"The upcoming consult {consult.reference} with {consult.practitioner} on "
            f"{_when(consult.starts_at)} will be cancelled; only the practitioner is emailed."
        )
    if not yes:
        click.confirm("Erase it all? This cannot be undone", abort=True)
    try:
        done = erase_patient(email, utc_now())
    except ErasureInterrupted as problem:
        raise click.ClickException(str(problem)) from None
    if not done.found:
        click.echo("Nothing left to erase: it was erased meanwhile.")
        return
    click.echo(f"Erased {done}.")
    for consult in done.cancelled:
        click.echo(
            f"Cancelled {consult.reference} with {consult.practitioner} on "
            f"{_when(consult.starts_at)}; the practitioner has been emailed."
        )


@data.command("purge")
@click.option(
    "--older-than",
    "days",
    type=int,
    required=True,
    help="Remove the data of consults that ended more than this many days ago (at least 30).",
)
@click.option(
    "--audit-older-than",
    "audit_days",
    type=int,
    default=None,
    help="Also delete audit events older than this many days (at least 365). Kept if omitted.",
)
@click.option("--yes", is_flag=True, help="Remove without asking for confirmation.")
def purge_command(days: int, audit_days: int | None, yes: bool) -> None:
    """Retention: remove personal and health data of consults that ended long ago (audited)."""
    try:
        plan = purge(days, utc_now(), audit_days=audit_days, dry_run=True)
    except RetentionRefused as problem:
        raise click.ClickException(str(problem)) from None
    cutoff = _when(utc_now() - timedelta(days=days))
    if not plan.total:
        click.echo(f"Nothing to remove: no data of consults that ended before {cutoff}.")
        return
    click.echo(f"Consults that ended before {cutoff}: this removes {plan}.")
    if not yes:
        click.confirm("Remove it? This cannot be undone", abort=True)
    try:
        done = purge(days, utc_now(), audit_days=audit_days)
    except RetentionRefused as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(f"Removed {done}.")
