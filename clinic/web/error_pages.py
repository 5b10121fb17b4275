"""Error pages: plain-language HTML for people, problem+json under /api/."""

from __future__ import annotations

from contextlib import suppress

from flask import Flask, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, TooManyRequests

from clinic.core.clinic_settings import NotSetUp
from clinic.core.extensions import db
from clinic.web import rate_limits
from clinic.web.problems import problem

TITLES = {
    400: "Something in that request wasn't right",
    403: "You don't have access to this page",
    404: "We couldn't find that page",
    405: "That action isn't available here",
    409: "That time was just taken",
    410: "This link can no longer be used",
    413: "That was more than we can accept",
    415: "We couldn't read that request",
    422: "Some of the information needs another look",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "Booking isn't open yet",
}


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _respond(code: int, detail: str | None, kind: str | None = None, title: str | None = None):
    title = title or TITLES.get(code, "Something went wrong")
    if _is_api():
        return problem(code, title, detail, kind)
    return render_template("errors/error.html", code=code, title=title, detail=detail), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _respond(
            400,
            "This form had expired or was sent from somewhere else. "
            "Please go back, reload the page and try again.",
        )

    @app.errorhandler(NotSetUp)
    def not_set_up(error: NotSetUp):
        return _respond(503, f"{error} Please try again later.")

    @app.errorhandler(TooManyRequests)
    def too_many(error: TooManyRequests):
        # Flask-Limiter's description is the limit itself ("60 per 1 minute"): say what to do
        # instead, and when (its own headers are off: they would stamp a Retry-After on every
        # response of a limited route, whatever its status).
        response = make_response(
            _respond(429, rate_limits.explanation(error, api=_is_api()), "rate-limited")
        )
        response.headers["Retry-After"] = str(rate_limits.seconds_to_wait())
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        # SQLite's write lock held past the busy timeout, or PostgreSQL unreachable: nothing
        # was saved (the transaction never committed). Ask the person to try again.
        app.logger.warning(
            "Database unavailable on %s %s: %s",
            request.method,
            request.path,
            str(error.orig).splitlines()[0] if error.orig else error,
        )
        with suppress(Exception):
            db.session.rollback()
        response = _respond(
            503,
            "We're very busy this moment, so nothing was saved. Please try again in a few seconds.",
            title="Please try again in a moment",
        )
        response = make_response(response)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        own_words = error.description if error.description != type(error).description else None
        return _respond(error.code or 500, own_words)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _respond(500, InternalServerError.description)
