"""Staff login and logout; repeated failures for an account or an address are slowed down."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from ..extensions import db, limiter
from ..models import User
from .forms import LoginForm

bp = Blueprint("auth", __name__)


def _email_key() -> str:
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response) -> bool:
    """Count only failed attempts: a correct password is never throttled by earlier typos."""
    return response.status_code != 302


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user) -> str:
    """HQ lands on its console, managers on their reports."""
    if user.is_hq and "hq.index" in current_app.view_functions:
        return url_for("hq.index")
    return url_for("reports.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_email_key, methods=["POST"], deduct_when=_failed)
@limiter.limit("30 per minute", methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(db.select(User).filter_by(email=form.email.data.strip().lower()))
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
        form.password.errors.append("That e-mail and password don't match an account.")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 422


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))
