"""Reading the staff settings forms back: their values, and the error shown beside a field."""

from __future__ import annotations

from html.parser import HTMLParser

import sqlalchemy as sa
from markupsafe import escape

from clinic.core.extensions import db
from clinic.core.models import (
    ClinicSettings,
    Practitioner,
)
from tests.support.staff import seed_staff_clinic


def seed() -> None:
    """The staff clinic (Dr Ada has a consult in 3 days at 15:00 UTC), its addresses moved
    from the reserved .test domain, which the forms refuse as undeliverable, to .example."""
    seed_staff_clinic()
    db.session.get(ClinicSettings, 1).contact_email = "hello@clinic.example"
    for person in db.session.scalars(sa.select(Practitioner)):
        person.email = person.email.replace(".test", ".example")
    db.session.commit()


def form_of(client, url: str) -> dict[str, str | list[str]]:
    page = client.get(url)
    assert page.status_code == 200, url
    return FormValues(page.text).values


def error_beside(response, field: str, message: str) -> bool:
    return f'<p class="error" id="{field}-error">{escape(message)}</p>' in response.text


class FormValues(HTMLParser):
    """What a browser would send for a page's form: fields, ticked boxes, chosen options.
    Boxes ticked under one name (the office days) give the list of their values."""

    def __init__(self, html: str):
        super().__init__()
        self.values: dict[str, str | list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") == "checkbox" and "checked" in a:
            value = a.get("value") or ""
            before = self.values.get(name)
            self.values[name] = value if before is None else [*_as_list(before), value]
        elif tag == "input" and name and a.get("type") != "checkbox":
            self.values[name] = a.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a["value"]
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # Browsers drop the newline that starts a text area's content.
            text = self.values[self._textarea]
            self.values[self._textarea] = text.removeprefix("\r\n").removeprefix("\n")
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]
