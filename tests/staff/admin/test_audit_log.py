"""The audit log page (admins only): newest first, filters by action and staff member."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import StaffUser
from clinic.staff.admin import audit_log
from tests.support.records import rows
from tests.support.staff import seed_staff_clinic, sign_in


@pytest.fixture
def admin(client, app):
    """Signed in as the admin, after the patient's three intake saves and five sign-in events,
    one every way (oldest first)."""
    seed_staff_clinic()
    assert sign_in(app.test_client(), "nobody@clinic.test", "wrong password!").status_code == 401
    assert sign_in(app.test_client(), "desk", "wrong password!").status_code == 401
    assert sign_in(app.test_client(), "desk").status_code == 303
    assert sign_in(app.test_client(), "own").status_code == 303
    assert sign_in(client, "admin").status_code == 303
    return client


def staff_id(email: str) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email))


def events(response) -> list[list[str]]:
    """The table's rows as lists of cell texts (when, who, action, subject, address, detail)."""
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", rows(response), re.S)
    ]


def test_the_log_shows_who_did_what_newest_first(admin):
    response = admin.get("/staff/audit")
    assert response.status_code == 200
    table = events(response)
    assert [(who, action) for _, who, action, *_ in table] == [
        ("admin@clinic.test", "sign in"),
        ("ada@clinic.test", "sign in"),
        ("desk@clinic.test", "sign in"),
        ("desk@clinic.test", "sign in failed"),
        ("unknown", "sign in failed"),
        *[("the patient", "intake saved")] * 3,
    ]
    saves = [(subject, detail) for _, _, _, subject, _, detail in table[5:]]
    assert [detail for _, detail in saves] == [
        "revision 3",
        "revision 2",
        "revision 1",
    ]
    assert all(subject.startswith("consult ") for subject, _ in saves)
    unknown = table[4]
    assert unknown[3] == "nobody@clinic.test"  # the subject holds the email that was tried
    assert unknown[4] == "127.0.0.1"
    assert unknown[5] == "wrong email or password"
    assert re.search(r"\d{4}, \d{1,2}:\d\d [AP]M E[SD]T$", unknown[0])  # New York time


def test_filter_by_action(admin):
    failed = events(admin.get("/staff/audit?action=sign_in_failed"))
    assert [action for _, _, action, *_ in failed] == ["sign in failed"] * 2


def test_filter_by_staff_member(admin):
    desk = events(admin.get(f"/staff/audit?staff={staff_id('desk@clinic.test')}"))
    assert {who for _, who, *_ in desk} == {"desk@clinic.test"} and len(desk) == 2
    unknown = events(admin.get("/staff/audit?staff=unknown"))
    assert [(who, action) for _, who, action, *_ in unknown] == [
        ("unknown", "sign in failed"),
        *[("the patient", "intake saved")] * 3,
    ]
    assert unknown[0][3] == "nobody@clinic.test"
    both = events(admin.get(f"/staff/audit?staff={staff_id('desk@clinic.test')}&action=sign_in"))
    assert [(who, action) for _, who, action, *_ in both] == [("desk@clinic.test", "sign in")]


def test_the_log_pages(admin, monkeypatch):
    monkeypatch.setattr(audit_log, "PER_PAGE", 2)
    first = admin.get("/staff/audit")
    assert "Events 1 to 2 of 8." in first.text
    link = unescape(re.search(r'href="([^"]+)">Next page', first.text).group(1))
    assert "action=any" in link and "staff=any" in link
    third = admin.get("/staff/audit?page=3")
    assert [who for _, who, *_ in events(third)] == ["unknown", "the patient"]
    last = admin.get("/staff/audit?page=4")
    assert [who for _, who, *_ in events(last)] == ["the patient"] * 2
    assert "Next page" not in last.text


@pytest.mark.parametrize(
    "query, message",
    [
        ("action=dance", "There is no such action in the log."),
        ("staff=999", "There is no such staff member."),
        ("staff=desk", "There is no such staff member."),
        ("page=x", "The page must be a whole number"),
    ],
)
def test_bad_filters_are_refused(admin, query, message):
    response = admin.get(f"/staff/audit?{query}")
    assert response.status_code == 422
    assert message in unescape(response.text)
    assert events(response) == []


@pytest.mark.parametrize("who", ["desk", "own"])
def test_only_admins_read_the_log(client, app, who):
    seed_staff_clinic()
    sign_in(client, who)
    assert client.get("/staff/audit").status_code == 403
