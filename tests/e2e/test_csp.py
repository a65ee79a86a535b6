"""The Content-Security-Policy (issue 11, point 2) breaks nothing a person uses: the shopper's form
with its script, service worker and background send, the checklist editor and the reports page.

Every e2e page fixture fails its test on a CSP violation (conftest.csp_violations); these tests
make sure the pages that once held inline style are visited, and that their styles apply.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ..conftest import PASSWORD
from .test_shopper_phone import expect_received, fill_visit, send, tap_answers, type_answers, FLAWLESS


def log_in(page: Page, server: str, email: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_shopper_form_works_under_the_policy(phone: Page, live_server, make_assignment):
    _, token = make_assignment()
    response = phone.goto(f"{live_server}/s/{token}")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    fill_visit(phone)
    type_answers(phone)
    for text, labels in FLAWLESS:
        tap_answers(phone, text, labels)
    send(phone)
    expect_received(phone)


def test_the_editor_and_the_reports_page_keep_their_styles(desktop: Page, live_server, published, make_user,
                                                            make_branch):
    make_branch("BR-001", "NORTH")
    make_user("hq@example.com", "hq")
    log_in(desktop, live_server, "hq@example.com")
    desktop.goto(f"{live_server}/hq/checklists/store-visit")
    bar = desktop.locator(".share-table .sbar rect").first
    expect(bar).to_be_attached()
    assert float(bar.get_attribute("width")) > 0
    desktop.goto(f"{live_server}/reports/")
    period = desktop.locator("form.period")
    expect(period).to_be_visible()
    assert period.evaluate("e => getComputedStyle(e).display") == "flex"  # reports.css applied
