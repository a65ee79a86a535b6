"""The reports blueprint (SPEC §5): the landing page, PDF downloads and the CSV export."""

from __future__ import annotations

import io
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request, send_file, stream_with_context
from flask_login import current_user, login_required

from survey.access import get_branch_or_404, get_region_or_404, visible_region_ids

from . import export, output, queries, service
from .forms import PeriodForm
from .periods import Period, PeriodError, make_period, parse_period

bp = Blueprint("reports", __name__, url_prefix="/reports")


def period_or_400() -> Period:
    """Read ``from``/``to`` from the query string, or stop with a 400 that says what is wrong."""
    try:
        return parse_period(request.args.get("from"), request.args.get("to"))
    except PeriodError as exc:
        abort(400, description=str(exc))


def download(body: bytes, mimetype: str, name: str) -> Response:
    response = send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def set_attachment(response: Response, name: str) -> None:
    """Name a streamed download the way ``send_file`` does, codes with accents included (RFC 6266)."""
    simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    if simple == name:
        response.headers.set("Content-Disposition", "attachment", filename=name)
    else:
        response.headers.set("Content-Disposition", "attachment", filename=simple,
                             **{"filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")})


@bp.get("/")
@login_required
def index():
    """List the branches the user may see, with their scores and download links."""
    form = PeriodForm(formdata=request.args if request.args else None)
    status = 200
    if request.args and not form.validate():
        status = 400
    period = form.period or make_period(None, None)
    if status == 200:
        form.start.data, form.end.data = period.start.isoformat(), period.end.isoformat()
    ids = visible_region_ids(current_user)
    regions = queries.visible_regions(ids)
    branches = queries.branch_overview(period.start, period.end, ids)
    by_region = {r.code: [] for r in regions}
    for row in branches:
        by_region.setdefault(row.region_code, []).append(row)
    args = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    return render_template("reports/index.html", form=form, period=period, regions=regions,
                           by_region=by_region, args=args, errors=status != 200), status


@bp.get("/branches/<code>.pdf")
@login_required
def branch_pdf(code: str):
    """Download a branch report."""
    branch = get_branch_or_404(code)
    period = period_or_400()
    data = service.branch_report(branch.code, period.start, period.end)
    return download(output.render_pdf(data), "application/pdf", output.report_filename(branch.code, period))


@bp.get("/regions/<code>.pdf")
@login_required
def region_pdf(code: str):
    """Download a region report."""
    region = get_region_or_404(code)
    period = period_or_400()
    data = service.region_report(region.code, period.start, period.end)
    return download(output.render_pdf(data), "application/pdf", output.report_filename(region.code, period))


@bp.get("/export.csv")
@login_required
def export_csv():
    """Stream one CSV row per answer, for one region or every region the user may see."""
    code = (request.args.get("region") or "").strip()
    region = get_region_or_404(code) if code else None
    period = period_or_400()
    ids = [region.id] if region is not None else visible_region_ids(current_user)
    if ids == []:
        abort(404)  # a manager with no region yet has nothing to export (the landing page says so)
    response = Response(stream_with_context(export.export_lines(period, ids)), mimetype="text/csv")
    if not code and ids is not None:  # a manager's "everything" is their own regions: say which
        code = "+".join(sorted(r.code for r in current_user.regions)) or None
    set_attachment(response, export.filename(period, code or None))
    response.headers["Cache-Control"] = "private, no-store"
    return response
