"""Hypothesis strategies for what a hostile or careless client may send in a form.

A form's fields come from the page itself (``hostile_support.Form``); each field is then sent
as the page offered it, as a hostile value, twice, or not at all, and unknown fields are added.
Some bodies carry bytes that are not UTF-8 (a lone surrogate as CESU-8, an overlong NUL): the
test client cannot encode a lone surrogate in text, so those go as raw percent escapes.
"""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import strategies as st

XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
ADVERSARIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n\t",
    "\x1b[31m",
    "\u202eevil\u202c",  # right-to-left override
    "\u200b",
    "\ufeff",
    "🙂" * 40,
    "👩🏽‍⚕️",
    "x" * 5000,
    "é" * 300,
    XSS,
    '=HYPERLINK("http://x")',
    "' OR 1=1 --",
    "{reference}{{7*7}}",
    "../../etc/passwd",
    "-1",
    "0",
    "00",
    "+7",
    "1e309",
    "NaN",
    "99999999999999999999999",
    "٣",  # an Arabic-Indic digit: int() takes it
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "0001-01-01T00:00:00-12:00",
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59-12:00",  # after year 9999 in UTC
    "9999-12-31T23:59:59Z",
    "2026-02-30",
    "2026-13-01",
    "24:00",
    "23:60",
    "-00:01",
    "any",
    "all",
    "Etc/GMT+12",
    "America/New_York\x00",
]
# Percent escapes that decode to bytes which are not UTF-8.
RAW_BYTES = ["%ED%A0%80", "%FF%FE", "%C0%80", "a%00b", "%E2%80"]

text = st.one_of(
    st.sampled_from(ADVERSARIAL),
    st.text(max_size=60),
    st.text(st.characters(codec="utf-8"), max_size=300),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
)
field_name = st.one_of(
    st.sampled_from(["csrf_token2", "id", "status", "role", "__proto__", "a[]", ""]),
    st.text(min_size=1, max_size=20),
)


@st.composite
def form_body(draw, fields: dict[str, list[str]], keep: frozenset[str] = frozenset()):
    """(pairs, raw): the fields to send in order (duplicates allowed), and which of them go as
    raw, non-UTF-8 bytes instead of text.

    Half the bodies change one field and send the rest as a browser would (the last value
    offered, which the tests make a valid one), so refusals of each field and the services
    behind a valid form are reached; the others mix every field at random."""
    changeable = [name for name in fields if name not in keep]
    one = draw(st.booleans()) and changeable
    target = draw(st.sampled_from(changeable)) if one else None
    pairs: list[tuple[str, str]] = []
    raw: dict[int, str] = {}
    for name, offered in fields.items():
        if name in keep or (one and name != target):
            pairs.append((name, offered[-1]))
            continue
        how = draw(st.sampled_from(["offered", "hostile", "hostile", "twice", "absent", "raw"]))
        if how == "offered":
            pairs.append((name, draw(st.sampled_from(offered))))
        elif how == "hostile":
            pairs.append((name, draw(text)))
        elif how == "twice":
            pairs += [(name, draw(st.sampled_from(offered))), (name, draw(text))]
        elif how == "raw":
            raw[len(pairs)] = draw(st.sampled_from(RAW_BYTES))
            pairs.append((name, ""))
    for _ in range(draw(st.integers(0, 2))):
        pairs.append((draw(field_name), draw(text)))
    return pairs, raw


def sweep(fields: dict[str, list[str]], keep: frozenset[str] = frozenset()):
    """Bodies with every field but ``keep`` set to one adversarial value (or raw bytes)."""
    for value in ADVERSARIAL:
        yield [(n, o[-1] if n in keep else value) for n, o in fields.items()], {}
    for value in RAW_BYTES:
        pairs = [(n, o[-1] if n in keep else "") for n, o in fields.items()]
        yield pairs, {i: value for i, (n, _) in enumerate(pairs) if n not in keep}


def encode(pairs: list[tuple[str, str]], raw: dict[int, str]) -> bytes:
    """An application/x-www-form-urlencoded body, raw escapes left as they are."""
    parts = []
    for i, (name, value) in enumerate(pairs):
        encoded = raw.get(i, quote(value.encode("utf-8", "surrogatepass"), safe=""))
        parts.append(f"{quote(name.encode('utf-8', 'surrogatepass'), safe='')}={encoded}")
    return "&".join(parts).encode("ascii")
