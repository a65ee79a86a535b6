"""Logins that can't be probed or jammed (README, "Login throttling").

Probing: an unknown e-mail, or an account that is switched off, costs one password hash of
the same kind as a real check (``verify``), so the time of an answer says nothing about
whether an account exists (before: 7 ms against 140 ms).

Jamming: counting failures per e-mail let anyone lock a named account out (six wrong
passwords refused the right one for a minute, from anywhere), and counting per address let
one address lock out every account behind it (an office's NAT). Failures are now counted
against the evidence an attempt brings:

- A browser that has logged in to the account before carries a signed *device cookie*
  naming it (``login_device``, 180 days): its attempts are counted for that browser and
  account alone (DEVICE_LIMIT), so no one elsewhere can use up its allowance.
- Any other attempt is counted per account and address (PAIR_LIMIT): a guesser at one address
  can't refuse the right password typed at another; per account from all such attempts
  (ACCOUNT_LIMIT), so many addresses together still guess slowly; and per address
  (ADDRESS_LIMIT), so one address can't try a password on many accounts.

Only failures count, and an attempt over a limit is refused (429, with Retry-After) before
its password is checked. The counts live in Flask-Limiter's storage (memory, or Redis for
several workers: RATELIMIT_STORAGE_URI); keys hold a hash of the e-mail, never the e-mail.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import limiter
from ..models import User

PAIR_LIMIT = "5 per minute"
ACCOUNT_LIMIT = "20 per 15 minutes"
ADDRESS_LIMIT = "30 per minute"
DEVICE_LIMIT = "10 per minute"
#: The device cookie: which accounts this browser has logged in to (hashes), signed with SECRET_KEY.
DEVICE_COOKIE = "login_device"
DEVICE_DAYS = 180
DEVICE_ACCOUNTS = 8


class Throttled(Exception):
    """Too many failed attempts for what this attempt can show; wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


@functools.cache
def _dummy_hash() -> str:
    """A hash made the way ``User.set_password`` makes them, of a password no one has."""
    return generate_password_hash("no account has this password: it only costs the same")


def verify(user: User | None, password: str) -> bool:
    """Check a password with the same work whether the account exists, is active or not."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return user.check_password(password) and user.active


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="login-device")


def trusted_accounts() -> list[str]:
    """The accounts this browser's device cookie names (empty when absent, forged or too old)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        accounts = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    return [a for a in accounts if isinstance(a, str)] if isinstance(accounts, list) else []


def remember_device(response, account: str) -> None:
    """After a successful login: name the account in this browser's device cookie."""
    accounts = [account] + [a for a in trusted_accounts() if a != account]
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps(accounts[:DEVICE_ACCOUNTS]),
                        max_age=DEVICE_DAYS * 86400, path="/login", httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))


def _counters(account: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """The (limit, kind, key) counters an attempt for ``account`` from this request is held to."""
    address = request.remote_addr or "unknown"
    if account in trusted_accounts():
        return [(DEVICE_LIMIT, "login-device", (account, request.cookies.get(DEVICE_COOKIE, "")[-43:]))]
    return [(PAIR_LIMIT, "login-pair", (account, address)),
            (ACCOUNT_LIMIT, "login-account", (account,)),
            (ADDRESS_LIMIT, "login-address", (address,))]


def _enabled() -> bool:
    return limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True)


@functools.cache
def _parsed(limit: str):
    import limits

    return limits.parse(limit)


def check(email: str) -> None:
    """Raise Throttled when an attempt for ``email`` from this request is over one of its limits.

    A storage that fails lets the attempt through: logging in matters more than the limit.
    """
    if not _enabled():
        return
    waits = []
    try:
        for limit, kind, key in _counters(account_key(email)):
            item = _parsed(limit)
            if not limiter.limiter.test(item, kind, *key):
                reset = limiter.limiter.get_window_stats(item, kind, *key).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
    except Exception:  # noqa: BLE001 - whatever the storage raises (Redis down, timeouts)
        current_app.logger.warning("login throttling storage failed; attempt not limited", exc_info=True)
        return
    if waits:
        raise Throttled(max(waits))


def failed(email: str) -> None:
    """Count a failed attempt against each of its counters."""
    if not _enabled():
        return
    try:
        for limit, kind, key in _counters(account_key(email)):
            limiter.limiter.hit(_parsed(limit), kind, *key)
    except Exception:  # noqa: BLE001
        current_app.logger.warning("login throttling storage failed; failure not counted", exc_info=True)
