"""What staff read about an intake: ``clinic.intake.summary`` and its two templates.

The summary opens with the patient's goals, then the flags with the answers that raised them
(kept when an answer later changes), the screener totals and every answer, naming the questions
left blank. Only a "yes" to sharing shows the answers.

``intake/_summary.html`` (the staff console's partial) and ``intake/summary_print.html`` are
rendered with Flask's ``render_template`` in a request context; they need no database, so the
app here has none and the consult is a plain stand-in object. Expected labels, bands and
totals are typed out here rather than read from the modules under test.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from flask import render_template

from clinic.intake.questionnaire import SECTIONS, VERSION, question
from clinic.intake.scoring import score
from clinic.intake.summary import answer_text, build_summary
from tests.support.apps import make_app

PHQ9_IDS = [f"phq9_{n}" for n in range(1, 10)]
GAD7_IDS = [f"gad7_{n}" for n in range(1, 8)]
LEVEL_ORDER = {"red": 0, "amber": 1, "info": 2}
SHARED = {"consent_share": "yes"}
# The questionnaire before the short form asked every PHQ-9 and GAD-7 item of everyone.
EVERY_ITEM_ASKED = "2026-11.1"
RAISED_AT = datetime(2030, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def web():
    return make_app("sqlite://")


def partial(web, answers: dict, version: str = VERSION, saved=(), recorded=()) -> str:
    """The staff partial; the patient agreed to share unless ``answers`` says otherwise."""
    summary = build_summary({**SHARED, **answers}, version, saved, recorded)
    with web.test_request_context():
        return render_template("intake/_summary.html", summary=summary, zone=ZoneInfo("UTC"))


def printed(web, answers: dict) -> str:
    answers = {**SHARED, **answers}
    consult = SimpleNamespace(
        reference="KX7P2Q",
        patient=SimpleNamespace(name="Jo Patient"),
        practitioner=SimpleNamespace(name="Dr Ada Lane"),
        starts_at=datetime(2030, 3, 5, 15, 0, tzinfo=UTC),
    )
    with web.test_request_context():
        return render_template(
            "intake/summary_print.html",
            summary=build_summary(answers, VERSION),
            appointment=consult,
            settings=SimpleNamespace(name="Test Clinic"),
            zone=ZoneInfo("UTC"),
        )


def items(ids: list[str], total: int, top: int = 3) -> dict[str, str]:
    """Answers to ``ids`` (each 0..top) adding up to ``total``."""
    answers = {}
    for qid in ids:
        answers[qid] = str(min(top, total))
        total -= int(answers[qid])
    assert total == 0
    return answers


def screener(html: str, term: str) -> str:
    """The text of the <dd> after the screener <dt> starting with ``term``."""
    match = re.search(rf"<dt>{re.escape(term)}[^<]*</dt>\s*<dd>(.*?)</dd>", html, re.S)
    assert match, f"no screener line for {term}"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def answer_lines(html: str) -> list[tuple[str, str]]:
    """(question, answer) pairs under "Every answer", in page order, as read."""
    rest = html.split("<h3>Every answer</h3>", 1)[1]
    return [
        (unescape(q), unescape(a)) for q, a in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", rest)
    ]


# --- flags and screeners ------------------------------------------------------------------


def test_flags_come_first_red_then_amber_then_info(web):
    """The flags head the summary, before the screener totals, the chart and the answers;
    every flag is listed, red ones before amber ones before info ones, with their message."""
    answers = {
        "sleep_hours": 5,  # info
        "exercise_days": 0,  # info
        "sleep_apnoea_seen": "yes",  # amber
        **items(PHQ9_IDS[:8], 12),  # amber: PHQ-9 at least 12
        "heart_now": "yes",  # red
        "phq9_9": "1",  # red
    }

    html = partial(web, answers)

    levels = re.findall(r'<li class="flag flag-(\w+)">', html)
    assert levels == sorted(levels, key=LEVEL_ORDER.__getitem__)
    assert set(levels) == {"red", "amber", "info"}
    assert len(levels) == len(score(answers).flags)
    flags_at = html.index('<ul class="flags">')
    for later in ("<h3>Screeners</h3>", "<h3>Every answer</h3>"):
        assert flags_at < html.index(later), later
    listed = [unescape(m) for m in re.findall(r"<li class=\"flag[^>]*>(.*?)</li>", html, re.S)]
    assert listed[0].strip() == "<strong>RED</strong> PHQ-9 item 9 (death / self-harm " + (
        "thoughts): Several days."
    )
    assert listed[1].strip() == (
        "<strong>RED</strong> Chest pain or severe breathlessness right now."
    )
    assert any("Sleeps about 5 hours a night." in line for line in listed[-2:])


def test_the_goals_open_the_summary_before_the_flags(web):
    """The practitioner reads what the patient wants help with first."""
    html = partial(web, {"goals_concerns": "Sleep <and> mood", "phq9_9": "1"})

    goals_at = html.index("What the patient would like help with")
    assert goals_at < html.index("<h3>Flags</h3>") < html.index("<h3>Screeners</h3>")
    assert "Sleep &lt;and&gt; mood" in html[goals_at : html.index("<h3>Flags</h3>")]


def test_a_flag_shows_the_answer_that_raised_it_and_when(web):
    """A recorded flag carries its reason, kept from the save that raised it."""
    recorded = [
        SimpleNamespace(
            code="phq9_item9",
            level="red",
            message="PHQ-9 item 9 (death / self-harm thoughts): Nearly every day.",
            reason="Thoughts that you would be better off dead: Nearly every day",
            raised_at=RAISED_AT,
        )
    ]
    html = partial(web, {"phq9_9": "3"}, recorded=recorded)

    assert "The answer that raised it:" in html
    assert "better off dead: Nearly every day" in unescape(html)
    assert "Raised Friday 1 March 2030" in html or "1 March 2030" in html


def test_a_flag_raised_by_an_earlier_answer_stays_with_its_reason(web):
    """The patient changed item 9 to "Not at all": the urgent flag stays, marked as earlier,
    beside the answer that raised it."""
    recorded = [
        SimpleNamespace(
            code="phq9_item9",
            level="red",
            message="PHQ-9 item 9 (death / self-harm thoughts): Several days.",
            reason="Thoughts that you would be better off dead or of hurting yourself in some "
            "way: Several days",
            raised_at=RAISED_AT,
        )
    ]
    html = partial(web, {"phq9_9": "0"}, saved=["mood"], recorded=recorded)

    listed = re.findall(r'<li class="flag flag-red flag-earlier">(.*?)</li>', html, re.S)
    assert len(listed) == 1
    assert "earlier answer the patient has since changed" in listed[0]
    assert "way: Several days" in unescape(listed[0])
    assert screener(html, "PHQ-9 item 9") == "0 / 3"


def test_unanswered_questions_are_named(web):
    """Each part lists the questions the patient left blank, so nothing is missed."""
    html = partial(web, {"phq9_1": "1", "phq9_2": "0"}, saved=["mood"])

    match = re.search(r"<h4>Your mood</h4>.*?<p class=\"unanswered\">(.*?)</p>", html, re.S)
    assert match
    assert "Thoughts that you would be better off dead" in unescape(match.group(1))
    assert screener(html, "PHQ-9 item 9") == "not answered"
    assert "was left unanswered after a prompt" in html  # the item9_skipped flag


def test_no_flags_says_so(web):
    """Answers that raise nothing show "No flags." and no flag list."""
    html = partial(web, {"goals_concerns": "A check-up", "phq9_9": "0"})

    assert "No flags." in html
    assert 'class="flags"' not in html


@pytest.mark.parametrize(
    "total, band",
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_the_phq9_total_is_shown_with_its_band(web, total, band):
    """A complete PHQ-9 shows "<total> / 27, <band>" with the published cut points."""
    html = partial(web, items(PHQ9_IDS, total), EVERY_ITEM_ASKED)

    assert screener(html, "PHQ-9 (depression)") == f"{total} / 27, {band}"


@pytest.mark.parametrize(
    "total, band",
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "severe"), (21, "severe")],
)  # fmt: skip
def test_the_gad7_total_is_shown_with_its_band(web, total, band):
    """A complete GAD-7 shows "<total> / 21, <band>" with the published cut points."""
    html = partial(web, items(GAD7_IDS, total), EVERY_ITEM_ASKED)

    assert screener(html, "GAD-7 (anxiety)") == f"{total} / 21, {band}"


def test_incomplete_screeners_show_no_total(web):
    """With an item of the PHQ-9 or GAD-7 unanswered there is no total or band to show."""
    answers = {**items(PHQ9_IDS[:8], 20), **items(GAD7_IDS[:6], 15)}

    html = partial(web, answers, saved=["stress"])

    assert screener(html, "PHQ-9 (depression)") == "not asked in full"
    assert screener(html, "GAD-7 (anxiety)") == "not asked in full"
    assert screener(html, "UCLA 3-item loneliness") == "not complete"


@pytest.mark.parametrize(
    "answers, phq2, gad2",
    [
        ({"phq9_1": "1", "phq9_2": "1", "gad7_1": "0", "gad7_2": "0"}, "2 / 6", "0 / 6"),
        (
            {"phq9_1": "3", "phq9_2": "0", "gad7_1": "2", "gad7_2": "2"},
            "3 / 6, positive (the rest of the PHQ-9 was asked)",
            "4 / 6, positive (the rest of the GAD-7 was asked)",
        ),
        ({"phq9_1": "3"}, "not complete", "not complete"),
    ],
)
def test_the_short_screeners_are_shown_with_whether_they_expanded(web, answers, phq2, gad2):
    html = partial(web, answers)

    assert screener(html, "PHQ-2") == phq2
    assert screener(html, "GAD-2") == gad2


@pytest.mark.parametrize(
    "answers, shown",
    [
        ({"phq9_9": "2"}, "2 / 3 (positive: review urgently)"),
        ({**items(PHQ9_IDS[:8], 20), "phq9_9": "3"}, "3 / 3 (positive: review urgently)"),
        ({**items(PHQ9_IDS[:8], 20), "phq9_9": "0"}, "0 / 3"),
        (items(PHQ9_IDS[:8], 20), "not answered"),
    ],
    ids=["alone", "with-the-rest", "not-at-all", "unanswered"],
)
def test_phq9_item_9_has_a_line_of_its_own(web, answers, shown):
    """PHQ-9 item 9 (thoughts of death or self-harm) has its own screener line, shown
    whether or not the PHQ-9 is complete, marked for urgent review when above 0."""
    html = partial(web, answers)

    assert screener(html, "PHQ-9 item 9") == shown


def test_the_ucla3_total_is_shown_once_the_history_is_started(web):
    """A complete UCLA-3 shows "<total> / 9"; before the history it is not listed."""
    answers = {"ucla_1": "2", "ucla_2": "3", "ucla_3": "2"}
    html = partial(web, answers, saved=["company"])

    assert screener(html, "UCLA 3-item loneliness") == "7 / 9"
    assert "<dt>UCLA" not in partial(web, answers)


# --- no made-up scores ----------------------------------------------------------------------


def test_no_0_to_100_part_scores_are_shown(web):
    """Only published instruments are totalled: no chart, no "/100" beside a part."""
    answers = {**items(GAD7_IDS, 21), "stress_level": "3", "energy_low": "4"}
    html = partial(web, answers, saved=["stress", "energy"])

    assert "<svg" not in html and "/100" not in html and "0 to 100" not in html


def test_the_partial_loads_nothing_and_runs_nothing(web):
    """The partial (fully answered, every kind of flag) has no <script>, no event handler
    and refers to nothing outside the page: no src or href, no url(), no @import, and no
    http(s) address apart from the SVG namespace name."""
    answers: dict = {}
    for part in SECTIONS:
        for q in part.questions:
            if q.kind == "multi":
                answers[q.id] = [q.choices[0].value]
            elif q.kind == "number":
                answers[q.id] = q.max
            elif q.kind == "text":
                answers[q.id] = "Some words"
            else:
                answers[q.id] = q.choices[-1].value if q.id != "consent_share" else "yes"

    html = partial(web, answers, saved=[s.id for s in SECTIONS])

    assert "Every answer" in html
    assert "<script" not in html.lower()
    assert not re.search(r"\son\w+=", html)
    assert not re.search(r"\b(src|href|xlink:href)=", html)
    assert "url(" not in html and "@import" not in html
    assert "http" not in html


# --- every answer -------------------------------------------------------------------------


def test_every_answer_is_listed_as_words_and_unanswered_questions_are_named(web):
    """Each answered question is listed, in questionnaire order, with its answer as the
    patient read it: choice labels rather than codes, "choose all" answers joined, numbers with
    their unit, free text as written. Questions left blank (or emptied) are not listed as
    answers but named under their part; the goals come first, above the flags."""
    answers = {
        "medications": "Sertraline 50 mg & vitamin D",
        "goals_duration": "1_to_6_months",
        "goals_concerns": "Low mood <and> poor sleep",
        "goals_useful": "",
        "phq9_1": "2",
        "stress_sources": ["work", "money"],
        "stress_level": "0",
        "sleep_hours": 6,
        "sleep_falling_asleep": 3,
        "heart_now": "no",
        "exercise_days": 2,
        "digestion_red_flags": [],
        "ucla_1": "1",
    }

    html = partial(web, answers, saved=["stress"])

    assert answer_lines(html) == [
        ("Do you agree to us sharing your answers with the practitioner you'll see?", "Yes"),
        ("Little interest or pleasure in doing things", "More than half the days"),
        ("Do you have chest pain or severe breathlessness right now?", "No"),
        ("Which medicines do you take, prescribed or not?", "Sertraline 50 mg & vitamin D"),
        ("Overall, how stressed have you felt over the past month?", "0 \u2013 not at all"),
        ("Where does most of your stress come from?", "Work; Money"),
        ("On a typical night, how many hours do you actually sleep?", "6 hours a night"),
        (
            "On how many nights a week do you struggle to fall asleep?",
            "3 nights a week",
        ),
        ("How often do you feel that you lack companionship?", "Hardly ever"),
        (
            "In a typical week, on how many days are you active for at least 30 minutes "
            "(for example brisk walking, cycling, swimming, yoga or dancing)?",
            "2 days a week",
        ),
    ]
    goals = html[: html.index("<h3>Flags</h3>")]
    assert "Low mood &lt;and&gt; poor sleep" in goals and "1 to 6 months" in goals
    assert "1_to_6_months" not in html
    not_answered = " ".join(unescape(t) for t in re.findall(r'class="unanswered">(.*?)</p>', html))
    assert "What would make the free consult useful for you?" in not_answered
    assert "In the past 3 months, have you had any of these?" in not_answered
    assert "Feeling down, depressed, or hopeless" in not_answered
    assert f"Questionnaire version {VERSION}" in html


def test_the_history_is_said_to_be_not_started_rather_than_listed_blank(web):
    html = partial(web, {"phq9_1": "0"})

    assert "has not started the optional health history" in html
    assert "<h4>Stress</h4>" not in html


def test_free_text_is_escaped_in_the_partial_and_the_print_version(web):
    """Markup a patient typed is shown as text, never run: escaped in both templates."""
    answers = {
        "goals_concerns": "<script>alert(1)</script>",
        "allergies": '<img src=x onerror="1">',
    }

    for html in (partial(web, answers), printed(web, answers)):
        assert "<script>alert" not in html and "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("consent", ["no", None, ""], ids=["no", "blank", "empty"])
def test_a_patient_who_did_not_agree_to_share_shows_only_the_flags(web, consent):
    """With consent_share "no" or left blank staff see the flags (for safety) but no goals,
    screener totals, answers or the answers behind a flag."""
    answers = {**items(PHQ9_IDS[:8], 20), "phq9_9": "3", "consent_share": consent}
    answers["goals_concerns"] = "Private words"
    recorded = [
        SimpleNamespace(
            code="phq9_item9",
            level="red",
            message="PHQ-9 item 9 (death / self-harm thoughts): Nearly every day.",
            reason="Private reason words",
            raised_at=RAISED_AT,
        )
    ]

    html = partial(web, answers, recorded=recorded)

    assert "PHQ-9 item 9 (death / self-harm thoughts): Nearly every day." in html
    assert "did not agree to share" in html
    for hidden in ("Private words", "Private reason", "<h3>Screeners</h3>", "Every answer"):
        assert hidden not in html


# --- the print version --------------------------------------------------------------------


def test_the_print_version_uses_only_same_origin_stylesheets_with_print_rules(web):
    """The print page names the consult, includes the summary, runs no script and links only
    stylesheets on the site itself (a path, no scheme or other host), print.css among them,
    which has @media print rules that hide the site's navigation."""
    html = printed(web, {"phq9_9": "1", "goals_concerns": "Nerves"})

    assert "<h1>Intake for consult KX7P2Q</h1>" in html
    assert "Jo Patient with Dr Ada Lane" in html
    assert 'class="intake-summary"' in html
    assert "<script" not in html.lower()
    links = re.findall(r"<link\b[^>]*>", html)
    sheets = [re.search(r'href="([^"]*)"', tag).group(1) for tag in links if "stylesheet" in tag]
    assert "/static/css/print.css" in sheets
    for href in sheets:
        assert href.startswith("/") and not href.startswith("//"), href
    assert not re.search(r"\b(src|href)=\"(https?:)?//", html)
    css = (Path(web.static_folder) / "css" / "print.css").read_text()
    media = re.search(r"@media print\s*\{(.*)\}", css, re.S)
    assert media, "print.css has no @media print rules"
    assert "nav" in media.group(1) and "display: none" in media.group(1)


# --- answer_text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "qid, value, text",
    [
        ("goals_duration", "6_to_12_months", "6 to 12 months"),
        ("phq9_9", "3", "Nearly every day"),
        ("phq9_9", "0", "Not at all"),
        ("stress_level", "10", "10 \u2013 the most I can imagine"),
        ("ucla_2", "1", "Hardly ever"),
        ("heart_now", "yes", "Yes"),
        ("pregnant", "yes", "Yes, or I might be"),
        (
            "stress_sources",
            ["work", "caring", "other"],
            "Work; Looking after someone; Something else",
        ),
        ("stress_sources", ["loss"], "Losing someone close"),
        ("digestion_red_flags", ["none"], "None of these"),
        ("sleep_hours", 6, "6 hours a night"),
        ("sleep_unrefreshed", 0, "0 mornings a week"),
        ("fruit_veg_portions", 5, "5 servings a day"),
        ("infections_12m", 12, "12 infections"),
        ("goals_concerns", "Low mood\nand poor sleep", "Low mood\nand poor sleep"),
        ("medications", "<b>Sertraline</b> & co", "<b>Sertraline</b> & co"),
    ],
)
def test_answer_text_gives_the_answer_in_words(qid, value, text):
    """A choice's label (not its code), several choices' labels joined with "; ", a number
    with its unit, free text exactly as written (escaping is the template's job)."""
    assert answer_text(question(qid), value) == text


def test_a_full_phq9_under_3_on_the_phq2_counts_only_for_the_earlier_version(web):
    answers = items(PHQ9_IDS, 0)
    assert screener(partial(web, answers, EVERY_ITEM_ASKED), "PHQ-9 (depression)") == (
        "0 / 27, minimal"
    )
    assert screener(partial(web, answers), "PHQ-9 (depression)") == "not asked in full"


def test_answers_to_a_part_no_longer_asked_do_not_make_a_total(web):
    """The rest of the PHQ-9 was answered, then the PHQ-2 lowered: staff see no PHQ-9 total or
    flag built on answers to questions the patient is no longer asked."""
    answers = {"phq9_1": "0", "phq9_2": "0", "phq9_9": "0"}
    answers |= {f"phq9_{n}": "3" for n in range(3, 9)}

    html = partial(web, answers, saved=["mood", "mood_more"])

    assert screener(html, "PHQ-9 (depression)") == "not asked in full"
    assert "No flags." in html
