"""A manager's screens (SPEC §8): a branch page, a visit page, actions, and the photos of a visit.

Reading goes through ``reports.service`` (the same numbers as the PDFs); the few writes, on
actions and appeals, go through ``survey.actions`` and ``survey.appeals``. Anything outside a
manager's regions is a 404.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from survey import actions as operations
from survey import appeals
from survey.access import can_see_region, get_branch_or_404
from survey.caches import checklist_of
from survey.extensions import db
from survey.models import Action, ActionState, AppealCategory, Attachment, Checklist, Submission
from survey.photos import send_photo

from . import queries, service, visit_parts
from .forms import ActionForm, AppealForm, DoneForm, DropForm
from .views import bp, period_or_400

#: The parts of a visit's page, in order: (name, template). Other features add theirs here
#: (review history, flags, an appeal) rather than editing the page.
VISIT_PARTS: list[tuple[str, str]] = [
    ("appeal", "reports/_visit_appeal.html"),
    ("flags", "reports/_visit_flags.html"),
    ("answers", "reports/_visit_answers.html"),
    ("actions", "reports/_visit_actions.html"),
    ("history", "reports/_visit_history.html"),
]


def visit_extras(row) -> dict:
    """Read what the parts beside the answers show: the visit's appeal (and whether it may be
    appealed now), its trust flags and its review history."""
    submission = db.session.get(Submission, row.id)
    return {"appeal": visit_parts.appeal(row.id, row.version_id), "flags": visit_parts.flags(row.id),
            "history": visit_parts.history(row.id), "appeal_refused": appeals.why_not(submission),
            "appeal_until": appeals.window_end(submission)}


def visit_or_404(reference: str):
    row = queries.visit(reference)
    if row is None or not can_see_region(current_user, row.region_id):
        abort(404)
    return row


def action_or_404(action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None or not can_see_region(current_user, action.branch.region_id):
        abort(404)
    return action


@bp.get("/branches/<code>")
@login_required
def branch(code: str):
    """Show a branch's page: score, trend, standards, fix first, actions, visits."""
    found = queries.branch_by_code(code)  # the row the page's data starts from, not an ORM object
    if found is None or not can_see_region(current_user, found.region_id):
        abort(404)
    period = period_or_400()
    data = service.branch_screen(found.code, period.start, period.end, branch=found)
    args = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    return render_template("reports/branch.html", r=data, args=args)


@bp.get("/visits/<reference>")
@login_required
def visit(reference: str):
    """Show one visit: its answers, comments and photos, and the actions opened from it."""
    row = visit_or_404(reference)
    data = service.visit_screen(row)
    return render_template("reports/visit.html", v=data, parts=VISIT_PARTS, **visit_extras(row))


@bp.route("/visits/<reference>/appeal", methods=["GET", "POST"])
@login_required
def visit_appeal(reference: str):
    """Dispute a counted visit within the appeal window: a category, a reason, the whole visit or some questions."""
    row = visit_or_404(reference)
    submission = db.session.get(Submission, row.id)
    refused = appeals.why_not(submission)
    if refused:  # appealed already, not counted, or too late: say so, with no form to fill
        return render_template("reports/appeal_new.html", v=row, refused=refused, form=None), \
            (409 if request.method == "POST" else 200)
    questions = appeals.disputable(submission)
    form = AppealForm(categories=[(c.value, label) for c, (label, _) in appeals.CATEGORIES.items()],
                      questions=[(d.token, d.text) for d in questions])
    if form.validate_on_submit():
        chosen = form.questions.data if form.scope.data == "questions" else None
        try:
            appeals.open_appeal(submission, category=AppealCategory(form.category.data),
                                reason=form.reason.data.strip(), questions=chosen, user=current_user)
        except appeals.AppealRefused as refused_now:
            return render_template("reports/appeal_new.html", v=row, refused=str(refused_now), form=None), 409
        flash("Appeal sent: HQ decides each disputed item and this page shows the outcome.")
        return redirect(url_for("reports.visit", reference=row.reference))
    status = 400 if form.errors else 200
    return render_template("reports/appeal_new.html", v=row, form=form, questions=questions,
                           hints={c.value: hint for c, (_, hint) in appeals.CATEGORIES.items()}, refused=None,
                           until=appeals.window_end(submission)), status


@bp.get("/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    """Send a visit's photo to someone who may see the visit."""
    item = db.session.get(Attachment, photo_id)
    if item is None or item.submission_id is None:
        abort(404)
    owner = db.session.get(Submission, item.submission_id)
    if not can_see_region(current_user, owner.branch.region_id):
        abort(404)
    return send_photo(item)


def _question_or_404(slug: str, key: str) -> tuple[Checklist, str]:
    """Return a checklist and the newest wording of one of its questions (any version), or 404."""
    checklist = db.session.scalar(db.select(Checklist).where(Checklist.slug == slug))
    if checklist is None or not key:
        abort(404)
    for version in reversed(checklist.versions):
        for _, question in checklist_of(version).questions():
            if question.key == key and question.scored:
                return checklist, question.text
    abort(404)


@bp.route("/branches/<code>/actions/new", methods=["GET", "POST"])
@login_required
def action_new(code: str):
    """Open an action on a question of a branch, from a fix-first item or a critical failure."""
    found = get_branch_or_404(code)
    slug, key = request.args.get("checklist", ""), request.args.get("question", "")
    checklist, text = _question_or_404(slug, key)
    reference = request.args.get("visit")
    submission = None
    if reference:
        submission = queries.visit(reference)
        if submission is None or submission.branch_id != found.id:
            abort(404)
    today = date.today()
    form = ActionForm(today=today)
    if form.validate_on_submit():
        action = operations.open_action(
            branch_id=found.id, checklist_id=checklist.id, question_key=key, question_text=text,
            what=form.what.data.strip(), owner=form.owner.data.strip(), due=form.due.day,
            by_id=current_user.id, today=today, submission_id=submission.id if submission else None)
        flash("Action opened.")
        return redirect(url_for("reports.action", action_id=action.id))
    status = 400 if form.errors else 200
    return render_template("reports/action_new.html", form=form, branch=found, question=text,
                           checklist=checklist, visit=reference), status


def _action_page(action: Action, edit: ActionForm | None = None, done: DoneForm | None = None,
                 drop: DropForm | None = None, status: int = 200):
    today = date.today()
    data, = service.action_list(queries.actions(action_id=action.id), today)
    if edit is None:
        edit = ActionForm(formdata=None, obj=None, today=today, keep=action.due,
                          data={"what": action.what, "owner": action.owner, "due": action.due.isoformat()})
    return render_template("reports/action.html", a=data, edit=edit, done=done or DoneForm(formdata=None),
                           drop=drop or DropForm(formdata=None)), status


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
@login_required
def action(action_id: int):
    """Show an action with its question's score before and since; POST changes it while open."""
    found = action_or_404(action_id)
    if request.method == "GET":
        return _action_page(found)
    form = ActionForm(today=date.today(), keep=found.due)
    if found.state != ActionState.open:
        flash("This action is closed already; nothing changed.")
        return redirect(url_for("reports.action", action_id=found.id))
    if form.validate_on_submit():
        operations.edit_action(found, what=form.what.data.strip(), owner=form.owner.data.strip(),
                               due=form.due.day, by_id=current_user.id)
        flash("Action saved.")
        return redirect(url_for("reports.action", action_id=found.id))
    return _action_page(found, edit=form, status=400)


def _close(action_id: int, part: str, form, close, said: str):
    """Close an action by ``close`` (done or drop) from the ``part`` form of its page."""
    found = action_or_404(action_id)
    if not form.validate_on_submit():
        return _action_page(found, **{part: form}, status=400)
    closed = close(found.id, (form.note.data or "").strip(), current_user.id)
    flash(said if closed else "This action is closed already; nothing changed.")
    return redirect(url_for("reports.action", action_id=found.id))


@bp.post("/actions/<int:action_id>/done")
@login_required
def action_done(action_id: int):
    """Mark an action done, with a note of what was done."""
    return _close(action_id, "done", DoneForm(), operations.complete_action, "Marked done.")


@bp.post("/actions/<int:action_id>/drop")
@login_required
def action_drop(action_id: int):
    """Drop an action, with or without a reason."""
    return _close(action_id, "drop", DropForm(), operations.drop_action, "Action dropped.")
