"""The questionnaire's content (sources, published wording) and ``clean_answer``."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.intake.questionnaire import (
    BOTHER_HINT,
    FORMS,
    HISTORY,
    PRE_CONSULT,
    SECTIONS,
    VERSION,
    Choice,
    InvalidAnswer,
    Question,
    clean_answer,
    question,
    section,
    section_of,
)

ROOT = Path(__file__).resolve().parents[2]
ARTICLES_DIR = ROOT / "content" / "articles"
SEEDS_DIR = ROOT.parent / "shared" / "seeds"
INTAKE_DIR = ROOT / "clinic" / "intake"

# The short form before the free consult, then the fuller history offered after it.
PRE_CONSULT_IDS = [
    "about",
    "goals",
    "mood",
    "mood_more",
    "asq",
    "anxiety",
    "anxiety_more",
    "safety",
    "medications",
    "contact",
]
HISTORY_IDS = [
    "mood_history",
    "stress",
    "sleep",
    "energy",
    "digestion",
    "immunity",
    "autoimmune",
    "heart",
    "company",
    "lifestyle",
    "medications_more",
]
SECTION_IDS = PRE_CONSULT_IDS + HISTORY_IDS

# The published wording, typed out here independently of the module.
CREDIT = (
    "PHQ-9 and GAD-7: developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
    "colleagues, with an educational grant from Pfizer Inc. No permission required to reproduce, "
    "translate, display or distribute."
)
FREQUENCY = [
    ("0", "Not at all"),
    ("1", "Several days"),
    ("2", "More than half the days"),
    ("3", "Nearly every day"),
]
PHQ9_STEM = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
PHQ9 = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your family "
    "down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so "
    "fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]
PHQ9_DIFFICULTY = (
    "If you checked off any problems, how difficult have these problems made it for you to do your "
    "work, take care of things at home, or get along with other people?"
)
PHQ9_DIFFICULTY_CHOICES = [
    ("not_difficult", "Not difficult at all"),
    ("somewhat", "Somewhat difficult"),
    ("very", "Very difficult"),
    ("extremely", "Extremely difficult"),
]
GAD7_STEM = "Over the last 2 weeks, how often have you been bothered by the following problems?"
GAD7 = [
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
]
UCLA3 = [
    "How often do you feel that you lack companionship?",
    "How often do you feel left out?",
    "How often do you feel isolated from others?",
]
UCLA3_CHOICES = [("1", "Hardly ever"), ("2", "Some of the time"), ("3", "Often")]
UCLA3_LEAD_IN = (
    "The next questions are about how you feel about different aspects of your life. For each "
    "one, tell us how often you feel that way."
)
GAD7_DIFFICULTY = (
    "If you checked any problems, how difficult have they made it for you to do your work, take "
    "care of things at home, or get along with other people?"
)
# The NIMH Ask Suicide-Screening Questions, public domain.
ASQ = [
    "In the past few weeks, have you wished you were dead?",
    "In the past few weeks, have you felt that you or your family would be better off if you were "
    "dead?",
    "In the past week, have you been having thoughts about killing yourself?",
    "Have you ever tried to kill yourself?",
]
ASQ_NOW = "Are you having thoughts of killing yourself right now?"
MEDICATION_NOTE = (
    "Please don't stop or change a prescribed medication, especially an antidepressant, without "
    "your prescriber."
)

ALL_QUESTIONS = [q for s in SECTIONS for q in s.questions]


def pairs(choices: tuple[Choice, ...]) -> list[tuple[str, str]]:
    return [(c.value, c.label) for c in choices]


# --- Structure ---------------------------------------------------------------------------------


def test_version_is_set():
    assert isinstance(VERSION, str) and VERSION.strip()


def test_sections_in_order():
    assert [s.id for s in SECTIONS] == SECTION_IDS
    assert [s.id for s in FORMS[PRE_CONSULT]] == PRE_CONSULT_IDS
    assert [s.id for s in FORMS[HISTORY]] == HISTORY_IDS
    assert all(s.form == PRE_CONSULT for s in FORMS[PRE_CONSULT])
    assert all(s.form == HISTORY for s in FORMS[HISTORY])


def test_section_and_question_lookup():
    for s in SECTIONS:
        assert section(s.id) is s
        for q in s.questions:
            assert question(q.id) is q
            assert section_of(q.id) is s
    with pytest.raises(KeyError):
        section("nope")
    with pytest.raises(KeyError):
        question("nope")


def test_question_ids_unique():
    ids = [q.id for q in ALL_QUESTIONS]
    assert len(ids) == len(set(ids))


def test_every_section_has_questions_and_plain_text():
    for s in SECTIONS:
        assert s.title and s.intro and s.questions
        for q in s.questions:
            assert q.text.strip() == q.text and q.text


def test_choice_values_unique_and_short():
    for q in ALL_QUESTIONS:
        values = [c.value for c in q.choices]
        assert len(values) == len(set(values)), q.id
        assert all(v and len(v) <= 30 and v.strip() == v for v in values), q.id


def test_the_ids_the_web_flow_and_scoring_rely_on_exist():
    expected = {
        "phq9_difficulty": "choice",
        "mood_duration": "choice",
        "stress_level": "scale",
        "sleep_hours": "number",
        "sleep_apnoea_seen": "yesno",
        "digestion_red_flags": "multi",
        "heart_now": "yesno",
        "exercise_days": "number",
        "meds_psychiatric": "yesno",
        "takes_herbs": "yesno",
        "pregnant": "choice",
        "has_mental_health_clinician": "yesno",
        "consent_share": "yesno",
        "country": "choice",
        "age_band": "choice",
        "heart_red_flags": "multi",
        "gad7_difficulty": "choice",
        "contact_method": "choice",
        "contact_leave_message": "yesno",
        **{f"phq9_{n}": "scale" for n in range(1, 10)},
        **{f"gad7_{n}": "scale" for n in range(1, 8)},
        **{f"ucla_{n}": "scale" for n in range(1, 4)},
        **{f"asq_{n}": "yesno" for n in range(1, 6)},
    }
    assert {qid: question(qid).kind for qid in expected} == expected
    assert [c.value for c in question("pregnant").choices] == ["yes", "no", "not_applicable"]
    assert (
        question("heart_now").text == "Do you have chest pain or severe breathlessness right now?"
    )
    hours = question("sleep_hours")
    assert (hours.min, hours.max) == (0, 14)
    days = question("exercise_days")
    assert (days.min, days.max) == (0, 7)
    # Blank means no: sharing is never assumed (clinic.intake.summary reads only "yes").
    assert not question("consent_share").required
    assert section_of("consent_share").id == "about" and section_of("country").id == "about"
    assert {c.value for c in question("country").choices} >= {"US", "CA", "GB", "IE", "AU", "NZ"}
    assert "more than 2 weeks" in " ".join(
        c.label.lower() for c in question("mood_duration").choices
    )
    red_flags = [c.value for c in question("digestion_red_flags").choices]
    assert red_flags[-1] == "none" and len(red_flags) == 5


def test_clinic_zero_to_four_items():
    zero_to_four = [q for q in ALL_QUESTIONS if q.kind == "scale" and q.score_range == (0, 4)]
    ids = {q.id for q in zero_to_four}
    assert {"mood_withdrawal", "mood_mornings", "energy_low", "energy_focus"} <= ids
    assert {q.id for q in section("heart").questions if q.kind == "scale"} <= ids
    assert len([q for q in section("digestion").questions if q.kind == "scale"]) == 7
    for q in zero_to_four:
        assert [c.value for c in q.choices] == ["0", "1", "2", "3", "4"]


def test_nights_a_week_items_are_scored_numbers():
    nights = [q for q in section("sleep").questions if q.scored]
    assert len(nights) == 4
    assert all(q.kind == "number" and q.score_range == (0, 7) for q in nights)
    assert question("sleep_hours").score_range is None


# --- Sources -----------------------------------------------------------------------------------


@pytest.mark.parametrize("part", SECTIONS, ids=lambda s: s.id)
def test_every_section_cites_an_existing_article(part):
    assert part.sources
    for name in part.sources:
        assert Path(name).name == name
        path = ARTICLES_DIR / name
        assert path.is_file(), f"{part.id} cites {name}, which is not in content/articles"
        assert path.stat().st_size > 0


def test_sections_cite_the_articles_their_questions_come_from():
    expected = {
        "mood": {"003"},
        "anxiety": {"000", "001", "002"},
        "stress": {"000", "001", "002"},
        "sleep": {"000", "002"},
        "energy": {"000", "002", "003"},
        "digestion": {"000", "002"},
        "immunity": {"000", "001", "002", "003"},
        "autoimmune": {"000", "001", "002"},
        "heart": {"000"},
        "lifestyle": {"002"},
        "medications": {"003"},
    }
    for sid, prefixes in expected.items():
        assert {name[:3] for name in section(sid).sources} == prefixes, sid


def test_article_copies_match_the_shared_seeds():
    """The in-repo articles are always checked; against ../shared/seeds only where it exists."""
    cited = {name for s in SECTIONS for name in s.sources}
    in_repo = {p.name for p in ARTICLES_DIR.glob("*.txt")}
    assert cited <= in_repo
    for name in sorted(in_repo):
        data = (ARTICLES_DIR / name).read_bytes()
        assert data, name
        data.decode("utf-8")
        if SEEDS_DIR.is_dir():
            seed = SEEDS_DIR / name
            assert seed.is_file(), f"{name} is not in {SEEDS_DIR}"
            assert seed.read_bytes() == data, f"{name} differs from {seed}"


# --- Published wording -------------------------------------------------------------------------


def test_phq9_is_verbatim():
    # The PHQ-2 with item 9 first; the rest of the PHQ-9 when the PHQ-2 is positive.
    mood, more = section("mood"), section("mood_more")
    assert mood.intro == PHQ9_STEM and more.intro == PHQ9_STEM
    items = [question(f"phq9_{n}") for n in range(1, 10)]
    assert [q.text for q in items] == PHQ9
    for q in items:
        assert q.kind == "scale"
        assert pairs(q.choices) == FREQUENCY
    assert [q.id for q in mood.questions] == ["phq9_1", "phq9_2", "phq9_9"]
    assert [q.id for q in more.questions] == [
        *(f"phq9_{n}" for n in range(3, 9)),
        "phq9_difficulty",
    ]


def test_past_month_items_are_not_on_the_phq9_pages():
    for part in (section("mood"), section("mood_more")):
        assert all(q.id.startswith("phq9_") for q in part.questions), part.id
        assert BOTHER_HINT not in (part.intro, *(q.hint for q in part.questions))


def test_phq9_difficulty_item_is_verbatim():
    q = question("phq9_difficulty")
    assert q.text == PHQ9_DIFFICULTY
    assert q.kind == "choice"
    assert pairs(q.choices) == PHQ9_DIFFICULTY_CHOICES


def test_gad7_is_verbatim():
    anxiety, more = section("anxiety"), section("anxiety_more")
    assert anxiety.intro == GAD7_STEM and more.intro == GAD7_STEM
    assert [q.id for q in anxiety.questions] == ["gad7_1", "gad7_2"]
    assert [q.id for q in more.questions] == [
        *(f"gad7_{n}" for n in range(3, 8)),
        "gad7_difficulty",
    ]
    items = [question(f"gad7_{n}") for n in range(1, 8)]
    assert [q.text for q in items] == GAD7
    for q in items:
        assert q.kind == "scale"
        assert pairs(q.choices) == FREQUENCY


def test_gad7_difficulty_item_is_verbatim():
    q = question("gad7_difficulty")
    assert q.text == GAD7_DIFFICULTY
    assert q.kind == "choice"
    assert pairs(q.choices) == PHQ9_DIFFICULTY_CHOICES


def test_asq_is_verbatim_and_asked_after_item_9():
    asq = section("asq")
    assert [question(f"asq_{n}").text for n in range(1, 5)] == ASQ
    assert question("asq_5").text == ASQ_NOW
    assert all(
        pairs(question(f"asq_{n}").choices) == [("yes", "Yes"), ("no", "No")] for n in (1, 5)
    )
    assert "National Institute of Mental Health" in asq.credit
    assert asq.condition is not None


def test_ucla3_is_verbatim():
    items = [question(f"ucla_{n}") for n in range(1, 4)]
    assert [q.text for q in items] == UCLA3
    for q in items:
        assert q.kind == "scale"
        assert pairs(q.choices) == UCLA3_CHOICES
    assert all(section_of(q.id).id == "company" for q in items)
    assert section("company").intro == UCLA3_LEAD_IN


def test_credit_lines_on_the_published_instruments_only():
    instruments = ("mood", "mood_more", "anxiety", "anxiety_more")
    assert all(section(sid).credit == CREDIT for sid in instruments)
    assert section("asq").credit and section("asq").credit != CREDIT
    assert all(not s.credit for s in SECTIONS if s.id not in (*instruments, "asq"))


def test_medication_note_is_shown():
    meds = section("medications")
    shown = [meds.intro, *(q.hint for q in meds.questions)]
    assert any(MEDICATION_NOTE in text for text in shown)


def test_patients_see_no_bands_or_instrument_scores():
    words = ("minimal", "moderately severe", "score", "band", "depression", "disorder")
    for s in SECTIONS:
        shown = [s.title, s.intro, *(q.text for q in s.questions), *(q.hint for q in s.questions)]
        shown += [c.label for q in s.questions for c in q.choices]
        for text in shown:
            assert not any(w in text.lower() for w in words), (s.id, text)


# --- The modules stay pure ---------------------------------------------------------------------


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            found.append(node.module or "")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            assert name not in ("__import__", "import_module"), f"{path.name}: dynamic import"
    return found


@pytest.mark.parametrize(
    "name",
    ["questionnaire.py", "scoring.py", "instruments.py", "flag_rules.py", "crisis_lines.py"],
)
def test_core_modules_import_only_the_standard_library(name):
    for module in _imports(INTAKE_DIR / name):
        allowed = module.split(".")[0] in sys.stdlib_module_names or module in (
            "clinic.intake.questionnaire",
            "clinic.intake.crisis_lines",
            "clinic.intake.instruments",
            "clinic.intake.flag_rules",
        )
        assert allowed, f"{name} imports {module}"


# --- clean_answer: good values -----------------------------------------------------------------


def test_unanswered_is_none():
    for q in ALL_QUESTIONS:
        if q.required:
            continue
        for blank in ("", "   ", [], [""]):
            assert clean_answer(q, blank) is None, (q.id, blank)


def test_scale_choice_and_yesno_keep_the_value_string():
    assert clean_answer(question("phq9_1"), "0") == "0"
    assert clean_answer(question("phq9_9"), "3") == "3"
    assert clean_answer(question("energy_low"), "4") == "4"
    assert clean_answer(question("ucla_1"), "1") == "1"
    assert clean_answer(question("stress_level"), "10") == "10"
    assert clean_answer(question("phq9_difficulty"), "very") == "very"
    assert clean_answer(question("heart_now"), "no") == "no"
    assert clean_answer(question("pregnant"), "not_applicable") == "not_applicable"
    assert clean_answer(question("phq9_1"), ["2"]) == "2"  # as request.form.getlist gives it


def test_every_listed_choice_is_accepted():
    for q in ALL_QUESTIONS:
        for c in q.choices:
            expected = [c.value] if q.kind == "multi" else c.value
            assert clean_answer(q, c.value) == expected


def test_multi_returns_the_values_in_listed_order():
    q = question("digestion_red_flags")
    assert clean_answer(q, ["vomiting", "blood_in_stool"]) == ["blood_in_stool", "vomiting"]
    assert clean_answer(q, ["none"]) == ["none"]
    assert clean_answer(q, "weight_loss") == ["weight_loss"]
    assert clean_answer(question("stress_sources"), ["work", "", "money"]) == ["work", "money"]


def test_numbers():
    q = question("sleep_hours")
    assert clean_answer(q, "7") == 7
    assert clean_answer(q, " 0 ") == 0
    assert clean_answer(q, "14") == 14
    assert clean_answer(q, "007") == 7
    assert clean_answer(q, 6) == 6
    assert clean_answer(question("exercise_days"), "7") == 7


def test_text_is_stripped_and_keeps_line_breaks_and_tabs():
    q = question("goals_concerns")
    assert clean_answer(q, "  tired all the time \n") == "tired all the time"
    assert clean_answer(q, "one\ttwo\nthree") == "one\ttwo\nthree"
    assert clean_answer(q, "one\r\ntwo\rthree") == "one\ntwo\nthree"  # as textareas send it
    assert clean_answer(q, "Brûlures d’estomac 😣 — 胃") == "Brûlures d’estomac 😣 — 胃"
    assert clean_answer(q, "x" * q.max_length) == "x" * q.max_length
    # A textarea line break arrives as \r\n but counts as one character.
    assert clean_answer(q, "x\r\n" * 250) == ("x\n" * 250).strip()


def test_required_question():
    q = Question(
        id="agree",
        text="Agree?",
        kind="yesno",
        choices=question("heart_now").choices,
        required=True,
    )
    for blank in ("", " ", [], None):
        with pytest.raises(InvalidAnswer, match="Please answer this question"):
            clean_answer(q, blank)
    assert clean_answer(q, "yes") == "yes"
    assert clean_answer(q, "no") == "no"


# --- clean_answer: refusals --------------------------------------------------------------------


def refused(q: Question, raw) -> str:
    with pytest.raises(InvalidAnswer) as caught:
        clean_answer(q, raw)
    message = str(caught.value)
    assert message and message[0].isupper() and message.endswith("."), message
    assert q.id not in message
    return message


@pytest.mark.parametrize(
    ("qid", "raw"),
    [
        ("phq9_1", "4"),  # out of scale
        ("phq9_1", "-1"),
        ("phq9_9", "9"),
        ("gad7_7", "1.0"),
        ("energy_low", "5"),
        ("ucla_1", "0"),
        ("stress_level", "11"),
        ("phq9_difficulty", "Very difficult"),  # a label, not a value
        ("mood_duration", "forever"),
        ("heart_now", "true"),
        ("heart_now", "YES"),
        ("pregnant", "maybe"),
    ],
)
def test_unknown_choice_refused(qid, raw):
    assert refused(question(qid), raw) == "Please choose one of the options."


def test_two_answers_to_a_single_choice_refused():
    assert "one answer" in refused(question("phq9_1"), ["1", "2"])


@pytest.mark.parametrize(
    "raw",
    [["work", "work"], ["work", "money", "work"]],
)
def test_multi_duplicates_refused(raw):
    assert "once" in refused(question("stress_sources"), raw)


@pytest.mark.parametrize("raw", [["work", "gambling"], ["Work"], ["0"]])
def test_multi_unknown_refused(raw):
    assert refused(question("stress_sources"), raw) == "Please choose from the options shown."


def test_none_of_these_is_exclusive():
    message = refused(question("digestion_red_flags"), ["none", "weight_loss"])
    assert "None of these" in message


@pytest.mark.parametrize("raw", ["-1", "15", "99999999999999999999", "1" * 5000])
def test_number_out_of_range_refused(raw):
    assert refused(question("sleep_hours"), raw) == "Please enter a number from 0 to 14."


@pytest.mark.parametrize("raw", ["seven", "7.5", "7 hours", "1e3", "0x7", "7_0", "٧", "--7", "½"])
def test_not_a_number_refused(raw):
    assert "whole number" in refused(question("sleep_hours"), raw)


def test_exercise_days_out_of_range_refused():
    assert refused(question("exercise_days"), "8") == "Please enter a number from 0 to 7."


def test_overlong_text_refused():
    q = question("goals_concerns")
    message = refused(q, "x" * (q.max_length + 1))
    assert str(q.max_length) in message
    short = question("stress_other")
    assert short.max_length == 300
    refused(short, "y" * 301)


@pytest.mark.parametrize(
    "bad",
    ["\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029", "\u202e", "\u2066", "\ud800"],
)
def test_control_characters_refused(bad):
    message = refused(question("goals_concerns"), f"tired {bad} all day")
    assert "character" in message


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Zl", "Zp"])))
def test_clean_text_never_grows_and_is_idempotent(text):
    q = question("goals_useful")
    try:
        cleaned = clean_answer(q, text)
    except InvalidAnswer:
        return
    if cleaned is None:
        assert text.strip() == ""
        return
    assert isinstance(cleaned, str)
    assert len(cleaned) <= q.max_length
    assert cleaned == cleaned.strip()
    assert clean_answer(q, cleaned) == cleaned


@given(st.integers(min_value=-1000, max_value=1000))
def test_clean_number_accepts_exactly_min_to_max(n):
    q = question("infections_12m")
    assert q.min is not None and q.max is not None
    if q.min <= n <= q.max:
        assert clean_answer(q, str(n)) == n
    else:
        with pytest.raises(InvalidAnswer):
            clean_answer(q, str(n))


@given(st.lists(st.sampled_from([c.value for c in question("stress_sources").choices])))
def test_clean_multi_accepts_any_set_without_repeats(values):
    q = question("stress_sources")
    if len(set(values)) != len(values):
        with pytest.raises(InvalidAnswer):
            clean_answer(q, values)
    else:
        cleaned = clean_answer(q, values)
        assert (cleaned or []) == [c.value for c in q.choices if c.value in values]
