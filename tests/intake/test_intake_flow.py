"""The intake questionnaire over HTTP: /intake/<token>, one part per page, then /done.

The same secret link as the booking opens it. The routes use the real clock, so consults are
booked relative to ``datetime.now``. CSRF stays on: every POST carries the token from a page
the client fetched first. Each test runs on SQLite and on PostgreSQL (the ``backend`` param).
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

from clinic.booking import changes
from clinic.booking import services as booking
from clinic.extensions import db
from clinic.intake import services
from clinic.intake.questionnaire import (
    MEDICATION_NOTE,
    PHQ_GAD_CREDIT,
    SECTIONS,
    VERSION,
    Section,
    question,
    section,
)
from clinic.intake.scoring import PHQ9_BANDS, score
from clinic.intake.summary import build_summary
from clinic.links import link_token
from clinic.models import (
    DEFAULT_CRISIS_TEXT,
    Appointment,
    ClinicSettings,
    IntakeResponse,
    OutboxMessage,
)
from clinic.notify.compose import compose
from tests import factories
from tests.conftest import csrf_token

CLINIC_EMAIL = "hello@clinic.test"
DOCTOR_EMAIL = "ada@clinic.test"
WORKING_HOURS = [(d, time(8), time(20)) for d in range(7)]
SECTION_IDS = [s.id for s in SECTIONS]
CHOICE_KINDS = ("scale", "choice", "yesno", "multi")
SCRIPT = "<script>alert(1)</script>"


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture
def doctor(app):
    factories.clinic(contact_email=CLINIC_EMAIL)
    return factories.practitioner(hours=WORKING_HOURS, name="Dr Ada Lane", email=DOCTOR_EMAIL)


def book(practitioner, days_ahead: int = 3) -> tuple[Appointment, str]:
    """Book a consult through the booking service, as the API would: (appointment, token)."""
    return booking.book(
        practitioner.id,
        factories.next_grid_time(days_ahead=days_ahead, hour=15),
        ZoneInfo("Europe/London"),
        booking.PatientDetails("Jo Patient", "jo@example.com"),
        datetime.now(UTC),
        "clinic.test",
    )


@pytest.fixture
def booked(doctor):
    return book(doctor)


def calm(part: Section) -> dict[str, str | list[str]]:
    """A valid form for every question of ``part`` that signals no risk."""
    form: dict[str, str | list[str]] = {}
    for q in part.questions:
        if q.kind == "scale":
            form[q.id] = q.choices[0].value  # the lowest score
        elif q.kind == "choice":
            form[q.id] = q.choices[0].value
        elif q.kind == "yesno":
            form[q.id] = "yes" if q.id == "consent_share" else "no"
        elif q.kind == "multi":
            form[q.id] = [q.choices[-1].value]  # "Something else", "None of these"
        elif q.kind == "number":
            assert q.min is not None
            form[q.id] = str(q.min)
        else:
            form[q.id] = f"Answer to {q.id}"
    return form


def high(part: Section) -> dict[str, str | list[str]]:
    """A valid form for ``part`` that scores as high as it can (red, amber and info flags)."""
    form: dict[str, str | list[str]] = {}
    for q in part.questions:
        if q.kind in ("scale", "choice"):
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


def csrf_for(client, token: str, section_id: str = "goals") -> str:
    return csrf_token(client.get(f"/intake/{token}/{section_id}").text)


def post(client, token, section_id, answers, action="next", csrf: str | None = None):
    """POST a part as the browser would (the token from the page itself unless given)."""
    data = dict(answers)
    data["csrf_token"] = csrf or csrf_for(client, token, section_id)
    data["action"] = action
    return client.post(f"/intake/{token}/{section_id}", data=data)


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


def stored(appointment_id: int) -> tuple:
    """Everything a refused submission must leave alone: every intake row, the consult's
    urgent mark and the whole outbox."""
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
        )
        for r in db.session.scalars(sa.select(IntakeResponse).order_by(IntakeResponse.id))
    ]
    messages = [(m.id, m.kind, m.recipient) for m in outbox(appointment_id)]
    return rows, fresh(appointment_id).urgent, messages


class Page(HTMLParser):
    """A page's form controls, the labels and legends that name them, links and buttons."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.fieldsets: list[dict] = []
        self.labels: dict[str, str] = {}
        self.fields: list[dict] = []
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
        elif tag in ("input", "textarea", "select") and attrs.get("type") != "hidden":
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


def crisis_panel(html: str) -> tuple[bool, str]:
    """(shown, text) of the page's crisis panel."""
    match = re.search(r'<section id="crisis"([^>]*)>(.*?)</section>', html, re.S)
    assert match, "the page has no crisis panel"
    shown = re.search(r"\shidden(\s|=|$)", match.group(1)) is None
    return shown, " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())


def alert(html: str) -> str:
    match = re.search(r'<div class="alert" role="alert">(.*?)</div>', html, re.S)
    assert match, "the page has no alert"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def primary_button(html: str) -> tuple[str, str]:
    """(href, text) of the page's primary link button."""
    links = [(a, t) for a, t in Page(html).links if "button-primary" in a.get("class", "")]
    assert len(links) == 1, links
    return links[0][0]["href"], links[0][1]


# --- the start page -----------------------------------------------------------------------


def test_the_start_page_says_how_long_lists_every_part_and_starts_at_the_first(client, booked):
    """/intake/<token> says it takes about 10 minutes, links every part by its title in
    order, and its start button opens the first part; the secret URL is not cached or sent
    on as a Referer."""
    _, token = booked

    page = client.get(f"/intake/{token}")

    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "about 10 minutes" in page.text
    parts = [
        (a["href"], text)
        for a, text in Page(page.text).links
        if a.get("href", "").startswith(f"/intake/{token}/") and "button" not in a.get("class", "")
    ]
    assert parts == [(f"/intake/{token}/{s.id}", s.title) for s in SECTIONS]
    assert primary_button(page.text) == (f"/intake/{token}/goals", "Start the questionnaire")
    assert "(saved)" not in page.text


def test_the_start_page_resumes_at_the_first_unsaved_part(client, booked):
    """With goals, mood and stress saved (worry skipped), the start page offers "Continue
    where I left off" and it links the first part not saved (worry), not the one after the
    last saved; saved parts are marked."""
    _, token = booked
    for part_id in ("goals", "mood", "stress"):
        save(token, part_id, calm(section(part_id)))

    page = client.get(f"/intake/{token}")

    assert primary_button(page.text) == (f"/intake/{token}/anxiety", "Continue where I left off")
    saved = re.findall(
        r'/intake/[^/"]+/(\w+)">[^<]*</a> <span class="done">\(saved\)</span>', page.text
    )
    assert saved == ["goals", "mood", "stress"]


# --- each part's page ---------------------------------------------------------------------


@pytest.mark.parametrize("part", SECTIONS, ids=SECTION_IDS)
def test_each_part_names_every_question_and_shows_progress(client, booked, part):
    """Every question is on its part's page: choices as a fieldset whose legend is the
    question, one radio (checkbox for "choose all") per choice, each labelled with the choice;
    numbers and text as one field labelled with the question. No control is unlabelled, and
    there are no controls beyond the part's questions. The page says "Part N of 13" and has a
    <progress>; the PHQ-9/GAD-7 credit is on the mood and worry pages (only), the note about
    prescribed medication on the medicines page."""
    _, token = booked
    number = SECTION_IDS.index(part.id) + 1

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
    assert f"Part {number} of {len(SECTIONS)}" in text
    assert re.search(rf'<progress max="{len(SECTIONS)}" value="{number - 1}"', page.text)
    assert (PHQ_GAD_CREDIT in text) == (part.id in ("mood", "anxiety"))
    assert (MEDICATION_NOTE in text) == (part.id == "medications")
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
    GAD-7 21; red, amber and info flags), no page the patient sees (start, every part, the
    thank-you page) shows a band word, a score or total, a flag or a diagnostic label."""
    _, token = booked
    answers: dict = {}
    for part in SECTIONS:
        save(token, part.id, high(part))
        answers.update(high(part))
    scores = score(answers)
    assert scores.phq9 == 27 and scores.phq9_band == PHQ9_BANDS[-1][2] and scores.gad7 == 21
    assert {f.level for f in scores.flags} == {"red", "amber", "info"}

    urls = [f"/intake/{token}", *(f"/intake/{token}/{s}" for s in SECTION_IDS)]
    for url in [*urls, f"/intake/{token}/done"]:
        page = client.get(url)
        assert page.status_code == 200, url
        reads = patient_reads(page.text)
        found = STAFF_ONLY.findall(reads)
        assert not found, f"{url} shows {found}"
        for flag in scores.flags:
            assert flag.message not in reads, f"{url} shows the flag {flag.code}"


# --- saving -------------------------------------------------------------------------------


def test_saving_a_part_stores_its_answers_with_the_version_and_moves_on(client, booked):
    """POSTing a part answers 303 to the next part ("Save and go back": to the previous
    one) and stores the cleaned answers (numbers as numbers, "choose all" in listed order,
    text trimmed with line breaks normalised) with the questionnaire VERSION, adding the part
    to sections_done; nothing is complete yet."""
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

    assert goals.status_code == 303
    assert goals.headers["Location"].endswith(f"/intake/{token}/mood")
    assert stress.status_code == 303
    assert stress.headers["Location"].endswith(f"/intake/{token}/anxiety")
    assert sleep.status_code == 303
    assert sleep.headers["Location"].endswith(f"/intake/{token}/energy")
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


def test_answering_every_part_in_turn_completes_the_questionnaire(client, booked):
    """Following the start button and each redirect through all 13 parts stores every
    answer; completed_at is set by the last part (not before), which leads to the thank-you
    page saying the questionnaire is complete; the start page then offers a review."""
    appointment, token = booked
    url, _ = primary_button(client.get(f"/intake/{token}").text)
    answered: dict = {}
    for number, part in enumerate(SECTIONS, start=1):
        assert url == f"/intake/{token}/{part.id}"
        page = client.get(url)
        assert f"Part {number} of {len(SECTIONS)}" in page.text
        if part.id == "contact":
            assert response_row(appointment.id).completed_at is None
        response = post(client, token, part.id, calm(part), csrf=csrf_token(page.text))
        assert response.status_code == 303, part.id
        url = response.headers["Location"]
        answered.update(calm(part))

    assert url == f"/intake/{token}/done"
    row = response_row(appointment.id)
    assert row.sections_done == SECTION_IDS
    assert row.completed_at is not None
    assert set(row.answers) == set(answered)
    assert row.answers["goals_concerns"] == "Answer to goals_concerns"
    assert row.answers["consent_share"] == "yes"
    done = client.get(url)
    assert done.status_code == 200
    assert "Your questionnaire is complete" in done.text
    assert "still to go" not in done.text
    assert primary_button(client.get(f"/intake/{token}").text)[1] == "Review my answers"


def test_answers_can_be_changed_later_and_a_cleared_answer_is_removed(client, booked):
    """After completing, the patient can go back to a part and change it: a changed answer
    replaces the old one, an emptied text or a radio left unpicked removes the answer, and the
    other answers, the parts done and the completion time stay as they were."""
    appointment, token = booked
    for part in SECTIONS:
        save(token, part.id, calm(part))
    before = response_row(appointment.id)
    completed_at, done = before.completed_at, list(before.sections_done)
    assert before.answers["goals_concerns"] == "Answer to goals_concerns"

    response = post(
        client,
        token,
        "goals",
        {"goals_concerns": "  ", "goals_useful": "Next steps", "goals_duration": "over_5_years"},
    )
    cleared = post(client, token, "mood", {**calm(section("mood")), "phq9_4": ""})

    assert response.status_code == 303 and cleared.status_code == 303
    row = response_row(appointment.id)
    assert "goals_concerns" not in row.answers
    assert row.answers["goals_useful"] == "Next steps"
    assert row.answers["goals_duration"] == "over_5_years"
    assert "phq9_4" not in row.answers
    assert row.answers["phq9_3"] == "0"
    assert row.sections_done == done
    assert row.completed_at == completed_at
    parsed = Page(client.get(f"/intake/{token}/goals").text)
    assert "checked" in next(
        f for f in parsed.controls_of("goals_duration") if f["value"] == "over_5_years"
    )
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
    pytest.param("heart", {"heart_now": "maybe"}, "heart_now", id="unknown-yes-no"),
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
    pytest.param(
        "contact",
        {"contact_method": "email", "contact_leave_message": "yes"},
        "consent_share",
        id="required-left-empty",
    ),
    pytest.param("contact", {"consent_share": ""}, "consent_share", id="required-blank"),
]


@pytest.mark.parametrize("part_id, form, bad", BAD_INPUT)
def test_bad_input_is_refused_beside_its_question_and_nothing_is_stored(
    client, booked, part_id, form, bad
):
    """An answer outside its question's scale or choices, two answers to a one-answer
    question, a number out of range or not a whole number, text that is too long or holds
    control characters, or a required question left empty: 422, a message beside that
    question alone (linked to its control by aria-describedby), and nothing stored -- not even
    the page's good answers (compared with the intake rows, urgent mark and outbox before)."""
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
    """When the very first page sent is refused, no intake row is created at all."""
    appointment, token = booked

    response = post(client, token, "mood", {"phq9_1": "1", "phq9_2": "5"})

    assert response.status_code == 422
    assert response_row(appointment.id) is None
    assert not fresh(appointment.id).urgent


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
    questionnaire read-only with a message; a POST is 409 with the message and nothing is
    stored (answers saved before the start are kept as they were)."""
    start = (datetime.now(UTC) - ago).replace(microsecond=0)
    appointment = factories.appointment(doctor, start)
    token = link_token(appointment.link_salt)
    save(token, "goals", SAVED_GOALS, now=start - timedelta(days=1))
    before = stored(appointment.id)

    page = client.get(f"/intake/{token}/goals")
    response = post(client, token, "goals", {"goals_concerns": "Too late"})
    crisis = post(client, token, "mood", {"phq9_9": "3"})

    assert page.status_code == 200
    assert "has started" in alert(page.text)
    assert_read_only(page.text)
    assert "Tired all the time</textarea>" in page.text
    assert stored(appointment.id) == before
    for refused in (response, crisis):
        assert "has started" in alert(refused.text)
        assert refused.status_code == 409


# --- markup in free text ------------------------------------------------------------------


def test_markup_typed_in_free_text_is_stored_as_typed_and_always_shown_escaped(client, booked, app):
    """<script> typed into a text answer is stored exactly as typed, and shown as text
    (escaped) when the patient opens the page again, in the staff summary and in its print
    version."""
    appointment, token = booked

    response = post(client, token, "goals", {"goals_concerns": SCRIPT})

    assert response.status_code == 303
    row = response_row(appointment.id)
    assert row.answers["goals_concerns"] == SCRIPT
    page = client.get(f"/intake/{token}/goals").text
    with app.test_request_context():
        summary = build_summary(row.answers, row.version)
        partial = render_template("intake/_summary.html", summary=summary)
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


# --- crisis -------------------------------------------------------------------------------


def test_risk_choices_are_marked_for_the_script(client, booked):
    """The PHQ-9 item 9 radios above "Not at all" (1-3) and "yes" to chest pain now carry
    data-crisis, so the page's script can show the panel at once; nothing else does."""
    _, token = booked

    marked = {}
    for part_id in ("goals", "mood", "heart"):
        parsed = Page(client.get(f"/intake/{token}/{part_id}").text)
        marked[part_id] = {(f["name"], f["value"]) for f in parsed.fields if "data-crisis" in f}

    assert marked == {
        "goals": set(),
        "mood": {("phq9_9", "1"), ("phq9_9", "2"), ("phq9_9", "3")},
        "heart": {("heart_now", "yes")},
    }


def test_item_9_above_not_at_all_shows_the_crisis_text_next_and_at_the_end(client, booked):
    """Before any risk answer the crisis panel is on the page but hidden. After "Several
    days" for PHQ-9 item 9, the next page and the thank-you page show it (not hidden) with the
    clinic's crisis text, which by default gives 988 and 911."""
    _, token = booked
    hidden, _ = crisis_panel(client.get(f"/intake/{token}/mood").text)

    response = post(client, token, "mood", {**calm(section("mood")), "phq9_9": "1"})

    assert hidden is False
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/intake/{token}/anxiety")
    for url in (f"/intake/{token}/anxiety", f"/intake/{token}/done"):
        shown, text = crisis_panel(client.get(url).text)
        assert shown, url
        assert " ".join(DEFAULT_CRISIS_TEXT.split()) in text
        assert "988" in text and "911" in text


def test_chest_pain_now_is_also_a_crisis_and_shows_the_clinics_own_text(client, booked):
    """ "Yes" to chest pain or severe breathlessness right now is a crisis too: the next page
    shows the panel with the crisis text the clinic set (not the default)."""
    appointment, token = booked
    settings = db.session.get(ClinicSettings, 1)
    settings.crisis_text = "Call the Test Valley crisis line on 555 0199 now."
    db.session.commit()

    response = post(client, token, "heart", {**calm(section("heart")), "heart_now": "yes"})

    assert response.headers["Location"].endswith(f"/intake/{token}/lifestyle")
    shown, text = crisis_panel(client.get(f"/intake/{token}/lifestyle").text)
    assert shown
    assert "Call the Test Valley crisis line on 555 0199 now." in text
    assert "Suicide & Crisis Lifeline" not in text
    assert fresh(appointment.id).urgent


def test_answers_without_risk_keep_the_panel_hidden_and_raise_no_alert(client, booked):
    """High but not red answers (PHQ-9 18 with item 9 "Not at all", GAD-7 21) leave the panel
    hidden on the next page and at the end, the consult not urgent and no alert written."""
    appointment, token = booked
    mood = {f"phq9_{n}": "2" for n in range(3, 9)} | {"phq9_1": "3", "phq9_2": "3", "phq9_9": "0"}

    post(client, token, "mood", mood)
    post(client, token, "anxiety", high(section("anxiety")))

    assert score(response_row(appointment.id).answers).phq9 == 18
    for url in (f"/intake/{token}/stress", f"/intake/{token}/done"):
        shown, _ = crisis_panel(client.get(url).text)
        assert not shown, url
    assert not fresh(appointment.id).urgent
    assert response_row(appointment.id).urgent_at is None
    assert outbox(appointment.id, "urgent_intake") == []


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
    """PHQ-9 item 9 "More than half the days" (with daily life "Very difficult") marks the
    consult urgent and writes one urgent_intake email each to the practitioner and to the
    clinic's contact address. The composed subject, text and HTML name the consult reference
    and link to it for staff, and say nothing about health: not the questionnaire, the
    questions, the answers or the flags (red and amber) they raise."""
    appointment, token = booked
    assert not fresh(appointment.id).urgent
    response = post(client, token, "mood", {"phq9_9": "2", "phq9_difficulty": "very"})

    assert response.status_code == 303
    row = fresh(appointment.id)
    assert row.urgent is True
    assert row.intake.urgent_at is not None
    alerts = outbox(appointment.id, "urgent_intake")
    assert sorted(m.recipient for m in alerts) == sorted([DOCTOR_EMAIL, CLINIC_EMAIL])
    assert {m.audience for m in alerts} == {"staff"}
    words = forbidden_in_alerts(response_row(appointment.id).answers)
    assert {"More than half the days", "Very difficult"} <= set(words)
    assert len(score(response_row(appointment.id).answers).flags) == 2
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


def test_a_second_risk_answer_or_saving_again_writes_no_second_alert(client, booked):
    """Once urgent, another red answer (a higher item 9, then chest pain now) or saving the
    same page again writes no more alerts and keeps the first urgent time."""
    appointment, token = booked
    post(client, token, "mood", {"phq9_9": "1"})
    first = response_row(appointment.id).urgent_at
    assert len(outbox(appointment.id, "urgent_intake")) == 2

    post(client, token, "mood", {"phq9_9": "1"})
    post(client, token, "mood", {"phq9_9": "3"})
    post(client, token, "heart", {"heart_now": "yes"})

    assert len(outbox(appointment.id, "urgent_intake")) == 2
    assert response_row(appointment.id).urgent_at == first
    assert fresh(appointment.id).urgent


def test_changing_the_answer_back_does_not_clear_urgent(client, booked):
    """Answering item 9 "Not at all" after "Several days" stores the new answer, but the
    consult stays urgent (with its first urgent time) and the alerts stand."""
    appointment, token = booked
    post(client, token, "mood", {"phq9_9": "1"})
    first = response_row(appointment.id).urgent_at

    response = post(client, token, "mood", {"phq9_9": "0"})

    assert response.status_code == 303
    row = response_row(appointment.id)
    assert row.answers["phq9_9"] == "0"
    assert row.urgent_at == first
    assert fresh(appointment.id).urgent is True
    assert len(outbox(appointment.id, "urgent_intake")) == 2


# --- emails -------------------------------------------------------------------------------


def test_patient_emails_offer_the_questionnaire_until_it_is_complete(client, booked):
    """The patient's booking and reminder emails, composed before the intake is done (none
    or part of it saved), carry the /intake/<token> link in text and HTML; composed once it is
    complete, they no longer do."""
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
    for part in SECTIONS[:-1]:
        save(token, part.id, calm(part))
    partly = links()
    save(token, "contact", calm(section("contact")))
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
