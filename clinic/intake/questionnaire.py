"""The symptom intake questionnaire: its sections, questions and answer cleaning.

Pure: standard library only (no Flask, no SQLAlchemy, no clock, no files). The web flow renders
``SECTIONS`` and stores what ``clean_answer`` returns, together with ``VERSION``.

Two forms. ``PRE_CONSULT_SECTIONS`` is the short form every patient is asked before the free
consult (at most 25 items for a patient whose screeners are negative); sections with a
``condition`` are asked only when it holds (the rest of the PHQ-9 after a positive PHQ-2, the
rest of the GAD-7 after a positive GAD-2, the ASQ after PHQ-9 item 9 above "Not at all"), page by
page, so it works without JavaScript. ``HISTORY_SECTIONS`` is the fuller history, offered after.

Sources. Each section cites, by file name in ``content/articles/``, the clinic article(s) whose
listed effects its questions come from. Two published instruments are reproduced verbatim, with
their credit line: the PHQ-9 (with its difficulty item) in ``mood`` and ``mood_more``, the
GAD-7 (with its difficulty item) in ``anxiety`` and ``anxiety_more``, and the NIMH ASQ in
``asq``; the UCLA 3-item loneliness scale (Hughes et al., 2004) with its lead-in is in
``company``. Every
other item is the clinic's own wording (nothing is taken from the ISI, PSS, PROMIS or IFM MSQ).
Patients are never shown scores, bands or diagnostic labels.

Stored values (what ``clean_answer`` returns):

- ``scale``, ``choice``, ``yesno``: the choice value, a string (for a scale, its score: "0".."4");
- ``multi``: a list of choice values, in the order the choices are listed;
- ``number``: an int within ``min..max``;
- ``text``: the stripped text, line breaks normalised to ``\\n``;
- ``None``: unanswered.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from clinic.intake.crisis_lines import COUNTRIES

VERSION = "2026-12.1"
# How long each part takes, as patients are told ("about 5 minutes"): the short form before the
# free consult, asked of everyone, and the fuller health history offered after it.
ESTIMATED_MINUTES = {"pre_consult": 5, "history": 10}

KINDS = frozenset({"scale", "choice", "multi", "number", "text", "yesno"})

ARTICLE_000 = "000_44ae15a0f5f6fc9c.txt"  # inflammation, neurotransmitters and the immune system
ARTICLE_001 = "001_4835fb68991d26b8.txt"  # neurotransmitters, mental health and immunity
ARTICLE_002 = "002_b86ba8b02b0ec53e.txt"  # mental health and the immune system; six habits
ARTICLE_003 = "003_c764c7a19a49c14b.txt"  # immunity in depression; EBV; antidepressants
ARTICLES = (ARTICLE_000, ARTICLE_001, ARTICLE_002, ARTICLE_003)

PHQ_GAD_CREDIT = (
    "PHQ-9 and GAD-7: developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke "
    "and colleagues, with an educational grant from Pfizer Inc. No permission required to "
    "reproduce, translate, display or distribute."
)
MEDICATION_NOTE = (
    "Please don't stop or change a prescribed medication, especially an antidepressant, "
    "without your prescriber."
)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    # Addition: a choice such as "None of these" that cannot be picked with any other (multi).
    exclusive: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str
    choices: tuple[Choice, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int = 500
    hint: str = ""
    unit: str = ""
    required: bool = False
    # Addition: a "number" that counts towards its section's score (nights a week, 0-7).
    # Every "scale" question is scored whatever this says.
    scored: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: unknown kind {self.kind!r}")
        values = [c.value for c in self.choices]
        if len(set(values)) != len(values):
            raise ValueError(f"{self.id}: duplicate choice values")
        if self.kind in ("scale", "choice", "multi", "yesno") and not self.choices:
            raise ValueError(f"{self.id}: a {self.kind} question needs choices")
        if self.kind == "scale" and not all(re.fullmatch(r"[0-9]+", v) for v in values):
            raise ValueError(f"{self.id}: scale choice values must be scores")
        if self.kind == "yesno" and values != ["yes", "no"]:
            raise ValueError(f"{self.id}: yesno choices must be yes, no")
        if self.kind == "number" and (self.min is None or self.max is None or self.min > self.max):
            raise ValueError(f"{self.id}: a number question needs min <= max")
        if self.scored and self.kind != "number":
            raise ValueError(f"{self.id}: only number questions take scored=True")

    @property
    def score_range(self) -> tuple[int, int] | None:
        """(lowest, highest) score for a scored question, else None."""
        if self.kind == "scale":
            scores = [int(c.value) for c in self.choices]
            return min(scores), max(scores)
        if self.kind == "number" and self.scored:
            assert self.min is not None and self.max is not None
            return self.min, self.max
        return None

    def label_for(self, value: str) -> str:
        """The label of a choice value (the value itself when unknown)."""
        for c in self.choices:
            if c.value == value:
                return c.label
        return value


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    sources: tuple[str, ...]
    questions: tuple[Question, ...]
    credit: str = ""
    form: str = "pre_consult"  # PRE_CONSULT or HISTORY
    # Asked only when this holds for the answers so far (see ``applies``); None: always.
    condition: str | None = None


# --- Shared answer sets ------------------------------------------------------------------------

YES_NO = (Choice("yes", "Yes"), Choice("no", "No"))

# The PHQ-9 / GAD-7 answers, as published.
OFTEN = (
    Choice("0", "Not at all"),
    Choice("1", "Several days"),
    Choice("2", "More than half the days"),
    Choice("3", "Nearly every day"),
)

# The clinic's own 0-4 rating, used with "In the past month, how much has this bothered you?"
BOTHER = (
    Choice("0", "None"),
    Choice("1", "Mild"),
    Choice("2", "Moderate"),
    Choice("3", "Severe"),
    Choice("4", "Very severe"),
)
BOTHER_HINT = "In the past month, how much has this bothered you?"

HOW_LONG = (
    Choice("under_1_month", "Less than a month"),
    Choice("1_to_6_months", "1 to 6 months"),
    Choice("6_to_12_months", "6 to 12 months"),
    Choice("1_to_5_years", "1 to 5 years"),
    Choice("over_5_years", "More than 5 years"),
)

WEEK_HINT = "Think of a typical week lately. Enter 0 if never."


def _bother(qid: str, text: str, hint: str = "") -> Question:
    return Question(id=qid, text=text, kind="scale", choices=BOTHER, hint=hint)


def _nights(qid: str, text: str, unit: str = "nights a week") -> Question:
    return Question(
        id=qid, text=text, kind="number", min=0, max=7, unit=unit, hint=WEEK_HINT, scored=True
    )


# --- Sections ----------------------------------------------------------------------------------

PHQ9_STEM = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
PHQ9_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself \u2014 or that you are a failure or have let yourself or your "
    "family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite \u2014 "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
PHQ9_DIFFICULTY = (
    "If you checked off any problems, how difficult have these problems made it for you to do "
    "your work, take care of things at home, or get along with other people?"
)
PHQ9_DIFFICULTY_CHOICES = (
    Choice("not_difficult", "Not difficult at all"),
    Choice("somewhat", "Somewhat difficult"),
    Choice("very", "Very difficult"),
    Choice("extremely", "Extremely difficult"),
)

GAD7_STEM = "Over the last 2 weeks, how often have you been bothered by the following problems?"
GAD7_ITEMS = (
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
)

UCLA3_ITEMS = (
    "How often do you feel that you lack companionship?",
    "How often do you feel left out?",
    "How often do you feel isolated from others?",
)
UCLA3_CHOICES = (
    Choice("1", "Hardly ever"),
    Choice("2", "Some of the time"),
    Choice("3", "Often"),
)

# mood_duration answers meaning "low for more than 2 weeks".
MOOD_OVER_2_WEEKS = frozenset({"2_weeks_to_6_months", "6_months_or_more"})

# The GAD-7's own difficulty item, as published.
GAD7_DIFFICULTY = (
    "If you checked any problems, how difficult have they made it for you to do your work, "
    "take care of things at home, or get along with other people?"
)

# The UCLA 3-item loneliness scale's lead-in (Hughes et al., 2004), for a form read alone.
UCLA3_LEAD_IN = (
    "The next questions are about how you feel about different aspects of your life. For each "
    "one, tell us how often you feel that way."
)

# The NIMH Ask Suicide-Screening Questions (ASQ), public domain, asked word for word when
# PHQ-9 item 9 is above "Not at all". Question 5 is the acuity question.
ASQ_CREDIT = (
    "Questions from the Ask Suicide-Screening Questions (ASQ) toolkit of the National Institute "
    "of Mental Health (NIMH), in the public domain."
)
ASQ_ITEMS = (
    "In the past few weeks, have you wished you were dead?",
    "In the past few weeks, have you felt that you or your family would be better off if you "
    "were dead?",
    "In the past week, have you been having thoughts about killing yourself?",
    "Have you ever tried to kill yourself?",
)
ASQ_NOW = "Are you having thoughts of killing yourself right now?"

# Countries whose crisis numbers the clinic knows (clinic.intake.crisis_lines); "other" uses
# the clinic's own text for the rest of the world.
COUNTRY_CHOICES = (
    *(Choice(c.code, c.name) for c in COUNTRIES),
    Choice("other", "Another country"),
)

# Which part of the questionnaire a section belongs to: the short form before the free consult
# (every patient is asked it), and the fuller health history offered afterwards.
PRE_CONSULT, HISTORY = "pre_consult", "history"

# Conditions a section can depend on (``Section.condition``); see ``applies``.
PHQ2_POSITIVE, GAD2_POSITIVE, ITEM9_POSITIVE = "phq2_positive", "gad2_positive", "item9_positive"
# PHQ-2 and GAD-2 cut point: a total of 3 or more (of 6) asks the rest of the instrument.
SCREENER_CUT_POINT = 3

# --- The short form before the free consult -----------------------------------------------------

ABOUT = Section(
    id="about",
    title="Before you start",
    intro=(
        "Your answers help your practitioner prepare for your free consult. First, two "
        "choices that decide who sees them and which help we show you."
    ),
    sources=ARTICLES,
    questions=(
        Question(
            id="consent_share",
            text="Do you agree to us sharing your answers with the practitioner you'll see?",
            kind="yesno",
            choices=YES_NO,
            hint=(
                "If you say yes, your practitioner reads them before the consult. If you say "
                "no or leave this blank, they see only whether something needs urgent care."
            ),
        ),
        Question(
            id="country",
            text="Which country are you in?",
            kind="choice",
            choices=COUNTRY_CHOICES,
            hint="So we can show you the right phone numbers if you ever need help quickly.",
        ),
        Question(
            id="age_band",
            text="How old are you?",
            kind="choice",
            choices=(
                Choice("under_18", "Under 18"),
                Choice("18_24", "18 to 24"),
                Choice("25_34", "25 to 34"),
                Choice("35_44", "35 to 44"),
                Choice("45_54", "45 to 54"),
                Choice("55_64", "55 to 64"),
                Choice("65_74", "65 to 74"),
                Choice("75_plus", "75 or older"),
            ),
        ),
    ),
)

GOALS = Section(
    id="goals",
    title="What you'd like help with",
    intro=(
        "Start with what matters most to you. Your practitioner reads this first, so the free "
        "consult can focus on it."
    ),
    sources=ARTICLES,
    questions=(
        Question(
            id="goals_concerns",
            text="What are the main health concerns you'd like help with?",
            kind="text",
            hint="Up to three, the most important first.",
        ),
        Question(
            id="goals_duration",
            text="How long have these concerns been going on?",
            kind="choice",
            choices=HOW_LONG,
        ),
        Question(
            id="goals_useful",
            text="What would make the free consult useful for you?",
            kind="text",
            hint="For example: understanding what might be going on, or knowing the next steps.",
        ),
    ),
)


def _phq9(n: int) -> Question:
    return Question(id=f"phq9_{n}", text=PHQ9_ITEMS[n - 1], kind="scale", choices=OFTEN)


def _gad7(n: int) -> Question:
    return Question(id=f"gad7_{n}", text=GAD7_ITEMS[n - 1], kind="scale", choices=OFTEN)


# The PHQ-2 (PHQ-9 items 1 and 2) with item 9, which everyone is asked for safety's sake.
MOOD = Section(
    id="mood",
    title="Your mood",
    intro=PHQ9_STEM,
    sources=(ARTICLE_003,),
    credit=PHQ_GAD_CREDIT,
    questions=(_phq9(1), _phq9(2), _phq9(9)),
)

# The rest of the PHQ-9, asked when the PHQ-2 is positive.
MOOD_MORE = Section(
    id="mood_more",
    title="More about your mood",
    intro=PHQ9_STEM,
    sources=(ARTICLE_003,),
    credit=PHQ_GAD_CREDIT,
    condition=PHQ2_POSITIVE,
    questions=(
        *(_phq9(n) for n in range(3, 9)),
        Question(
            id="phq9_difficulty",
            text=PHQ9_DIFFICULTY,
            kind="choice",
            choices=PHQ9_DIFFICULTY_CHOICES,
        ),
    ),
)

# The ASQ, asked when PHQ-9 item 9 is above "Not at all".
ASQ = Section(
    id="asq",
    title="Your safety",
    intro=(
        "You told us you've had thoughts of being better off dead or of hurting yourself. "
        "Thank you for telling us. These questions help us understand how to help."
    ),
    sources=(ARTICLE_003,),
    credit=ASQ_CREDIT,
    condition=ITEM9_POSITIVE,
    questions=(
        *(
            Question(id=f"asq_{n}", text=text, kind="yesno", choices=YES_NO)
            for n, text in enumerate(ASQ_ITEMS, start=1)
        ),
        Question(
            id="asq_4_details",
            text="If yes, how? When?",
            kind="text",
            max_length=300,
        ),
        Question(
            id="asq_5",
            text=ASQ_NOW,
            kind="yesno",
            choices=YES_NO,
            hint="Answer this if you answered yes to any question above.",
        ),
    ),
)

# The GAD-2 (GAD-7 items 1 and 2).
ANXIETY = Section(
    id="anxiety",
    title="Worry and nerves",
    intro=GAD7_STEM,
    sources=(ARTICLE_000, ARTICLE_001, ARTICLE_002),
    credit=PHQ_GAD_CREDIT,
    questions=(_gad7(1), _gad7(2)),
)

# The rest of the GAD-7 with its difficulty item, asked when the GAD-2 is positive.
ANXIETY_MORE = Section(
    id="anxiety_more",
    title="More about worry and nerves",
    intro=GAD7_STEM,
    sources=(ARTICLE_000, ARTICLE_001, ARTICLE_002),
    credit=PHQ_GAD_CREDIT,
    condition=GAD2_POSITIVE,
    questions=(
        *(_gad7(n) for n in range(3, 8)),
        Question(
            id="gad7_difficulty",
            text=GAD7_DIFFICULTY,
            kind="choice",
            choices=PHQ9_DIFFICULTY_CHOICES,
        ),
    ),
)

SAFETY = Section(
    id="safety",
    title="Symptoms that need care soon",
    intro=(
        "A few symptoms should be checked by a doctor whatever else is going on. We ask about "
        "them for your safety."
    ),
    sources=(ARTICLE_000, ARTICLE_002),
    questions=(
        Question(
            id="heart_now",
            text="Do you have chest pain or severe breathlessness right now?",
            kind="yesno",
            choices=YES_NO,
            hint="If you do, stop here and call your local emergency number now.",
        ),
        Question(
            id="digestion_red_flags",
            text="In the past 3 months, have you had any of these?",
            kind="multi",
            choices=(
                Choice("blood_in_stool", "Blood in your stool, or black, tarry stools"),
                Choice("weight_loss", "Losing weight without trying"),
                Choice("swallowing", "Trouble swallowing, or food sticking on the way down"),
                Choice("vomiting", "Vomiting again and again"),
                Choice("none", "None of these", exclusive=True),
            ),
            hint="Choose all that apply.",
        ),
        Question(
            id="heart_red_flags",
            text="In the past month, have you had any of these?",
            kind="multi",
            choices=(
                Choice("chest_on_effort", "Chest pain, pressure or tightness when you are active"),
                Choice("faint", "Fainting, or nearly fainting, with a racing or uneven heartbeat"),
                Choice("breathless_rest", "Getting out of breath when resting or lying flat"),
                Choice("none", "None of these", exclusive=True),
            ),
            hint="Choose all that apply.",
        ),
    ),
)

MEDICATIONS = Section(
    id="medications",
    title="Medicines and supplements",
    intro=("Include anything you buy without a prescription. " + MEDICATION_NOTE),
    sources=(ARTICLE_003,),
    questions=(
        Question(
            id="medications",
            text="Which medicines do you take, prescribed or not?",
            kind="text",
            hint="The name and dose of each, if you know them.",
        ),
        Question(
            id="meds_psychiatric",
            text=(
                "Do you take any medicine for mood, anxiety, sleep or another mental health reason?"
            ),
            kind="yesno",
            choices=YES_NO,
        ),
        Question(
            id="takes_herbs",
            text="Do you take any herbs, herbal remedies or supplements?",
            kind="yesno",
            choices=YES_NO,
        ),
        Question(
            id="pregnant",
            text="Are you pregnant, or could you be?",
            kind="choice",
            choices=(
                Choice("yes", "Yes, or I might be"),
                Choice("no", "No"),
                Choice("not_applicable", "Not applicable"),
            ),
        ),
    ),
)

CONTACT = Section(
    id="contact",
    title="How we contact you",
    intro="Last step: how we should get in touch if we need to.",
    sources=ARTICLES,
    questions=(
        Question(
            id="contact_method",
            text="How would you prefer us to contact you?",
            kind="choice",
            choices=(Choice("email", "Email"), Choice("phone", "Phone")),
        ),
        Question(
            id="contact_leave_message",
            text="Is it OK for us to leave a message?",
            kind="yesno",
            choices=YES_NO,
        ),
    ),
)

# --- The fuller health history, offered after the short form --------------------------------------

MOOD_HISTORY = Section(
    id="mood_history",
    title="Your mood over time",
    intro="About the past month and longer.",
    sources=(ARTICLE_003,),
    form=HISTORY,
    questions=(
        Question(
            id="mood_duration",
            text="If your mood has been low, how long has it been low?",
            kind="choice",
            choices=(
                Choice("not_low", "My mood hasn't been low"),
                Choice("under_2_weeks", "Less than 2 weeks"),
                Choice("2_weeks_to_6_months", "More than 2 weeks, but less than 6 months"),
                Choice("6_months_or_more", "6 months or longer"),
            ),
        ),
        _bother(
            "mood_withdrawal",
            "Pulling away from friends, family, or hobbies you used to enjoy",
            BOTHER_HINT,
        ),
        _bother("mood_mornings", "Finding it hard to get up in the morning", BOTHER_HINT),
        Question(
            id="has_mental_health_clinician",
            text=(
                "Are you seeing anyone (such as a doctor, psychologist, counselor or therapist) "
                "for your mood or mental health at the moment?"
            ),
            kind="yesno",
            choices=YES_NO,
        ),
    ),
)

STRESS = Section(
    id="stress",
    title="Stress",
    intro="Stress may affect sleep, digestion and how well you fight off infections.",
    sources=(ARTICLE_000, ARTICLE_001, ARTICLE_002),
    form=HISTORY,
    questions=(
        Question(
            id="stress_level",
            text="Overall, how stressed have you felt over the past month?",
            kind="scale",
            choices=(
                Choice("0", "0 \u2013 not at all"),
                *(Choice(str(n), str(n)) for n in range(1, 10)),
                Choice("10", "10 \u2013 the most I can imagine"),
            ),
            hint="0 means no stress at all; 10 means the most stress you can imagine.",
        ),
        Question(
            id="stress_sources",
            text="Where does most of your stress come from?",
            kind="multi",
            choices=(
                Choice("work", "Work"),
                Choice("money", "Money"),
                Choice("relationships", "Family, partner or friends"),
                Choice("caring", "Looking after someone"),
                Choice("health", "My own health"),
                Choice("loss", "Losing someone close"),
                Choice("housing", "Housing"),
                Choice("studies", "Studies"),
                Choice("other", "Something else"),
            ),
            hint="Choose all that apply.",
        ),
        Question(
            id="stress_other",
            text="Anything else about your stress you'd like us to know?",
            kind="text",
            max_length=300,
        ),
        Question(
            id="stress_duration",
            text="How long have you been feeling this stressed?",
            kind="choice",
            choices=HOW_LONG,
        ),
    ),
)

SLEEP = Section(
    id="sleep",
    title="Sleep",
    intro="A few questions about how you've been sleeping lately.",
    sources=(ARTICLE_000, ARTICLE_002),
    form=HISTORY,
    questions=(
        Question(
            id="sleep_hours",
            text="On a typical night, how many hours do you actually sleep?",
            kind="number",
            min=0,
            max=14,
            unit="hours a night",
            hint="Round to the nearest whole hour.",
        ),
        _nights(
            "sleep_falling_asleep", "On how many nights a week do you struggle to fall asleep?"
        ),
        _nights(
            "sleep_waking_night",
            "On how many nights a week do you wake in the night and struggle to get back to sleep?",
        ),
        _nights(
            "sleep_waking_early",
            "On how many nights a week do you wake up too early and can't get back to sleep?",
        ),
        _nights(
            "sleep_unrefreshed",
            "On how many mornings a week do you wake up still feeling tired?",
            unit="mornings a week",
        ),
        Question(
            id="sleep_apnoea_seen",
            text=(
                "Has anyone noticed you snoring loudly, or stopping breathing or gasping while "
                "you sleep?"
            ),
            kind="yesno",
            choices=YES_NO,
        ),
    ),
)

ENERGY = Section(
    id="energy",
    title="Energy and focus",
    intro=BOTHER_HINT,
    sources=(ARTICLE_000, ARTICLE_002, ARTICLE_003),
    form=HISTORY,
    questions=(
        _bother("energy_low", "Low energy, or feeling worn out during the day"),
        _bother("energy_focus", "Trouble thinking clearly or keeping your focus"),
        _bother(
            "energy_cravings",
            "Strong cravings for sweet or starchy foods, such as candy, cake, bread or pasta",
        ),
    ),
)

DIGESTION = Section(
    id="digestion",
    title="Digestion",
    intro=BOTHER_HINT,
    sources=(ARTICLE_000, ARTICLE_002),
    form=HISTORY,
    questions=(
        _bother("digestion_bloating", "A bloated or swollen feeling in your belly"),
        _bother("digestion_gas", "More gas or burping than is usual for you"),
        _bother("digestion_heartburn", "A burning feeling in your chest or throat after eating"),
        _bother("digestion_constipation", "Hard stools, or having bowel movements less often"),
        _bother("digestion_diarrhoea", "Loose or watery stools"),
        _bother("digestion_pain", "Pain or cramps in your belly"),
        _bother("digestion_nausea", "Feeling sick to your stomach"),
    ),
)

IMMUNITY = Section(
    id="immunity",
    title="Infections and healing",
    intro="How often you get sick, and how quickly you get better.",
    sources=ARTICLES,
    form=HISTORY,
    questions=(
        Question(
            id="infections_12m",
            text=(
                "About how many infections (such as colds, flu, or chest, sinus, ear or urinary "
                "tract infections) have you had in the last 12 months?"
            ),
            kind="number",
            min=0,
            max=52,
            unit="infections",
            hint="A rough number is fine. Enter 0 if none.",
        ),
        Question(
            id="sick_more_often",
            text="Do you seem to get sick more often than the people around you?",
            kind="yesno",
            choices=YES_NO,
        ),
        Question(
            id="recovery_time",
            text="When you catch a cold or similar bug, how long does it usually take to recover?",
            kind="choice",
            choices=(
                Choice("under_1_week", "Less than a week"),
                Choice("1_to_2_weeks", "1 to 2 weeks"),
                Choice("2_to_4_weeks", "2 to 4 weeks"),
                Choice("over_4_weeks", "More than 4 weeks"),
                Choice("rarely_ill", "I rarely get sick"),
            ),
        ),
        Question(
            id="slow_healing",
            text="Do cuts and scrapes take a long time to heal?",
            kind="yesno",
            choices=YES_NO,
        ),
        Question(
            id="ebv_history",
            text=(
                "Have you ever had mono (mononucleosis, also called glandular fever), or been "
                "told you have had the Epstein-Barr virus?"
            ),
            kind="choice",
            choices=(Choice("yes", "Yes"), Choice("no", "No"), Choice("unsure", "Not sure")),
        ),
    ),
)

AUTOIMMUNE = Section(
    id="autoimmune",
    title="Immune conditions and allergies",
    intro="Leave a box empty if it doesn't apply to you.",
    sources=(ARTICLE_000, ARTICLE_001, ARTICLE_002),
    form=HISTORY,
    questions=(
        Question(
            id="autoimmune_own",
            text=("Have you been told you have an autoimmune condition? If so, which one(s)?"),
            kind="text",
            hint=(
                "For example thyroid disease, rheumatoid arthritis, lupus, celiac disease, "
                "psoriasis or multiple sclerosis."
            ),
        ),
        Question(
            id="autoimmune_family",
            text=(
                "Does a parent, brother, sister or child of yours have an autoimmune condition? "
                "If so, who, and which condition?"
            ),
            kind="text",
        ),
        Question(
            id="allergies",
            text="Do you have allergies, hay fever, eczema, hives or asthma? Please describe.",
            kind="text",
        ),
        Question(
            id="stress_worsens",
            text="Do these conditions get worse when you are stressed?",
            kind="choice",
            choices=(
                Choice("yes", "Yes"),
                Choice("sometimes", "Sometimes"),
                Choice("no", "No"),
                Choice("not_applicable", "I don't have any of these"),
            ),
        ),
    ),
)

HEART = Section(
    id="heart",
    title="Heart and breathing",
    intro=BOTHER_HINT,
    sources=(ARTICLE_000,),
    form=HISTORY,
    questions=(
        _bother("heart_racing", "Your heart beating fast when you haven't been active"),
        _bother("heart_skipped", "Your heart seeming to skip, flutter or beat unevenly"),
        _bother("heart_breathless", "Getting out of breath more easily than you'd expect"),
        _bother("heart_chest_tight", "A tight or heavy feeling in your chest"),
    ),
)

COMPANY = Section(
    id="company",
    title="Company",
    intro=UCLA3_LEAD_IN,
    sources=(ARTICLE_002,),
    form=HISTORY,
    questions=tuple(
        Question(id=f"ucla_{n}", text=text, kind="scale", choices=UCLA3_CHOICES)
        for n, text in enumerate(UCLA3_ITEMS, start=1)
    ),
)

LIFESTYLE = Section(
    id="lifestyle",
    title="Daily life",
    intro="Activity, food and drink, and how you unwind.",
    sources=(ARTICLE_002,),
    form=HISTORY,
    questions=(
        Question(
            id="exercise_days",
            text=(
                "In a typical week, on how many days are you active for at least 30 minutes "
                "(for example brisk walking, cycling, swimming, yoga or dancing)?"
            ),
            kind="number",
            min=0,
            max=7,
            unit="days a week",
        ),
        Question(
            id="fruit_veg_portions",
            text="On a typical day, how many servings of fruit and vegetables do you eat?",
            kind="number",
            min=0,
            max=20,
            unit="servings a day",
            hint="A serving is roughly a handful: an apple, a banana, or half a cup of peas.",
        ),
        Question(
            id="alcohol_drinks",
            text="In a typical week, how many alcoholic drinks do you have?",
            kind="number",
            min=0,
            max=100,
            unit="drinks a week",
            hint=(
                "One drink is a 5-ounce glass of wine, a 12-ounce beer or a single shot of liquor."
            ),
        ),
        Question(
            id="caffeine_drinks",
            text="On a typical day, how many drinks with caffeine do you have?",
            kind="number",
            min=0,
            max=30,
            unit="drinks a day",
            hint="Coffee, tea, cola and energy drinks.",
        ),
        Question(
            id="relaxation_practice",
            text="How often do you meditate, do breathing exercises or relax in another way?",
            kind="choice",
            choices=(
                Choice("never", "Never"),
                Choice("sometimes", "Now and then"),
                Choice("weekly", "Most weeks"),
                Choice("daily", "Most days"),
            ),
        ),
    ),
)

MEDICATIONS_MORE = Section(
    id="medications_more",
    title="More about medicines and care",
    intro=MEDICATION_NOTE,
    sources=(ARTICLE_003,),
    form=HISTORY,
    questions=(
        Question(
            id="supplements",
            text="Which supplements, vitamins, herbs or herbal remedies do you take?",
            kind="text",
        ),
        Question(
            id="allergy_reactions",
            text="Are you allergic to any medicines or other substances? What happened?",
            kind="text",
            hint="List each one with the reaction you had.",
        ),
        Question(
            id="current_clinicians",
            text="Which doctors, therapists or other practitioners are you seeing at the moment?",
            kind="text",
        ),
    ),
)

PRE_CONSULT_SECTIONS: tuple[Section, ...] = (
    ABOUT,
    GOALS,
    MOOD,
    MOOD_MORE,
    ASQ,
    ANXIETY,
    ANXIETY_MORE,
    SAFETY,
    MEDICATIONS,
    CONTACT,
)
HISTORY_SECTIONS: tuple[Section, ...] = (
    MOOD_HISTORY,
    STRESS,
    SLEEP,
    ENERGY,
    DIGESTION,
    IMMUNITY,
    AUTOIMMUNE,
    HEART,
    COMPANY,
    LIFESTYLE,
    MEDICATIONS_MORE,
)
FORMS: dict[str, tuple[Section, ...]] = {
    PRE_CONSULT: PRE_CONSULT_SECTIONS,
    HISTORY: HISTORY_SECTIONS,
}
SECTIONS: tuple[Section, ...] = PRE_CONSULT_SECTIONS + HISTORY_SECTIONS


def _index() -> tuple[dict[str, Section], dict[str, Question], dict[str, str]]:
    sections: dict[str, Section] = {}
    questions: dict[str, Question] = {}
    owner: dict[str, str] = {}
    for s in SECTIONS:
        if s.id in sections:
            raise ValueError(f"duplicate section id {s.id!r}")
        sections[s.id] = s
        for q in s.questions:
            if q.id in questions:
                raise ValueError(f"duplicate question id {q.id!r}")
            questions[q.id] = q
            owner[q.id] = s.id
    return sections, questions, owner


_SECTIONS, _QUESTIONS, _OWNER = _index()


def section(section_id: str) -> Section:
    """The section with this id (KeyError if unknown)."""
    return _SECTIONS[section_id]


def question(question_id: str) -> Question:
    """The question with this id (KeyError if unknown)."""
    return _QUESTIONS[question_id]


def section_of(question_id: str) -> Section:
    """The section a question belongs to (KeyError if unknown). Addition."""
    return _SECTIONS[_OWNER[question_id]]


# --- Cleaning answers --------------------------------------------------------------------------


class InvalidAnswer(ValueError):
    """An answer the patient must correct; ``str(error)`` is the plain-language message."""


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_ALLOWED_CONTROLS = frozenset("\t\n")  # "\r" never survives: line breaks become "\n" first
# Bidirectional embedding / override / isolate controls: they can disguise what text says.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _bad_character(ch: str) -> bool:
    if ch in _ALLOWED_CONTROLS:
        return False
    category = unicodedata.category(ch)
    # Cc: C0/C1 controls and DEL; Cs: lone surrogates; Zl/Zp: line and paragraph separators.
    return category in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI_CONTROLS


def _single(raw: object) -> str | None:
    """One submitted string (None when nothing was submitted)."""
    if raw is None:
        return None
    if isinstance(raw, list | tuple):
        values = [v for v in raw if v is not None and str(v).strip() != ""]
        if not values:
            return None
        if len(values) > 1:
            raise InvalidAnswer("Please give just one answer.")
        raw = values[0]
    if isinstance(raw, bool):
        raise InvalidAnswer("Please choose one of the options.")
    if isinstance(raw, int):
        return str(raw)
    if not isinstance(raw, str):
        raise InvalidAnswer("Please choose one of the options.")
    return raw


def clean_answer(question: Question, raw: object) -> str | int | list[str] | None:
    """The stored value for one question's form input; raises InvalidAnswer to ask again.

    ``""``, whitespace, ``[]`` and ``None`` mean unanswered (None), which is refused for a
    required question. A single-answer question also accepts a one-item list (what
    ``getlist`` gives) and a "number" also accepts an int.
    """
    value: str | int | list[str] | None
    if question.kind == "multi":
        value = _clean_multi(question, raw)
    else:
        text = _single(raw)
        if question.kind == "text":
            value = None if text is None else _clean_text(question, text)
        elif text is None or text.strip() == "":
            value = None
        elif question.kind == "number":
            value = _clean_number(question, text.strip())
        else:  # scale, choice, yesno
            value = text.strip()
            if value not in {c.value for c in question.choices}:
                raise InvalidAnswer("Please choose one of the options.")
    if value is None and question.required:
        raise InvalidAnswer("Please answer this question.")
    return value


def _clean_multi(question: Question, raw: object) -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        raise InvalidAnswer("Please choose from the options shown.")
    picked = [v.strip() for v in raw if v.strip() != ""]
    if not picked:
        return None
    known = {c.value: c for c in question.choices}
    if any(v not in known for v in picked):
        raise InvalidAnswer("Please choose from the options shown.")
    if len(set(picked)) != len(picked):
        raise InvalidAnswer("Please choose each option only once.")
    for v in picked:
        if known[v].exclusive and len(picked) > 1:
            raise InvalidAnswer(
                f'You can\'t choose "{known[v].label}" together with other options.'
            )
    order = [c.value for c in question.choices]
    return sorted(picked, key=order.index)


def _clean_number(question: Question, text: str) -> int:
    assert question.min is not None and question.max is not None
    if not _WHOLE_NUMBER.fullmatch(text):
        raise InvalidAnswer("Please enter a whole number, using digits (for example 3).")
    digits = text.lstrip("+-").lstrip("0") or "0"
    # Past 9 digits it is out of range anyway (and int() of a huge string can be refused).
    number = int(text) if len(digits) <= 9 else None
    if number is None or not question.min <= number <= question.max:
        raise InvalidAnswer(f"Please enter a number from {question.min} to {question.max}.")
    return number


def _clean_text(question: Question, text: str) -> str | None:
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return None
    if any(_bad_character(ch) for ch in text):
        raise InvalidAnswer(
            "Your answer contains a hidden or unusual character. Please retype it without it."
        )
    if len(text) > question.max_length:
        raise InvalidAnswer(
            f"Please shorten your answer to {question.max_length} characters or fewer "
            f"(it is {len(text)} now)."
        )
    return text


# --- Which sections are asked ----------------------------------------------------------------


def _score_of(answers: Mapping[str, object], qid: str) -> int:
    """A scale answer's score, 0 when unanswered or unreadable."""
    value = answers.get(qid)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def applies(part: Section, answers: Mapping[str, object]) -> bool:
    """Whether ``part`` is asked, given the answers saved so far."""
    if part.condition is None:
        return True
    if part.condition == PHQ2_POSITIVE:
        return _score_of(answers, "phq9_1") + _score_of(answers, "phq9_2") >= SCREENER_CUT_POINT
    if part.condition == GAD2_POSITIVE:
        return _score_of(answers, "gad7_1") + _score_of(answers, "gad7_2") >= SCREENER_CUT_POINT
    if part.condition == ITEM9_POSITIVE:
        return _score_of(answers, "phq9_9") > 0
    raise ValueError(f"{part.id}: unknown condition {part.condition!r}")


def asked(form: str, answers: Mapping[str, object]) -> tuple[Section, ...]:
    """The sections of ``form`` this patient is asked, in order."""
    return tuple(s for s in FORMS[form] if applies(s, answers))


def current_answers(answers: Mapping[str, object]) -> dict[str, object]:
    """The answers that count now: the rest of the PHQ-9 or GAD-7 when their screener is no
    longer positive (lowered after those items were answered) is kept on record but left out
    of totals. Safety answers (the ASQ) always count, asked or not."""
    skipped = {
        q.id
        for s in SECTIONS
        if s.condition in (PHQ2_POSITIVE, GAD2_POSITIVE) and not applies(s, answers)
        for q in s.questions
    }
    return {qid: value for qid, value in answers.items() if qid not in skipped}


def next_section(section_id: str, answers: Mapping[str, object]) -> Section | None:
    """The next section asked after ``section_id`` in its form, or None at the form's end."""
    part = section(section_id)
    following = FORMS[part.form][FORMS[part.form].index(part) + 1 :]
    return next((s for s in following if applies(s, answers)), None)


def previous_section(section_id: str, answers: Mapping[str, object]) -> Section | None:
    """The section asked before ``section_id`` in its form, or None at the form's start."""
    part = section(section_id)
    before = FORMS[part.form][: FORMS[part.form].index(part)]
    return next((s for s in reversed(before) if applies(s, answers)), None)


def minutes_left(section_id: str, answers: Mapping[str, object]) -> int:
    """About how many minutes the form takes from ``section_id`` on (at least 1)."""
    form = section(section_id).form
    parts = asked(form, answers)
    if section(section_id) not in parts:  # opened though not asked: count the whole form
        parts = FORMS[form]
    counts = [len(s.questions) for s in parts]
    ids = [s.id for s in parts]
    remaining = sum(counts[ids.index(section_id) :])
    return max(1, math.ceil(ESTIMATED_MINUTES[form] * remaining / sum(counts)))
