"""Staff login and logout, and a staff member's own password (auth/throttle.py slows failed logins)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import TooManyRequests

from ..extensions import db
from ..models import User
from . import sessions, throttle
from .forms import LoginForm, PasswordForm

bp = Blueprint("auth", __name__)


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
def login():
    """Log in; failures are throttled by the evidence an attempt brings (auth/throttle.py)."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        try:
            throttle.check(email)
        except throttle.Throttled as exc:
            raise TooManyAttempts(exc.retry_after) from None
        user = db.session.scalar(db.select(User).filter_by(email=email))
        if throttle.verify(user, form.password.data):
            sessions.start(user)
            response = redirect(_safe_next(request.args.get("next")) or home_for(user))
            throttle.remember_device(response, throttle.account_key(email))
            return response
        throttle.failed(email)
        form.password.errors.append("That e-mail and password don't match an account.")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 422


class TooManyAttempts(TooManyRequests):
    """A 429 that says how long to wait (errors.too_many sends it as Retry-After)."""

    explained = True

    def __init__(self, retry_after: int):
        minutes = max(1, round(retry_after / 60))
        super().__init__(f"Too many failed attempts to log in to this account from here. Wait "
                         f"{'a minute' if minutes == 1 else f'{minutes} minutes'} and try again, or log in "
                         "from a browser you have used for this account before.")
        self.retry_after = retry_after


@bp.post("/logout")
def logout():
    """Log out everywhere: every session of this account ends, a copied cookie included."""
    if current_user.is_authenticated:
        ended = sessions.end_all(current_user.id)
        db.session.commit()
        current_app.logger.info("user %s logged out (%d sessions ended)", current_user.id, ended)
    sessions.forget_this_browser()
    flash("You are logged out, on this device and every other.")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of the account ends (a stolen one too)."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            current_user.set_password(form.new.data)
            ended = sessions.end_all(current_user.id, keep=sessions.current_session())
            db.session.commit()
            current_app.logger.info("user %s changed their password (%d other sessions ended)", current_user.id, ended)
            flash("Your password is changed. Every other session of your account has ended.")
            return redirect(home_for(current_user))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200
