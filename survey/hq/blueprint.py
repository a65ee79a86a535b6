"""The HQ console blueprint; its routes live in the modules that ``views`` imports."""

from flask import Blueprint

from ..access import hq_required

bp = Blueprint("hq", __name__, url_prefix="/hq")

#: Every /hq/ page: log in first; anyone but HQ gets a 404, as if the page did not exist.
bp.before_request(hq_required(lambda: None))
