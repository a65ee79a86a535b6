"""Fix first (SPEC §8) against an example worked by hand.

Checklist "fx": section desk (weight 3): a (w 1), b (w 1, N/A allowed), c (w 2, critical, rule
zero), r (w 1, N/A allowed); section staff (weight 1, repeated): s (w 1), t (w 1, N/A allowed).
Version 2 rewords a. Branch X, period 1 Jan – 30 Jun 2026; a visit's loss on a question is
(w - e) / Σw(section or repetition) x section weight / Σ section weights (here always 3 + 1 = 4).

V1 (v1)  a no, b yes, c yes, r N/A; staff #1 s no t yes, #2 s yes t N/A
         desk Σw 4: a loses 1/4 x 3/4 = 3/16; staff: s loses (1/2 + 0) / 2 reps x 1/4 = 1/16.
         Computed 0.75; losses 3/16 + 1/16 = 1/4.
V2 (v1)  a yes, b no, c no (critical: score 0, computed 0.3125), r N/A; staff #1 s yes t no
         b 3/16, c 2/4 x 3/4 = 6/16, t 1/2 x 1/4 = 1/8; total 11/16 = 1 - 0.3125.
V3 (v2)  a no, b N/A, c yes, r no; staff #1 s no t no, #2 s no t yes, #3 s yes t yes
         desk Σw 4 (a, c, r): a 3/16, r 3/16; staff 3 reps: s (1/2 + 1/2 + 0) / 3 x 1/4 = 1/12,
         t (1/2 + 0 + 0) / 3 x 1/4 = 1/24. Computed 0.5; losses 1/2.
V4 (v2)  a yes, b no, c yes, r N/A; staff #1 s yes t no
         b 3/16, t 1/8. Computed 0.6875; losses 5/16.
Not counted: a rejected visit of X, a visit of another branch, a visit of X after the period.

Per visit, over 4 visits (points):
  c 6/16 / 4 = 9.375, 4 visits, 1 critical failure   → first (critical)
  a 6/16 / 4 = 9.375, 4 visits (v2's wording)         → before b: more visits seen
  b 6/16 / 4 = 9.375, 3 visits (N/A in V3)
  t (1/8 + 1/24 + 1/8) / 4 = 7.291 6̅, 4 visits (applied in V1, where it lost nothing)
  s (1/16 + 1/12) / 4 = 3.645 83̅, 4 visits
  r 3/16 / 4 = 4.6875, 1 visit                        → after every question seen twice: 6th, not in the top five
Sum 43.75 = 100 - 56.25, the mean computed score (75 + 31.25 + 50 + 68.75) / 4.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from survey.answers import Filled
from survey.catalogue import publish
from survey.checklist.conditions import NA
from survey.checklist.loader import load_checklist_data
from survey import rollups
from survey.extensions import db
from survey.models import ReviewState, Submission
from survey.submissions import create_assignments, record_submission

from sqlalchemy import event

from reports import queries, service
from reports.periods import make_period

START, END = date(2026, 1, 1), date(2026, 6, 30)

FX: dict[str, Any] = {
    "slug": "fx", "title": "Fix-first example", "channel": "visit",
    "sections": [
        {"key": "desk", "title": "At the desk", "weight": 3, "questions": [
            {"key": "a", "text": "Were you greeted at once?", "type": "yes_no", "standard": "greeting"},
            {"key": "b", "text": "Was the desk tidy?", "type": "yes_no", "standard": "appearance", "allow_na": True},
            {"key": "c", "text": "Did they check your ID?", "type": "yes_no", "standard": "attentiveness",
             "weight": 2, "critical": True},
            {"key": "r", "text": "Did they offer a leaflet?", "type": "yes_no", "standard": "communication",
             "allow_na": True},
        ]},
        {"key": "staff", "title": "Each person who served you", "weight": 1, "repeat": {"min": 1, "max": 3},
         "questions": [
             {"key": "s", "text": "Did they smile?", "type": "yes_no", "standard": "communication"},
             {"key": "t", "text": "Did they give their name?", "type": "yes_no", "standard": "communication",
              "allow_na": True},
         ]},
    ],
}


def approx(value):
    return pytest.approx(value, abs=1e-9)


@pytest.fixture
def versions(published):
    first, _ = publish(load_checklist_data(FX))
    reworded = copy.deepcopy(FX)
    reworded["sections"][0]["questions"][0]["text"] = "Did someone greet you within a minute?"
    second, _ = publish(load_checklist_data(reworded))
    db.session.commit()
    return first, second


@pytest.fixture
def shop(versions):
    """Return a callable storing one visit: ``shop(branch, day, version, desk, staff, rejected=False)``."""

    def make(branch, day, version, desk: dict, staff: list[dict], rejected: bool = False) -> Submission:
        (assignment, _), = create_assignments(version.checklist, branch, 1, due=day + timedelta(days=7),
                                              not_before=day - timedelta(days=7))
        assignment.version = version
        given = dict(desk)
        for n, rep in enumerate(staff, start=1):
            given.update({(key, n): value for key, value in rep.items()})
        filled = Filled(answers=given, visit_date=day, visit_time=None, idempotency_key=uuid.uuid4().hex,
                        repeats={"staff": len(staff)})
        submission = db.session.get(Submission, record_submission(assignment, version, filled)[0])
        if rejected:
            with rollups.changing(submission.id):  # as HQ's review code does: the monthly sums follow
                submission.review = ReviewState.rejected
        db.session.commit()
        return submission

    return make


@pytest.fixture
def example(versions, shop, make_branch):
    v1, v2 = versions
    x, y = make_branch("BR-X", "NORTH"), make_branch("BR-Y", "NORTH")
    shop(x, date(2026, 1, 15), v1, {"a": "no", "b": "yes", "c": "yes", "r": NA},
         [{"s": "no", "t": "yes"}, {"s": "yes", "t": NA}])
    shop(x, date(2026, 2, 15), v1, {"a": "yes", "b": "no", "c": "no", "r": NA}, [{"s": "yes", "t": "no"}])
    shop(x, date(2026, 4, 15), v2, {"a": "no", "b": NA, "c": "yes", "r": "no"},
         [{"s": "no", "t": "no"}, {"s": "no", "t": "yes"}, {"s": "yes", "t": "yes"}])
    shop(x, date(2026, 6, 30), v2, {"a": "yes", "b": "no", "c": "yes", "r": NA}, [{"s": "yes", "t": "no"}])
    everything_wrong = {"a": "no", "b": "no", "c": "no", "r": "no"}, [{"s": "no", "t": "no"}]
    shop(x, date(2026, 3, 1), v2, *everything_wrong, rejected=True)
    shop(y, date(2026, 3, 1), v2, *everything_wrong)
    shop(x, date(2026, 7, 1), v2, *everything_wrong)
    return x


def test_fix_first_ranks_the_hand_worked_example(example):
    report = service.branch_report("BR-X", START, END)
    assert [(q["key"], q["lost"], q["n"], q["critical"]) for q in report["fix_first"]] == [
        ("c", approx(9.375), 4, 1),
        ("a", approx(9.375), 4, 0),
        ("b", approx(9.375), 3, 0),
        ("t", approx((1 / 8 + 1 / 24 + 1 / 8) / 4 * 100), 4, 0),
        ("s", approx((1 / 16 + 1 / 12) / 4 * 100), 4, 0),
    ]
    first = report["fix_first"][1]
    assert first["text"] == "Did someone greet you within a minute?"  # the newest wording of a
    assert first["standard"] == "Greeting and first contact"
    assert "r" not in [q["key"] for q in report["fix_first"]]  # one visit: after the rest, out of the five


def test_points_lost_add_up_to_what_the_score_misses(example):
    """Σ lost = 100 - the mean score before the critical override (56.25), here 43.75."""
    rows = queries.question_losses(START, END, branch_id=example.id)
    assert {r.visits for r in rows} == {4}
    assert 100 * sum(r.lost for r in rows) / 4 == approx(43.75)
    assert 100 * next(r.lost for r in rows if r.question_key == "r") / 4 == approx(4.6875)


def test_region_report_lists_each_branchs_top_five(example):
    report = service.region_report("NORTH", START, END)
    by_code = {b["code"]: [q["key"] for q in b["items"]] for b in report["fix_first"]}
    assert by_code["BR-X"] == ["c", "a", "b", "t", "s"]
    assert by_code["BR-Y"] == ["c", "a", "b", "r", "s"]  # one visit, all wrong: critical first, then by points


def test_fix_first_costs_the_same_queries_however_many_visits(app, example, shop, versions):
    """One query for every branch's losses, whatever the number of visits."""
    branch_id = example.id

    def count() -> int:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            period = make_period(START, END)
            queries.question_losses(period.start, period.end, branch_id=branch_id)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    before = count()
    for day in range(1, 20):
        shop(example, date(2026, 5, day), versions[1], {"a": "no", "b": "yes", "c": "yes", "r": NA},
             [{"s": "no", "t": "yes"}])
    assert count() == before == 1
