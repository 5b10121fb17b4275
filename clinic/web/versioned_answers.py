"""Answers to the pages of free times, kept in each process under what they were worked out
from, for every visitor, the ones with a session cookie included.

``kept_answers`` serves a visitor without a session cookie the answer of the last 2 seconds;
everyone else (every patient after their first page) had theirs worked out and rendered
afresh. Here the request still reads the practitioners with their schedule versions, the
settings and the consult type (the one statement of a warm page of free times), then serves
the answer kept at the same address if it was worked out from exactly those values
(``schedule_proof``) and is still good now, with this visitor's CSRF token put in. A booking,
a hold, a change of hours in any process raises a schedule version in the same transaction,
so no answer is served once a change is committed.

An answer is good until the free times it was cut from would change with the clock alone (a
hold lapses, the cache's ``max_age`` passes, the first time comes inside the minimum notice:
``kept_open_times``), and never past the end of the minute it was worked out in: today's
date, the horizon's far end and a zone's abbreviation move on whole minutes. Pages that would
show a flashed message are never kept or served from here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, make_response, session
from flask.typing import ResponseReturnValue

from clinic.core.clock import utc_now
from clinic.core.lru_map import LruMap
from clinic.web.kept_answers import address, served_again, without_csrf

_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Answer:
    proof: Hashable
    valid_until: datetime
    body: str
    mimetype: str | None
    has_csrf: bool


class VersionedAnswers:
    """Each address's last answer, the least recently used forgotten past ``size``."""

    def __init__(self, size: int = 128):  # pages of 20 to 50 KB: a few MB a process
        self._kept: LruMap[Answer] = LruMap(size)

    def get(self, key: str, proof: Hashable, now: datetime) -> Answer | None:
        answer = self._kept.get(key)
        if answer is None or answer.proof != proof or not now < answer.valid_until:
            return None
        return answer

    def keep(self, key: str, answer: Answer) -> None:
        self._kept.put(key, answer)

    def clear(self) -> None:
        self._kept.clear()


def init_app(app: Flask) -> None:
    app.extensions["clinic.web.versioned_answers"] = VersionedAnswers()


def answered(
    proof: Hashable, work: Callable[[datetime], tuple[ResponseReturnValue, datetime]]
) -> ResponseReturnValue:
    """The answer kept at this address for ``proof``, or ``work(now)``'s, kept when it is a
    200; ``work`` gives its answer and until when the free times in it stay as they are."""
    now = utc_now()
    if session.get("_flashes"):
        return work(now)[0]
    answers: VersionedAnswers = current_app.extensions["clinic.web.versioned_answers"]
    key = address()
    kept = answers.get(key, proof, now)
    if kept is not None:
        return served_again(kept.body, kept.mimetype, kept.has_csrf)
    result, until = work(now)
    response = make_response(result)
    until = min(until, now.replace(second=0, microsecond=0) + _MINUTE)
    if response.status_code == 200 and not response.is_streamed and now < until:
        body, has_csrf = without_csrf(response)
        answers.keep(key, Answer(proof, until, body, response.mimetype, has_csrf))
    return response
