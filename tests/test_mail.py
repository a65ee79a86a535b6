"""MAIL_URL and the SMTP conversation (survey/mail.py): plain, STARTTLS and TLS, against real servers."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest
from survey import create_app
from survey.config import ConfigError
from survey.mail import MailServer, MailUrlError, Refused, parse_mail_url, send

from .mail_fixtures import free_port, start_smtp


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example.com", MailServer("mail.example.com", 25, "plain")),
    ("smtp://relay:2525", MailServer("relay", 2525, "plain")),
    ("smtp+starttls://alerts%40shop.example:p%40ss%2Fw@mail.example.com",
     MailServer("mail.example.com", 587, "starttls", "alerts@shop.example", "p@ss/w")),
    ("smtps://u:pw@mail.example.com", MailServer("mail.example.com", 465, "tls", "u", "pw")),
    ("smtps://mail.example.com:2465", MailServer("mail.example.com", 2465, "tls")),
])
def test_mail_url_says_where_and_how(url, expected):
    assert parse_mail_url(url) == expected


@pytest.mark.parametrize("url, words", [
    ("http://mail.example.com", "must start with smtp://"),
    ("mail.example.com:25", "must start with smtp://"),
    ("smtp://", "names no host"),
    ("smtp://mail.example.com:twentyfive", "port"),
    ("smtp://mail.example.com:99999", "port"),
])
def test_a_mail_url_that_cannot_work_says_why(url, words):
    with pytest.raises(MailUrlError, match="MAIL_URL") as info:
        parse_mail_url(url)
    assert words in str(info.value)


@pytest.mark.parametrize("key, value", [
    ("MAIL_URL", "smpt://mail.example.com"),
    ("SURVEY_ALERT_BELOW", "seventy"),
    ("SURVEY_ALERT_BELOW", "170"),
    ("SURVEY_ALERT_ATTEMPTS", "0"),
    ("SURVEY_ALERT_RETRY_SECONDS", "soon"),
    ("SURVEY_MAIL_TIMEOUT", "-1"),
])
def test_a_bad_mail_or_alert_setting_stops_start_up_naming_it(monkeypatch, key, value):
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=key):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_alert_settings_from_the_environment_are_numbers(monkeypatch):
    monkeypatch.setenv("SURVEY_ALERT_BELOW", "70")
    monkeypatch.setenv("SURVEY_ALERT_ATTEMPTS", "3")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SURVEY_ALERT_BELOW"] == 70.0 and app.config["SURVEY_ALERT_ATTEMPTS"] == 3


def message(to: str = "anna@north.example") -> EmailMessage:
    out = EmailMessage()
    out["Subject"], out["From"], out["To"] = "Test", "alerts@shop.example", to
    out["Date"], out["Message-ID"] = formatdate(), make_msgid(domain="shop.example")
    out.set_content("Hello\n" + "x" * 500)
    return out


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made by openssl; returns (cert file, key file)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def contexts(certificate) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


def test_plain_smtp_delivers_with_crlf_lines():
    controller, inbox = start_smtp()
    try:
        send(message(), MailServer("127.0.0.1", controller.port, "plain"), timeout=5)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1 and inbox.messages[0]["Subject"] == "Test"


def test_starttls_upgrades_the_connection_before_anything_is_said(certificate):
    server_context, client_context = contexts(certificate)
    controller, inbox = start_smtp(tls_context=server_context, require_starttls=True)
    try:
        send(message(), MailServer("127.0.0.1", controller.port, "starttls"), timeout=5, tls_context=client_context)
        # Without STARTTLS the same server refuses: nothing delivered, so it may be tried again.
        with pytest.raises(Refused):
            send(message(), MailServer("127.0.0.1", controller.port, "plain"), timeout=5)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_tls_from_the_start_checks_the_servers_certificate(certificate):
    server_context, client_context = contexts(certificate)
    controller, inbox = start_smtp(ssl_context=server_context)
    try:
        send(message(), MailServer("127.0.0.1", controller.port, "tls"), timeout=5, tls_context=client_context)
        # A certificate nobody vouches for is refused (the system's authorities don't know it).
        with pytest.raises(Refused, match="certificate"):
            send(message(), MailServer("127.0.0.1", controller.port, "tls"), timeout=5)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_nothing_listening_is_a_refusal():
    with pytest.raises(Refused, match="cannot connect"):
        send(message(), MailServer("127.0.0.1", free_port(), "plain"), timeout=5)
