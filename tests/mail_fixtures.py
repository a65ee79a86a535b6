"""Real mail servers on loopback for the alert tests: aiosmtpd (accepting, refusing, dropping the
line mid-message) and a silent socket that never answers."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What a test SMTP server received, and what it should answer next.

    ``replies`` are answered to the next messages' DATA, one each, in order (``"451 busy"``,
    ``"554 no"``, or ``"DROP"``: close the connection without answering); then 250 for the rest.
    With ``hold`` set, a message is kept (and ``arrived`` set) but not answered until ``hold`` is set.
    """

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    url: str = ""
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):
        if self.replies:
            reply = self.replies.pop(0)
            if reply == "DROP":
                server.transport.close()
                return "250 never seen"
            return reply
        self.received.append((list(envelope.rcpt_tos),
                              message_from_bytes(envelope.original_content, policy=policy.default)))
        self.arrived.set()
        if self.hold is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait)
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, message in self.received]


def start_smtp(**kwargs) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback; MAIL_URL points at it. Yields its Inbox."""
    controller, inbox = start_smtp()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    app.config["MAIL_URL"] = inbox.url
    yield inbox
    controller.stop()


@pytest.fixture
def silent_server(app):
    """A server that accepts connections and never says a word; MAIL_URL points at it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{listener.getsockname()[1]}"
        app.config["SURVEY_MAIL_TIMEOUT"] = 0.3
        yield listener
