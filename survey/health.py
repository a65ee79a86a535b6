"""``/healthz``: tells a load balancer whether this app can take a shopper's answers.

That needs a database that answers, and disks with room: a SQLite database on a full disk
still answers ``SELECT 1`` while every write fails, and a full UPLOAD_DIR refuses photos. So
the check also reads the free space of UPLOAD_DIR's disk (or asks an S3 bucket whether it
answers) and, for SQLite, of the database file's, and says 503 below SURVEY_MIN_FREE_MB. The database's own timeouts
(config.engine_options) bound how long the answer takes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

from .errors import RETRY_AFTER
from .extensions import db
from .storage import StoreError, photos

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    unavailable = {"Content-Type": "text/plain", "Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy", never a 500 page
        current_app.logger.warning("health check: database unavailable", exc_info=True)
        db.session.rollback()
        return "database unavailable", 503, unavailable
    try:
        photos().check()
    except StoreError:
        current_app.logger.warning("health check: photo store unavailable", exc_info=True)
        return "photo store unavailable", 503, unavailable
    short = [f"{name}: {free:.0f} MB free" for name, free in free_space().items()
             if free < current_app.config["SURVEY_MIN_FREE_MB"]]
    if short:
        return "disk space low (" + "; ".join(short) + ")", 503, unavailable
    return "ok", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}


def free_space() -> dict[str, float]:
    """Free megabytes on the disks the app writes to: uploads (unless in a bucket), and a SQLite database's."""
    out = {}
    uploads = photos().free_mb()
    if uploads is not None:
        out["uploads"] = uploads
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        out["database"] = shutil.disk_usage(Path(url.database).parent).free / 1024 / 1024
    return out
