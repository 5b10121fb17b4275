"""Shared by the hostile-input tests: a seeded clinic with something behind every form, copied
afresh for each test; the forms a page really shows; and a digest of the database."""

from __future__ import annotations

import hashlib
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.models import (
    ClinicSettings,
    ConsultType,
    OutboxMessage,
    Practitioner,
    StaffUser,
    WorkingHours,
)
from tests.support import factories
from tests.support.apps import make_app
from tests.support.availability import availability_places
from tests.support.own_calendars import connect_account, connect_feed
from tests.support.staff import PASSWORD, alert_on, seed_staff_clinic

CHEAP_HASH = "pbkdf2:sha256:1000"


@contextmanager
def sqlite_app(template, tmp_path, **extra):
    """An app on its own copy of a SQLite file, no app context pushed (each request gets its
    own, as under a server)."""
    path = tmp_path / "hostile.db"
    shutil.copy(template, path)
    app = make_app(f"sqlite:///{path}", **extra)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def seed_world_file(path, template) -> dict:
    """A copy of the migrated ``template`` at ``path`` with ``seed_world`` in it: its places."""
    shutil.copy(template, path)
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        places = seed_world()
        db.session.remove()
        db.engine.dispose()
    return places


def seed_world() -> dict:
    """The staff clinic (Dr Ada's consult ``ref`` with an urgent intake and its open ``alert``),
    and for the other forms: Dr Ben's consult ``ref2`` whose link ``token`` is known, Dr Ada's
    consult ``past`` that has started (so it can be marked), a ``hold`` token for the details
    form, a failed email to resend, and the ids the availability pages' remove buttons need."""
    reference = seed_staff_clinic()
    alert = alert_on(reference)
    ids = dict(db.session.execute(sa.select(Practitioner.email, Practitioner.id)).all())
    now = datetime.now(UTC)
    booked, token = services.book(
        ids["ben@clinic.test"],
        factories.next_grid_time(days_ahead=5, hour=14),
        ZoneInfo("America/Chicago"),
        services.PatientDetails("Sam Caller", "sam@example.com", "+1 555 0100"),
        now,
        "clinic.test",
    )
    _, hold = services.hold_slot(
        ids["ben@clinic.test"],
        factories.next_grid_time(days_ahead=6, hour=9),
        ZoneInfo("Europe/Paris"),
        now,
        "clinic.test",
    )
    started = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    past = factories.appointment(db.session.get(Practitioner, ids["ada@clinic.test"]), started)
    failed = db.session.scalars(sa.select(OutboxMessage).limit(1)).one()
    failed.status = "failed"
    # Office hours (fewer free times make the pickers quicker to draw), and passwords hashed
    # cheaply: the fuzzing signs in hundreds of times (the unknown-email hash follows the
    # testing config's PASSWORD_HASH_METHOD, as cheap).
    for person in db.session.scalars(sa.select(Practitioner)):
        person.hours = [
            WorkingHours(weekday=d, start_time=time(9), end_time=time(17)) for d in range(5)
        ]
    for user in db.session.scalars(sa.select(StaffUser)):
        user.password_hash = generate_password_hash(PASSWORD, CHEAP_HASH)
    # The settings forms refuse the reserved .test domain as undeliverable.
    db.session.get(ClinicSettings, 1).contact_email = "hello@clinic.example"
    for person in db.session.scalars(sa.select(Practitioner)):
        person.email = person.email.replace(".test", ".example")
    db.session.commit()
    return {
        "ref": reference,
        "alert": alert,
        "ref2": booked.reference,
        "token": token,
        "hold": hold,
        "past": past.reference,
        "ada": ids["ada@clinic.test"],
        "ben": ids["ben@clinic.test"],
        "failed": failed.id,
        "kind": db.session.scalar(sa.select(ConsultType.id).limit(1)),
        **availability_places(ids["ada@clinic.test"]),
        "ada_calendar": connect_feed(ids["ada@clinic.test"]),
        "ada_account": connect_account(ids["ada@clinic.test"]),
    }


def digest(audited: frozenset[str] = frozenset()) -> str:
    """A hash of every row of every table, but audit rows of the ``audited`` actions (records
    a refused request makes on purpose): equal means nothing changed.

    The rows are read as the database driver gives them, before SQLAlchemy turns them into
    Python values (the same values, read several times faster: fuzzing takes a digest before
    and after each of its thousands of requests)."""
    db.session.rollback()
    connection = db.session.connection()
    h = hashlib.sha256()
    key = (connection.dialect.name, audited)
    if key not in _EVERY_ROW:
        _EVERY_ROW[key] = _every_row(connection.dialect, audited)
    for name, query in _EVERY_ROW[key]:
        rows = connection.exec_driver_sql(query).fetchall()
        h.update(f"{name}:{rows!r}".encode())
    db.session.rollback()
    return h.hexdigest()


_EVERY_ROW: dict[tuple[str, frozenset[str]], list[tuple[str, str]]] = {}


def _every_row(dialect: sa.Dialect, audited: frozenset[str]) -> list[tuple[str, str]]:
    """Per table, the SQL reading all its rows in primary-key order."""
    queries = []
    for table in db.metadata.sorted_tables:
        query = sa.select(table).order_by(*table.primary_key.columns)
        if table.name == "audit_event":
            query = query.where(table.c.action.not_in(sorted(audited)))
        compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        queries.append((table.name, str(compiled)))
    return queries


@dataclass
class Form:
    """A form as a browser sees it: where it goes, and each field's offered values."""

    method: str
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)

    def offer(self, name: str, value: str) -> None:
        values = self.fields.setdefault(name, [])
        if value not in values:
            values.append(value)


class PageForms(HTMLParser):
    """Every <form> of a page with its inputs, buttons, selects and text areas."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("method", "get").lower(), a.get("action", "")))
            return
        if not self.forms or "name" not in a:
            if tag == "option" and self._select:
                self.forms[-1].offer(self._select, a.get("value", ""))
            return
        form, name = self.forms[-1], a["name"]
        if tag == "input" and a.get("type") == "checkbox":
            # Sent ticked or (as "", which means unticked) not: as shown comes last.
            ticked = a.get("value") or "on"
            for value in [ticked, ""] if "checked" not in a else ["", ticked]:
                form.offer(name, value)
        elif tag == "input":
            form.offer(name, a.get("value", "on" if a.get("type") == "radio" else ""))
        elif tag == "button":
            form.offer(name, a.get("value", ""))
        elif tag == "select":
            self._select = name
        elif tag == "textarea":
            self._textarea = name
            form.offer(name, "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            values = self.forms[-1].fields[self._textarea]
            values[-1] = (values[-1] + data).removeprefix("\n")


def form_on(html: str, method: str, action: str, page: str = "") -> Form:
    """The form on ``page`` that sends ``method`` to ``action`` (a path; queries are ignored;
    a form with no action goes to the page itself)."""
    found = [
        f
        for f in PageForms(html).forms
        if f.method == method and urlsplit(f.action or page).path == urlsplit(action).path
    ]
    assert found, f"no {method.upper()} form to {action} on the page"
    return found[0]
