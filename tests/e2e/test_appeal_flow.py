"""Appeals in real Chromium (SPEC §8): a manager on a phone (390×844) appeals one question of a visit
(an empty form first), HQ at a desktop finds it in the queue and upholds it with N/A, and the
manager's branch page moves from 0 % to 100 %. axe-core clean on every new page, no sideways scroll."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.reports_fixtures import *  # noqa: F401,F403

from .test_a11y import axe_script, check  # noqa: F401  (fixture)
from .test_manager_screens import no_sideways_scroll

PERIOD = "from=2026-01-01&to=2026-06-30"
PHONE_QUESTION = "Did they use a phone while serving you?"


def log_in(page: Page, server: str, email: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_manager_appeals_a_question_hq_upholds_it_and_the_branch_score_moves(
        phone, desktop, live_server, known, make_user, axe_script):  # noqa: F811
    make_user("north@example.com", "manager", ("NORTH",))
    make_user("hq@example.com", "hq")
    page = phone
    log_in(page, live_server, "north@example.com")
    page.goto(f"{live_server}/reports/branches/BR-B?{PERIOD}")
    expect(page.locator("strong.big")).to_have_text("0.0 %")

    page.goto(f"{live_server}/reports/visits/{known.critical.reference}")
    page.get_by_role("link", name="Appeal this visit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Appeal visit")
    check(page, axe_script)
    no_sideways_scroll(page)

    page.get_by_role("button", name="Send the appeal").click()
    expect(page.get_by_text("Choose what went wrong.")).to_be_visible()
    expect(page.get_by_text("Say why: HQ decides on what you write.")).to_be_visible()
    check(page, axe_script)
    no_sideways_scroll(page)

    page.get_by_label("Scoring error").check()
    page.get_by_label("Why the visit should not stand as scored").fill("The phone was the customer's, see comment")
    page.get_by_label("Some of its questions").check()
    page.get_by_label(re.compile(re.escape(PHONE_QUESTION))).check()
    page.get_by_role("button", name="Send the appeal").click()
    expect(page.get_by_text("Appeal sent")).to_be_visible()
    expect(page.get_by_role("heading", name="Appeal")).to_be_visible()
    expect(page.get_by_text("waiting for HQ").first).to_be_visible()
    check(page, axe_script)
    no_sideways_scroll(page)

    hq = desktop
    log_in(hq, live_server, "hq@example.com")
    hq.get_by_role("link", name="1 appeal open").click()
    check(hq, axe_script)
    hq.get_by_role("link", name=re.compile(r"UTC$")).first.click()
    expect(hq.get_by_role("heading", level=1)).to_contain_text(known.critical.reference)
    check(hq, axe_script)
    hq.get_by_label("Uphold").check()
    hq.get_by_label("Answer that should count (if upheld)").select_option("__na__")
    hq.get_by_label("Reason").fill("Not the staff's phone")
    hq.get_by_role("button", name=re.compile("^Decide")).click()
    expect(hq.get_by_text("Decided: upheld.")).to_be_visible()
    expect(hq.get_by_text("Visit score 0.0 % → 100.0 %.")).to_be_visible()
    check(hq, axe_script)
    hq.goto(f"{live_server}/hq/appeals/rates?date_from=2026-01-01&date_to=2026-06-30")
    expect(hq.get_by_role("row", name=re.compile("BR-B"))).to_contain_text("100.0 %")
    check(hq, axe_script)

    page.goto(f"{live_server}/reports/branches/BR-B?{PERIOD}")
    expect(page.locator("strong.big")).to_have_text("100.0 %")
    expect(page.get_by_text("appealed", exact=True)).to_be_visible()
    check(page, axe_script)
    page.goto(f"{live_server}/reports/visits/{known.critical.reference}")
    expect(page.get_by_text("Answer that counts now: N/A; the shopper answered Yes.")).to_be_visible()
    check(page, axe_script)
    no_sideways_scroll(page)
