"""The shopper offline (SPEC §7): the draft endpoint the page saves through, and the service worker.

The page keeps every answer on the phone (``form.js``, localStorage) and, when online,
sends the form's fields to ``/s/<token>/draft``, so the link can be finished on another
phone or without JavaScript (``drafts.py``). A submission made offline waits on the phone
and is posted to ``/s/<token>`` later with its idempotency key: the fill view stores it once.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flask import Response, current_app, g, jsonify, request
from flask_babel import gettext
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ..i18n import html_lang
from ..submissions import needs_pinning, pin_version
from .drafts import draft_answers, refusal, return_note, return_stamp, stamp, store_draft
from .views import bp, get_assignment_or_404, throttle


@bp.context_processor
def _page_context() -> dict[str, Any]:
    return {"lang": html_lang(), "draft_saved": g.get("shopper_draft_saved")}


#: form.js saves at most one draft per 1.5 s, one request at a time (about 40 a minute).
DRAFT_LIMIT = "60 per minute"


@bp.post("/s/<token>/draft")
def save_draft_json(token: str):
    """Store the form's fields as the link's draft; 204, or JSON saying why not.

    Idempotent: the latest save replaces the draft. The CSRF token travels in the
    ``X-CSRFToken`` header (or the ``csrf_token`` field, for ``sendBeacon``).
    """
    throttle("draft", DRAFT_LIMIT, token)
    assignment = get_assignment_or_404(token)
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
    except ValidationError:
        return jsonify(error=gettext("This page is out of date: reload it to keep saving your answers."),
                       state="csrf"), 400
    refused = refusal(assignment, date.today())
    if refused is not None:
        state, message, status = refused
        return jsonify(error=message, state=state), status
    returned = return_note(assignment)
    if returned is not None and request.headers.get("X-Returned") != return_stamp(returned):
        # A copy from a page opened before HQ returned the visit must not cover the answers returned.
        return jsonify(error=gettext("Your answers were sent back to you with a note: reload this page to see it."),
                       state="returned"), 409
    if needs_pinning(assignment):
        pin_version(assignment)  # committed with the draft
    draft = store_draft(assignment, draft_answers(request.form, assignment.version))
    return "", 204, {"X-Draft-Saved": stamp(draft), "Cache-Control": "no-store"}


@bp.get("/sw.js")
def service_worker():
    """Serve the service worker from the root, so it may control ``/s/`` pages (it registers for ``/s/``)."""
    script = Path(current_app.static_folder, "sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    # A new worker must reach phones at once: browsers revalidate this file on each visit.
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)
