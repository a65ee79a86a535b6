"""Every shopper page passes axe-core (WCAG 2.2 A and AA, and axe's best practices) at phone size,
in light and dark mode. axe-core comes from npm (package.json): ``npm ci`` installs it."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import AssignmentState

from .test_shopper_phone import FLAWLESS, fill_visit, send, tap_answers, type_answers

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_script() -> str:
    if not AXE.exists():
        message = f"axe-core is not installed ({AXE}); run `npm ci` in the project folder"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return str(AXE)


@pytest.fixture(params=["light", "dark"])
def scheme(request) -> str:
    return request.param


def violations(page: Page, axe_script: str) -> list[str]:
    """Run axe-core on the page; return one line per violation and element."""
    # Evaluated, not added as a <script>: the page's CSP refuses inline script, as it should.
    page.evaluate(Path(axe_script).read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {node['target']} {node.get('failureSummary', '')}"
            for v in result["violations"] for node in v["nodes"]]


def check(page: Page, axe_script: str) -> None:
    found = violations(page, axe_script)
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)


@pytest.fixture
def shopper(phone, scheme):
    phone.emulate_media(color_scheme=scheme, reduced_motion="reduce")
    return phone


@pytest.fixture
def link(make_assignment):
    return make_assignment("store-visit")


def test_the_form(shopper, live_server, link, axe_script):
    _, token = link
    shopper.goto(f"{live_server}/s/{token}")
    tap_answers(shopper, "Does your briefing ask you to raise a complaint?", ["Yes"])  # shows more
    tap_answers(shopper, "Were the entrance and floor clean?", ["No"])  # shows "What went wrong?"
    check(shopper, axe_script)


def test_the_form_with_errors(shopper, live_server, link, axe_script):
    _, token = link
    shopper.goto(f"{live_server}/s/{token}")
    tap_answers(shopper, "How warm was the greeting?", ["4"])
    send(shopper)  # caught on the phone: the summary and each message, the first problem focused
    summary = shopper.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(shopper.locator("#visit_date")).to_be_focused()
    check(shopper, axe_script)


def test_the_form_with_repetitions_and_the_outcome_panel_open(shopper, live_server, make_assignment, axe_script):
    _, token = make_assignment("store-visit")
    shopper.goto(f"{live_server}/s/{token}")
    shopper.get_by_role("button", name="Add another employee").tap()
    expect(shopper.get_by_role("heading", name="Employee 2")).to_be_visible()
    check(shopper, axe_script)
    _, call = make_assignment("phone-call")
    shopper.goto(f"{live_server}/s/{call}")
    shopper.get_by_text("Could not complete this shop?").tap()
    expect(shopper.get_by_role("group", name="What happened?")).to_be_visible()
    check(shopper, axe_script)


def test_the_form_with_its_answers_waiting_on_the_phone(shopper, live_server, link, axe_script):
    _, token = link
    shopper.goto(f"{live_server}/s/{token}")
    fill_visit(shopper)
    type_answers(shopper)
    for text, labels in FLAWLESS:
        tap_answers(shopper, text, labels)
    shopper.context.set_offline(True)
    send(shopper)
    expect(shopper.get_by_role("status")).to_contain_text("Saved on this phone")
    check(shopper, axe_script)
    shopper.context.set_offline(False)


def test_the_confirmation_and_already_received(shopper, live_server, link, axe_script):
    _, token = link
    shopper.goto(f"{live_server}/s/{token}")
    fill_visit(shopper)
    type_answers(shopper)
    for text, labels in FLAWLESS:
        tap_answers(shopper, text, labels)
    send(shopper)
    expect(shopper.get_by_role("heading", name="Thank you – your answers arrived")).to_be_visible()
    check(shopper, axe_script)
    shopper.goto(f"{live_server}/s/{token}")
    expect(shopper.get_by_role("heading", name="Already received")).to_be_visible()
    check(shopper, axe_script)


@pytest.mark.parametrize("state, heading", [
    ("expired", "This link has expired"),
    ("cancelled", "This visit was cancelled"),
    ("not_open", "Not open yet"),
    ("not_done", "Thank you for telling us"),
])
def test_the_closed_pages(shopper, live_server, link, axe_script, state, heading):
    assignment, token = link
    if state == "expired":
        assignment.due = date.today() - timedelta(days=1)
    elif state == "cancelled":
        assignment.state = AssignmentState.cancelled
    elif state == "not_done":
        assignment.state, assignment.outcome = AssignmentState.not_done, "could_not_go"
    else:
        assignment.not_before = date.today() + timedelta(days=3)
    db.session.commit()
    shopper.goto(f"{live_server}/s/{token}")
    expect(shopper.get_by_role("heading", name=heading)).to_be_visible()
    check(shopper, axe_script)


def test_not_found(shopper, live_server, axe_script):
    response = shopper.goto(f"{live_server}/s/{'A' * 32}")
    assert response.status == 404
    check(shopper, axe_script)


def test_the_form_as_without_javascript(shopper, live_server, link, axe_script):
    # axe itself needs script, so the page's own script is what is left out: the page is then
    # exactly what a browser without JavaScript shows (every conditional question, its hint).
    _, token = link
    shopper.route("**/static/form.js", lambda route: route.fulfill(body="", content_type="text/javascript"))
    shopper.goto(f"{live_server}/s/{token}")
    expect(shopper.get_by_text("Only if you answered Yes").first).to_be_visible()
    assert shopper.locator("form.js").count() == 0
    check(shopper, axe_script)


def test_axe_does_find_a_planted_problem(phone, live_server, link, axe_script):
    # Guards the guard: a page with a known fault must fail, so zero above means zero.
    _, token = link
    phone.goto(f"{live_server}/s/{token}")
    phone.evaluate("""() => {
        document.querySelector('h1').style.color = '#ddd';
        document.querySelector('input[type=radio]').closest('label').lastChild.textContent = '';
    }""")
    found = "\n".join(violations(phone, axe_script))
    assert "color-contrast" in found and "label" in found
