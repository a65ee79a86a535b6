"""HQ console: review submissions (filter, read one in full, reject or restore) and their photos."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..photos import send_photo
from ..models import (
    Attachment,
    Submission,
    SubmissionEvent,
    utcnow,
)
from ..caches import checklist_of
from ..scoring import standard_points
from ..submissions import OUTCOME_PREFIX
from . import queries
from .blueprint import bp
from .forms import RejectForm, RestoreForm, SubmissionFilterForm, page_number

PAGE_SIZE = 50



@bp.get("/submissions")
def submissions():
    form = SubmissionFilterForm(formdata=request.args)
    page = page_number(request.args.get("page"))
    if not form.validate():
        return render_template("hq/submissions.html", form=form, rows=[], total=0, page=1, pages=1, args={})
    rows, total, page = queries.submissions_page(form.criteria(), page, PAGE_SIZE)
    # Only the filter's own fields go into the pager's links (url_for would take "_external" and the like).
    fields = {f.name for f in form}
    args = {k: v for k, v in request.args.items() if k in fields and v}
    return render_template("hq/submissions.html", form=form, rows=rows, total=total, page=page,
                           pages=max(1, math.ceil(total / PAGE_SIZE)), args=args, titles=queries.checklist_titles())


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int):
    return _submission_page(db.get_or_404(Submission, submission_id))


@bp.post("/submissions/<int:submission_id>/reject")
def submission_reject(submission_id: int):
    submission = db.get_or_404(Submission, submission_id)
    form = RejectForm()
    if submission.rejected:
        flash("This submission was already rejected; nothing changed.")
        return redirect(url_for("hq.submission", submission_id=submission.id))
    if form.validate_on_submit():
        now = utcnow()
        submission.rejected, submission.rejected_reason = True, form.reason.data
        submission.rejected_at, submission.rejected_by_id = now, current_user.id
        db.session.add(SubmissionEvent(submission_id=submission.id, user_id=current_user.id, action="rejected",
                                       reason=form.reason.data, at=now))
        db.session.commit()
        flash(f"Rejected {submission.reference}: it no longer counts in reports.")
        return redirect(url_for("hq.submission", submission_id=submission.id))
    return _submission_page(submission, reject=form, status=422)


@bp.post("/submissions/<int:submission_id>/restore")
def submission_restore(submission_id: int):
    submission = db.get_or_404(Submission, submission_id)
    form = RestoreForm()
    if not submission.rejected:
        flash("This submission is not rejected; nothing changed.")
        return redirect(url_for("hq.submission", submission_id=submission.id))
    if form.validate_on_submit():
        submission.rejected = False
        submission.rejected_reason = submission.rejected_at = submission.rejected_by_id = None
        db.session.add(SubmissionEvent(submission_id=submission.id, user_id=current_user.id, action="restored",
                                       reason=form.reason.data or ""))
        db.session.commit()
        flash(f"Restored {submission.reference}: it counts in reports again.")
        return redirect(url_for("hq.submission", submission_id=submission.id))
    return _submission_page(submission, restore=form, status=422)


@bp.get("/attachments/<int:attachment_id>")
def attachment(attachment_id: int):
    """Serve a submitted photo to staff only, as an image that can never run as a page."""
    return send_photo(db.session.get(Attachment, attachment_id))


def _submission_page(submission: Submission, reject: RejectForm | None = None,
                     restore: RestoreForm | None = None, status: int = 200):
    return render_template("hq/submission.html", s=submission, **submission_details(submission),
                           reject=reject or RejectForm(formdata=None), restore=restore or RestoreForm(formdata=None),
                           today=date.today()), status


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
            "photo": photos.get(answer.question_key), "adjustment": _adjustment(question, answer),
        }
        by_section[answer.section_key][answer.repeat].append(row)
        if row["adjustment"] and answer.adjustment:
            adjustments.append(row)
    points = standard_points((a.standard_key, a.earned, a.possible) for a in submission.answers)
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
                                                          if a.question_key not in questions],
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
