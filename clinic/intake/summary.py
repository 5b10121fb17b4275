"""What staff read about an intake: the patient's goals, the flags with their reasons, the
screener totals, then every answer with the unanswered questions named.

Pure: built from the stored answers, the questionnaire and the flags recorded when raised, so
it can be tested without a database and rendered by the staff console
(``templates/intake/_summary.html``). No 0-100 "part scores": only published instruments are
totalled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from clinic.intake.questionnaire import (
    FORMS,
    HISTORY,
    PRE_CONSULT,
    VERSION,
    Question,
    applies,
    current_answers,
    section,
)
from clinic.intake.scoring import Scores, score


class RecordedFlag(Protocol):
    """A flag as kept when it was first raised (``clinic.core.models.IntakeFlagRaised``)."""

    code: str
    level: str
    message: str
    reason: str
    raised_at: datetime


@dataclass(frozen=True)
class AnswerLine:
    question: str
    answer: str


@dataclass(frozen=True)
class FlagLine:
    level: str
    message: str
    reason: str  # the answers that raised it, one "Question: answer" a line
    raised_at: datetime | None
    current: bool  # False: raised by an earlier answer the patient has since changed


@dataclass(frozen=True)
class SectionAnswers:
    id: str
    title: str
    lines: tuple[AnswerLine, ...]
    unanswered: tuple[str, ...]  # the texts of the questions left blank


@dataclass(frozen=True)
class Summary:
    scores: Scores
    goals: SectionAnswers
    flags: tuple[FlagLine, ...]
    sections: tuple[SectionAnswers, ...]
    history_started: bool
    version: str
    # Only a "yes" to sharing with the practitioner shares the answers; otherwise (no, or left
    # blank) staff see the flags, for safety, but not the answers.
    shared: bool = False


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


def _answered(answers: Mapping[str, object], qid: str) -> bool:
    return answers.get(qid) not in (None, "", [])


def _section_answers(part, answers: Mapping[str, object]) -> SectionAnswers:
    return SectionAnswers(
        id=part.id,
        title=part.title,
        lines=tuple(
            AnswerLine(q.text, answer_text(q, answers[q.id]))
            for q in part.questions
            if _answered(answers, q.id)
        ),
        unanswered=tuple(q.text for q in part.questions if not _answered(answers, q.id)),
    )


def _flag_lines(scores: Scores, recorded: Sequence[RecordedFlag]) -> tuple[FlagLine, ...]:
    by_code = {r.code: r for r in recorded}
    lines = []
    for flag in scores.flags:
        kept = by_code.pop(flag.code, None)
        lines.append(
            FlagLine(
                flag.level,
                flag.message,
                kept.reason if kept else "",
                kept.raised_at if kept else None,
                True,
            )
        )
    earlier = (FlagLine(r.level, r.message, r.reason, r.raised_at, False) for r in by_code.values())
    return (*lines, *earlier)


def build_summary(
    answers: Mapping[str, object],
    version: str,
    saved_sections: Iterable[str] = (),
    recorded: Sequence[RecordedFlag] = (),
) -> Summary:
    """The staff summary; ``recorded`` are the flags kept when raised, oldest first."""
    saved = frozenset(saved_sections)
    if version == VERSION:  # earlier versions asked every question of every part
        answers = current_answers(answers)
    scores = score(answers, saved)
    asked = [s for s in FORMS[PRE_CONSULT] if applies(s, answers)]
    history_started = any(s.id in saved for s in FORMS[HISTORY])
    if history_started:
        asked += [s for s in FORMS[HISTORY] if applies(s, answers)]
    goals = section("goals")
    return Summary(
        scores=scores,
        goals=_section_answers(goals, answers),
        flags=_flag_lines(scores, recorded),
        sections=tuple(_section_answers(part, answers) for part in asked if part is not goals),
        history_started=history_started,
        version=version,
        shared=answers.get("consent_share") == "yes",
    )
