"""What a visit's page shows beside its answers (SPEC §8): its trust flags, its review history and
its appeal, as plain data for the parts of ``reports/visit.html`` (``screens.VISIT_PARTS``).

Read only: appeals are written by ``survey.appeals``. A fixed three queries per page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from survey.appeals import CATEGORIES, DECISION_WORDS
from survey.caches import checklist_of
from survey.extensions import db
from survey.flags import LABELS as FLAG_LABELS
from survey.models import Appeal, AppealItem, ChecklistVersion, SubmissionEvent, SubmissionFlag, User

from .formats import percent_label

#: How the history names each event's action.
EVENT_WORDS = {"approved": "Approved", "returned": "Returned to the shopper", "rejected": "Rejected",
               "restored": "Restored", "resent": "Sent again by the shopper", "appealed": "Appealed",
               "appeal upheld": "Appeal upheld", "appeal denied": "Appeal denied"}


def flags(submission_id: int) -> list[dict[str, str]]:
    """Return a visit's trust flags: label and detail."""
    rows = db.session.execute(select(SubmissionFlag.flag, SubmissionFlag.detail)
                              .where(SubmissionFlag.submission_id == submission_id)
                              .order_by(SubmissionFlag.flag)).all()
    return [{"flag": r.flag, "label": FLAG_LABELS.get(r.flag, r.flag), "detail": r.detail} for r in rows]


def history(submission_id: int) -> list[dict[str, Any]]:
    """Return a visit's review and appeal events, oldest first: what, by whom (e-mail), when, why."""
    rows = db.session.execute(
        select(SubmissionEvent.action, SubmissionEvent.reason, SubmissionEvent.at, User.email)
        .outerjoin(User, User.id == SubmissionEvent.user_id)
        .where(SubmissionEvent.submission_id == submission_id).order_by(SubmissionEvent.id)).all()
    return [{"action": EVENT_WORDS.get(r.action, r.action), "reason": r.reason,
             "at": r.at.strftime("%Y-%m-%d %H:%M"),
             "by": r.email or ("the shopper" if r.action == "resent" else "–")} for r in rows]


def appeal(submission_id: int, version_id: int) -> dict[str, Any] | None:
    """Return a visit's appeal with each disputed item, HQ's decision and what it changed; None if none."""
    found = db.session.scalar(select(Appeal).where(Appeal.submission_id == submission_id))
    if found is None:
        return None
    items = db.session.execute(
        select(AppealItem, User.email).outerjoin(User, User.id == AppealItem.decided_by_id)
        .where(AppealItem.appeal_id == found.id).order_by(AppealItem.id)).all()
    checklist = checklist_of(db.session.get(ChecklistVersion, version_id))
    questions = {q.key: q for _, q in checklist.questions()}
    opener = db.session.get(User, found.opened_by_id) if found.opened_by_id else None
    return {
        "category": CATEGORIES[found.category][0], "reason": found.reason, "state": found.state.value,
        "opened_at": found.opened_at.strftime("%Y-%m-%d %H:%M"), "by": opener.email if opener else "–",
        "items": [_item(item, email, questions.get(item.question_key)) for item, email in items],
    }


def _answer_text(question, value: str | None, status: str | None) -> str:
    if status == "na":
        return "N/A"
    if status == "hidden":
        return "not asked"
    if value is None:
        return "–"
    return question.kind.display(question, value) if question is not None else value


def _item(item: AppealItem, decided_by: str | None, question) -> dict[str, Any]:
    changed = item.decision == "upheld" and item.score_before != item.score_after
    return {
        "whole": item.whole, "repeat": item.repeat,
        "question": "The whole visit" if item.whole else (question.text if question is not None else item.question_key),
        "decision": item.decision, "decision_words": DECISION_WORDS[item.decision], "reason": item.reason,
        "decided_by": decided_by, "decided_at": item.decided_at.strftime("%Y-%m-%d %H:%M") if item.decided_at else None,
        "shopper_answer": None if item.whole else _answer_text(question, item.shopper_value, item.shopper_status),
        "hq_answer": _answer_text(question, item.hq_value, item.hq_status) if item.hq_status else None,
        "score_before": percent_label(item.score_before * 100) if changed and item.score_before is not None else None,
        "score_after": percent_label(item.score_after * 100) if changed and item.score_after is not None else None,
    }
