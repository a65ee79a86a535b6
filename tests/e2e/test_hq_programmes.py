"""HQ's pages for real programmes in desktop Chromium (1280×900): the editor's repeated section,
bonus and outcomes, the submission page with repetitions, bonuses and an outcome, and a not-done
link replaced in one click. Every page passes axe-core, with and without messages beside fields."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import Assignment

from ..conftest import PASSWORD
from ..test_hq_programmes import BASE, TWO_EMPLOYEES, make_branch_visit, not_done, programme  # noqa: F401
from .test_a11y import axe_script, check  # noqa: F401

SHOTS = "/tmp/i14hq"


@pytest.fixture
def hq_page(desktop: Page, live_server, programme, make_user):  # noqa: F811
    make_user("hq@example.com", "hq")
    desktop.goto(f"{live_server}/login")
    desktop.get_by_label("E-mail").fill("hq@example.com")
    desktop.get_by_label("Password").fill(PASSWORD)
    desktop.get_by_role("button", name="Log in").click()
    expect(desktop).to_have_url(f"{live_server}/hq/")
    return desktop


def test_editor_pages_for_real_programmes_pass_axe(hq_page: Page, live_server, axe_script):  # noqa: F811
    page = hq_page
    for path in (BASE, f"{BASE}/sections/staff", f"{BASE}/settings", f"{BASE}/questions/thanked"):
        page.goto(live_server + path)
        check(page, axe_script)
    # a bad limit and a bad bonus, each answered beside its field
    page.goto(f"{live_server}{BASE}/sections/staff")
    page.get_by_label("At most").fill("60")
    page.get_by_role("button", name="Save section").click()
    expect(page.locator("#e-repeat-max")).to_have_text("Must be 50 or less.")
    expect(page.get_by_label("At most")).to_have_value("60")
    check(page, axe_script)
    page.screenshot(path=f"{SHOTS}/section-error.png", full_page=True)
    page.goto(f"{live_server}{BASE}/questions/thanked")
    page.get_by_label("Points", exact=True).fill("150")
    page.get_by_role("button", name="Save question").click()
    expect(page.locator("#e-adjust_points")).to_have_text("Must be 100 or less.")
    check(page, axe_script)
    page.goto(f"{live_server}{BASE}/settings")
    page.get_by_label("Key, row 2").fill("no_answer")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#e-outcomes-1-key")).to_contain_text("used twice")
    check(page, axe_script)
    page.screenshot(path=f"{SHOTS}/settings-error.png", full_page=True)


def test_the_submission_page_with_repetitions_bonus_and_an_outcome_passes_axe(
        hq_page: Page, live_server, axe_script, make_branch_visit):  # noqa: F811
    page = hq_page
    filled = make_branch_visit(TWO_EMPLOYEES, {"staff": 2})
    ended = make_branch_visit(outcome="no_answer", comments={"outcome:": "Rang at 9, 11 and 3"})
    page.goto(f"{live_server}/hq/submissions/{filled.id}")
    expect(page.get_by_role("heading", name="Employee 2")).to_be_visible()
    expect(page.get_by_role("table", name="Bonuses and deductions")).to_contain_text("−10 points")
    check(page, axe_script)
    page.screenshot(path=f"{SHOTS}/submission.png", full_page=True)
    page.goto(f"{live_server}/hq/submissions/{ended.id}")
    expect(page.get_by_text("Ended without the form: No answer after three calls")).to_be_visible()
    check(page, axe_script)


def test_a_not_done_link_is_replaced_in_one_click(hq_page: Page, live_server, axe_script, not_done):  # noqa: F811
    page = hq_page
    link, _ = not_done
    page.goto(f"{live_server}/hq/waves")
    page.get_by_role("link", name="1 link not done").click()
    expect(page).to_have_url(f"{live_server}/hq/not-done")
    expect(page.get_by_role("heading", name="Links not done")).to_be_visible()
    row = page.locator(f"#nd-{link.id}")
    expect(row).to_contain_text("I could not call")
    expect(row).to_contain_text("My car broke down")
    check(page, axe_script)
    page.screenshot(path=f"{SHOTS}/not-done.png", full_page=True)
    for path in (f"/hq/waves/{link.wave_id}?state=not_done", f"/hq/assignments/{link.id}", "/hq/waves"):
        page.goto(live_server + path)
        check(page, axe_script)
    page.goto(f"{live_server}/hq/not-done")
    page.get_by_role("button", name=re.compile(f"Issue a new link for BR-007 instead of link {link.id}")).click()
    expect(page.get_by_role("heading", name="New link for BR-007 Harbour")).to_be_visible()
    url = page.locator("#new-link").inner_text()
    check(page, axe_script)
    page.screenshot(path=f"{SHOTS}/reissued.png", full_page=True)
    db.session.expire_all()
    new = db.session.scalar(db.select(Assignment).order_by(Assignment.id.desc()).limit(1))
    page.goto(f"{live_server}/hq/not-done")
    expect(page.locator(f"#nd-{link.id}")).to_contain_text(f"New link issued: link {new.id}")
    page.goto(url.replace(url.split("/s/")[0], live_server))
    expect(page.locator("form")).to_have_count(1)
