"""``/healthz``: tells a load balancer whether this app can take a shopper's answers.

That needs a database that answers, and disks with room: a SQLite database on a full disk
still answers ``SELECT 1`` while every write fails, and a full UPLOAD_DIR refuses photos. So
the check also reads the free space of UPLOAD_DIR's disk and, for SQLite, of the database
file's, and says 503 below SURVEY_MIN_FREE_MB. The database's own timeouts
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
    short = [f"{name}: {free:.0f} MB free" for name, free in free_space().items()
             if free < current_app.config["SURVEY_MIN_FREE_MB"]]
    if short:
        return "disk space low (" + "; ".join(short) + ")", 503, unavailable
    return "ok", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}


def free_space() -> dict[str, float]:
    """Free megabytes on the disks the app writes to: uploads, and a SQLite database's."""
    places = {"uploads": Path(current_app.config["UPLOAD_DIR"])}
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        places["database"] = Path(url.database).parent
    out = {}
    for name, path in places.items():
        while not path.exists() and path != path.parent:  # UPLOAD_DIR is made with the first photo
            path = path.parent
        out[name] = shutil.disk_usage(path).free / 1024 / 1024
    return out
