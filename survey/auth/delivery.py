"""A staff member's own choice of the monthly e-mail of their reports (survey/delivery.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..delivery import settings
from ..extensions import db
from .forms import DeliveryChoiceForm
from .views import bp


@bp.route("/account/delivery", methods=["GET", "POST"])
@login_required
def delivery_choice():
    """Turn the monthly e-mail on or off for oneself; HQ accounts get none, and are told so."""
    form = DeliveryChoiceForm(data={"monthly": current_user.monthly_delivery})
    if form.validate_on_submit() and not current_user.is_hq:
        current_user.monthly_delivery = form.monthly.data
        db.session.commit()
        flash("You will get your reports by e-mail every month." if form.monthly.data
              else "You will get no monthly e-mail of your reports. Turn it on here again at any time.")
        return redirect(url_for("auth.delivery_choice"))
    return render_template("auth/delivery.html", form=form, settings=settings())
