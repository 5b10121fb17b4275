"""The hostile suites' ``digest`` (tests/support/hostile.py) notices any change to any row, on
both databases, and overlooks only the audit rows it is told to."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from clinic.core.audit import audit
from clinic.core.extensions import db
from clinic.core.models import Patient, Practitioner
from tests.support.hostile import digest
from tests.support.staff import seed_staff_clinic

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_every_kind_of_change_changes_the_digest(app):
    with app.app_context():
        seed_staff_clinic()
        start = digest()
        assert digest() == start  # reading changes nothing

        ada = db.session.scalars(sa.select(Practitioner).order_by(Practitioner.id)).first()
        ada.bio = ada.bio + "."  # one character of one column
        db.session.commit()
        edited = digest()
        assert edited != start

        db.session.add(Patient(name="Jo", email="dg@example.com", phone="", created_at=NOW))
        db.session.commit()
        added = digest()
        assert added != edited

        db.session.execute(sa.delete(Patient).where(Patient.email == "dg@example.com"))
        db.session.commit()
        assert digest() == edited  # back as it was


def test_only_the_named_audit_actions_are_overlooked(app):
    with app.app_context():
        seed_staff_clinic()
        before = digest(frozenset({"sign_in_failed"}))
        audit("sign_in_failed", None, now=NOW, address="")
        assert digest(frozenset({"sign_in_failed"})) == before
        audit("sign_in", None, now=NOW, address="")
        assert digest(frozenset({"sign_in_failed"})) != before
