"""HQ console: the monthly delivery's settings, each batch's progress and failures, and "Send again"
for one manager's e-mail (survey/delivery.py does the work)."""

from __future__ import annotations

import math
from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for

from .. import delivery
from ..extensions import db
from ..models import BatchPdf, DeliveryMail, MailState, PdfState, ReportBatch, User, delivery_mail_pdf
from .blueprint import bp
from .forms import DeliverySettingsForm, SendAgainForm, page_number

PAGE_SIZE = 20


def _batches(page: int):
    total = db.session.scalar(db.select(db.func.count(ReportBatch.id)))
    rows = db.session.scalars(db.select(ReportBatch).order_by(ReportBatch.id.desc())
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return rows, total


def _page(form: DeliverySettingsForm, status: int = 200):
    page = page_number(request.args.get("page"))
    rows, total = _batches(page)
    return render_template("hq/deliveries.html", form=form, batches=rows,
                           progress=delivery.progress([b.id for b in rows]), page=page,
                           pages=max(1, math.ceil(total / PAGE_SIZE)), settings=delivery.settings()), status


@bp.get("/deliveries")
def deliveries():
    current = delivery.settings()
    form = DeliverySettingsForm(data={"enabled": current.enabled, "day": current.day,
                                      "limit_mb": Decimal(current.attach_limit_kb) / 1024,
                                      "language": current.language})
    return _page(form)


@bp.post("/deliveries/settings")
def delivery_settings():
    form = DeliverySettingsForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    delivery.save_settings(form.enabled.data, form.day.data, int(form.limit_mb.data * 1024), form.language.data)
    flash("Saved the monthly delivery's settings.")
    return redirect(url_for("hq.deliveries"))


@bp.get("/deliveries/<int:batch_id>")
def delivery_batch(batch_id: int):
    batch = db.get_or_404(ReportBatch, batch_id)
    # Failures first: they are what HQ comes here for.
    failed_first = db.case((BatchPdf.state == PdfState.failed, 0), (BatchPdf.state == PdfState.making, 1),
                           (BatchPdf.state == PdfState.due, 2), else_=3)
    pdfs = db.session.scalars(db.select(BatchPdf).where(BatchPdf.batch_id == batch_id)
                              .order_by(failed_first, BatchPdf.kind.desc(), BatchPdf.code)).all()
    # Each e-mail's number of PDFs in the same query: one look-up per manager was a query each.
    counted = (db.select(db.func.count()).where(delivery_mail_pdf.c.mail_id == DeliveryMail.id)
               .correlate(DeliveryMail).scalar_subquery())
    mails = db.session.execute(db.select(DeliveryMail, User, counted).join(User)
                               .where(DeliveryMail.batch_id == batch_id).order_by(User.email)).all()
    return render_template("hq/delivery_batch.html", batch=batch, pdfs=pdfs, mails=mails,
                           progress=delivery.progress([batch_id])[batch_id], resend=SendAgainForm(),
                           resendable=(MailState.sent, MailState.failed, MailState.unknown))


@bp.post("/deliveries/mails/<int:mail_id>/resend")
def delivery_resend(mail_id: int):
    row = db.get_or_404(DeliveryMail, mail_id)
    form = SendAgainForm()
    if not form.validate_on_submit():
        flash("The form had expired; nothing changed. Press “Send again” once more.")
    else:
        problem = delivery.send_again(row)
        if problem:
            flash(f"The e-mail to {row.user.email} can't be sent again: {problem}.")
        else:
            flash(f"The e-mail to {row.user.email} is queued again; the worker sends it within a minute.")
    return redirect(url_for("hq.delivery_batch", batch_id=row.batch_id))
