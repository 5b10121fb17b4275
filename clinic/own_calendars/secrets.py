"""Connection secrets, encrypted at rest: an ICS feed's address (itself a password) and a
CalDAV app password. Fernet (AES-128-CBC with HMAC-SHA256) from ``cryptography``, with the
keys of ``CALENDAR_SECRETS_KEY``; outside production a key is derived from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from clinic.core.errors import ClinicError


class SecretsUnavailable(ClinicError):
    """No key to encrypt with, or the stored secret was sealed with a key no longer given."""

    status = 503


def seal(secret: str) -> bytes:
    return _keys().encrypt(secret.encode())


def unseal(sealed: bytes) -> str:
    try:
        return _keys().decrypt(sealed).decode()
    except InvalidToken:
        raise SecretsUnavailable(
            "This calendar's saved password can't be read with the server's keys "
            "(CALENDAR_SECRETS_KEY changed?): please connect it again."
        ) from None


def _keys() -> MultiFernet:
    config = current_app.config
    given = [k.strip() for k in config.get("CALENDAR_SECRETS_KEY", "").split(",") if k.strip()]
    if not given:
        if not config.get("CALENDAR_KEY_FROM_SECRET_KEY"):
            raise SecretsUnavailable(
                "Calendars can't be connected until CALENDAR_SECRETS_KEY is set on the server "
                "(see the README)."
            )
        digest = hashlib.sha256(f"calendar secrets:{config['SECRET_KEY']}".encode()).digest()
        given = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(key) for key in given])
    except ValueError:
        raise SecretsUnavailable(
            "CALENDAR_SECRETS_KEY is not a list of Fernet keys (see the README)."
        ) from None
