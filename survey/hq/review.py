"""HQ console: review submissions (the queue, the filtered list, one in full with HQ's decisions)
and their photos. The decisions themselves are written by ``reviews``."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..appeals import CATEGORIES, appeal_of
from ..extensions import db
from ..photos import send_photo
from ..models import Attachment, ReviewState, Submission, photo_key
from ..caches import checklist_of
from ..scoring import standard_points
from ..submissions import OUTCOME_PREFIX
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


#: What the review queue filters by: the filters its page shows.
QUEUE_FILTERS = ("region", "checklist", "flag")


def _listing(template: str, queue: bool):
    form = SubmissionFilterForm(formdata=request.args, only=QUEUE_FILTERS if queue else None)
    page = page_number(request.args.get("page"))
    if not form.validate():
        return render_template(template, form=form, rows=[], total=0, page=1, pages=1, more=False, args={})
    rows, total, page, more = queries.submissions_page(form.criteria(), page, PAGE_SIZE, queue=queue)
    # Only the filter's own fields go into the pager's links (url_for would take "_external" and the like).
    fields = {f.name for f in form}
    args = {k: v for k, v in request.args.items() if k in fields and v}
    # pages is None when the matches were not all counted: the pager then offers the next page.
    pages = None if more else max(1, math.ceil(total / PAGE_SIZE))
    return render_template(template, form=form, rows=rows, total=total, page=page, state_words=STATE_WORDS,
                           pages=pages, more=more, args=args, titles=queries.checklist_titles())


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
    return send_photo(db.session.get(Attachment, attachment_id))


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
                           changes=reviews.changes_since_return(submission), today=date.today(),
                           appeal=appeal_of(submission.id), categories=CATEGORIES), status


def submission_details(submission: Submission) -> dict:
    """Lay out one submission for reading: sections (each repetition of a repeated one apart) with their
    answers, bonuses and deductions applied, the outcome it ended with, standard scores, photos."""
    checklist = checklist_of(submission.version)
    questions = {q.key: (section, q) for section, q in checklist.questions()}
    photos = {a.question_key: a for a in submission.attachments}
    by_section: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    adjustments = []
    for answer in submission.answers:
        section, question = questions.get(answer.question_key, (None, None))
        if question is None and answer.value and answer.value.startswith(OUTCOME_PREFIX):
            continue  # the outcome's own row, shown as the outcome
        row = {
            "key": answer.question_key,
            "text": question.text if question else answer.question_key,
            "value": question.kind.display(question, answer.value) if question else answer.value,
            "status": answer.status, "earned": answer.earned, "possible": answer.possible,
            "critical_fail": answer.critical_fail, "comment": answer.comment,
            "critical": bool(getattr(question, "critical", False)), "standard": answer.standard_key,
            "photo": photos.get(photo_key(answer.question_key, answer.repeat)),
            "adjustment": _adjustment(question, answer),
        }
        by_section[answer.section_key][answer.repeat].append(row)
        if row["adjustment"] and answer.adjustment:
            adjustments.append(row)
    points = standard_points((a.standard_key, a.earned, a.possible) for a in submission.answers)
    placed = {photo_key(a.question_key, a.repeat) for a in submission.answers} | set(questions)
    sections_of = {s.key: s for s in checklist.sections}
    standards = queries.standard_titles()
    return {
        "checklist": checklist,
        "sections": [_section(s, sections_of.get(s.section_key), by_section.get(s.section_key, {}))
                     for s in submission.sections],
        "standard_scores": [{"key": k, "title": standards.get(k, k), "earned": e, "possible": p, "score": e / p}
                            for k, (e, p) in sorted(points.items(),
                                                    key=lambda kv: standards.get(kv[0], kv[0]))],
        "unsorted_photos": [] if submission.outcome else [a for a in submission.attachments
                                                          if a.question_key not in placed],
        "adjusted": _adjusted(submission, adjustments),
        "outcome": _outcome(submission, checklist),
    }


def _adjustment(question, answer) -> dict | None:
    """What a bonus or deduction question did: its kind, its points and the points applied (+P, -P or 0)."""
    rule = question.kind.adjustment(question) if question is not None else None
    if rule is None:
        return None
    kind, points = rule
    return {"kind": kind, "points": points, "applied": answer.adjustment}


def _section(score, section, repetitions: dict[int, list[dict]]) -> dict:
    """One section's scores and answers; a repeated one also gets each repetition, headed as the form
    headed it, with its own score, and each question's score over all its repetitions (their mean)."""
    out = {"key": score.section_key, "title": section.title if section else score.section_key,
           "weight": score.weight, "earned": score.earned, "possible": score.possible, "score": score.score,
           "answers": repetitions.get(0, []), "repetitions": [], "over_all": []}
    if section is None or section.repeat is None:
        return out
    per_question: dict[str, list[float]] = defaultdict(list)
    for n in sorted(k for k in repetitions if k):
        answers = repetitions[n]
        earned = sum(a["earned"] or 0 for a in answers if a["possible"])
        possible = sum(a["possible"] for a in answers if a["possible"])
        label = section.repeat.heading(n) if section.repeat.label else f"{section.title} {n}"
        out["repetitions"].append({"n": n, "heading": label, "answers": answers,
                                   "score": earned / possible if possible else None})
        for a in answers:
            if a["possible"]:
                per_question[a["key"]].append((a["earned"] or 0) / a["possible"])
    out["over_all"] = [{"text": q.text, "score": sum(per_question[q.key]) / len(per_question[q.key]),
                        "n": len(per_question[q.key])} for q in section.questions if per_question.get(q.key)]
    return out


def _adjusted(submission: Submission, applied: list[dict]) -> dict | None:
    """How bonuses and deductions moved the overall score: the sections' weighted mean, each one applied, the result."""
    if not applied:
        return None
    scored = [s for s in submission.sections if s.score is not None]
    weight = sum(s.weight for s in scored)
    mean = sum(s.score * s.weight for s in scored) / weight if weight else None
    return {"mean": mean, "applied": applied}


def _outcome(submission: Submission, checklist) -> dict | None:
    """The way the shop ended instead of a filled form, as the shopper reported it: label, comment, photos."""
    if not submission.outcome:
        return None
    outcome = checklist.outcome(submission.outcome)
    row = next((a for a in submission.answers if a.value == OUTCOME_PREFIX + submission.outcome), None)
    return {"key": submission.outcome, "label": outcome.label if outcome else submission.outcome,
            "comment": row.comment if row else None, "photos": list(submission.attachments)}
