"""What staff read about an intake: flags first, screener totals, section scores, every answer.

Pure: built from the stored answers and the questionnaire, so it can be tested without a
database and rendered by the staff console (``templates/intake/_summary.html``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clinic.intake.questionnaire import SECTIONS, Question
from clinic.intake.scoring import Scores, score

# Bar chart geometry (SVG user units).
BAR_WIDTH = 300
ROW_HEIGHT = 28


@dataclass(frozen=True)
class AnswerLine:
    question: str
    answer: str


@dataclass(frozen=True)
class SectionAnswers:
    id: str
    title: str
    score: int | None
    lines: tuple[AnswerLine, ...]


@dataclass(frozen=True)
class Bar:
    label: str
    score: int
    y: int
    width: int


@dataclass(frozen=True)
class Summary:
    scores: Scores
    sections: tuple[SectionAnswers, ...]
    bars: tuple[Bar, ...]
    version: str
    # False when the patient answered "no" to sharing their answers with the practitioner:
    # staff then see the flags (for safety) but not the answers.
    shared: bool = True

    @property
    def chart_height(self) -> int:
        return max(len(self.bars), 1) * ROW_HEIGHT


def answer_text(question: Question, value: object) -> str:
    """An answer as words: choice labels, numbers with their unit, free text as written."""
    labels = {c.value: c.label for c in question.choices}
    if isinstance(value, list):
        return "; ".join(labels.get(str(v), str(v)) for v in value)
    if labels:
        return labels.get(str(value), str(value))
    if question.kind == "number" and question.unit:
        return f"{value} {question.unit}"
    return str(value)


def build_summary(answers: Mapping[str, object], version: str) -> Summary:
    scores = score(answers)
    sections = tuple(
        SectionAnswers(
            id=part.id,
            title=part.title,
            score=scores.sections.get(part.id),
            lines=tuple(
                AnswerLine(q.text, answer_text(q, answers[q.id]))
                for q in part.questions
                if answers.get(q.id) not in (None, "", [])
            ),
        )
        for part in SECTIONS
    )
    scored = [s for s in sections if s.score is not None]
    bars = tuple(
        Bar(s.title, s.score, i * ROW_HEIGHT, round(BAR_WIDTH * s.score / 100))
        for i, s in enumerate(scored)
    )
    return Summary(
        scores=scores,
        sections=sections,
        bars=bars,
        version=version,
        shared=answers.get("consent_share") != "no",
    )
