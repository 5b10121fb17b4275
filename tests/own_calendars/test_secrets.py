"""Connection secrets are encrypted at rest with CALENDAR_SECRETS_KEY: unreadable without the
key, readable after a key rotation, and refused plainly when no key is set in production."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from clinic.own_calendars.secrets import SecretsUnavailable, seal, unseal

URL = "https://calendar.google.com/calendar/ical/ada%40example.com/private-5f1k2j3h/basic.ics"


def test_a_secret_is_stored_encrypted_and_read_back(app):
    with app.app_context():
        sealed = seal(URL)
        assert URL.encode() not in sealed and b"private-5f1k2j3h" not in sealed
        assert unseal(sealed) == URL
        assert seal(URL) != sealed  # a fresh nonce each time


def test_a_rotated_key_still_reads_what_the_old_one_sealed(app):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with app.app_context():
        app.config["CALENDAR_SECRETS_KEY"] = old
        sealed = seal(URL)
        app.config["CALENDAR_SECRETS_KEY"] = f"{new},{old}"
        assert unseal(sealed) == URL
        app.config["CALENDAR_SECRETS_KEY"] = new
        with pytest.raises(SecretsUnavailable, match="connect it again"):
            unseal(sealed)


def test_production_without_a_key_refuses_to_store_a_secret(app):
    with app.app_context():
        app.config["CALENDAR_KEY_FROM_SECRET_KEY"] = False
        app.config["CALENDAR_SECRETS_KEY"] = ""
        with pytest.raises(SecretsUnavailable, match="CALENDAR_SECRETS_KEY is set"):
            seal(URL)
        app.config["CALENDAR_SECRETS_KEY"] = "not a key"
        with pytest.raises(SecretsUnavailable, match="not a list of Fernet keys"):
            seal(URL)
