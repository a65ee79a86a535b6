"""Trust flags (SPEC §8): each flag with a visit made to trigger it and one made not to; a flag
never changes a score; HQ sees them in the list (filterable), on the visit and per wave."""

from __future__ import annotations

import io
import random
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from PIL import Image
from survey import flags
from survey.answers import Filled
from survey.catalogue import publish
from survey.checklist.loader import load_checklist_data
from survey.extensions import db
from survey.models import Branch, Submission, SubmissionFlag
from survey.shopper.forms import field_name
from survey.submissions import create_assignments, get_or_create_wave, record_submission

from .conftest import good_answers, hidden_fields
from .reports_fixtures import MINI, answers, mini  # noqa: F401 - mini is a fixture
from .test_hq_review import text_of

TODAY = date.today()
#: The latest Monday on or before today, and the Saturday before it.
MONDAY = TODAY - timedelta(days=TODAY.weekday())
NOW = datetime(MONDAY.year, MONDAY.month, MONDAY.day, 12, 0)


@pytest.fixture
def visit(mini, make_branch):  # noqa: F811
    """Return a callable storing a mini visit; it returns ``(submission, flags)``."""
    branch = make_branch("BR-001", "NORTH")

    def make(day: date = MONDAY, at: time | None = time(11, 0), minutes: float | None = 20,
             sent: datetime | None = None, checklist=None, wave: str | None = None, **given):
        checklist = checklist or mini
        (assignment, _), = create_assignments(checklist, branch, 1, due=TODAY + timedelta(days=7),
                                              not_before=day - timedelta(days=7), wave=get_or_create_wave(wave))
        assignment.version = checklist.latest
        sent = sent or NOW
        filled = Filled(answers=answers(**given), visit_date=day, visit_time=at, idempotency_key=uuid.uuid4().hex,
                        first_answer_at=sent - timedelta(minutes=minutes) if minutes is not None else None,
                        submitted_at=sent)
        submission = db.session.get(Submission, record_submission(assignment, checklist.latest, filled)[0])
        return submission, {f.flag: f.detail for f in submission.flags}

    make.branch = branch
    return make


def test_fast_under_the_checklists_minimum(visit, published):
    timed = publish(load_checklist_data({**MINI, "min_minutes": 5}))[0].checklist
    db.session.commit()

    quick, found = visit(minutes=3, checklist=timed)
    _, calm = visit(minutes=6, checklist=timed)

    assert found["fast"] == "3.0 min to fill in (minimum 5)"
    assert "fast" not in calm
    assert set(found) == {"fast"}


def test_fast_under_a_quarter_of_the_median_once_there_are_enough_visits(visit):
    _, early = visit(minutes=1)  # no median yet: not flagged
    for _ in range(5):
        visit(minutes=20)
    _, quick = visit(minutes=4)   # median 20 (1 and five 20s) → a quarter is 5
    _, calm = visit(minutes=6)

    assert "fast" not in early
    assert quick["fast"].startswith("4.0 min to fill in; the median of the last 6 is 20.0 min")
    assert "fast" not in calm


def test_without_javascript_the_time_since_the_link_opened_counts():
    sent = NOW
    assert flags.fill_minutes(None, sent - timedelta(minutes=2), sent) == 2
    assert flags.fill_minutes(sent - timedelta(minutes=1), sent - timedelta(minutes=9), sent) == 1
    assert flags.fill_minutes(None, None, sent) is None


def test_outside_hours_for_visits_and_calls_when_hq_set_them(visit, published):
    branch = visit.branch
    _, unset = visit(at=time(22, 0))
    branch.opening_hours = "Mo-Fr 09:00-18:00; Sa 09:00-13:00"
    db.session.commit()

    _, night = visit(at=time(20, 30))
    _, open_ = visit(at=time(9, 0))
    _, sunday = visit(day=MONDAY - timedelta(days=1), at=time(11, 0), sent=NOW)
    _, no_time = visit(at=None)
    emailed = publish(load_checklist_data({**MINI, "slug": "mini-mail", "channel": "email"}))[0].checklist
    db.session.commit()
    _, by_mail = visit(at=time(23, 0), checklist=emailed)

    assert night["outside_hours"] == "Mo 20:30; the branch opens Mo-Fr 09:00-18:00; Sa 09:00-13:00"
    assert sunday["outside_hours"].startswith("Su 11:00")
    for found in (unset, open_, no_time, by_mail):
        assert "outside_hours" not in found


def test_late_after_three_days(visit):
    _, late = visit(day=MONDAY - timedelta(days=4))
    _, in_time = visit(day=MONDAY - timedelta(days=3))

    assert late["late"] == "sent 4 days after the visit"
    assert "late" not in in_time


def test_a_flag_never_changes_a_score(visit):
    flagged, found = visit(day=MONDAY - timedelta(days=6), minutes=0.1)
    plain, none = visit()

    assert found and not none
    assert flagged.score == plain.score and flagged.critical_fail == plain.critical_fail


# ---------------------------------------------------------------- photos, through the shopper's form


def photo(seed: int) -> bytes:
    """A photo with a pattern of its own (a plain colour would hash like any other plain colour)."""
    rng = random.Random(seed)
    image = Image.new("L", (8, 8))
    image.putdata([rng.randrange(256) for _ in range(64)])
    out = io.BytesIO()
    image.resize((256, 192), Image.NEAREST).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def reshot(data: bytes) -> bytes:
    """The same picture saved again smaller and darker: other bytes, the same perceptual hash."""
    image = Image.open(io.BytesIO(data)).resize((200, 150)).point(lambda v: v * 0.9)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def send_photo(client, published, make_assignment):
    def send(data: bytes) -> Submission:
        assignment, token = make_assignment(wave="W1")
        from survey.caches import checklist_of

        checklist = checklist_of(published["store-visit"].latest)
        question = next(q for _, q in checklist.questions() if q.type == "photo")
        form = {**hidden_fields(client.get(f"/s/{token}").get_data(as_text=True)), **good_answers(checklist),
                field_name(question.key): (io.BytesIO(data), "receipt.jpg")}
        assert client.post(f"/s/{token}", data=form, content_type="multipart/form-data").status_code == 303
        return db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id))

    return send


def test_photo_reused_finds_the_same_picture_sent_with_another_visit(send_photo):
    first = send_photo(photo(1))
    again = send_photo(reshot(photo(1)))
    other = send_photo(photo(2))

    assert [f.flag for f in first.flags] == [] and [f.flag for f in other.flags] == []
    assert {f.flag: f.detail for f in again.flags}["photo_reused"] == (
        f"the same picture was sent with {first.reference}")
    assert bin(int(first.attachments[0].phash, 16) ^ int(again.attachments[0].phash, 16)).count("1") <= 4


def test_near_copies_share_a_band_so_the_index_finds_them():
    base = 0x0123456789ABCDEF
    for flips in ((0, 13, 26, 39), (12, 25, 38, 51), (63, 62, 61, 60)):
        near = base
        for bit in flips:
            near ^= 1 << bit
        assert set(flags.bands(f"{base:016x}")) & set(flags.bands(f"{near:016x}"))


# ---------------------------------------------------------------- what HQ sees


def test_hq_sees_flags_in_the_list_filters_by_them_and_counts_them_per_wave(hq, visit):
    late, _ = visit(day=MONDAY - timedelta(days=5), wave="Spring")
    plain, _ = visit(wave="Spring")

    listed = text_of(hq.get("/hq/submissions?flag=late"))
    assert late.reference in listed and plain.reference not in listed
    assert "Sent late" in listed
    assert "Choose a flag from the list." in text_of(hq.get("/hq/submissions?flag=bogus"))
    page = text_of(hq.get(f"/hq/submissions/{late.id}"))
    assert "Trust flags" in page and "sent 5 days after the visit" in page
    wave = text_of(hq.get(f"/hq/waves/{late.assignment.wave_id}"))
    assert "Trust flags in this wave:" in wave and "Sent late</span> 1" in wave


def test_a_resend_recomputes_every_flag_but_fast(hq, visit, make_user):
    from survey.hq import reviews
    from survey.models import ReviewState, User

    timed = publish(load_checklist_data({**MINI, "min_minutes": 5}))[0].checklist
    db.session.commit()
    sent, found = visit(day=MONDAY - timedelta(days=5), minutes=0.5, checklist=timed)
    assert {"late", "fast"} <= set(found)
    db.session.execute(db.update(Submission).where(Submission.id == sent.id).values(review=ReviewState.pending))
    db.session.commit()
    user = db.session.scalar(db.select(User).filter_by(email="hq@example.com"))
    assert reviews.return_to_shopper(db.session.get(Submission, sent.id), ReviewState.pending, user, "Date?")

    assignment = db.session.get(Submission, sent.id).assignment
    filled = Filled(answers=answers(), visit_date=MONDAY, visit_time=time(11, 0), idempotency_key=uuid.uuid4().hex,
                    first_answer_at=NOW - timedelta(minutes=30), submitted_at=NOW)
    record_submission(assignment, assignment.version, filled)

    db.session.expire_all()
    assert {f.flag for f in db.session.scalars(db.select(SubmissionFlag).filter_by(submission_id=sent.id))} == {"fast"}
    assert db.session.scalar(db.select(Branch.opening_hours)) is None
