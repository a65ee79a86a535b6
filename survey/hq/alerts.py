"""HQ console: the e-mail alerts (SPEC §8), what became of each, and "Send again"."""

from __future__ import annotations

import math

from flask import flash, redirect, render_template, request, url_for

from .. import alerts as alerting
from ..extensions import db
from ..models import Alert
from . import queries
from .blueprint import bp
from .forms import AlertFilterForm, SendAgainForm, page_number

PAGE_SIZE = 50


@bp.get("/alerts")
def alerts():
    form = AlertFilterForm(formdata=request.args)
    rows, total, page = [], 0, 1  # filters that don't validate show their messages and no list
    if form.validate():
        rows, total, page = queries.alerts_page(form.state.data or "", form.reason.data or "", form.region.data,
                                                page_number(request.args.get("page")), PAGE_SIZE)
    kept = {name: value for name, value in request.args.items() if name in form and value}
    return render_template("hq/alerts.html", form=form, rows=rows, total=total, page=page,
                           pages=max(1, math.ceil(total / PAGE_SIZE)), args=kept if rows else {},
                           resend=SendAgainForm())


@bp.post("/alerts/<int:alert_id>/resend")
def alert_resend(alert_id: int):
    alert = db.get_or_404(Alert, alert_id)
    form = SendAgainForm()
    back = url_for("hq.alerts", **{k: v for k, v in request.args.items() if k in ("state", "reason", "region", "page")})
    if not form.validate_on_submit():
        flash("The form had expired; nothing changed. Press “Send again” once more.")
    elif alerting.send_again(alert):
        flash(f"The alert about {alert.submission.reference} is queued again; the worker sends it within a minute.")
    else:
        flash(f"The alert about {alert.submission.reference} is {alert.state.value}; only a failed or unknown "
              "alert can be sent again.")
    return redirect(back)
