"""Batch PDFs (survey/delivery.py): how the worker renders one, and the page a linked one opens at.

A monthly e-mail over HQ's size limit links its PDFs instead of attaching them. The link leads
here, never to the store: the reader logs in, and a PDF of a region they may not see is a 404,
like every other report.
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, render_template, url_for
from flask_login import current_user, login_required

from survey.access import can_see_region
from survey.delivery import FOLDER, month_end
from survey.extensions import db
from survey.models import BatchPdf, PdfState
from survey.storage import objects

from . import output, service
from .periods import Period
from .views import bp, download


def render(kind: str, code: str, start: date, end: date) -> tuple[str, bytes]:
    """Render a branch or region PDF for a period, named as a download of it would be."""
    build = service.branch_report if kind == "branch" else service.region_report
    data = build(code, start, end)
    return output.report_filename(data[kind]["code"], Period(start, end)), output.render_pdf(data)


@bp.get("/deliveries/<int:pdf_id>/<filename>")
@login_required
def delivered_pdf(pdf_id: int, filename: str):
    """A PDF of a batch, for those who may see its region."""
    pdf = db.session.get(BatchPdf, pdf_id)
    if (pdf is None or pdf.state != PdfState.done or pdf.filename != filename
            or not can_see_region(current_user, pdf.region_id)):
        abort(404)
    if pdf.stored_name is None:  # deleted after SURVEY_BATCH_KEEP_DAYS: the same report, made now
        first = date.fromisoformat(f"{pdf.batch.month}-01")
        fresh = url_for(f"reports.{pdf.kind}_pdf", code=pdf.code, **{"from": first.isoformat(),
                                                                        "to": month_end(first).isoformat()})
        return render_template("reports/delivered_gone.html", pdf=pdf, fresh=fresh, first=first,
                               days=current_app.config["SURVEY_BATCH_KEEP_DAYS"]), 410
    body = objects(FOLDER).read(pdf.stored_name)
    if body is None:
        abort(404)
    return download(body, "application/pdf", pdf.filename)
