"""The admin's crisis lines page: each country's text, built-in or the clinic's own, and the
text for every other country.

Each change is audited by place (never the text), a bad text is refused with 422 and a message
beside its box with nothing changed, and only admins may look or change. What is saved is what
``crisis_help`` gives the intake pages.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import DEFAULT_CRISIS_TEXT, AuditEvent, ClinicSettings, CrisisLine
from clinic.intake.crisis_help import crisis_help
from clinic.intake.crisis_lines import BY_CODE, COUNTRIES
from clinic.setup.changes import SETTINGS_FIELDS
from tests.support.apps import csrf_token
from tests.support.staff import audit_count, sign_in
from tests.support.staff_settings import error_beside, form_of, seed

PAGE = "/staff/settings/crisis-lines"
OWN_GB = "Call the Riverside crisis line on 020 7946 0199, day or night, or 999 in an emergency."
OWN_OTHER = "Call 112, or the Riverside line on +44 20 7946 0199."
REQUIRED = "Please give the crisis text: patients whose answers signal a risk see it."
PRINTABLE = "Please use letters, numbers and ordinary punctuation only."


@pytest.fixture
def admin(client):
    seed()
    assert sign_in(client, "admin").status_code == 303
    return client


def stored() -> tuple[dict[str, str], str]:
    """Every country's own text as stored now, and the text for other countries."""
    db.session.rollback()
    own = dict(db.session.execute(sa.select(CrisisLine.country, CrisisLine.text)).all())
    return own, db.session.get(ClinicSettings, 1).crisis_text


def audits() -> list[tuple[str, str]]:
    db.session.rollback()
    rows = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "crisis_line_changed")
        .order_by(AuditEvent.id)
    )
    return [(event.subject, event.detail) for event in rows]


def save(client, place: str, text: str | None = None, **extra):
    data = {"csrf_token": csrf_token(client.get(PAGE).text), **extra}
    if text is not None:
        data["text"] = text
    return client.post(f"{PAGE}/{place}", data=data)


def section(page: str, place: str) -> str:
    """The part of the page about one place."""
    start = page.index(f'<section id="{place}"')
    return unescape(page[start : page.index("</section>", start)])


def test_the_page_lists_every_country_with_what_patients_there_see(admin):
    page = admin.get(PAGE)
    assert page.status_code == 200
    for country in COUNTRIES:
        part = section(page.text, country.code.lower())
        assert f'<h2 id="{country.code.lower()}-title">{country.name}</h2>' in part
        assert f"Emergency number: {country.emergency}." in part
        assert "now see the built-in text." in part
        assert country.text in part  # in its text box, ready to change
        assert f'<label for="{country.code.lower()}-text">' in part
        assert "Use the built-in text" not in part  # nothing to go back from
    other = section(page.text, "other")
    assert DEFAULT_CRISIS_TEXT in other and "now see the built-in text." in other
    assert 'aria-current="page">Crisis lines</a>' in page.text  # in the settings navigation
    assert f'href="{PAGE}"' in admin.get("/staff/settings").text


def test_the_admin_writes_the_uk_text_and_uk_patients_see_it(admin):
    response = save(admin, "gb", f"  {OWN_GB}\r\n")

    assert response.status_code == 303
    assert response.headers["Location"] == f"{PAGE}#gb"
    assert stored() == ({"GB": OWN_GB}, DEFAULT_CRISIS_TEXT)
    assert audits() == [("GB", "the clinic's own text")]
    page = admin.get(PAGE).text
    assert "The text for patients in the United Kingdom was saved." in unescape(page)
    part = section(page, "gb")
    assert "now see the clinic's own text, saved" in part
    assert OWN_GB in part and BY_CODE["GB"].text in part  # the built-in, to compare
    # The button's full name says which country, as every country has one.
    button = re.search(r"<button[^>]*>Use the built-in text(.*?)</button>", part, re.S)
    assert button and "for United Kingdom" in re.sub(r"<[^>]+>", "", button.group(1))
    assert "now see the built-in text." in section(page, "ie")  # only the UK changed
    db.session.rollback()
    assert crisis_help("GB").text == OWN_GB
    assert crisis_help("IE").text == BY_CODE["IE"].text


def test_going_back_to_the_built_in_text(admin):
    assert save(admin, "gb", OWN_GB).status_code == 303

    response = save(admin, "gb", "whatever the box holds", use_builtin="y")

    assert response.status_code == 303
    assert stored() == ({}, DEFAULT_CRISIS_TEXT)
    assert audits() == [("GB", "the clinic's own text"), ("GB", "the built-in text")]
    page = unescape(admin.get(PAGE).text)
    assert "Patients in the United Kingdom now see the built-in text." in page
    db.session.rollback()
    assert crisis_help("GB").text == BY_CODE["GB"].text
    # Again: nothing to change, nothing audited.
    assert save(admin, "gb", use_builtin="y").status_code == 303
    assert "Nothing changed." in admin.get(PAGE).text
    assert len(audits()) == 2


def test_saving_the_text_as_shown_changes_nothing(admin):
    form = form_of(admin, PAGE)  # the last form's values: other countries'
    assert form["text"] == DEFAULT_CRISIS_TEXT
    assert save(admin, "gb", BY_CODE["GB"].text).status_code == 303
    assert save(admin, "other", DEFAULT_CRISIS_TEXT).status_code == 303
    assert stored() == ({}, DEFAULT_CRISIS_TEXT)
    assert audits() == []
    assert "Nothing changed." in admin.get(PAGE).text


def test_writing_the_built_in_text_back_is_going_back_to_it(admin):
    assert save(admin, "au", "Call the clinic's line on 1800 000 000.").status_code == 303
    assert save(admin, "au", BY_CODE["AU"].text).status_code == 303
    assert stored() == ({}, DEFAULT_CRISIS_TEXT)
    assert audits() == [("AU", "the clinic's own text"), ("AU", "the built-in text")]


def test_changing_a_changed_text_keeps_one_row(admin):
    assert save(admin, "nz", "First text: call 1737.").status_code == 303
    assert save(admin, "nz", "Second text: call 1737 or 111.").status_code == 303
    assert stored() == ({"NZ": "Second text: call 1737 or 111."}, DEFAULT_CRISIS_TEXT)
    assert len(audits()) == 2


def test_the_text_for_other_countries(admin):
    assert save(admin, "other", OWN_OTHER).status_code == 303
    assert stored() == ({}, OWN_OTHER)
    assert audits() == [("other countries", "the clinic's own text")]
    page = unescape(admin.get(PAGE).text)
    assert "The text for patients in other countries was saved." in page
    db.session.rollback()
    assert crisis_help("FR").text == OWN_OTHER
    assert crisis_help("").text == OWN_OTHER
    assert crisis_help("GB").text == BY_CODE["GB"].text

    assert save(admin, "other", use_builtin="y").status_code == 303
    assert stored() == ({}, DEFAULT_CRISIS_TEXT)
    assert audits()[-1] == ("other countries", "the built-in text")


def test_the_crisis_text_has_left_the_main_settings_page(admin):
    assert "crisis_text" not in SETTINGS_FIELDS
    assert "crisis_text" not in form_of(admin, "/staff/settings")
    assert save(admin, "other", OWN_OTHER).status_code == 303
    # Saving the main settings leaves it alone.
    assert admin.post("/staff/settings", data=form_of(admin, "/staff/settings")).status_code == 303
    assert stored()[1] == OWN_OTHER


# (place, text sent, the message beside the box)
BAD = [
    ("gb", None, REQUIRED),
    ("gb", "", REQUIRED),
    ("gb", " \r\n\t ", REQUIRED),
    ("gb", "Call 999\x00", PRINTABLE),
    ("gb", "Call \x1b[31m999", PRINTABLE),
    ("gb", "Call 999\u202e", PRINTABLE),
    ("gb", "x" * 1001, "Please keep the crisis text under 1000 characters."),
    ("us", "\x07", PRINTABLE),
    ("other", "  ", REQUIRED),
    ("other", "Call\x0b112", PRINTABLE),
    ("other", "x" * 2001, "Please keep the crisis text under 2000 characters."),
]


def test_every_bad_text_is_refused_beside_its_box_and_nothing_changes(admin):
    assert save(admin, "ie", "Call Samaritans on 116 123.").status_code == 303
    before, count = stored(), len(audits())
    seen, expected = {}, {}
    for place, text, message in BAD:
        response = save(admin, place, text)
        case = f"{place}: {text!r}"[:60]
        seen[case] = (
            response.status_code,
            error_beside(response, f"{place}-text", message),
            "Nothing was saved." in response.text,
        )
        expected[case] = (422, True, True)
    assert seen == expected
    assert stored() == before
    assert len(audits()) == count


def test_the_longest_texts_allowed_are_saved(admin):
    assert save(admin, "gb", "9" * 1000).status_code == 303
    assert save(admin, "other", "1" * 2000).status_code == 303
    assert stored() == ({"GB": "9" * 1000}, "1" * 2000)


@pytest.mark.parametrize("place", ["fr", "GB", "zz", "others", "g", "gb%00"])
def test_a_place_not_on_the_page_is_not_found(admin, place):
    before = stored()
    assert save(admin, place, OWN_GB).status_code == 404
    assert save(admin, place, use_builtin="y").status_code == 404
    assert stored() == before
    assert audits() == []


def test_a_missing_or_forged_csrf_token_changes_nothing(admin):
    token = csrf_token(admin.get(PAGE).text)
    assert admin.post(f"{PAGE}/gb", data={"text": OWN_GB}).status_code == 400
    forged = {"text": OWN_GB, "csrf_token": "x" + token[1:]}
    assert admin.post(f"{PAGE}/gb", data=forged).status_code == 400
    assert admin.post(f"{PAGE}/other", data={"use_builtin": "y"}).status_code == 400
    assert stored() == ({}, DEFAULT_CRISIS_TEXT)
    assert audits() == []


@pytest.mark.parametrize("who", ["anonymous", "desk", "own"])
def test_only_admins_may_look_or_change(client, who):
    seed()
    if who != "anonymous":
        assert sign_in(client, who).status_code == 303
    token = csrf_token(client.get("/staff/sign-in" if who == "anonymous" else "/staff/").text)
    expected = 302 if who == "anonymous" else 403
    responses = [
        client.get(PAGE),
        client.post(f"{PAGE}/gb", data={"csrf_token": token, "text": OWN_GB}),
        client.post(f"{PAGE}/other", data={"csrf_token": token, "text": OWN_OTHER}),
        client.post(f"{PAGE}/us", data={"csrf_token": token, "use_builtin": "y"}),
    ]
    assert [r.status_code for r in responses] == [expected] * 4
    if who == "anonymous":
        assert all("/staff/sign-in" in r.headers["Location"] for r in responses)
    else:
        assert f'href="{PAGE}"' not in client.get("/staff/").text
    assert stored() == ({}, DEFAULT_CRISIS_TEXT)
    assert audit_count("crisis_line_changed") == 0
