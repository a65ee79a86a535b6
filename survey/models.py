"""Database models for SPEC §2: the catalogue, the plan of shops, and what shoppers sent."""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime, time, timezone
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    """Return naive UTC now: SQLite keeps no zone, so every timestamp is UTC by convention."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def hash_token(token: str) -> str:
    """Hash a shopper token; only the hash is stored, so a leaked table opens no form."""
    return hashlib.sha256(token.encode()).hexdigest()


class Region(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)

    branches: Mapped[list[Branch]] = relationship(back_populates="region", order_by="Branch.code")

    def __repr__(self) -> str:
        return f"<Region {self.code}>"


class Branch(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    address: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)
    #: As HQ typed them (``Mo-Fr 09:00-18:00; Sa 09:00-13:00``, survey/hours.py); None: not set.
    opening_hours: Mapped[str | None] = mapped_column(String(500))

    region: Mapped[Region] = relationship(back_populates="branches")

    def __repr__(self) -> str:
        return f"<Branch {self.code}>"


class Standard(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    #: lower_snake_case, stable forever: questions and reports refer to it by key.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    #: Kept for history; no new question may name a retired standard.
    retired: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Standard {self.key}>"


class Channel(str, enum.Enum):
    visit = "visit"
    call = "call"
    email = "email"
    chat = "chat"


class Checklist(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(db.Enum(Channel, native_enum=False, length=16))

    versions: Mapped[list[ChecklistVersion]] = relationship(
        back_populates="checklist", order_by="ChecklistVersion.number"
    )

    @property
    def latest(self) -> ChecklistVersion | None:
        return self.versions[-1] if self.versions else None

    def __repr__(self) -> str:
        return f"<Checklist {self.slug}>"


class ChecklistVersion(db.Model):
    """An immutable published snapshot; submissions point at the one they were filled against."""

    __table_args__ = (UniqueConstraint("checklist_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklist.id"), index=True)
    number: Mapped[int]
    #: The validated checklist as canonical JSON (defaults omitted): the single source
    #: the form, the scoring and the export are built from. Deferred: it is parsed once per
    #: process (submissions.checklist_of), so most loads of a version need only its hash.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    #: sha256 of the canonical content, so re-importing an unchanged file publishes nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    checklist: Mapped[Checklist] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<ChecklistVersion {self.checklist_id} v{self.number}>"


class Wave(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Wave {self.name}>"


class AssignmentState(str, enum.Enum):
    open = "open"
    started = "started"
    submitted = "submitted"
    expired = "expired"
    cancelled = "cancelled"
    #: The shopper reported an outcome that does not count (SPEC §3 ``outcomes``, ``score: none``).
    not_done = "not_done"
    #: HQ sent the visit back with a note (SPEC §8): the link opens again with its answers.
    returned = "returned"


def code_is(column, code):
    """SQL: region and branch codes match as people read them, whatever the case: a manager
    typing ``br-001`` means BR-001. HQ's forms keep codes unique regardless of case.
    ``code`` may be a bound parameter (a prepared statement): its value is then given in capitals."""
    return db.func.upper(column) == (code.upper() if isinstance(code, str) else code)


#: The stored states of a link a shopper may still send, unless it is past its due date.
UNFINISHED = (AssignmentState.open, AssignmentState.started, AssignmentState.returned)


#: Attachment.question_key of the photo sent with an outcome ("could not complete this shop").
OUTCOME_PHOTO_KEY = "outcome"


def photo_key(question_key: str, repeat: int = 0) -> str:
    """Name a photo's place as Attachment.question_key: its question's key, ``key-n`` in repetition n,
    so each repetition of a repeated section keeps its own photo."""
    return f"{question_key}-{repeat}" if repeat else question_key


class Assignment(db.Model):
    """One planned shop; the shopper's link carries a token whose hash is stored here."""

    #: The links still usable (state open or started, due today or later) are few among a chain's
    #: years of sent ones: HQ's home and the waves pages find them through this index.
    __table_args__ = (Index("ix_assignment_state_due", "state", "due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The token's first characters: HQ matches a row of the links file to a link on the wave
    #: page by them (168 of the token's 192 random bits stay secret).
    token_hint: Mapped[str | None] = mapped_column(String(8))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklist.id"), index=True)
    #: Pinned when the shopper first opens the link, so a publish mid-fill can't
    #: change the questions under their thumb.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_version.id"))
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("wave.id"), index=True)
    not_before: Mapped[date]
    due: Mapped[date]
    state: Mapped[AssignmentState] = mapped_column(
        db.Enum(AssignmentState, native_enum=False, length=16), default=AssignmentState.open
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    #: For a link ended not_done: the outcome's key, the shopper's words and when they said so.
    outcome: Mapped[str | None] = mapped_column(String(64))
    outcome_comment: Mapped[str | None] = mapped_column(db.Text)
    outcome_at: Mapped[datetime | None]

    branch: Mapped[Branch] = relationship()
    checklist: Mapped[Checklist] = relationship()
    version: Mapped[ChecklistVersion | None] = relationship()
    wave: Mapped[Wave | None] = relationship()
    #: The photo a shopper sent with "could not complete this shop" (kept when the link ends not_done).
    outcome_photos: Mapped[list[Attachment]] = relationship(
        primaryjoin=f"and_(Attachment.assignment_id == Assignment.id, Attachment.submission_id.is_(None), "
                    f"Attachment.question_key == '{OUTCOME_PHOTO_KEY}')",
        viewonly=True, order_by="Attachment.id")

    def effective_state(self, today: date) -> AssignmentState:
        """Return the state a person should see: an unfinished link past its due date has expired."""
        if self.state in UNFINISHED and today > self.due:
            return AssignmentState.expired
        return self.state

    def why_closed(self, today: date) -> str | None:
        """Why a shopper can't send this link on ``today``: submitted, expired, cancelled or
        not_open; None when they can. The page and the draft endpoint both go by it."""
        state = self.effective_state(today)
        if state in (AssignmentState.submitted, AssignmentState.expired, AssignmentState.cancelled,
                     AssignmentState.not_done):
            return state.value
        return "not_open" if today < self.not_before else None

    @classmethod
    def usable_on(cls, today: date):
        """The rule of effective_state as SQL: links a shopper can still send on ``today``."""
        return db.and_(cls.state.in_(UNFINISHED), cls.due >= today)

    def __repr__(self) -> str:
        return f"<Assignment {self.id} {self.state.value}>"


class ReviewState(str, enum.Enum):
    """Where a submission stands with HQ (SPEC §8); only ``counted`` is in reports."""

    counted = "counted"
    #: Waits for HQ (a checklist under ``review: hq``, or sent again after a return).
    pending = "pending"
    #: Back with the shopper, with HQ's note: the same link opens again.
    returned = "returned"
    rejected = "rejected"


class Submission(db.Model):
    """The shopper's answers for one assignment, scored when it arrived."""

    __table_args__ = (
        Index("ix_submission_branch_visit", "branch_id", "visit_date"),
        # The network average (reports.queries.network_mean) reads every branch's visits of a
        # period's part months (its whole months come from ScoreMonth): from this index alone
        # (a covering index on SQLite), never the table. It replaces the index on visit_date.
        Index("ix_submission_visit_scores", "visit_date", "branch_id", "score", "review"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unique: a double tap or a replay can never store a second submission.
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), unique=True)
    #: Generated with the form; a retry of the same POST is recognised by it.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: Short code shown to the shopper as a receipt (e.g. K7Q-2F).
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_version.id"), index=True)
    #: Copied from the assignment so report queries filter without a join.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    visit_date: Mapped[date]
    visit_time: Mapped[time | None]
    opened_at: Mapped[datetime | None]
    first_answer_at: Mapped[datetime | None]
    #: Indexed: HQ's home counts this month's visits, which must not read three years of them.
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Overall score 0..1 at full precision, after bonuses, deductions and any critical override.
    score: Mapped[float | None]
    critical_fail: Mapped[bool] = mapped_column(default=False)
    #: The key of the counted outcome the shop ended with instead of a filled form (SPEC §3), if any.
    outcome: Mapped[str | None] = mapped_column(String(64))
    #: Who decided what and why is in ``events``; this is the state they left it in.
    review: Mapped[ReviewState] = mapped_column(
        db.Enum(ReviewState, native_enum=False, length=16), default=ReviewState.counted,
        server_default=ReviewState.counted.value, index=True)

    assignment: Mapped[Assignment] = relationship()
    version: Mapped[ChecklistVersion] = relationship()
    branch: Mapped[Branch] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="submission", order_by="Answer.position")
    sections: Mapped[list[SectionScore]] = relationship(back_populates="submission", order_by="SectionScore.position")
    standards: Mapped[list[StandardScore]] = relationship(back_populates="submission")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="submission")
    events: Mapped[list[SubmissionEvent]] = relationship(order_by="SubmissionEvent.id")
    flags: Mapped[list[SubmissionFlag]] = relationship(order_by="SubmissionFlag.flag")

    @classmethod
    def counts(cls):
        """SQL: the one rule for a submission that counts in reports (SPEC §8: neither waiting,
        returned nor rejected)."""
        # NOT IN rather than "= 'counted'": an equality on the review column tempts SQLite into
        # its index on it and a scan of the whole network, instead of the (branch_id,
        # visit_date) index that keeps a branch's report local. The index serves HQ's queue.
        return cls.review.not_in([ReviewState.pending, ReviewState.returned, ReviewState.rejected])

    def __repr__(self) -> str:
        return f"<Submission {self.reference}>"


class SectionScore(db.Model):
    __table_args__ = (UniqueConstraint("submission_id", "section_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    section_key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    weight: Mapped[float]
    earned: Mapped[float]
    possible: Mapped[float]
    #: earned / possible, or None when nothing in the section applied.
    score: Mapped[float | None]

    submission: Mapped[Submission] = relationship(back_populates="sections")


class StandardScore(db.Model):
    """A visit's score on one standard (Σe / Σw of its applicable answers of that standard, SPEC §4),
    stored when it arrived: reports average these instead of adding up every answer again, and a
    counted outcome scores 0 here on its standards without any answer."""

    __table_args__ = (UniqueConstraint("submission_id", "standard_key"),
                      Index("ix_standard_score_standard", "standard_key", "submission_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    standard_key: Mapped[str] = mapped_column(String(64))
    #: Points earned and possible; None for an outcome's 0, which has no answers.
    earned: Mapped[float | None]
    possible: Mapped[float | None]
    score: Mapped[float]

    submission: Mapped[Submission] = relationship(back_populates="standards")


class ScoreMonth(db.Model):
    """A branch's counted visits with a score in one calendar month, summed; kept on every write
    that changes one (survey/rollups.py, the only module that writes it).

    The network and region averages are means of branch means (SPEC §4), so they need each
    branch's sums over the period: a period's whole months are read from here, one row per branch
    and month instead of one per visit, and only its part months from the visits.
    """

    __tablename__ = "score_month"
    __table_args__ = (
        # Read from indexes alone: the network average reads a run of months of every branch,
        # a region's comparisons a run of months of each of its branches.
        Index("ix_score_month_network", "month", "branch_id", "n", "total"),
        Index("ix_score_month_branch", "branch_id", "month", "n", "total"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    #: The month's first day.
    month: Mapped[date] = mapped_column(primary_key=True)
    #: Counted visits with a score.
    n: Mapped[int] = mapped_column(default=0)
    #: The sum of their overall scores (0..1 each).
    total: Mapped[float] = mapped_column(default=0.0)

    def __repr__(self) -> str:
        return f"<ScoreMonth {self.branch_id} {self.month:%Y-%m} {self.n}>"


class StandardMonth(db.Model):
    """A branch's counted visits' standard scores in one calendar month, summed per standard
    (survey/rollups.py keeps it; see ScoreMonth)."""

    __tablename__ = "standard_month"
    __table_args__ = (
        # A region's standards read from this index alone (PostgreSQL scanned the whole table
        # to join the region's fifty branches when it had to fetch each row: 115 ms against 14).
        Index("ix_standard_month_branch", "branch_id", "month", "standard_key", "n", "total"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    #: The month's first day.
    month: Mapped[date] = mapped_column(primary_key=True)
    standard_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Counted visits where the standard applied.
    n: Mapped[int] = mapped_column(default=0)
    #: The sum of their scores on it (0..1 each).
    total: Mapped[float] = mapped_column(default=0.0)

    def __repr__(self) -> str:
        return f"<StandardMonth {self.branch_id} {self.month:%Y-%m} {self.standard_key} {self.n}>"


class Answer(db.Model):
    """One question of one submission; unanswered and hidden questions are stored too, as N/A."""

    __table_args__ = (
        UniqueConstraint("submission_id", "question_key", "repeat"),
        Index("ix_answer_standard", "standard_key", "submission_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    position: Mapped[int]
    section_key: Mapped[str] = mapped_column(String(64))
    question_key: Mapped[str] = mapped_column(String(64))
    standard_key: Mapped[str | None] = mapped_column(String(64))
    #: The answer as the shopper gave it, in text form ("yes", "4", "solved", "a;b", "2026-11-02").
    value: Mapped[str | None] = mapped_column(db.Text)
    #: "answered", "na" (the shopper said N/A or left an optional one blank) or "hidden".
    status: Mapped[str] = mapped_column(String(16))
    earned: Mapped[float | None]
    possible: Mapped[float | None]
    critical_fail: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str | None] = mapped_column(db.Text)
    #: The repetition (1, 2, ...) of an answer in a repeated section; 0 outside them.
    repeat: Mapped[int] = mapped_column(default=0, server_default="0")
    #: A bonus or deduction's effect on the overall score in percentage points (+P, -P or 0).
    adjustment: Mapped[float | None]

    submission: Mapped[Submission] = relationship(back_populates="answers")


class Attachment(db.Model):
    """An uploaded photo, stored outside the web root under a random name."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Set on upload so a re-shown form can keep the photo; tied to the assignment
    #: so a tampered form can't claim someone else's file.
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    question_key: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The photo's perceptual hash (pHash, 64 bits as 16 hex digits), for the photo_reused flag.
    phash: Mapped[str | None] = mapped_column(String(16))

    submission: Mapped[Submission | None] = relationship(back_populates="attachments")


class PhotoBand(db.Model):
    """One of the five bands of a photo's 64-bit pHash (13, 13, 13, 13 and 12 bits).

    Two hashes at most 4 bits apart agree on at least one whole band, so a photo sent before
    is found through the (band, value) index among a few candidates, never by a scan.
    """

    __table_args__ = (Index("ix_photo_band_value", "band", "value"),)

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int]


class SubmissionFlag(db.Model):
    """A trust flag (SPEC §8) computed when a submission arrived; it never changes a score."""

    __table_args__ = (UniqueConstraint("submission_id", "flag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    #: fast, outside_hours, photo_reused or late.
    flag: Mapped[str] = mapped_column(String(16), index=True)
    #: What HQ reads beside it, e.g. "2.5 min from first answer to send (minimum 5)".
    detail: Mapped[str] = mapped_column(String(500), default="")


class ShopperDraft(db.Model):
    """Answers saved before sending, so a shopper can finish on another phone or later."""

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_version.id"))
    #: The raw form fields as sent: {name: value or [values]}; checked only on submit.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SubmissionEvent(db.Model):
    """Audit trail of a submission's review: who moved it from which state to which, when and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    #: None for the shopper (a resend) or the system.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: "approved", "returned", "rejected", "restored", or "resent" by the shopper.
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(2000), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    #: On a return: the answers as they were ({"answers": [...], "score": ...}), so what the
    #: shopper changed when sending again can be shown, and nothing they sent is lost.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()


class ActionState(str, enum.Enum):
    open = "open"
    done = "done"
    dropped = "dropped"


class Action(db.Model):
    """A fix someone committed to for one question of one branch (SPEC §8): what, by whom, by when.

    Opened from a fix-first item or a critical failure; ``open`` → ``done`` (with a note) or
    ``dropped``. Writes go through ``survey/actions.py``.
    """

    __table_args__ = (Index("ix_action_branch_state", "branch_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    #: The question, matched by checklist and key across versions, as fix first matches it.
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklist.id"))
    question_key: Mapped[str] = mapped_column(String(64))
    #: The question's wording when the action was opened: a later version may reword it.
    question_text: Mapped[str] = mapped_column(String(2000))
    #: The visit whose critical failure the action answers, when opened from one.
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    what: Mapped[str] = mapped_column(String(2000))
    #: Who will do it, as people name them (free text, not an account).
    owner: Mapped[str] = mapped_column(String(200))
    due: Mapped[date]
    state: Mapped[ActionState] = mapped_column(db.Enum(ActionState, native_enum=False, length=16),
                                               default=ActionState.open)
    #: What was done (state done) or why it was dropped.
    note: Mapped[str | None] = mapped_column(String(2000))
    #: The question's score "before" is over counted visits in the 12 months up to and including
    #: this day; "since" over the visits after it.
    opened_on: Mapped[date]
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    branch: Mapped[Branch] = relationship()
    checklist: Mapped[Checklist] = relationship()

    def overdue(self, today: date) -> bool:
        return self.state == ActionState.open and self.due < today

    def __repr__(self) -> str:
        return f"<Action {self.id} {self.state.value}>"


class ChecklistDraft(db.Model):
    """HQ's working copy of a checklist; publishing turns it into a new immutable version."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    #: Checklist content in the file format (may be invalid while being edited).
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The published version number the draft started from (None for a new checklist);
    #: a publish refuses when the checklist has moved on since.
    base_version: Mapped[int | None]
    #: Optimistic lock: every write of a draft goes through the ORM, which bumps this and
    #: updates only the revision it read (``version_id_col``), so of two writes racing (a form
    #: save, an import, a publish) the second fails instead of overwriting the first.
    revision: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    __mapper_args__ = {"version_id_col": revision}

    def __repr__(self) -> str:
        return f"<ChecklistDraft {self.slug} r{self.revision}>"


class Role(str, enum.Enum):
    hq = "hq"
    manager = "manager"


user_region = Table(
    "user_region",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("region.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A manager may turn the monthly e-mail of their reports off for themselves (survey/delivery.py).
    monthly_delivery: Mapped[bool] = mapped_column(default=True, server_default=db.true())

    regions: Mapped[list[Region]] = relationship(secondary=user_region, order_by="Region.code")

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.active

    @property
    def is_hq(self) -> bool:
        return self.role == Role.hq

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class StaffSession(db.Model):
    """One login of a staff member on one browser, so that it can be listed and ended.

    The signed session cookie holds a random token; only its hash is stored, so a copy of
    this table logs no one in. A request is a staff member's only while its row exists and
    was seen within SURVEY_SESSION_HOURS (auth/sessions.py).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: sha256 of the token in the session cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Advanced at most once a minute (auth/sessions.TOUCH_EVERY), not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Where and with what it logged in, for the person who lists their sessions.
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<StaffSession {self.id} of user {self.user_id}>"


class JobRun(db.Model):
    """A daily job's claim on its day (survey/jobs.py): with two schedulers, the second finds
    the day taken and does nothing."""

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertState(str, enum.Enum):
    #: Waiting for its next try (``next_attempt_at``); the worker's sweep queues it then.
    pending = "pending"
    #: A worker claimed it and is talking to the mail server.
    sending = "sending"
    sent = "sent"
    #: Every try was refused or timed out; HQ may send it again.
    failed = "failed"
    #: The connection broke while the message was handed over, or the worker died mid-send: it may
    #: have arrived. Never tried again on its own (at most once); HQ may send it again.
    unknown = "unknown"
    #: The visit stopped counting (rejected) before the e-mail left.
    cancelled = "cancelled"


class Alert(db.Model):
    """One e-mail to a region's managers about one counted visit (SPEC §8 alerts; survey/alerts.py)."""

    __table_args__ = (Index("ix_alert_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unique: a visit has at most one alert, however often its counting is announced.
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), unique=True)
    #: "critical" (a critical failure) or "low_score" (below SURVEY_ALERT_BELOW).
    reason: Mapped[str] = mapped_column(String(16))
    state: Mapped[AlertState] = mapped_column(db.Enum(AlertState, native_enum=False, length=16),
                                              default=AlertState.pending)
    #: Tries made so far (a try claims the row first).
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the current try claimed it: a ``sending`` row claimed long ago lost its worker.
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: The addresses of the last try, comma-separated.
    recipients: Mapped[str | None] = mapped_column(db.Text)
    #: Kept across tries, so a message sent again by HQ is recognisably the same message.
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship()

    def __repr__(self) -> str:
        return f"<Alert {self.id} {self.state.value}>"


class DeliverySettings(db.Model):
    """HQ's settings of the monthly delivery (survey/delivery.py): one row, id 1, made when HQ first
    saves them; until then the delivery is off."""

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    #: Day of the month (1-28, so every month has it) on which last month's reports go out.
    day: Mapped[int] = mapped_column(default=1)
    #: Above this many kilobytes of PDFs a manager's e-mail links to them instead of attaching them.
    attach_limit_kb: Mapped[int] = mapped_column(default=10240)
    #: Language of the e-mail (``en``, ``de``): managers have none of their own.
    language: Mapped[str] = mapped_column(String(16), default="en")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReportBatch(db.Model):
    """One run of PDFs for a month: every branch's (``pdfs``), or those plus each region's and an
    e-mail per manager (``delivery``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: ``YYYY-MM``: the calendar month the PDFs cover.
    month: Mapped[str] = mapped_column(String(7))
    #: Who started it: "schedule", "command line", "HQ".
    origin: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ReportBatch {self.id} {self.kind} {self.month}>"


class PdfState(str, enum.Enum):
    #: Waiting for a worker (queued at ``queued_at``).
    due = "due"
    #: A worker claimed it (``claimed_at``); one claimed long ago lost its worker and is due again.
    making = "making"
    done = "done"
    #: Every try raised; the error is kept.
    failed = "failed"


class BatchPdf(db.Model):
    """One PDF to make in a batch, made once and shared by every e-mail that needs it."""

    __table_args__ = (UniqueConstraint("batch_id", "kind", "code"),
                      Index("ix_batch_pdf_batch_state", "batch_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("report_batch.id", ondelete="CASCADE"))
    #: "branch" or "region".
    kind: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(32))
    #: The region it belongs to: who may open it (a link in an e-mail is checked against it).
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    state: Mapped[PdfState] = mapped_column(db.Enum(PdfState, native_enum=False, length=16), default=PdfState.due)
    attempts: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    made_at: Mapped[datetime | None]
    #: Where the file is in the objects store (survey/storage.py ``objects``), and the name people see.
    stored_name: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))

    batch: Mapped[ReportBatch] = relationship()
    region: Mapped[Region] = relationship()


class MailState(str, enum.Enum):
    #: Its PDFs are not all made yet.
    waiting = "waiting"
    #: Ready to send at ``next_attempt_at``.
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    #: Cut off while handed over (or its worker died mid-send): may have arrived; only HQ sends it again.
    unknown = "unknown"


delivery_mail_pdf = Table(
    "delivery_mail_pdf",
    db.metadata,
    Column("mail_id", ForeignKey("delivery_mail.id", ondelete="CASCADE"), primary_key=True),
    Column("pdf_id", ForeignKey("batch_pdf.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class DeliveryMail(db.Model):
    """One manager's monthly e-mail in a delivery batch, sent at most once (like an Alert)."""

    __table_args__ = (UniqueConstraint("batch_id", "user_id"),
                      Index("ix_delivery_mail_state_next", "state", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("report_batch.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    state: Mapped[MailState] = mapped_column(db.Enum(MailState, native_enum=False, length=16),
                                             default=MailState.waiting)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    recipient: Mapped[str | None] = mapped_column(String(254))
    message_id: Mapped[str | None] = mapped_column(String(200))
    #: Whether the last try linked the PDFs (over HQ's size limit) instead of attaching them.
    linked: Mapped[bool] = mapped_column(default=False)

    batch: Mapped[ReportBatch] = relationship()
    user: Mapped[User] = relationship()
    #: Its regions' PDFs first, then its branches', by code.
    pdfs: Mapped[list[BatchPdf]] = relationship(secondary=delivery_mail_pdf,
                                                order_by="[BatchPdf.kind.desc(), BatchPdf.code]")


class AppealCategory(str, enum.Enum):
    """Why a branch disputes a visit (SPEC §8 appeals)."""

    #: The answer contradicts the shopper's own comment, or was scored wrongly.
    scoring = "scoring"
    #: Wrong branch, time or scenario.
    shopper = "shopper"
    #: An outage, a delivery, a fire drill.
    circumstances = "circumstances"


class AppealState(str, enum.Enum):
    #: At least one disputed item waits for HQ.
    open = "open"
    #: HQ decided every item.
    decided = "decided"


class Appeal(db.Model):
    """A branch's dispute of one counted visit (SPEC §8): one per visit, decided by HQ item by item.

    Writes go through ``survey/appeals.py``.
    """

    #: HQ's queue reads the open ones, oldest first.
    __table_args__ = (Index("ix_appeal_state_opened", "state", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unique: a visit is appealed at most once, however many managers press the button at once.
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), unique=True)
    category: Mapped[AppealCategory] = mapped_column(db.Enum(AppealCategory, native_enum=False, length=16))
    reason: Mapped[str] = mapped_column(String(2000))
    state: Mapped[AppealState] = mapped_column(db.Enum(AppealState, native_enum=False, length=16),
                                               default=AppealState.open)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    submission: Mapped[Submission] = relationship()
    opened_by: Mapped[User | None] = relationship()
    items: Mapped[list[AppealItem]] = relationship(back_populates="appeal", order_by="AppealItem.id")

    def __repr__(self) -> str:
        return f"<Appeal {self.id} {self.state.value}>"


class AppealItem(db.Model):
    """One disputed thing of an appeal: a question (in one repetition) or the whole visit, and HQ's decision."""

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    #: The question disputed; None for the whole visit.
    question_key: Mapped[str | None] = mapped_column(String(64))
    #: The repetition of a question in a repeated section (as ``Answer.repeat``); 0 elsewhere.
    repeat: Mapped[int] = mapped_column(default=0)
    #: None while it waits; "upheld" or "denied".
    decision: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(2000))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    #: The shopper's answer as they sent it (``Answer.value`` and ``status``), kept when HQ's replaces it.
    shopper_value: Mapped[str | None] = mapped_column(db.Text)
    shopper_status: Mapped[str | None] = mapped_column(String(16))
    #: HQ's answer on an upheld question: the stored text, and "answered" or "na".
    hq_value: Mapped[str | None] = mapped_column(db.Text)
    hq_status: Mapped[str | None] = mapped_column(String(16))
    #: The visit's overall score (0..1) before and after the decision, when it changed anything.
    score_before: Mapped[float | None]
    score_after: Mapped[float | None]

    appeal: Mapped[Appeal] = relationship(back_populates="items")
    decided_by: Mapped[User | None] = relationship()

    @property
    def whole(self) -> bool:
        return self.question_key is None

    def __repr__(self) -> str:
        return f"<AppealItem {self.id} {self.question_key or 'visit'} {self.decision or 'open'}>"
