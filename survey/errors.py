"""Error pages, and the rule that they render without the database.

An error page is what people see when something is already wrong, often the database itself:
a page that needed it (the shopper's language, Flask-Login's user) would fail in turn, and
gunicorn would answer its bare "Internal Server Error". So a 5xx page marks the request
(``g.no_database``): the language then comes from the browser (i18n.select_locale) and no user
is loaded (auth.sessions). A database that can't be reached, is locked past the busy timeout or
cancels a statement past the statement timeout answers 503 with ``Retry-After``: the shopper's
script (form.js) waits and sends again, and people are told what happened.
"""

from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from flask_babel import format_decimal, gettext
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .extensions import db

#: Seconds a client is asked to wait after a 503: form.js retries later anyway (3 s, doubling).
RETRY_AFTER = 30
#: What a database that is down, full, locked or too slow raises through SQLAlchemy.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(400, lambda e: render(400, "Bad request", getattr(e, "description", "")))
    app.register_error_handler(404, lambda e: render(404, "Not found",
                                                     "There is nothing at this address. Check the link you were sent."))
    app.register_error_handler(405, lambda e: render(405, "Not allowed", "This page can't be used that way."))
    app.register_error_handler(413, lambda e: render(413, *too_large()))
    app.register_error_handler(429, too_many)
    app.register_error_handler(500, server_error)
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, database_unavailable)


def render(code: int, title: str, message: str, headers: dict | None = None):
    # No user is loaded for an error page (auth/sessions.load_user): the page needs none, and
    # the database behind the loader may be what failed.
    g.error_page = True
    return render_template("errors/error.html", code=code, title=title, message=message), code, headers or {}


def on_shopper_link() -> bool:
    return request.path.startswith("/s/")


def too_large() -> tuple[str, str]:
    """Title and message of the 413 page: on a shopper's link, in the link's language, saying
    that the answers wait on the phone (form.js keeps them; without it, the browser's Back)."""
    if on_shopper_link():
        mb = format_decimal(round(current_app.config["MAX_CONTENT_LENGTH"] / 1024 / 1024))
        return gettext("Too large"), gettext(
            "What you sent is larger than %(mb)s MB, so it was not sent. Your answers are still on this "
            "phone: go back, choose a smaller photo and send again.", mb=mb)
    return "Too large", "What you sent is too large. Go back, choose a smaller file and send again."


def too_many(error):
    """429: a shopper's link (in its language) or a login, with how long to wait when we know it."""
    wait = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(wait)} if wait else {}
    if on_shopper_link():
        return render(429, gettext("Too many attempts"), gettext("Too many attempts. Wait a minute and try again."),
                      headers)
    # Only our own refusals explain themselves; Flask-Limiter's description is the limit ("5 per 1 minute").
    message = "Too many attempts. Wait a minute and try again."
    if getattr(error, "explained", False):
        message = error.description
    return render(429, "Too many attempts", message, headers)


def server_error(error):
    forget_the_database()
    if on_shopper_link():
        return render(500, gettext("Something went wrong"), gettext(
            "Something went wrong on our side. Your answers are still on this phone; try again in a moment."))
    return render(500, "Something went wrong", "Something went wrong on our side. Try again in a moment.")


def database_unavailable(error):
    """503 for a database that is down, full, locked or too slow: nothing was stored, say so."""
    current_app.logger.error("database unavailable: %s", error, exc_info=error)
    forget_the_database()
    headers = {"Retry-After": str(RETRY_AFTER)}
    if on_shopper_link():
        return render(503, gettext("Not available right now"), gettext(
            "We can't reach our database at the moment, so nothing was stored from this request. "
            "Your answers are still on this phone: send them again in a minute."), headers)
    return render(503, "Not available right now",
                  "We can't reach the database at the moment, so nothing was changed. Try again in a minute.",
                  headers)


def forget_the_database() -> None:
    """Render the rest of this request without the database: roll back what failed, load nothing."""
    g.no_database = True
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the session is removed at teardown
        current_app.logger.warning("rollback failed after an error", exc_info=True)
