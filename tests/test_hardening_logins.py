"""Logins that can't be probed or jammed (issue 11, point 4; README "Login throttling").

Probing: an unknown or deactivated account costs the same password hash as a real one.
Jamming: failures from one address don't refuse the right password from another, and a
browser that logged in to the account before gets in whatever others did.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
from survey.extensions import db

from .conftest import PASSWORD, hidden_fields


def unique(prefix: str) -> str:
    """Limiter counters outlive a test (one storage per process): every test names its own."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def attempt(client, email: str, password: str, address: str):
    """One login attempt through the form, from ``address``."""
    env = {"REMOTE_ADDR": address}
    form = hidden_fields(client.get("/login", environ_base=env).get_data(as_text=True))
    return client.post("/login", data={**form, "email": email, "password": password}, environ_base=env)


@pytest.fixture
def account(make_user):
    email = unique("target") + "@example.com"
    make_user(email, "manager", ("NORTH",))
    return email


@pytest.fixture
def jar(limited_client):
    """Make another browser (a cookie jar of its own) on the rate-limited app."""
    return lambda: limited_client.application.test_client()


# ---------------------------------------------------------------- probing


@pytest.fixture
def kdf_calls(monkeypatch):
    """Record each scrypt computation's cost parameters (n, r, p): the work a login does."""
    calls: list[tuple] = []
    real = hashlib.scrypt

    def counting(password, *, salt, n, r, p, maxmem=0, dklen=64):
        calls.append((n, r, p))
        return real(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


def test_an_unknown_email_costs_the_same_hash_as_a_wrong_password(client, make_user, kdf_calls):
    user = make_user("real@example.com", "manager", ("NORTH",))
    user.set_password(PASSWORD)  # the production hash (scrypt), not the tests' cheap one
    db.session.commit()
    work = {}
    for email in ("real@example.com", "nobody@example.com"):
        attempt(client, email, "wrong-password", "192.0.2.1")  # the dummy hash is made once, before
        kdf_calls.clear()
        response = attempt(client, email, "wrong-password", "192.0.2.1")
        assert response.status_code == 422
        work[email] = list(kdf_calls)
    assert work["real@example.com"] == [(32768, 8, 1)]
    assert work["nobody@example.com"] == work["real@example.com"]


def test_a_deactivated_account_costs_the_same_hash_too(client, make_user, kdf_calls):
    user = make_user("gone@example.com", "manager", ("NORTH",))
    user.set_password(PASSWORD)
    user.active = False
    db.session.commit()
    kdf_calls.clear()
    response = attempt(client, "gone@example.com", PASSWORD, "192.0.2.1")
    assert response.status_code == 422
    assert "match an account" in response.get_data(as_text=True)
    assert kdf_calls == [(32768, 8, 1)]


# ---------------------------------------------------------------- jamming


def test_wrong_passwords_from_one_address_do_not_refuse_the_right_one_from_another(jar, account):
    guesser, owner = jar(), jar()
    statuses = [attempt(guesser, account, "guess", "198.51.100.7").status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
    assert attempt(owner, account, PASSWORD, "203.0.113.20").status_code == 302


def test_the_guessing_address_waits_and_is_told_how_long(jar, account):
    guesser = jar()
    for _ in range(5):
        attempt(guesser, account, "guess", "198.51.100.8")
    refused = attempt(guesser, account, PASSWORD, "198.51.100.8")  # even the right one, from there
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "Too many failed attempts to log in to this account from here" in page
    assert "from a browser you have used for this account before" in page


def test_a_browser_that_logged_in_before_gets_in_from_the_guessers_address(jar, account):
    """An office behind one NAT: a colleague (or an attacker) there used up the address's allowance."""
    owner, guesser = jar(), jar()
    assert attempt(owner, account, PASSWORD, "203.0.113.30").status_code == 302
    owner.post("/logout", data=hidden_fields(owner.get("/reports/").get_data(as_text=True)))
    for _ in range(6):
        attempt(guesser, account, "guess", "198.51.100.9")
    assert attempt(owner, account, PASSWORD, "198.51.100.9").status_code == 302


def test_one_address_over_its_limit_does_not_refuse_every_account_behind_it(jar, make_user):
    emails = [unique("staff") + "@example.com" for _ in range(32)]
    for email in emails:
        make_user(email, "manager", ("NORTH",))
    colleague, sprayer = jar(), jar()
    assert attempt(colleague, emails[0], PASSWORD, "203.0.113.40").status_code == 302
    colleague.post("/logout", data=hidden_fields(colleague.get("/reports/").get_data(as_text=True)))
    office = "10.%d.%d.%d" % tuple(uuid.uuid4().bytes[:3])  # one address, unique to this test
    statuses = [attempt(sprayer, email, "Winter2026!", office).status_code for email in emails[1:]]
    assert statuses[:30] == [422] * 30 and statuses[30] == 429  # spraying one password is slowed
    assert attempt(colleague, emails[0], PASSWORD, office).status_code == 302


def test_many_addresses_together_still_guess_slowly(jar, account):
    """20 failures from 20 addresses: a browser with no history for the account waits; its owner's does not."""
    owner = jar()
    assert attempt(owner, account, PASSWORD, "203.0.113.50").status_code == 302
    owner.post("/logout", data=hidden_fields(owner.get("/reports/").get_data(as_text=True)))
    botnet = jar()
    for i in range(20):
        assert attempt(botnet, account, "guess", f"198.51.101.{i}").status_code == 422
    assert attempt(jar(), account, PASSWORD, "198.51.101.200").status_code == 429
    assert attempt(owner, account, PASSWORD, "198.51.101.201").status_code == 302


def test_a_forged_device_cookie_counts_for_nothing(jar, account):
    guesser = jar()
    guesser.set_cookie("login_device", "forged.cookie.value", path="/login")
    for _ in range(5):
        attempt(guesser, account, "guess", "198.51.100.60")
    assert attempt(guesser, account, PASSWORD, "198.51.100.60").status_code == 429


def test_the_device_cookie_is_httponly_signed_and_scoped_to_the_login_page(jar, account):
    owner = jar()
    response = attempt(owner, account, PASSWORD, "203.0.113.70")
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("login_device="))
    parts = [p.strip().lower() for p in cookie.split(";")]
    assert "httponly" in parts and "path=/login" in parts and "samesite=lax" in parts
    assert account not in cookie  # names the account by a hash only


# ---------------------------------------------------------------- shopper links


def test_many_wrong_shopper_links_from_one_address_are_slowed(jar, make_assignment):
    _, token = make_assignment()
    prober = jar()
    address = "198.51.100.80"
    statuses = [prober.get(f"/s/{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}", environ_base={"REMOTE_ADDR": address})
                .status_code for _ in range(31)]
    assert statuses == [404] * 30 + [429]
    assert prober.get(f"/s/{token}", environ_base={"REMOTE_ADDR": address}).status_code == 429
    assert jar().get(f"/s/{token}", environ_base={"REMOTE_ADDR": "203.0.113.81"}).status_code == 200
