"""Filling in the intake over HTTP: calm answers for a section, posting it, reading its panels."""

from __future__ import annotations

import re
from html import unescape

from clinic.intake.questionnaire import (
    Section,
)
from tests.support.apps import csrf_token


def calm(part: Section) -> dict[str, str | list[str]]:
    """A valid form for every question of ``part`` that signals no risk (and raises no flag):
    sharing agreed, in the United Kingdom, an adult, item 9 "Not at all", no to the ASQ."""
    form: dict[str, str | list[str]] = {}
    for q in part.questions:
        if q.id == "country":
            form[q.id] = "GB"
        elif q.id == "age_band":
            form[q.id] = "35_44"
        elif q.kind == "scale":
            form[q.id] = q.choices[0].value  # the lowest score
        elif q.kind == "choice":
            form[q.id] = q.choices[0].value
        elif q.kind == "yesno":
            form[q.id] = "yes" if q.id == "consent_share" else "no"
        elif q.kind == "multi":
            form[q.id] = [q.choices[-1].value]  # "Something else", "None of these"
        elif q.kind == "number":
            assert q.min is not None
            form[q.id] = str(q.min)
        else:
            form[q.id] = f"Answer to {q.id}"
    return form


def post(client, token, section_id, answers, action="next", csrf: str | None = None):
    """POST a part as the browser would (the token from the page itself unless given)."""
    data = dict(answers)
    data["csrf_token"] = csrf or csrf_for(client, token, section_id)
    data["action"] = action
    return client.post(f"/intake/{token}/{section_id}", data=data)


def panel(html: str, kind: str) -> tuple[bool, str]:
    """(shown, text) of the page's panel of this kind ("emergency", "self_harm", ...)."""
    match = re.search(rf'<section id="alert-{kind}"([^>]*)>(.*?)</section>', html, re.S)
    assert match, f"the page has no {kind} panel"
    shown = re.search(r"\shidden(\s|=|$)", match.group(1)) is None
    return shown, text_of(match.group(2))


def csrf_for(client, token: str, section_id: str = "goals") -> str:
    return csrf_token(client.get(f"/intake/{token}/{section_id}").text)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
