"""A shopper fills the store-visit checklist on a phone by taps, with and without JavaScript.

Everything is found the way a person finds it (SPEC §7): a question with options is
the group named by its text, an answer is the label beside it, a single control is
the label with the question's text.
"""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from survey.checklist.conditions import visible_questions
from survey.extensions import db
from survey.models import Answer, Submission
from survey.caches import checklist_of

PROGRESS = re.compile(r"^\d+ of \d+ required$")

#: A flawless visit in the words of the page: (question, answers to tap).
FLAWLESS = [
    ("Does your briefing ask you to raise a complaint?", ["Yes"]),
    ("How warm was the greeting?", ["5"]),
    ("Did they smile and look at you?", ["Yes"]),
    ("Were the entrance and floor clean?", ["Yes"]),
    ("Were shelves full and prices shown?", ["Yes"]),
    ("How did the staff look?", ["Neat and in uniform"]),
    ("Did this employee wear a name badge?", ["Yes"]),
    ("Was this employee attentive, not busy with other things?", ["Yes"]),
    ("Did they ask what you needed it for?", ["Yes"]),
    (
        "What did they do? Tick all that apply.",
        ["Showed more than one product", "Explained the differences", "Checked stock or sizes"],
    ),
    ("Was what they told you correct?", ["All correct"]),
    ("How well did they know the product?", ["5"]),
    ("How polite were they?", ["5"]),
    ("Did they let you finish speaking?", ["Yes"]),
    ("Did they explain without jargon?", ["Yes"]),
    ("Did they use a personal phone while serving you?", ["No"]),
    ("Could you raise the complaint?", ["Yes"]),
    ("Did they apologise?", ["Yes"]),
    ("How was the complaint handled?", ["Solved on the spot"]),
    ("Did you pay the price shown?", ["Yes"]),
    ("Did they thank you?", ["Yes"]),
    ("Did they say goodbye or invite you back?", ["Yes"]),
    ("Were you offered something extra, like a sample?", ["No"]),  # no bonus: nothing lost
    ("Was anyone eating or drinking at the till?", ["No"]),  # no deduction
]
#: Single controls: (label, what is typed).
TYPED = [
    ("Seconds until someone greeted you", "20"),
    ("Describe this employee", "Sam, green jumper, glasses"),
]


@pytest.fixture
def store_visit(make_assignment, published):
    """An open store-visit link: ``(token, checklist)``."""
    _, token = make_assignment("store-visit")
    return token, checklist_of(published["store-visit"].latest)


def question(page: Page, text: str):
    return page.get_by_role("group", name=text)


def tap_answers(page: Page, text: str, labels: list[str]) -> None:
    group = question(page, text)
    for label in labels:
        choice = group.get_by_label(label, exact=True)
        choice.tap()
        expect(choice).to_be_checked()


def visit_input(page: Page, label: str, element_id: str):
    """The form's own visit date or time; by its id if a checklist question has the same words."""
    found = page.get_by_label(label, exact=True)
    return found if found.count() == 1 else page.locator(f"#{element_id}")


def fill_visit(page: Page) -> None:
    when = visit_input(page, "Date of your visit", "visit_date")
    when.tap()
    when.fill(date.today().isoformat())
    at = visit_input(page, "Time of your visit", "visit_time")
    at.tap()
    at.fill("11:20")


def type_answers(page: Page) -> None:
    for label, text in TYPED:
        box = page.get_by_label(label)
        box.tap()
        box.fill(text)


def send(page: Page) -> None:
    page.get_by_role("button", name="Send my answers").tap()


def stored_submissions() -> list[Submission]:
    db.session.rollback()  # end any snapshot so rows the server committed are seen
    return list(db.session.scalars(db.select(Submission)))


def expect_received(page: Page) -> Submission:
    expect(page.get_by_role("heading", name="Thank you – your answers arrived")).to_be_visible()
    submissions = stored_submissions()
    assert len(submissions) == 1
    expect(page.get_by_text(submissions[0].reference, exact=True)).to_be_visible()
    return submissions[0]


def required_shown(checklist) -> int:
    """Count the required questions a blank form shows (one employee): what the progress counts."""
    questions = {q.key: q for _, q in checklist.questions()}
    return sum(1 for slot in visible_questions(checklist, {})
               if questions[slot if isinstance(slot, str) else slot[0]].is_required)


def expected_score_with_warmth(checklist, warmth: int) -> float:
    """SPEC §4 by hand: every answer earns full marks except the greeting's warmth."""
    arrival = next(
        s for s in checklist.sections if any(q.key == "greeting_warmth" for q in s.questions)
    )
    q = next(q for q in arrival.questions if q.key == "greeting_warmth")
    possible = sum(x.weight for x in arrival.questions if x.scored)
    arrival_score = (possible - q.weight * (1 - (warmth - q.min) / (q.max - q.min))) / possible
    total = sum(s.weight for s in checklist.sections)
    return (total - arrival.weight * (1 - arrival_score)) / total


def test_fill_by_taps_with_javascript(phone, live_server, store_visit):
    token, checklist = store_visit
    page = phone
    page.goto(f"{live_server}/s/{token}")
    expect(page.get_by_role("heading", name="Store visit", exact=True)).to_be_visible()
    progress = page.get_by_text(PROGRESS)
    shown = required_shown(checklist)
    expect(progress).to_have_text(f"0 of {shown} required")

    # A conditional section and its conditional questions appear as their parent is answered.
    expect(question(page, "Could you raise the complaint?")).to_be_hidden()
    tap_answers(page, "Does your briefing ask you to raise a complaint?", ["Yes"])
    expect(question(page, "Could you raise the complaint?")).to_be_visible()
    expect(question(page, "Did they apologise?")).to_be_hidden()
    expect(progress).to_have_text(f"1 of {shown + 1} required")
    tap_answers(page, "Could you raise the complaint?", ["Yes"])
    expect(question(page, "Did they apologise?")).to_be_visible()
    expect(question(page, "How was the complaint handled?")).to_be_visible()
    expect(progress).to_have_text(f"2 of {shown + 3} required")

    # "What went wrong?" is asked only when the answer falls short.
    clean = question(page, "Were the entrance and floor clean?")
    expect(clean.get_by_label("What went wrong?")).to_be_hidden()
    tap_answers(page, "Were the entrance and floor clean?", ["No"])
    expect(clean.get_by_label("What went wrong?")).to_be_visible()

    # Everything else, but "Did they thank you?" forgotten and a warm-ish greeting.
    fill_visit(page)
    type_answers(page)
    already = {"Does your briefing ask you to raise a complaint?", "Could you raise the complaint?"}
    for text, labels in FLAWLESS:
        if text in already or text == "Did they thank you?":
            continue
        if text == "How warm was the greeting?":
            labels = ["4"]
        tap_answers(page, text, labels)
    expect(clean.get_by_label("What went wrong?")).to_be_hidden()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/draft" not in r.url else None)
    send(page)

    # Caught on the phone: nothing is posted, the first problem has the focus, the server's summary shows.
    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(question(page, "Did they thank you?").get_by_label("Yes", exact=True)).to_be_focused()
    expect(summary).to_contain_text("1 answer needs attention")
    assert posts == []
    expect(summary.get_by_role("link", name="Did they thank you?")).to_be_visible()
    expect(question(page, "Did they thank you?")).to_contain_text("Please answer this question.")
    assert stored_submissions() == []
    # What was already given stays, conditional questions included.
    expect(
        question(page, "How warm was the greeting?").get_by_label("4", exact=True)
    ).to_be_checked()
    expect(
        question(page, "How was the complaint handled?").get_by_label("Solved on the spot")
    ).to_be_checked()
    expect(
        question(page, "What did they do? Tick all that apply.").get_by_label(
            "Checked stock or sizes"
        )
    ).to_be_checked()
    expect(page.get_by_label("Seconds until someone greeted you")).to_have_value("20")
    expect(page.get_by_label("Describe this employee")).to_have_value("Sam, green jumper, glasses")
    expect(visit_input(page, "Date of your visit", "visit_date")).to_have_value(
        date.today().isoformat()
    )
    expect(progress).to_have_text(f"{shown + 2} of {shown + 3} required")  # no thanks

    # The summary's link takes the shopper to the answer itself.
    summary.get_by_role("link", name="Did they thank you?").tap()
    expect(question(page, "Did they thank you?").get_by_label("Yes", exact=True)).to_be_focused()
    tap_answers(page, "Did they thank you?", ["Yes"])
    expect(progress).to_have_text(f"{shown + 3} of {shown + 3} required")  # the photo is optional
    send(page)

    submission = expect_received(page)
    assert submission.score == pytest.approx(expected_score_with_warmth(checklist, 4))
    assert submission.score < 1
    assert not submission.critical_fail


def test_fill_by_taps_without_javascript(phone_no_js, live_server, store_visit):
    token, checklist = store_visit
    page = phone_no_js
    page.goto(f"{live_server}/s/{token}")
    expect(page.get_by_role("heading", name="Store visit", exact=True)).to_be_visible()

    # Without JavaScript every conditional question is shown, saying when it applies.
    expect(
        page.get_by_text(
            "Only if you answered Yes to “Does your briefing ask you to raise a complaint?”"
        )
    ).to_be_visible()
    for text in ("Did they apologise?", "How was the complaint handled?"):
        expect(question(page, text)).to_be_visible()
        expect(question(page, text)).to_contain_text(
            "Only if you answered Yes to “Could you raise the complaint?”"
        )
    expect(question(page, "Could you raise the complaint?")).to_be_visible()

    fill_visit(page)
    type_answers(page)
    for text, labels in FLAWLESS:
        if text == "Does your briefing ask you to raise a complaint?":
            labels = ["No"]
        elif text == "Did they apologise?":
            labels = ["No"]  # would cost points, but the question does not apply
        elif text == "How was the complaint handled?":
            labels = ["Ignored or argued"]
        tap_answers(page, text, labels)
    reason = question(page, "How was the complaint handled?").get_by_label("What went wrong?")
    reason.tap()
    reason.fill("They argued with me.")
    send(page)

    submission = expect_received(page)
    assert submission.score == pytest.approx(1.0)
    complaint = db.session.scalars(
        db.select(Answer).filter(
            Answer.submission_id == submission.id,
            Answer.question_key.in_(["raised_complaint", "complaint_apology", "complaint_outcome"]),
        )
    ).all()
    assert len(complaint) == 3
    assert all(a.status == "hidden" and a.value is None and a.comment is None for a in complaint)


def test_parts_are_numbered_among_those_that_apply(phone: Page, live_server, store_visit):
    """With the complaint part hidden, "Checkout and farewell" is part 6 of 6, not "7 of 7" after a gap."""
    token, _ = store_visit
    page = phone
    page.goto(f"{live_server}/s/{token}")
    checkout = page.get_by_role("heading", name=re.compile("Checkout and farewell"))
    tap_answers(page, "Does your briefing ask you to raise a complaint?", ["No"])
    expect(checkout).to_contain_text("Part 6 of 6")
    expect(page.get_by_role("heading", name=re.compile("Scripted complaint"))).to_be_hidden()
    tap_answers(page, "Does your briefing ask you to raise a complaint?", ["Yes"])
    expect(page.get_by_role("heading", name=re.compile("Scripted complaint"))).to_contain_text("Part 6 of 7")
    expect(checkout).to_contain_text("Part 7 of 7")


def test_without_javascript_every_part_keeps_its_printed_number(phone_no_js: Page, live_server, store_visit):
    token, _ = store_visit
    phone_no_js.goto(f"{live_server}/s/{token}")
    expect(phone_no_js.get_by_role("heading", name=re.compile("Checkout and farewell"))).to_contain_text("Part 7 of 7")


def test_at_200_percent_text_the_form_reflows_and_works_by_keyboard(phone: Page, live_server, store_visit):
    """WCAG 1.4.4 and 2.1.1: doubled text needs no sideways scrolling, and the keyboard alone answers."""
    token, _ = store_visit
    page = phone
    page.goto(f"{live_server}/s/{token}")
    # As a phone's text-size setting would; through the CSSOM, which the page's CSP allows (an inline style isn't).
    page.evaluate("() => { document.documentElement.style.fontSize = '200%' }")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px wider than the phone at 200 % text"
    briefed = question(page, "Does your briefing ask you to raise a complaint?")
    briefed.get_by_label("No", exact=True).focus()
    page.keyboard.press("Space")
    expect(briefed.get_by_label("No", exact=True)).to_be_checked()
    page.keyboard.press("ArrowLeft")  # radio groups move by arrow keys
    expect(briefed.get_by_label("Yes", exact=True)).to_be_checked()
    send = page.get_by_role("button", name="Send my answers")
    send.focus()
    expect(send).to_be_focused()
    box = send.bounding_box()
    assert box["height"] >= 44 and box["width"] <= 390
