"""Email through a real SMTP server: MIME, calendar invites, retries, safety and concurrency.

Every message is sent over SMTP to an aiosmtpd server on loopback (``tests.support.smtp.SmtpSink``)
and read back from the bytes that arrived, parsed with the standard library's ``email``
package. Calendars are checked against RFC 5545 / 5546 by hand and parsed by two independent
libraries (icalendar and vobject). Like every app test, each runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from itertools import pairwise
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
import vobject
from flask import current_app

from clinic.booking import lifecycle as changes
from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.models import Appointment, OutboxMessage, Patient
from clinic.notify import delivery
from clinic.notify.delivery import LINK_PLACEHOLDER, deliver_due
from tests.support import factories
from tests.support.apps import csrf_token, running_app
from tests.support.mail import FLASK, arrivals, outbox_send, parse_report, worker_env
from tests.support.queries import counting
from tests.support.servers import PROJECT
from tests.support.smtp import Received, SmtpSink

CLINIC_ZONE = "America/New_York"
PATIENT_ZONE = "Asia/Kolkata"
PATIENT_EMAIL = "jo@example.com"
# Multi-byte letters make the SUMMARY longer than 75 octets, so folding by octets is tested.
PRACTITIONER_NAME = "Dr Zoë Ñúñez-Łukasiewicz"
PRACTITIONER_EMAIL = "zoe@clinic.test"
UID_DOMAIN = "clinic.test"
EVIL_NAME = "Eve\r\nBcc: evil@example.com"
SCRIPT_NAME = "<script>alert(1)</script>"


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def mail_config() -> dict:
    """Extra app settings; a test overrides this by parametrizing ``mail_config``."""
    return {}


@pytest.fixture
def mail_app(database_url, backend, sink, mail_config):
    """conftest's ``app``, but sending through ``sink`` (plus any ``mail_config``)."""
    with running_app(database_url, backend, **{**sink.config(), **mail_config}) as app:
        yield app


@pytest.fixture
def practitioner(mail_app):
    """A clinic in New York and one practitioner (in UTC) working round the clock."""
    factories.clinic(timezone=CLINIC_ZONE)
    return factories.practitioner(name=PRACTITIONER_NAME, email=PRACTITIONER_EMAIL)


# --- helpers: booking and delivering ---------------------------------------------------------


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def book(
    start: datetime,
    now: datetime | None = None,
    name: str = "Jo Patient",
    email: str = PATIENT_EMAIL,
) -> tuple[Appointment, str]:
    """Book ``start`` through the booking service; returns the consult and its link token."""
    return services.book(
        None,
        start,
        ZoneInfo(PATIENT_ZONE),
        services.PatientDetails(name, email),
        now or now_utc(),
        UID_DOMAIN,
    )


def deliver(now: datetime):
    """``deliver_due(now)``; the session forgets what it loaded, so rows are read afresh."""
    report = deliver_due(now)
    db.session.expire_all()
    return report


def invites() -> list[OutboxMessage]:
    """Outbox rows that carry an invite (not reminders), oldest first, fresh from the database."""
    query = sa.select(OutboxMessage).where(OutboxMessage.kind != "reminder")
    db.session.expire_all()
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


# --- helpers: reading what arrived -----------------------------------------------------------


def mime_tree(part) -> object:
    """The content types of a message as nested lists, e.g. ['multipart/mixed', [...]]."""
    if part.is_multipart():
        return [part.get_content_type(), [mime_tree(p) for p in part.get_payload()]]
    return part.get_content_type()


def calendar_part(msg: EmailMessage):
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    return part


def calendar_bytes(msg: EmailMessage) -> bytes:
    return calendar_part(msg).get_payload(decode=True)


def body_text(msg: EmailMessage, subtype: str) -> str:
    return msg.get_body((subtype,)).get_content()


def check_structure(received: Received) -> EmailMessage:
    """An invite email exactly as RFC 6047 and the big mail clients expect it.

    multipart/mixed -> [multipart/alternative -> [plain, html, calendar], invite.ics]; the
    inline calendar names its METHOD in ``method=`` (written unquoted) and is no attachment;
    the attachment holds the very same bytes.
    """
    msg = received.message
    assert mime_tree(msg) == [
        "multipart/mixed",
        [
            ["multipart/alternative", ["text/plain", "text/html", "text/calendar"]],
            "application/ics",
        ],
    ]
    alternative, attachment = msg.get_payload()
    inline = alternative.get_payload()[2]
    inline_bytes = inline.get_payload(decode=True)
    method = str(icalendar.Calendar.from_ical(inline_bytes)["METHOD"])
    assert inline.get_param("charset") == "UTF-8"
    assert inline.get_param("method") == method
    assert inline["Content-Disposition"] is None
    assert re.search(
        rb"Content-Type: text/calendar;[^\r\n]*[; ]method=" + method.encode() + rb"(;|\r?\n)",
        received.data,
    ), "method= must be written unquoted on the text/calendar part"
    assert b'method="' not in received.data
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == inline_bytes
    return msg


def unfolded_lines(text: str) -> list[str]:
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def check_invite(msg: EmailMessage, method: str, recipient_email: str):
    """The RFC 5545 / 5546 rules every emailed invite must keep; returns (calendar, event)."""
    return check_calendar(calendar_bytes(msg), method, recipient_email)


def check_calendar(data: bytes, method: str, recipient_email: str):
    """``check_invite`` on the calendar's bytes."""
    # Lines end in CRLF only, and no physical line is over 75 octets.
    assert data.endswith(b"\r\n")
    bare = data.replace(b"\r\n", b"")
    assert b"\n" not in bare and b"\r" not in bare, "a bare LF or CR in the calendar"
    long_lines = [line for line in data.split(b"\r\n") if len(line) > 75]
    assert not long_lines, long_lines
    text = data.decode("utf-8")
    lines = unfolded_lines(text)

    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar.get("PRODID", "")).strip()
    assert str(calendar["METHOD"]) == method
    assert [c.name for c in calendar.subcomponents] == ["VEVENT"], "exactly one VEVENT"
    [event] = calendar.walk("VEVENT")
    uid = str(event["UID"])
    assert uid

    for name in ("DTSTAMP", "DTSTART", "DTEND"):
        [line] = [x for x in lines if x.split(":")[0].split(";")[0] == name]
        assert line.endswith("Z") and "TZID" not in line, f"{name} not in UTC: {line}"
        assert event.decoded(name).utcoffset() == timedelta(0)
    assert event.decoded("DTEND") > event.decoded("DTSTART")
    assert len([x for x in lines if x.startswith("SEQUENCE:")]) == 1, "exactly one SEQUENCE"

    assert str(event["SUMMARY"]).strip() and str(event["DESCRIPTION"]).strip()
    appointment = db.session.scalar(sa.select(Appointment).where(Appointment.calendar_uid == uid))
    assert appointment is not None, f"no consult with UID {uid}"
    video = appointment.practitioner.meeting_link.replace("{reference}", appointment.reference)
    assert str(event["LOCATION"]) == video

    clinic_address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    assert str(event["ORGANIZER"]) == f"mailto:{clinic_address}"
    assert str(event["ORGANIZER"]).lower() != f"mailto:{recipient_email}".lower()
    attendee = event["ATTENDEE"]
    assert not isinstance(attendee, list), "one ATTENDEE: the recipient"
    assert str(attendee) == f"mailto:{recipient_email}"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"

    alarms = event.walk("VALARM")
    if method == "REQUEST":
        assert str(event["STATUS"]) == "CONFIRMED"
        assert alarms, "a REQUEST carries a reminder alarm"
        for alarm in alarms:
            assert "ACTION" in alarm and "TRIGGER" in alarm
            if str(alarm["ACTION"]) == "DISPLAY":
                assert "DESCRIPTION" in alarm  # RFC 5545 3.6.6: required for DISPLAY
    else:
        assert str(event["STATUS"]) == "CANCELLED"
        assert not alarms, "a CANCEL carries no alarm"
        assert "BEGIN:VALARM" not in text

    # A second, independent parser, validating as it reads.
    parsed = vobject.readOne(text, validate=True)
    assert parsed.method.value == method
    assert parsed.vevent.uid.value == uid
    return calendar, event


def header_names(raw: bytes) -> list[str]:
    """The field names of the top-level header block, in order (continuations folded in)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            continue  # a folded continuation of the previous field
        match = re.match(r"([!-9;-~]+):", line)
        assert match, f"not a header line: {line!r}"
        names.append(match.group(1))
    return names


def spelled_out(moment: datetime, zone: str) -> str:
    """'Wednesday 25 November 2026, 1:30 AM' in ``zone``, worked out here, not by the app."""
    local = moment.astimezone(ZoneInfo(zone))
    clock = f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    return f"{local:%A} {local.day} {local:%B} {local.year}, {clock}"


def visible_text(markup: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


# --- 1 and 2: one booking, two invites -------------------------------------------------------


@pytest.mark.parametrize(
    "mail_config", [{"MAIL_DEFAULT_SENDER": "Harbour Clinic Bookings <bookings@harbour.test>"}]
)
def test_a_booking_sends_an_invite_to_the_patient_and_to_the_practitioner(
    mail_app, practitioner, sink
):
    """One booking, two SMTP deliveries, each an RFC 6047 invite with a valid calendar."""
    now = now_utc()
    appointment, _ = book(factories.next_grid_time(3, 15), now)

    report = deliver(now)

    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    assert sorted(r.rcpt_tos for r in sink.received) == sorted(
        [(PATIENT_EMAIL,), (PRACTITIONER_EMAIL,)]
    )
    for received in sink.received:
        assert received.mail_from == "bookings@harbour.test"
        msg = check_structure(received)
        [recipient] = received.rcpt_tos
        assert [a for _, a in getaddresses([str(msg["To"])])] == [recipient]
        assert parseaddr(str(msg["From"])) == ("Harbour Clinic Bookings", "bookings@harbour.test")
        _, event = check_invite(msg, "REQUEST", recipient)
        assert str(event["UID"]) == appointment.calendar_uid
        assert int(event["SEQUENCE"]) == 0
        assert event.decoded("DTSTART") == appointment.starts_at
        assert event.decoded("DTEND") == appointment.ends_at
    assert {m.status for m in invites()} == {"sent"}


def test_check_invite_rejects_a_broken_calendar(mail_app, practitioner, sink):
    """The invite checks can fail: a bare LF, a long line, two SEQUENCEs, a TRIGGER-less alarm."""
    now = now_utc()
    book(factories.next_grid_time(3, 15), now)
    deliver(now)
    data = calendar_bytes(sink.messages_to(PATIENT_EMAIL)[0])
    check_calendar(data, "REQUEST", PATIENT_EMAIL)
    breakages = [
        data.replace(b"SEQUENCE:0\r\n", b"SEQUENCE:0\r\nSEQUENCE:1\r\n"),
        data.replace(b"\r\nDTSTART", b"\nDTSTART"),
        data.replace(b"TRANSP:OPAQUE", b"X-LONG:" + b"x" * 80),
        data.replace(b"TRIGGER:-PT15M\r\n", b""),
    ]
    for broken in breakages:
        assert broken != data
        with pytest.raises(AssertionError):
            check_calendar(broken, "REQUEST", PATIENT_EMAIL)
    with pytest.raises(AssertionError):
        check_calendar(data, "REQUEST", PRACTITIONER_EMAIL)  # addressed to someone else


# --- 3: the life of one consult --------------------------------------------------------------


def test_book_reschedule_twice_and_cancel_is_one_calendar_event(mail_app, practitioner, sink):
    """Four versions, one UID: SEQUENCE rises, DTSTAMP never goes back, CANCEL comes last."""
    t0 = now_utc()
    first = factories.next_grid_time(3, 10)
    moves = [first + timedelta(hours=2), first + timedelta(hours=5)]
    appointment, token = book(first, t0)
    changes.reschedule(token, moves[0], t0 + timedelta(minutes=1))
    changes.reschedule(token, moves[1], t0 + timedelta(minutes=2))
    changes.cancel(token, "Feeling better", t0 + timedelta(minutes=3))

    report = deliver(t0 + timedelta(minutes=4))

    assert (report.sent, report.retrying, report.failed) == (8, 0, 0)
    for recipient in (PATIENT_EMAIL, PRACTITIONER_EMAIL):
        received = [r for r in sink.received if r.rcpt_tos == (recipient,)]
        assert len(received) == 4, f"{recipient}: {len(received)} messages"
        methods = ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
        events = []
        for item, method in zip(received, methods, strict=True):
            msg = check_structure(item)
            assert calendar_part(msg).get_param("method") == method
            events.append(check_invite(msg, method, recipient)[1])
        assert {str(e["UID"]) for e in events} == {appointment.calendar_uid}
        sequences = [int(e["SEQUENCE"]) for e in events]
        assert all(a < b for a, b in pairwise(sequences)), sequences
        stamps = [e.decoded("DTSTAMP") for e in events]
        assert all(a <= b for a, b in pairwise(stamps)), stamps
        assert stamps[-1] > stamps[0]
        starts = [e.decoded("DTSTART") for e in events]
        assert starts == [first, moves[0], moves[1], moves[1]]
        assert str(events[-1]["STATUS"]) == "CANCELLED"
        assert not events[-1].walk("VALARM")


# --- 4: an outage --------------------------------------------------------------------------


def test_mail_server_outage_then_recovery_delivers_each_message_once(mail_app, practitioner, sink):
    """Bookings succeed while SMTP is down; after it returns each message arrives exactly once."""
    runner = mail_app.test_cli_runner()
    sink.stop()
    for hour in (9, 11, 13):
        book(factories.next_grid_time(3, hour))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 3

    down = outbox_send(runner)

    assert down["sent"] == 0 and down["retrying"] == 6 and down["failed"] == 0
    waiting = invites()
    assert len(waiting) == 6
    for message in waiting:
        assert (message.status, message.attempts) == ("pending", 1)
        assert message.last_error.strip(), "the error is kept"
        assert message.next_attempt_at >= message.created_at + timedelta(minutes=1)
    assert sink.received == []

    sink.start()
    too_soon = outbox_send(runner)  # the first retry waits a minute: nothing is due yet
    assert too_soon["sent"] == 0 and sink.received == []
    assert {m.attempts for m in invites()} == {1}

    back = outbox_send(runner, "--retry-now")

    assert back["sent"] == 6 and back["retrying"] == 0
    assert arrivals(sink) == Counter({m.message_id: 1 for m in waiting})
    assert {m.status for m in invites()} == {"sent"}
    again = outbox_send(runner, "--retry-now")
    assert again["sent"] == 0
    assert len(sink.received) == 6


# --- 5: a refusing server, and a silent one --------------------------------------------------


def api_booking(client, start: datetime, **changes) -> dict:
    body = {
        "practitioner": "any",
        "start": start.isoformat(),
        "timezone": PATIENT_ZONE,
        "name": "Jo Patient",
        "email": PATIENT_EMAIL,
        "consent_privacy": True,
        "consent_not_emergency": True,
        **changes,
    }
    return client.post("/api/v1/bookings", json=body)


def test_a_refusing_server_keeps_the_booking_and_the_message_waits(mail_app, practitioner, sink):
    """451 on DATA: the API still books; each message waits with the error, then goes once."""
    sink.refuse = True
    response = api_booking(mail_app.test_client(), factories.next_grid_time(3, 9))
    assert response.status_code == 201, response.get_json()
    t0 = now_utc() + timedelta(seconds=1)  # the API booked at the real now

    report = deliver(t0)

    assert (report.sent, report.retrying) == (0, 2)
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.status == "confirmed"
    for message in invites():
        assert (message.status, message.attempts) == ("pending", 1)
        assert "451" in message.last_error
    assert sink.received == []

    sink.refuse = False
    report = deliver(t0 + timedelta(minutes=1))

    assert report.sent == 2
    assert arrivals(sink) == Counter({m.message_id: 1 for m in invites()})
    assert {m.status for m in invites()} == {"sent"}


def test_a_server_that_hangs_up_mid_message_keeps_the_message_waiting(mail_app, practitioner, sink):
    """The connection drops after the message was sent but before the server answered: the
    message waits with the error and goes on the next attempt; the booking is untouched."""
    sink.drop = True
    response = api_booking(mail_app.test_client(), factories.next_grid_time(3, 9))
    assert response.status_code == 201, response.get_json()
    t0 = now_utc() + timedelta(seconds=1)  # the API booked at the real now

    report = deliver(t0)

    assert (report.sent, report.retrying) == (0, 2)
    assert db.session.scalar(sa.select(Appointment)).status == "confirmed"
    for message in invites():
        assert (message.status, message.attempts) == ("pending", 1)
        assert "disconnect" in message.last_error.lower() or "closed" in message.last_error.lower()
    assert sink.received == []
    sink.drop = False
    report = deliver(t0 + timedelta(minutes=1))

    assert report.sent == 2
    assert arrivals(sink) == Counter({m.message_id: 1 for m in invites()})


def erase_while_sending(monkeypatch, sending: int, erased: int) -> None:
    """As message ``sending`` goes out, ``flask patient erase`` deletes message ``erased``."""
    original = delivery._send_one

    def erase_the_other_then_send(connection, message, now):
        if message.id == sending:
            with db.engine.begin() as other:  # another process's transaction, in effect
                other.execute(sa.delete(OutboxMessage).where(OutboxMessage.id == erased))
        return original(connection, message, now)

    monkeypatch.setattr(delivery, "_send_one", erase_the_other_then_send)


def test_a_message_erased_while_its_batch_is_being_sent_is_skipped(
    mail_app, practitioner, sink, monkeypatch
):
    """``flask patient erase`` may delete a message a worker has already claimed: the worker
    skips it and carries on with the rest of the batch."""
    book(factories.next_grid_time(3, 9))
    first, second = sorted(m.id for m in invites())
    erase_while_sending(monkeypatch, sending=first, erased=second)
    report = deliver(now_utc() + timedelta(seconds=1))

    assert report.sent == 1
    assert len(sink.received) == 1
    assert [m.id for m in invites()] == [first]


def test_a_message_erased_while_the_connection_drops_is_skipped_too(
    mail_app, practitioner, sink, monkeypatch
):
    """The server hangs up mid-batch just after an erasure deleted a later message: the rest of
    the batch waits for the next try, and the erased one is simply gone (no crash)."""
    sink.drop = True
    book(factories.next_grid_time(3, 9))
    first, second = sorted(m.id for m in invites())
    erase_while_sending(monkeypatch, sending=first, erased=second)
    report = deliver(now_utc() + timedelta(seconds=1))

    assert (report.sent, report.retrying) == (0, 1)
    [left] = invites()
    assert (left.id, left.status, left.attempts) == (first, "pending", 1)
    assert sink.received == []


def test_each_message_sent_costs_the_same_three_statements(mail_app, practitioner, sink):
    """A message and its consult are read afresh in one query, the settings in a second, and
    the result is recorded in a third: however many the batch holds, never a query per row."""

    def statements(bookings: int, days_ahead: int) -> int:
        for hour in range(9, 9 + bookings):
            book(factories.next_grid_time(days_ahead, hour))
        with counting() as seen:
            report = deliver(now_utc() + timedelta(seconds=1))
        assert report.sent == 2 * bookings  # the patient's invite and the practitioner's
        return len(seen)

    small, large = statements(2, 3), statements(4, 4)

    assert large - small == 3 * (8 - 4)


@pytest.mark.parametrize("mail_config", [{"MAIL_TIMEOUT": 1}])
def test_a_silent_server_times_out_and_the_message_waits(mail_app, practitioner, sink):
    """A server that stalls past MAIL_TIMEOUT does not hang the worker; the message is retried."""
    sink.stall_seconds = 2.5
    response = api_booking(mail_app.test_client(), factories.next_grid_time(3, 9))
    assert response.status_code == 201, response.get_json()
    t0 = now_utc() + timedelta(seconds=1)  # the API booked at the real now

    started = time.monotonic()
    report = deliver(t0)
    took = time.monotonic() - started

    assert took < 5, f"the worker hung for {took:.1f}s"
    assert (report.sent, report.retrying) == (0, 2)
    assert db.session.scalar(sa.select(Appointment)).status == "confirmed"
    for message in invites():
        assert (message.status, message.attempts) == ("pending", 1)
        assert "timed out" in message.last_error.lower(), message.last_error
    sink.stall_seconds = 0
    report = deliver(t0 + timedelta(minutes=1))

    assert report.sent == 2
    assert arrivals(sink) == Counter({m.message_id: 1 for m in invites()})
    assert {m.status for m in invites()} == {"sent"}


# --- 6: backoff and giving up ----------------------------------------------------------------


@pytest.mark.parametrize("mail_config", [{"OUTBOX_MAX_ATTEMPTS": 3}])
def test_retries_back_off_and_give_up_after_the_last_attempt(mail_app, practitioner, sink):
    """Waits of 1, 2... minutes between attempts; after OUTBOX_MAX_ATTEMPTS it is failed."""
    sink.refuse = True
    now = now_utc()
    book(factories.next_grid_time(3, 9), now)
    limit = mail_app.config["OUTBOX_MAX_ATTEMPTS"]
    assert limit == 3

    for attempt in range(1, limit + 1):
        report = deliver(now)
        messages = invites()
        assert {m.attempts for m in messages} == {attempt}
        assert all("451" in m.last_error for m in messages)
        wait = timedelta(minutes=2 ** (attempt - 1))
        assert {m.next_attempt_at for m in messages} == {now + wait}
        if attempt < limit:
            assert (report.retrying, report.failed) == (2, 0)
            assert {m.status for m in messages} == {"pending"}
            # Just before the wait is over nothing is tried.
            assert deliver(now + wait - timedelta(seconds=1)).total == 0
            assert {m.attempts for m in invites()} == {attempt}
            now += wait
        else:
            assert (report.retrying, report.failed) == (0, 2)
            assert {m.status for m in messages} == {"failed"}

    sink.refuse = False
    assert deliver(now + timedelta(days=1)).total == 0
    assert sink.received == []
    assert all(m.status == "failed" and "451" in m.last_error for m in invites())


# --- 7: header injection and escaping --------------------------------------------------------


def test_a_line_break_in_a_stored_name_cannot_add_headers_or_recipients(
    mail_app, practitioner, sink
):
    """A name with CRLF written straight to the database adds no header and no recipient."""
    now = now_utc()
    appointment, _ = book(factories.next_grid_time(3, 9), now)
    # Bypass the form: the patient row (the practitioner's emails show it) and the name each
    # waiting message to the patient was addressed with.
    db.session.execute(sa.update(Patient).values(name=EVIL_NAME))
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.audience == "patient")
        .values(recipient_name=EVIL_NAME)
    )
    db.session.commit()

    report = deliver(now)

    assert report.sent == 2, report
    assert sorted(r.rcpt_tos for r in sink.received) == sorted(
        [(PATIENT_EMAIL,), (PRACTITIONER_EMAIL,)]
    )
    for received in sink.received:
        msg = received.message
        assert msg["Bcc"] is None
        assert "evil@example.com" not in received.rcpt_tos
        assert sorted(header_names(received.data)) == sorted(
            ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version"]
            + ["Content-Type"]
        )
        for name in ("To", "Subject"):
            assert "\r" not in str(msg[name]) and "\n" not in str(msg[name])
        [recipient] = received.rcpt_tos
        assert [a for _, a in getaddresses([str(msg["To"])])] == [recipient]
        check_structure(received)
        check_invite(msg, "REQUEST", recipient)
    # The practitioner's notice still names the patient, on one line.
    [notice] = sink.messages_to(PRACTITIONER_EMAIL)
    assert "Eve Bcc: evil@example.com" in str(notice["Subject"])


def test_markup_in_a_name_is_escaped_in_the_html(mail_app, practitioner, sink):
    """A name like <script> (which the form allows) reaches the HTML only escaped."""
    response = api_booking(mail_app.test_client(), factories.next_grid_time(3, 9), name=SCRIPT_NAME)
    assert response.status_code == 201, response.get_json()

    assert deliver(now_utc() + timedelta(seconds=1)).sent == 2

    for received in sink.received:
        markup = body_text(received.message, "html")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
        assert "<script" not in markup.lower()
        assert SCRIPT_NAME in body_text(received.message, "plain")


def test_markup_in_a_cancellation_reason_is_escaped_in_the_html(mail_app, practitioner, sink):
    """The patient's own words reach staff and patient emails; in HTML only escaped."""
    appointment, token = book(factories.next_grid_time(3, 9))
    changes.cancel(token, SCRIPT_NAME, now_utc())

    deliver(now_utc() + timedelta(seconds=1))

    cancellations = [r for r in sink.received if "Cancelled" in str(r.message["Subject"])]
    assert len(cancellations) == 2
    for received in cancellations:
        markup = body_text(received.message, "html")
        assert "Reason given: &lt;script&gt;alert(1)&lt;/script&gt;" in markup
        assert "<script" not in markup.lower()
        assert f"Reason given: {SCRIPT_NAME}" in body_text(received.message, "plain")


def test_the_forms_refuse_a_name_with_a_line_break(mail_app, practitioner, sink):
    """Both the API and the HTML booking form refuse it: no consult, no email written."""
    client = mail_app.test_client()
    start = factories.next_grid_time(3, 9)

    api = api_booking(client, start, name=EVIL_NAME)

    assert api.status_code == 422
    assert "name" in {e["field"] for e in api.get_json()["errors"]}

    page = client.get(f"/book?tz={PATIENT_ZONE}")
    held = client.post(
        "/book/hold",
        data={
            "csrf_token": csrf_token(page.text),
            "practitioner": "any",
            "tz": PATIENT_ZONE,
            "start": start.isoformat(),
        },
    )
    assert held.status_code == 303
    details = client.get(held.headers["Location"])
    form = client.post(
        held.headers["Location"],
        data={
            "csrf_token": csrf_token(details.text),
            "name": EVIL_NAME,
            "email": PATIENT_EMAIL,
            "consent_privacy": "y",
            "consent_not_emergency": "y",
        },
    )

    assert form.status_code == 422
    assert 'aria-invalid="true"' in form.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert deliver(now_utc()).total == 0 and sink.received == []


# --- 8: what the emails say ------------------------------------------------------------------


@pytest.mark.parametrize("mail_config", [{"CLINIC_BASE_URL": "https://book.clinic.test/"}])
def test_the_patient_email_shows_both_zones_the_video_link_and_the_manage_link(
    mail_app, practitioner, sink
):
    """Patient's zone named, clinic time beside it, video and manage links; no remote images.

    20:00 UTC is the next day in Kolkata, so a wrong conversion shows as a wrong date.
    """
    start = factories.next_grid_time(3, 20)
    appointment, token = book(start)

    assert deliver(now_utc()).sent == 2

    [to_patient] = sink.messages_to(PATIENT_EMAIL)
    [to_practitioner] = sink.messages_to(PRACTITIONER_EMAIL)
    manage = f"https://book.clinic.test/manage/{token}"
    video = f"https://video.clinic.test/{appointment.reference}"
    text, markup = body_text(to_patient, "plain"), body_text(to_patient, "html")
    shown = visible_text(markup)
    patient_time = f"{spelled_out(start, PATIENT_ZONE)} {PATIENT_ZONE}"
    clinic_time = f"{spelled_out(start, CLINIC_ZONE)} {CLINIC_ZONE}"
    for body in (text, shown):
        assert patient_time in body, body
        assert clinic_time in body, body
        assert body.index(patient_time) < body.index(clinic_time)
        assert video in body and manage in body
    assert f'href="{video}"' in markup and f'href="{manage}"' in markup
    local = start.astimezone(ZoneInfo(PATIENT_ZONE))
    assert f"{local:%A} {local.day} {local:%B}" in str(to_patient["Subject"])

    for msg in (to_patient, to_practitioner):
        page = body_text(msg, "html")
        assert not re.search(r"<img\b[^>]*\bsrc\s*=\s*[\"']?\s*(https?:)?//", page, re.I)
        assert not re.search(r"url\(\s*[\"']?\s*(https?:)?//", page, re.I)
    # The manage link is the patient's secret: never in the practitioner's email.
    assert token not in to_practitioner.as_string()
    assert video in body_text(to_practitioner, "plain")


# --- 9: several workers at once --------------------------------------------------------------


def run_workers(count: int, database_url: str, sink: SmtpSink) -> list[str]:
    """``count`` real ``flask outbox send`` processes started together; their outputs."""
    env = worker_env(database_url, sink)
    command = [*FLASK, "outbox", "send"]
    processes = [
        subprocess.Popen(
            command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(count)
    ]
    outputs = []
    for process in processes:
        try:
            output, _ = process.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            raise
        text = output.decode(errors="replace")
        assert process.returncode == 0, text
        outputs.append(text)
    return outputs


@pytest.mark.slow
def test_several_workers_at_once_send_each_message_exactly_once(
    mail_app, practitioner, sink, database_url
):
    """30 bookings, 4 ``flask outbox send`` processes racing: 60 messages, each once."""
    now = now_utc()
    for index in range(30):
        # Five a day, spread over the week like real bookings.
        start = factories.next_grid_time(3 + index // 5, 8 + 2 * (index % 5))
        book(start, now, email=f"patient{index}@example.com")
    expected = {m.message_id for m in invites()}
    assert len(expected) == 60
    db.session.remove()
    sink.stall_seconds = 0.05  # slow each message a little so the workers overlap

    outputs = run_workers(4, database_url, sink)

    reports = [parse_report(output) for output in outputs]
    assert sum(r["sent"] for r in reports) == 60, outputs
    assert sum(r["retrying"] + r["failed"] for r in reports) == 0, outputs
    assert arrivals(sink) == Counter({message_id: 1 for message_id in expected})
    sent = invites()
    assert {m.status for m in sent} == {"sent"}
    owners = {m.lease_owner for m in sent}
    assert len(owners) >= 2, f"only {owners} sent anything: the workers did not overlap"


# --- 10: no mail server ----------------------------------------------------------------------


def test_without_a_mail_server_messages_are_logged_without_the_link(app, runner, caplog):
    """No MAIL_SERVER: messages are marked logged; the log has the subject but not the token."""
    assert not app.config.get("MAIL_SERVER")
    factories.clinic(timezone=CLINIC_ZONE)
    factories.practitioner(name=PRACTITIONER_NAME, email=PRACTITIONER_EMAIL)
    appointment, token = book(factories.next_grid_time(3, 9))
    caplog.set_level("INFO", logger="clinic.outbox")

    report = outbox_send(runner)

    assert report["logged"] == 2 and report["sent"] == 0
    messages = invites()
    assert {m.status for m in messages} == {"logged"}
    records = [r for r in caplog.records if r.name == "clinic.outbox"]
    logged = "\n".join(r.getMessage() for r in records)
    assert f"Booked: your free consult with {PRACTITIONER_NAME}" in logged
    assert "New consult: Jo Patient" in logged
    assert appointment.reference in logged
    assert LINK_PLACEHOLDER in logged
    assert token not in caplog.text and appointment.link_salt not in caplog.text


def test_outside_development_no_mail_server_means_messages_wait(database_url, backend, caplog):
    """Production without MAIL_SERVER: nothing is logged or used up; each message stays
    pending, and a warning says why. Once a server is set, they go."""
    with running_app(database_url, backend, OUTBOX_LOG_WITHOUT_MAIL_SERVER=False) as app:
        factories.clinic(timezone=CLINIC_ZONE)
        factories.practitioner(name=PRACTITIONER_NAME, email=PRACTITIONER_EMAIL)
        book(factories.next_grid_time(3, 9))
        caplog.set_level("INFO", logger="clinic.outbox")

        report = outbox_send(app.test_cli_runner())

        assert sum(report.values()) == 0
        assert {m.status for m in invites()} == {"pending"}
        assert {m.attempts for m in invites()} == {0}
        assert "MAIL_SERVER is not set" in caplog.text
        assert "Booked:" not in caplog.text


def test_addresses_that_plain_smtp_cannot_carry_are_handled(mail_app, practitioner, sink):
    """A non-ASCII mailbox name is refused by the form (plain SMTP cannot deliver it); a
    non-ASCII domain is accepted and travels as punycode."""
    client = mail_app.test_client()
    start = factories.next_grid_time(3, 9)
    refused = api_booking(client, start, email="josé@example.com")
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "email"

    booked = api_booking(client, start, email="jo@exämple.com")
    assert booked.status_code == 201, booked.get_json()
    assert deliver(now_utc() + timedelta(seconds=1)).sent == 2
    [received] = [r for r in sink.received if r.rcpt_tos != (PRACTITIONER_EMAIL,)]
    assert received.rcpt_tos == ("jo@xn--exmple-cua.com",)
    assert received.message["To"].addresses[0].addr_spec == "jo@xn--exmple-cua.com"


def test_a_consult_from_before_link_salts_still_gets_its_emails(mail_app, practitioner, sink):
    """Consults booked before migration 0002 have no link salt: their emails go out without
    a manage link instead of failing."""
    appointment, _ = book(factories.next_grid_time(3, 9))
    appointment.link_salt = ""
    db.session.commit()

    report = deliver(now_utc())

    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    patient_mail = sink.messages_to(PATIENT_EMAIL)[0]
    assert "/manage/" not in body_text(patient_mail, "plain")
    assert appointment.reference in body_text(patient_mail, "plain")


@pytest.mark.slow
def test_flask_worker_delivers_as_messages_fall_due_and_stops_on_sigterm(
    mail_app, practitioner, sink, database_url
):
    """The long-running worker: a booking made while it runs is delivered within a few of its
    rounds, and SIGTERM stops it cleanly between rounds."""
    worker = subprocess.Popen(
        [*FLASK, "worker", "--interval", "0.2"],
        cwd=PROJECT,
        env=worker_env(database_url, sink),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        appointment, _ = book(factories.next_grid_time(3, 9))
        db.session.remove()
        deadline = time.monotonic() + 30
        while len(sink.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert arrivals(sink) == Counter({m.message_id: 1 for m in invites()})
        assert len(sink.received) == 2
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    text = output.decode(errors="replace")
    assert worker.returncode == 0, text
    assert "started" in text and "stopped" in text
