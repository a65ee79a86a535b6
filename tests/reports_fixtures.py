"""Fixtures for the report tests: a tiny checklist whose scores are easy to compute by hand,
a factory for scored visits, a known dataset, a login helper and a stand-in PDF renderer.

Import what a test module needs: ``from .reports_fixtures import *`` brings the fixtures in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from survey.catalogue import publish
from survey.checklist.conditions import NA
from survey.checklist.loader import load_checklist_data
from survey import rollups
from survey.extensions import db
from survey.models import Branch, Checklist, ReviewState, Submission
from survey.answers import Filled
from survey.submissions import create_assignments, record_submission

from reports import output

from .conftest import PASSWORD, hidden_fields

__all__ = [
    "MINI", "NA", "Known", "PERIOD_START", "PERIOD_END", "mini", "make_visit", "known", "login", "fake_pdf",
    "answers",
]

#: Two sections of equal weight, two yes/no questions each, so every visit score is a multiple
#: of 25 %: front = (greet + clean) / 2, service = (polite + phone) / 2, overall = their mean.
MINI: dict[str, Any] = {
    "slug": "mini",
    "title": "Mini visit",
    "channel": "visit",
    "sections": [
        {"key": "front", "title": "At the door", "questions": [
            {"key": "greet", "text": "Were you greeted?", "type": "yes_no", "standard": "greeting"},
            {"key": "clean", "text": "Was the floor clean?", "type": "yes_no", "standard": "appearance",
             "allow_na": True, "comment": "on_fail"},
        ]},
        {"key": "service", "title": "Being served", "questions": [
            {"key": "polite", "text": "Were they polite?", "type": "yes_no", "standard": "communication"},
            {"key": "phone", "text": "Did they use a phone while serving you?", "type": "yes_no", "pass_on": "no",
             "standard": "attentiveness", "critical": True},
            {"key": "note", "text": "Anything else?", "type": "text"},
        ]},
    ],
}

PERIOD_START = date(2026, 1, 1)
PERIOD_END = date(2026, 6, 30)


def answers(greet="yes", clean="yes", polite="yes", phone="no", note=None) -> dict[str, Any]:
    """Return normalised answers for the mini checklist (``NA`` for N/A)."""
    return {"greet": greet, "clean": clean, "polite": polite, "phone": phone, "note": note}


@pytest.fixture
def mini(published) -> Checklist:
    """Publish the mini checklist next to the shipped ones (whose standards it uses)."""
    version, _ = publish(load_checklist_data(MINI))
    db.session.commit()
    return version.checklist


@pytest.fixture
def make_visit(mini):
    """Return a callable storing one scored visit: ``make_visit(branch, day, greet="no", ...)``.

    ``by_slot``: answers to another checklist by slot (``conditions.Slot``), repetitions included.
    """

    def make(branch: Branch, day: date, *, rejected: bool = False, comments: dict[str, str] | None = None,
             checklist: Checklist | None = None, by_slot: dict | None = None, **given) -> Submission:
        checklist = checklist or mini
        (assignment, _), = create_assignments(checklist, branch, 1, due=day + timedelta(days=7),
                                              not_before=day - timedelta(days=7))
        assignment.version = checklist.latest
        given = answers(**given) if checklist is mini else {**given, **(by_slot or {})}
        filled = Filled(answers=given, visit_date=day, visit_time=None,
                        idempotency_key=uuid.uuid4().hex, comments=comments or {})
        submission = db.session.get(Submission, record_submission(assignment, checklist.latest, filled)[0])
        if rejected:
            with rollups.changing(submission.id):  # as HQ's review code does: the monthly sums follow
                submission.review = ReviewState.rejected
            db.session.commit()
        return submission

    return make


@dataclass
class Known:
    """The known dataset; every number in the report tests is computed by hand from it."""

    a: Branch  # NORTH, visits 75, 75, 50, 50 in the period; 100 in the previous one
    b: Branch  # NORTH, one visit: a critical failure (computed 75, reported 0)
    c: Branch  # SOUTH, visits 100, 100
    d: Branch  # NORTH, no visits
    critical: Submission


@pytest.fixture
def known(make_branch, make_visit) -> Known:
    a = make_branch("BR-A", "NORTH", name="Alpha")
    b = make_branch("BR-B", "NORTH", name="Bravo")
    c = make_branch("BR-C", "SOUTH", name="Charlie")
    d = make_branch("BR-D", "NORTH", name="Delta")
    visit = make_visit
    # Branch A, in the period (1 Jan – 30 Jun 2026).
    visit(a, date(2026, 1, 10), greet="no")                        # front 0.5, service 1 → 75
    visit(a, date(2026, 2, 15), clean=NA, polite="no",              # front 1, service 0.5 → 75
          note="<b>Friendly</b> staff, 100% sure")
    visit(a, date(2026, 2, 20), greet="no", polite="no")            # 0.5, 0.5 → 50
    visit(a, date(2026, 6, 30), greet="no", clean="no",             # 0, 1 → 50 (last day counts)
          comments={"clean": "=HYPERLINK(\"http://evil.test\")"})
    # Not counted: rejected, after the period, and long before the previous period.
    visit(a, date(2026, 3, 10), rejected=True)
    visit(a, date(2026, 7, 1), greet="no", clean="no", polite="no")
    visit(a, date(2024, 1, 1), greet="no")
    # Branch A, previous period (4 Jul – 31 Dec 2025).
    visit(a, date(2025, 12, 1))                                     # 100
    critical = visit(b, date(2026, 1, 20), phone="yes")             # computed 75, reported 0
    visit(c, date(2026, 3, 1))
    visit(c, date(2026, 4, 1))
    db.session.commit()
    return Known(a, b, c, d, critical)


@pytest.fixture
def login(client):
    """Return a callable that logs a user in through the real form (CSRF token included)."""

    def log_in(email: str, password: str = PASSWORD):
        page = client.get("/login")
        data = {**hidden_fields(page.get_data(as_text=True)), "email": email, "password": password}
        return client.post("/login", data=data)

    return log_in


@pytest.fixture
def fake_pdf(monkeypatch):
    """Replace the PDF and HTML renderers with stand-ins; return the report data they were given."""
    given: list[dict] = []

    def render_pdf(data, **options):
        given.append(data)
        return b"%PDF-1.7\n% stand-in for tests\n%%EOF\n"

    def render_html(data, **options):
        given.append(data)
        return f"<!doctype html><title>{data['kind']} report</title>"

    monkeypatch.setattr(output, "render_pdf", render_pdf)
    monkeypatch.setattr(output, "render_html", render_html)
    return given
