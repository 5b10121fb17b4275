"""The admin's crisis lines page: what a patient at risk is shown, country by country."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import Label

from clinic.accounts.access import roles_required
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.formatting import parse_zone
from clinic.core.models import Role
from clinic.intake.crisis_line_edits import (
    OTHER,
    CrisisText,
    change_crisis_text,
    crisis_text,
    crisis_texts,
    use_builtin_text,
)
from clinic.staff import bp
from clinic.staff.admin.forms import CrisisLineForm, OtherCrisisTextForm
from clinic.web.client_address import client_address

ADMIN = Role.ADMIN.value


def _form(line: CrisisText, posted: bool = False) -> CrisisLineForm:
    """The place's form: the one posted reads the request, the others show the saved text."""
    kind = OtherCrisisTextForm if line.place == OTHER else CrisisLineForm
    form = kind() if posted else kind(formdata=None, text=line.text)
    form.text.id = f"{line.place}-text"  # one text box per place on the page
    form.text.label = Label(form.text.id, f"What patients {line.where} see")
    return form


def _page(posted: tuple[str, CrisisLineForm] | None = None):
    lines = crisis_texts()
    forms = {line.place: _form(line) for line in lines}
    if posted is not None:
        forms[posted[0]] = posted[1]
    settings = clinic_settings()
    return render_template(
        "staff/crisis_lines.html",
        lines=lines,
        forms=forms,
        refused=posted is not None,
        zone=parse_zone(settings.timezone),
        settings=settings,
    )


@bp.get("/settings/crisis-lines")
@roles_required(ADMIN)
def crisis_lines():
    """Each listed country's crisis text, built-in or the clinic's own, and every other
    country's."""
    return _page()


@bp.post("/settings/crisis-lines/<place>")
@roles_required(ADMIN)
def change_crisis_line(place: str):
    """Save one place's crisis text, or go back to the built-in one; audited by place."""
    line = crisis_text(place)
    if line is None:
        abort(404, description="There is no such country on the crisis lines page.")
    form = _form(line, posted=True)
    now = utc_now()
    if form.use_builtin.data:  # the CSRF token is checked for every post, this one too
        changed = use_builtin_text(place, current_user, now, address=client_address())
        done = f"Patients {line.where} now see the built-in text."
    elif form.validate_on_submit():
        changed = change_crisis_text(
            place, form.text.data, current_user, now, address=client_address()
        )
        done = f"The text for patients {line.where} was saved."
    else:
        return _page((place, form)), 422
    flash(done if changed else "Nothing changed.")
    return redirect(url_for("staff.crisis_lines", _anchor=place), code=303)
