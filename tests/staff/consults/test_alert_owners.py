"""Whoever an intake alert goes to can open it: admins are warned on the day view about active
practitioners with no active account of their own, with how to fix it; the demo clinic gives
every practitioner an account.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Practitioner, StaffUser
from clinic.demo import DEMO_PASSWORD
from tests.support import factories
from tests.support.staff import seed_staff_clinic, sign_in

HEADING = "Practitioners who can't open their alerts"


@pytest.fixture
def clinic(app):
    return seed_staff_clinic()


def warning(html: str) -> str | None:
    match = re.search(
        r'<section class="alert" aria-labelledby="unlinked-heading">.*?</section>', html, re.S
    )
    return re.sub(r"\s+", " ", unescape(match.group(0))) if match else None


def test_admins_are_told_which_practitioners_have_no_account_and_how_to_fix_it(client, clinic):
    factories.practitioner(name="Dr Cy Noakes", email="cy@clinic.test")
    factories.practitioner(name="Dr Old Gone", email="gone@clinic.test", active=False)
    ben = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "ben@clinic.test"))
    ben.active = False  # his account is disabled: he can't sign in either
    db.session.commit()
    sign_in(client, "admin")

    shown = warning(client.get("/staff/").text)

    assert HEADING in shown
    assert re.findall(r"<li>(.*?)</li>", shown) == [
        "Dr Ben Ode (ben@clinic.test)",
        "Dr Cy Noakes (cy@clinic.test)",
    ]
    assert "<code>flask staff create EMAIL --role practitioner</code>" in shown
    assert "Dr Ada Lane" not in shown and "Dr Old Gone" not in shown


def test_the_warning_goes_once_the_account_exists(client, clinic, runner):
    factories.practitioner(name="Dr Cy Noakes", email="cy@clinic.test")
    sign_in(client, "admin")
    assert "Dr Cy Noakes" in warning(client.get("/staff/").text)

    result = runner.invoke(
        args=["staff", "create", "cy@clinic.test", "--role", "practitioner", "--password", "x" * 12]
    )
    assert result.exit_code == 0, result.output
    assert warning(client.get("/staff/").text) is None


@pytest.mark.parametrize("who", ["desk", "own", "other"])
def test_only_admins_see_the_warning(client, clinic, who):
    factories.practitioner(name="Dr Cy Noakes", email="cy@clinic.test")
    sign_in(client, who)
    page = client.get("/staff/").text
    assert warning(page) is None and HEADING not in unescape(page)


def test_every_demo_practitioner_has_an_account_and_can_sign_in(runner, client, app):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    accounts = dict(
        db.session.execute(
            sa.select(StaffUser.practitioner_id, StaffUser.email).where(
                StaffUser.role == "practitioner", StaffUser.active.is_(True)
            )
        ).all()
    )
    practitioners = db.session.scalars(sa.select(Practitioner).where(Practitioner.active)).all()
    assert len(practitioners) == 2
    for practitioner in practitioners:
        assert accounts[practitioner.id] == practitioner.email
        assert practitioner.email in result.output
    assert sign_in(client, "sam.whitfield@riverbend.example", DEMO_PASSWORD).status_code == 303
    admin = app.test_client()
    sign_in(admin, "admin@riverbend.example", DEMO_PASSWORD)
    assert warning(admin.get("/staff/").text) is None
