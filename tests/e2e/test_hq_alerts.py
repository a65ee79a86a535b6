"""HQ follows the e-mail alerts in real Chromium: the dashboard's tile, the list, and "Send again"
pressed with the keyboard alone; axe-core clean at desktop size and on a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.jobs import run_queued
from survey.models import Alert, AlertState

from ..conftest import PASSWORD
from ..mail_fixtures import smtp  # noqa: F401  (fixture)
from ..test_alerts import managers, send_visit  # noqa: F401  (fixtures)
from .conftest import PHONE
from .test_a11y import axe_script, check  # noqa: F401  (fixture)


@pytest.fixture
def failed_alert(app, smtp, managers, send_visit):  # noqa: F811
    submission = send_visit(critical=True)
    db.session.execute(db.update(Alert).values(state=AlertState.failed, attempts=8,
                                               last_error="554 5.7.1 Message rejected (gave up after 8 tries)",
                                               recipients="anna@north.example, ben@both.example"))
    db.session.commit()
    return submission.reference


def log_in(page: Page, server: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("E-mail").fill("hq@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server}/hq/")


def test_hq_finds_a_failed_alert_and_sends_it_again_by_keyboard(app, desktop, live_server, failed_alert, smtp,
                                                                axe_script):  # noqa: F811
    log_in(desktop, live_server)
    check(desktop, axe_script)
    desktop.get_by_role("link", name="1 alert failed or unknown").click()
    row = desktop.get_by_role("row").filter(has_text=failed_alert)
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("554 5.7.1 Message rejected")
    check(desktop, axe_script)

    button = desktop.get_by_role("button", name=f"Send again: the alert about {failed_alert}")
    button.focus()
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_text(f"The alert about {failed_alert} is queued again")).to_be_visible()
    run_queued(app)  # the worker's part
    desktop.reload()  # the list is still filtered to what needs attention: the sent alert has left it
    expect(desktop.get_by_text("No alerts match these filters.")).to_be_visible()
    desktop.get_by_role("navigation", name="HQ console").get_by_role("link", name="Alerts", exact=True).click()
    expect(desktop.get_by_role("row").filter(has_text=failed_alert)).to_contain_text("Sent")
    assert len(smtp.messages) == 1


def test_the_alerts_page_on_a_phone(app, browser, live_server, failed_alert, axe_script):  # noqa: F811
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server)
        page.goto(f"{live_server}/hq/alerts")
        expect(page.get_by_role("button", name=f"Send again: the alert about {failed_alert}")).to_be_attached()
        check(page, axe_script)
    finally:
        context.close()
