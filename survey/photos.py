"""Serving a submitted photo to staff: one function for HQ's review and the managers' visit pages."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, send_from_directory

from .models import Attachment


def send_photo(item: Attachment | None) -> Response:
    """Send a sent photo as an image that can never run as a page; 404 for a missing or unsent one.

    The caller has checked the person may see the visit it belongs to.
    """
    if item is None or item.submission_id is None:
        abort(404)
    folder = Path(current_app.config["UPLOAD_DIR"])
    if not (folder / item.stored_name).is_file():
        abort(404)
    response = send_from_directory(folder, item.stored_name, mimetype=item.content_type, max_age=0)
    extension = item.stored_name.rsplit(".", 1)[-1]
    response.headers["Content-Disposition"] = f'inline; filename="photo-{item.id}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
