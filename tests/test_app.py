"""Set-up promises: configuration, migrations, demo data, liveness and readiness checks."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import config
from clinic.core.extensions import db
from clinic.core.models import Appointment, Practitioner


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.ProductionConfig()


def test_unknown_environment_name_is_refused(monkeypatch):
    monkeypatch.setenv("CLINIC_ENV", "staging-ish")
    with pytest.raises(RuntimeError, match="CLINIC_ENV"):
        config.from_environment()


def test_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diffs == []


def test_demo_seed_creates_a_bookable_clinic_once(app, runner, client):
    first = runner.invoke(args=["demo", "seed"])
    assert "Demo clinic created" in first.output
    again = runner.invoke(args=["demo", "seed"])
    assert "nothing changed" in again.output
    zones = set(db.session.scalars(sa.select(Practitioner.timezone)))
    assert len(zones) == 2
    page = client.get("/book")
    assert page.status_code == 200
    assert len(re.findall(r'<button type="submit" name="start"', page.text)) > 10
    booked = db.session.scalars(sa.select(Appointment).where(Appointment.status == "confirmed"))
    assert len(booked.all()) == 6  # a schedule for the staff console to show
    assert db.session.scalar(sa.select(sa.func.count()).where(Appointment.urgent)) == 1


def test_livez_answers(client):
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
