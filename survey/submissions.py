"""Assignments and submissions: issuing links, and storing a scored submission exactly once."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError

from . import scoring
from .checklist.conditions import NA
from .checklist.loader import load_checklist_data
from .checklist.schema import Checklist as ChecklistSchema
from .checklist.schema import answer_text
from .extensions import db
from .models import (
    Answer,
    Assignment,
    AssignmentState,
    Attachment,
    Branch,
    Checklist,
    ChecklistVersion,
    SectionScore,
    Submission,
    Wave,
    hash_token,
    utcnow,
)

#: 32 URL-safe characters: 192 random bits.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
#: How much of a token HQ sees again (Assignment.token_hint).
TOKEN_HINT = 4
#: No 0/O, 1/I/L: a shopper may read the reference out on the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def find_assignment(token: str) -> Assignment | None:
    """Return the assignment for a token, or None for unknown or malformed tokens."""
    if not TOKEN_RE.match(token or ""):
        return None
    # Every page of a link names its branch: fetch it in the same query.
    return db.session.scalar(db.select(Assignment).filter_by(token_hash=hash_token(token))
                             .options(orm.joinedload(Assignment.branch)))


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
    return db.session.scalar(
        db.select(ChecklistVersion).filter_by(checklist_id=checklist_id)
        .order_by(ChecklistVersion.number.desc()).limit(1)
    )


def needs_pinning(assignment: Assignment) -> bool:
    return assignment.version_id is None or assignment.state == AssignmentState.open


def pin_version(assignment: Assignment) -> ChecklistVersion:
    """Fix the version a shopper fills on first opening, and mark the link started."""
    if assignment.version_id is None:
        assignment.version = latest_version(assignment.checklist_id)
    if assignment.state == AssignmentState.open:
        assignment.state = AssignmentState.started
        assignment.opened_at = utcnow()
    return assignment.version


_parsed: dict[tuple[int, str], ChecklistSchema] = {}


def checklist_of(version: ChecklistVersion) -> ChecklistSchema:
    """Return a version's checklist; parsed once per process, since versions never change."""
    key = (version.id, version.content_hash)
    if key not in _parsed:
        _parsed[key] = load_checklist_data(version.content)
    return _parsed[key]


@dataclass
class Filled:
    """What a shopper sent, already checked: normalised answers and the visit's details."""

    answers: dict[str, Any]
    visit_date: date
    visit_time: time | None
    idempotency_key: str
    comments: dict[str, str] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    first_answer_at: datetime | None = None
    submitted_at: datetime | None = None


def stored_value(value: Any) -> str | None:
    """Spell an answer as text for the database and the CSV."""
    if value is None or value is NA or value == "" or value == []:
        return None
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, (date, time)):
        return value.isoformat(timespec="minutes") if isinstance(value, time) else value.isoformat()
    return answer_text(value)


def _scored(assignment: Assignment, version: ChecklistVersion, filled: Filled
            ) -> tuple[Submission, list[dict[str, Any]], list[dict[str, Any]]]:
    """Score what was filled: the submission row, and its section and answer rows as plain dicts.

    Plain dicts let the shopper's POST insert two dozen answers in one ``executemany``
    instead of one INSERT each through the unit of work (SPEC §7: the POST is budgeted).
    """
    checklist = checklist_of(version)
    result = scoring.score(checklist, filled.answers)
    submission = Submission(
        assignment=assignment,
        idempotency_key=filled.idempotency_key,
        reference=new_reference(),
        version=version,
        branch_id=assignment.branch_id,
        visit_date=filled.visit_date,
        visit_time=filled.visit_time,
        opened_at=assignment.opened_at,
        first_answer_at=filled.first_answer_at,
        submitted_at=filled.submitted_at or utcnow(),
        score=result.score,
        critical_fail=result.critical_fail,
    )
    sections = [dict(section_key=section.key, position=position, weight=section.weight,
                     earned=section.earned, possible=section.possible, score=section.score)
                for position, section in enumerate(result.sections)]
    answers = []
    for position, (_, question) in enumerate(checklist.questions()):
        outcome = result.by_key[question.key]
        shown = outcome.status != "hidden"
        value = filled.answers.get(question.key) if shown else None
        attachment = filled.attachments.get(question.key) if shown else None
        if attachment is not None:
            value = attachment.original_name
            submission.attachments.append(attachment)
        status = outcome.status
        if status == "answered" and stored_value(value) is None:
            status = "na"
        answers.append(dict(
            position=position, section_key=outcome.section_key, question_key=question.key,
            standard_key=outcome.standard, value=stored_value(value), status=status,
            earned=outcome.earned, possible=outcome.possible, critical_fail=outcome.critical_fail,
            comment=(filled.comments.get(question.key) or None) if shown else None,
        ))
    assignment.state = AssignmentState.submitted
    return submission, sections, answers


def build_submission(assignment: Assignment, version: ChecklistVersion, filled: Filled) -> Submission:
    """Score what was filled and build the submission with its answers as objects (not yet committed)."""
    submission, sections, answers = _scored(assignment, version, filled)
    submission.sections.extend(SectionScore(**row) for row in sections)
    submission.answers.extend(Answer(**row) for row in answers)
    return submission


def record_submission(assignment: Assignment, version: ChecklistVersion, filled: Filled) -> tuple[Submission, bool]:
    """Store a submission exactly once; return it and whether this call created it.

    A replay of the same form (same idempotency key) or a second tab racing the
    first gets the stored submission back; the unique constraints decide races.
    """
    existing = db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id))
    if existing is not None:
        return existing, False
    for _ in range(3):
        if db.session.scalar(db.select(Submission.id).filter_by(idempotency_key=filled.idempotency_key)) is not None:
            # The key is another link's (a copied or tampered form). One submission
            # per link is kept by assignment_id, so this one can take a fresh key.
            filled = replace(filled, idempotency_key=secrets.token_hex(16))
        submission, sections, answers = _scored(assignment, version, filled)
        db.session.add(submission)
        try:
            db.session.flush()  # the submission's id, for its rows
            for model, rows in ((SectionScore, sections), (Answer, answers)):
                db.session.execute(model.__table__.insert(), [{**row, "submission_id": submission.id} for row in rows])
            db.session.commit()
            return submission, True
        except IntegrityError:
            db.session.rollback()
            existing = db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id))
            if existing is not None:
                return existing, False
            # A reference collision (1 in 887 million), or a key taken meanwhile: try again.
    raise RuntimeError("could not store the submission")
