"""Migration 0012 on a database with data: existing answers become each intake's first revision,
and every consult already marked urgent gets the alert its answers raised.

The data is written at the head revision with the models, the database is taken back to 0011
(dropping what 0012 added), then upgraded again, as a clinic's database would be.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from clinic.core.extensions import db
from clinic.core.models import IntakeAlert, IntakeResponse, IntakeRevision
from tests.support import factories
from tests.support.apps import make_app

RAISED = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def test_urgent_consults_get_their_alerts_and_answers_their_first_revision(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'clinic.db'}")
    with app.app_context():
        upgrade()
        factories.clinic()
        ada = factories.practitioner(name="Dr Ada Lane")
        written = {
            "item 9": (True, {"phq9_9": "2"}),
            "chest pain now": (True, {"heart_now": "yes", "phq9_9": "0"}),
            "calm": (False, {"phq9_9": "0", "goals_concerns": "Sleep"}),
        }
        ids = {}
        for hour, (name, (urgent, answers)) in enumerate(written.items(), start=9):
            consult = factories.appointment(
                ada, factories.next_grid_time(days_ahead=5, hour=hour), urgent=urgent
            )
            db.session.add(
                IntakeResponse(
                    appointment=consult,
                    version="2026-11.1",
                    answers=answers,
                    sections_done=["mood"],
                    started_at=RAISED,
                    updated_at=RAISED,
                    urgent_at=RAISED if urgent else None,
                )
            )
            db.session.commit()
            ids[name] = consult.id
        db.session.remove()

        downgrade(revision="0011")
        upgrade()

        alerts = db.session.scalars(sa.select(IntakeAlert).order_by(IntakeAlert.appointment_id))
        assert [(a.appointment_id, a.kind, a.level, a.raised_at, a.due_at) for a in alerts] == [
            (ids["item 9"], "self_harm", "red", RAISED, None),
            (ids["chest pain now"], "emergency", "red", RAISED, None),
        ]
        assert all(a.is_open for a in db.session.scalars(sa.select(IntakeAlert)))
        revisions = db.session.scalars(
            sa.select(IntakeRevision).order_by(IntakeRevision.response_id)
        ).all()
        assert [(r.number, r.section_id, r.version, r.answers) for r in revisions] == [
            (1, "", "2026-11.1", answers) for _, answers in written.values()
        ]
        db.session.remove()
        db.engine.dispose()
