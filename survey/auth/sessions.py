"""Staff sessions that can end: each login is a row (``StaffSession``) the session cookie names.

A Flask session is a signed cookie: before, logging out only asked the browser to forget
it, and a copy kept working until the key changed. Now the cookie carries a random token
whose hash must name a row, and the row must have been seen within SURVEY_SESSION_HOURS.
Logging out, changing the password or being deactivated deletes the user's rows, so every
copy of every cookie stops working at once; HQ can list and delete them (hq/staff.py).

Only staff pages pay for this: the user is loaded when a page asks for ``current_user``,
which the shopper's pages never do. The one query replaces Flask-Login's load by id; the
"last seen" write happens at most once a minute per session, after the response is made.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import Flask, current_app, g, request, session
from flask_login import login_user, logout_user

from ..extensions import db, login_manager
from ..models import StaffSession, User, hash_token, utcnow

#: The cookie's key for the session token (Flask-Login keeps the user id beside it).
TOKEN_KEY = "staff_token"
#: How stale "last seen" may get before a request moves it on: inactivity is measured in
#: hours, and a write per request would cost every staff page a commit.
TOUCH_EVERY = timedelta(minutes=1)


#: What a request leaves on ``g`` about its staff member (Flask-Login's own included).
REQUEST_KEYS = ("staff_session", "staff_session_id", "staff_session_seen", "_login_user", "no_database",
                "error_page")


def init_sessions(app: Flask) -> None:
    login_manager.user_loader(load_user)
    app.after_request(_touch)
    app.teardown_request(_forget)


def _forget(_exc) -> None:
    # ``g`` belongs to the app context, which a test or a CLI command may keep across requests:
    # the next request must load its own user from its own cookie.
    for key in REQUEST_KEYS:
        g.pop(key, None)


def idle_limit() -> timedelta:
    return timedelta(hours=float(current_app.config["SURVEY_SESSION_HOURS"]))


def start(user: User) -> StaffSession:
    """Log ``user`` in on this browser: a new row, its token in the cookie; commit."""
    token = secrets.token_urlsafe(32)
    row = StaffSession(user_id=user.id, token_hash=hash_token(token), address=(request.remote_addr or "")[:64],
                       user_agent=(request.user_agent.string or "")[:200])
    db.session.add(row)
    # Sessions idle past the limit can never be used again: clear them while we are here.
    db.session.execute(db.delete(StaffSession).where(StaffSession.user_id == user.id,
                                                     StaffSession.last_seen_at < utcnow() - idle_limit()))
    db.session.commit()
    login_user(user)
    session[TOKEN_KEY] = token
    _remember(row)
    return row


def end_all(user_id: int, keep: StaffSession | None = None) -> int:
    """Delete a user's sessions (but ``keep``); return how many. The caller commits."""
    statement = db.delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(StaffSession.id != keep.id)
    return db.session.execute(statement).rowcount


def forget_this_browser() -> None:
    logout_user()
    session.pop(TOKEN_KEY, None)


def current_session() -> StaffSession | None:
    """The row of this request's login, once ``current_user`` has been loaded."""
    return g.get("staff_session")


def active_sessions(user_id: int) -> list[StaffSession]:
    """A user's sessions that can still be used, most recently seen first."""
    cutoff = utcnow() - idle_limit()
    return list(db.session.scalars(db.select(StaffSession).where(
        StaffSession.user_id == user_id, StaffSession.last_seen_at >= cutoff).order_by(
        StaffSession.last_seen_at.desc())))


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user whose live session row this cookie's token names, or None."""
    token = session.get(TOKEN_KEY)
    if g.get("no_database") or g.get("error_page") or not isinstance(token, str) or not user_id.isdigit():
        return None
    found = db.session.execute(
        db.select(StaffSession, User).join(User, User.id == StaffSession.user_id)
        .where(StaffSession.token_hash == hash_token(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if user.id != int(user_id) or not user.active or row.last_seen_at < utcnow() - idle_limit():
        return None
    _remember(row)
    return user


def _remember(row: StaffSession) -> None:
    # Plain values too: a commit later in the request expires the row, and a logout deletes it.
    g.staff_session, g.staff_session_id, g.staff_session_seen = row, row.id, row.last_seen_at


def _touch(response):
    """Move a session's "last seen" on, at most once a minute, in a transaction of its own."""
    seen: datetime | None = g.get("staff_session_seen")
    if seen is None or g.get("no_database"):
        return response
    now = utcnow()
    if now - seen >= TOUCH_EVERY:
        try:
            with db.engine.begin() as connection:
                connection.execute(db.update(StaffSession).where(StaffSession.id == g.staff_session_id)
                                   .values(last_seen_at=now))
        except Exception:  # noqa: BLE001 - a missed "last seen" only shortens the session
            current_app.logger.warning("could not record a session's last use", exc_info=True)
    return response
