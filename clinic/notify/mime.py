"""Email messages as MIME, built with the standard library (pure: no app, no I/O).

An invite follows RFC 6047 the way Gmail, Outlook and Apple Mail expect it::

    multipart/mixed
      multipart/alternative
        text/plain; charset=utf-8
        text/html; charset=utf-8
        text/calendar; charset=UTF-8; method=REQUEST   (no Content-Disposition)
      application/ics; name=invite.ics                (the same bytes, as an attachment)

The calendar travels base64-encoded, so its CRLF line ends and folding arrive untouched.
"""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime

from clinic.core.formatting import CONTROL_CATEGORIES

METHODS = frozenset({"REQUEST", "CANCEL"})


@dataclass(frozen=True)
class Mailbox:
    email: str
    name: str = ""


@dataclass(frozen=True)
class Invite:
    """A calendar to carry: its bytes and the iTIP METHOD written inside them."""

    calendar: bytes
    method: str


def one_line(value: str) -> str:
    """``value`` with control characters (CR, LF, tabs...) turned into single spaces.

    Header values are built from names people typed; a line break there could add headers.
    """
    cleaned = "".join(" " if unicodedata.category(c) in CONTROL_CATEGORIES else c for c in value)
    return " ".join(cleaned.split())


def _address(box: Mailbox) -> Address:
    username, _, domain = box.email.partition("@")
    # An internationalised domain travels as punycode (xn--...), as SMTP without SMTPUTF8 needs.
    domain = domain.encode("idna").decode("ascii")
    return Address(display_name=one_line(box.name), username=username, domain=domain)


def build_email(
    *,
    sender: Mailbox,
    recipient: Mailbox,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime,
    reply_to: str = "",
    invite: Invite | None = None,
) -> EmailMessage:
    """One message to one recipient: text and HTML, and the invite when there is one."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(sender)
    msg["To"] = _address(recipient)
    if reply_to:
        msg["Reply-To"] = one_line(reply_to)
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = one_line(message_id)
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if invite is not None:
        if invite.method not in METHODS:
            raise ValueError(f"an emailed invite is a REQUEST or a CANCEL, not {invite.method!r}")
        # typeshed narrows EmailMessage.attach to EmailMessage parts; the standard library takes
        # any Message, and this part is a plain one on purpose (see _calendar_part).
        msg.attach(_calendar_part(invite))  # type: ignore[arg-type]
        msg.make_mixed()
        msg.add_attachment(
            invite.calendar,
            maintype="application",
            subtype="ics",
            filename="invite.ics",
            params={"name": "invite.ics"},
        )
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]
    return msg


def _calendar_part(invite: Invite) -> Message:
    """The inline ``text/calendar`` alternative, with ``method=`` written as clients expect.

    A plain ``Message`` keeps its headers exactly as given; the modern API would write
    ``method="REQUEST"``, which RFC 2045 allows but some clients do not read.
    """
    part = Message()
    part["Content-Type"] = f'text/calendar; charset="UTF-8"; method={invite.method}'
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(invite.calendar).decode("ascii"))
    return part
