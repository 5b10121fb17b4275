"""The audit log records where each staff action came from: views hand the request's address
to the services they call, and a command run on the server records none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from clinic.core.audit import audit
from clinic.core.extensions import db
from clinic.core.models import AuditEvent
from tests.support.apps import csrf_token
from tests.support.hostile import form_on, seed_world_file, sqlite_app
from tests.support.hostile_forms import GETS, POSTS, SENT_TO, _phone_details_page, _valid_values
from tests.support.radicale import PASSWORD, USER, running_radicale
from tests.support.staff import seed_staff_clinic, sign_in

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CLIENT = "192.0.2.7"


def addresses(action: str) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(sa.select(AuditEvent.address).where(AuditEvent.action == action))
    )


def test_a_request_records_its_address(app, client):
    with app.app_context():
        seed_staff_clinic()
    client.environ_base["REMOTE_ADDR"] = CLIENT
    assert sign_in(client, "admin").status_code == 303
    with app.app_context():
        assert addresses("sign_in") == [CLIENT]


def test_the_address_is_kept_to_its_column_width(app):
    with app.app_context():
        seed_staff_clinic()
        audit("sign_in", None, now=NOW, address="2001:db8::" + "f" * 80)
        [kept] = addresses("sign_in")
        assert len(kept) == 64 and kept.startswith("2001:db8::")


@pytest.fixture
def world_path(tmp_path, sqlite_template):
    path = tmp_path / "world.db"
    places = seed_world_file(path, sqlite_template)
    return path, places


# Values that change something where the page's own would save what is already there.
CHANGES = {
    "staff.record_outcome": {"outcome": "completed"},
    "staff.edit_practitioner": {"name": "Dr Ada Byron"},
    "staff.edit_consult_type": {"name": "First consult"},
    "staff.change_crisis_line": {"text": "Call 999, or the Samaritans on 116 123."},
}


@pytest.fixture
def radicale(tmp_path):
    """A CalDAV server for connecting an account: the view asks it before saving."""
    with running_radicale(tmp_path / "radicale", work="Work") as server:
        yield server


def _submit(client, endpoint: str, places: dict, changes: dict | None = None) -> None:
    """Post (or send) the staff form of ``endpoint`` with the values its page offers."""
    _who, page, action = POSTS.get(endpoint) or GETS[endpoint]
    method = "post" if endpoint in POSTS else "get"
    if "{phone_details}" in page:
        places = dict(places, phone_details=_phone_details_page(client))
    page_url, target = page.format(**places), action.format(**places)
    form = form_on(client.get(page_url).text, method, target, page_url)
    valid = _valid_values()
    body = {}
    for name, offered in form.fields.items():
        given = offered[-1] if offered else ""
        body[name] = valid[name][-1] if not given.strip() and name in valid else given
    body.pop("use_builtin", None)  # the crisis line's second button
    body.update((changes or CHANGES).get(endpoint, {}))
    target = SENT_TO.get(endpoint, target)
    if method == "post":
        response = client.post(target, data=body)
    else:
        response = client.get(target, query_string=body)
    assert response.status_code in (200, 303), (endpoint, {k: v[:30] for k, v in body.items()})


def test_every_audited_staff_action_records_the_address_it_came_from(
    world_path, tmp_path, radicale
):
    """Each staff form, sent once from one address: every audit row the visit writes carries
    it, whichever service wrote the row."""
    path, places = world_path
    staff_forms = [e for e, (who, *_rest) in POSTS.items() if who == "admin"]
    staff_forms.remove("staff.sign_out")
    # The failed email first (later changes push it off the outbox's first page); the
    # cancellation last (the others change the same consult).
    staff_forms.remove("staff.resend_message")
    staff_forms.remove("staff.cancel_consult")
    changes = {
        **CHANGES,
        "staff.add_own_account": {
            "server_url": radicale.url,
            "username": USER,
            "password": PASSWORD,
        },
    }
    with sqlite_app(path, tmp_path, CALENDAR_ALLOW_PRIVATE_HOSTS=True) as app:
        with app.app_context():
            seeded = db.session.scalar(sa.func.max(AuditEvent.id)) or 0
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = CLIENT
        assert sign_in(client, "admin").status_code == 303
        client.get(f"/staff/consults/{places['ref']}")  # reading intake answers is audited
        for endpoint in [
            "staff.resend_message",
            *staff_forms,
            "staff.consult_export",
            "staff.cancel_consult",
        ]:
            _submit(client, endpoint, places, changes)
        token = csrf_token(client.get("/staff/").text)
        client.post("/staff/sign-out", data={"csrf_token": token})
        with app.app_context():
            rows = db.session.execute(
                sa.select(AuditEvent.action, AuditEvent.address).where(AuditEvent.id > seeded)
            ).all()
    wrong = sorted({(action, address) for action, address in rows if address != CLIENT})
    assert wrong == []
    actions = {action for action, _ in rows}
    # Every service that audits was reached (the list fails loudly when a form stops working).
    assert actions >= {
        "sign_in",
        "view_intake",
        "password_changed",
        "consult_cancelled",
        "consult_completed",
        "note_added",
        "alert_acknowledged",
        "consult_rescheduled",
        "consult_booked",
        "hours_changed",
        "time_off_added",
        "time_off_removed",
        "override_added",
        "override_removed",
        "closure_added",
        "closure_removed",
        "settings_changed",
        "crisis_line_changed",
        "practitioner_added",
        "practitioner_changed",
        "consult_type_changed",
        "outbox_resend",
        "calendar_feed_rotated",
        "calendar_connected",
        "calendar_changed",
        "calendar_removed",
        "consults_exported",
        "signed_out",
    }, actions
