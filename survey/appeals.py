"""Appeals (SPEC §8): a branch disputes a counted visit, HQ decides each disputed item.

One logged function per thing a person does. Views check who may act and parse the forms; these
functions check what the data allows (the window, one appeal per visit, a decision not taken
twice), change it and commit. Like the review decisions (``hq/reviews.py``), a decision lands with
one conditional UPDATE, so two people deciding the same item at once can't both win, and each
leaves a ``SubmissionEvent`` in the visit's history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, exists, orm
from sqlalchemy.exc import IntegrityError

from . import rollups, scoring
from .alerts import visit_counted
from .caches import checklist_of
from .checklist.conditions import NA
from .checklist.types import blank
from .extensions import db
from .hq import reviews
from .models import (
    Answer,
    Appeal,
    AppealCategory,
    AppealItem,
    AppealState,
    ReviewState,
    SectionScore,
    StandardScore,
    Submission,
    SubmissionEvent,
    User,
    utcnow,
)
from .submissions import score_rows

logger = logging.getLogger(__name__)

#: What each category means, as the manager's form and HQ's pages explain it (SPEC §8).
CATEGORIES = {
    AppealCategory.scoring: ("Scoring error", "The shopper's comment contradicts the answer, or the answer was "
                                              "scored wrongly."),
    AppealCategory.shopper: ("Shopper error", "Wrong branch, wrong time, or the wrong scenario was played."),
    AppealCategory.circumstances: ("Circumstances", "Something outside the branch's control: an outage, a "
                                                    "delivery, a fire drill."),
}
#: How pages name a decision.
DECISION_WORDS = {"upheld": "upheld", "denied": "denied", None: "waiting for HQ"}
#: The longest reason an appeal or a decision keeps (the columns' size).
REASON_MAX = 2000


class AppealRefused(Exception):
    """What the data does not allow (too late, appealed already, not counted); the message is for people."""


@dataclass(frozen=True)
class Disputable:
    """A question of a visit that may be disputed: one that moves the score (scored, bonus, deduction)."""

    key: str
    repeat: int
    section: str
    text: str
    answer: str | None
    status: str

    @property
    def token(self) -> str:
        """The question's value in the appeal form (``key`` or ``key:repeat``)."""
        return f"{self.key}:{self.repeat}" if self.repeat else self.key


def window_end(submission: Submission) -> datetime:
    """Return the moment after which a visit can no longer be appealed."""
    return submission.submitted_at + timedelta(days=current_app.config["SURVEY_APPEAL_DAYS"])


def why_not(submission: Submission, now: datetime | None = None) -> str | None:
    """Say why this visit can't be appealed now; None when it can."""
    if db.session.scalar(db.select(exists().where(Appeal.submission_id == submission.id))):
        return "This visit has been appealed already: a visit can be appealed once."
    if submission.review != ReviewState.counted:
        return "Only a visit that counts in reports can be appealed."
    if (now or utcnow()) > window_end(submission):
        days = current_app.config["SURVEY_APPEAL_DAYS"]
        return (f"The time to appeal this visit ended on {window_end(submission):%Y-%m-%d}: a visit can be "
                f"appealed within {days} days of its arrival.")
    return None


def disputable(submission: Submission) -> list[Disputable]:
    """Return the questions of a visit a manager may dispute, in the form's order (repetitions apart)."""
    checklist = checklist_of(submission.version)
    questions = {q.key: (section, q) for section, q in checklist.questions()}
    out = []
    for answer in submission.answers:
        section, question = questions.get(answer.question_key, (None, None))
        if question is None or answer.status == "hidden" or not (question.scored or question.kind.adjustment(question)):
            continue
        title = section.title
        if answer.repeat and section.repeat is not None:
            title = section.repeat.heading(answer.repeat) if section.repeat.label else f"{title} {answer.repeat}"
        shown = question.kind.display(question, answer.value) if answer.value is not None else None
        out.append(Disputable(answer.question_key, answer.repeat, title, question.text, shown, answer.status))
    return out


def open_appeal(submission: Submission, *, category: AppealCategory, reason: str, questions: list[str] | None,
                user: User, now: datetime | None = None) -> Appeal:
    """Dispute a counted visit: the whole of it (``questions`` None) or some of its questions
    (tokens from ``disputable``). Raise ``AppealRefused`` when the data does not allow it."""
    refused = why_not(submission, now)
    if refused:
        raise AppealRefused(refused)
    known = {d.token: d for d in disputable(submission)}
    if questions is not None and (not questions or any(t not in known for t in questions)):
        raise AppealRefused("Choose the questions you dispute from the list.")
    appeal = Appeal(submission_id=submission.id, category=category, reason=reason, opened_by_id=user.id,
                    opened_at=now or utcnow(), state=AppealState.open)
    answers = {(a.question_key, a.repeat): a for a in submission.answers}
    if questions is None:
        appeal.items = [AppealItem(question_key=None, repeat=0)]
    else:
        appeal.items = []
        for token in dict.fromkeys(questions):
            d = known[token]
            answer = answers[(d.key, d.repeat)]
            appeal.items.append(AppealItem(question_key=d.key, repeat=d.repeat, shopper_value=answer.value,
                                           shopper_status=answer.status))
    db.session.add(appeal)
    db.session.add(SubmissionEvent(submission_id=submission.id, user_id=user.id, action="appealed",
                                   reason=f"{CATEGORIES[category][0]}: {reason}", from_state=submission.review.value,
                                   to_state=submission.review.value, at=utcnow()))
    try:
        db.session.commit()
    except IntegrityError:  # another manager's appeal of the same visit landed first
        db.session.rollback()
        raise AppealRefused("This visit has been appealed already: a visit can be appealed once.") from None
    logger.info("submission %s appealed (%s, %d items) by %s", submission.id, category.value, len(appeal.items),
                user.email)
    return appeal


# ---------------------------------------------------------------- scoring again


def stored_answers(submission_id: int, checklist) -> tuple[dict[Any, Any], dict[str, int], list[Answer]]:
    """Read a visit's stored answers back into what ``scoring.score`` takes: slot → value, repeats.

    An N/A stays N/A; a hidden question is left out (its ``show_if`` decides again); an answer
    its type can't read back (a photo's file name) is kept as its text, which is all the
    scoring asks of an unscored answer: that it is not blank.
    """
    rows = list(db.session.scalars(db.select(Answer).where(Answer.submission_id == submission_id)
                                   .order_by(Answer.position).execution_options(populate_existing=True)))
    questions = {q.key: q for _, q in checklist.questions()}
    values: dict[Any, Any] = {}
    repeats: dict[str, int] = {}
    for row in rows:
        question = questions.get(row.question_key)
        if question is None:
            continue
        if row.repeat:
            repeats[row.section_key] = max(repeats.get(row.section_key, 0), row.repeat)
        slot = row.question_key if not row.repeat else (row.question_key, row.repeat)
        if row.status == "hidden":
            continue
        if row.status == "na":
            values[slot] = NA
            continue
        value = question.kind.loaded(question, row.value)
        values[slot] = row.value if blank(value) and row.value is not None else value
    return values, repeats, rows


def rescore(submission: Submission, changes: dict[tuple[str, int], Any]) -> scoring.Result:
    """Score a visit again with some answers replaced (``(key, repeat)`` → value or ``NA``) and store
    every score it has: its answers' points, its sections, its standards, its overall score.

    The exact SPEC §4 rules, through ``scoring.score``: nothing is recomputed by hand here. Raise
    ``AppealRefused`` when the new answer would show questions the shopper never answered.
    """
    checklist = checklist_of(submission.version)
    values, repeats, rows = stored_answers(submission.id, checklist)
    questions = {q.key: q for _, q in checklist.questions()}
    for (key, repeat), value in changes.items():
        values[key if not repeat else (key, repeat)] = value
    try:
        result = scoring.score(checklist, values, repeats)
    except scoring.Incomplete:
        raise AppealRefused("That answer would ask questions the shopper never answered; "
                            "choose another answer or N/A.") from None
    for row in rows:
        found = result.by_key.get(row.question_key if not row.repeat else (row.question_key, row.repeat))
        if found is None:
            continue
        question = questions[row.question_key]
        if (row.question_key, row.repeat) in changes:
            new = changes[(row.question_key, row.repeat)]
            row.value = None if new is NA else question.kind.stored(new)
        status = found.status
        if status == "answered" and row.value is None:
            status = "na"
        row.status, row.earned, row.possible = status, found.earned, found.possible
        row.critical_fail, row.adjustment = found.critical_fail, found.adjustment
    sections, standards = score_rows(result)
    by_key = {s["section_key"]: s for s in sections}
    for stored in db.session.scalars(db.select(SectionScore).where(SectionScore.submission_id == submission.id)):
        fresh = by_key.get(stored.section_key)
        if fresh is not None:
            stored.earned, stored.possible, stored.score = fresh["earned"], fresh["possible"], fresh["score"]
    db.session.execute(delete(StandardScore).where(StandardScore.submission_id == submission.id))
    db.session.add_all(StandardScore(submission_id=submission.id, **row) for row in standards)
    submission.score, submission.critical_fail = result.score, result.critical_fail
    return result


# ---------------------------------------------------------------- HQ's decisions


def read_answer(question, raw: Any) -> tuple[Any, str | None]:
    """Read HQ's answer to a question from its form: a value, ``NA``, or a message saying what is wrong."""
    picked = [v for v in (raw if isinstance(raw, (list, tuple)) else [raw]) if isinstance(v, str) and v.strip()]
    if not picked:
        return None, "Give the answer that should count, or N/A."
    if "__na__" in picked:
        return (NA, None) if len(picked) == 1 else (None, "N/A goes alone: untick the other answers.")
    value, problem = question.kind.parse(question, picked if question.type == "multi" else picked[0])
    if problem is not None or blank(value) or value is NA:
        allowed = question.kind.allowed(question) or ", ".join(label for _, label in question.kind.choices(question))
        return None, f"That is not an answer this question takes{f' ({allowed})' if allowed else ''}."
    return value, None


def question_of(submission: Submission, key: str):
    """Return the checklist question a disputed item names (None if the version has none)."""
    return next((q for _, q in checklist_of(submission.version).questions() if q.key == key), None)


def _claim(item: AppealItem, decision: str, reason: str, user: User) -> bool:
    table = AppealItem.__table__
    claimed = db.session.connection().execute(
        table.update().where(table.c.id == item.id, table.c.decision.is_(None))
        .values(decision=decision, reason=reason, decided_by_id=user.id, decided_at=utcnow())).rowcount
    if not claimed:
        db.session.rollback()
        return False
    # One decision at a time per visit: the visit's row is locked before its answers are read,
    # so two questions of one visit upheld at once are scored one after the other.
    sub = Submission.__table__
    db.session.connection().execute(sub.update().where(sub.c.id == item.appeal.submission_id)
                                    .values(score=sub.c.score))
    return True


def _close_if_done(appeal_id: int) -> None:
    table = Appeal.__table__
    waiting = exists().where(AppealItem.appeal_id == appeal_id, AppealItem.decision.is_(None))
    db.session.connection().execute(
        table.update().where(table.c.id == appeal_id, table.c.state == AppealState.open.value, ~waiting)
        .values(state=AppealState.decided.value, closed_at=utcnow()))


def decide(item: AppealItem, *, upheld: bool, reason: str, user: User, answer: Any = None) -> bool:
    """Decide one disputed item with a reason; False when someone decided it first (nothing changed).

    Upheld, a question takes HQ's ``answer`` (a value or ``NA``) and the visit is scored again,
    the shopper's answer kept on the item; the whole visit upheld is rejected through the review
    code. Denied changes nothing but the appeal. Raise ``AppealRefused`` for an answer that can't be scored.
    """
    decision = "upheld" if upheld else "denied"
    appeal = item.appeal
    submission = db.session.get(Submission, appeal.submission_id)
    if not _claim(item, decision, reason, user):
        return False
    db.session.refresh(submission)
    before = submission.score
    snapshot: dict[str, Any] = {"item": item.id, "question": item.question_key, "repeat": item.repeat,
                                "score_before": before}
    values: dict[str, Any] = {}
    if upheld and not item.whole:
        question = question_of(submission, item.question_key)
        try:
            with rollups.changing(submission.id):  # its new score and standard scores in the monthly sums
                rescore(submission, {(item.question_key, item.repeat): answer})
        except AppealRefused:
            db.session.rollback()
            raise
        if submission.review == ReviewState.counted:  # HQ's answer may fail a critical question: its alert
            visit_counted(submission.id, {"score": submission.score, "critical_fail": submission.critical_fail})
        values = {"hq_value": None if answer is NA else question.kind.stored(answer),
                  "hq_status": "na" if answer is NA else "answered"}
        snapshot.update(answer=values["hq_value"], answer_status=values["hq_status"],
                        shopper_answer=item.shopper_value, shopper_status=item.shopper_status)
    values.update(score_before=before, score_after=submission.score)
    snapshot["score_after"] = submission.score
    db.session.execute(db.update(AppealItem).where(AppealItem.id == item.id).values(**values)
                       .execution_options(synchronize_session=False))
    state = submission.review.value
    db.session.add(SubmissionEvent(submission_id=submission.id, user_id=user.id, action=f"appeal {decision}",
                                   reason=reason, from_state=state, to_state=state, at=utcnow(), snapshot=snapshot))
    _close_if_done(appeal.id)
    if upheld and item.whole and submission.review == ReviewState.counted:
        # The review code rejects it and commits the whole decision with it; if the visit left
        # "counted" meanwhile, it rolls everything back and says so.
        if not reviews.reject(submission, ReviewState.counted, user, f"Appeal upheld: {reason}"):
            return False
    else:
        db.session.commit()
    db.session.expire_all()
    logger.info("appeal %s item %s %s by %s", appeal.id, item.id, decision, user.email)
    return True


# ---------------------------------------------------------------- reading, for HQ's pages


def open_count() -> int:
    """Count the appeals waiting for HQ (the HQ home's tile)."""
    return db.session.scalar(db.select(db.func.count(Appeal.id)).where(Appeal.state == AppealState.open)) or 0


def appeal_of(submission_id: int) -> Appeal | None:
    return db.session.scalar(db.select(Appeal).where(Appeal.submission_id == submission_id)
                             .options(orm.selectinload(Appeal.items)))
