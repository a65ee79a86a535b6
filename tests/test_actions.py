"""Actions (SPEC §8): before/since scores, the forms' bad input, closing, and who may act.

Known dataset (tests/reports_fixtures.py), branch A's "greet" (Were you greeted?):
2024-01-01 no (more than 12 months before), 2025-12-01 yes, 2026-01-10 no, 2026-02-15 yes,
2026-02-20 no, 2026-03-10 yes but rejected, 2026-06-30 no, 2026-07-01 no.
An action opened on 2026-02-15: before = 2025-12-01, 2026-01-10, 2026-02-15 (the opening day
counts) = 2 of 3 = 66.7 %; since = 2026-02-20, 2026-06-30, 2026-07-01 = 0 %, 3 visits.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from survey import actions as operations
from survey.extensions import db
from survey.models import Action, ActionState, Checklist

from reports import service

from .conftest import log_in
from .reports_fixtures import *  # noqa: F401,F403

TODAY = date.today()
FUTURE = (TODAY + timedelta(days=30)).isoformat()


@pytest.fixture
def greet_action(known, mini):
    action = operations.open_action(
        branch_id=known.a.id, checklist_id=mini.id, question_key="greet", question_text="Were you greeted?",
        what="Greet at the door", owner="Sam", due=date(2026, 3, 1), by_id=None, today=date(2026, 2, 15))
    return action.id


def test_before_and_since_count_the_visits_either_side_of_the_opening_day(greet_action, known):
    found, = service.actions(branch_id=known.a.id, today=date(2026, 12, 1))
    assert found["before"] == {"score": pytest.approx(200 / 3), "n": 3}
    assert found["since"] == {"score": pytest.approx(0.0), "n": 3}
    assert found["overdue"] is True and found["state"] == "open"


def test_closing_twice_says_closed_already(greet_action):
    assert operations.complete_action(greet_action, "Done at the briefing", None) is True
    assert operations.drop_action(greet_action, None, None) is False
    action = db.session.get(Action, greet_action)
    assert (action.state, action.note) == (ActionState.done, "Done at the briefing")


def test_overdue_actions_are_listed_for_their_managers_only(greet_action, client, make_user):
    make_user("north@example.com", "manager", ("NORTH",))
    make_user("south@example.com", "manager", ("SOUTH",))
    page = log_in(client, "north@example.com").get("/reports/").get_data(as_text=True)
    assert "Overdue actions" in page and "Greet at the door" in page
    client.post("/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    page = log_in(client, "south@example.com").get("/reports/").get_data(as_text=True)
    assert "Greet at the door" not in page


@pytest.fixture
def north(known, mini, client, make_user):
    make_user("north@example.com", "manager", ("NORTH",))
    return log_in(client, "north@example.com")


NEW = "/reports/branches/BR-A/actions/new?checklist=mini&question=greet"


@pytest.mark.parametrize(("given", "field", "message"), [
    ({"what": "", "owner": "Sam", "due": FUTURE}, "what", "Say what will be done."),
    ({"what": "   ", "owner": "Sam", "due": FUTURE}, "what", "Say what will be done."),
    ({"what": "Greet", "owner": "", "due": FUTURE}, "owner", "Name the person who will do it."),
    ({"what": "Greet", "owner": "Sam", "due": ""}, "due", "Give the date it should be done by."),
    ({"what": "Greet", "owner": "Sam", "due": "next week"}, "due", "“next week” is not a date"),
    ({"what": "Greet", "owner": "Sam", "due": "2027-02-30"}, "due", "“2027-02-30” is not a date"),
    ({"what": "Greet", "owner": "Sam", "due": "2020-01-01"}, "due", "That date has passed"),
    ({"what": "x" * 2001, "owner": "Sam", "due": FUTURE}, "what", "Keep it under 2,000 characters."),
])
def test_a_bad_action_is_refused_beside_its_field_with_the_rest_kept(north, given, field, message):
    response = north.post(NEW, data=given)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="e-{field}"' in page and message in page
    for name, value in given.items():
        if name != field and value.strip():
            assert value in page  # what was typed stays
    assert db.session.scalar(db.select(db.func.count(Action.id))) == 0


def test_a_manager_opens_edits_and_completes_an_action(north, known):
    response = north.post(NEW, data={"what": "Greet at the door", "owner": "Sam", "due": FUTURE})
    assert response.status_code == 302
    url = response.headers["Location"]
    page = north.get(url).get_data(as_text=True)
    assert "Greet at the door" in page and "Were you greeted?" in page and "Open" in page

    edited = north.post(url, data={"what": "Greet every customer", "owner": "Ana", "due": FUTURE})
    assert edited.status_code == 302
    empty = north.post(url + "/done", data={"note": ""})
    assert empty.status_code == 400 and "Say what was done" in empty.get_data(as_text=True)
    assert north.post(url + "/done", data={"note": "Briefed on Monday"}).status_code == 302
    page = north.get(url).get_data(as_text=True)
    assert "Greet every customer" in page and "Ana" in page and "“Briefed on Monday”" in page
    again = north.post(url + "/drop", data={}, follow_redirects=True).get_data(as_text=True)
    assert "closed already" in again
    action, = db.session.scalars(db.select(Action))
    assert action.state == ActionState.done


def test_opening_from_a_critical_failure_links_the_visit(client, known, mini, make_user):
    make_user("north@example.com", "manager", ("NORTH",))
    north = log_in(client, "north@example.com")
    reference = known.critical.reference
    page = north.get(f"/reports/visits/{reference}").get_data(as_text=True)
    assert "critical failure" in page
    link = f"/reports/branches/BR-B/actions/new?checklist=mini&amp;question=phone&amp;visit={reference}"
    assert link in page
    response = north.post(link.replace("&amp;", "&"), data={"what": "Phones away", "owner": "Lee", "due": FUTURE})
    assert response.status_code == 302
    assert "Phones away" in north.get(f"/reports/visits/{reference}").get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "/reports/branches/BR-C/actions/new?checklist=mini&question=greet",   # another region's branch
    "/reports/branches/BR-A/actions/new?checklist=mini&question=nope",    # no such question
    "/reports/branches/BR-A/actions/new?checklist=nope&question=greet",   # no such checklist
    "/reports/branches/BR-A/actions/new?checklist=mini&question=note",    # an unscored question
])
def test_opening_an_action_on_what_one_may_not_see_is_a_404(north, url):
    assert north.get(url).status_code == 404
    assert north.post(url, data={"what": "x", "owner": "y", "due": FUTURE}).status_code == 404
    assert db.session.scalar(db.select(db.func.count(Action.id))) == 0


def test_another_regions_manager_gets_404_and_changes_nothing(client, known, mini, make_user):
    south_branch = known.c
    action = operations.open_action(
        branch_id=south_branch.id, checklist_id=db.session.scalar(db.select(Checklist.id).filter_by(slug="mini")),
        question_key="greet", question_text="Were you greeted?", what="Greet", owner="Sam",
        due=TODAY + timedelta(days=3), by_id=None, today=TODAY)
    make_user("north@example.com", "manager", ("NORTH",))
    north = log_in(client, "north@example.com")
    url = f"/reports/actions/{action.id}"
    assert north.get(url).status_code == 404
    assert north.post(url, data={"what": "Mine now", "owner": "Eve", "due": FUTURE}).status_code == 404
    assert north.post(url + "/done", data={"note": "x"}).status_code == 404
    assert north.post(url + "/drop", data={}).status_code == 404
    assert north.get("/reports/actions/999999").status_code == 404
    db.session.expire_all()
    again = db.session.get(Action, action.id)
    assert (again.what, again.state) == ("Greet", ActionState.open)
