"""HQ console: staff accounts (who they are, whether they may log in) and their sessions.

Accounts are still made with ``flask user create``; here HQ deactivates and reactivates
them, and sees and ends their sessions (a lost laptop, someone leaving). Deactivating ends
every session at once (auth/sessions.py).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from ..auth import sessions
from ..extensions import db
from ..models import StaffSession, User, utcnow
from .blueprint import bp


def get_user_or_404(user_id: int) -> User:
    return db.get_or_404(User, user_id)


@bp.get("/staff")
def staff():
    """List staff accounts with their role, regions, state and live sessions."""
    users = db.session.scalars(db.select(User).order_by(User.active.desc(), User.email)).all()
    live = dict(db.session.execute(
        db.select(StaffSession.user_id, db.func.count()).where(
            StaffSession.last_seen_at >= utcnow() - sessions.idle_limit())
        .group_by(StaffSession.user_id)).all())
    return render_template("hq/staff.html", users=users, live=live)


@bp.get("/staff/<int:user_id>")
def staff_user(user_id: int):
    """One account: its regions and its live sessions, each with an End button."""
    user = get_user_or_404(user_id)
    this = g_session_id()
    return render_template("hq/staff_user.html", user=user, sessions=sessions.active_sessions(user.id), this=this,
                           hours=current_app.config["SURVEY_SESSION_HOURS"])


def g_session_id() -> int | None:
    row = sessions.current_session()
    return row.id if row is not None else None


@bp.post("/staff/<int:user_id>/deactivate")
def staff_deactivate(user_id: int):
    user = get_user_or_404(user_id)
    if user.id == current_user.id:
        flash("You can't deactivate your own account: ask another HQ member.")
        return redirect(url_for("hq.staff_user", user_id=user.id))
    if user.active:
        user.active = False
        ended = sessions.end_all(user.id)
        db.session.commit()
        current_app.logger.info("user %s deactivated by %s (%d sessions ended)", user.id, current_user.id, ended)
        flash(f"Deactivated {user.email}: they can't log in, and their {ended} session{'s' if ended != 1 else ''} "
              "ended.")
    return redirect(url_for("hq.staff"))


@bp.post("/staff/<int:user_id>/reactivate")
def staff_reactivate(user_id: int):
    user = get_user_or_404(user_id)
    if not user.active:
        user.active = True
        db.session.commit()
        current_app.logger.info("user %s reactivated by %s", user.id, current_user.id)
        flash(f"{user.email} can log in again.")
    return redirect(url_for("hq.staff"))


@bp.post("/staff/<int:user_id>/sessions/end")
def staff_end_sessions(user_id: int):
    """End every session of an account (HQ's own included, if it is theirs)."""
    user = get_user_or_404(user_id)
    ended = sessions.end_all(user.id)
    db.session.commit()
    current_app.logger.info("all %d sessions of user %s ended by %s", ended, user.id, current_user.id)
    flash(f"Ended {ended} session{'s' if ended != 1 else ''} of {user.email}.")
    return redirect(url_for("hq.staff_user", user_id=user.id))


@bp.post("/staff/<int:user_id>/sessions/<int:session_id>/end")
def staff_end_session(user_id: int, session_id: int):
    user = get_user_or_404(user_id)
    row = db.session.get(StaffSession, session_id)
    if row is None or row.user_id != user.id:
        abort(404)
    db.session.delete(row)
    db.session.commit()
    current_app.logger.info("session %s of user %s ended by %s", session_id, user.id, current_user.id)
    flash(f"Ended one session of {user.email}.")
    return redirect(url_for("hq.staff_user", user_id=user.id))
