"""Secret link tokens (the consult's booking, manage and intake link; a practitioner's calendar
feed) are unguessable and never written to a log.

A booking, the confirmation, the manage page, the intake, the calendar download and the feed
are fetched from a real (Werkzeug) server, so its request log is produced as in development,
with every logger at DEBUG; the emails are then "sent" to the log, as with no mail server, and
an error is raised on a link's page. No token may appear in any record. (There is no password
reset by email: staff passwords are set by an admin or by their owner signed in.)
"""

from __future__ import annotations

import logging
import math
import re
import shutil
from collections import Counter
from datetime import UTC, datetime

import pytest
import requests

from clinic.booking import services
from clinic.calendar.feed import feed_url
from clinic.core.extensions import db
from clinic.core.links import link_token, new_link_salt
from clinic.core.models import Practitioner
from clinic.notify.delivery import deliver_due
from tests.support import factories
from tests.support.apps import csrf_token, make_app
from tests.support.browser import serve
from tests.support.hostile import form_on, seed_world

pytestmark = pytest.mark.slow
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


@pytest.fixture
def live(tmp_path, sqlite_template):
    path = tmp_path / "clinic.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        places = seed_world()
        db.session.remove()
    server = serve(app)
    yield server, places
    server.stop()


def _book(session: requests.Session, base: str) -> str:
    """Book the first free time as a patient would; the link token from the redirect."""
    page = session.get(f"{base}/book")
    hold = form_on(page.text, "post", "/book/hold")
    data = {name: values[-1] for name, values in hold.fields.items()}
    data["start"] = hold.fields["start"][1]
    held = session.post(f"{base}/book/hold", data=data, allow_redirects=False)
    assert held.status_code == 303
    token = held.headers["Location"].rsplit("/", 1)[1]
    details = session.get(f"{base}/book/{token}")
    confirmed = session.post(
        f"{base}/book/{token}",
        data={
            "csrf_token": csrf_token(details.text),
            "name": "Ana Díaz",
            "email": "ana@example.com",
            "consent_privacy": "y",
            "consent_not_emergency": "y",
        },
    )
    assert confirmed.status_code == 200 and confirmed.url.endswith(f"/book/{token}/done")
    return token


def test_no_token_reaches_any_log(live, caplog, monkeypatch):
    server, places = live
    base, app = server.url, server.app
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        feed = feed_url(db.session.get(Practitioner, places["ada"]))
        db.session.commit()
    feed_token = feed.rsplit("/", 1)[1].removesuffix(".ics")
    session = requests.Session()
    token = _book(session, base)
    visits = [
        f"/book/{token}/consult.ics",
        f"/manage/{token}",
        f"/manage/{token}/reschedule",
        f"/intake/{token}",
        f"/intake/{token}/goals",
        f"/manage/{places['token']}",
        f"/calendar/{feed_token}.ics",
        f"/manage/{'A' * 43}",  # a wrong token is logged no more than a right one
    ]
    for path in visits:
        assert session.get(base + path).status_code in (200, 404), path
    page = session.get(f"{base}/intake/{token}/goals")
    saved = session.post(
        f"{base}/intake/{token}/goals",
        data={"csrf_token": csrf_token(page.text), "goals_concerns": "Sleep", "action": "next"},
        allow_redirects=False,
    )
    assert saved.status_code == 303
    with app.app_context():
        report = deliver_due(datetime.now(UTC))  # no mail server: every email goes to the log
        db.session.remove()
    assert report.logged >= 2

    def broken(*args, **kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(services, "find_by_token", broken)
    assert session.get(f"{base}/manage/{token}").status_code == 500

    secrets = [token, places["token"], places["hold"], feed_token]
    site = [r for r in caplog.records if not r.name.startswith("urllib3")]  # not the test's client
    logged = "\n".join(
        f"{r.getMessage()} {r.args} {r.exc_text or ''} {caplog.handler.format(r)}" for r in site
    )
    assert [s for s in secrets if s in logged] == []
    requests_logged = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert sum("/manage/[token]" in line for line in requests_logged) >= 3
    assert any("/calendar/[token].ics" in line for line in requests_logged)
    assert any("Unhandled error on GET /manage/[token]" in r.getMessage() for r in caplog.records)
    assert any("No MAIL_SERVER set" in r.getMessage() for r in caplog.records)


def test_link_tokens_are_long_random_and_unrelated(app):
    """256 bits each from a fresh random salt: 43 URL-safe characters, never repeated, with
    the characters spread as random ones are (about 6 bits of entropy per character)."""
    tokens = [link_token(new_link_salt()) for _ in range(500)]
    assert all(TOKEN.fullmatch(t) for t in tokens)
    assert len(set(tokens)) == len(tokens)
    counts = Counter("".join(tokens))
    total = sum(counts.values())
    entropy = -sum(n / total * math.log2(n / total) for n in counts.values())
    assert entropy > 5.9  # of at most log2(64) = 6
    salt = new_link_salt()
    assert link_token(salt) != link_token(salt, "calendar-feed")


def test_a_wrong_token_of_the_right_length_is_not_found(client):
    from tests.support import factories

    factories.clinic()
    person = factories.practitioner()
    booked = factories.appointment(person, factories.next_grid_time())
    real = link_token(booked.link_salt)
    near = real[:-1] + ("A" if real[-1] != "A" else "B")
    for wrong in (near, "A" * 43, real.swapcase()):
        for path in ("/book/{}", "/book/{}/done", "/manage/{}", "/intake/{}", "/calendar/{}.ics"):
            assert client.get(path.format(wrong)).status_code == 404, path
    assert client.get(f"/manage/{real}").status_code == 200


def test_sql_values_stay_out_of_logs_even_at_debug(client, app, caplog):
    """A server run with its root logger at DEBUG logs no SQL: statements carry intake answers
    and the salts that make link tokens. (SQLAlchemy keeps its engine logger at WARNING unless
    SQLALCHEMY_ECHO is set; this holds it to that.)"""
    caplog.set_level(logging.DEBUG)
    factories.clinic()
    factories.practitioner()
    response = client.post(
        "/api/v1/bookings",
        json={
            "practitioner": "any",
            "start": factories.next_grid_time(days_ahead=2).isoformat(),
            "timezone": "UTC",
            "name": "Dana Secret",
            "email": "dana.secret@example.com",
            "consent_privacy": True,
            "consent_not_emergency": True,
        },
    )
    assert response.status_code == 201, response.get_json()
    assert not [r for r in caplog.records if r.name.startswith("sqlalchemy.engine")]
    assert "dana.secret@example.com" not in caplog.text
