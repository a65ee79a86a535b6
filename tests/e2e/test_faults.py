"""Faults a shopper's phone meets (each at 390×844): a server that times out, a network
that drops mid-upload of a photo, storage that is full or switched off, a draft from an older
checklist, a clock that is wrong. Every time the shopper is told what happens in plain words,
and nothing is lost or stored twice."""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import Attachment, ChecklistVersion, ShopperDraft
from survey.caches import checklist_of
from survey.submissions import find_assignment, pin_version

from ..conftest import good_answers, hidden_fields

from .conftest import PHONE
from .test_offline import QUEUED, expect_half_filled, fill_half, fill_rest, server_draft
from .test_shopper_phone import question, send, stored_submissions

RECEIVED = re.compile("^(Thank you – your answers arrived|Already received)$")
LINK_PATH = re.compile(r".*/s/[^/]+$")
#: How far a first-answer stamp may stray outside the link's life: a phone a minute or two off.
SLACK = timedelta(minutes=10)


@pytest.fixture
def link(make_assignment):
    _, token = make_assignment("store-visit")
    return token


@pytest.fixture
def phone_routed(browser):
    """A phone page whose own requests page.route sees: the service worker is blocked.

    A page's requests that a service worker handles never reach page.route, so these tests
    exercise the page's own retry (the worker's Background Sync posts the same outbox entry).
    """
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                                  service_workers="block")
    page = context.new_page()
    yield page
    context.close()


def page_errors(page: Page) -> list[str]:
    """Collect the page's uncaught errors from now on (every page of its context)."""
    errors: list[str] = []
    page.context.on("page", lambda p: p.on("pageerror", lambda e: errors.append(str(e))))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def state(page: Page):
    return page.locator("#state")


def expect_arrived(page: Page, timeout: float = 20_000):
    """The page says the answers arrived, with the reference of the one stored submission."""
    expect(page.get_by_role("heading", name=RECEIVED)).to_be_visible(timeout=timeout)
    (submission,) = stored_submissions()
    expect(page.get_by_text(submission.reference, exact=True)).to_be_visible()
    return submission


def posts_to_link(route) -> bool:
    return route.request.method == "POST" and not route.request.url.endswith("/draft")


def fill_all(page: Page) -> None:
    fill_half(page)
    fill_rest(page)


# ---- 1. the server times out during submission ------------------------------------------------

def test_a_send_that_hangs_then_times_out_is_kept_on_the_phone_and_stored_once(phone_routed, live_server, link):
    page = phone_routed
    held = []

    def hang_first_send(route):
        if posts_to_link(route) and not held:
            held.append(route)  # no answer: the request hangs like a stalled server
        else:
            route.fallback()

    page.route(LINK_PATH, hang_first_send)
    page.goto(f"{live_server}/s/{link}")
    fill_all(page)
    send(page)
    expect(state(page)).to_have_text("Sending…")
    # Longer than the page waits before reassuring the shopper: the answers are safe here.
    expect(state(page)).to_have_text(QUEUED, timeout=10_000)
    assert held and stored_submissions() == []
    held[0].abort("timedout")  # what a proxy or the browser does to a request that never ends
    expect(state(page)).to_have_text(QUEUED)
    submission = expect_arrived(page)  # tried again by itself a few seconds later
    assert len(held) == 1 and submission.attachments == []


def test_a_reply_lost_after_the_server_stored_the_answers_is_not_stored_twice(phone_routed, live_server, link):
    page = phone_routed
    replies = []

    def lose_first_reply(route):
        if posts_to_link(route):
            if not replies:
                replies.append(route.fetch(max_redirects=0).status)  # the server takes it ...
                route.abort("timedout")  # ... and the phone never hears back
                return
            replies.append("sent again")
        route.fallback()

    page.route(LINK_PATH, lose_first_reply)
    page.goto(f"{live_server}/s/{link}")
    fill_all(page)
    # The flaky server drops the autosaves too (their answer would also say it arrived):
    # only sending the same submission again can tell the phone.
    page.route("**/draft", lambda route: route.abort("timedout"))
    send(page)
    expect(state(page)).to_have_text(QUEUED)
    assert replies == [204] and len(stored_submissions()) == 1
    expect_arrived(page)  # the retry carries the same idempotency key: "already received"
    assert replies == [204, "sent again"]  # sent twice, stored once


# ---- 2. the network drops while a photo is uploading ------------------------------------------

def outbox_files(page: Page, path: str):
    """The files in this link's queued submission on the phone (IndexedDB): ``[[field, name, size]]``."""
    return page.evaluate("""path => new Promise((ok, no) => {
        const open = indexedDB.open("shopper", 1);
        open.onerror = () => no(open.error);
        open.onsuccess = () => {
            const rq = open.result.transaction("outbox").objectStore("outbox").get(path);
            rq.onsuccess = () => {
                open.result.close();
                const entry = rq.result;
                ok(entry ? entry.fields.filter(f => f[2] != null).map(f => [f[0], f[2], f[1].size]) : null);
            };
        };
    })""", path)


@pytest.mark.parametrize("when", ["before the server heard it", "after the server stored it"])
def test_a_photo_upload_cut_off_is_kept_on_the_phone_and_sent_later_once(phone_routed, live_server, link,
                                                                          tmp_path, when):
    photo = tmp_path / "receipt.png"
    Image.new("RGB", (640, 480), (200, 180, 160)).save(photo)
    page = phone_routed
    context = page.context
    cut = []

    def drop_the_network_mid_upload(route):
        body = route.request.post_data_buffer or b""
        if posts_to_link(route) and b'filename="receipt.png"' in body and not cut:
            if when == "before the server heard it":
                cut.append(None)
                context.set_offline(True)
                route.abort("internetdisconnected")
            else:
                cut.append(route.fetch(max_redirects=0).status)
                context.set_offline(True)
                route.abort("connectionreset")
        else:
            route.fallback()

    page.route(LINK_PATH, drop_the_network_mid_upload)
    page.goto(f"{live_server}/s/{link}")
    page.get_by_label("Photo of your receipt").set_input_files(str(photo))
    fill_all(page)
    send(page)
    expect(state(page)).to_have_text(QUEUED)
    # Stored: the page's send gets 204 (X-Outbox).
    assert cut == ([None] if when == "before the server heard it" else [204])
    # Kept on the phone with its photo, whole, not only in the open page.
    assert outbox_files(page, f"/s/{link}") == [["q_receipt", "receipt.png", photo.stat().st_size]]
    assert len(stored_submissions()) == (0 if when == "before the server heard it" else 1)
    page.close()

    context.set_offline(False)
    again = context.new_page()
    # Opening the link again sends what waited on the phone, or finds it already arrived.
    again.goto(f"{live_server}/s/{link}")
    submission = expect_arrived(again)
    (attachment,) = db.session.scalars(db.select(Attachment))
    assert attachment.submission_id == submission.id
    assert attachment.original_name == "receipt.png"
    assert (tmp_path / "uploads" / attachment.stored_name).exists()
    assert again.evaluate("() => localStorage.length") == 0  # nothing left behind for this link


# ---- 3. local storage full, or switched off (private mode) ------------------------------------

STORAGE_FULL = """Storage.prototype.setItem = function () {
    throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
};"""
STORAGE_OFF = """Object.defineProperty(window, "localStorage", { configurable: true, get() {
    throw new DOMException("The operation is insecure.", "SecurityError");
} });"""
ALL_STORAGE_OFF = STORAGE_OFF + """
IDBFactory.prototype.open = function () { throw new DOMException("The operation is insecure.", "SecurityError"); };"""


@pytest.mark.parametrize("script,fault", [
    (STORAGE_FULL, "QuotaExceededError"),
    (STORAGE_OFF, "SecurityError"),
    (ALL_STORAGE_OFF, "SecurityError"),  # no queue on the phone either: the form is sent the ordinary way
], ids=["full", "switched-off", "indexeddb-off-too"])
def test_the_form_works_when_the_phone_cannot_store_anything(phone, live_server, link, script, fault):
    page = phone
    errors = page_errors(page)
    page.context.add_init_script(script)
    page.goto(f"{live_server}/s/{link}")
    assert page.evaluate("""() => { try { localStorage.setItem("x", "1"); return "stored"; }
                                    catch (e) { return e.name; } }""") == fault
    fill_half(page)
    # Nothing kept on the phone: the server's draft is what a reload brings back.
    assert server_draft().answers["q_greeting_warmth"] == "5"
    page.reload()
    expect_half_filled(page)
    fill_rest(page)
    send(page)
    expect_arrived(page)
    assert errors == []


# ---- 4. a draft from an older checklist version -----------------------------------------------

STALE = {
    "visit_time": "08:05",
    "q_greeting_warmth": "1",
    "q_premises_clean": "no",
    "q_premises_clean__comment": "Mud by the door (asked by the old checklist)",
    "q_staff_description-1": "Answer to the old checklist",
    "q_retired_question": "yes",
}


def wait_for_draft(ready, timeout: float = 10) -> ShopperDraft:
    """Wait until the link's server draft is one ``ready`` accepts; return it."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        db.session.rollback()
        draft = db.session.scalar(db.select(ShopperDraft))
        if draft is not None and ready(draft):
            return draft
        time.sleep(0.2)
    raise AssertionError("the page's autosave never replaced the draft")


def expect_a_blank_form(page: Page) -> None:
    expect(page.get_by_text(re.compile(r"^0 of \d+ required$"))).to_be_visible()
    expect(page.locator("#visit_time")).to_have_value("")
    expect(question(page, "How warm was the greeting?").get_by_role("radio", checked=True)).to_have_count(0)
    expect(page.get_by_label("Describe this employee")).to_have_value("")
    expect(page.get_by_text("Mud by the door")).to_have_count(0)
    expect(page.locator("#summary")).to_have_count(0)  # no "answers need attention"


def test_a_server_draft_of_an_older_version_is_not_shown(phone, live_server, make_assignment):
    assignment, token = make_assignment("store-visit")
    pin_version(assignment)  # the link was opened before: it is pinned to the current version
    older = ChecklistVersion(checklist_id=assignment.checklist_id, number=0, content=assignment.version.content,
                             content_hash="0" * 64)
    db.session.add(older)
    db.session.flush()
    db.session.add(ShopperDraft(assignment_id=assignment.id, version_id=older.id, answers=STALE))
    db.session.commit()
    pinned = assignment.version_id

    page = phone
    errors = page_errors(page)
    page.goto(f"{live_server}/s/{token}")
    expect_a_blank_form(page)
    fill_all(page)
    draft = wait_for_draft(lambda d: d.version_id == pinned)  # the autosave replaced the old draft
    assert draft.answers["q_staff_description-1"] == "Sam, green jumper, glasses"
    assert "q_retired_question" not in draft.answers and "q_premises_clean__comment" not in draft.answers
    send(page)
    submission = expect_arrived(page)
    answers = {a.question_key: a for a in submission.answers}
    assert answers["premises_clean"].value == "yes" and answers["premises_clean"].comment is None
    assert answers["staff_description"].value == "Sam, green jumper, glasses"
    assert errors == []


#: What an older page kept on the phone: fields this form lacks, and answers it no longer offers.
KEPT = {"f": {"q_retired_question": ["yes"], "q_retired_note": ["Asked by the old checklist"],
              "q_greeting_warmth": ["7"], "q_staff_look": ["gone_option"], "visit_time": ["25:99"],
              "q_staff_description-1": ["Answer to the old checklist"]}, "s": False, "b": ""}


@pytest.mark.parametrize("kept", [KEPT, "{this is not JSON"], ids=["fields-the-form-lacks", "unreadable"])
def test_answers_kept_on_the_phone_for_fields_the_form_lacks_are_dropped(phone, live_server, link, kept):
    page = phone
    errors = page_errors(page)
    key = f"draft:/s/{link}"
    page.goto(f"{live_server}/s/no-such-link")  # the same site, so the same storage
    page.evaluate("([key, value]) => localStorage.setItem(key, value)",
                  [key, kept if isinstance(kept, str) else json.dumps(kept)])
    page.goto(f"{live_server}/s/{link}")
    if isinstance(kept, dict):
        # Fields the form has keep their stale text (the phone cannot tell them apart); the rest go.
        expect(page.get_by_label("Describe this employee")).to_have_value("Answer to the old checklist")
        expect(question(page, "How warm was the greeting?").get_by_role("radio", checked=True)).to_have_count(0)
        expect(question(page, "How did the staff look?").get_by_role("radio", checked=True)).to_have_count(0)
        expect(page.locator("#visit_time")).to_have_value("")
    else:
        expect(page.get_by_text(re.compile(r"^0 of \d+ required$"))).to_be_visible()
    fill_all(page)
    stored = page.evaluate("key => JSON.parse(localStorage.getItem(key)).f", key)
    assert not {"q_retired_question", "q_retired_note"} & stored.keys()
    assert stored["q_greeting_warmth"] == ["5"] and stored["q_staff_look"] == ["smart"]
    send(page)
    submission = expect_arrived(page)
    answers = {a.question_key: a.value for a in submission.answers}
    assert answers["greeting_warmth"] == "5" and answers["staff_look"] == "smart"
    assert answers["staff_description"] == "Sam, green jumper, glasses"
    assert errors == []


# ---- 5. the phone's clock is wrong ------------------------------------------------------------


def shifted_clock(days: int) -> str:
    """An init script that moves the page's Date by ``days`` (timers keep running on real time)."""
    return """(() => {
        const Real = Date, shift = %d * 864e5;
        function Shifted(...a) {
            if (!new.target) return new Real(Real.now() + shift).toString();
            return a.length ? new Real(...a) : new Real(Real.now() + shift);
        }
        Shifted.prototype = Real.prototype;
        Shifted.now = () => Real.now() + shift;
        Shifted.parse = Real.parse;
        Shifted.UTC = Real.UTC;
        window.Date = Shifted;
    })();""" % days


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.mark.parametrize("days", [730, -365, 0], ids=["2-years-ahead", "1-year-behind", "right"])
def test_a_wrong_clock_on_the_phone_stores_no_absurd_first_answer_time(phone, live_server, link, days):
    page = phone
    errors = page_errors(page)
    if days > 0:
        page.clock.install(time=datetime.now(timezone.utc) + timedelta(days=days))  # Playwright's own fake clock
    else:
        page.context.add_init_script(shifted_clock(days))
    page.goto(f"{live_server}/s/{link}")
    phone_year = page.evaluate("() => new Date().getUTCFullYear()")
    assert phone_year == (datetime.now(timezone.utc) + timedelta(days=days)).year
    fill_all(page)
    send(page)
    submission = expect_arrived(page)
    assert errors == []
    assert submission.visit_date == date.today()
    first = submission.first_answer_at
    if days == 0:
        assert first is not None  # a right clock's stamp is kept
    assert first is None or submission.opened_at - SLACK <= first <= utcnow(), (
        f"first answer at {first}, the link opened at {submission.opened_at}")


@pytest.mark.parametrize("before_now,kept", [
    (timedelta(minutes=1), True),
    (timedelta(days=3), True),  # begun three days ago (a draft keeps the stamp), sent today
    (timedelta(hours=-1), False),  # in the future
    (timedelta(days=40), False),  # weeks before the link could be opened
], ids=["a-minute-ago", "three-days-ago", "in-an-hour", "before-the-link"])
def test_the_server_keeps_a_first_answer_time_only_within_the_links_life(client, make_assignment, before_now, kept):
    """The rule behind the test above, without a browser: the server trusts no phone's clock."""
    _, token = make_assignment("store-visit")
    form = client.get(f"/s/{token}").get_data(as_text=True)
    assignment = find_assignment(token)
    assignment.opened_at = utcnow() - timedelta(days=4)
    db.session.commit()
    stamp = (datetime.now(timezone.utc) - before_now).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    data = {**hidden_fields(form), **good_answers(checklist_of(assignment.version)), "first_answer_at": stamp}
    assert client.post(f"/s/{token}", data=data).status_code == 303
    (submission,) = stored_submissions()
    assert (submission.first_answer_at is not None) is kept
