"""A manager on a phone (390 px), with the keyboard: sort the branch list, open a branch, open an
action from its first fix-first item (an empty form first), mark it done. axe-core clean in light
and dark, and no page scrolls sideways."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.reports_fixtures import *  # noqa: F401,F403

from .test_a11y import axe_script, check, scheme  # noqa: F401  (fixtures)

PERIOD = "from=2026-01-01&to=2026-06-30"


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_a_manager_sorts_opens_a_branch_and_follows_up_a_fix(phone, scheme, live_server, known, make_user,
                                                             axe_script):  # noqa: F811
    make_user("north@example.com", "manager", ("NORTH",))
    page = phone
    page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill("north@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server}/reports/?{PERIOD}")
    check(page, axe_script)
    no_sideways_scroll(page)

    page.get_by_role("link", name=re.compile(r"^Score")).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("columnheader", name=re.compile(r"^Score"))).to_have_attribute("aria-sort", "ascending")
    rows = page.locator("table.sortable tbody th a")
    expect(rows.first).to_have_text("Bravo")  # 0 % comes first, lowest score up

    page.get_by_role("link", name="Alpha").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alpha")
    check(page, axe_script)
    no_sideways_scroll(page)

    page.get_by_role("link", name="Open an action on “Were you greeted?”").click()
    page.get_by_role("button", name="Open the action").click()
    expect(page.get_by_text("Say what will be done.")).to_be_visible()
    expect(page.get_by_text("Name the person who will do it.")).to_be_visible()
    expect(page.get_by_label("What will be done")).to_have_attribute("aria-invalid", "true")
    check(page, axe_script)
    no_sideways_scroll(page)

    page.get_by_label("What will be done").fill("Greet everyone at the door")
    page.get_by_label("Who will do it").fill("Sam")
    page.get_by_label("Done by").fill((date.today() + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Open the action").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Action: Greet everyone at the door")
    check(page, axe_script)
    no_sideways_scroll(page)

    page.get_by_label("What was done").focus()
    page.keyboard.type("Briefed the team on Monday")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Mark done")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Marked done.")).to_be_visible()
    expect(page.get_by_text("“Briefed the team on Monday”")).to_be_visible()

    page.goto(f"{live_server}/reports/visits/{known.critical.reference}")
    expect(page.get_by_text("critical failure").first).to_be_visible()
    check(page, axe_script)
    no_sideways_scroll(page)
