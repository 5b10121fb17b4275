"""Answers to the busiest public pages, kept for a moment in each process.

A burst of patients opening the booking page, or an embed polling the slots API, asks the same
question many times a second. The first answer at an address is kept for
``RECENT_ANSWER_SECONDS`` (2 by default; 0 turns this off) and served again as it was: no
database, no scheduling, no template. Only anonymous GETs answered 200 are kept, and only for
visitors without a session cookie (nothing personal can be on such a page). The page's CSRF
token is the one per-visitor part: it is cut out when the answer is kept and a fresh one is put
in each time it is served. Any write committed in this process forgets everything at once, so
whoever changed something sees the change; other processes may show free times up to that
many seconds old. Taking a time always checks afresh under the booking lock, so an old answer
can at worst offer a time that was just taken, which the patient is told about, as in any race.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Response, current_app, g, make_response, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.orm import Session

CSRF_HOLE = "\x00csrf-token\x00"  # cannot occur in a page: NUL is refused everywhere
_EVERY: weakref.WeakSet[RecentAnswers] = weakref.WeakSet()  # one per app in this process


@dataclass(frozen=True, slots=True)
class Kept:
    at: float
    body: str
    mimetype: str | None  # as the response had it (werkzeug's type allows None)
    has_csrf: bool


class RecentAnswers:
    def __init__(self, seconds: float, size: int = 128):  # at most a few MB a process
        self.seconds = seconds
        self.size = size
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0  # raised by each forget_all: an answer begun before isn't kept
        _EVERY.add(self)

    def get(self, key: str) -> Kept | None:
        with self._lock:
            kept = self._kept.get(key)
        if kept is None or not 0 <= time.monotonic() - kept.at < self.seconds:
            return None
        return kept

    def keep(
        self, key: str, body: str, mimetype: str | None, has_csrf: bool, generation: int
    ) -> None:
        with self._lock:
            if generation != self.generation:  # a write was committed while it was worked out
                return
            self._kept[key] = Kept(time.monotonic(), body, mimetype, has_csrf)
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def forget_all(self) -> None:
        with self._lock:
            self._kept.clear()
            self.generation += 1


def init_app(app) -> None:
    listen()
    app.extensions["clinic.web.kept_answers"] = RecentAnswers(app.config["RECENT_ANSWER_SECONDS"])


View = Callable[..., ResponseReturnValue]


def kept_briefly(view: View) -> View:
    """Serve ``view``'s recent answer at the same address, when there is one (see above)."""

    @wraps(view)
    def serve(*args: object, **kwargs: object) -> ResponseReturnValue:
        answers: RecentAnswers = current_app.extensions["clinic.web.kept_answers"]
        if answers.seconds <= 0 or current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
            return view(*args, **kwargs)
        key = address()
        generation = answers.generation
        kept = answers.get(key)
        if kept is not None:
            return served_again(kept.body, kept.mimetype, kept.has_csrf)
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.is_streamed:
            body, has_csrf = without_csrf(response)
            answers.keep(key, body, response.mimetype, has_csrf, generation)
        return response

    return serve


def address() -> str:
    """The request's path and raw query string: request.full_path would refuse bytes that
    aren't UTF-8."""
    return f"{request.path}?{request.query_string.decode('latin-1')}"


def without_csrf(response: Response) -> tuple[str, bool]:
    """The answer's body with the visitor's CSRF token cut out, and whether it had one."""
    body = response.get_data(as_text=True)
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    return (body.replace(token, CSRF_HOLE), True) if token else (body, False)


def served_again(body: str, mimetype: str | None, has_csrf: bool) -> Response:
    """A kept answer, with this visitor's CSRF token put in."""
    return Response(
        body.replace(CSRF_HOLE, generate_csrf()) if has_csrf else body, mimetype=mimetype
    )


def _wrote(session: Session, flush_context) -> None:
    session.info["clinic.wrote"] = True


def _wrote_in_bulk(state) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        state.session.info["clinic.wrote"] = True


def _forget_after_a_write(session: Session) -> None:
    if session.info.pop("clinic.wrote", False):
        for answers in list(_EVERY):
            answers.forget_all()


def _nothing_written(session: Session) -> None:
    session.info.pop("clinic.wrote", None)


_LISTENERS = (
    ("after_flush", _wrote),
    ("do_orm_execute", _wrote_in_bulk),
    ("after_commit", _forget_after_a_write),
    ("after_rollback", _nothing_written),
)


def listen() -> None:
    """Attach the session listeners: once, however many apps are made (create_app calls it)."""
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
