"""The intake questionnaire over HTTP: /intake/<token>, one part per page, then /done.

The same secret link as the booking opens it. The short pre-consult form comes first (parts
that depend on earlier answers are skipped when they don't apply); the optional health history
is offered after it. The routes use the real clock, so consults are booked relative to
``datetime.now``. CSRF stays on: every POST carries the token from a page the client fetched
first. Each test runs on SQLite and on PostgreSQL (the ``backend`` param).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import render_template

from clinic.accounts.services import create_staff
from clinic.booking import lifecycle as changes
from clinic.booking import services as booking
from clinic.core.extensions import db
from clinic.core.links import link_token
from clinic.core.models import (
    DEFAULT_CRISIS_TEXT,
    Appointment,
    AuditEvent,
    ClinicSettings,
    IntakeAlert,
    IntakeFlagRaised,
    IntakeResponse,
    IntakeRevision,
    OutboxMessage,
)
from clinic.intake import services
from clinic.intake.questionnaire import (
    ASQ_CREDIT,
    HISTORY,
    MEDICATION_NOTE,
    PHQ_GAD_CREDIT,
    PRE_CONSULT,
    SECTIONS,
    VERSION,
    Section,
    asked,
    question,
    section,
)
from clinic.intake.scoring import PHQ9_BANDS, score
from clinic.intake.summary import build_summary
from clinic.notify.compose import compose
from tests.support import factories
from tests.support.apps import csrf_token
from tests.support.intake import calm, csrf_for, panel, post, text_of
from tests.support.staff import PASSWORD, sign_in

CLINIC_EMAIL = "hello@clinic.test"
DOCTOR_EMAIL = "ada@clinic.test"
WORKING_HOURS = [(d, time(8), time(20)) for d in range(7)]
SECTION_IDS = [s.id for s in SECTIONS]
CHOICE_KINDS = ("scale", "choice", "yesno", "multi")
SCRIPT = "<script>alert(1)</script>"
LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
PANEL_KINDS = ("emergency", "self_harm", "see_doctor")
KEEP_GOING = "keep going"
ITEM9_PROMPT_START = "You left this question blank."
# The parts a patient who answers calmly is asked, and the optional history, in order.
CALM_PRE_CONSULT = ["about", "goals", "mood", "anxiety", "safety", "medications", "contact"]
HISTORY_IDS = [s.id for s in asked(HISTORY, {})]


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture
def doctor(app):
    factories.clinic(contact_email=CLINIC_EMAIL)
    return factories.practitioner(hours=WORKING_HOURS, name="Dr Ada Lane", email=DOCTOR_EMAIL)


def book(practitioner, days_ahead: int = 3, zone: ZoneInfo = LONDON) -> tuple[Appointment, str]:
    """Book a consult through the booking service, as the API would: (appointment, token)."""
    return booking.book(
        practitioner.id,
        factories.next_grid_time(days_ahead=days_ahead, hour=15),
        zone,
        booking.PatientDetails("Jo Patient", "jo@example.com"),
        datetime.now(UTC),
        "clinic.test",
    )


@pytest.fixture
def booked(doctor):
    return book(doctor)


def high(part: Section) -> dict[str, str | list[str]]:
    """A valid form for ``part`` that scores as high as it can (red, amber and info flags):
    under 18, in "another country", yes to every ASQ question."""
    form: dict[str, str | list[str]] = {}
    for q in part.questions:
        if q.id == "country":
            form[q.id] = "other"
        elif q.id == "age_band":
            form[q.id] = "under_18"
        elif q.kind in ("scale", "choice"):
            form[q.id] = q.choices[-1].value if q.id != "pregnant" else "yes"
        elif q.kind == "yesno":
            form[q.id] = "yes"
        elif q.kind == "multi":
            form[q.id] = [c.value for c in q.choices if not c.exclusive]
        elif q.kind == "number":
            assert q.min is not None and q.max is not None
            # Scored nights at their most; hours of sleep and days of activity at their least.
            form[q.id] = str(q.max if q.scored or q.id == "alcohol_drinks" else q.min)
        else:
            form[q.id] = "Everything has been hard lately."
    return form


def save(token: str, section_id: str, form: dict, now: datetime | None = None) -> None:
    """Save a part through the service (test setup; the requests are what the tests check)."""
    services.save_section(
        token,
        section_id,
        {k: v if isinstance(v, list) else [v] for k, v in form.items()},
        now or datetime.now(UTC),
    )


def goes_to(response, token: str, where: str) -> bool:
    """Whether ``response`` is a 303 to the part (or "done") ``where``."""
    return response.status_code == 303 and response.headers["Location"].endswith(
        f"/intake/{token}/{where}"
    )


def response_row(appointment_id: int) -> IntakeResponse | None:
    db.session.rollback()
    return db.session.scalar(
        sa.select(IntakeResponse).where(IntakeResponse.appointment_id == appointment_id)
    )


def fresh(appointment_id: int) -> Appointment:
    db.session.rollback()
    return db.session.get(Appointment, appointment_id)


def outbox(appointment_id: int, kind: str | None = None) -> list[OutboxMessage]:
    db.session.rollback()
    stmt = sa.select(OutboxMessage).where(OutboxMessage.appointment_id == appointment_id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(stmt.order_by(OutboxMessage.id)))


def revisions(appointment_id: int) -> list[IntakeRevision]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(IntakeRevision)
            .join(IntakeResponse, IntakeRevision.response_id == IntakeResponse.id)
            .where(IntakeResponse.appointment_id == appointment_id)
            .order_by(IntakeRevision.number)
        )
    )


def flags_raised(appointment_id: int) -> dict[str, IntakeFlagRaised]:
    db.session.rollback()
    rows = db.session.scalars(
        sa.select(IntakeFlagRaised)
        .join(IntakeResponse, IntakeFlagRaised.response_id == IntakeResponse.id)
        .where(IntakeResponse.appointment_id == appointment_id)
        .order_by(IntakeFlagRaised.id)
    )
    return {r.code: r for r in rows}


def intake_alerts(appointment_id: int) -> list[tuple[str, str]]:
    """(kind, level) of the consult's staff alerts, oldest first."""
    db.session.rollback()
    rows = db.session.scalars(
        sa.select(IntakeAlert)
        .where(IntakeAlert.appointment_id == appointment_id)
        .order_by(IntakeAlert.id)
    )
    return [(a.kind, a.level) for a in rows]


def audit_events(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def stored(appointment_id: int) -> tuple:
    """Everything a refused submission must leave alone: every intake row, its revisions,
    the flags kept and the staff alerts, the audit log, the consult's urgent mark and the
    whole outbox."""
    db.session.rollback()
    rows = [
        (
            r.id,
            r.appointment_id,
            r.version,
            dict(r.answers),
            list(r.sections_done),
            r.started_at,
            r.updated_at,
            r.completed_at,
            r.urgent_at,
            r.country,
        )
        for r in db.session.scalars(sa.select(IntakeResponse).order_by(IntakeResponse.id))
    ]
    saves = [
        (r.id, r.response_id, r.number, r.section_id, r.version, dict(r.answers), r.saved_at)
        for r in db.session.scalars(sa.select(IntakeRevision).order_by(IntakeRevision.id))
    ]
    flags = [
        (f.id, f.response_id, f.code, f.level, f.message, f.reason, f.revision, f.raised_at)
        for f in db.session.scalars(sa.select(IntakeFlagRaised).order_by(IntakeFlagRaised.id))
    ]
    alerts = [
        (a.id, a.appointment_id, a.kind, a.level, a.raised_at, a.due_at, a.acknowledged_at)
        for a in db.session.scalars(sa.select(IntakeAlert).order_by(IntakeAlert.id))
    ]
    audit = [
        (e.id, e.action, e.subject, e.detail)
        for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
    ]
    messages = [(m.id, m.kind, m.recipient) for m in outbox(appointment_id)]
    return rows, saves, flags, alerts, audit, fresh(appointment_id).urgent, messages


class Page(HTMLParser):
    """A page's form controls, the labels and legends that name them, links and buttons."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.fieldsets: list[dict] = []
        self.labels: dict[str, str] = {}
        self.fields: list[dict] = []
        self.hidden: list[dict] = []
        self.links: list[tuple[dict, str]] = []
        self.buttons: list[dict] = []
        self._fieldset: dict | None = None
        self._capture: tuple[str, dict, list[str]] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "fieldset":
            self._fieldset = {"attrs": attrs, "legend": "", "inputs": []}
            self.fieldsets.append(self._fieldset)
        elif tag in ("legend", "label", "a") and self._capture is None:
            self._capture = (tag, attrs, [])
        elif tag == "input" and attrs.get("type") == "hidden":
            self.hidden.append(attrs)
        elif tag in ("input", "textarea", "select"):
            self.fields.append(attrs)
            if self._fieldset is not None:
                self._fieldset["inputs"].append(attrs)
        elif tag == "button":
            self.buttons.append(attrs)

    def handle_endtag(self, tag):
        if tag == "fieldset":
            self._fieldset = None
        elif self._capture is not None and tag == self._capture[0]:
            kind, attrs, parts = self._capture
            text = " ".join("".join(parts).split())
            if kind == "legend" and self._fieldset is not None:
                self._fieldset["legend"] = text
            elif kind == "label":
                self.labels[attrs.get("for", "")] = text
            elif kind == "a":
                self.links.append((attrs, text))
            self._capture = None

    def handle_data(self, data):
        if self._capture is not None:
            self._capture[2].append(data)

    def field(self, name: str) -> dict:
        return next(f for f in self.fields if f.get("name") == name)

    def controls_of(self, name: str) -> list[dict]:
        return [f for f in self.fields if f.get("name") == name]

    def checked(self, name: str) -> list[str]:
        return [f["value"] for f in self.controls_of(name) if "checked" in f]


def shown_panels(html: str) -> set[str]:
    """The panels the page shows when it opens (the others are on the page, hidden)."""
    return {kind for kind in PANEL_KINDS if panel(html, kind)[0]}


def visible_text(html: str) -> str:
    """What a reader sees with JavaScript off: the text without hidden panels and scripts."""
    html = re.sub(
        r"<section\b([^>]*)>.*?</section>",
        lambda m: " " if re.search(r"\shidden(\s|=|$)", m.group(1)) else m.group(0),
        html,
        flags=re.S,
    )
    html = re.sub(r"<(script|style|title)\b.*?</\1>", " ", html, flags=re.S)
    return text_of(html)


def alert(html: str) -> str:
    match = re.search(r'<div class="alert" role="alert">(.*?)</div>', html, re.S)
    assert match, "the page has no alert"
    return text_of(match.group(1))


def primary_button(html: str) -> tuple[str, str]:
    """(href, text) of the page's primary link button."""
    links = [(a, t) for a, t in Page(html).links if "button-primary" in a.get("class", "")]
    assert len(links) == 1, links
    return links[0][0]["href"], links[0][1]


def progress_label(html: str) -> str:
    match = re.search(r'<p class="progress-label" id="progress-label">(.*?)</p>', html, re.S)
    assert match, "the page has no progress label"
    return text_of(match.group(1))


# --- the start page -----------------------------------------------------------------------


def test_the_start_page_says_how_long_lists_every_part_and_starts_at_the_first(client, booked):
    """/intake/<token> says the questionnaire takes about 5 minutes, links the pre-consult
    parts a new patient is asked by their titles in order, then the optional history's parts,
    and its start button opens the first part ("about"); the parts that depend on answers are
    not listed yet. The secret URL is not cached or sent on as a Referer."""
    _, token = booked

    page = client.get(f"/intake/{token}")

    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "about 5 minutes" in page.text
    parts = [
        (a["href"], text)
        for a, text in Page(page.text).links
        if a.get("href", "").startswith(f"/intake/{token}/") and "button" not in a.get("class", "")
    ]
    pre, history = asked(PRE_CONSULT, {}), asked(HISTORY, {})
    assert [s.id for s in pre] == CALM_PRE_CONSULT
    assert parts == [(f"/intake/{token}/{s.id}", s.title) for s in (*pre, *history)]
    assert primary_button(page.text) == (f"/intake/{token}/about", "Start the questionnaire")
    assert "(saved)" not in page.text


@pytest.mark.parametrize(
    "saved, mood, resume",
    [
        (["about", "goals", "anxiety"], None, "mood"),
        (["about", "goals", "mood", "anxiety"], {"phq9_1": "2", "phq9_2": "1"}, "mood_more"),
    ],
    ids=["skipped-mood", "mood-more-now-asked"],
)
def test_the_start_page_resumes_at_the_first_unsaved_part(client, booked, saved, mood, resume):
    """With some pre-consult parts saved and one skipped, the start page offers "Continue
    where I left off" and it links the first asked part not saved, not the one after the
    last saved; a part asked because of an earlier answer (the rest of the PHQ-9 after a
    positive PHQ-2) counts. Saved parts are marked."""
    _, token = booked
    for part_id in saved:
        save(token, part_id, {**calm(section(part_id)), **(mood if part_id == "mood" else {})})

    page = client.get(f"/intake/{token}")

    assert primary_button(page.text) == (
        f"/intake/{token}/{resume}",
        "Continue where I left off",
    )
    marked = re.findall(
        r'/intake/[^/"]+/(\w+)">[^<]*</a> <span class="done">\(saved\)</span>', page.text
    )
    assert marked == saved


def test_consent_is_asked_first(client, booked):
    """The start button opens "about", which is "Part 1" with no way back, and whose first
    question is the consent to share the answers with the practitioner."""
    _, token = booked
    url, _ = primary_button(client.get(f"/intake/{token}").text)

    page = client.get(url)

    assert url == f"/intake/{token}/about"
    assert page.status_code == 200
    parsed = Page(page.text)
    consent = question("consent_share")
    assert parsed.fieldsets[0]["legend"] == consent.text
    assert parsed.fields[0]["name"] == "consent_share"
    assert progress_label(page.text).startswith(f"Part 1 of {len(CALM_PRE_CONSULT)} ")
    assert ("action", "back") not in [(b.get("name"), b.get("value")) for b in parsed.buttons]


# --- each part's page ---------------------------------------------------------------------

# Answers (saved on the part named) under which a conditional part is asked.
ASKED_WHEN = {
    "mood_more": ("mood", {"phq9_1": "2", "phq9_2": "1", "phq9_9": "0"}),
    "asq": ("mood", {"phq9_1": "0", "phq9_2": "0", "phq9_9": "1"}),
    "anxiety_more": ("anxiety", {"gad7_1": "2", "gad7_2": "1"}),
}
PHQ_GAD_PARTS = {"mood", "mood_more", "anxiety", "anxiety_more"}


@pytest.mark.parametrize("part", SECTIONS, ids=SECTION_IDS)
def test_each_part_names_every_question_and_shows_progress(client, booked, part):
    """Every question is on its part's page: choices as a fieldset whose legend is the
    question, one radio (checkbox for "choose all") per choice, each labelled with the choice;
    numbers and text as one field labelled with the question. No control is unlabelled, and
    there are no controls beyond the part's questions. The page says "Part N of M" (history
    pages: "Health history: part N of M"), M being the parts of its form this patient is asked
    (a conditional part is opened with answers that ask it), and has a <progress>. The
    PHQ-9/GAD-7 credit is on the mood and anxiety pages (only), the ASQ credit on the ASQ
    page, the note about prescribed medication on the two medicines pages."""
    _, token = booked
    answers: dict = {}
    if part.id in ASKED_WHEN:
        where, answers = ASKED_WHEN[part.id]
        save(token, where, answers)
    parts = asked(part.form, answers)
    assert part in parts
    number, total = parts.index(part) + 1, len(parts)

    page = client.get(f"/intake/{token}/{part.id}")

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    parsed = Page(page.text)
    assert [f for f in parsed.fields if f.get("id") not in parsed.labels] == []
    legends = {fs["legend"]: fs for fs in parsed.fieldsets}
    for q in part.questions:
        if q.kind in CHOICE_KINDS:
            assert q.text in legends, f"{q.id}: no fieldset with the question as its legend"
            inputs = legends[q.text]["inputs"]
            kind = "checkbox" if q.kind == "multi" else "radio"
            assert [(i["type"], i["name"], i["value"]) for i in inputs] == [
                (kind, q.id, c.value) for c in q.choices
            ]
            assert [parsed.labels[i["id"]] for i in inputs] == [c.label for c in q.choices]
        else:
            [field] = parsed.controls_of(q.id)
            assert parsed.labels[field["id"]].startswith(q.text), q.id
            if q.kind == "number":
                assert field["type"] == "number"
                assert (field["min"], field["max"]) == (str(q.min), str(q.max))
    assert {f["name"] for f in parsed.fields} == {q.id for q in part.questions}
    text = unescape(page.text)
    where = "Health history: part" if part.form == HISTORY else "Part"
    assert progress_label(page.text).startswith(f"{where} {number} of {total} ")
    assert re.search(rf'<progress max="{total}" value="{number - 1}"', page.text)
    assert (PHQ_GAD_CREDIT in text) == (part.id in PHQ_GAD_PARTS)
    assert (ASQ_CREDIT in text) == (part.id == "asq")
    assert (MEDICATION_NOTE in text) == (part.id in ("medications", "medications_more"))
    buttons = [(b.get("name"), b.get("value")) for b in parsed.buttons]
    assert ("action", "next") in buttons
    assert (("action", "back") in buttons) == (number > 1)


# Words only staff may see: bands, scores and labels (matched on what the patient reads,
# after the questions and their choices, which use "Moderate" and "Severe" as answers).
STAFF_ONLY = re.compile(
    r"\b(minimal|mild|moderate|moderately severe|severe|score[sd]?|band|flag(ged|s)?|total|"
    r"depression|depressive|disorder|diagnos\w*|positive|urgent review|amber)\b"
    r"|PHQ-9 item|item 9|/ 27|/ 21|/ 9\b|UCLA",
    re.I,
)


def patient_reads(html: str) -> str:
    """The page's text without the questions, their choices and hints."""
    html = re.sub(r"<(label|legend)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<p class="hint"[^>]*>.*?</p>', " ", html, flags=re.S)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_patient_pages_never_show_scores_bands_or_labels_even_after_high_answers(client, booked):
    """After answers that score as high as the questionnaire allows (PHQ-9 27, "severe";
    GAD-7 21; red, amber and info flags; every panel open), no page the patient sees (start,
    every part of both forms, the thank-you page) shows a band word, a score or total, a flag
    or a diagnostic label."""
    _, token = booked
    answers: dict = {}
    for part in SECTIONS:
        save(token, part.id, high(part))
        answers.update(high(part))
    scores = score(answers, SECTION_IDS)
    assert scores.phq9 == 27 and scores.phq9_band == PHQ9_BANDS[-1][2] and scores.gad7 == 21
    assert {f.level for f in scores.flags} == {"red", "amber", "info"}
    assert [s.id for s in asked(PRE_CONSULT, answers)] == [
        s.id for s in SECTIONS if s.form == PRE_CONSULT
    ]

    urls = [f"/intake/{token}", *(f"/intake/{token}/{s}" for s in SECTION_IDS)]
    for url in [*urls, f"/intake/{token}/done"]:
        page = client.get(url)
        assert page.status_code == 200, url
        if url != f"/intake/{token}":
            assert shown_panels(page.text) == set(PANEL_KINDS), url
        reads = patient_reads(page.text)
        found = STAFF_ONLY.findall(reads)
        assert not found, f"{url} shows {found}"
        for flag in scores.flags:
            assert flag.message not in reads, f"{url} shows the flag {flag.code}"


# --- saving -------------------------------------------------------------------------------


def test_saving_a_part_stores_its_answers_with_the_version_and_moves_on(client, booked):
    """POSTing a part answers 303 to the next part of its form ("Save and go back": to the
    previous one) and stores the cleaned answers (numbers as numbers, "choose all" in listed
    order, text trimmed with line breaks normalised) with the questionnaire VERSION, adding
    the part to sections_done; nothing is complete yet."""
    appointment, token = booked
    assert response_row(appointment.id) is None

    goals = post(
        client,
        token,
        "goals",
        {"goals_concerns": "  Low mood\r\nand poor sleep  ", "goals_duration": "1_to_6_months"},
    )
    stress = post(
        client,
        token,
        "stress",
        {"stress_level": "7", "stress_sources": ["money", "work"]},
        action="back",
    )
    sleep = post(client, token, "sleep", {"sleep_hours": "6", "sleep_falling_asleep": "0"})

    assert goes_to(goals, token, "mood")
    assert goes_to(stress, token, "mood_history")
    assert goes_to(sleep, token, "energy")
    row = response_row(appointment.id)
    assert row.version == VERSION
    assert row.answers == {
        "goals_concerns": "Low mood\nand poor sleep",
        "goals_duration": "1_to_6_months",
        "stress_level": "7",
        "stress_sources": ["work", "money"],
        "sleep_hours": 6,
        "sleep_falling_asleep": 0,
    }
    assert row.sections_done == ["goals", "stress", "sleep"]
    assert row.completed_at is None

    again = client.get(f"/intake/{token}/stress")
    parsed = Page(again.text)
    checked = {(f["name"], f["value"]) for f in parsed.fields if "checked" in f}
    assert checked == {
        ("stress_level", "7"),
        ("stress_sources", "work"),
        ("stress_sources", "money"),
    }


def walk(client, token: str, url: str, label: str, before_save=None) -> tuple[list, dict, str]:
    """Follow ``url`` and each redirect, saving calm answers with each page's own CSRF token,
    until the thank-you page: (the parts visited, the answers sent, the last Location).
    Each page must say "<label> N of M", M being the parts of its form asked so far;
    ``before_save(part_id)`` runs before each part is sent."""
    visited: list[str] = []
    answered: dict = {}
    while not url.endswith("/done"):
        part_id = url.rsplit("/", 1)[1]
        part = section(part_id)
        page = client.get(url)
        assert page.status_code == 200, url
        total = len(asked(part.form, answered))
        assert progress_label(page.text).startswith(f"{label} {len(visited) + 1} of {total} ")
        if before_save is not None:
            before_save(part_id)
        response = post(client, token, part_id, calm(part), csrf=csrf_token(page.text))
        assert response.status_code == 303, part_id
        visited.append(part_id)
        answered.update(calm(part))
        url = response.headers["Location"]
        assert len(visited) <= len(SECTIONS), visited
    return visited, answered, url


def test_answering_every_part_in_turn_completes_the_questionnaire(client, booked):
    """Following the start button and each redirect through the pre-consult form with calm
    answers (item 9 "Not at all", negative screeners) visits its 7 parts in order, skipping
    the parts that don't apply, and stores every answer; completed_at is set by the last part
    (not before), which leads to the thank-you page saying the questionnaire is complete and
    offering the optional health history. Following that link through the history's 11 parts
    stores them too and ends on the thank-you page, which no longer offers it; the start page
    then offers a review."""
    appointment, token = booked
    url, _ = primary_button(client.get(f"/intake/{token}").text)
    assert url == f"/intake/{token}/about"

    def not_complete_yet(part_id: str) -> None:
        row = response_row(appointment.id)
        assert row is None or row.completed_at is None, part_id

    visited, answered, url = walk(client, token, url, "Part", not_complete_yet)

    assert visited == CALM_PRE_CONSULT
    assert url.endswith(f"/intake/{token}/done")
    row = response_row(appointment.id)
    assert row.sections_done == CALM_PRE_CONSULT
    assert row.completed_at is not None
    completed_at = row.completed_at
    assert set(row.answers) == set(answered)
    assert row.answers["goals_concerns"] == "Answer to goals_concerns"
    assert row.answers["consent_share"] == "yes"
    assert row.answers["country"] == "GB"
    done = client.get(url)
    assert done.status_code == 200
    assert "Your questionnaire is complete" in done.text
    assert "still to go" not in done.text
    links = {text: a["href"] for a, text in Page(done.text).links}
    assert links["Start my health history"] == f"/intake/{token}/{HISTORY_IDS[0]}"

    history, more, url = walk(
        client, token, links["Start my health history"], "Health history: part"
    )

    assert history == HISTORY_IDS
    assert url.endswith(f"/intake/{token}/done")
    row = response_row(appointment.id)
    assert row.sections_done == CALM_PRE_CONSULT + HISTORY_IDS
    assert set(row.answers) == set(answered) | set(more)
    assert row.completed_at == completed_at
    done = client.get(url).text
    assert "Your questionnaire is complete" in done
    assert "Start my health history" not in done
    assert "Continue my health history" not in done
    assert primary_button(client.get(f"/intake/{token}").text)[1] == "Review my answers"


def test_the_questionnaire_is_complete_only_when_every_asked_part_is_saved(client, booked):
    """A positive PHQ-2 asks the rest of the PHQ-9: saving every other pre-consult part leaves
    the questionnaire incomplete, and the thank-you page lists that part as still to go, until
    it is saved too."""
    appointment, token = booked
    mood = {**calm(section("mood")), "phq9_1": "2", "phq9_2": "2"}
    for part_id in CALM_PRE_CONSULT:
        save(token, part_id, mood if part_id == "mood" else calm(section(part_id)))

    assert response_row(appointment.id).completed_at is None
    waiting = client.get(f"/intake/{token}/done").text
    assert "1 part still to go" in text_of(waiting)
    assert [t for a, t in Page(waiting).links if "/mood_more" in a.get("href", "")] == [
        section("mood_more").title
    ]
    assert "Start my health history" not in waiting

    response = post(client, token, "mood_more", calm(section("mood_more")))

    assert goes_to(response, token, "anxiety")
    assert response_row(appointment.id).completed_at is not None
    assert "Your questionnaire is complete" in client.get(f"/intake/{token}/done").text


def test_a_later_answer_that_asks_a_new_part_reopens_the_questionnaire(client, booked):
    """Complete with a negative PHQ-2, then raise it: the rest of the PHQ-9 is now asked, so the
    questionnaire is incomplete again (emails offer the link again) until that part is saved,
    when it is complete from then on."""
    appointment, token = booked
    for part_id in CALM_PRE_CONSULT:
        save(token, part_id, calm(section(part_id)))
    first = response_row(appointment.id).completed_at
    assert first is not None

    raised = post(client, token, "mood", {**calm(section("mood")), "phq9_1": "3"})

    assert goes_to(raised, token, "mood_more")
    assert response_row(appointment.id).completed_at is None
    post(client, token, "mood_more", calm(section("mood_more")))
    assert response_row(appointment.id).completed_at is not None


def test_answers_can_be_changed_later_and_a_cleared_answer_is_removed(client, booked):
    """After completing, the patient can go back to a part and change it: a changed answer
    replaces the old one, an emptied text or a radio left unpicked removes the answer, and the
    other answers, the parts done and the completion time stay as they were."""
    appointment, token = booked
    for part_id in CALM_PRE_CONSULT:
        save(token, part_id, calm(section(part_id)))
    before = response_row(appointment.id)
    completed_at, done = before.completed_at, list(before.sections_done)
    assert completed_at is not None
    assert before.answers["goals_concerns"] == "Answer to goals_concerns"

    response = post(
        client,
        token,
        "goals",
        {"goals_concerns": "  ", "goals_useful": "Next steps", "goals_duration": "over_5_years"},
    )
    cleared = post(client, token, "mood", {**calm(section("mood")), "phq9_2": ""})

    assert response.status_code == 303 and cleared.status_code == 303
    row = response_row(appointment.id)
    assert "goals_concerns" not in row.answers
    assert row.answers["goals_useful"] == "Next steps"
    assert row.answers["goals_duration"] == "over_5_years"
    assert "phq9_2" not in row.answers
    assert row.answers["phq9_1"] == "0"
    assert row.answers["phq9_9"] == "0"
    assert row.sections_done == done
    assert row.completed_at == completed_at
    parsed = Page(client.get(f"/intake/{token}/goals").text)
    assert parsed.checked("goals_duration") == ["over_5_years"]
    assert Page(client.get(f"/intake/{token}/mood").text).checked("phq9_2") == []
    page = client.get(f"/intake/{token}/goals").text
    assert re.search(r'<textarea id="goals_concerns"[^>]*></textarea>', page)


# --- refused input ------------------------------------------------------------------------

SAVED_GOALS = {"goals_concerns": "Tired all the time", "goals_duration": "1_to_6_months"}

BAD_INPUT = [
    pytest.param("mood", {"phq9_1": "4", "phq9_2": "1"}, "phq9_1", id="scale-above-top"),
    pytest.param("mood", {"phq9_1": "-1"}, "phq9_1", id="scale-below-bottom"),
    pytest.param(
        "stress", {"stress_level": "11", "stress_sources": ["work"]}, "stress_level", id="stress-11"
    ),
    pytest.param(
        "goals",
        {"goals_duration": "forever", "goals_useful": "x"},
        "goals_duration",
        id="unknown-choice",
    ),
    pytest.param("safety", {"heart_now": "maybe"}, "heart_now", id="unknown-yes-no"),
    pytest.param("about", {"country": "FR", "age_band": "18_24"}, "country", id="unknown-country"),
    pytest.param("about", {"age_band": "100_plus"}, "age_band", id="unknown-age-band"),
    pytest.param("asq", {"asq_1": "no", "asq_5": "sometimes"}, "asq_5", id="unknown-asq"),
    pytest.param(
        "safety",
        {"digestion_red_flags": ["blood_in_stool", "none"]},
        "digestion_red_flags",
        id="none-with-a-sign",
    ),
    pytest.param(
        "stress",
        {"stress_sources": ["work", "gambling"]},
        "stress_sources",
        id="unknown-multi-choice",
    ),
    pytest.param(
        "goals",
        {"goals_duration": ["under_1_month", "over_5_years"]},
        "goals_duration",
        id="two-choices-for-one",
    ),
    pytest.param("mood", {"phq9_9": ["0", "3"]}, "phq9_9", id="two-scale-answers"),
    pytest.param(
        "goals", {"goals_concerns": ["one", "two"]}, "goals_concerns", id="two-texts-for-one"
    ),
    pytest.param("sleep", {"sleep_hours": "15"}, "sleep_hours", id="number-above-max"),
    pytest.param("sleep", {"sleep_hours": "-1"}, "sleep_hours", id="number-below-min"),
    pytest.param("sleep", {"sleep_waking_night": "8"}, "sleep_waking_night", id="nights-8"),
    pytest.param("sleep", {"sleep_hours": "seven"}, "sleep_hours", id="number-in-words"),
    pytest.param("sleep", {"sleep_hours": "7.5"}, "sleep_hours", id="number-not-whole"),
    pytest.param("lifestyle", {"alcohol_drinks": "9" * 30}, "alcohol_drinks", id="number-huge"),
    pytest.param("stress", {"stress_other": "x" * 301}, "stress_other", id="text-over-300"),
    pytest.param("goals", {"goals_concerns": "x" * 501}, "goals_concerns", id="text-over-500"),
    pytest.param("goals", {"goals_concerns": "Tired\x00"}, "goals_concerns", id="nul"),
    pytest.param("goals", {"goals_concerns": "Tired\x1b[2J"}, "goals_concerns", id="escape"),
    pytest.param(
        "goals", {"goals_concerns": "Tired \u202edevlos"}, "goals_concerns", id="bidi-override"
    ),
]


@pytest.mark.parametrize("part_id, form, bad", BAD_INPUT)
def test_bad_input_is_refused_beside_its_question_and_nothing_is_stored(
    client, booked, part_id, form, bad
):
    """An answer outside its question's scale or choices, two answers to a one-answer
    question, "None of these" with a sign, a number out of range or not a whole number, or
    text that is too long or holds control characters: 422, a message beside that question
    alone (linked to its control by aria-describedby), and nothing stored -- not even the
    page's good answers (compared with the intake rows, revisions, flags, alerts, audit log,
    urgent mark and outbox before)."""
    appointment, token = booked
    save(token, "goals", SAVED_GOALS)
    before = stored(appointment.id)

    response = post(client, token, part_id, form)

    assert response.status_code == 422
    assert "need another look" in alert(response.text)
    errors = re.findall(r'<p class="error" id="([\w-]+)-error">([^<]+)</p>', response.text)
    assert [qid for qid, _ in errors] == [bad]
    # The message sits inside the question's own block, and its control points at it.
    blocks = response.text.split('<div class="question')[1:]
    [block] = [b for b in blocks if f'name="{bad}"' in b]
    assert block.startswith(' has-error"')
    assert f'id="{bad}-error"' in block
    q = question(bad)
    if q.kind in CHOICE_KINDS:
        [fieldset] = [fs for fs in Page(response.text).fieldsets if fs["legend"] == q.text]
        described = fieldset["attrs"].get("aria-describedby", "").split()
    else:
        field = Page(response.text).field(bad)
        described = field.get("aria-describedby", "").split()
        assert field.get("aria-invalid") == "true"
    assert f"{bad}-error" in described
    assert stored(appointment.id) == before


def test_a_first_submission_that_is_refused_creates_no_intake(client, booked):
    """When the very first page sent is refused (even with a risk answer beside the bad
    one), no intake row, revision, flag, alert or audit event is created at all."""
    appointment, token = booked
    empty = stored(appointment.id)

    response = post(client, token, "mood", {"phq9_1": "1", "phq9_2": "5", "phq9_9": "3"})

    assert response.status_code == 422
    assert response_row(appointment.id) is None
    assert not fresh(appointment.id).urgent
    assert stored(appointment.id) == empty
    assert empty[:4] == ([], [], [], [])  # no intake, revision, flag or alert to begin with
    assert audit_events("intake_saved") == []


@pytest.mark.parametrize("consent", ["", None], ids=["blank", "left-out"])
def test_a_blank_consent_is_saved_as_unanswered(client, booked, consent):
    """Consent to share is not required: the first page saved with it blank (or without the
    field at all) is accepted (303 to the next part), stores no consent_share answer (the
    revision keeps it as None, left blank) and the page shows neither choice picked."""
    appointment, token = booked
    form = {"country": "GB", "age_band": "25_34"}
    if consent is not None:
        form["consent_share"] = consent

    response = post(client, token, "about", form)

    assert goes_to(response, token, "goals")
    row = response_row(appointment.id)
    assert row.answers == {"country": "GB", "age_band": "25_34"}
    assert row.sections_done == ["about"]
    [saved] = revisions(appointment.id)
    assert saved.answers == {"consent_share": None, "country": "GB", "age_band": "25_34"}
    assert Page(client.get(f"/intake/{token}/about").text).checked("consent_share") == []


@pytest.mark.parametrize(
    "extra",
    [{"is_admin": "1"}, {"phq9_9": "3"}, {"goals_duration[]": "over_5_years"}],
    ids=["made-up", "from-another-part", "mangled-name"],
)
def test_a_field_that_is_not_a_question_of_the_part_refuses_the_page(client, booked, extra):
    """A form field that is not a question of this part (made up, or a question of another
    part, such as PHQ-9 item 9 sent with the goals) refuses the whole page with 422 and a
    message; nothing is stored and no alert is raised."""
    appointment, token = booked
    save(token, "goals", SAVED_GOALS)
    before = stored(appointment.id)

    response = post(client, token, "goals", {"goals_concerns": "Changed", **extra})

    assert response.status_code == 422
    assert "didn't recognise part of this form" in alert(response.text)
    assert stored(appointment.id) == before


def test_an_unknown_part_is_404(client, booked):
    """A part id that isn't in the questionnaire answers 404 to GET and POST; nothing is
    stored."""
    appointment, token = booked
    csrf = csrf_for(client, token)
    before = stored(appointment.id)

    assert client.get(f"/intake/{token}/nonsense").status_code == 404
    assert client.get(f"/intake/{token}/Goals").status_code == 404
    response = post(client, token, "nonsense", {"goals_concerns": "Hello"}, csrf=csrf)
    assert response.status_code == 404
    assert stored(appointment.id) == before


def test_an_unknown_link_is_404(client, booked):
    """A made-up token opens neither the start page, a part nor the thank-you page."""
    for url in ("/intake/" + "A" * 43, "/intake/" + "A" * 43 + "/goals", "/intake/nope/done"):
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("csrf", [None, "not-the-token"], ids=["missing", "wrong"])
def test_a_post_without_the_csrf_token_is_400_and_stores_nothing(client, booked, csrf):
    """Without the session's CSRF token a part is refused with 400; nothing is stored."""
    appointment, token = booked
    client.get(f"/intake/{token}/goals")  # the session exists: only the token is missing
    before = stored(appointment.id)
    data = {"goals_concerns": "Hello", "action": "next"}
    if csrf:
        data["csrf_token"] = csrf

    response = client.post(f"/intake/{token}/goals", data=data)

    assert response.status_code == 400
    assert stored(appointment.id) == before


# --- closed: cancelled, or the consult has started ----------------------------------------


def assert_read_only(html: str) -> None:
    parsed = Page(html)
    assert parsed.fields, "the page shows no questions"
    assert [f for f in parsed.fields if "disabled" not in f] == []
    assert [b for b in parsed.buttons if b.get("type") == "submit"] == []


def test_a_cancelled_consults_questionnaire_is_read_only_and_refuses_answers(client, booked):
    """Once the consult is cancelled its questionnaire shows the answers read-only (every
    input disabled, no save button) with a message; a POST is refused with 409 and the
    message, and nothing is stored. The start page says so and offers no start button."""
    appointment, token = booked
    save(token, "goals", SAVED_GOALS)
    changes.cancel(token, "Feeling better", datetime.now(UTC))
    before = stored(appointment.id)

    page = client.get(f"/intake/{token}/goals")
    start = client.get(f"/intake/{token}")
    response = post(client, token, "goals", {"goals_concerns": "Changed my mind"})

    assert page.status_code == 200
    assert "not booked" in alert(page.text)
    assert_read_only(page.text)
    assert "Tired all the time</textarea>" in page.text
    assert "not booked" in alert(start.text)
    assert "button-primary" not in start.text
    assert stored(appointment.id) == before
    assert "not booked" in alert(response.text)
    assert response.status_code == 409


@pytest.mark.parametrize(
    "ago",
    [timedelta(minutes=5), timedelta(days=2), timedelta(days=29)],
    ids=["just-started", "two-days-ago", "29-days-ago"],
)
def test_once_the_consult_has_started_the_questionnaire_is_read_only(client, doctor, ago):
    """A consult whose start has passed (its link still works, under 30 days) shows its
    questionnaire read-only with a message; a POST (a risk answer, or item 9 left blank,
    which is not prompted) is 409 with the message and nothing is stored (answers saved
    before the start are kept as they were)."""
    start = (datetime.now(UTC) - ago).replace(microsecond=0)
    appointment = factories.appointment(doctor, start)
    token = link_token(appointment.link_salt)
    save(token, "goals", SAVED_GOALS, now=start - timedelta(days=1))
    before = stored(appointment.id)

    page = client.get(f"/intake/{token}/goals")
    response = post(client, token, "goals", {"goals_concerns": "Too late"})
    crisis = post(client, token, "mood", {"phq9_9": "3"})
    blank_item_9 = post(client, token, "mood", {"phq9_1": "1"})  # refused, not prompted

    assert page.status_code == 200
    assert "has started" in alert(page.text)
    assert_read_only(page.text)
    assert "Tired all the time</textarea>" in page.text
    assert stored(appointment.id) == before
    for refused in (response, crisis, blank_item_9):
        assert "has started" in alert(refused.text)
        assert refused.status_code == 409


# --- markup in free text ------------------------------------------------------------------


def test_markup_typed_in_free_text_is_stored_as_typed_and_always_shown_escaped(client, booked, app):
    """<script> typed into a text answer (by a patient who agreed to share) is stored exactly
    as typed, and shown as text (escaped) when the patient opens the page again, in the staff
    summary and in its print version."""
    appointment, token = booked
    post(client, token, "about", calm(section("about")))

    response = post(client, token, "goals", {"goals_concerns": SCRIPT})

    assert response.status_code == 303
    row = response_row(appointment.id)
    assert row.answers["goals_concerns"] == SCRIPT
    page = client.get(f"/intake/{token}/goals").text
    with app.test_request_context():
        summary = build_summary(row.answers, row.version, row.sections_done, row.flags_raised)
        assert summary.shared
        partial = render_template("intake/_summary.html", summary=summary, zone=ZoneInfo("UTC"))
        printed = render_template(
            "intake/summary_print.html",
            summary=summary,
            appointment=fresh(appointment.id),
            settings=db.session.get(ClinicSettings, 1),
            zone=ZoneInfo("UTC"),
        )
    for html in (page, partial, printed):
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- panels and alerts --------------------------------------------------------------------

# Every choice that opens a panel on its own, page by page: (question, choice) -> panel.
MARKED = {
    "mood": {("phq9_9", v): "self_harm" for v in ("1", "2", "3")},
    "asq": {
        **{(f"asq_{n}", "yes"): "self_harm" for n in range(1, 5)},
        ("asq_5", "yes"): "emergency",
    },
    "safety": {
        ("heart_now", "yes"): "emergency",
        **{
            ("digestion_red_flags", v): "see_doctor"
            for v in ("blood_in_stool", "weight_loss", "swallowing", "vomiting")
        },
        **{
            ("heart_red_flags", v): "see_doctor"
            for v in ("chest_on_effort", "faint", "breathless_rest")
        },
    },
    "heart": {
        (q, "4"): "see_doctor"
        for q in ("heart_racing", "heart_skipped", "heart_breathless", "heart_chest_tight")
    },
}


def test_risk_choices_are_marked_with_the_panel_they_open(client, booked):
    """On every page of both forms, the choices that open a panel carry data-alert naming it:
    PHQ-9 item 9 above "Not at all" and yes to ASQ questions 1-4 the self-harm panel, "yes" to
    chest pain now and to ASQ question 5 the emergency panel, each red-flag sign and a heart
    symptom rated "Very severe" the see-a-doctor panel; nothing else is marked, and the old
    data-crisis mark is gone."""
    _, token = booked

    marked = {}
    for part in SECTIONS:
        page = client.get(f"/intake/{token}/{part.id}").text
        assert "data-crisis" not in page, part.id
        fields = Page(page).fields
        found = {(f["name"], f["value"]): f["data-alert"] for f in fields if "data-alert" in f}
        if found:
            marked[part.id] = found

    assert marked == MARKED


def test_item_9_above_not_at_all_shows_the_self_harm_panel_next_and_at_the_end(client, booked):
    """Before any risk answer the three panels are on the page but hidden. After "Several
    days" for PHQ-9 item 9, the next page (the ASQ) and the thank-you page show the self-harm
    panel alone, with the crisis lines of the patient's country (a London patient: Samaritans,
    NHS 111 and 999), the clinic's follow-up promise and the invitation to carry on."""
    _, token = booked
    before = client.get(f"/intake/{token}/mood").text

    response = post(client, token, "mood", {**calm(section("mood")), "phq9_9": "1"})

    assert shown_panels(before) == set()
    assert goes_to(response, token, "asq")
    for url in (f"/intake/{token}/asq", f"/intake/{token}/done"):
        page = client.get(url).text
        assert shown_panels(page) == {"self_harm"}, url
        _, text = panel(page, "self_harm")
        assert "Samaritans free on 116 123" in text and "NHS 111" in text, url
        assert "call 999" in text and "988" not in text, url
        assert "We have let the clinic know." in text, url
        assert KEEP_GOING in visible_text(page), url


def test_chest_pain_now_shows_the_emergency_panel_and_does_not_invite_going_on(client, booked):
    """ "Yes" to chest pain or severe breathlessness right now shows, on the next page and at
    the end, the emergency panel alone (call 999 now), not the self-harm one, and nothing the
    patient can see invites them to keep going; the consult is urgent with one emergency
    alert."""
    appointment, token = booked

    response = post(client, token, "safety", {**calm(section("safety")), "heart_now": "yes"})

    assert goes_to(response, token, "medications")
    for url in (f"/intake/{token}/medications", f"/intake/{token}/done"):
        page = client.get(url).text
        assert shown_panels(page) == {"emergency"}, url
        _, text = panel(page, "emergency")
        assert "Call 999 now" in text, url
        assert KEEP_GOING not in visible_text(page), url
    assert fresh(appointment.id).urgent
    assert intake_alerts(appointment.id) == [("emergency", "red")]


def test_a_patient_in_another_country_sees_the_clinics_own_text(client, booked):
    """A patient who chose "Another country" sees, in the emergency and self-harm panels,
    the crisis text the clinic set for other countries (not the default, nor the numbers of
    the country their time zone is in) and "your local emergency number"."""
    appointment, token = booked
    own = "Call the Test Valley crisis line on 555 0199 now."
    settings = db.session.get(ClinicSettings, 1)
    settings.crisis_text = own
    db.session.commit()

    chosen = post(client, token, "about", {**calm(section("about")), "country": "other"})
    response = post(client, token, "safety", {**calm(section("safety")), "heart_now": "yes"})

    assert goes_to(chosen, token, "goals")
    assert response_row(appointment.id).country == ""
    assert goes_to(response, token, "medications")
    page = client.get(f"/intake/{token}/medications").text
    assert shown_panels(page) == {"emergency"}
    for kind in ("emergency", "self_harm"):
        _, text = panel(page, kind)
        assert own in text, kind
        assert "your local emergency number" in text, kind
        assert " ".join(DEFAULT_CRISIS_TEXT.split()) not in text, kind
        for elsewhere in ("Samaritans", "999", "988", "911"):
            assert elsewhere not in text, (kind, elsewhere)
    assert fresh(appointment.id).urgent


def test_answers_without_risk_keep_the_panels_hidden_and_raise_no_urgent_alert(client, booked):
    """High but not red answers (PHQ-9 18 with item 9 "Not at all", GAD-7 21) leave every
    panel hidden on the next page and at the end, the consult not urgent and no urgent email
    written; the only alert is the staff-only amber one for the high GAD-7."""
    appointment, token = booked
    mood = {"phq9_1": "3", "phq9_2": "3", "phq9_9": "0"}
    mood_more = {f"phq9_{n}": "2" for n in range(3, 9)}

    steps = [
        post(client, token, "mood", mood),
        post(client, token, "mood_more", mood_more),
        post(client, token, "anxiety", high(section("anxiety"))),
        post(client, token, "anxiety_more", high(section("anxiety_more"))),
    ]

    assert [s.headers["Location"].rsplit("/", 1)[1] for s in steps] == [
        "mood_more",
        "anxiety",
        "anxiety_more",
        "safety",
    ]
    answers = response_row(appointment.id).answers
    assert score(answers).phq9 == 18 and score(answers).gad7 == 21
    for url in (f"/intake/{token}/safety", f"/intake/{token}/done"):
        assert shown_panels(client.get(url).text) == set(), url
    assert not fresh(appointment.id).urgent
    assert response_row(appointment.id).urgent_at is None
    assert outbox(appointment.id, "urgent_intake") == []
    assert intake_alerts(appointment.id) == [("high_score", "amber")]


# (first answer, the page it leads to, the panel, another answer of the same kind)
RED_FLAG_KINDS = [
    pytest.param(
        ("safety", {"heart_now": "yes"}),
        "medications",
        "emergency",
        ("asq", {"asq_5": "yes"}),
        id="chest-pain-now",
    ),
    pytest.param(
        ("mood", {"phq9_9": "1"}),
        "asq",
        "self_harm",
        ("asq", {"asq_2": "yes"}),
        id="item-9",
    ),
    pytest.param(
        ("safety", {"digestion_red_flags": ["blood_in_stool"]}),
        "medications",
        "see_doctor",
        ("safety", {"heart_red_flags": ["faint"]}),
        id="blood-in-stool",
    ),
    pytest.param(
        ("asq", {"asq_5": "yes"}),
        "anxiety",
        "emergency",
        ("safety", {"heart_now": "yes"}),
        id="asq-right-now",
    ),
]


@pytest.mark.parametrize("first, following, kind, same_kind", RED_FLAG_KINDS)
def test_each_red_flag_kind_shows_its_own_panel_and_raises_one_alert(
    client, booked, first, following, kind, same_kind
):
    """Without JavaScript, saving an answer that needs care shows its own panel alone on the
    next page and at the end (the emergency panel never invites the patient to keep going;
    the self-harm one does). It raises exactly one staff alert of its kind (red and urgent,
    with one email each to the practitioner and the clinic, for emergency and self-harm;
    amber, no email, for see-a-doctor), and neither saving it again nor another answer of
    the same kind raises a second one."""
    appointment, token = booked
    urgent = kind in ("emergency", "self_harm")
    part_id, answers = first

    response = post(client, token, part_id, answers)

    assert goes_to(response, token, following)
    for url in (f"/intake/{token}/{following}", f"/intake/{token}/done"):
        page = client.get(url).text
        assert shown_panels(page) == {kind}, url
        assert (KEEP_GOING in visible_text(page)) == (kind == "self_harm"), url
    assert intake_alerts(appointment.id) == [(kind, "red" if urgent else "amber")]
    assert fresh(appointment.id).urgent is urgent
    assert len(outbox(appointment.id, "urgent_intake")) == (2 if urgent else 0)

    again = post(client, token, part_id, answers)
    more = post(client, token, *same_kind)

    assert again.status_code == 303 and more.status_code == 303
    assert kind in score(response_row(appointment.id).answers).alerts
    assert intake_alerts(appointment.id) == [(kind, "red" if urgent else "amber")]
    assert len(outbox(appointment.id, "urgent_intake")) == (2 if urgent else 0)


def forbidden_in_alerts(answers: dict) -> list[str]:
    """What a staff alert must never say: health words, the questions and answers given (as
    the patient saw them), and the flags they raise."""
    words = ["PHQ", "GAD", "item", "self-harm", "harm", "suicid", "dead", "death", "score"]
    for qid, value in answers.items():
        q = question(qid)
        words.append(q.text)
        words.extend(q.label_for(v) for v in (value if isinstance(value, list) else [value]))
    words.extend(f.message for f in score(answers).flags)
    return words


def test_a_risk_answer_marks_the_consult_urgent_and_alerts_staff_without_health_details(
    client, booked
):
    """PHQ-9 item 9 "More than half the days" (with a positive PHQ-2, then daily life "Very
    difficult" on the rest of the PHQ-9) marks the consult urgent, opens one self-harm alert
    and writes one urgent_intake email each to the practitioner and to the clinic's contact
    address. The composed subject, text and HTML name the consult reference and link to it
    for staff, and say nothing about health: not the questionnaire, the questions, the answers
    or the flags (red and amber) they raise."""
    appointment, token = booked
    assert not fresh(appointment.id).urgent
    response = post(client, token, "mood", {"phq9_1": "2", "phq9_2": "1", "phq9_9": "2"})
    more = post(client, token, "mood_more", {"phq9_difficulty": "very"})

    assert goes_to(response, token, "mood_more")
    assert goes_to(more, token, "asq")
    row = fresh(appointment.id)
    assert row.urgent is True
    assert row.intake.urgent_at is not None
    assert intake_alerts(appointment.id) == [("self_harm", "red")]
    alerts = outbox(appointment.id, "urgent_intake")
    assert sorted(m.recipient for m in alerts) == sorted([DOCTOR_EMAIL, CLINIC_EMAIL])
    assert {m.audience for m in alerts} == {"staff"}
    words = forbidden_in_alerts(response_row(appointment.id).answers)
    assert {"More than half the days", "Several days", "Very difficult"} <= set(words)
    assert [f.code for f in score(response_row(appointment.id).answers).flags] == [
        "phq9_item9",
        "difficulty",
    ]
    for message in alerts:
        composed = compose(message)
        assert composed.invite is None
        assert row.reference in composed.subject
        for body in (composed.text, composed.html):
            assert row.reference in body
            assert f"/staff/consults/{row.reference}" in body
        for part in (composed.subject, composed.text, unescape(composed.html)):
            said = [w for w in words if re.search(rf"(?i){re.escape(w)}", part)]
            assert said == [], f"the alert to {message.recipient} says {said}"
        assert "phq" not in str(message.payload).lower()


def test_a_second_risk_answer_of_the_same_kind_or_saving_again_writes_no_second_alert(
    client, booked
):
    """Once a self-harm alert is open, another answer of that kind (a higher item 9, yes on
    the ASQ) or saving the same page again writes no more alerts or emails and keeps the first
    urgent time. An emergency (chest pain now) is a new kind: it opens its own alert, with its
    own emails, once."""
    appointment, token = booked
    post(client, token, "mood", {"phq9_9": "1"})
    first = response_row(appointment.id).urgent_at
    assert len(outbox(appointment.id, "urgent_intake")) == 2

    post(client, token, "mood", {"phq9_9": "1"})
    post(client, token, "mood", {"phq9_9": "3"})
    post(client, token, "asq", {"asq_1": "yes", "asq_3": "yes"})

    assert intake_alerts(appointment.id) == [("self_harm", "red")]
    assert len(outbox(appointment.id, "urgent_intake")) == 2

    post(client, token, "safety", {"heart_now": "yes"})
    post(client, token, "safety", {"heart_now": "yes"})
    post(client, token, "asq", {"asq_5": "yes"})

    assert intake_alerts(appointment.id) == [("self_harm", "red"), ("emergency", "red")]
    assert len(outbox(appointment.id, "urgent_intake")) == 4
    assert response_row(appointment.id).urgent_at == first
    assert fresh(appointment.id).urgent


def test_changing_the_answer_back_does_not_clear_urgent(client, booked):
    """Answering item 9 "Not at all" after "Several days" stores the new answer, but the
    consult stays urgent (with its first urgent time), the flag is kept and the alerts
    stand."""
    appointment, token = booked
    post(client, token, "mood", {"phq9_9": "1"})
    first = response_row(appointment.id).urgent_at

    response = post(client, token, "mood", {"phq9_9": "0"})

    assert goes_to(response, token, "anxiety")
    row = response_row(appointment.id)
    assert row.answers["phq9_9"] == "0"
    assert row.urgent_at == first
    assert fresh(appointment.id).urgent is True
    assert list(flags_raised(appointment.id)) == ["phq9_item9"]
    assert intake_alerts(appointment.id) == [("self_harm", "red")]
    assert len(outbox(appointment.id, "urgent_intake")) == 2


def test_editing_an_answer_keeps_the_reason_for_its_flag(client, booked, app):
    """Item 9 saved as "More than half the days", then changed to "Not at all": the consult
    stays urgent; the kept flag names the answer that raised it and the save it came with;
    both saves are revisions with their own values; and the practitioner's summary shows the
    flag as raised by an earlier answer since changed, with that answer."""
    appointment, token = booked
    post(client, token, "about", calm(section("about")))  # agrees to share
    mood = {"phq9_1": "0", "phq9_2": "0"}
    raised = post(client, token, "mood", {**mood, "phq9_9": "2"})
    changed = post(client, token, "mood", {**mood, "phq9_9": "0"})

    assert goes_to(raised, token, "asq") and goes_to(changed, token, "anxiety")
    assert fresh(appointment.id).urgent
    item9 = question("phq9_9")
    flag = flags_raised(appointment.id)["phq9_item9"]
    assert flag.level == "red"
    assert flag.reason == f"{item9.text}: More than half the days"
    assert flag.revision == 2
    saves = [(r.number, r.section_id, r.answers) for r in revisions(appointment.id)]
    assert [s[:2] for s in saves] == [(1, "about"), (2, "mood"), (3, "mood")]
    assert [s[2] for s in saves[1:]] == [{**mood, "phq9_9": "2"}, {**mood, "phq9_9": "0"}]

    create_staff(DOCTOR_EMAIL, "practitioner", PASSWORD)
    staff = app.test_client()
    assert sign_in(staff, DOCTOR_EMAIL).status_code == 303
    page = staff.get(f"/staff/consults/{fresh(appointment.id).reference}")

    assert page.status_code == 200
    flags = re.findall(r'<li class="flag flag-(\w+)( flag-earlier)?">(.*?)</li>', page.text, re.S)
    [(level, earlier, body)] = [f for f in flags if "PHQ-9 item 9" in text_of(f[2])]
    text = text_of(body)
    assert (level, earlier) == ("red", " flag-earlier")
    assert "raised by an earlier answer the patient has since changed" in text
    assert f"The answer that raised it: {item9.text}: More than half the days" in text


# --- item 9 left blank --------------------------------------------------------------------


def test_a_blank_item_9_is_prompted_once_then_saved_and_flagged(client, booked):
    """The mood page sent with item 9 blank is not saved: it comes back (200) with the
    patient's other answers still picked, a gentle prompt beside item 9 alone (linked to it by
    aria-describedby) and a hidden item9_prompted field; nothing is stored. Sent again with
    that field, it is saved without item 9 (303 to the next part) and raises the amber
    item9_skipped flag and alert, with no urgent mark or email."""
    appointment, token = booked
    save(token, "goals", SAVED_GOALS)
    before = stored(appointment.id)
    mood = {"phq9_1": "1", "phq9_2": "0"}  # a browser sends no radio for a blank question

    first = post(client, token, "mood", mood)

    assert first.status_code == 200
    assert stored(appointment.id) == before
    prompts = re.findall(r'<p class="prompt" id="([\w-]+)-prompt">(.*?)</p>', first.text, re.S)
    assert [qid for qid, _ in prompts] == ["phq9_9"]
    assert text_of(prompts[0][1]).startswith(ITEM9_PROMPT_START)
    blocks = first.text.split('<div class="question')[1:]
    [block] = [b for b in blocks if 'name="phq9_9"' in b]
    assert 'id="phq9_9-prompt"' in block
    parsed = Page(first.text)
    [fieldset] = [fs for fs in parsed.fieldsets if fs["legend"] == question("phq9_9").text]
    assert "phq9_9-prompt" in fieldset["attrs"].get("aria-describedby", "").split()
    assert [(h["name"], h["value"]) for h in parsed.hidden if h["name"] != "csrf_token"] == [
        ("item9_prompted", "1")
    ]
    assert parsed.checked("phq9_1") == ["1"] and parsed.checked("phq9_2") == ["0"]
    assert 'class="error"' not in first.text

    second = post(
        client, token, "mood", {**mood, "item9_prompted": "1"}, csrf=csrf_token(first.text)
    )

    assert goes_to(second, token, "anxiety")
    row = response_row(appointment.id)
    assert row.answers == {**SAVED_GOALS, **mood}
    assert row.sections_done == ["goals", "mood"]
    assert intake_alerts(appointment.id) == [("item9_skipped", "amber")]
    flags = flags_raised(appointment.id)
    assert list(flags) == ["item9_skipped"] and flags["item9_skipped"].level == "amber"
    assert not fresh(appointment.id).urgent
    assert outbox(appointment.id, "urgent_intake") == []


# --- the patient's country ----------------------------------------------------------------


def self_harm_numbers(client, token: str) -> str:
    """The self-harm panel's text on the page after item 9 "Several days"."""
    response = post(client, token, "mood", {"phq9_1": "0", "phq9_2": "0", "phq9_9": "1"})
    assert goes_to(response, token, "asq")
    page = client.get(f"/intake/{token}/asq").text
    shown, text = panel(page, "self_harm")
    assert shown
    return text


def test_crisis_numbers_follow_the_patients_time_zone(client, doctor):
    """A patient who booked from London has "United Kingdom" picked on the first page and sees
    999, NHS 111 and Samaritans (not 988); one who booked from New York has "United States"
    picked and sees 988 and 911 (not 999)."""
    _, london = book(doctor, days_ahead=3, zone=LONDON)
    _, new_york = book(doctor, days_ahead=4, zone=NEW_YORK)

    assert Page(client.get(f"/intake/{london}/about").text).checked("country") == ["GB"]
    assert Page(client.get(f"/intake/{new_york}/about").text).checked("country") == ["US"]
    uk = self_harm_numbers(client, london)
    us = self_harm_numbers(client, new_york)

    assert "999" in uk and "111" in uk and "Samaritans" in uk
    assert "988" not in uk
    assert "988" in us and "911" in us
    assert "999" not in us and "Samaritans" not in us


def test_a_patient_in_an_unlisted_country_has_another_country_picked(client, doctor):
    """A patient who booked from Paris has "Another country" picked and sees the clinic's
    text for other countries."""
    _, paris = book(doctor, days_ahead=3, zone=ZoneInfo("Europe/Paris"))

    assert Page(client.get(f"/intake/{paris}/about").text).checked("country") == ["other"]
    text = self_harm_numbers(client, paris)
    assert DEFAULT_CRISIS_TEXT in text and "999" not in text and "988" not in text


def test_the_country_chosen_on_the_first_page_picks_the_numbers(client, booked):
    """A London patient who chooses "United States" on the first page has it stored and
    picked when the page opens again, and sees 988 and 911, not the United Kingdom's lines."""
    appointment, token = booked

    response = post(client, token, "about", {**calm(section("about")), "country": "US"})

    assert goes_to(response, token, "goals")
    assert response_row(appointment.id).country == "US"
    assert Page(client.get(f"/intake/{token}/about").text).checked("country") == ["US"]
    text = self_harm_numbers(client, token)
    assert "988" in text and "911" in text
    assert "999" not in text and "Samaritans" not in text and "111" not in text


# --- parts that depend on earlier answers -------------------------------------------------

MOOD_ZERO = {"phq9_1": "0", "phq9_2": "0", "phq9_9": "0"}
# Each scenario: the pages sent in turn, (part, answers, action, where it leads).
CONDITIONAL_ROUTES = {
    "phq2-positive": [
        ("mood", {"phq9_1": "2", "phq9_2": "1", "phq9_9": "0"}, "next", "mood_more"),
        ("mood_more", {"phq9_3": "1"}, "next", "anxiety"),
        ("anxiety", {"gad7_1": "0", "gad7_2": "0"}, "back", "mood_more"),
    ],
    "phq2-below-3": [
        ("mood", {"phq9_1": "1", "phq9_2": "1", "phq9_9": "0"}, "next", "anxiety"),
        ("anxiety", {"gad7_1": "0", "gad7_2": "0"}, "back", "mood"),
    ],
    "item-9": [
        ("mood", {"phq9_1": "0", "phq9_2": "0", "phq9_9": "1"}, "next", "asq"),
        ("asq", {"asq_1": "no"}, "next", "anxiety"),
        ("anxiety", {"gad7_1": "0", "gad7_2": "0"}, "back", "asq"),
    ],
    "phq2-and-item-9": [
        ("mood", {"phq9_1": "3", "phq9_2": "0", "phq9_9": "2"}, "next", "mood_more"),
        ("mood_more", {"phq9_3": "1"}, "next", "asq"),
        ("asq", {"asq_1": "no"}, "next", "anxiety"),
        ("anxiety", {"gad7_1": "0", "gad7_2": "0"}, "back", "asq"),
        ("asq", {"asq_1": "no"}, "back", "mood_more"),
        ("mood_more", {"phq9_3": "1"}, "back", "mood"),
    ],
    "gad2-positive": [
        ("mood", MOOD_ZERO, "next", "anxiety"),
        ("anxiety", {"gad7_1": "2", "gad7_2": "1"}, "next", "anxiety_more"),
        ("anxiety_more", {"gad7_3": "1"}, "next", "safety"),
        ("safety", {"heart_now": "no"}, "back", "anxiety_more"),
    ],
    "gad2-below-3": [
        ("anxiety", {"gad7_1": "1", "gad7_2": "1"}, "next", "safety"),
        ("safety", {"heart_now": "no"}, "back", "anxiety"),
    ],
}


@pytest.mark.parametrize("steps", CONDITIONAL_ROUTES.values(), ids=CONDITIONAL_ROUTES.keys())
def test_parts_that_depend_on_answers_are_asked_page_by_page_without_script(client, booked, steps):
    """Without JavaScript the server decides the next page: a PHQ-2 of 3 or more leads to the
    rest of the PHQ-9, below 3 (item 9 "Not at all") straight to the anxiety page; item 9
    above "Not at all" leads to the ASQ (after the rest of the PHQ-9 when that is asked); a
    GAD-2 of 3 or more leads to the rest of the GAD-7. "Save and go back" goes to the last
    part asked before the page, skipping those not asked."""
    _, token = booked

    for part_id, answers, action, where in steps:
        response = post(client, token, part_id, answers, action=action)

        assert goes_to(response, token, where), (part_id, action, response.headers)


# --- revisions and the audit log ----------------------------------------------------------


def test_every_save_is_a_numbered_revision_and_an_audit_event_without_answers(client, booked):
    """Three saves of two pages append three revisions, numbered 1 to 3, each with its part,
    the questionnaire version and the values sent (a blank question as None); the latest
    answers are what the last saves said. Each save writes one intake_saved audit event naming
    the consult, the revision and the part, and no answer."""
    appointment, token = booked
    sent = [
        ("goals", {"goals_concerns": "Tired all the time", "goals_duration": "1_to_6_months"}),
        ("mood", {"phq9_1": "1", "phq9_2": "2", "phq9_9": "0"}),
        ("goals", {"goals_concerns": "Sleeping badly since spring", "goals_useful": "Sleep"}),
    ]

    for part_id, answers in sent:
        assert post(client, token, part_id, answers).status_code == 303

    saves = revisions(appointment.id)
    assert [(r.number, r.section_id, r.version) for r in saves] == [
        (1, "goals", VERSION),
        (2, "mood", VERSION),
        (3, "goals", VERSION),
    ]
    assert [r.answers for r in saves] == [
        {
            "goals_concerns": "Tired all the time",
            "goals_duration": "1_to_6_months",
            "goals_useful": None,
        },
        {"phq9_1": "1", "phq9_2": "2", "phq9_9": "0"},
        {
            "goals_concerns": "Sleeping badly since spring",
            "goals_duration": None,
            "goals_useful": "Sleep",
        },
    ]
    assert saves[0].saved_at <= saves[1].saved_at <= saves[2].saved_at
    assert response_row(appointment.id).answers == {
        "goals_concerns": "Sleeping badly since spring",
        "goals_useful": "Sleep",
        "phq9_1": "1",
        "phq9_2": "2",
        "phq9_9": "0",
    }
    events = audit_events("intake_saved")
    reference = fresh(appointment.id).reference
    assert [(e.subject, e.staff_user_id) for e in events] == [(f"consult {reference}", None)] * 3
    assert [e.detail for e in events] == ["revision 1", "revision 2", "revision 3"]
    # Beyond the revision number, nothing: not the part (the ASQ's says item 9 was above 0),
    # no text, choice or label sent.
    words = [
        w
        for _, answers in sent
        for qid, value in answers.items()
        for w in (value, question(qid).label_for(value))
        if not w.isdigit()
    ]
    assert "Tired all the time" in words and "More than half the days" in words
    for event in events:
        assert [w for w in words if w in event.detail] == []


# --- emails -------------------------------------------------------------------------------


def test_patient_emails_offer_the_questionnaire_until_it_is_complete(client, booked):
    """The patient's booking and reminder emails, composed before the intake is done (none
    or part of it saved), carry the /intake/<token> link in text and HTML; composed once every
    pre-consult part asked is saved (the optional history not started), they no longer do."""
    appointment, token = booked
    link = f"/intake/{token}"
    to_patient = [m for m in outbox(appointment.id) if m.audience == "patient"]
    assert {m.kind for m in to_patient} == {"booked", "reminder"}

    def links() -> list[bool]:
        db.session.rollback()
        found = []
        for message in to_patient:
            composed = compose(db.session.get(OutboxMessage, message.id))
            found += [link in composed.text, link in composed.html]
        return found

    before = links()
    for part_id in CALM_PRE_CONSULT[:-1]:
        save(token, part_id, calm(section(part_id)))
    assert response_row(appointment.id).completed_at is None
    partly = links()
    save(token, CALM_PRE_CONSULT[-1], calm(section(CALM_PRE_CONSULT[-1])))
    assert response_row(appointment.id).completed_at is not None
    after = links()

    assert before and all(before)
    assert all(partly)
    assert not any(after)


def test_cancellation_emails_never_offer_the_questionnaire(client, booked):
    """The cancellation emails (to the patient and the practitioner), written while the
    intake is still to do, carry no questionnaire link."""
    appointment, token = booked
    save(token, "goals", SAVED_GOALS)
    changes.cancel(token, "Feeling better", datetime.now(UTC))

    cancelled = outbox(appointment.id, "cancelled")

    assert {m.audience for m in cancelled} == {"patient", "practitioner"}
    for message in cancelled:
        composed = compose(message)
        assert "/intake/" not in composed.text and "/intake/" not in composed.html
        assert "questionnaire" not in composed.text.lower()


def test_after_an_emergency_nothing_invites_the_patient_to_go_on(client, booked):
    """Item 9 and then the ASQ's "right now": the emergency and self-harm panels both show,
    but neither says to keep going, and the thank-you page offers no more questions."""
    _, token = booked
    post(client, token, "mood", {"phq9_1": "0", "phq9_2": "0", "phq9_9": "2"})
    response = post(client, token, "asq", {"asq_1": "yes", "asq_5": "yes"})

    page = client.get(response.headers["Location"]).text
    assert shown_panels(page) == {"emergency", "self_harm"}
    assert "keep going" not in visible_text(page)
    done = client.get(f"/intake/{token}/done").text
    assert shown_panels(done) == {"emergency", "self_harm"}
    assert "keep going" not in visible_text(done)
    assert "health history" not in visible_text(done)


def test_the_see_a_doctor_panel_promises_only_what_happens(client, booked):
    """Amber alerts have no deadline, so the panel promises no response time: the practitioner
    reads the answers before the consult."""
    _, token = booked
    response = post(
        client, token, "safety", {"heart_now": "no", "digestion_red_flags": ["weight_loss"]}
    )

    shown, text = panel(client.get(response.headers["Location"]).text, "see_doctor")
    assert shown
    assert "before your consult" in text and "office hours" not in text


def test_a_mood_page_saved_before_the_prompt_existed_is_no_skip(client, booked):
    """An intake of the earlier questionnaire with item 9 blank on a saved mood page: the
    patient was never prompted, so saving another page raises no item-9-skipped alert."""
    appointment, token = booked
    db.session.add(
        IntakeResponse(
            appointment_id=appointment.id,
            version="2026-11.1",
            answers={"phq9_1": "1"},
            sections_done=["mood"],
        )
    )
    db.session.commit()

    save(token, "goals", calm(section("goals")))

    db.session.rollback()
    assert db.session.scalars(sa.select(IntakeAlert)).all() == []
    # Saved blank under this questionnaire, after the prompt, it is one.
    post(client, token, "mood", {"phq9_1": "1", "phq9_2": "0", "item9_prompted": "1"})
    db.session.rollback()
    assert [a.kind for a in db.session.scalars(sa.select(IntakeAlert))] == ["item9_skipped"]
