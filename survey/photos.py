"""Serving a submitted photo to staff: one function for HQ's review and the managers' visit pages."""

from __future__ import annotations

from flask import Response, abort, current_app

from .extensions import db
from .models import OUTCOME_PHOTO_KEY, Assignment, AssignmentState, Attachment
from .storage import StoreError, photos


def was_sent(item: Attachment) -> bool:
    """Tell a photo the shopper sent from one still in an unsent form (which staff never see):
    sent with a submission, or with the reason a link ended not done."""
    if item.submission_id is not None:
        return True
    if item.question_key != OUTCOME_PHOTO_KEY:
        return False
    link = db.session.get(Assignment, item.assignment_id)
    return link is not None and link.state == AssignmentState.not_done


def send_photo(item: Attachment | None) -> Response:
    """Send a sent photo as an image that can never run as a page; 404 for a missing or unsent one.

    The caller has checked the person may see the visit (or the not-done link) it belongs to.
    """
    if item is None or not was_sent(item):
        abort(404)
    try:
        data = photos().read(item.stored_name)
    except StoreError:
        current_app.logger.warning("photo %s could not be read from the store", item.stored_name, exc_info=True)
        abort(503)
    if data is None:
        abort(404)
    response = Response(data, mimetype=item.content_type)
    extension = item.stored_name.rsplit(".", 1)[-1]
    response.headers["Content-Disposition"] = f'inline; filename="photo-{item.id}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
