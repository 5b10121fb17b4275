"""The one base of the site's own refusals: what went wrong, in words a person can act on.

``status`` is the HTTP status a page or the API answers with when the refusal reaches it;
``field`` names the form field the message belongs beside, when there is one.
"""

from __future__ import annotations


class ClinicError(Exception):
    status: int = 400
    field: str | None = None

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        if field is not None:
            self.field = field
