"""The audit log records where a request came from, and nothing when no request is served."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from clinic.core.audit import acting_from, audit
from clinic.core.extensions import db
from clinic.core.models import AuditEvent
from tests.support.staff import seed_staff_clinic, sign_in

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def addresses(action: str) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(sa.select(AuditEvent.address).where(AuditEvent.action == action))
    )


def test_a_request_records_its_address_and_the_next_command_records_none(app, client):
    with app.app_context():
        seed_staff_clinic()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert sign_in(client, "admin").status_code == 303
    with app.app_context():
        assert addresses("sign_in") == ["192.0.2.7"]
        audit("data_purged", None, now=NOW)  # as a command would, after the request ended
        assert addresses("data_purged") == [""]


def test_acting_from_sets_the_address_for_its_block_only(app):
    with app.app_context():
        seed_staff_clinic()
        with acting_from("198.51.100.1"):
            audit("inside", None, now=NOW)
            audit("given", None, now=NOW, address="203.0.113.9")
        audit("after", None, now=NOW)
        assert addresses("inside") == ["198.51.100.1"]
        assert addresses("given") == ["203.0.113.9"]
        assert addresses("after") == [""]
