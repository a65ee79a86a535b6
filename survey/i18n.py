"""Languages of the shopper's pages: the checklist's ``language`` picks the catalogue and the date style.

Staff pages stay in English. The catalogues live in ``survey/translations`` (``messages.pot``,
``<lang>/LC_MESSAGES/messages.po`` and the compiled ``.mo``, committed); see ``babel.cfg``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, format_date, get_locale

from .errors import UNAVAILABLE

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


def speak_language(language: str | Callable[[], str]) -> None:
    """Say which checklist language this request's shopper pages speak (a callable is asked only
    if a word needs translating: the shopper blueprint hands one that may need a query)."""
    g.shopper_language = language


def shopper_language() -> str | None:
    """Return the checklist language of the link in this request, or None outside a shopper link."""
    language = g.get("shopper_language")
    if callable(language):
        language = g.shopper_language = language()
    return language


def select_locale() -> str:
    """Pick the locale: the shopper link's checklist language, else English; outside a request
    (the worker writing an e-mail), the language ``mail_language`` set, else English."""
    if not has_request_context():
        return locale_for(g.get("mail_language"))
    if request.blueprint != "shopper":
        return "en"
    if not g.get("no_database"):
        try:
            # An unknown link has no checklist to ask; its "not found" page is English, like staff pages.
            return locale_for(shopper_language())
        except UNAVAILABLE:  # a page about that very outage is being rendered (errors.py)
            g.no_database = True
    # The database is out of reach: the browser's languages instead of the link's.
    return locale_for(request.accept_languages.best_match(SHIPPED))


@contextmanager
def mail_language(language: str | None) -> Iterator[None]:
    """Render what is inside in ``language`` (a checklist's), outside any request: an e-mail."""
    g.mail_language = language
    g.pop("_flask_babel", None)  # Flask-Babel keeps the locale it chose last on ``g``
    try:
        yield
    finally:
        g.pop("mail_language", None)
        g.pop("_flask_babel", None)


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
