"""HQ's review decisions (SPEC §8): one logged function per decision, each audited.

A decision moves a submission from the state HQ's page showed to the next one, with one
conditional UPDATE: if someone else decided in the meantime, nothing changes and the
function says so (False), so two decisions at once can never both land.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from .. import rollups
from ..alerts import visit_counted
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentState,
    ReviewState,
    ShopperDraft,
    Submission,
    SubmissionEvent,
    User,
    utcnow,
)
from ..shopper.drafts import returned_fields
from ..submissions import started_counting

logger = logging.getLogger(__name__)

#: A returned link stays open at least this long after the return (README: "Review").
RETURN_OPEN_DAYS = 7

#: decision: (the states it may start from, the state it leaves, the event's action).
MOVES = {
    "approve": ((ReviewState.pending,), ReviewState.counted, "approved"),
    "return": ((ReviewState.pending,), ReviewState.returned, "returned"),
    "reject": ((ReviewState.pending, ReviewState.counted), ReviewState.rejected, "rejected"),
    "restore": ((ReviewState.rejected,), ReviewState.counted, "restored"),
}


def allowed(decision: str, state: ReviewState) -> bool:
    """Whether ``decision`` can be taken on a submission in ``state``."""
    return state in MOVES[decision][0]


def _move(submission: Submission, decision: str, shown: ReviewState, user: User, reason: str,
          snapshot: dict | None = None) -> bool:
    starts, to, action = MOVES[decision]
    if shown not in starts:
        return False
    table = Submission.__table__
    with rollups.changing(submission.id):  # counting or not: the monthly sums follow
        moved = db.session.connection().execute(
            table.update().where(table.c.id == submission.id, table.c.review == shown.value)
            .values(review=to.value)).rowcount
    if not moved:
        db.session.rollback()
        return False
    db.session.add(SubmissionEvent(submission_id=submission.id, user_id=user.id, action=action, reason=reason,
                                   from_state=shown.value, to_state=to.value, at=utcnow(), snapshot=snapshot))
    if to == ReviewState.counted:
        visit_counted(submission.id)  # its alert, if due, in the same transaction (survey/alerts.py)
    return True


def _done(submission: Submission, action: str, user: User) -> None:
    db.session.commit()
    db.session.refresh(submission)
    logger.info("submission %s %s by %s", submission.id, action, user.email)
    if submission.review == ReviewState.counted:
        started_counting(submission.id)


def approve(submission: Submission, shown: ReviewState, user: User, note: str = "") -> bool:
    """Let a waiting visit count in reports."""
    if not _move(submission, "approve", shown, user, note):
        return False
    _done(submission, "approved", user)
    return True


def reject(submission: Submission, shown: ReviewState, user: User, reason: str) -> bool:
    """Take a visit out of every report, with a reason; it is kept and can be restored."""
    if not _move(submission, "reject", shown, user, reason):
        return False
    _done(submission, "rejected", user)
    return True


def restore(submission: Submission, shown: ReviewState, user: User, reason: str = "") -> bool:
    """Let a rejected visit count again."""
    if not _move(submission, "restore", shown, user, reason):
        return False
    _done(submission, "restored", user)
    return True


def return_to_shopper(submission: Submission, shown: ReviewState, user: User, note: str,
                      today: date | None = None) -> bool:
    """Send a waiting visit back with a note: its link opens again with every answer filled in.

    The answers as they were are kept in the event, so HQ later sees what the shopper changed;
    the link stays open at least RETURN_OPEN_DAYS from today.
    """
    snapshot = answers_snapshot(submission)
    if not _move(submission, "return", shown, user, note, snapshot=snapshot):
        return False
    today = today or date.today()
    assignment = db.session.get(Assignment, submission.assignment_id)
    assignment.state = AssignmentState.returned
    assignment.due = max(assignment.due, today + timedelta(days=RETURN_OPEN_DAYS))
    # The reopened form shows the answers as sent: they become the link's server draft, stamped
    # now, so a copy a phone kept from before the return does not win over them.
    fields = returned_fields(submission)
    draft = db.session.scalar(db.select(ShopperDraft).filter_by(assignment_id=assignment.id))
    if draft is None:
        draft = ShopperDraft(assignment_id=assignment.id, version_id=submission.version_id, answers=fields)
        db.session.add(draft)
    draft.version_id, draft.answers, draft.updated_at = submission.version_id, fields, utcnow()
    _done(submission, "returned", user)
    return True


def answers_snapshot(submission: Submission) -> dict:
    """Return a submission's answers as plain data, to compare with what is sent again."""
    return {
        "score": submission.score,
        "answers": [{"key": a.question_key, "repeat": a.repeat, "value": a.value, "status": a.status,
                     "comment": a.comment} for a in submission.answers],
    }


def changes_since_return(submission: Submission) -> list[dict] | None:
    """Return the answers that differ from the last return's snapshot, or None if never returned."""
    returned = [e for e in submission.events if e.action == "returned" and e.snapshot]
    if not returned:
        return None
    before = {(a["key"], a["repeat"]): a for a in returned[-1].snapshot.get("answers", [])}
    changed = []
    for a in submission.answers:
        old = before.pop((a.question_key, a.repeat), None)
        now = {"value": a.value, "status": a.status, "comment": a.comment}
        if old is None or any(old.get(k) != v for k, v in now.items()):
            changed.append({"key": a.question_key, "repeat": a.repeat, "before": old, "after": now})
    changed.extend({"key": key, "repeat": repeat, "before": old, "after": None}
                   for (key, repeat), old in before.items())
    return changed
