"""Every form of the site with its valid values and where a refusal is audited: what the
hostile-input suites post."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.hostile import form_on
from tests.support.own_calendars import PUBLIC_FEED
from tests.support.staff import PASSWORD

# endpoint: (who signs in, the page showing the form, where the form posts)
POSTS = {
    "booking.hold": (None, "/book", "/book/hold"),
    "booking.details": (None, "/book/{hold}", "/book/{hold}"),
    "booking.reschedule": (None, "/manage/{token}/reschedule", "/manage/{token}/reschedule"),
    "booking.cancel": (None, "/manage/{token}", "/manage/{token}/cancel"),
    "intake.page": (None, "/intake/{token}/{section}", "/intake/{token}/{section}"),
    "staff.sign_in": (None, "/staff/sign-in", "/staff/sign-in"),
    "staff.sign_out": ("admin", "/staff/", "/staff/sign-out"),
    "staff.password": ("admin", "/staff/password", "/staff/password"),
    "staff.cancel_consult": ("admin", "/staff/consults/{ref}", "/staff/consults/{ref}/cancel"),
    "staff.record_outcome": ("admin", "/staff/consults/{past}", "/staff/consults/{past}/outcome"),
    "staff.add_note": ("admin", "/staff/consults/{ref}", "/staff/consults/{ref}/notes"),
    "staff.acknowledge_alert": (
        "admin",
        "/staff/consults/{ref}",
        "/staff/consults/{ref}/alerts/{alert}/acknowledge",
    ),
    "staff.reschedule": (
        "admin",
        "/staff/consults/{ref}/reschedule",
        "/staff/consults/{ref}/reschedule",
    ),
    "staff.phone_booking_details": ("admin", "{phone_details}", "/staff/book/details"),
    "staff.add_hours": ("admin", "/staff/availability/{ada}", "/staff/availability/{ada}/hours"),
    "staff.remove_hours": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/hours/{ada_hours}/remove",
    ),
    "staff.add_time_off": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/time-off",
    ),
    "staff.remove_time_off": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/time-off/{ada_off}/remove",
    ),
    "staff.add_override": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/overrides",
    ),
    "staff.remove_override": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/overrides/{ada_override}/remove",
    ),
    "staff.add_closure": ("admin", "/staff/closures", "/staff/closures"),
    "staff.remove_closure": ("admin", "/staff/closures", "/staff/closures/{closure}/remove"),
    "staff.settings": ("admin", "/staff/settings", "/staff/settings"),
    "staff.change_crisis_line": (
        "admin",
        "/staff/settings/crisis-lines",
        "/staff/settings/crisis-lines/gb",
    ),
    "staff.new_practitioner": ("admin", "/staff/practitioners/new", "/staff/practitioners/new"),
    "staff.edit_practitioner": (
        "admin",
        "/staff/practitioners/{ada}",
        "/staff/practitioners/{ada}",
    ),
    "staff.edit_consult_type": (
        "admin",
        "/staff/consult-types/{kind}",
        "/staff/consult-types/{kind}",
    ),
    "staff.resend_message": ("admin", "/staff/outbox", "/staff/outbox/{failed}/resend"),
    "staff.rotate_calendar": ("admin", "/staff/calendar", "/staff/calendar/{ada}/rotate"),
    "staff.add_own_calendar": ("admin", "/staff/calendar", "/staff/calendar/{ada}/own"),
    "staff.add_own_account": ("admin", "/staff/calendar", "/staff/calendar/{ada}/account"),
    "staff.choose_own_calendars": (
        "admin",
        "/staff/calendar",
        "/staff/calendar/own/{ada_account}/calendars",
    ),
    "staff.sync_own_calendar": (
        "admin",
        "/staff/calendar",
        "/staff/calendar/own/{ada_calendar}/sync",
    ),
    "staff.remove_own_calendar": (
        "admin",
        "/staff/calendar",
        "/staff/calendar/own/{ada_calendar}/remove",
    ),
}


# endpoint: (who signs in, the page showing the form, where the form goes). The CSV export is
# a link carrying the consult list's filter: it is sent that form's fields (SENT_TO).
GETS = {
    "booking.slots": (None, "/book", "/book"),
    "booking.reschedule_times": (None, "/manage/{token}/reschedule", "/manage/{token}/reschedule"),
    "staff.home": ("admin", "/staff/", "/staff/"),
    "staff.week": ("admin", "/staff/week", "/staff/week"),
    "staff.consult_list": ("admin", "/staff/consults", "/staff/consults"),
    "staff.consult_export": ("admin", "/staff/consults", "/staff/consults"),
    "staff.outbox": ("admin", "/staff/outbox", "/staff/outbox"),
    "staff.audit_log": ("admin", "/staff/audit", "/staff/audit"),
    "staff.phone_booking": ("admin", "/staff/book", "/staff/book"),
    "staff.phone_booking_details": ("admin", "/staff/book", "/staff/book/details"),
    "staff.reschedule_times": (
        "admin",
        "/staff/consults/{ref}/reschedule",
        "/staff/consults/{ref}/reschedule",
    ),
}


SENT_TO = {"staff.consult_export": "/staff/consults.csv"}


# Audit rows a refusal writes on purpose: a failed sign-in (401), and a consult page shown
# again with its errors re-shows the intake answers, and every view of those is audited.
AUDITED_ON_REFUSAL = {
    "staff.sign_in": frozenset({"sign_in_failed"}),
    **{
        e: frozenset({"view_intake"})
        for e in ("staff.cancel_consult", "staff.add_note", "staff.acknowledge_alert")
    },
    "staff.record_outcome": frozenset({"view_intake"}),
}


class _ByFieldName(dict):
    """Values by field name; a prefixed name (``feed-3-url``: one form per practitioner on a
    page) finds the values of its field (``url``)."""

    def _key(self, name: str) -> str:
        return name if dict.__contains__(self, name) else name.rsplit("-", 1)[-1]

    def get(self, name, default=None):  # type: ignore[override]
        return dict.get(self, self._key(name), default)

    def __contains__(self, name) -> bool:  # type: ignore[override]
        return dict.__contains__(self, self._key(name))

    def __getitem__(self, name):
        return dict.__getitem__(self, self._key(name))


def _valid_values() -> dict[str, list[str]]:
    """Values that pass, offered after the page's own where the page shows the field empty, so
    fuzzing reaches the services (a body that changes one field sends the others' last)."""
    soon = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    return _ByFieldName(
        {
            "name": ["Ana Díaz"],
            "email": ["admin@clinic.test", "ana@example.com"],
            "phone": ["+44 20 7946 0000"],
            "reason": ["Family event"],
            "body": ["Please call first"],
            "note": ["Training"],
            "starts": [f"{soon}T09:00"],
            "ends": [f"{soon}T12:00"],
            "day": [soon],
            "start": ["09:00"],
            "end": ["12:00"],
            "start_1": ["09:00"],
            "end_1": ["11:00"],
            "current": [PASSWORD],
            "new": ["another long password"],
            "repeat": ["another long password"],
            "password": [PASSWORD],
            "meeting_link": ["https://meet.example.com/{reference}"],
            "consent": ["y"],
            "consent_privacy": ["y"],
            "consent_not_emergency": ["y"],
            "label": ["Home"],
            "url": [PUBLIC_FEED],
            # Refused before any network is touched: fuzzing asks no server.
            "server_url": ["https://127.0.0.1:9/dav/"],
            "username": ["ada@example.com"],
        }
    )


def _phone_details_page(client) -> str:
    """The details page for the first free time the front desk's picker offers."""
    picker = form_on(client.get("/staff/book").text, "get", "/staff/book/details")
    query = "&".join(f"{name}={values[0]}" for name, values in picker.fields.items())
    return "/staff/book/details?" + query.replace("+", "%2B")


def _fields(client, page: str, method: str, action: str) -> dict[str, list[str]]:
    form = form_on(client.get(page).text, method, action, page)
    valid = _valid_values()
    return {
        name: offered + (valid.get(name, []) if set(offered) <= {"", "y", "on"} else [])
        for name, offered in form.fields.items()
    }
