"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the tests.

It can be stopped and started again on the same port (an outage), made to refuse mail
with a temporary error, to hang up in the middle of a message, or to stall past the client's
timeout.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from functools import cached_property

from aiosmtpd.controller import Controller

from tests.support.servers import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    at: float = field(default_factory=time.monotonic, compare=False)  # when it arrived

    @cached_property
    def message(self) -> EmailMessage:
        """The whole message, parsed once (tests waiting for mail ask again and again)."""
        return email.message_from_bytes(self.data, policy=email.policy.default)

    @cached_property
    def message_id(self) -> str:
        """The Message-ID header, read without parsing the body."""
        return str(
            BytesHeaderParser(policy=email.policy.default).parsebytes(self.data)["Message-ID"]
        )


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        if self.sink.drop:  # hang up mid-conversation, as a crashing server or network would
            server.transport.abort()
            return "421 4.3.2 Connection dropped"  # never reaches the client
        if self.sink.refuse:
            return "451 4.3.0 Mail server temporarily rejecting messages"
        if self.sink.stall_seconds:
            await asyncio.sleep(self.sink.stall_seconds)
        with self.sink.lock:
            self.sink.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content)
            )
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.refuse = False
        self.drop = False
        self.stall_seconds = 0.0
        self._controller: Controller | None = None

    def start(self) -> SmtpSink:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]

    def config(self) -> dict:
        """App settings that send through this server."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_TIMEOUT": 5}
