"""The shopper's pages: ``/s/<token>`` shows the checklist, takes it once, then says it arrived."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

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


def closedrender_form(assignment: Assignment, today: date):
    """Return the page for a link that can't take answers (used, expired, cancelled, not yet open), or None."""
    state = assignment.effective_state(today)
    if state == AssignmentState.submitted:
        submission = db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id))
        return render_template("shopper/received.html", submission=submission, assignment=assignment,
                               channel=assignment.checklist.channel.value)
    if state in (AssignmentState.expired, AssignmentState.cancelled):
        return render_template("shopper/closed.html", assignment=assignment, state=state), 410
    if today < assignment.not_before:
        return render_template("shopper/closed.html", assignment=assignment, state=state), 200
    return None


#: Rendered questions of a blank form, by (version, content hash, locale); see blank_sections.
_blank: dict[tuple[int, str, str], Markup] = {}


def blank_sections(version, checklist) -> Markup:
    """Return the questions of an unfilled form, rendered once per version and language.

    Every shopper opening a link meets the same blank questions; rendering them (a macro and
    a dozen WTForms fields per question) is most of a GET's time, so the HTML is kept.
    Nothing in it is per shopper: the CSRF token, idempotency key and link are outside it,
    in fill.html, which then needs only the form's fixed fields.
    """
    key = (version.id, version.content_hash, str(get_locale()))
    if key not in _blank:
        if len(_blank) >= 64:  # versions are few; stay bounded all the same
            _blank.clear()
        form = forms.form_class(version.id, version.content_hash, checklist)(formdata=None, meta={"csrf": False})
        _blank[key] = Markup(render_template("shopper/_sections.html", form=form, checklist=checklist,
                                             field_name=forms.field_name, hints=forms.condition_hints(checklist)))
    return _blank[key]


@bp.route("/s/<token>", methods=["GET", "POST"])
def fill(token: str):
    assignment = get_assignment_or_404(token)
    today = date.today()
    if request.method == "POST" and assignment.state == AssignmentState.submitted:
        return redirect(url_for("shopper.fill", token=token), code=303)
    page = closedrender_form(assignment, today)
    if page is not None:
        return page
    if request.method == "GET":
        return _show(assignment, today)
    if needs_pinning(assignment):  # a send from a page opened before the link was (an old copy)
        pin_version(assignment)
        db.session.commit()
    version = assignment.version
    checklist = checklist_of(version)
    form = forms.form_class(version.id, version.content_hash, checklist)()
    if request.form.get("action") == "save":
        # "Save and finish later" without JavaScript: keep what is typed, check nothing yet.
        if drafts.save_draft(assignment, form):
            flash("saved")
            return redirect(url_for("shopper.fill", token=token), code=303)
    else:
        # Photos are stored only for a request that carries this page's CSRF token.
        stored = form.validate()  # the CSRF token: the form's fields are checked in forms.check
        attachments, upload_problems = uploads.collect(form, checklist, assignment, store=stored)
        window = (assignment.not_before, assignment.due)
        filled = forms.check(form, checklist, window, today, attachments, upload_problems)
        if filled is not None:
            submission, created = record_submission(assignment, version, filled)
            if created:
                flash("received")
            if request.headers.get("X-Outbox"):
                return "", 204  # the page's script opens the link, which thanks the shopper
            return redirect(url_for("shopper.fill", token=token), code=303)
    return render_form(assignment, checklist, form, today, sections_html=None), 422


def _show(assignment: Assignment, today: date):
    """The form as a link opens: blank (its questions from the cache), or the saved draft.

    The first opening pins the checklist version and marks the link started; that write is
    committed after the page is rendered, so the objects it changed need no reloading.
    """
    first_opening = needs_pinning(assignment)
    if first_opening:
        pin_version(assignment)
    version = assignment.version
    checklist = checklist_of(version)
    # A draft is saved through a pinned link only, so a link opening for the first time has none.
    draft = None if first_opening else drafts.draft_formdata(assignment)
    if draft is None:
        form = forms.ChecklistBaseForm()
        sections_html = blank_sections(version, checklist)
    else:
        form = forms.form_class(version.id, version.content_hash, checklist)(formdata=draft)
        sections_html = None
    form.idem.data = forms.new_idempotency_key()
    response = render_form(assignment, checklist, form, today, sections_html)
    if first_opening:
        db.session.commit()
    return response


def render_form(assignment: Assignment, checklist, form, today: date, sections_html: Markup | None) -> str:
    """Render the form; ``sections_html`` stands in for the questions of a blank one.

    HQ's preview renders a draft through here too, with a stand-in assignment.
    """
    blank = sections_html is not None
    contact = forms.name_the_contact(form, checklist.channel)
    return render_template(
        "shopper/fill.html",
        form=form,
        checklist=checklist,
        assignment=assignment,
        field_name=forms.field_name,
        answered=0 if blank else forms.answered_count(form, checklist),
        total=sum(len(s.questions) for s in checklist.sections),
        summary=[] if blank else forms.error_summary(form, checklist),
        sections_html=sections_html,
        hints=None if blank else forms.condition_hints(checklist),
        csrf_failed=forms.csrf_failed(form),
        upload_max_mb=current_app.config["SURVEY_UPLOAD_MAX_MB"],
        today=today,
        contact=contact,
    )
