"""Who may see what: HQ sees everything, a manager only their regions; the rest is a 404."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .extensions import db
from .models import Branch, Region, code_is


def hq_required(view):
    """Require login, then role ``hq``; others get a 404 so nothing hints the page exists."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_hq:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def visible_region_ids(user) -> list[int] | None:
    """Return the region ids a user may see, or None for all (HQ)."""
    if user.is_hq:
        return None
    return [r.id for r in user.regions]


def can_see_region(user, region_id: int) -> bool:
    ids = visible_region_ids(user)
    return ids is None or region_id in ids


def get_region_or_404(code: str) -> Region:
    region = db.session.scalar(db.select(Region).where(code_is(Region.code, code)))
    if region is None or not can_see_region(current_user, region.id):
        abort(404)
    return region


def get_branch_or_404(code: str) -> Branch:
    branch = db.session.scalar(db.select(Branch).where(code_is(Branch.code, code)))
    if branch is None or not can_see_region(current_user, branch.region_id):
        abort(404)
    return branch
