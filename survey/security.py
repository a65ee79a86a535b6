"""What every response promises a browser, and what every request may cost us before we read it.

One ``before_request`` refuses a body larger than ``MAX_CONTENT_LENGTH`` from its declared
length, before anything (CSRF, the form parser, a database query) reads a byte of it; one
``after_request`` adds the security headers. Both are plain dictionary work: the shopper's
budgeted GET and POST (bench/shopper_page.py) pay a few microseconds for them, and neither
asks the database (``current_user`` is only consulted off the shopper's pages).
"""

from __future__ import annotations

from flask import Flask, abort, current_app, request
from flask_login import current_user

#: ``default-src 'self'`` and no inline script or style: a shopper's or a comment's text that
#: slipped past escaping still could not run. ``data:`` images: the page's empty favicon.
#: ``form-action``: a form can only post back here; ``frame-ancestors``: no framing (clickjacking).
CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
#: Pages HQ's own pages show in a frame (the checklist editor's phone-sized preview): framed by this
#: site only. Every other page may not be framed at all.
FRAMEABLE = frozenset({"hq.checklist_preview"})
FRAMED_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
#: A year, the value browsers' preload lists ask for; sent only outside development (HTTPS).
HSTS = "max-age=31536000; includeSubDomains"


def register_security(app: Flask) -> None:
    """Refuse oversized bodies up front; add the security and cache headers to every response."""
    # First of all hooks: CSRFProtect's and Flask-Limiter's would otherwise look at the form first.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_oversized_body)
    app.after_request(add_security_headers)


def refuse_oversized_body():
    """413 from the declared length alone: Werkzeug would otherwise spool a large form to a
    temporary file (and our code read a photo whole) before anything looked at its size.
    A chunked body without a length is cut by Werkzeug's own limit as it is read."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def add_security_headers(response):
    headers = response.headers
    framed = request.endpoint in FRAMEABLE
    # A view's own policy (the photo view's default-src 'none', the preview's form-action 'none')
    # stays, and ours is added beside it: a browser enforces both.
    policy = FRAMED_CSP if framed else CSP
    if policy not in headers.getlist("Content-Security-Policy"):
        headers.add("Content-Security-Policy", policy)
    headers.setdefault("X-Frame-Options", "SAMEORIGIN" if framed else "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # A shopper's link is its token: no Referer may carry it to anyone, ourselves included.
    shopper = request.path.startswith("/s/") or request.blueprint == "shopper"
    headers.setdefault("Referrer-Policy", "no-referrer" if shopper else "same-origin")
    if current_app.config.get("SURVEY_HSTS"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    # Staff pages and a shopper's form hold private data (comments, draft answers, a CSRF
    # token), and the login page a CSRF token tied to the session: no shared or disk cache may
    # keep them. The offline copy of the form lives in the service worker's own cache, which
    # this header does not touch.
    if response.mimetype == "text/html" and "Cache-Control" not in headers and (
            shopper or request.blueprint == "auth" or response.status_code >= 400 or _logged_in()):
        headers["Cache-Control"] = "private, no-store"
    return response


def _logged_in() -> bool:
    """Whether a staff member is logged in, without loading one when the request never did."""
    try:
        return current_user.is_authenticated
    except Exception:  # noqa: BLE001 - the session store (the database) is down: treat as anonymous
        current_app.logger.warning("could not load the user for the cache headers", exc_info=True)
        return False
