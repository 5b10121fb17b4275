"""The built-in crisis lines and the zone-to-country map, tested without an app."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from clinic.intake import crisis_lines
from clinic.intake.crisis_lines import (
    BY_CODE,
    COUNTRIES,
    country_choices,
    country_for_zone,
    lines_for,
)

MODULE = Path(crisis_lines.__file__)


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/London", "GB"),
        ("America/New_York", "US"),
        ("America/Los_Angeles", "US"),
        ("America/Toronto", "CA"),
        ("America/Vancouver", "CA"),
        ("Europe/Dublin", "IE"),
        ("Australia/Sydney", "AU"),
        ("Australia/Perth", "AU"),
        ("Pacific/Auckland", "NZ"),
        ("Europe/Paris", "FR"),
        ("Asia/Tokyo", "JP"),
        # Old names that browsers still report, through the database's links.
        ("US/Eastern", "US"),
        ("America/Indianapolis", "US"),
        ("Asia/Calcutta", "IN"),
        ("Eire", "IE"),
        # Europe/London is also Guernsey's, Jersey's and the Isle of Man's: no guess.
        ("GB", ""),
        ("UTC", ""),
        ("Etc/UTC", ""),
        ("Etc/GMT+5", ""),
        ("Mars/Olympus_Mons", ""),
        ("europe/london", ""),
        ("", ""),
        ("Europe/London\x00", ""),
    ],
)
def test_the_country_of_a_zone(zone, country):
    assert country_for_zone(zone) == country


def test_a_zone_that_is_not_text_has_no_country():
    assert country_for_zone(None) == ""  # type: ignore[arg-type]
    assert country_for_zone(["Europe/London"]) == ""  # type: ignore[arg-type]


def test_every_listed_country_has_an_emergency_number_and_its_lines():
    assert {c.code for c in COUNTRIES} >= {"US", "CA", "GB", "IE", "AU", "NZ"}
    for country in COUNTRIES:
        assert re.fullmatch(r"[A-Z]{2}", country.code), country
        assert country.name.strip(), country
        assert re.search(r"\d{3}", country.emergency), country
        assert country.text.strip(), country
        # The text stands on its own: it names the emergency number too.
        assert all(number in country.text for number in country.emergency.split(" or ")), country
    assert len(BY_CODE) == len(COUNTRIES)  # no code listed twice


@pytest.mark.parametrize(
    ("code", "emergency", "numbers"),
    [
        ("US", "911", ["988", "911", "Suicide & Crisis Lifeline"]),
        ("CA", "911", ["988", "911", "Suicide Crisis Helpline"]),
        ("GB", "999", ["999", "111", "option 2", "Samaritans", "116 123", "SHOUT", "85258"]),
        ("IE", "112 or 999", ["112", "999", "Samaritans", "116 123", "HELLO", "50808"]),
        ("AU", "000", ["000", "Lifeline", "13 11 14", "0477 13 11 14"]),
        ("NZ", "111", ["111", "1737", "Lifeline", "0800 543 354"]),
    ],
)
def test_each_countrys_own_numbers(code, emergency, numbers):
    country = BY_CODE[code]
    assert country.emergency == emergency
    assert [n for n in numbers if n not in country.text] == []


def test_the_us_text_is_only_for_the_us():
    others = [c for c in COUNTRIES if c.code not in ("US", "CA")]
    assert [c.code for c in others if "988" in c.text or "911" in c.text] == []


def test_lines_for_a_code_in_any_case_or_none():
    assert lines_for("gb") is BY_CODE["GB"]
    assert lines_for(" US ") is BY_CODE["US"]
    assert lines_for("FR") is None
    assert lines_for("") is None
    assert lines_for(None) is None  # type: ignore[arg-type]


def test_the_choices_list_every_country_then_another_country():
    choices = country_choices()
    assert choices[:-1] == tuple((c.code, c.name) for c in COUNTRIES)
    assert choices[-1] == ("", "Another country")
    names = [name for _, name in choices[:-1]]
    assert names == sorted(names)


def test_place_reads_in_a_sentence():
    assert BY_CODE["GB"].place == "the United Kingdom"
    assert BY_CODE["CA"].place == "Canada"


def test_the_module_imports_only_the_standard_library():
    imported = set()
    for node in ast.walk(ast.parse(MODULE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names} == set()
