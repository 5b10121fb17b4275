"""The development outbox page, and link tokens kept out of logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.models import OutboxMessage
from clinic.web.log_redaction import RedactLinkTokens
from tests.support import factories
from tests.support.apps import running_app


@pytest.fixture
def dev_app(database_url, backend):
    with running_app(database_url, backend, DEV_OUTBOX_PAGE=True) as app:
        yield app


def book(start=None):
    factories.clinic(timezone="America/New_York")
    practitioner = factories.practitioner(name="Dr Ada Lane")
    return services.book(
        practitioner.id,
        start or factories.next_grid_time(3),
        ZoneInfo("Europe/London"),
        services.PatientDetails("Jo Patient", "jo@example.com"),
        datetime.now(UTC),
        "clinic.test",
    )


def test_the_outbox_page_shows_each_email_with_its_link_in_development(dev_app):
    _, token = book()
    client = dev_app.test_client()
    listing = client.get("/dev/outbox")
    assert listing.status_code == 200
    ids = db.session.scalars(sa.select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    assert len(ids) == 4  # confirmation, practitioner's notice, two reminders
    for message_id in ids:
        assert f"/dev/outbox/{message_id}" in listing.text
    first = client.get(f"/dev/outbox/{ids[0]}")
    assert "Booked: your free consult with Dr Ada Lane" in first.text
    assert f"/manage/{token}" in first.text  # readable in the browser, so the flow can be tried
    html = client.get(f"/dev/outbox/{ids[0]}/email.html")
    assert html.mimetype == "text/html" and "Your consult is booked" in html.text
    invite = client.get(f"/dev/outbox/{ids[0]}/invite.ics")
    assert invite.mimetype == "text/calendar" and b"METHOD:REQUEST" in invite.data
    reminder = ids[-1]
    assert client.get(f"/dev/outbox/{reminder}/invite.ics").status_code == 404
    assert client.get("/dev/outbox/999999").status_code == 404


def test_the_outbox_page_does_not_exist_outside_development(app, client):
    book()
    assert client.get("/dev/outbox").status_code == 404
    assert client.get("/dev/outbox/1").status_code == 404


def test_request_logs_show_no_link_token():
    token = "9k9f31kXrvz64FpTq-47sC0psoPUefaQem0FuzjfsfM"
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - "%s" %s',
        ("127.0.0.1", f"GET /manage/{token}/reschedule?tz=UTC HTTP/1.1", 200),
        None,
    )
    RedactLinkTokens().filter(record)
    line = record.getMessage()
    assert token not in line
    assert "/manage/[token]/reschedule" in line
    booking = logging.LogRecord("x", logging.INFO, __file__, 1, "GET /book/hold", (), None)
    RedactLinkTokens().filter(booking)
    assert booking.getMessage() == "GET /book/hold"  # ordinary paths stay readable


def test_an_error_on_a_link_page_is_logged_without_the_token(app, client, caplog, monkeypatch):
    _, token = book()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("clinic.booking.manage._render_manage", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get(f"/manage/{token}")
    assert response.status_code == 500
    assert "/manage/[token]" in caplog.text
    assert token not in caplog.text
    for name in ("werkzeug", "gunicorn.access"):
        assert any(isinstance(f, RedactLinkTokens) for f in logging.getLogger(name).filters)
