"""What the database itself guarantees: states, hashed tokens, one submission per link, full precision."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from survey.extensions import db
from survey.models import (
    Assignment,
    AssignmentState,
    ChecklistVersion,
    ReviewState,
    Submission,
    hash_token,
    utcnow,
)
from survey.checklist.conditions import slots
from survey.shopper.fields import slot_name
from survey.answers import Filled
from survey.caches import checklist_of
from survey.submissions import new_reference, new_token, pin_version, record_submission

from .conftest import good_answers

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("state, today, seen", [
    (AssignmentState.open, TODAY, AssignmentState.open),
    (AssignmentState.open, TODAY + timedelta(days=1), AssignmentState.expired),
    (AssignmentState.started, TODAY + timedelta(days=1), AssignmentState.expired),
    (AssignmentState.started, TODAY, AssignmentState.started),  # the due day itself still counts
    (AssignmentState.submitted, TODAY + timedelta(days=30), AssignmentState.submitted),
    (AssignmentState.cancelled, TODAY - timedelta(days=1), AssignmentState.cancelled),
])
def test_effective_state(state, today, seen):
    assignment = Assignment(state=state, not_before=TODAY - timedelta(days=7), due=TODAY)
    assert assignment.effective_state(today) == seen


def test_tokens_are_random_and_only_their_hash_is_kept():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    token = tokens.pop()
    assert len(token) == 32  # 24 random bytes: 192 bits
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest() != token


def test_a_link_keeps_only_a_short_hint_of_its_token(make_assignment):
    """HQ matches a links-file row to a link by its first characters; the rest stays secret."""
    assignment, token = make_assignment()
    db.session.expire_all()
    stored = db.session.get(Assignment, assignment.id)
    assert stored.token_hint == token[:4] and len(stored.token_hint) == 4
    assert stored.token_hash == hash_token(token)
    row = db.session.execute(db.text("SELECT * FROM assignment WHERE id = :id"), {"id": assignment.id}).one()
    assert not any(isinstance(v, str) and token in v for v in row)


def test_references_are_short_and_easy_to_read_out():
    for _ in range(200):
        reference = new_reference()
        assert len(reference) == 7 and reference[3] == "-"
        assert not set(reference) & set("01OIL")


def test_utcnow_is_naive():
    assert utcnow().tzinfo is None


def _submission(assignment, idem: str, reference: str | None = None) -> Submission:
    """Build (not store) a bare submission row for a link: these tests are about the database's own rules."""
    version = pin_version(assignment)
    return Submission(assignment=assignment, idempotency_key=idem, reference=reference or new_reference(),
                      version=version, branch_id=assignment.branch_id, visit_date=date.today())


def test_the_database_refuses_a_second_submission_for_one_link(make_assignment):
    assignment, _ = make_assignment()
    db.session.add(_submission(assignment, "a" * 32))
    db.session.commit()
    db.session.add(_submission(assignment, "b" * 32))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1


@pytest.mark.parametrize("clash", ["idempotency_key", "reference"])
def test_idempotency_keys_and_references_are_unique(make_assignment, clash):
    first, _ = make_assignment()
    second, _ = make_assignment()
    db.session.add(_submission(first, "a" * 32, "AAA-AAA"))
    db.session.commit()
    db.session.add(_submission(second, "a" * 32 if clash == "idempotency_key" else "b" * 32,
                               "AAA-AAA" if clash == "reference" else "BBB-BBB"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_version_numbers_are_unique_per_checklist(published):
    checklist = published["store-visit"]
    latest = checklist.latest
    db.session.add(ChecklistVersion(checklist=checklist, number=latest.number, content=latest.content,
                                    content_hash="0" * 64))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_scores_keep_full_precision_and_content_round_trips(make_assignment):
    assignment, _ = make_assignment()
    version = pin_version(assignment)
    checklist = checklist_of(version)
    data = good_answers(checklist)
    answers = {slot: q.kind.parse(q, data.get(slot_name(slot)))[0] for _, _, q, slot in slots(checklist)}
    submission_id, _ = record_submission(assignment, version, Filled(
        answers=answers, visit_date=date.today(), visit_time=None, idempotency_key="c" * 32))
    db.session.execute(db.update(Submission).where(Submission.id == submission_id).values(score=1 / 3))
    db.session.commit()
    content = dict(assignment.version.content)
    db.session.expire_all()
    stored = db.session.scalar(db.select(Submission))
    assert stored.score == 1 / 3  # not rounded to single precision
    assert stored.version.content == content
    assert stored.assignment.state == AssignmentState.submitted
    assert stored.review == ReviewState.counted and stored.critical_fail is False
