"""The secret link each consult has (booking, manage, and in every email).

A link token is an HMAC of the consult's random salt (256 bits) under the app's secret key.
The database keeps only the salt and the token's SHA-256 hash: a copy of the database alone
cannot open any consult, yet a reminder written weeks later can carry the same link again.
Changing ``SECRET_KEY`` therefore retires every link already sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app

# A manage link keeps working until this long after the consult ends.
LINK_LIFETIME_AFTER_CONSULT = timedelta(days=30)


def uid_domain() -> str:
    """The domain in each consult's calendar UID: the site's own host name."""
    return urlsplit(current_app.config["CLINIC_BASE_URL"]).hostname or "clinic.invalid"


def new_link_salt() -> str:
    return secrets.token_hex(32)


def link_token(salt: str, purpose: str = "consult-link") -> str:
    """The URL-safe token for ``salt`` (43 characters, 256 bits).

    ``purpose`` separates kinds of link: a consult's link and a calendar feed never match.
    """
    if not salt:
        raise ValueError("no link salt, so no link")
    key = current_app.config["SECRET_KEY"].encode()
    message = purpose.encode() + b"\x00" + salt.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def absolute_url(path: str) -> str:
    """``path`` on the site's public address (``CLINIC_BASE_URL``), for emails."""
    return current_app.config["CLINIC_BASE_URL"].rstrip("/") + path


def manage_url(salt: str) -> str:
    return absolute_url(f"/manage/{link_token(salt)}")
