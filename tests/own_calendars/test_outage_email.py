"""A calendar that stops working is emailed about once per outage, to the practitioner and
the admins, after it has failed for a while (a blip the next round mends is not), naming the
calendar and what went wrong, never its address; once it works again, a new outage is news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import OutboxMessage, Role, StaffUser
from clinic.notify.compose import compose
from clinic.own_calendars.outages import OUTAGE_GRACE
from clinic.own_calendars.sync import sync_connection
from tests.support import factories
from tests.support.http_servers import http_server
from tests.support.own_calendars import connect_feed

FEED = (Path(__file__).parent / "feeds" / "google.ics").read_bytes()
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def server(app):
    app.config["CALENDAR_ALLOW_PRIVATE_HOSTS"] = True
    with http_server() as server:
        server.pages["/secret-address.ics"] = (FEED, {})
        yield server


def emails() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_one_email_per_outage_to_the_practitioner_and_the_admins(app, server):
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner(name="Dr Ada Lane", email="ada@clinic.example")
        for email, role, active in [
            ("boss@clinic.example", Role.ADMIN, True),
            ("gone@clinic.example", Role.ADMIN, False),
            ("desk@clinic.example", Role.FRONTDESK, True),
        ]:
            db.session.add(
                StaffUser(
                    email=email, name=email, role=role.value, password_hash="x", active=active
                )
            )
        db.session.commit()
        connection = connect_feed(doctor.id, server.url + "/secret-address.ics", label="Home")
        assert sync_connection(connection, NOW).ok
        server.statuses["/secret-address.ics"] = 404

        outage = NOW + timedelta(minutes=5)
        for minutes in (0, 5, 10):  # failing, but not for long yet
            assert not sync_connection(connection, outage + timedelta(minutes=minutes)).ok
        assert emails() == []
        assert not sync_connection(connection, outage + OUTAGE_GRACE).ok
        sent = emails()
        assert sorted(m.recipient for m in sent) == ["ada@clinic.example", "boss@clinic.example"]
        for minutes in (20, 25, 60, 600):  # the same outage goes on: no more emails
            assert not sync_connection(connection, outage + timedelta(minutes=minutes)).ok
        assert len(emails()) == 2

        composed = compose(sent[0])
        assert "Dr Ada Lane" in composed.subject and "Home" in composed.subject
        assert "no calendar at that address" in composed.text
        assert "secret-address" not in composed.text + composed.html + composed.subject
        assert composed.invite is None

        del server.statuses["/secret-address.ics"]  # it works again...
        back = outage + timedelta(hours=11)
        assert sync_connection(connection, back).ok
        server.statuses["/secret-address.ics"] = 500  # ...and then it fails again: news
        for minutes in (5, 10, 15, 20, 25):
            sync_connection(connection, back + timedelta(minutes=minutes))
        assert len(emails()) == 4
        assert "(500)" in compose(emails()[-1]).text
