"""The monthly delivery's pages in real Chromium: HQ's settings (a bad day kept beside its field)
and a batch's progress at desktop size; a manager turning the e-mail off on a 390 px phone with
the keyboard alone. axe-core clean on each, and nothing scrolls sideways on the phone."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page, expect

from survey import delivery
from survey.extensions import db
from survey.jobs import run_queued
from survey.models import User

from ..conftest import PASSWORD
from ..mail_fixtures import smtp  # noqa: F401  (fixture)
from ..reports_fixtures import known, make_visit, mini  # noqa: F401  (fixtures)
from ..test_delivery import managers  # noqa: F401  (fixture)
from .conftest import PHONE
from .test_a11y import axe_script, check  # noqa: F401  (fixture)


def log_in(page: Page, server: str, email: str, lands: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server}{lands}")


def test_hq_sets_the_delivery_and_reads_a_batch(app, desktop, live_server, smtp, managers, axe_script):  # noqa: F811
    started = delivery.start_batch(date(2026, 2, 1), "delivery", "HQ")
    run_queued(app)
    log_in(desktop, live_server, "hq@example.com", "/hq/")
    desktop.get_by_role("navigation", name="HQ console").get_by_role("link", name="Monthly delivery").click()
    expect(desktop.get_by_role("heading", name="Monthly delivery", level=1)).to_be_visible()
    check(desktop, axe_script)

    desktop.get_by_label("Send the monthly delivery").check()
    desktop.get_by_label("Day of the month").fill("31")
    desktop.get_by_label("Largest attachments (MB)").fill("2.5")
    desktop.get_by_role("button", name="Save settings").click()
    expect(desktop.get_by_text("Enter a day from 1 to 28 (every month has it).")).to_be_visible()
    expect(desktop.get_by_label("Largest attachments (MB)")).to_have_value("2.5")  # kept as typed
    check(desktop, axe_script)
    desktop.get_by_label("Day of the month").fill("5")
    desktop.get_by_role("button", name="Save settings").click()
    expect(desktop.get_by_label("Day of the month")).to_have_value("5")
    assert delivery.settings().day == 5

    desktop.get_by_role("link", name=f"#{started.batch.id}").click()
    expect(desktop.get_by_text("south@example.com").first).to_be_visible()
    check(desktop, axe_script)


def test_a_manager_turns_the_monthly_e_mail_off_on_a_phone(app, browser, live_server, managers,
                                                           axe_script):  # noqa: F811
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, "north@example.com", "/reports/")
        page.get_by_role("link", name="Monthly e-mail").click()
        box = page.get_by_label("E-mail me my reports every month")
        expect(box).to_be_checked()
        check(page, axe_script)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        box.focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Save").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_text("You will get no monthly e-mail")).to_be_visible()
        expect(page.get_by_label("E-mail me my reports every month")).not_to_be_checked()
        check(page, axe_script)
        db.session.expire_all()
        assert db.session.scalar(db.select(User.monthly_delivery).filter_by(email="north@example.com")) is False
    finally:
        context.close()
