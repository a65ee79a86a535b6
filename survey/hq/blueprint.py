"""The HQ console blueprint; its routes live in the modules that ``views`` imports."""

from flask import Blueprint
from flask_login import current_user, login_required
from flask import abort

bp = Blueprint("hq", __name__, url_prefix="/hq")


@bp.before_request
@login_required
def hq_only():
    """Every /hq/ page: log in first; anyone but HQ gets a 404, as if the page did not exist."""
    if not current_user.is_hq:
        abort(404)
