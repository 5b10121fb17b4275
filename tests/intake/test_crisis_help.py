"""The crisis help a patient sees for their country, and the follow-up promise with the
clinic's office hours filled in: on both databases, and the wording helpers on their own."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from clinic.core.extensions import db
from clinic.core.models import DEFAULT_CRISIS_TEXT, DEFAULT_FOLLOWUP_TEXT, CrisisLine
from clinic.intake.crisis_help import (
    OTHER_EMERGENCY,
    CrisisHelp,
    crisis_help,
    office_hours_text,
    response_time_text,
)
from clinic.intake.crisis_lines import BY_CODE
from tests.support import factories

OWN_TEXT = "Call the Riverside crisis line on 020 7946 0199, or 999 in an emergency."


@pytest.fixture
def clinic(app):
    return factories.clinic(timezone="Europe/London")


def test_a_listed_country_gets_its_built_in_lines(clinic):
    shown = crisis_help("GB")
    gb = BY_CODE["GB"]
    assert (shown.country, shown.country_name, shown.emergency, shown.text) == (
        "GB",
        "United Kingdom",
        "999",
        gb.text,
    )
    assert "Samaritans" in shown.text and "988" not in shown.text
    assert crisis_help("us").text == BY_CODE["US"].text  # codes in any case


def test_the_admins_own_text_wins_over_the_built_in(clinic):
    db.session.add(CrisisLine(country="GB", text=OWN_TEXT, updated_at=datetime.now(UTC)))
    db.session.commit()
    assert crisis_help("GB").text == OWN_TEXT
    assert crisis_help("GB").emergency == "999"
    assert crisis_help("IE").text == BY_CODE["IE"].text  # only the United Kingdom's changed


@pytest.mark.parametrize("country", ["", "FR", "fr", "ZZ", "other", "G", "\x00\x00"])
def test_any_other_country_gets_the_clinics_text(clinic, country):
    clinic.crisis_text = "Call 112, or go to your nearest emergency department."
    db.session.commit()
    shown = crisis_help(country)
    assert (shown.country, shown.country_name, shown.emergency, shown.text) == (
        "",
        "",
        OTHER_EMERGENCY,
        "Call 112, or go to your nearest emergency department.",
    )


def test_the_default_text_for_other_countries_is_not_the_us_one(clinic):
    assert crisis_help("").text == DEFAULT_CRISIS_TEXT
    assert "112" in DEFAULT_CRISIS_TEXT and "988" not in DEFAULT_CRISIS_TEXT


def test_the_follow_up_promise_is_filled_in(clinic):
    assert clinic.followup_text == DEFAULT_FOLLOWUP_TEXT
    shown = crisis_help("GB")
    assert isinstance(shown, CrisisHelp)
    assert "{" not in shown.followup and "}" not in shown.followup
    assert "aim to contact you within 2 office hours;" in shown.followup
    assert "in office hours, Monday to Friday, 9:00 to 17:00 (Europe/London), and" in (
        shown.followup
    )
    assert crisis_help("").followup == shown.followup  # the same promise wherever they are


def test_the_follow_up_follows_the_settings_and_keeps_other_braces(clinic):
    clinic.followup_text = "We reply within {response}; open {hours}. {name} {0} {response}"
    clinic.office_days = "5,6"
    clinic.office_opens, clinic.office_closes = time(8, 30), time(12)
    clinic.alert_escalate_minutes = 45
    clinic.timezone = "Australia/Sydney"
    db.session.commit()
    assert crisis_help("AU").followup == (
        "We reply within 45 minutes of office time; open Saturday and Sunday, 8:30 to 12:00 "
        "(Australia/Sydney). {name} {0} 45 minutes of office time"
    )


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ([0, 1, 2, 3, 4], "Monday to Friday"),
        ([4, 3, 2, 1, 0, 0], "Monday to Friday"),
        ([0], "Monday"),
        ([5, 6], "Saturday and Sunday"),
        ([0, 2, 4], "Monday, Wednesday and Friday"),
        ([0, 1, 2, 4], "Monday to Wednesday and Friday"),
        ([0, 1, 3, 4, 5], "Monday, Tuesday and Thursday to Saturday"),
        (range(7), "every day"),
    ],
)
def test_office_days_in_words(days, expected):
    assert office_hours_text(days, time(9), time(17), "UTC") == f"{expected}, 9:00 to 17:00 (UTC)"


def test_office_hours_without_days_still_give_the_times():
    assert office_hours_text([], time(7, 5), time(23, 59), "Asia/Tokyo") == (
        "7:05 to 23:59 (Asia/Tokyo)"
    )


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (120, "2 office hours"),
        (60, "1 office hour"),
        (1440, "24 office hours"),
        (15, "15 minutes of office time"),
        (90, "1 hour 30 minutes of office time"),
        (121, "2 hours 1 minute of office time"),
    ],
)
def test_response_times_in_words(minutes, expected):
    assert response_time_text(minutes) == expected
