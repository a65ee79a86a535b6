"""Sending e-mail (SPEC §8): ``MAIL_URL`` says where, and what went wrong says whether to try again.

``MAIL_URL`` is ``smtp://user:pass@host:port`` (plain, port 25), ``smtp+starttls://...`` (STARTTLS,
port 587) or ``smtps://...`` (TLS from the start, port 465); user and password are optional and
percent-encoded. Without it, development writes each message to ``<instance>/outbox/`` as an
``.eml`` file, and production sends nothing (the alert is marked failed, the worker warns).

``send`` tells two failures apart, because an alert is sent at most once (survey/alerts.py):
``Refused`` (the server said no, or could not be reached or answered too slowly before the message
was handed over: nothing was delivered, trying again is safe) and ``Unknown`` (the connection broke
while the message itself was being handed over: it may have arrived, so only a person may decide
to send it again).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Scheme -> (default port, how the connection is secured).
SCHEMES = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


class MailUrlError(ValueError):
    """MAIL_URL cannot be used; the message names the setting and says what is wrong."""


class Refused(Exception):
    """Nothing was delivered: the server refused, or was unreachable or silent before the message."""


class Unknown(Exception):
    """The connection broke while the message was handed over: it may or may not have arrived."""


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    security: str
    user: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


def parse_mail_url(url: str) -> MailServer:
    """Read MAIL_URL into a MailServer, or raise MailUrlError naming what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise MailUrlError(f"MAIL_URL must start with smtp://, smtp+starttls:// or smtps://, not {url.split(':')[0]!r}")
    if not parts.hostname:
        raise MailUrlError("MAIL_URL names no host (e.g. smtp://user:pass@mail.example.com:587)")
    try:
        port = parts.port
    except ValueError:
        raise MailUrlError("MAIL_URL has a port that is no number between 1 and 65535") from None
    default_port, security = SCHEMES[parts.scheme]
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return MailServer(parts.hostname, port or default_port, security, user, password)


def send(message: EmailMessage, server: MailServer, timeout: float,
         tls_context: ssl.SSLContext | None = None) -> None:
    """Hand ``message`` to ``server``; raise Refused when nothing was delivered, Unknown when it may have been."""
    context = tls_context or ssl.create_default_context()
    try:
        if server.security == "tls":
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise Refused(f"cannot connect to {server}: {_describe(exc)}") from exc
    try:
        try:
            smtp.ehlo()
            if server.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if server.user:
                smtp.login(server.user, server.password or "")
            sender = message["From"]
            recipients = [a.strip() for a in message["To"].split(",")]
            code, reply = smtp.mail(_address(sender))
            if code != 250:
                raise Refused(f"sender refused: {code} {reply.decode(errors='replace')}")
            accepted = 0
            last = ""
            for recipient in recipients:
                code, reply = smtp.rcpt(_address(recipient))
                if code in (250, 251):
                    accepted += 1
                else:
                    last = f"{code} {reply.decode(errors='replace')}"
            if not accepted:
                raise Refused(f"every recipient refused: {last}")
        except (OSError, smtplib.SMTPException) as exc:
            raise Refused(f"{server}: {_describe(exc)}") from exc
        # From here the server may have the message: a broken connection is no refusal.
        try:
            code, reply = smtp.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
        except smtplib.SMTPDataError as exc:  # a clear "no" to the message: nothing delivered
            raise Refused(f"message refused: {_describe(exc)}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise Unknown(f"connection lost while sending the message: {_describe(exc)}") from exc
        if code != 250:  # smtplib returns the final answer without judging it
            raise Refused(f"message refused: {code} {reply.decode(errors='replace')}")
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def write_outbox(message: EmailMessage, folder: Path) -> Path:
    """Write ``message`` as ``<folder>/<date>-<id>.eml`` (development without MAIL_URL) and return the file."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = message["Message-ID"].strip("<>").split("@")[0]
    stamp = parsedate_to_datetime(message["Date"]).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}-{stem}.eml"
    path.write_bytes(message.as_bytes())
    return path


def _address(header: str) -> str:
    return parseaddr(header)[1]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipients refused"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__
