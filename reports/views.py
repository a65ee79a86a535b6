"""The reports blueprint (SPEC §5): the landing page, PDF downloads and the exports."""

from __future__ import annotations

import io
import tempfile
import unicodedata
from urllib.parse import quote

from flask import (Blueprint, Response, abort, current_app, render_template, request, send_file,
                   stream_with_context)
from flask_login import current_user, login_required

from survey.access import get_branch_or_404, get_region_or_404, visible_region_ids

from . import export, formats, output, queries, service
from .forms import PeriodForm
from .periods import Period, PeriodError, make_period, parse_period

bp = Blueprint("reports", __name__, url_prefix="/reports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def formatting() -> dict:
    """Give the pages the PDFs' number and date formats (reports/formats.py)."""
    return {"pct": formats.percent_label, "signed": formats.signed, "nice_date": formats.nice_date,
            "visits": formats.visits, "STATES": {"open": "Open", "done": "Done", "dropped": "Dropped"}}


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


#: The branch list's columns a person may sort by, and the first direction of each.
SORTS = {"name": "asc", "score": "asc", "change": "asc", "open": "desc", "overdue": "desc"}


def sort_branches(rows: list[dict], key: str, direction: str) -> list[dict]:
    """Sort the branch list by a column; a branch without a value goes last either way."""
    if key == "name":
        return sorted(rows, key=lambda r: (r["name"].casefold(), r["code"]), reverse=direction == "desc")
    present = [r for r in rows if r[key] is not None]
    missing = [r for r in rows if r[key] is None]
    present.sort(key=lambda r: (r[key], r["code"]), reverse=direction == "desc")
    return present + missing


@bp.get("/")
@login_required
def index():
    """List the branches the user may see, sortable, with score, change and actions, and the downloads."""
    form = PeriodForm(formdata=request.args if request.args else None)
    status = 200
    if request.args and not form.validate():
        status = 400
    period = form.period or make_period(None, None)
    if status == 200:
        form.start.data, form.end.data = period.start.isoformat(), period.end.isoformat()
    key = request.args.get("sort") if request.args.get("sort") in SORTS else "name"
    direction = request.args.get("dir") if request.args.get("dir") in ("asc", "desc") else SORTS[key]
    ids = visible_region_ids(current_user)
    regions = queries.visible_regions(ids)
    branches = sort_branches(service.branch_list(period, ids), key, direction)
    overdue = service.actions(region_ids=ids, overdue=True)
    args = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    return render_template("reports/index.html", form=form, period=period, regions=regions, branches=branches,
                           overdue=overdue, args=args, sort=key, direction=direction, sorts=SORTS,
                           errors=status != 200), status


#: ``?appendix=`` values: with or without the appendix on how the scores are computed.
APPENDIX = {"1": True, "yes": True, "0": False, "no": False}


def appendix_or_400() -> bool:
    """Read ``appendix`` from the query string (default: included), or stop with a 400 that says what is wrong."""
    value = request.args.get("appendix", "1").strip().lower()
    if value not in APPENDIX:
        abort(400, description="appendix must be 1 (include how the scores are computed) or 0 (leave it out)")
    return APPENDIX[value]


@bp.get("/branches/<code>.pdf")
@login_required
def branch_pdf(code: str):
    """Download a branch report; ``?appendix=0`` leaves out how the scores are computed."""
    branch = get_branch_or_404(code)
    period = period_or_400()
    appendix = appendix_or_400()
    data = service.branch_report(branch.code, period.start, period.end)
    return download(output.render_pdf(data, appendix=appendix), "application/pdf",
                    output.report_filename(branch.code, period))


@bp.get("/regions/<code>.pdf")
@login_required
def region_pdf(code: str):
    """Download a region report; ``?appendix=0`` leaves out how the scores are computed."""
    region = get_region_or_404(code)
    period = period_or_400()
    appendix = appendix_or_400()
    data = service.region_report(region.code, period.start, period.end)
    return download(output.render_pdf(data, appendix=appendix), "application/pdf",
                    output.report_filename(region.code, period))


def export_scope() -> tuple[Period, list[int] | None, str | None]:
    """Read an export's region and period: the region's id (or every region the user may see)
    and the code that names the file; 404 for a region the user may not see."""
    code = (request.args.get("region") or "").strip()
    region = get_region_or_404(code) if code else None
    period = period_or_400()
    ids = [region.id] if region is not None else visible_region_ids(current_user)
    if ids == []:
        abort(404)  # a manager with no region yet has nothing to export (the landing page says so)
    if not code and ids is not None:  # a manager's "everything" is their own regions: say which
        code = "+".join(sorted(r.code for r in current_user.regions)) or None
    return period, ids, region.code if region is not None else (code or None)


@bp.get("/export.csv")
@login_required
def export_csv():
    """Stream one CSV row per answer (or, with ``by=visit``, per visit), for one region or all visible."""
    by = request.args.get("by") or "answer"
    if by not in export.KINDS:
        abort(400, description="Choose one row per answer (by=answer) or one per visit (by=visit).")
    period, ids, code = export_scope()
    response = Response(stream_with_context(export.export_lines(period, ids, by)), mimetype="text/csv")
    set_attachment(response, export.filename(period, code, by))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/export.xlsx")
@login_required
def export_xlsx():
    """Send a workbook with both exports, spooled to a temporary file so memory stays flat."""
    period, ids, code = export_scope()
    limit = current_app.config["SURVEY_XLSX_MAX_VISITS"]
    count = queries.visit_count(period.start, period.end, ids)
    if count > limit:
        args = {"from": period.start.isoformat(), "to": period.end.isoformat(),
                **({"region": request.args["region"].strip()} if request.args.get("region", "").strip() else {})}
        return render_template("reports/too_big.html", count=count, limit=limit, args=args, period=period), 422
    spool = tempfile.TemporaryFile()
    try:
        export.write_workbook(spool, period, ids)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    response = send_file(spool, mimetype=XLSX, as_attachment=False)
    set_attachment(response, export.filename(period, code, suffix="xlsx"))
    response.headers["Cache-Control"] = "private, no-store"
    return response
