"""HQ console: review submissions (the queue, the filtered list, one in full with HQ's decisions)
and their photos. The decisions themselves are written by ``reviews``."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..models import Attachment, ReviewState, Submission
from ..caches import checklist_of
from ..storage import StoreError, photos
from ..scoring import standard_points
from . import queries, reviews
from .blueprint import bp
from .forms import ApproveForm, RejectForm, RestoreForm, ReturnForm, SubmissionFilterForm, page_number

PAGE_SIZE = 50



@bp.get("/submissions")
def submissions():
    return _listing("hq/submissions.html", queue=False)


@bp.get("/review")
def review_queue():
    """The visits waiting: for HQ's decision (pending), then for the shopper (returned)."""
    return _listing("hq/review_queue.html", queue=True)


def _listing(template: str, queue: bool):
    form = SubmissionFilterForm(formdata=request.args)
    page = page_number(request.args.get("page"))
    if not form.validate():
        return render_template(template, form=form, rows=[], total=0, page=1, pages=1, args={})
    rows, total, page = queries.submissions_page(form.criteria(), page, PAGE_SIZE, queue=queue)
    # Only the filter's own fields go into the pager's links (url_for would take "_external" and the like).
    fields = {f.name for f in form}
    args = {k: v for k, v in request.args.items() if k in fields and v}
    return render_template(template, form=form, rows=rows, total=total, page=page, state_words=STATE_WORDS,
                           pages=max(1, math.ceil(total / PAGE_SIZE)), args=args, titles=queries.checklist_titles())


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int):
    return _submission_page(db.get_or_404(Submission, submission_id))


#: decision → its form, the function that takes it, and what HQ is told after.
DECISIONS = {
    "approve": (ApproveForm, reviews.approve, "Approved {ref}: it counts in reports."),
    "return": (ReturnForm, reviews.return_to_shopper,
               "Returned {ref} to the shopper with your note; their link opens again with every answer."),
    "reject": (RejectForm, reviews.reject, "Rejected {ref}: it no longer counts in reports."),
    "restore": (RestoreForm, reviews.restore, "Restored {ref}: it counts in reports again."),
}


def submission_decide(submission_id: int, decision: str):
    """Take one review decision (``hq.submission_approve``, ``_return``, ``_reject``, ``_restore``)."""
    submission = db.get_or_404(Submission, submission_id)
    form_class, take, done = DECISIONS[decision]
    form = form_class()
    shown = form.shown_state() or submission.review
    if shown != submission.review or not reviews.allowed(decision, shown):
        flash(f"This submission is {STATE_WORDS[submission.review]} now; nothing changed.")
        return redirect(url_for("hq.submission", submission_id=submission.id))
    if form.validate_on_submit():
        if take(submission, shown, current_user, form.reason.data or ""):
            flash(done.format(ref=submission.reference))
        else:
            db.session.refresh(submission)
            flash(f"This submission is {STATE_WORDS[submission.review]} now; nothing changed.")
        return redirect(url_for("hq.submission", submission_id=submission.id))
    return _submission_page(submission, {decision: form}, status=422)


for _decision in DECISIONS:
    bp.add_url_rule(f"/submissions/<int:submission_id>/{_decision}", f"submission_{_decision}", submission_decide,
                    methods=["POST"], defaults={"decision": _decision})


@bp.get("/attachments/<int:attachment_id>")
def attachment(attachment_id: int):
    """Serve a submitted photo to staff only, as an image that can never run as a page."""
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.submission_id is None:
        abort(404)
    try:
        data = photos().read(item.stored_name)
    except StoreError:
        current_app.logger.warning("photo %s could not be read from the store", item.stored_name, exc_info=True)
        abort(503)
    if data is None:
        abort(404)
    response = Response(data, mimetype=item.content_type)
    extension = item.stored_name.rsplit(".", 1)[-1]
    response.headers["Content-Disposition"] = f'inline; filename="photo-{item.id}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


#: How the pages name each review state.
STATE_WORDS = {ReviewState.counted: "counted", ReviewState.pending: "waiting for review",
               ReviewState.returned: "returned to the shopper", ReviewState.rejected: "rejected"}


def _submission_page(submission: Submission, posted: dict | None = None, status: int = 200):
    forms = {}
    for decision, (form_class, _, _) in DECISIONS.items():
        forms[decision] = (posted or {}).get(decision) or form_class(formdata=None)
        forms[decision].shown.data = submission.review.value
    return render_template("hq/submission.html", s=submission, **submission_details(submission),
                           decide=forms, allowed=reviews.allowed, state_words=STATE_WORDS,
                           changes=reviews.changes_since_return(submission), today=date.today()), status


def submission_details(submission: Submission) -> dict:
    """Lay out one submission for reading: sections with their answers, standard scores, photos."""
    checklist = checklist_of(submission.version)
    questions = {q.key: (section, q) for section, q in checklist.questions()}
    photos = {a.question_key: a for a in submission.attachments}
    by_section: dict[str, list[dict]] = defaultdict(list)
    for answer in submission.answers:
        section, question = questions.get(answer.question_key, (None, None))
        by_section[answer.section_key].append({
            "key": answer.question_key,
            "text": question.text if question else answer.question_key,
            "value": question.kind.display(question, answer.value) if question else answer.value,
            "status": answer.status, "earned": answer.earned, "possible": answer.possible,
            "critical_fail": answer.critical_fail, "comment": answer.comment,
            "critical": bool(getattr(question, "critical", False)), "standard": answer.standard_key,
            "photo": photos.get(answer.question_key),
        })
    points = standard_points((a.standard_key, a.earned, a.possible) for a in submission.answers)
    titles = {s.key: s.title for s in checklist.sections}
    standards = queries.standard_titles()
    return {
        "checklist": checklist,
        "sections": [{"key": s.section_key, "title": titles.get(s.section_key, s.section_key), "weight": s.weight,
                      "earned": s.earned, "possible": s.possible, "score": s.score,
                      "answers": by_section.get(s.section_key, [])} for s in submission.sections],
        "standard_scores": [{"key": k, "title": standards.get(k, k), "earned": e, "possible": p, "score": e / p}
                            for k, (e, p) in sorted(points.items(),
                                                    key=lambda kv: standards.get(kv[0], kv[0]))],
        "unsorted_photos": [a for a in submission.attachments if a.question_key not in questions],
    }
