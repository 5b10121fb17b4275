"""The SMTP side of delivery: a message built with the standard library and sent by
Flask-Mail, over a connection that cannot hang."""

from __future__ import annotations

import contextlib
import smtplib

import flask_mail
from flask import current_app

# The server refused this one message; the connection is still good for the others.
MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


class Prepared(flask_mail.Message):
    """A message built with the standard library (``clinic.notify.mime``), sent by Flask-Mail.

    Flask-Mail cannot put ``method=`` on an alternative part, so the bytes are built
    elsewhere; Flask-Mail still checks the headers and does the SMTP conversation.
    """

    def __init__(self, email, recipient: str):
        super().__init__(
            subject=str(email["Subject"]), recipients=[recipient], sender=str(email["From"])
        )
        self.email = email

    def as_bytes(self) -> bytes:
        return self.email.as_bytes()


class Connection(flask_mail.Connection):
    """Flask-Mail's connection, with a timeout so a silent server cannot stall a worker."""

    def configure_host(self):
        timeout = current_app.config["MAIL_TIMEOUT"]
        smtp_class = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp_class(self.mail.server, self.mail.port, timeout=timeout)
        try:
            if self.mail.use_tls:
                host.starttls()
            if self.mail.username and self.mail.password:
                host.login(self.mail.username, self.mail.password)
        except BaseException:
            host.close()  # a refused STARTTLS or login must not leave the socket open
            raise
        return host

    def __exit__(self, exc_type, exc_value, tb) -> None:
        # The messages are already recorded; a failed QUIT changes nothing.
        with contextlib.suppress(OSError):
            super().__exit__(exc_type, exc_value, tb)
