"""HQ review in real Chromium (SPEC §8): HQ returns a visit with a note, the shopper's phone
(390×844) shows the note above the answers as sent, the shopper corrects one and sends again,
HQ sees what changed and approves, and the manager's count on /reports/ moves from 0 to 1.

HQ works at a desktop, the shopper and the manager on phones. The checklist is under
``review: hq``, so the visit counts nowhere until HQ approves it.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from survey.catalogue import publish
from survey.checklist.loader import load_checklist_data
from survey.extensions import db

from ..conftest import PASSWORD
from .conftest import PHONE, csp_violations
from .test_a11y import axe_script, check  # noqa: F401 - axe_script is a fixture
from .test_shopper_phone import fill_visit, send, tap_answers

GREETED = "Were you greeted within a minute?"
HELPED = "Did someone offer help?"
NOTE = "Your answer on the greeting contradicts your comment; please check it."
CHECKLIST = {
    "slug": "door-check", "title": "Door check", "channel": "visit", "review": "hq",
    "sections": [{"key": "door", "title": "At the door", "questions": [
        {"key": "greeted", "text": GREETED, "type": "yes_no", "standard": "greeting"},
        {"key": "helped", "text": HELPED, "type": "yes_no", "standard": "greeting"},
    ]}],
}


@pytest.fixture
def door_link(published, make_assignment, make_user):
    version, _ = publish(load_checklist_data(CHECKLIST))
    db.session.commit()
    published[CHECKLIST["slug"]] = version.checklist
    make_user("hq@example.com", "hq")
    make_user("manager@example.com", "manager", regions=("NORTH",))
    _, token = make_assignment("door-check")
    return token


@pytest.fixture
def manager(browser):
    """The manager's phone: a second phone-sized context, with its own login."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    refused = csp_violations(context)
    yield context.new_page()
    context.close()
    assert not refused, refused


def log_in(page: Page, server: str, email: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)


def visits_shown(page: Page, server: str) -> str:
    page.goto(f"{server}/reports/")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile("BR-001")))
    return row.locator("td[data-label='Visits']").inner_text().strip()


def open_from_queue(page: Page, reference: str) -> None:
    page.get_by_role("navigation", name="HQ console").get_by_role("link", name="Review", exact=True).click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=reference, exact=True))
    expect(row).to_contain_text("Waiting for review")
    row.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", name=f"Submission {reference}")).to_be_visible()


def test_hq_returns_a_visit_the_shopper_sends_again_and_hq_approves(
        desktop, phone, manager, live_server, door_link, axe_script):  # noqa: F811
    shopper, hq, link = phone, desktop, f"{live_server}/s/{door_link}"
    log_in(manager, live_server, "manager@example.com")
    assert visits_shown(manager, live_server) == "0"

    # The shopper sends a first time.
    shopper.goto(link)
    fill_visit(shopper)
    tap_answers(shopper, GREETED, ["Yes"])
    tap_answers(shopper, HELPED, ["Yes"])
    send(shopper)
    expect(shopper.get_by_role("heading", name="Thank you – your answers arrived")).to_be_visible()
    reference = shopper.get_by_text(re.compile(r"^Your reference \S+$")).inner_text().removeprefix(
        "Your reference").strip()
    assert visits_shown(manager, live_server) == "0"  # waiting for review counts nowhere

    # HQ finds it first in the queue, and returns it; an empty note is refused beside the box.
    log_in(hq, live_server, "hq@example.com")
    expect(hq.get_by_role("link", name=re.compile("1 waiting for review"))).to_be_visible()
    open_from_queue(hq, reference)
    hq.get_by_role("button", name="Return to the shopper").click()
    expect(hq.get_by_text("Write a note: the shopper sees it on top of their answers.")).to_be_visible()
    hq.get_by_label("Note to the shopper").fill(NOTE)
    hq.get_by_role("button", name="Return to the shopper").click()
    expect(hq.get_by_text(f"Returned {reference} to the shopper")).to_be_visible()

    # The same link on the phone: the note on top, the answers as sent.
    shopper.goto(link)
    expect(shopper.get_by_role("alert")).to_contain_text(NOTE)
    expect(shopper.get_by_role("group", name=GREETED).get_by_label("Yes", exact=True)).to_be_checked()
    expect(shopper.get_by_role("group", name=HELPED).get_by_label("Yes", exact=True)).to_be_checked()
    check(shopper, axe_script)
    tap_answers(shopper, GREETED, ["No"])
    send(shopper)
    expect(shopper.get_by_role("heading", name="Thank you – your answers arrived")).to_be_visible()

    # HQ sees what changed, and approves.
    open_from_queue(hq, reference)
    changes = hq.get_by_role("region", name="Changed since the return")
    expect(changes).to_contain_text("greeted")
    expect(changes).to_contain_text("yes → no")
    hq.get_by_role("button", name="Approve").click()
    expect(hq.get_by_text(f"Approved {reference}: it counts in reports.")).to_be_visible()
    expect(hq.get_by_role("listitem").filter(has_text="Resent")).to_contain_text("the shopper")

    assert visits_shown(manager, live_server) == "1"
    expect(manager.get_by_text("50.0 %").first).to_be_visible()


def test_a_copy_left_on_the_phone_does_not_cover_the_returned_answers(phone, client, live_server, door_link):
    """Answers typed on the phone but never sent (offline), then the visit sent from elsewhere and
    returned: the link opens with the answers HQ returned, not the phone's older copy."""
    from survey.hq import reviews
    from survey.models import ReviewState, Submission, User

    from ..conftest import hidden_fields

    link = f"{live_server}/s/{door_link}"
    phone.goto(link)
    expect(phone.get_by_role("group", name=GREETED)).to_be_visible()
    phone.context.set_offline(True)
    tap_answers(phone, GREETED, ["No"])  # kept on the phone only
    phone.goto("about:blank")
    phone.context.set_offline(False)

    page = client.get(f"/s/{door_link}").get_data(as_text=True)
    sent = {**hidden_fields(page), "visit_date": date.today().isoformat(), "visit_time": "10:00",
            "q_greeted": "yes", "q_helped": "yes"}
    assert client.post(f"/s/{door_link}", data=sent).status_code == 303
    db.session.rollback()
    submission = db.session.scalar(db.select(Submission))
    hq = db.session.scalar(db.select(User).filter_by(email="hq@example.com"))
    assert reviews.return_to_shopper(submission, ReviewState.pending, hq, NOTE)

    phone.goto(link)
    expect(phone.get_by_role("alert")).to_contain_text(NOTE)
    expect(phone.get_by_role("group", name=GREETED).get_by_label("Yes", exact=True)).to_be_checked()
