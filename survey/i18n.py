"""Languages of the shopper's pages: the checklist's ``language`` picks the catalogue and the date style.

Staff pages stay in English. The catalogues live in ``survey/translations`` (``messages.pot``,
``<lang>/LC_MESSAGES/messages.po`` and the compiled ``.mo``, committed); see ``babel.cfg``.
"""

from __future__ import annotations

from datetime import date

from flask import Flask, g, request
from flask_babel import Babel, format_date, get_locale
from sqlalchemy import inspect

from .extensions import db
from .models import Assignment, hash_token
from .submissions import checklist_of, find_assignment, latest_version

babel = Babel()

#: Languages with a catalogue (English is the source language, so it needs none).
SHIPPED = ("en", "de")
#: A bare ``en`` keeps the British day-month-year dates the pages have always shown.
REGION_OF = {"en": "en_GB"}


def locale_for(language: str | None) -> str:
    """Return the Babel locale for a checklist's ``language`` (``en``, ``de``, ``de-AT``, ...)."""
    code = (language or "en").replace("-", "_")
    if code.split("_")[0] not in SHIPPED:
        code = "en"
    return REGION_OF.get(code, code)


def shopper_language() -> str | None:
    """Return the checklist language of the link in this request, or None outside a shopper link.

    Memoised on ``g``: the locale selector and the page's ``lang`` both ask.
    """
    if "shopper_language" in g:
        return g.shopper_language
    language = None
    assignment = None
    token = (request.view_args or {}).get("token") if request.blueprint == "shopper" else None
    if token:
        assignment = _loaded_assignment(token) or find_assignment(token)
    if assignment is not None:
        # A version just pinned in this request has no version_id until the flush: ask the relation.
        version = assignment.version or latest_version(assignment.checklist_id)
        language = checklist_of(version).language if version is not None else "en"
    g.shopper_language = language
    return language


def _loaded_assignment(token: str) -> Assignment | None:
    """Return the link's assignment if this request's session already holds it (saves a query)."""
    wanted = hash_token(token)
    for obj in db.session.identity_map.values():
        # Read the loaded state only: touching an expired attribute would query anyway.
        if isinstance(obj, Assignment) and inspect(obj).dict.get("token_hash") == wanted:
            return obj
    return None


def select_locale() -> str:
    """Pick the locale: the shopper link's checklist language, else English."""
    if request.blueprint != "shopper":
        return "en"
    # An unknown link has no checklist to ask; its "not found" page is English, like staff pages.
    return locale_for(shopper_language())


def html_lang() -> str:
    """Return the current locale as a BCP 47 tag for ``<html lang>`` (``en-GB``, ``de``)."""
    return str(get_locale() or "en").replace("_", "-")


def long_date(value: date | None) -> str:
    """Format a date in the page's language: "2 November 2026", "2. November 2026"."""
    return "" if value is None else format_date(value, "long")


def init_babel(app: Flask) -> None:
    """Bind Flask-Babel to the app with the shopper locale selector and the date filter."""
    babel.init_app(app, locale_selector=select_locale, default_timezone="UTC")
    app.add_template_filter(long_date, "long_date")
    app.teardown_request(_forget_locale)


#: What a request leaves on ``g`` about its link and language.
REQUEST_KEYS = ("_flask_babel", "shopper_language", "shopper_draft_saved")


def _forget_locale(_exc) -> None:
    # ``g`` belongs to the app context, which a test (or a CLI command) may keep across
    # requests: the next request must choose its own language.
    for key in REQUEST_KEYS:
        g.pop(key, None)
