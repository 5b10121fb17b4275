"""The email outbox page for admins and the front desk: what is waiting, what failed and why,
and sending a failed message again. Email bodies are never shown: they carry the manage link."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinic.accounts.access import DESK_OR_ADMIN, roles_required
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.formatting import parse_zone
from clinic.core.paging import Page
from clinic.notify.outbox_admin import ResendRefused, can_resend, outbox_page, resend
from clinic.staff import bp
from clinic.staff.admin.filter_forms import OutboxFilterForm
from clinic.staff.listing import BAD_PAGE, page_number
from clinic.web.client_address import client_address

PER_PAGE = 50


def _render(form: OutboxFilterForm, page: Page | None, message: str | None, status: int = 200):
    settings = clinic_settings()
    return render_template(
        "staff/outbox.html",
        settings=settings,
        zone=parse_zone(settings.timezone),
        form=form,
        page=page,
        message=message,
        can_resend=can_resend,
    ), status


def _status_filter(form: OutboxFilterForm) -> str | None:
    return None if form.status.data == "any" else form.status.data


@bp.get("/outbox")
@roles_required(*DESK_OR_ADMIN)
def outbox():
    """Every email in the outbox with its delivery state; failed and pending first."""
    form = OutboxFilterForm(formdata=request.args)
    number = page_number()
    if not form.validate():
        return _render(form, None, "Please choose one of the statuses listed.", 422)
    if number is None:
        return _render(form, None, BAD_PAGE, 422)
    return _render(form, outbox_page(_status_filter(form), number, PER_PAGE), None)


@bp.post("/outbox/<int:message_id>/resend")
@roles_required(*DESK_OR_ADMIN)
def resend_message(message_id: int):
    """Send a failed message again now (audited); refused with 409 once it has gone out."""
    try:
        message = resend(message_id, current_user, utc_now(), address=client_address())
    except ResendRefused as refused:
        form = OutboxFilterForm(formdata=request.args)
        status = _status_filter(form) if form.validate() else None
        return _render(form, outbox_page(status, 1, PER_PAGE), str(refused), 409)
    if message is None:
        abort(404, description="There is no such message in the outbox.")
    flash(
        f"The {message.kind.replace('_', ' ')} email to {message.recipient} is due again now "
        "and goes out with the next delivery round."
    )
    # Any: url_for takes its URL values as **values beside keyword options of other types.
    back: dict[str, Any] = {"status": request.args["status"]} if request.args.get("status") else {}
    return redirect(url_for("staff.outbox", **back), code=303)
