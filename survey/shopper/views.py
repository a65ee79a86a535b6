"""The shopper's pages: ``/s/<token>`` shows the checklist, takes it once, then says it arrived."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from ..extensions import db
from ..models import Assignment, AssignmentState, Submission
from ..submissions import checklist_of, find_assignment, needs_pinning, pin_version, record_submission
from . import drafts, forms, uploads

bp = Blueprint("shopper", __name__)


def get_assignment_or_404(token: str) -> Assignment:
    assignment = find_assignment(token)
    if assignment is None:
        abort(404)
    return assignment


def closed_page(assignment: Assignment, today: date):
    """Return the page for a link that can't take answers (used, expired, cancelled, not yet open), or None."""
    state = assignment.effective_state(today)
    if state == AssignmentState.submitted:
        submission = db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id))
        return render_template("shopper/received.html", submission=submission, assignment=assignment)
    if state in (AssignmentState.expired, AssignmentState.cancelled):
        return render_template("shopper/closed.html", assignment=assignment, state=state), 410
    if today < assignment.not_before:
        return render_template("shopper/closed.html", assignment=assignment, state=state), 200
    return None


@bp.route("/s/<token>", methods=["GET", "POST"])
def fill(token: str):
    assignment = get_assignment_or_404(token)
    today = date.today()
    if request.method == "POST" and assignment.state == AssignmentState.submitted:
        return redirect(url_for("shopper.fill", token=token), code=303)
    page = closed_page(assignment, today)
    if page is not None:
        return page
    if needs_pinning(assignment):  # only the first opening writes
        pin_version(assignment)
        db.session.commit()
    version = assignment.version
    checklist = checklist_of(version)
    form_cls = forms.form_class(version.id, version.content_hash, checklist)
    draft = drafts.draft_formdata(assignment) if request.method == "GET" else None
    form = form_cls(formdata=draft) if draft is not None else form_cls()
    status = 200
    if request.method == "POST" and request.form.get("action") == "save":
        # "Save and finish later" without JavaScript: keep what is typed, check nothing yet.
        if drafts.save_draft(assignment, form):
            flash("saved")
            return redirect(url_for("shopper.fill", token=token), code=303)
        status = 422
    elif request.method == "POST":
        attachments, upload_problems = uploads.collect(form, checklist, assignment)
        window = (assignment.not_before, assignment.due)
        filled = forms.check(form, checklist, window, today, attachments, upload_problems)
        if filled is not None:
            submission, created = record_submission(assignment, version, filled)
            if created:
                flash("received")
            return redirect(url_for("shopper.fill", token=token), code=303)
        status = 422
    else:
        form.idem.data = forms.new_idempotency_key()
    return render_template(
        "shopper/fill.html",
        form=form,
        checklist=checklist,
        assignment=assignment,
        field_name=forms.field_name,
        answered=forms.answered_count(form, checklist),
        total=sum(len(s.questions) for s in checklist.sections),
        summary=forms.error_summary(form, checklist),
        hints=forms.condition_hints(checklist),
        csrf_failed=forms.csrf_failed(form),
        upload_max_mb=current_app.config["SURVEY_UPLOAD_MAX_MB"],
        today=today,
    ), status
