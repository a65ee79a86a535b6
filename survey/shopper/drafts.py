"""Server drafts of a shopper's answers (SPEC §7): kept while filling, shown again when the link reopens.

The fill view calls ``draft_formdata`` on GET and ``save_draft`` for "Save and finish later";
the JSON endpoint the page's script saves through is in ``offline.py``. A draft holds the
raw form fields, checked only when the answers are sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from wtforms import FileField

from .. import caches
from ..caches import checklist_of
from ..extensions import db
from ..models import Assignment, AssignmentState, ShopperDraft, Submission, SubmissionEvent, utcnow
from . import forms
from .fields import builder, count_name, field_name

#: Never part of a draft: the page gives a fresh token and key each time it is shown.
NOT_DRAFTED = {"csrf_token", "idem"}
#: Far above any honest answer (text is capped at 5,000 characters on submit);
#: only stops a draft from becoming a place to park megabytes.
VALUE_MAX = 20_000
VALUES_MAX = 50

def draftable_names(version) -> frozenset[str]:
    """Return the names of the form fields a draft keeps for a version (not files, tokens or keys).

    Every repetition a repeated section may have is named: a repetition past its ``max`` is not kept.
    """
    def names() -> frozenset[str]:
        checklist = checklist_of(version)
        most = {s.key: s.repeat.max for s in checklist.sections if s.repeat is not None}
        form = forms.build_form_class(checklist, most)(formdata=None, meta={"csrf": False})
        return frozenset(f.name for f in form if f.name not in NOT_DRAFTED and not isinstance(f, FileField))

    return caches.draft_fields.get((version.id, version.content_hash), names)


def draft_answers(formdata: MultiDict, version) -> dict[str, str | list[str]]:
    """Keep the known, non-empty fields of a posted form: ``{name: value or [values]}``."""
    answers: dict[str, str | list[str]] = {}
    for name in draftable_names(version):
        values = [v[:VALUE_MAX] for v in formdata.getlist(name)[:VALUES_MAX] if isinstance(v, str) and v != ""]
        if values:
            answers[name] = values[0] if len(values) == 1 else values
    return answers


def store_draft(assignment: Assignment, answers: dict[str, Any]) -> ShopperDraft:
    """Create or replace the one draft of an assignment and commit; a racing first save updates instead."""
    for _ in range(2):
        draft = db.session.scalar(db.select(ShopperDraft).filter_by(assignment_id=assignment.id))
        if draft is None:
            draft = ShopperDraft(assignment_id=assignment.id)
            db.session.add(draft)
        draft.version_id = assignment.version_id
        draft.answers = answers
        draft.updated_at = utcnow()
        try:
            db.session.commit()
            return draft
        except IntegrityError:
            # Another request (a second tab) created the row first: update that one.
            db.session.rollback()
    raise RuntimeError("could not store the draft")


def stamp(draft: ShopperDraft) -> str:
    """Name a draft's state for the page: it tells a phone whether another device saved since."""
    return draft.updated_at.isoformat(timespec="microseconds")


def draft_formdata(assignment: Assignment) -> MultiDict | None:
    """Return the saved draft as form data for the form's GET, or None when there is none.

    Call it on GET only: a POST shows what was posted. The draft's stamp is handed to the
    page (``draft_saved``), so a phone holding older answers of its own defers to it.
    """
    if assignment.version_id is None:
        return None
    draft = db.session.scalar(db.select(ShopperDraft).filter_by(assignment_id=assignment.id))
    if draft is None or draft.version_id != assignment.version_id:
        return None
    g.shopper_draft_saved = stamp(draft)
    return MultiDict([(name, value) for name, given in draft.answers.items()
                      for value in (given if isinstance(given, list) else [given])])


def save_draft(assignment: Assignment, form) -> bool:
    """Store the posted form as the draft ("Save and finish later"); False if its CSRF token is stale.

    Only the CSRF token is checked: a half-filled form is what a draft is. On False the
    form carries the CSRF message.
    """
    if not forms.csrf_ok(form):
        return False
    store_draft(assignment, draft_answers(request.form, assignment.version))
    return True


#: What the draft endpoint answers for each Assignment.why_closed reason.
REFUSALS = {
    "submitted": (_l("These answers were already received, so there is nothing left to save."), 409),
    "expired": (_l("This link has expired, so answers can no longer be saved."), 410),
    "cancelled": (_l("This visit was cancelled, so answers can no longer be saved."), 410),
    "not_open": (_l("This link is not open yet, so answers can't be saved."), 409),
    "not_done": (_l("You told us this shop could not be done, so answers can no longer be saved."), 410),
}


def refusal(assignment: Assignment, today: date) -> tuple[str, str, int] | None:
    """Say why a link takes no draft: ``(state, message, status)``, or None when it does."""
    reason = assignment.why_closed(today)
    if reason is None:
        return None
    message, status = REFUSALS[reason]
    return reason, str(message), status


def slot_field(key: str, repeat: int = 0, suffix: str = "") -> str:
    """Name the form field of a question's answer (``repeat`` n >= 1: its n-th repetition)."""
    return field_name(key, suffix, repeat or None)


def returned_fields(submission: Submission) -> dict[str, Any]:
    """Return a sent submission as draft fields, so its link opens again with every answer,
    comment and kept photo filled in (a visit HQ returned, SPEC §8)."""
    checklist = checklist_of(submission.version)
    questions = {q.key: q for _, q in checklist.questions()}
    fields: dict[str, Any] = {"visit_date": submission.visit_date.isoformat()}
    if submission.visit_time is not None:
        fields["visit_time"] = submission.visit_time.strftime("%H:%M")
    for answer in submission.answers:
        q = questions.get(answer.question_key)
        if q is None or answer.status == "hidden":
            continue
        for suffix, value in builder(q).prefill(q, answer.value, answer.status).items():
            fields[slot_field(q.key, answer.repeat, suffix)] = value
        if answer.comment:
            fields[slot_field(q.key, answer.repeat, "comment")] = answer.comment
        if answer.repeat:  # the form shows as many repetitions as were sent
            name = count_name(answer.section_key)
            fields[name] = str(max(int(fields.get(name, 0)), answer.repeat))
    for attachment in submission.attachments:
        if attachment.question_key in questions:
            fields[slot_field(attachment.question_key, 0, "upload")] = str(attachment.id)
    return fields


def return_stamp(event: SubmissionEvent) -> str:
    """Name a return for the page (``data-returned``): a draft from a page without it predates the return."""
    return event.at.isoformat(timespec="microseconds")


def return_note(assignment: Assignment) -> SubmissionEvent | None:
    """Return HQ's latest return of this link's visit while the link is returned, else None."""
    if getattr(assignment, "state", None) != AssignmentState.returned:
        return None
    return db.session.scalar(
        db.select(SubmissionEvent).join(Submission, SubmissionEvent.submission_id == Submission.id)
        .where(Submission.assignment_id == assignment.id, SubmissionEvent.action == "returned")
        .order_by(SubmissionEvent.id.desc()).limit(1))
