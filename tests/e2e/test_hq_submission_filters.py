"""HQ's submissions list in real Chromium (issue 16): the branch filter is a code typed, with the
chosen region's branches offered as suggestions, and a code no branch has is explained beside
the box with every other filter kept."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from survey.extensions import db
from survey.models import Region

from ..test_hq_review import make_submission  # noqa: F401 - a fixture
from .test_review_flow import log_in


def test_hq_filters_the_list_by_a_branch_code(desktop, live_server, make_user, make_submission):  # noqa: F811
    page = desktop
    made = {code: make_submission(code, "NORTH") for code in ("BR-001", "BR-002")}
    south = make_submission("BR-005", "SOUTH")
    north = db.session.scalar(db.select(Region).filter_by(code="NORTH"))
    make_user("hq@example.com", "hq")
    log_in(page, live_server, "hq@example.com")

    page.goto(f"{live_server}/hq/submissions")
    page.get_by_label("Region").select_option(label=north.name)
    page.get_by_role("button", name="Filter", exact=True).click()
    box = page.get_by_label("Branch code")
    options = page.locator("datalist#branch-codes option")
    expect(options).to_have_count(2)  # the region's branches, not the network's
    assert [options.nth(i).get_attribute("value") for i in range(2)] == ["BR-001", "BR-002"]

    box.fill("br-002")
    page.get_by_role("button", name="Filter", exact=True).click()
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name=made["BR-002"].reference)).to_be_visible()
    expect(table.get_by_role("link", name=made["BR-001"].reference)).to_have_count(0)
    expect(table.get_by_role("link", name=south.reference)).to_have_count(0)

    page.get_by_label("Branch code").fill("BR-0O2")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.get_by_label("Branch code")).to_have_accessible_description(
        re.compile("No branch has the code \u201cBR-0O2\u201d"))
    expect(page.get_by_label("Branch code")).to_have_value("BR-0O2")
    expect(page.get_by_label("Region")).to_have_value(str(north.id))
    expect(page.get_by_role("alert")).to_have_text("Fix the filters marked above to see submissions.")
