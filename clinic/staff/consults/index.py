"""The consult list with its filters, and the same consults as a CSV download."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, render_template, request
from flask_login import current_user

from clinic.accounts.access import ANY_STAFF, roles_required
from clinic.booking.csv_export import export_consults
from clinic.booking.search import ConsultFilters, consult_page
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.extensions import db
from clinic.core.formatting import parse_zone
from clinic.core.models import Practitioner
from clinic.intake.open_alerts import open_alert_kinds
from clinic.staff import bp
from clinic.staff.consults.filter_forms import ConsultFilterForm
from clinic.staff.listing import BAD_PAGE, page_number
from clinic.web.client_address import client_address

PER_PAGE = 50
DEFAULT_DAYS = 14  # the list opens on today and the next 14 days


def _read_filters():
    """The settings, the clinic's zone, the filter form read from the query, and if it is valid."""
    settings = clinic_settings()
    zone = parse_zone(settings.timezone)
    practitioners = db.session.scalars(sa.select(Practitioner).order_by(Practitioner.name))
    form = ConsultFilterForm(formdata=request.args)
    form.fill_in(practitioners, utc_now().astimezone(zone).date(), DEFAULT_DAYS)
    valid = form.validate()
    return settings, zone, form, valid


def _refused(settings, zone, form, message: str | None = None):
    return render_template(
        "staff/consults.html",
        settings=settings,
        zone=zone,
        form=form,
        page=None,
        params={},
        message=message or "Some of the filters need another look: see the messages below.",
    ), 422


@bp.get("/consults")
@roles_required(*ANY_STAFF)
def consult_list():
    """Consults in a date range (clinic's zone), filtered, 50 a page in order of start; those
    with alerts nobody has acknowledged are marked."""
    settings, zone, form, valid = _read_filters()
    number = page_number()
    if not valid:
        return _refused(settings, zone, form)
    if number is None:
        return _refused(settings, zone, form, BAD_PAGE)
    filters = ConsultFilters.from_form(form)
    page = consult_page(filters, zone, number, PER_PAGE)
    return render_template(
        "staff/consults.html",
        settings=settings,
        zone=zone,
        form=form,
        page=page,
        alerted=open_alert_kinds(a.id for a in page.items),
        params=filters.as_params(),
        message=None,
    )


@bp.get("/consults.csv")
@roles_required(*ANY_STAFF)
def consult_export():
    """Every consult matching the filters as CSV (no intake answers); each export is audited."""
    settings, zone, form, valid = _read_filters()
    if not valid:
        return _refused(settings, zone, form)
    filters = ConsultFilters.from_form(form)
    text, _count = export_consults(filters, zone, current_user, utc_now(), address=client_address())
    name = f"consults-{filters.first_day.isoformat()}-to-{filters.last_day.isoformat()}.csv"
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
