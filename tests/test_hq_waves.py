"""Waves of shopper links in the HQ console: issuing them (links shown once), their states, cancel, extend."""

from __future__ import annotations

import base64
import csv
import html as htmllib
import io
import re
from datetime import date, timedelta

import pytest
from survey.extensions import db
from survey.models import Assignment, AssignmentState, Wave, hash_token
from survey.caches import checklist_of

from .conftest import good_answers, hidden_fields

TODAY = date.today()


@pytest.fixture
def network(published, make_branch):
    """Two regions: NORTH with BR-001, BR-002; SOUTH with BR-005, BR-006 (BR-006 inactive)."""
    made = {code: make_branch(code, region) for code, region in
            (("BR-001", "NORTH"), ("BR-002", "NORTH"), ("BR-005", "SOUTH"), ("BR-006", "SOUTH"))}
    made["BR-006"].active = False
    db.session.commit()
    return made


def text_of(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def main_of(response) -> str:
    html = text_of(response)
    return html[html.index("<main"):]


def field_block(html: str, name: str) -> str:
    start = html.rfind('<div class="field', 0, html.index(f'name="{name}"', html.index("<main")))
    return html[start:html.index("</div>", start)]


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def wave_data(published, network, **changes) -> dict:
    data = {"name": "2026 Q4", "checklist_id": str(published["store-visit"].id), "visits": "2",
            "branch_ids": [str(network["BR-001"].id)], "region_ids": [str(network["BR-005"].region_id)],
            "not_before": TODAY.isoformat(), "due": (TODAY + timedelta(days=30)).isoformat()}
    data.update(changes)
    return data


def links_of(response) -> list[dict[str, str]]:
    """Read the CSV offered for download on the page that follows a wave's creation."""
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="([^"]+)"',
                     response.get_data(as_text=True))
    assert href, "no download link"
    return list(csv.DictReader(io.StringIO(base64.b64decode(href.group(1)).decode())))


# ---------------------------------------------------------------- creating a wave


def test_a_new_wave_gives_each_picked_branch_its_visits_and_offers_the_links_once(hq, client, published, network):
    response = hq.post("/hq/waves/new", wave_data(published, network))

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    html = text_of(response)
    assert "Wave \u201c2026 Q4\u201d created" in html
    assert "4 links for 2 branches" in html  # BR-001 picked, BR-005 through SOUTH; BR-006 is inactive
    assert 'download="links-2026-q4.csv"' in html
    links = links_of(response)
    assert list(links[0]) == ["branch_code", "branch_name", "due", "url"]
    assert sorted(row["branch_code"] for row in links) == ["BR-001", "BR-001", "BR-005", "BR-005"]
    assert {row["due"] for row in links} == {(TODAY + timedelta(days=30)).isoformat()}
    assert all(row["url"].startswith("http://shop.test/s/") for row in links)
    wave = db.session.scalar(db.select(Wave).filter_by(name="2026 Q4"))
    stored = db.session.scalars(db.select(Assignment).filter_by(wave_id=wave.id)).all()
    assert len(stored) == 4
    assert {a.token_hash for a in stored} == {hash_token(row["url"].rsplit("/", 1)[1]) for row in links}
    assert all((a.not_before, a.state) == (TODAY, AssignmentState.open) for a in stored)
    assert client.get(links[0]["url"].removeprefix("http://shop.test")).status_code == 200


def test_a_branch_picked_both_alone_and_through_its_region_gets_its_visits_once(hq, published, network):
    data = wave_data(published, network, branch_ids=[str(network["BR-005"].id)], visits="1")

    response = hq.post("/hq/waves/new", data)

    assert [row["branch_code"] for row in links_of(response)] == ["BR-005"]


def test_the_links_are_never_shown_again(hq, published, network):
    links = links_of(hq.post("/hq/waves/new", wave_data(published, network)))
    wave = db.session.scalar(db.select(Wave))

    for page in ("/hq/waves", f"/hq/waves/{wave.id}", "/hq/"):
        html = text_of(hq.get(page))
        assert not any(row["url"].rsplit("/", 1)[1] in html for row in links)


def test_each_row_of_the_links_file_can_be_found_on_the_wave_page(hq, published, network):
    """Two links to one branch: the start of each address tells HQ which one to cancel."""
    links = links_of(hq.post("/hq/waves/new", wave_data(published, network)))
    wave = db.session.scalar(db.select(Wave))
    html = text_of(hq.get(f"/hq/waves/{wave.id}"))

    for row in links:
        token = row["url"].rsplit("/", 1)[1]
        assert f"<code>/s/{token[:4]}…</code>" in html
        assignment = db.session.scalar(db.select(Assignment).filter_by(token_hash=hash_token(token)))
        detail = text_of(hq.get(f"/hq/assignments/{assignment.id}"))
        assert f"/s/{token[:4]}…</code>" in detail and token not in detail


@pytest.mark.parametrize("changes, field, message", [
    ({"branch_ids": [], "region_ids": []}, "branch_ids", "Pick at least one branch, or a whole region."),
    ({"due": (TODAY - timedelta(days=1)).isoformat(), "not_before": TODAY.isoformat()}, "due",
     f"The window ends before it starts: choose a day on or after {TODAY.isoformat()}."),
    ({"not_before": (TODAY - timedelta(days=10)).isoformat(), "due": (TODAY - timedelta(days=2)).isoformat()}, "due",
     "That day has passed; the links would be expired already."),
    ({"due": "31/12/2026"}, "due", "Enter a date, for example 2026-12-31."),
    ({"not_before": ""}, "not_before", "Enter the first day of the window."),
    ({"name": ""}, "name", "Give the wave a name."),
    ({"checklist_id": ""}, "checklist_id", "Choose a checklist."),
    ({"checklist_id": "987654"}, "checklist_id", "Choose one of the published checklists."),
    ({"visits": "0"}, "visits", "Enter a number from 1 to 50."),
    ({"visits": "many"}, "visits", "Not a valid integer value."),
])
def test_a_bad_wave_is_refused_beside_the_field_keeps_what_was_typed_and_creates_nothing(
        hq, published, network, changes, field, message):
    data = wave_data(published, network, **changes)

    response = hq.post("/hq/waves/new", data)

    html = text_of(response)
    assert response.status_code == 422
    assert "Nothing was created." in html
    if field == "branch_ids":
        picks = html[html.index('<fieldset class="field picks'):]
        assert message in picks[:picks.index("</p>", picks.index('id="e-branch_ids"')) + 4]
    else:
        assert message in field_block(html, field)
    if field != "name":
        assert 'value="2026 Q4"' in field_block(html, "name")
    if field != "branch_ids":
        assert re.search(rf'name="branch_ids" value="{network["BR-001"].id}" checked', html)
    assert count(Wave) == 0 and count(Assignment) == 0


def test_a_wave_name_is_used_once(hq, published, network):
    hq.post("/hq/waves/new", wave_data(published, network))

    response = hq.post("/hq/waves/new", wave_data(published, network, visits="1"))

    assert response.status_code == 422
    message = "A wave called \u201c2026 Q4\u201d already exists. Choose another name."
    assert message in field_block(text_of(response), "name")
    assert count(Assignment) == 4


def test_an_inactive_branch_can_not_be_smuggled_into_a_wave(hq, published, network):
    response = hq.post("/hq/waves/new", wave_data(published, network, branch_ids=[str(network["BR-006"].id)]))

    assert response.status_code == 422
    assert "Pick branches from the list (inactive ones can't get links)." in text_of(response)
    assert count(Assignment) == 0


# ---------------------------------------------------------------- a wave's page


@pytest.fixture
def wave_of_every_state(client, published, network, make_assignment):
    """One link in each state: open, started, submitted, expired, cancelled."""
    branch = network["BR-001"]
    made = {state: make_assignment(branch=branch, wave="Mixed")
            for state in ("open", "started", "submitted", "cancelled")}
    made["expired"] = make_assignment(branch=branch, wave="Mixed", not_before=TODAY - timedelta(days=20),
                                      due=TODAY - timedelta(days=1))
    client.get(f"/s/{made['started'][1]}")
    token = made["submitted"][1]
    data = {**hidden_fields(client.get(f"/s/{token}").get_data(as_text=True)),
            **good_answers(checklist_of(published["store-visit"].latest))}
    assert client.post(f"/s/{token}", data=data).status_code == 303
    made["cancelled"][0].state = AssignmentState.cancelled
    db.session.commit()
    return {state: assignment.id for state, (assignment, _) in made.items()}


def test_a_wave_page_shows_each_links_state_and_the_counts(hq, wave_of_every_state):
    wave = db.session.scalar(db.select(Wave).filter_by(name="Mixed"))

    html = main_of(hq.get(f"/hq/waves/{wave.id}"))

    counts = html[html.index('<ul class="counts"'):html.index("</ul>", html.index('<ul class="counts"'))]
    for label in ("All <strong>5</strong>", "Open <strong>1</strong>", "Started <strong>1</strong>",
                  "Submitted <strong>1</strong>", "Expired <strong>1</strong>", "Cancelled <strong>1</strong>"):
        assert label in counts
    for state, assignment_id in wave_of_every_state.items():
        row = html[html.index(f'id="a-{assignment_id}"'):html.index("</tr>", html.index(f'id="a-{assignment_id}"'))]
        assert f'<span class="pill st-{state}">{state.capitalize()}</span>' in row
        assert ("Cancel link" in row) == (state in ("open", "started", "expired"))
    assert "/hq/submissions/" in html  # the submitted link leads to its submission


def test_a_wave_page_filters_by_state_and_the_list_sums_up(hq, wave_of_every_state):
    wave = db.session.scalar(db.select(Wave).filter_by(name="Mixed"))

    expired = main_of(hq.get(f"/hq/waves/{wave.id}?state=expired"))
    listing = main_of(hq.get("/hq/waves"))

    assert expired.count('<tr id="a-') == 1 and f'id="a-{wave_of_every_state["expired"]}"' in expired
    row = listing[listing.index(">Mixed</a>"):listing.index("</tr>", listing.index(">Mixed</a>"))]
    # All, then one column per state: open, started, submitted, expired, cancelled, not done, returned.
    assert re.findall(r'<td class="num">(\d*)</td>', row) == ["5", "1", "1", "1", "1", "1", "", ""]


# ---------------------------------------------------------------- cancel and extend


def state_of(assignment_id: int) -> tuple[AssignmentState, date]:
    db.session.expire_all()
    assignment = db.session.get(Assignment, assignment_id)
    return assignment.state, assignment.due


def test_cancelling_a_link_closes_the_form_for_the_shopper(hq, client, published, network, make_assignment):
    assignment, token = make_assignment(branch=network["BR-001"], wave="W")

    response = hq.post(f"/hq/assignments/{assignment.id}/cancel", {"from": "wave"})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/hq/waves/{assignment.wave_id}#a-{assignment.id}"
    assert state_of(assignment.id)[0] == AssignmentState.cancelled
    assert client.get(f"/s/{token}").status_code == 410


def test_a_used_link_can_not_be_cancelled(hq, wave_of_every_state):
    submitted = wave_of_every_state["submitted"]

    response = hq.post(f"/hq/assignments/{submitted}/cancel")

    assert state_of(submitted)[0] == AssignmentState.submitted
    assert "was already used; nothing was cancelled" in text_of(hq.get(response.headers["Location"]))


def test_extending_an_expired_link_opens_it_again(hq, client, wave_of_every_state):
    expired = wave_of_every_state["expired"]
    new_due = TODAY + timedelta(days=7)

    response = hq.post(f"/hq/assignments/{expired}/extend", {"due": new_due.isoformat()})

    assert response.status_code == 302
    assert state_of(expired) == (AssignmentState.open, new_due)
    page = main_of(hq.get(f"/hq/assignments/{expired}"))
    assert '<span class="pill st-open">Open</span>' in page


@pytest.mark.parametrize("which, typed, message", [
    ("open", (TODAY - timedelta(days=30)).isoformat(), "The window would end before it starts"),
    ("expired", (TODAY - timedelta(days=1)).isoformat(), "That day has passed; choose today or a later day."),
    ("open", "next week", "Enter a date, for example 2026-12-31."),
    ("open", "", "Enter the new last day."),
    ("cancelled", (TODAY + timedelta(days=9)).isoformat(), "This link is cancelled; it can't be extended."),
    ("submitted", (TODAY + timedelta(days=9)).isoformat(), "This link is submitted; it can't be extended."),
])
def test_a_bad_extension_is_refused_beside_the_field_and_changes_nothing(hq, wave_of_every_state, which, typed,
                                                                        message):
    assignment_id = wave_of_every_state[which]
    before = state_of(assignment_id)

    response = hq.post(f"/hq/assignments/{assignment_id}/extend", {"due": typed, "from": "wave"})

    html = text_of(response)
    assert response.status_code == 422
    assert message in field_block(html, "due")
    assert f'value="{typed}"' in field_block(html, "due")
    assert state_of(assignment_id) == before


# ---------------------------------------------------------------- asking before cancelling; extending only forwards


def confirm_of(html: str, action: str) -> str:
    """Return the question a POST button asks (data-confirm) before it posts to ``action``."""
    form = html[html.index(f'action="{action}"'):]
    button = form[:form.index("</button>")]
    match = re.search(r'data-confirm="([^"]*)"', button)
    assert match, f"the button posting to {action} asks nothing first"
    return match.group(1)


def test_cancelling_a_link_asks_first_and_says_what_happens(hq, wave_of_every_state):
    wave = db.session.scalar(db.select(Wave).filter_by(name="Mixed"))
    started = wave_of_every_state["started"]

    for page in (f"/hq/waves/{wave.id}", f"/hq/assignments/{started}"):
        html = main_of(hq.get(page))
        question = confirm_of(html, f"/hq/assignments/{started}/cancel")
        assert question.startswith("Cancel the link for BR-001 ")
        assert "The shopper will be told the visit was cancelled" in question
        assert "answers they started" in question  # this one was opened already
        assert question.endswith("This can't be undone.")
        # the question is asked by the console's script (without JavaScript the button just posts)
        assert '<script src="/static/editor.js" defer></script>' in text_of(hq.get(page))
    open_question = confirm_of(main_of(hq.get(f"/hq/waves/{wave.id}")),
                               f"/hq/assignments/{wave_of_every_state['open']}/cancel")
    assert "answers they started" not in open_question


@pytest.mark.parametrize("days, message", [
    (0, "That is already the due date"),
    (-3, "That is before the current due date"),
])
def test_extending_never_shortens_a_link(hq, published, network, make_assignment, days, message):
    assignment, _ = make_assignment(branch=network["BR-001"], wave="W", due=TODAY + timedelta(days=20))
    typed = (TODAY + timedelta(days=20 + days)).isoformat()

    response = hq.post(f"/hq/assignments/{assignment.id}/extend", {"due": typed, "from": "wave"})

    assert response.status_code == 422
    html = text_of(response)
    block = field_block(html, "due")
    assert message in block and f"({(TODAY + timedelta(days=20)).isoformat()})" in block
    assert f'value="{typed}"' in block and 'aria-invalid="true"' in block
    assert "now runs until" not in html
    assert state_of(assignment.id) == (AssignmentState.open, TODAY + timedelta(days=20))


def test_extending_to_a_day_already_past_is_refused_even_after_an_expired_due_date(hq, wave_of_every_state):
    expired = wave_of_every_state["expired"]  # due yesterday
    before = state_of(expired)

    response = hq.post(f"/hq/assignments/{expired}/extend", {"due": (TODAY - timedelta(days=1)).isoformat()})

    assert response.status_code == 422
    assert "That day has passed" in field_block(text_of(response), "due")
    assert state_of(expired) == before


def test_the_date_boxes_offer_only_later_days(hq, published, network, make_assignment):
    assignment, _ = make_assignment(branch=network["BR-001"], wave="W", due=TODAY + timedelta(days=20))
    first_day = (TODAY + timedelta(days=21)).isoformat()

    assert f'min="{first_day}"' in field_block(main_of(hq.get(f"/hq/assignments/{assignment.id}")), "due")
    wave_page = main_of(hq.get(f"/hq/waves/{assignment.wave_id}"))
    assert re.search(rf'id="due-{assignment.id}"[^>]*min="{first_day}"', wave_page)
    response = hq.post(f"/hq/assignments/{assignment.id}/extend", {"due": first_day, "from": "wave"})
    assert response.status_code == 302
    assert state_of(assignment.id)[1] == TODAY + timedelta(days=21)


def test_a_branch_name_that_looks_like_a_formula_is_defused_in_the_links_file(hq, published, network):
    """Branch names can come from a CSV import; a spreadsheet must show them, not run them."""
    network["BR-001"].name = '=HYPERLINK("http://evil.test","Open")'
    db.session.commit()
    links = links_of(hq.post("/hq/waves/new", wave_data(published, network)))
    names = {row["branch_code"]: row["branch_name"] for row in links}
    assert names["BR-001"] == '\'=HYPERLINK("http://evil.test","Open")'
    assert not names["BR-005"].startswith("'")
