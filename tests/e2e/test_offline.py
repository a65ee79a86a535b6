"""A shopper never loses an answer (SPEC §7): reloads, a lost network, a closed tab,
two tabs, a server fault, another phone. Exactly one submission is stored every time."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import AssignmentState, ShopperDraft
from survey.caches import checklist_of
from survey.submissions import find_assignment

from ..conftest import good_answers, hidden_fields
from .conftest import PHONE
from .test_shopper_phone import (
    FLAWLESS, expect_received, fill_visit, question, send, stored_submissions, tap_answers, type_answers,
)

QUEUED = re.compile("saved on this phone", re.I)


@pytest.fixture
def link(make_assignment):
    _, token = make_assignment("store-visit")
    return token


def fill_half(page: Page) -> None:
    fill_visit(page)
    for text, labels in FLAWLESS[:6]:
        tap_answers(page, text, labels)
    box = page.get_by_label("Describe this employee")
    box.tap()
    box.fill("Sam, green jumper")


def fill_rest(page: Page) -> None:
    type_answers(page)
    for text, labels in FLAWLESS[6:]:
        tap_answers(page, text, labels)


def expect_half_filled(page: Page) -> None:
    expect(question(page, "How warm was the greeting?").get_by_label("5", exact=True)).to_be_checked()
    expect(question(page, "How did the staff look?").get_by_label("Neat and in uniform")).to_be_checked()
    expect(page.get_by_label("Describe this employee")).to_have_value("Sam, green jumper")
    expect(question(page, "Could you raise the complaint?")).to_be_visible()  # show_if settled again
    expect(page.get_by_text(re.compile(r"^6 of \d+ required$"))).to_be_visible()


def server_draft(timeout: float = 10) -> ShopperDraft:
    """Wait for the page's autosave to reach the server; return the draft."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        db.session.rollback()
        draft = db.session.scalar(db.select(ShopperDraft))
        if draft is not None and "q_staff_description-1" in draft.answers:
            return draft
        time.sleep(0.2)
    raise AssertionError("the draft never reached the server")


def offline_ready(page: Page) -> None:
    """Wait until the service worker runs and holds a copy of this page."""
    page.wait_for_function(
        "async () => !!navigator.serviceWorker.controller && !!(await caches.match(location.pathname))",
        timeout=15_000)


def test_answers_survive_a_reload_and_reach_the_server(phone, live_server, link):
    page = phone
    page.goto(f"{live_server}/s/{link}")
    fill_half(page)
    page.reload()
    expect_half_filled(page)
    draft = server_draft()
    assert draft.answers["q_greeting_warmth"] == "5"
    assert draft.answers["q_staff_description-1"] == "Sam, green jumper"
    assert "csrf_token" not in draft.answers and "idem" not in draft.answers
    assert stored_submissions() == []


def test_answers_follow_the_link_to_another_phone(browser, phone, live_server, link):
    phone.goto(f"{live_server}/s/{link}")
    fill_half(phone)
    server_draft()
    other = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = other.new_page()
        page.goto(f"{live_server}/s/{link}")
        expect_half_filled(page)
        fill_rest(page)
        send(page)
        expect_received(page)
    finally:
        other.close()


def test_save_and_finish_later_without_javascript(phone_no_js, live_server, link):
    page = phone_no_js
    page.goto(f"{live_server}/s/{link}")
    fill_half(page)
    page.get_by_role("button", name="Save and finish later").tap()
    expect(page.get_by_text("Saved. Open this link again to finish.")).to_be_visible()
    page.goto(f"{live_server}/s/{link}")
    expect(question(page, "How warm was the greeting?").get_by_label("5", exact=True)).to_be_checked()
    expect(page.get_by_label("Describe this employee")).to_have_value("Sam, green jumper")
    assert stored_submissions() == []


def test_save_and_finish_later_with_javascript_says_so(phone, live_server, link):
    page = phone
    page.goto(f"{live_server}/s/{link}")
    fill_half(page)
    page.get_by_role("button", name="Save and finish later").tap()
    expect(page.get_by_role("status")).to_have_text("Saved. Open this link again to finish.")
    assert server_draft().answers["q_greeting_warmth"] == "5"
    assert stored_submissions() == []


def test_sent_offline_it_waits_on_the_phone_and_goes_when_the_network_returns(phone, live_server, link):
    page = phone
    page.goto(f"{live_server}/s/{link}")
    offline_ready(page)
    fill_half(page)
    page.context.set_offline(True)
    fill_rest(page)
    send(page)
    expect(page.get_by_role("status")).to_have_text(QUEUED)
    # Reopened without a network: the page comes from the phone, answers and state included.
    page.reload()
    expect(page.get_by_label("Describe this employee")).to_have_value("Sam, green jumper, glasses")
    expect(question(page, "Did they thank you?").get_by_label("Yes", exact=True)).to_be_checked()
    expect(page.get_by_role("status")).to_have_text(QUEUED)
    assert stored_submissions() == []
    page.context.set_offline(False)
    expect_received(page)


def test_two_tabs_offline_store_one_submission(phone, live_server, link):
    first = phone
    first.goto(f"{live_server}/s/{link}")
    offline_ready(first)
    fill_half(first)
    fill_rest(first)
    second = first.context.new_page()
    second.goto(f"{live_server}/s/{link}")
    # The same phone: its own copy of the answers.
    expect(second.get_by_label("Describe this employee")).to_have_value("Sam, green jumper, glasses")
    first.context.set_offline(True)
    send(first)
    send(second)
    expect(first.get_by_role("status")).to_have_text(QUEUED)
    expect(second.get_by_role("status")).to_have_text(QUEUED)
    first.context.set_offline(False)
    for page in (first, second):
        expect(page.get_by_role("heading", name=re.compile("^(Thank you – your answers arrived|Already received)$"))
               ).to_be_visible(timeout=15_000)
    (submission,) = stored_submissions()
    for page in (first, second):
        expect(page.get_by_text(submission.reference, exact=True)).to_be_visible()


def test_a_tab_closed_while_offline_sends_when_the_link_is_opened_again(phone, live_server, link):
    page = phone
    page.goto(f"{live_server}/s/{link}")
    offline_ready(page)
    fill_half(page)
    fill_rest(page)
    context = page.context
    context.set_offline(True)
    send(page)
    expect(page.get_by_role("status")).to_have_text(QUEUED)
    page.close()
    context.set_offline(False)
    again = context.new_page()
    again.goto(f"{live_server}/s/{link}")
    expect(again.get_by_role("heading", name=re.compile("^(Thank you – your answers arrived|Already received)$"))
           ).to_be_visible(timeout=15_000)
    assert len(stored_submissions()) == 1


def test_a_server_fault_keeps_the_answers_and_a_later_attempt_stores_one(browser, live_server, link):
    # Requests the service worker makes are not seen by page.route: test the page's own retry.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, service_workers="block")
    try:
        page = context.new_page()
        faults = []

        def fail_first_send(route):
            if route.request.method == "POST" and route.request.url.endswith(f"/s/{link}") and not faults:
                faults.append(route.request.url)
                route.fulfill(status=500, body="Something went wrong on our side.")
            else:
                route.fallback()

        page.route(re.compile(r".*/s/[^/]+$"), fail_first_send)
        page.goto(f"{live_server}/s/{link}")
        fill_half(page)
        fill_rest(page)
        send(page)
        expect(page.get_by_role("status")).to_have_text(QUEUED)
        assert faults and stored_submissions() == []
        expect_received(page)  # tried again by itself a few seconds later
        assert len(faults) == 1
    finally:
        context.close()


def test_a_double_tap_stores_one_submission(phone, live_server, link):
    page = phone
    page.goto(f"{live_server}/s/{link}")
    fill_half(page)
    fill_rest(page)
    button = page.get_by_role("button", name="Send my answers")
    button.dispatch_event("click")
    button.dispatch_event("click")
    expect_received(page)


def test_a_photo_is_made_smaller_on_the_phone_before_upload(app, phone, live_server, link, tmp_path):
    big = tmp_path / "receipt.png"
    Image.new("RGB", (3200, 2400), (200, 180, 160)).save(big)
    page = phone
    page.goto(f"{live_server}/s/{link}")
    page.get_by_label("Photo of your receipt").set_input_files(str(big))
    page.wait_for_function("() => document.querySelector('input[type=file]').files[0].type === 'image/jpeg'")
    name, size = page.evaluate("() => { const f = document.querySelector('input[type=file]').files[0];"
                               " return [f.name, f.size]; }")
    assert name == "receipt.jpg"
    assert size < big.stat().st_size
    fill_half(page)
    fill_rest(page)
    send(page)
    submission = expect_received(page)
    (attachment,) = submission.attachments
    assert attachment.content_type == "image/jpeg"
    data = (Path(app.config["UPLOAD_DIR"]) / attachment.stored_name).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (1600, 1200)


def test_a_phone_learns_when_the_answers_were_sent_from_another(app, phone, live_server, make_assignment):
    _, token = make_assignment("store-visit")
    page = phone
    page.goto(f"{live_server}/s/{token}")
    fill_visit(page)
    other = app.test_client()
    form = other.get(f"/s/{token}").get_data(as_text=True)
    checklist = checklist_of(find_assignment(token).version)
    assert other.post(f"/s/{token}", data={**hidden_fields(form), **good_answers(checklist)}).status_code == 303
    tap_answers(page, "How warm was the greeting?", ["3"])  # its autosave hears the link was used
    expect(page.get_by_role("heading", name="Already received")).to_be_visible(timeout=10_000)
    assert len(stored_submissions()) == 1


def test_a_photo_sent_on_a_slow_network_shows_its_progress(app, phone, live_server, link, tmp_path):
    """On a slow upload the shopper sees how far the photo has got, then the confirmation."""
    noisy = tmp_path / "receipt.jpg"  # about 500 KB: small enough to keep, large enough to take a while
    Image.effect_noise((1200, 900), 60).convert("RGB").save(noisy, quality=70)
    page = phone
    page.goto(f"{live_server}/s/{link}")
    page.get_by_label("Photo of your receipt").set_input_files(str(noisy))
    fill_half(page)
    fill_rest(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 20, "downloadThroughput": 2_000_000, "uploadThroughput": 300_000})
    send(page)
    expect(page.locator("#state")).to_have_text(re.compile(r"^Sending… \d{1,3} %$"))
    expect(page.get_by_role("heading", name="Thank you – your answers arrived")).to_be_visible(timeout=60_000)
    submission = expect_received(page)
    assert len(submission.attachments) == 1


def test_a_link_cancelled_while_the_form_is_open_says_why_saving_stopped(phone, live_server, link):
    """The draft save is refused (410): the shopper is told in plain words, not left believing it saves."""
    page = phone
    page.goto(f"{live_server}/s/{link}")
    assignment = find_assignment(link)
    assignment.state = AssignmentState.cancelled
    db.session.commit()
    fill_half(page)
    expect(page.locator("#state")).to_have_text(
        "This visit was cancelled, so answers can no longer be saved.", timeout=10_000)
