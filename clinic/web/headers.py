"""Security headers on every response (Flask-Talisman), and the client's address behind a proxy.

The Content-Security-Policy lets pages load only the site's own files: no inline script, no
other origin. Style attributes are allowed (``style-src-attr``) because the staff week grid
places each consult with one; an attribute can restyle a page but not run script or, with
``img-src 'self'``, fetch anything from elsewhere.

Only the patient pages (landing, booking, intake) may be framed, and only by the origins in
``CLINIC_FRAME_ANCESTORS``; the staff console never is.

HTTPS is not forced here: the TLS-terminating proxy in front owns port 80 and redirects it (a
redirect here loops when that proxy doesn't say the request was HTTPS, and turns plain-HTTP
health checks into redirects). In production HSTS tells browsers to use HTTPS from then on.
"""

from __future__ import annotations

import re

from flask import Flask, request
from flask_talisman import DENY, SAMEORIGIN, Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

EMBEDDABLE_BLUEPRINTS = frozenset({"public", "booking", "intake"})
_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]+(:\d+)?")


def content_security_policy(frame_ancestors: str) -> dict[str, str]:
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "style-src-attr": "'unsafe-inline'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": frame_ancestors,
    }


def frame_ancestors(setting: str) -> str:
    """``CLINIC_FRAME_ANCESTORS`` checked: 'none', or 'self' and/or origins, space-separated.

    Raises ``RuntimeError`` (the app does not start) on anything else, so a stray ``;`` can't
    slip another directive into the policy.
    """
    sources = setting.split() or ["'none'"]
    if sources == ["'none'"]:
        return "'none'"
    bad = [s for s in sources if s != "'self'" and not _ORIGIN.fullmatch(s)]
    if bad:
        raise RuntimeError(
            "CLINIC_FRAME_ANCESTORS must be 'none', or 'self' and origins such as "
            f"https://www.clinic.example separated by spaces, not {' '.join(bad)!r}"
        )
    return " ".join(sources)


def frame_options(ancestors: str) -> str | None:
    """The X-Frame-Options that agrees with ``frame-ancestors``: none when other origins may
    frame the page, since that header cannot name them (browsers then follow the CSP)."""
    return {"'none'": DENY, "'self'": SAMEORIGIN}.get(ancestors)


class ClinicTalisman(Talisman):
    """Talisman with two rules of the site added (hooks of the pinned flask-talisman 1.1.0;
    tests/web/test_headers.py fails if they stop being called)."""

    patient_page_options: dict  # the CSP and X-Frame-Options for EMBEDDABLE_BLUEPRINTS

    def _get_local_options(self) -> dict:
        options = dict(super()._get_local_options())
        if request.blueprint in EMBEDDABLE_BLUEPRINTS:
            options.update(self.patient_page_options)
        return options

    def _set_referrer_policy_headers(self, headers) -> None:
        # Pages whose URL carries a secret set ``no-referrer`` themselves: keep it.
        headers.setdefault("Referrer-Policy", self.referrer_policy)


def init_app(app: Flask) -> None:
    """Bind a Talisman of this app's own (its options live on the instance) and, when
    ``PROXY_FIX_HOPS`` is set, trust that many proxies' X-Forwarded-For, -Proto and -Host."""
    config = app.config
    ancestors = frame_ancestors(config["CLINIC_FRAME_ANCESTORS"])
    talisman = ClinicTalisman()
    talisman.patient_page_options = {
        "content_security_policy": content_security_policy(ancestors),
        "frame_options": frame_options(ancestors),
    }
    talisman.init_app(
        app,
        force_https=False,
        strict_transport_security=config["STRICT_TRANSPORT_SECURITY"],
        content_security_policy=content_security_policy("'none'"),
        frame_options=DENY,
        session_cookie_secure=config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=config["SESSION_COOKIE_SAMESITE"],
    )
    app.extensions["talisman"] = talisman

    hops = config["PROXY_FIX_HOPS"]
    if hops:
        # Flask's documented way to add WSGI middleware; mypy refuses assigning to a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
