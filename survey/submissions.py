"""Assignments and submissions: issuing links, and storing a scored submission exactly once.

``record_submission`` is the one way a submission is written: the shopper's form, an offline
resend, the demo seed and every test fixture go through it.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, delete, orm
from sqlalchemy.exc import IntegrityError

from . import flags, rollups, scoring
from .alerts import visit_counted
from .answers import Filled
from .caches import checklist_of, statements
from .extensions import db
from .models import (
    Answer,
    Assignment,
    AssignmentState,
    Attachment,
    Branch,
    Checklist,
    ChecklistVersion,
    ReviewState,
    SectionScore,
    StandardScore,
    Submission,
    SubmissionEvent,
    Wave,
    hash_token,
    utcnow,
)

logger = logging.getLogger(__name__)

#: 32 URL-safe characters: 192 random bits.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
#: How much of a token HQ sees again (Assignment.token_hint).
TOKEN_HINT = 4
#: No 0/O, 1/I/L: a shopper may read the reference out on the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def shopper_url(token: str) -> str:
    """Return the address a shopper opens, on the configured public origin."""
    return f"{current_app.config['SURVEY_BASE_URL']}/s/{token}"


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


#: Every page of a link names its branch, and a link once opened needs its version: both
#: come in the same query. The shopper's statements are built once: building one
#: (``filter_by``, ``options``) costs more than running it, and those requests are
#: budgeted (bench/README.md, shopper_page.py).
_BY_TOKEN = (db.select(Assignment).where(Assignment.token_hash == bindparam("token_hash"))
             .options(orm.joinedload(Assignment.branch), orm.joinedload(Assignment.version)))
_LATEST = (db.select(ChecklistVersion).where(ChecklistVersion.checklist_id == bindparam("checklist_id"))
           .order_by(ChecklistVersion.number.desc()).limit(1))


def find_assignment(token: str) -> Assignment | None:
    """Return the assignment for a token, or None for unknown or malformed tokens."""
    if not TOKEN_RE.match(token or ""):
        return None
    return db.session.scalar(_BY_TOKEN, {"token_hash": hash_token(token)})


def create_assignments(
    checklist: Checklist,
    branch: Branch,
    count: int = 1,
    due: date | None = None,
    not_before: date | None = None,
    wave: Wave | None = None,
) -> list[tuple[Assignment, str]]:
    """Create assignments and return each with its token; the token is never stored."""
    today = date.today()
    made = []
    for _ in range(count):
        token = new_token()
        assignment = Assignment(
            token_hash=hash_token(token),
            token_hint=token[:TOKEN_HINT],
            branch=branch,
            checklist=checklist,
            wave=wave,
            not_before=not_before or today,
            due=due or today + timedelta(days=30),
        )
        db.session.add(assignment)
        made.append((assignment, token))
    db.session.flush()
    return made


def get_or_create_wave(name: str | None) -> Wave | None:
    if not name:
        return None
    wave = db.session.scalar(db.select(Wave).filter_by(name=name))
    if wave is None:
        wave = Wave(name=name)
        db.session.add(wave)
    return wave


def latest_version(checklist_id: int) -> ChecklistVersion | None:
    """Return the newest version without loading every older one's content."""
    return db.session.scalar(_LATEST, {"checklist_id": checklist_id})


def needs_pinning(assignment: Assignment) -> bool:
    return assignment.version_id is None or assignment.state == AssignmentState.open


def pin_version(assignment: Assignment) -> ChecklistVersion:
    """Fix the version a shopper fills on first opening, and mark the link started."""
    version = assignment.version if assignment.version_id is not None else latest_version(assignment.checklist_id)
    state, opened_at = assignment.state, assignment.opened_at
    if state == AssignmentState.open:
        state, opened_at = AssignmentState.started, utcnow()
    if assignment.id is None or assignment in db.session.dirty:  # not stored yet, or changed: let the flush write it
        assignment.version, assignment.state, assignment.opened_at = version, state, opened_at
    else:
        _set_columns(assignment, version=version, state=state, opened_at=opened_at)
    return version


@dataclass
class Scored:
    """A scored submission as plain rows: the submission's columns, its sections, standards and answers.

    Plain rows let the shopper's POST write everything with five statements (the
    submission, three ``executemany``, the link's state) instead of an object each through
    the unit of work, whose book-keeping cost more than the writes (bench/README.md).
    """

    submission: dict[str, Any]
    sections: list[dict[str, Any]]
    standards: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    attachments: list[Attachment]


#: The answer row of a shop that ended with a counted outcome (SPEC §4: empty keys, ``outcome:<key>``).
OUTCOME_PREFIX = "outcome:"


def _scored(assignment: Assignment, version: ChecklistVersion, filled: Filled) -> Scored:
    checklist = checklist_of(version)
    outcome = checklist.outcome(filled.outcome) if filled.outcome else None
    if filled.outcome and (outcome is None or not outcome.counts):
        raise ValueError(f"'{filled.outcome}' is not a counted outcome of {checklist.slug}")
    if outcome is not None:
        result = scoring.score_outcome(checklist, outcome)
    else:
        result = scoring.score(checklist, filled.answers, filled.repeats)
    submission = dict(
        assignment_id=assignment.id,
        idempotency_key=filled.idempotency_key,
        reference=new_reference(),
        version_id=version.id,
        branch_id=assignment.branch_id,
        visit_date=filled.visit_date,
        visit_time=filled.visit_time,
        opened_at=assignment.opened_at,
        first_answer_at=filled.first_answer_at,
        submitted_at=filled.submitted_at or utcnow(),
        score=result.score,
        critical_fail=result.critical_fail,
        outcome=result.outcome,
        # SPEC §8: under ``review: hq`` a visit waits for HQ before it counts anywhere.
        review=ReviewState.pending if checklist.review == "hq" else ReviewState.counted,
    )
    sections, standards = score_rows(result)
    answers, attachments = [], []
    if outcome is not None:
        answers.append(dict(position=0, section_key="", question_key="", standard_key=None,
                            value=OUTCOME_PREFIX + outcome.key, status="answered", earned=None, possible=None,
                            critical_fail=False, comment=filled.comments.get(OUTCOME_PREFIX) or None, repeat=0,
                            adjustment=None))
        attachments.extend(filled.attachments.values())
    questions = {q.key: q for _, q in checklist.questions()}
    for position, question_result in enumerate(result.questions):
        slot, question = question_result.slot, questions[question_result.key]
        shown = question_result.status != "hidden"
        value = filled.answers.get(slot) if shown else None
        attachment = filled.attachments.get(slot) if shown else None
        if attachment is not None:
            value = attachment.original_name
            attachments.append(attachment)
        text = question.kind.stored(value)
        status = question_result.status
        if status == "answered" and text is None:
            status = "na"
        answers.append(dict(
            position=position, section_key=question_result.section_key, question_key=question_result.key,
            standard_key=question_result.standard, value=text, status=status,
            earned=question_result.earned, possible=question_result.possible,
            critical_fail=question_result.critical_fail,
            comment=(filled.comments.get(slot) or None) if shown else None,
            repeat=question_result.repeat or 0, adjustment=question_result.adjustment,
        ))
    return Scored(submission, sections, standards, answers, attachments)


def score_rows(result: scoring.Result) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return a scored visit's section and standard rows, as stored on arrival and after an
    upheld appeal scores it again (survey/appeals.py)."""
    sections = [dict(section_key=section.key, position=position, weight=section.weight,
                     earned=section.earned, possible=section.possible, score=section.score)
                for position, section in enumerate(result.sections)]
    points = scoring.standard_points((r.standard, r.earned, r.possible) for r in result.questions)
    standards = [dict(standard_key=key, score=value, earned=points.get(key, (None, None))[0],
                      possible=points.get(key, (None, None))[1]) for key, value in result.standards.items()]
    return sections, standards


def _set_columns(assignment: Assignment, **values: Any) -> None:
    """Write columns of a stored link with one UPDATE, and tell the object they are stored.

    For the shopper's budgeted requests: the unit of work would spend longer finding
    the one changed row than the UPDATE takes.
    """
    if "version" in values:
        values["version_id"] = values["version"].id
    columns = tuple(sorted(name for name in values if name != "version"))
    table = Assignment.__table__
    update = statements.get(("assignment", columns), lambda: (
        table.update().where(table.c.id == bindparam("assignment_id"))
        .values({name: bindparam(name) for name in columns})))
    db.session.connection().execute(update, {"assignment_id": assignment.id,
                                             **{name: values[name] for name in columns}})
    for name, value in values.items():
        orm.attributes.set_committed_value(assignment, name, value)


_INSERT_SUBMISSION, _INSERT_SECTIONS, _INSERT_STANDARDS, _INSERT_ANSWERS = (
    model.__table__.insert() for model in (Submission, SectionScore, StandardScore, Answer))
_SUBMISSION_ID = db.select(Submission.id).where(Submission.assignment_id == bindparam("assignment_id"))


def end_not_done(assignment: Assignment, outcome_key: str, comment: str | None) -> bool:
    """End a link ``not_done`` with the shopper's reason (an outcome that does not count) and commit.

    False when the link had already ended (sent, or ended so before): the first word stands.
    """
    if assignment.state not in (AssignmentState.open, AssignmentState.started):
        return False
    _set_columns(assignment, state=AssignmentState.not_done, outcome=outcome_key, outcome_comment=comment or None,
                 outcome_at=utcnow())
    db.session.commit()
    current_app.logger.info("assignment %s ended not_done (%s)", assignment.id, outcome_key)
    return True


def record_submission(assignment: Assignment, version: ChecklistVersion, filled: Filled,
                      alerts: bool = True) -> tuple[int, bool]:
    """Store a submission exactly once; return its id and whether this call created it.

    The visit counts on arrival, so its e-mail alert, if due, is written with it (survey/alerts.py;
    ``alerts=False`` for history loaded by the demo seed).

    A replay of the same form (same idempotency key) or a second tab racing the
    first gets the stored submission back. The unique constraints decide, so the
    usual case asks nothing first: a link already sent has its state say so, and
    anything rarer (a race, a key copied from another link) surfaces as an
    IntegrityError and is sorted out after it.
    """
    if assignment.state == AssignmentState.submitted:
        existing = db.session.scalar(_SUBMISSION_ID, {"assignment_id": assignment.id})
        if existing is not None:
            return existing, False
    if assignment.state == AssignmentState.returned:
        return resend_submission(assignment, version, filled)
    for _ in range(3):
        scored = _scored(assignment, version, filled)
        try:
            # On the session's connection, not through Session.execute: same transaction,
            # half the cost per statement (measured), and these rows are no objects of it.
            connection = db.session.connection()
            submission_id = connection.execute(_INSERT_SUBMISSION, scored.submission).inserted_primary_key[0]
            for insert, rows in ((_INSERT_SECTIONS, scored.sections), (_INSERT_STANDARDS, scored.standards),
                                 (_INSERT_ANSWERS, scored.answers)):
                if rows:
                    connection.execute(insert, [{**row, "submission_id": submission_id} for row in rows])
            rollups.count_new(scored.submission, scored.standards)
            for attachment in scored.attachments:
                attachment.submission_id = submission_id
            flags.record_flags(scored.submission, submission_id, assignment.branch, checklist_of(version),
                               scored.attachments)
            _set_columns(assignment, state=AssignmentState.submitted)
            if alerts and scored.submission["review"] == ReviewState.counted:  # a waiting visit alerts on approval
                visit_counted(submission_id, scored.submission, arriving=True)
            db.session.commit()
            if scored.submission["review"] == ReviewState.counted:
                started_counting(submission_id)
            return submission_id, True
        except IntegrityError:
            db.session.rollback()
            existing = db.session.scalar(_SUBMISSION_ID, {"assignment_id": assignment.id})
            if existing is not None:
                return existing, False
            if db.session.scalar(db.select(Submission.id).filter_by(idempotency_key=filled.idempotency_key)):
                # The key is another link's (a copied or tampered form). One submission
                # per link is kept by assignment_id, so this one can take a fresh key.
                filled = replace(filled, idempotency_key=secrets.token_hex(16))
            # Otherwise a reference collision (1 in 887 million): try again.
    raise RuntimeError("could not store the submission")


def started_counting(submission_id: int) -> None:
    """Say that a visit now counts in reports (on arrival under ``review: auto``, approved or
    restored); called after the commit. The place where alerts (SPEC §8) hook in."""
    logger.info("submission %s counts", submission_id)


def resend_submission(assignment: Assignment, version: ChecklistVersion, filled: Filled) -> tuple[int, bool]:
    """Store what a shopper sent again after HQ returned their visit; return its id and whether
    this call stored it.

    The submission keeps its id, reference and history; its answers, scores and photos are
    replaced and it waits for HQ again (SPEC §8). What it held before is in the return's event
    (``SubmissionEvent.snapshot``). Of two sends racing, the one that moves the link from
    returned to submitted stores; the other gets the submission back.
    """
    submission = db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id))
    table = Assignment.__table__
    moved = db.session.connection().execute(
        table.update().where(table.c.id == assignment.id, table.c.state == AssignmentState.returned.value)
        .values(state=AssignmentState.submitted.value)).rowcount
    if submission is None or not moved:
        db.session.rollback()
        return (submission.id if submission else 0), False
    scored = _scored(assignment, version, filled)
    with rollups.changing(submission.id):  # a returned visit counts nowhere, nor does a pending one: kept exact anyway
        _replace_scores(submission, assignment, version, scored)
    orm.attributes.set_committed_value(assignment, "state", AssignmentState.submitted)
    db.session.commit()
    logger.info("submission %s sent again by the shopper", submission.id)
    return submission.id, True


def _replace_scores(submission: Submission, assignment: Assignment, version: ChecklistVersion,
                    scored: Scored) -> None:
    """Put a resent visit's answers, scores, photos and flags in place of the old; it waits for HQ again."""
    connection = db.session.connection()
    for model in (Answer, SectionScore, StandardScore):
        connection.execute(delete(model).where(model.submission_id == submission.id))
    for insert, rows in ((_INSERT_SECTIONS, scored.sections), (_INSERT_STANDARDS, scored.standards),
                         (_INSERT_ANSWERS, scored.answers)):
        if rows:
            connection.execute(insert, [{**row, "submission_id": submission.id} for row in rows])
    kept = {attachment.id for attachment in scored.attachments}
    for attachment in list(submission.attachments):
        if attachment.id not in kept:  # replaced or dropped: no longer part of the visit
            attachment.submission_id = None
    for attachment in scored.attachments:
        attachment.submission_id = submission.id
    db.session.flush()
    flags.record_flags({**scored.submission, "opened_at": submission.opened_at}, submission.id, assignment.branch,
                       checklist_of(version), scored.attachments, resend=True)
    columns = {name: scored.submission[name] for name in (
        "visit_date", "visit_time", "first_answer_at", "submitted_at", "score", "critical_fail", "outcome")}
    before = submission.review
    for name, value in {**columns, "review": ReviewState.pending}.items():
        setattr(submission, name, value)
    db.session.add(SubmissionEvent(submission_id=submission.id, action="resent", from_state=before.value,
                                   to_state=ReviewState.pending.value))
