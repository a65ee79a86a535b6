"""The monthly score sums (survey/rollups.py) behind the region and network averages (issue 16).

After every kind of write that changes whether a visit counts, or its scores, the figures the
reports read (``network_mean``, ``standard_scores``, ``daily_branch_scores``: whole months from
the sums, part months from the visits) equal a direct computation from the visits, for periods
of whole months, part months and a few days; and ``rollups.check`` finds nothing to set right.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import uuid

import pytest
from survey import appeals, demo, jobs, rollups
from survey.answers import Filled
from survey.caches import checklist_of
from survey.extensions import db
from survey.hq import reviews
from survey.models import (
    AppealCategory,
    Assignment,
    ChecklistVersion,
    Region,
    ReviewState,
    ScoreMonth,
    StandardMonth,
    StandardScore,
    Submission,
    User,
)
from survey.shopper.forms import field_name
from survey.submissions import create_assignments, record_submission

from reports import queries

from .conftest import good_answers, hidden_fields
from .reports_fixtures import *  # noqa: F401,F403
from .reports_fixtures import answers
from .test_appeals import race
from .test_review_states import decide, reviewed, scored_yes_no, send  # noqa: F401  (fixtures)

TODAY = date.today()
#: Whole months; part months at both ends, read by adding their days or by taking the days
#: outside off the whole month (10 January and 30 June are visits); days inside one month; a
#: year to today; a day.
PERIODS = [
    (date(2026, 1, 1), date(2026, 6, 30)),
    (date(2026, 1, 12), date(2026, 5, 31)),
    (date(2026, 1, 1), date(2026, 6, 25)),
    (date(2026, 1, 1), date(2026, 6, 29)),
    (date(2026, 1, 15), date(2026, 6, 10)),
    (date(2026, 2, 10), date(2026, 2, 25)),
    (date(2025, 11, 20), date(2026, 3, 31)),
    (TODAY - timedelta(days=365), TODAY),
    (TODAY, TODAY),
]


def live(start: date, end: date) -> dict:
    """Compute the figures from the visits, one by one, as SPEC §4 defines them."""
    scores: dict[int, list[float]] = defaultdict(list)
    months: dict[tuple[int, str], list[float]] = defaultdict(list)
    standards: dict[tuple[int, str], list[float]] = defaultdict(list)
    for s in db.session.scalars(db.select(Submission)):
        if s.review != ReviewState.counted or not start <= s.visit_date <= end:
            continue
        if s.score is not None:
            scores[s.branch_id].append(s.score)
            months[s.branch_id, f"{s.visit_date:%Y-%m}"].append(s.score)
        for row in db.session.scalars(db.select(StandardScore).filter_by(submission_id=s.id)):
            standards[s.branch_id, row.standard_key].append(row.score)
    means = [sum(v) / len(v) for v in scores.values()]
    return {
        "network": (sum(means) / len(means) if means else None, len(means)),
        "standards": {k: (pytest.approx(sum(v) / len(v)), len(v)) for k, v in standards.items()},
        "months": {k: (pytest.approx(sum(v)), len(v)) for k, v in months.items()},
    }


def read(start: date, end: date) -> dict:
    """Read the same figures through the report queries, every region's months together."""
    row = queries.network_mean(start, end)
    months: dict[tuple[int, str], list] = defaultdict(lambda: [0.0, 0])
    for region_id in db.session.scalars(db.select(Region.id)):
        for r in queries.daily_branch_scores(start, end, region_id=region_id):
            months[r.branch_id, f"{r.visit_date:%Y-%m}"][0] += r.total
            months[r.branch_id, f"{r.visit_date:%Y-%m}"][1] += r.n
    return {
        "network": (row.score, row.branches),
        "standards": {(r.branch_id, r.standard_key): (r.score, r.n) for r in queries.standard_scores(start, end)},
        "months": {k: (total, n) for k, (total, n) in months.items()},
    }


def agrees() -> None:
    """Assert the report queries equal the visits for every period, and the sums need no repair."""
    db.session.expire_all()
    for start, end in PERIODS:
        want, have = live(start, end), read(start, end)
        assert have["network"] == pytest.approx(want["network"]), (start, end)
        assert have["standards"] == want["standards"], (start, end)
        assert have["months"] == want["months"], (start, end)
    drift = rollups.check()
    assert len(drift) == 0, (drift.scores, drift.standards)


def network(start: date = date(2026, 1, 1), end: date = date(2026, 6, 30)) -> float:
    return queries.network_mean(start, end).score


def test_visits_count_in_the_sums_on_arrival(known, make_visit):
    agrees()
    assert db.session.scalar(db.select(db.func.count()).select_from(ScoreMonth)) > 0
    assert db.session.scalar(db.select(db.func.count()).select_from(StandardMonth)) > 0
    make_visit(known.d, date(2026, 5, 5), greet="no", polite="no")  # D's first: 50 %
    assert network() == pytest.approx((62.5 + 0 + 100 + 50) / 400)
    agrees()


def test_reject_and_restore_move_the_sums(known, make_user):
    hq = make_user("hq@example.com")
    visit = db.session.scalar(db.select(Submission).filter_by(branch_id=known.c.id).limit(1))
    assert reviews.reject(visit, ReviewState.counted, hq, "Not our branch")
    agrees()
    assert reviews.restore(db.session.get(Submission, visit.id), ReviewState.rejected, hq)
    agrees()
    assert reviews.reject(known.critical, ReviewState.counted, hq, "Wrong day")
    assert queries.network_mean(date(2026, 1, 1), date(2026, 6, 30)).branches == 2  # B has none left
    agrees()


def test_waiting_returned_resent_and_approved_visits(hq, client, reviewed, send):  # noqa: F811
    """Under ``review: hq``: nothing counts while it waits, is returned or is sent again; approved, it does."""
    waiting, _ = send()
    agrees()
    assert queries.network_mean(TODAY, TODAY).branches == 0
    assert decide(hq, waiting, "approve").status_code == 302
    agrees()
    assert queries.network_mean(TODAY, TODAY).score == pytest.approx(waiting.score)

    checklist = checklist_of(reviewed.latest)
    question = scored_yes_no(checklist)
    submission, token = send()
    assert decide(hq, submission, "return", "Check the greeting.").status_code == 302
    agrees()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    worse = "no" if question.pass_on == "yes" else "yes"
    assert client.post(f"/s/{token}", data={**hidden_fields(page), **good_answers(checklist),
                                            field_name(question.key): worse}).status_code == 303
    agrees()
    resent = db.session.get(Submission, submission.id)
    assert resent.review == ReviewState.pending and resent.score < waiting.score
    assert decide(hq, resent, "approve").status_code == 302
    agrees()
    assert queries.network_mean(TODAY, TODAY).score == pytest.approx((waiting.score + resent.score) / 2)
    assert decide(hq, resent, "reject", "Duplicate shop.").status_code == 302
    agrees()


def test_an_upheld_question_rescores_the_sums(known, make_user):
    """Branch A's visit of 10 January (75 %): the phone question upheld as yes (critical, zero) → 0 %."""
    hq = make_user("hq@example.com", "hq")
    visit = db.session.scalar(db.select(Submission).where(Submission.branch_id == known.a.id,
                                                          Submission.visit_date == date(2026, 1, 10)))
    before = network()
    appeal = appeals.open_appeal(visit, category=AppealCategory.scoring, reason="r", questions=["phone"], user=hq)
    assert appeals.decide(appeal.items[0], upheld=True, reason="Photo shows the phone", user=hq, answer="yes")
    # A's mean goes from (75 + 75 + 50 + 50) / 4 to (0 + 75 + 50 + 50) / 4: 18.75 points less, a third of it.
    assert network() == pytest.approx(before - 0.1875 / 3)
    agrees()


def test_the_whole_visit_upheld_leaves_the_sums(known, make_user):
    hq = make_user("hq@example.com", "hq")
    visit = db.session.scalar(db.select(Submission).filter_by(branch_id=known.c.id)
                              .order_by(Submission.visit_date).limit(1))
    appeal = appeals.open_appeal(visit, category=AppealCategory.shopper, reason="Wrong branch", questions=None,
                                 user=hq)
    assert appeals.decide(appeal.items[0], upheld=True, reason="The receipt is from BR-D", user=hq)
    agrees()


def test_a_branch_moving_region_takes_its_sums_along(known):
    """The sums are kept per branch, so a region's figures follow the branch at once."""
    north = known.a.region_id
    known.a.region_id = known.c.region_id  # as HQ's branch form does
    db.session.commit()
    agrees()
    south = {r.branch_id for r in queries.daily_branch_scores(date(2026, 1, 1), date(2026, 6, 30), known.c.region_id)}
    assert south == {known.a.id, known.c.id}
    assert {r.branch_id for r in queries.standard_scores(date(2026, 1, 1), date(2026, 6, 30), region_id=north)} \
        == {known.b.id}


def test_the_demo_seed_fills_the_sums(app):
    demo.seed(echo=lambda _: None)
    agrees()


def test_drift_is_found_and_set_right(known, runner):
    agrees()
    db.session.execute(db.update(ScoreMonth).where(ScoreMonth.branch_id == known.c.id)
                       .values(n=ScoreMonth.n + 1))
    db.session.execute(db.delete(StandardMonth).where(StandardMonth.branch_id == known.a.id))
    db.session.commit()

    result = runner.invoke(args=["rollups", "check"])
    assert result.exit_code == 1
    assert f"{known.c.id}/2026-03-01: stored (2, " in result.output
    assert f"{known.a.id}/2026-01-01/communication: stored nothing, visits (1, " in result.output
    assert "drifted" in result.output

    result = runner.invoke(args=["rollups", "check", "--repair"])
    assert result.exit_code == 0 and "set right" in result.output
    agrees()
    assert runner.invoke(args=["rollups", "check"]).output.strip() == "No drift."


def test_the_nightly_job_sets_drift_right(known):
    db.session.execute(db.update(ScoreMonth).values(total=ScoreMonth.total + 0.5))
    db.session.commit()
    assert len(rollups.check()) > 0
    jobs.run_periodic("rollups_repair")
    agrees()


def test_visits_and_decisions_at_once_add_up(app, known, mini, make_user):
    """Three visits of one branch and month arriving at once (its first: the row is made by
    one and added to by the others) while HQ rejects another visit: every change is in the sums."""
    hq_id = make_user("hq@example.com", "hq").id
    day = date(2026, 5, 5)
    links = [create_assignments(mini, known.d, 1, due=day + timedelta(days=7), not_before=day)[0][0]
             for _ in range(3)]
    for link in links:
        link.version = mini.latest
    db.session.commit()
    version_id, critical_id = mini.latest.id, known.critical.id

    def arrive(link_id):
        filled = Filled(answers=answers(greet="no"), visit_date=day, visit_time=None, idempotency_key=uuid.uuid4().hex)
        return lambda: record_submission(db.session.get(Assignment, link_id),
                                         db.session.get(ChecklistVersion, version_id), filled)[1]

    def reject():
        return reviews.reject(db.session.get(Submission, critical_id), ReviewState.counted,
                              db.session.get(User, hq_id), "Not our branch")

    assert race(app, *(arrive(link.id) for link in links), reject) == [True, True, True, True]
    assert queries.network_mean(date(2026, 5, 1), date(2026, 5, 31)).branches == 1
    agrees()
