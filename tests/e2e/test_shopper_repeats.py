"""Repeated sections and "Could not complete this shop?" on a phone (390×844), with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import Answer, Submission

from .test_offline import QUEUED, offline_ready
from .test_shopper_phone import TYPED, FLAWLESS, expect_received, fill_visit, question, send, tap_answers

BADGE = "Did this employee wear a name badge?"
ATTENTIVE = "Was this employee attentive, not busy with other things?"


@pytest.fixture
def link(make_assignment):
    _, token = make_assignment("store-visit")
    return token


def employee(page: Page, n: int):
    """Repetition n of the employees met: the part under its heading."""
    return page.locator(f"#r-staff-{n}")


def describe(page: Page, n: int, badge: str, attentive: str, words: str) -> None:
    part = employee(page, n)
    for text, label in ((BADGE, badge), (ATTENTIVE, attentive)):
        choice = part.get_by_role("group", name=text).get_by_label(label, exact=True)
        choice.tap()
        expect(choice).to_be_checked()
    box = part.get_by_label("Describe this employee")
    box.tap()
    box.fill(words)


def expect_employee(page: Page, n: int, badge: str, attentive: str, words: str) -> None:
    part = employee(page, n)
    expect(part.get_by_role("heading", name=f"Employee {n}")).to_be_visible()
    expect(part.get_by_role("group", name=BADGE).get_by_label(badge, exact=True)).to_be_checked()
    expect(part.get_by_role("group", name=ATTENTIVE).get_by_label(attentive, exact=True)).to_be_checked()
    expect(part.get_by_label("Describe this employee")).to_have_value(words)


def fill_the_rest(page: Page) -> None:
    """Every answer outside the employees' part, as a flawless visit."""
    fill_visit(page)
    for label, text in TYPED:
        if label != "Describe this employee":
            page.get_by_label(label).fill(text)
    for text, labels in FLAWLESS:
        if text not in (BADGE, ATTENTIVE):
            tap_answers(page, text, labels)


def sends(page: Page) -> list[str]:
    """Collect the page's posts of the form (not its autosaves), as they happen."""
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/draft" not in r.url else None)
    return posts


def all_but_the_second_employee(page: Page, url: str) -> tuple[Page, list[str]]:
    """Open the form and answer everything (one employee, flawless); return the page and its posts."""
    posts = sends(page)
    page.goto(url)
    fill_the_rest(page)
    describe(page, 1, "Yes", "Yes", "Sam")
    return page, posts


def stored_employees() -> dict[tuple[str, int], str | None]:
    db.session.rollback()
    return {(a.question_key, a.repeat): a.value for a in db.session.scalars(db.select(Answer))
            if a.question_key in ("name_badge", "staff_attentive", "staff_description")}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_add_and_remove_employees_keeps_every_answer(request, live_server, link, javascript):
    page = request.getfixturevalue("phone" if javascript else "phone_no_js")
    posts = sends(page)
    page.goto(f"{live_server}/s/{link}")
    describe(page, 1, "Yes", "Yes", "Sam, green jumper")
    tap_answers(page, "How warm was the greeting?", ["4"])  # an answer outside the section

    page.get_by_role("button", name="Add another employee").tap()
    expect(employee(page, 2).get_by_role("heading", name="Employee 2")).to_be_visible()
    describe(page, 2, "No", "No", "Tall, red scarf")
    page.get_by_role("button", name="Add another employee").tap()
    describe(page, 3, "No", "Yes", "Grey beard")
    if javascript:
        assert posts == []  # added on the phone, no round trip
        expect(employee(page, 3).get_by_role("group", name=BADGE).get_by_label("No", exact=True)).to_be_checked()

    page.get_by_role("button", name="Remove Employee 2").tap()
    expect(employee(page, 3)).to_have_count(0)
    expect_employee(page, 1, "Yes", "Yes", "Sam, green jumper")
    expect_employee(page, 2, "No", "Yes", "Grey beard")  # the third, now second
    expect(page.get_by_text("Tall, red scarf")).to_have_count(0)
    expect(question(page, "How warm was the greeting?").get_by_label("4", exact=True)).to_be_checked()
    expect(page.get_by_role("button", name="Remove Employee 1")).to_be_visible()
    if javascript:
        assert posts == []
        expect(page.locator("input[name=n_staff]")).to_have_value("2")
        page.get_by_role("button", name="Remove Employee 2").tap()
        expect(page.get_by_role("button", name="Remove Employee 1")).to_be_hidden()  # one is the least
        page.get_by_role("button", name="Add another employee").tap()
        describe(page, 2, "No", "Yes", "Grey beard")

    fill_the_rest(page)
    send(page)
    expect_received(page)
    assert stored_employees() == {
        ("name_badge", 1): "yes", ("staff_attentive", 1): "yes", ("staff_description", 1): "Sam, green jumper",
        ("name_badge", 2): "no", ("staff_attentive", 2): "yes", ("staff_description", 2): "Grey beard",
    }


def test_a_reload_keeps_the_employees_added(phone, live_server, link):
    page = phone
    page.goto(f"{live_server}/s/{link}")
    describe(page, 1, "Yes", "No", "Sam")
    page.get_by_role("button", name="Add another employee").tap()
    describe(page, 2, "No", "Yes", "Alex")
    page.reload()
    expect_employee(page, 1, "Yes", "No", "Sam")
    expect_employee(page, 2, "No", "Yes", "Alex")


def test_send_with_a_second_employee_half_answered_posts_nothing_and_focuses_it(phone, live_server, link):
    page, posts = all_but_the_second_employee(phone, f"{live_server}/s/{link}")
    page.get_by_role("button", name="Add another employee").tap()
    employee(page, 2).get_by_role("group", name=BADGE).get_by_label("No", exact=True).tap()
    send(page)
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("1 answer needs attention")
    expect(summary.get_by_role("link", name=f"{ATTENTIVE} (Employee 2)")).to_be_visible()
    expect(employee(page, 2).get_by_role("group", name=ATTENTIVE).get_by_label("Yes", exact=True)).to_be_focused()
    expect(employee(page, 2).get_by_role("group", name=ATTENTIVE)).to_contain_text("Please answer this question.")
    assert posts == []
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0


@pytest.fixture
def call(make_assignment):
    _, token = make_assignment("phone-call")
    return token


def test_an_outcome_sent_offline_arrives_once(phone, live_server, call):
    page = phone
    page.goto(f"{live_server}/s/{call}")
    offline_ready(page)
    page.get_by_text("Could not complete this shop?").tap()
    page.get_by_role("group", name="What happened?").get_by_label("Nobody answered three calls").tap()
    box = page.get_by_label("Comment (optional)", exact=True).last
    box.fill("Rang at 9, 10 and 11")
    page.context.set_offline(True)
    page.get_by_role("button", name="Send this instead").tap()
    expect(page.get_by_role("status")).to_have_text(QUEUED)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
    page.context.set_offline(False)
    expect(page.get_by_role("heading", name=re.compile("^(Thank you – your answers arrived|Already received)$"))
           ).to_be_visible(timeout=15_000)
    expect(page.get_by_text("You told us: Nobody answered three calls.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Already received")).to_be_visible()
    db.session.rollback()
    (submission,) = db.session.scalars(db.select(Submission))
    assert (submission.outcome, submission.score) == ("no_answer", 0.0)
    assert [a.comment for a in submission.answers] == ["Rang at 9, 10 and 11"]


def test_an_outcome_that_does_not_count_without_javascript(phone_no_js, live_server, call):
    page = phone_no_js
    page.goto(f"{live_server}/s/{call}")
    page.get_by_text("Could not complete this shop?").tap()
    page.get_by_role("button", name="Send this instead").tap()  # no reason chosen
    expect(page.get_by_role("group", name="What happened?")).to_contain_text("Choose one of the reasons shown.")
    page.get_by_role("group", name="What happened?").get_by_label("I could not make the call").tap()
    page.get_by_role("button", name="Send this instead").tap()
    expect(page.get_by_role("heading", name="Thank you for telling us")).to_be_visible()
    expect(page.get_by_text("You told us this shop could not be done: I could not make the call.")).to_be_visible()


def test_the_visit_date_in_words_and_a_counter_near_a_texts_limit(phone, live_server, link):
    page = phone
    page.goto(f"{live_server}/s/{link}")
    page.locator("#visit_date").fill("2026-11-02")
    expect(page.get_by_text(re.compile(r"^Monday,? 2 November 2026$"))).to_be_visible()
    box = employee(page, 1).get_by_label("Describe this employee")
    box.fill("x" * 3900)
    expect(employee(page, 1).get_by_text(re.compile("characters$"))).to_have_count(0)  # far from the limit
    box.fill("x" * 4100)
    expect(employee(page, 1).get_by_text("4,100 of 5,000 characters")).to_be_visible()


def test_a_number_out_of_range_and_a_missing_comment_are_caught_with_the_servers_words(phone, live_server, link):
    page, posts = all_but_the_second_employee(phone, f"{live_server}/s/{link}")
    seconds = page.get_by_label("Seconds until someone greeted you")
    seconds.fill("4000")
    tap_answers(page, "Were the entrance and floor clean?", ["No"])  # asks "What went wrong?"
    send(page)
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("2 answers need attention")
    expect(page.get_by_text("Enter a number no larger than 3,600.")).to_be_visible()
    expect(question(page, "Were the entrance and floor clean?")).to_contain_text("Please say briefly what happened.")
    expect(seconds).to_be_focused()
    assert posts == []
    seconds.fill("20")
    reason = question(page, "Were the entrance and floor clean?").get_by_label("What went wrong?")
    reason.fill("Mud by the door")
    send(page)
    expect_received(page)
    assert len(posts) == 1  # one tap, one post
