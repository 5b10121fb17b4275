"""Built-in crisis resources by country, and the country a time zone is in.

Pure: standard library only, no Flask or database. An admin's own text for a country (the
``CrisisLine`` table) and the clinic's text for every other country (``ClinicSettings.
crisis_text``) are applied on top of this by ``clinic.intake.crisis_help``.

Countries are ISO 3166 alpha-2 codes. The empty code "" stands for "another country" (and for
a patient who has not chosen): it fits ``IntakeResponse.country``, whose "" already means
"not chosen yet", and both get the clinic's own text for other countries.

Zones map to countries through the IANA time zone database shipped by the ``tzdata`` package
(``zone.tab``, which names one country per zone, and the links in ``tzdata.zi``), read once,
on first use. An old or alias name ("US/Eastern", "Asia/Calcutta") counts only when every
country whose zones share its target is the same one: "GB" is Europe/London, which Guernsey,
Jersey and the Isle of Man share, so it gives "" rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class CountryLines:
    """A country's emergency number and crisis lines, in words a patient can act on."""

    code: str  # ISO 3166 alpha-2, upper case
    name: str  # as it reads after "in the": "United Kingdom"; see ``place``
    emergency: str  # what to dial in an emergency, e.g. "999" or "112 or 999"
    text: str  # one or two sentences naming the national crisis lines

    @property
    def place(self) -> str:
        """The name as it reads in a sentence: "the United Kingdom", "Canada"."""
        return f"the {self.name}" if self.name.startswith("United") else self.name


# Ordered by name, as a patient scans a list. Every number here was checked against the
# service's own published number; change one only from the same kind of source.
COUNTRIES: tuple[CountryLines, ...] = (
    CountryLines(
        "AU",
        "Australia",
        "000",
        "Call Lifeline on 13 11 14 or text 0477 13 11 14. In an emergency, call 000.",
    ),
    CountryLines(
        "CA",
        "Canada",
        "911",
        "Call or text 988 to reach the Suicide Crisis Helpline. In an emergency, call 911.",
    ),
    CountryLines(
        "IE",
        "Ireland",
        "112 or 999",
        "Call Samaritans free on 116 123, 24 hours a day, or text HELLO to 50808. "
        "In an emergency, call 112 or 999.",
    ),
    CountryLines(
        "NZ",
        "New Zealand",
        "111",
        "Call or text 1737 to talk with a trained counsellor, or call Lifeline on "
        "0800 543 354. In an emergency, call 111.",
    ),
    CountryLines(
        "GB",
        "United Kingdom",
        "999",
        "Call Samaritans free on 116 123, 24 hours a day, or text SHOUT to 85258. For urgent "
        "mental health help call NHS 111 (in England, choose option 2); in an emergency, "
        "call 999.",
    ),
    CountryLines(
        "US",
        "United States",
        "911",
        "Call or text 988 to reach the 988 Suicide & Crisis Lifeline. In an emergency, call 911.",
    ),
)
BY_CODE: dict[str, CountryLines] = {c.code: c for c in COUNTRIES}
ANOTHER_COUNTRY = ""  # the value of "Another country" in ``country_choices``


def lines_for(code: str) -> CountryLines | None:
    """The built-in entry for ``code`` (any case), or None for another country."""
    return BY_CODE.get(code.strip().upper()) if isinstance(code, str) else None


def country_choices() -> tuple[tuple[str, str], ...]:
    """(value, label) pairs for a select: each listed country, then "Another country" ("")."""
    return (*((c.code, c.name) for c in COUNTRIES), (ANOTHER_COUNTRY, "Another country"))


def country_for_zone(zone_name: str) -> str:
    """The ISO code of the country an IANA zone is in ("Europe/London" -> "GB"), or "" when
    the zone is unknown, not in one country (UTC) or shared by several (see above)."""
    return _zone_countries().get(zone_name, "") if isinstance(zone_name, str) else ""


@cache
def _zone_countries() -> dict[str, str]:
    """{zone or link name: country}, built once. Empty without the tzdata package, so that a
    missing data file leaves patients choosing their country themselves rather than failing."""
    try:
        data = resources.files("tzdata.zoneinfo")
        zone_tab = data.joinpath("zone.tab").read_text(encoding="utf-8")
        zic = data.joinpath("tzdata.zi").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    countries = {}
    for line in zone_tab.splitlines():
        fields = line.split("\t")
        if not line.startswith("#") and len(fields) >= 3:
            countries[fields[2]] = fields[0]
    links = {}
    for line in zic.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] in ("L", "Link"):
            links[fields[2]] = fields[1]
    sharing: dict[str, set[str]] = {}  # final zone: the countries of the zones that name it
    for zone, code in countries.items():
        sharing.setdefault(_resolve(zone, links), set()).add(code)
    for link in links.keys() - countries.keys():
        found = sharing.get(_resolve(link, links), set())
        if len(found) == 1:
            countries[link] = next(iter(found))
    return countries


def _resolve(name: str, links: dict[str, str]) -> str:
    """The zone a link finally names (tzdata.zi links name zones; a chain would be short)."""
    for _ in range(8):
        if name not in links:
            break
        name = links[name]
    return name
