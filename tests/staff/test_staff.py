"""The staff console so far: accounts, sign-in, the day's consults and a consult's intake.

Access rules: admins see everything; a practitioner reads intake answers of their own patients
only; the front desk sees that a flag exists, never the answers. Every reading is audited.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.accounts.services import create_staff
from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.models import OutboxMessage, StaffUser
from clinic.notify.compose import compose
from tests.support import factories
from tests.support.apps import csrf_token, running_app
from tests.support.staff import ACCOUNTS, PASSWORD, audit_count, seed_staff_clinic, sign_in


@pytest.fixture
def clinic(app):
    return seed_staff_clinic()


# --- who may see what ----------------------------------------------------------------------

ROUTES = ["/staff/", "/staff/consults/{ref}", "/staff/consults/{ref}/intake/print"]
# Expected status per role, route by route (print needs the right to read the answers).
EXPECTED = {
    "admin": [200, 200, 200],
    "own": [200, 200, 200],
    "other": [200, 200, 403],
    "desk": [200, 200, 403],
}


@pytest.mark.parametrize("route", ROUTES + ["/staff/password"])
def test_anonymous_visitors_are_sent_to_sign_in(client, clinic, route):
    response = client.get(route.format(ref=clinic))
    assert response.status_code == 302
    assert "/staff/sign-in" in response.headers["Location"]
    assert "next=" in response.headers["Location"]


@pytest.mark.parametrize("who", list(EXPECTED))
def test_each_role_sees_what_it_may(client, clinic, who):
    assert sign_in(client, who).status_code == 303
    statuses = [client.get(route.format(ref=clinic)).status_code for route in ROUTES]
    assert statuses == EXPECTED[who]


@pytest.mark.parametrize(
    "who, reads_answers", [("admin", True), ("own", True), ("other", False), ("desk", False)]
)
def test_intake_answers_only_for_the_right_roles_and_every_reading_audited(
    client, clinic, who, reads_answers
):
    sign_in(client, who)
    before = audit_count("view_intake")

    response = client.get(f"/staff/consults/{clinic}")
    assert response.headers["Cache-Control"] == "no-store"  # health details: never cached
    page = unescape(response.text)

    assert "Urgent" in page  # everyone sees that a flag exists
    assert ("Sleeping badly since spring" in page) is reads_answers
    assert ("PHQ-9" in page) is reads_answers
    assert ("Thoughts that you would be better off dead" in page) is reads_answers
    assert audit_count("view_intake") == before + (1 if reads_answers else 0)
    if not reads_answers:
        assert "Only the consult's practitioner and admins can read the answers" in page


def test_the_urgent_alert_links_to_the_consult_page(client, clinic):
    """The email staff get about an urgent intake links to a page that exists."""
    alert = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "urgent_intake")
    ).first()
    [link] = re.findall(r"https?://\S+/staff/consults/\S+", compose(alert).text)
    path = "/staff/" + link.split("/staff/", 1)[1]
    sign_in(client, "own")
    page = client.get(path)
    assert page.status_code == 200 and "Sleeping badly since spring" in page.text


@pytest.mark.parametrize("page", ["/staff/password", "/staff/calendar", "/staff/availability"])
def test_every_staff_page_is_headed_with_the_clinics_name(client, clinic, page):
    sign_in(client, "admin")
    response = client.get(page)
    assert response.status_code == 200
    assert '<a class="brand" href="/">Test Clinic</a>' in response.text


def test_unknown_or_unconfirmed_consults_are_404(client, clinic):
    sign_in(client, "admin")
    assert client.get("/staff/consults/NOPE-NOPE").status_code == 404
    held, _ = services.hold_slot(
        None,
        factories.next_grid_time(days_ahead=4),
        ZoneInfo("UTC"),
        datetime.now(UTC),
        "clinic.test",
    )
    assert client.get(f"/staff/consults/{held.reference}").status_code == 404


def test_today_lists_todays_consults_with_urgent_marked(client, app):
    factories.clinic(timezone="UTC", min_notice_minutes=5)
    ada = factories.practitioner(name="Dr Ada Lane", email="ada@clinic.test")
    create_staff("desk@clinic.test", "frontdesk", PASSWORD)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if start.date() != datetime.now(UTC).date():
        pytest.skip("too close to midnight UTC for a consult later today")  # pragma: no cover
    today = factories.appointment(ada, start, urgent=True)
    later = factories.appointment(ada, start + timedelta(days=2))
    sign_in(client, "desk")
    page = client.get("/staff/").text
    assert "Pat Example" in page and "Urgent intake" in page
    assert f"/staff/consults/{today.reference}" in page
    assert f"/staff/consults/{later.reference}" not in page


# --- signing in and out ----------------------------------------------------------------------


def test_a_wrong_password_is_refused_plainly_and_audited(client, clinic):
    response = sign_in(client, "admin", password="not the password")
    assert response.status_code == 401
    assert "don't match an active staff account" in unescape(response.text)
    assert audit_count("sign_in_failed") == 1
    assert client.get("/staff/").status_code == 302


def test_a_disabled_account_cannot_sign_in_or_stay_signed_in(client, clinic):
    sign_in(client, "desk")
    assert client.get("/staff/").status_code == 200
    db.session.rollback()  # start a fresh transaction after the requests' writes
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "desk@clinic.test"))
    user.active = False
    db.session.commit()
    assert client.get("/staff/").status_code == 302  # the session no longer counts
    assert sign_in(client, "desk").status_code == 401


def test_repeated_failures_for_one_account_are_throttled(client, clinic):
    for _ in range(5):
        assert sign_in(client, "admin", password="wrong password!").status_code == 401
    blocked = sign_in(client, "admin")  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed sign-ins for this account" in blocked.text
    # Another account from the same address is unaffected.
    assert sign_in(client, "desk").status_code == 303


def test_sign_ins_from_one_address_are_throttled(database_url, backend):
    with running_app(database_url, backend, SIGN_IN_ADDRESS_LIMIT="3 per minute") as app:
        factories.clinic()
        client = app.test_client()
        statuses = [sign_in(client, f"nobody{i}@clinic.test").status_code for i in range(4)]
        assert statuses == [401, 401, 401, 429]


@pytest.mark.parametrize(
    "target, lands_on",
    [
        ("/staff/consults/{ref}", "/staff/consults/{ref}"),
        ("https://evil.example/staff/", "/staff/"),
        ("//evil.example/staff/", "/staff/"),
        ("/\\evil.example", "/staff/"),
        ("javascript:alert(1)", "/staff/"),
    ],
)
def test_next_only_leads_within_the_site(client, clinic, target, lands_on):
    response = sign_in(client, "admin", next_=target.format(ref=clinic))
    assert response.status_code == 303
    assert response.headers["Location"] == lands_on.format(ref=clinic)


def test_sign_out(client, clinic):
    sign_in(client, "admin")
    page = client.get("/staff/")
    response = client.post("/staff/sign-out", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert client.get("/staff/").status_code == 302


def test_signing_out_ends_the_session_even_for_a_copied_cookie(app, client, clinic):
    """A session cookie copied before sign-out (another tab, a stolen copy) stops working."""
    sign_in(client, "desk")
    copied = client.get_cookie("session").value
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(client.get("/staff/").text)})
    other = app.test_client()
    other.set_cookie("session", copied)
    response = other.get("/staff/")
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]
    assert audit_count("signed_out") == 1


def test_a_new_password_ends_the_accounts_other_sessions(app, client, clinic):
    laptop, phone = client, app.test_client()
    sign_in(laptop, "desk")
    sign_in(phone, "desk")
    page = laptop.get("/staff/password")
    new = "a much better passphrase"
    changed = laptop.post(
        "/staff/password",
        data={"csrf_token": csrf_token(page.text), "current": PASSWORD, "new": new, "repeat": new},
    )
    assert changed.status_code == 303
    assert laptop.get("/staff/").status_code == 200  # the browser that changed it stays in
    assert phone.get("/staff/").status_code == 302  # every other session has ended


def test_a_forged_or_missing_csrf_token_changes_nothing(client, clinic):
    response = client.post(
        "/staff/sign-in", data={"email": ACCOUNTS["admin"][0], "password": PASSWORD}
    )
    assert response.status_code == 400
    assert client.get("/staff/").status_code == 302
    assert audit_count("sign_in") == 0


def test_changing_the_password(client, clinic):
    sign_in(client, "desk")
    page = client.get("/staff/password")
    token = csrf_token(page.text)
    wrong = client.post(
        "/staff/password",
        data={"csrf_token": token, "current": "nope", "new": "a" * 12, "repeat": "a" * 12},
    )
    assert wrong.status_code == 422 and "current password isn't right" in unescape(wrong.text)
    mismatch = client.post(
        "/staff/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "a" * 12, "repeat": "b" * 12},
    )
    assert mismatch.status_code == 422 and "don't match" in unescape(mismatch.text)
    new = "a much better passphrase"
    done = client.post(
        "/staff/password",
        data={"csrf_token": token, "current": PASSWORD, "new": new, "repeat": new},
    )
    assert done.status_code == 303
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(client.get("/staff/").text)})
    assert sign_in(client, "desk").status_code == 401
    assert sign_in(client, "desk", password=new).status_code == 303
    assert audit_count("password_changed") == 1


# --- flask staff create --------------------------------------------------------------------


def test_staff_create_with_a_password(runner, clinic):
    result = runner.invoke(
        args=["staff", "create", "New@Clinic.test", "--role", "frontdesk", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "new@clinic.test"))
    assert user.role == "frontdesk"
    assert PASSWORD not in user.password_hash


def test_outside_the_tests_passwords_are_hashed_with_scrypt(client, app, monkeypatch):
    """The suite hashes cheaply (TestingConfig); production and development keep werkzeug's
    scrypt, for new passwords and for the hash an unknown email is checked against."""
    from clinic.accounts import services as accounts
    from config import DevelopmentConfig, ProductionConfig

    assert ProductionConfig.PASSWORD_HASH_METHOD == "scrypt"
    assert DevelopmentConfig.PASSWORD_HASH_METHOD == "scrypt"
    app.config["PASSWORD_HASH_METHOD"] = ProductionConfig.PASSWORD_HASH_METHOD
    factories.clinic()
    user = create_staff("desk@clinic.test", "frontdesk", PASSWORD)
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    checked = []
    check = accounts.check_password_hash

    def recording(stored: str, password: str) -> bool:
        checked.append(stored.split("$")[0])  # the method and its parameters
        return check(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", recording)

    assert sign_in(client, "desk").status_code == 303
    assert sign_in(app.test_client(), "nobody@clinic.test").status_code == 401
    assert checked == ["scrypt:32768:8:1", "scrypt:32768:8:1"]


def test_staff_create_prompts_for_the_password_when_none_is_given(runner, clinic):
    result = runner.invoke(
        args=["staff", "create", "prompted@clinic.test", "--role", "admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert PASSWORD not in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["x@clinic.test", "--role", "admin", "--password", "short"], "at least 12"),
        (["admin@clinic.test", "--role", "admin", "--password", PASSWORD], "already"),
        (["nobody@clinic.test", "--role", "practitioner", "--password", PASSWORD], "linked"),
        (["x@clinic.test", "--role", "owner", "--password", PASSWORD], "Invalid value"),
    ],
)
def test_staff_create_refuses_bad_accounts(runner, clinic, args, message):
    result = runner.invoke(args=["staff", "create", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_a_practitioner_account_is_linked_to_its_practitioner(clinic):
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "ada@clinic.test"))
    assert user.practitioner is not None and user.practitioner.name == "Dr Ada Lane"


def test_demo_seed_creates_staff_who_can_sign_in(runner, client, app):
    from clinic.demo import DEMO_PASSWORD

    result = runner.invoke(args=["demo", "seed"])
    assert "admin@riverbend.example" in result.output
    assert sign_in(client, "admin@riverbend.example", password=DEMO_PASSWORD).status_code == 303


def test_the_demo_urgent_intake_is_shared_and_its_alert_reaches_someone_who_can_sign_in(
    runner, app
):
    """The demo's flagged intake was shared with the practitioner (a blank consent would hide
    the answers), its alert is open, and the alerted practitioner has an account."""
    from clinic.core.models import IntakeAlert

    runner.invoke(args=["demo", "seed"])
    db.session.rollback()
    [alert] = db.session.scalars(sa.select(IntakeAlert)).all()
    appointment = alert.appointment
    assert (alert.kind, alert.is_open, appointment.urgent) == ("self_harm", True, True)
    assert appointment.intake.answers["consent_share"] == "yes"
    account = db.session.scalar(
        sa.select(StaffUser).where(StaffUser.practitioner_id == appointment.practitioner_id)
    )
    assert account is not None and account.active
