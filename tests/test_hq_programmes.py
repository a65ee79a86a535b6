"""HQ side of real programmes (SPEC §3 "Keys for real programmes", §4): the editor's repeated
sections, bonuses, deductions, outcomes and visit keys; the review page; not-done links.

Every test uses a checklist made here (``PROGRAMME``), not the shipped ones.
"""

from __future__ import annotations

import io
import re
import uuid
from urllib.parse import urlsplit
from datetime import date, datetime, time, timedelta

import pytest
from pypdf import PdfReader
from reports import bounds
from reports import service as report_service
from reports.pdf import render_report
from survey.answers import Filled
from survey.catalogue import import_standards, publish
from survey.checklist import loader
from survey.extensions import db
from survey.models import Assignment, AssignmentState, Attachment, Branch, Checklist, Submission
from survey.submissions import create_assignments, get_or_create_wave, record_submission

from .conftest import log_in
from .test_hq_editor import changed, draft_of, field_block, form_on, text_of

SLUG = "programme-test"
BASE = f"/hq/checklists/{SLUG}"

STANDARDS = """\
standards:
  - key: greeting
    title: Greeting
  - key: speed
    title: Speed of response
  - key: problem_solving
    title: Problem solving
"""

PROGRAMME = """\
slug: programme-test
title: Programme test
channel: call
visit: {date: call_date, time: call_time}
outcomes:
  - {key: no_answer, label: No answer after three calls, score: 0, standards: [speed]}
  - {key: could_not_call, label: I could not call, score: none}
sections:
  - key: call
    title: The call
    weight: 2
    questions:
      - key: call_date
        text: Date of the call
        type: date
      - key: call_time
        text: Time of the call
        type: time
      - key: answered_quickly
        text: Was the call answered within three rings?
        type: yes_no
        standard: speed
      - key: thanked
        text: Did they thank you for calling?
        type: yes_no
        bonus: 5
      - key: eating
        text: Could you hear anyone eating?
        type: yes_no
        pass_on: no
        deduction: 10
  - key: staff
    title: Each employee you spoke to
    repeat: {min: 1, max: 3, label: "Employee {n}", add: Add another employee}
    questions:
      - key: polite
        text: Was the employee polite?
        type: yes_no
        standard: greeting
      - key: helpful
        text: How helpful was the employee?
        type: scale
        min: 1
        max: 5
        standard: problem_solving
"""

KNOWN = {"greeting": False, "speed": False, "problem_solving": False}


@pytest.fixture
def programme(app):
    """Publish the test standards and the programme checklist (version 1)."""
    import_standards(loader.load_standards_text(STANDARDS, "standards.yaml"))
    version, _ = publish(loader.load_checklist_text(PROGRAMME, "programme-test.yaml", KNOWN))
    db.session.commit()
    return version


@pytest.fixture
def staff(client, programme, make_user):
    make_user("hq@example.com", "hq")
    return log_in(client, "hq@example.com")


@pytest.fixture
def edit(staff):
    """Open a page, take its form as the browser filled it, change some fields and post it back."""

    def post(url: str, **values):
        html = staff.get(url).get_data(as_text=True)
        return staff.client.post(url, data=changed(form_on(html), **values))

    return post


def saved_section(key: str) -> dict:
    return next(s for s in draft_of(SLUG).content["sections"] if s["key"] == key)


def saved_question(key: str) -> dict:
    return next(q for s in draft_of(SLUG).content["sections"] for q in s["questions"] if q["key"] == key)


# ---------------------------------------------------------------- the editor: repeated sections


def test_the_section_page_shows_a_repeated_sections_limits(staff):
    page = text_of(staff.get(f"{BASE}/sections/staff"))
    assert 'id="repeat-on"' in page and "checked" in field_block(page, "repeat-on")
    assert 'value="3"' in field_block(page, "repeat-max")
    assert 'value="Employee {n}"' in field_block(page, "repeat-heading")
    assert 'value="Add another employee"' in field_block(page, "repeat-add")
    draft_page = text_of(staff.get(BASE))
    assert "Repeated: 1 to 3 times, each headed “Employee {n}”" in draft_page
    assert "The visit's date is the question <code>call_date</code>, its time <code>call_time</code>." in draft_page
    assert ("offers: No answer after three calls <span class=\"muted\">(counted, scores 0)</span>, I could not call "
            "<span class=\"muted\">(not counted)</span>.") in draft_page


def test_a_section_can_be_marked_repeated_with_its_limits(staff, edit):
    response = edit(f"{BASE}/sections/call", repeat__on="y", repeat__min="2", repeat__max="4",
                    repeat__heading="Call {n}", repeat__add="Add another call")
    # the call section holds the visit's date: a repeated one can't, and says so beside the date choice
    assert response.status_code == 422
    assert "is in a repeated section" in text_of(response)
    response = edit(f"{BASE}/sections/staff", repeat__min="2", repeat__max="6", repeat__heading="Person {n}",
                    repeat__add="Add a person")
    assert response.status_code == 302, text_of(response)
    assert saved_section("staff")["repeat"] == {"min": 2, "max": 6, "label": "Person {n}", "add": "Add a person"}


def test_unticking_repeated_makes_the_section_plain(staff, edit):
    data = form_on(staff.get(f"{BASE}/sections/staff").get_data(as_text=True))
    data.poplist("repeat-on")
    response = staff.client.post(f"{BASE}/sections/staff", data=data)
    assert response.status_code == 302
    assert "repeat" not in saved_section("staff")


@pytest.mark.parametrize("field,typed,message", [
    ("repeat__max", "", "Required key missing"),
    ("repeat__max", "lots", "Must be a whole number"),
    ("repeat__max", "60", "Must be 50 or less"),
    ("repeat__min", "0", "Must be 1 or more"),
    ("repeat__min", "5", "Repeat: min must not be above max"),
])
def test_a_bad_repeat_limit_is_refused_beside_its_field(staff, edit, field, typed, message):
    response = edit(f"{BASE}/sections/staff", title="Typed and kept", **{field: typed})
    assert response.status_code == 422
    page = text_of(response)
    block = field_block(page, field.replace("__", "-"))
    assert message.lower() in block.lower() and 'aria-invalid="true"' in block
    assert f'value="{typed}"' in block or not typed
    assert 'value="Typed and kept"' in field_block(page, "title")
    assert "Nothing in the draft was changed" in page
    assert draft_of(SLUG) is None


# ---------------------------------------------------------------- the editor: bonus and deduction


def test_the_draft_page_names_bonuses_and_deductions(staff):
    page = text_of(staff.get(BASE))
    assert "bonus: +5 points" in page and "deduction: −10 points" in page


def test_a_yes_no_question_can_carry_a_bonus_or_a_deduction(staff, edit):
    page = text_of(staff.get(f"{BASE}/questions/thanked"))
    assert 'value="5"' in field_block(page, "adjust_points")
    response = edit(f"{BASE}/questions/answered_quickly", adjust="deduction", adjust_points="12.5", standard="",
                    weight="")
    assert response.status_code == 302, text_of(response)
    saved = saved_question("answered_quickly")
    assert saved["deduction"] == 12.5 and "bonus" not in saved and "weight" not in saved
    response = edit(f"{BASE}/questions/thanked", adjust="", adjust_points="", standard="speed")
    assert response.status_code == 302, text_of(response)
    assert "bonus" not in saved_question("thanked") and saved_question("thanked")["standard"] == "speed"


@pytest.mark.parametrize("values,field,message", [
    ({"adjust_points": "0"}, "adjust_points", "Must be more than 0"),
    ({"adjust_points": "150"}, "adjust_points", "Must be 100 or less"),
    ({"adjust_points": "lots"}, "adjust_points", "Must be a number"),
    ({"weight": "2"}, "weight", "A bonus or deduction has no weight"),
    ({"critical": "zero"}, "critical", "A bonus or deduction can't be critical"),
])
def test_a_bad_bonus_is_refused_beside_its_field(staff, edit, values, field, message):
    response = edit(f"{BASE}/questions/thanked", text="Typed and kept", **values)
    assert response.status_code == 422
    page = text_of(response)
    block = field_block(page, field)
    assert message in block and 'aria-invalid="true"' in block, block
    assert "Typed and kept" in field_block(page, "text")
    assert draft_of(SLUG) is None


def test_a_bonus_sent_for_a_scale_question_is_not_stored(staff, edit):
    """The bonus fields belong to yes/no questions: a hand-made post for a scale one can't add a bonus."""
    response = edit(f"{BASE}/questions/helpful", adjust="bonus", adjust_points="5")
    assert response.status_code == 302
    assert "bonus" not in saved_question("helpful")


# ---------------------------------------------------------------- the editor: outcomes and visit keys


def test_settings_show_outcomes_and_the_visit_questions(staff):
    page = text_of(staff.get(f"{BASE}/settings"))
    assert 'value="no_answer"' in page and 'value="No answer after three calls"' in page
    assert 'value="speed"' in page and 'value="I could not call"' in page
    assert '<option selected value="call_date">' in field_block(page, "visit_date")
    assert '<option selected value="call_time">' in field_block(page, "visit_time")


def test_an_outcome_can_be_added_and_the_visit_date_dropped(staff, edit):
    response = edit(f"{BASE}/settings", **{"outcomes-2-key": "closed", "outcomes-2-label": "The branch was closed",
                                            "outcomes-2-score": "none", "visit_time": ""})
    assert response.status_code == 302, text_of(response)
    content = draft_of(SLUG).content
    assert content["outcomes"][2] == {"key": "closed", "label": "The branch was closed", "score": "none"}
    assert content["outcomes"][0] == {"key": "no_answer", "label": "No answer after three calls", "score": 0,
                                      "standards": ["speed"]}
    assert content["visit"] == {"date": "call_date"}


@pytest.mark.parametrize("values,field,message", [
    ({"outcomes-1-key": "no_answer"}, "outcomes-1-key", "Outcome key 'no_answer' is used twice"),
    ({"outcomes-1-standards": "speed"}, "outcomes-1-standards", "Standards go only with score: 0"),
    ({"outcomes-0-standards": "sped"}, "outcomes-0-standards", "sped"),
    ({"outcomes-0-label": ""}, "outcomes-0-label", ""),
    ({"visit_date": "call_time"}, "visit_date", "'call_time' is a time question"),
])
def test_a_bad_outcome_or_visit_key_is_refused_beside_its_field(staff, edit, values, field, message):
    response = edit(f"{BASE}/settings", title="Typed and kept", **values)
    assert response.status_code == 422
    page = text_of(response)
    assert 'value="Typed and kept"' in field_block(page, "title")
    at = page.index(f'id="{field}"')
    cell = page[page.rindex("<td", 0, at):page.index("</td>", at)] if field.startswith("outcomes") else \
        field_block(page, field)
    assert 'aria-invalid="true"' in cell and message in cell, cell
    assert draft_of(SLUG) is None


# ---------------------------------------------------------------- the editor: YAML out and back in


def test_export_of_every_new_key_imports_back_unchanged(staff, programme):
    exported = staff.get(f"{BASE}/export.yaml").get_data(as_text=True)
    for key in ("visit:", "outcomes:", "repeat:", "bonus: 5", "deduction: 10", "label: Employee {n}"):
        assert key in exported
    page = staff.get("/hq/checklists/import").get_data(as_text=True)
    response = staff.client.post("/hq/checklists/import", data=changed(form_on(page),
                                                                       text=exported, then="publish"))
    assert response.status_code == 302, text_of(response)
    db.session.expire_all()
    parsed = loader.load_checklist_text(exported, "x.yaml", KNOWN)
    assert loader.content_hash(parsed.canonical()) == programme.content_hash
    assert len(db.session.scalar(db.select(Checklist).filter_by(slug=SLUG)).versions) == 1  # nothing new published


def test_saving_every_page_unchanged_changes_nothing(staff, edit, programme):
    for url in (f"{BASE}/settings", f"{BASE}/sections/call", f"{BASE}/sections/staff",
                f"{BASE}/questions/thanked", f"{BASE}/questions/eating", f"{BASE}/questions/polite"):
        response = edit(url)
        assert response.status_code == 302, (url, text_of(response))
    assert loader.content_hash(loader.validate_content(draft_of(SLUG).content, KNOWN)[0].canonical()) == \
        programme.content_hash


def test_importing_a_bonus_on_a_scale_question_lists_its_line(staff):
    broken = PROGRAMME.replace("        max: 5\n", "        max: 5\n        bonus: 5\n")
    line = broken.splitlines().index("        max: 5") + 2  # the line after the scale's max
    page = staff.get("/hq/checklists/import").get_data(as_text=True)
    response = staff.client.post("/hq/checklists/import", data=changed(form_on(page),
                                                                       text=broken, then="publish"))
    assert response.status_code == 422
    assert f"pasted.yaml:{line} sections[1].questions[1].bonus: 'bonus' is not allowed on a scale question" in \
        re.sub(r"</?code>", "", text_of(response))


# ---------------------------------------------------------------- review: repetitions, bonus, deduction, outcome


@pytest.fixture
def make_branch_visit(programme, make_branch):
    """Store one visit of the programme checklist through ``record_submission``; return the submission."""

    def make(answers: dict | None = None, repeats: dict | None = None, outcome: str | None = None,
             comments: dict | None = None, photo: bool = False) -> Submission:
        branch = db.session.scalar(db.select(Branch).filter_by(code="BR-001")) or make_branch()
        checklist = programme.checklist
        (assignment, _), = create_assignments(checklist, branch, 1, due=date.today() + timedelta(days=7),
                                              not_before=date.today() - timedelta(days=7))
        assignment.version = programme
        attachments = {}
        if photo:
            attachments["outcome"] = Attachment(assignment_id=assignment.id, question_key="outcome",
                                                stored_name=f"{uuid.uuid4().hex}.jpg", original_name="door.jpg",
                                                content_type="image/jpeg", size=10)
            db.session.add(attachments["outcome"])
        filled = Filled(answers=answers or {}, visit_date=date.today(), visit_time=time(10, 0),
                        idempotency_key=uuid.uuid4().hex, comments=comments or {}, repeats=repeats or {},
                        outcome=outcome, attachments=attachments)
        return db.session.get(Submission, record_submission(assignment, programme, filled)[0])

    return make


#: A call with two employees met. By hand: the call section (weight 2) earns 1/1; employee 1 earns
#: (1 + 1) / 2 = 1, employee 2 (0 + 0.5) / 2 = 0.25, so the staff section is their mean 0.625; the
#: weighted mean is (2 × 1 + 0.625) / 3 = 87.5 %; the bonus adds 5 and the deduction (someone was
#: eating) takes 10 off: 82.5 %. Over both employees: polite (1 + 0) / 2 = 50 %, helpful (1 + 0.5) / 2 = 75 %.
TWO_EMPLOYEES = {
    "call_date": date.today(), "call_time": time(10, 0), "answered_quickly": "yes", "thanked": "yes",
    "eating": "yes", ("polite", 1): "yes", ("helpful", 1): 5, ("polite", 2): "no", ("helpful", 2): 3,
}


def test_the_submission_page_shows_each_repetition_and_each_question_over_all(staff, make_branch_visit):
    submission = make_branch_visit(TWO_EMPLOYEES, {"staff": 2})
    assert round(submission.score * 100, 6) == 82.5
    page = text_of(staff.get(f"/hq/submissions/{submission.id}"))
    assert '<h4 id="sec-staff-1">Employee 1 <span class="muted">100.0 %</span></h4>' in page
    assert '<h4 id="sec-staff-2">Employee 2 <span class="muted">25.0 %</span></h4>' in page
    assert "62.5 %, the mean of 2 repetitions" in page
    over_all = page[page.index("Each question over all 2 repetitions"):]
    over_all = over_all[:over_all.index("</table>")]
    assert re.search(r"Was the employee polite\?</td><td class=\"num\">2</td><td class=\"num\">50.0 %", over_all)
    assert re.search(r"How helpful was the employee\?</td><td class=\"num\">2</td><td class=\"num\">75.0 %", over_all)
    assert "3 (of 1–5)" in page and "5 (of 1–5)" in page


def test_the_submission_page_shows_each_bonus_and_deduction_applied(staff, make_branch_visit):
    submission = make_branch_visit(TWO_EMPLOYEES, {"staff": 2})
    page = text_of(staff.get(f"/hq/submissions/{submission.id}"))
    table = page[page.index("<caption>Bonuses and deductions</caption>"):]
    table = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table[:table.index("</table>")]))
    assert "Sections' weighted mean 87.5 %" in table
    assert "Did they thank you for calling? bonus Yes +5 points" in table
    assert "Could you hear anyone eating? deduction Yes −10 points" in table
    assert "Overall, held within 0 and 100 % 82.5 %" in table


def test_a_bonus_not_earned_is_shown_as_not_applied(staff, make_branch_visit):
    submission = make_branch_visit({**TWO_EMPLOYEES, "thanked": "no", "eating": "no"}, {"staff": 2})
    page = text_of(staff.get(f"/hq/submissions/{submission.id}"))
    assert "Bonuses and deductions" not in page  # nothing applied: 87.5 % as the sections say
    assert page.count("not applied") == 2 and "87.5 %" in page


def test_a_counted_outcome_is_shown_as_what_it_was(staff, make_branch_visit):
    submission = make_branch_visit(outcome="no_answer", comments={"outcome:": "Rang at 9, 11 and 3"}, photo=True)
    page = text_of(staff.get(f"/hq/submissions/{submission.id}"))
    assert "Ended without the form: No answer after three calls" in page
    assert "“Rang at 9, 11 and 3”" in page
    assert 'alt="Photo sent with “No answer after three calls”"' in page
    assert "<h2>Answers</h2>" not in page and "outcome:no_answer" not in page


# ---------------------------------------------------------------- links not done, and a new one in one step


@pytest.fixture
def not_done(programme, make_branch):
    """A link of wave "Spring" that the shopper ended as not done ("I could not call"), and an open one."""
    branch = make_branch("BR-007", name="Harbour")
    wave = get_or_create_wave("Spring")
    (link, _), (other, _) = create_assignments(programme.checklist, branch, 2, due=date.today() + timedelta(days=3),
                                               not_before=date.today() - timedelta(days=10), wave=wave)
    link.version, link.state, link.outcome = programme, AssignmentState.not_done, "could_not_call"
    link.outcome_comment, link.outcome_at = "My car broke down", datetime(2026, 11, 30, 9, 15)
    link.created_at = other.created_at = datetime(2026, 11, 20, 8, 0)  # issued together, before the shop
    db.session.commit()
    return link, other


def links_count() -> int:
    return db.session.scalar(db.select(db.func.count(Assignment.id)))


def test_hq_sees_links_not_done_with_the_reason_and_when(staff, not_done):
    link, _ = not_done
    waves = text_of(staff.get("/hq/waves"))
    assert '<a href="/hq/not-done">1 link not done</a>' in waves
    page = text_of(staff.get("/hq/not-done"))
    row = page[page.index(f'id="nd-{link.id}"'):]
    row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row[:row.index("</tr>")]))
    assert "BR-007 Harbour Programme test Spring I could not call “My car broke down” 2026-11-30 09:15 UTC" in row
    assert "Issue a new link" in row
    wave = text_of(staff.get(f"/hq/waves/{link.wave_id}?state=not_done"))
    assert "I could not call" in wave and "“My car broke down”" in wave and "Issue a new link" in wave
    assert "Not done <strong>1</strong>" in wave
    assert '<a href="/hq/waves" aria-current="page">Waves</a>' in page  # the menu says where this page lives
    details = text_of(staff.get(f"/hq/assignments/{link.id}"))
    assert "I could not call" in details and "Issue a new link" in details


def test_hq_sees_the_photo_sent_with_a_not_done_link_and_nothing_unsent(app, staff, not_done):
    from pathlib import Path

    from .conftest import tiny_photo

    link, other = not_done
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    photos = {}
    for name, owner, key in (("sent", link, "outcome"), ("draft", link, "receipt"), ("open", other, "outcome")):
        (folder / f"{name}.jpg").write_bytes(tiny_photo())
        photos[name] = Attachment(assignment_id=owner.id, question_key=key, stored_name=f"{name}.jpg",
                                  original_name=f"{name}.jpg", content_type="image/jpeg", size=100)
        db.session.add(photos[name])
    db.session.commit()
    page = text_of(staff.get("/hq/not-done"))
    row = page[page.index(f'id="nd-{link.id}"'):]
    row = row[:row.index("</tr>")]
    assert f'src="/hq/attachments/{photos["sent"].id}" alt="Photo sent with “I could not call”"' in row
    assert f"/hq/attachments/{photos['draft'].id}" not in page
    response = staff.get(f"/hq/attachments/{photos['sent'].id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    # A photo in a form never sent, or sent with an outcome on a link still open, is not HQ's to see.
    assert staff.get(f"/hq/attachments/{photos['draft'].id}").status_code == 404
    assert staff.get(f"/hq/attachments/{photos['open'].id}").status_code == 404


def test_a_new_link_is_issued_in_one_step_and_shown_once(staff, not_done, client):
    link, _ = not_done
    before = links_count()
    page = staff.get("/hq/not-done").get_data(as_text=True)
    response = staff.client.post(f"/hq/assignments/{link.id}/reissue",
                                 data=form_on(page, action=f"/hq/assignments/{link.id}/reissue"))
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    shown = text_of(response)
    url = re.search(r'<code id="new-link">([^<]+)</code>', shown).group(1)
    assert "This is the only time it is shown" in shown and "Instead of link" in shown
    assert links_count() == before + 1
    new = db.session.scalar(db.select(Assignment).order_by(Assignment.id.desc()).limit(1))
    assert (new.branch_id, new.checklist_id, new.wave_id, new.state) == (
        link.branch_id, link.checklist_id, link.wave_id, AssignmentState.open)
    assert new.not_before == date.today() and new.due == date.today() + timedelta(days=13)  # as long as the old
    assert client.get(urlsplit(url).path).status_code == 200  # the new link opens the shopper's form
    listed = text_of(staff.get("/hq/not-done"))
    assert f"New link issued: link {new.id}" in listed and "Issue a new link</button>" not in listed


def test_a_second_press_issues_nothing_more(staff, not_done):
    link, _ = not_done
    assert staff.post(f"/hq/assignments/{link.id}/reissue").status_code == 201
    before = links_count()
    again = staff.post(f"/hq/assignments/{link.id}/reissue")
    assert again.status_code == 302 and links_count() == before
    assert "was already issued" in text_of(staff.get(again.headers["Location"]))


def test_only_a_not_done_link_gets_a_new_one(staff, not_done):
    _, other = not_done
    before = links_count()
    response = staff.post(f"/hq/assignments/{other.id}/reissue")
    assert response.status_code == 302 and links_count() == before
    assert "was not ended as not done; no new link was issued" in text_of(staff.get(response.headers["Location"]))


def test_a_reissue_without_its_csrf_token_issues_nothing(staff, not_done):
    link, _ = not_done
    before = links_count()
    assert staff.client.post(f"/hq/assignments/{link.id}/reissue").status_code == 400
    assert links_count() == before


# ---------------------------------------------------------------- reports: outcomes, bonuses and deductions


@pytest.fixture
def reported(make_branch_visit):
    """Three calls at BR-001 today: two employees (bonus +5, deduction −10), nobody answered, and a
    flawless one with only the bonus (100 %: 100 + 5 held at 100)."""
    make_branch_visit(TWO_EMPLOYEES, {"staff": 2})
    make_branch_visit(outcome="no_answer", comments={"outcome:": "Rang at 9, 11 and 3"})
    make_branch_visit({**TWO_EMPLOYEES, "eating": "no", ("polite", 2): "yes", ("helpful", 2): 5}, {"staff": 2})
    db.session.commit()


def test_the_branch_report_names_an_outcome_and_lists_each_bonus_and_deduction(app, reported):
    data = report_service.branch_report("BR-001")
    assert [(v["score"], v["outcome"]) for v in data["visits"]] == [
        (pytest.approx(82.5), None), (0.0, "No answer after three calls"), (100.0, None)]
    outcome = next(v for v in data["visits"] if v["outcome"])
    assert {"date": date.today().isoformat(), "question": "No answer after three calls",
            "text": "Rang at 9, 11 and 3", "reference": outcome["reference"]}.items() <= next(
        c for c in data["comments"] if c["text"] == "Rang at 9, 11 and 3").items()
    applied = [(a["question"], a["kind"], a["points"]) for a in data["method"]["adjustments"]]
    assert applied == [("Did they thank you for calling?", "bonus", 5.0),
                       ("Could you hear anyone eating?", "deduction", -10.0),
                       ("Did they thank you for calling?", "bonus", 5.0)]


def test_the_branch_pdf_says_what_an_outcome_was_and_shows_how_bonuses_moved_scores(app, reported):
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        render_report(report_service.branch_report("BR-001")))).pages))
    assert re.search(r"Programme test 1 0\.0 % No answer after three calls", text), text
    # Under the outcome, as under a question: the checklist, the day and the visit, then the words.
    assert re.search(r"No answer after three calls Programme test \d+ \w+ \d{4} · visit [0-9A-Z]{3}-[0-9A-Z]{3} "
                     r"Rang at 9, 11 and 3", text), text
    assert "Bonuses and deductions applied" in text
    assert re.search(r"Did they thank you for calling\? Bonus \+5 .*Could you hear anyone eating\? Deduction −10", text)


def test_a_long_list_of_bonuses_is_cut_for_print_and_says_how_many():
    rows = [{"date": f"2026-01-{d:02d}", "reference": str(d), "question": "Q", "kind": "bonus", "points": 5}
            for d in range(1, 29)] * 2
    cut = bounds.for_print({"kind": "branch", "method": {"adjustments": rows}})["method"]
    assert len(cut["adjustments"]) == 50 and cut["adjustments_total"] == 56


def test_importing_a_show_if_into_a_repetition_from_outside_lists_its_line(staff):
    broken = PROGRAMME + """\
  - key: after
    title: After the call
    questions:
      - key: called_back
        text: Did they call you back?
        type: yes_no
        standard: speed
        show_if: {question: polite, equals: yes}
"""
    line = len(broken.splitlines())
    page = staff.get("/hq/checklists/import").get_data(as_text=True)
    response = staff.client.post("/hq/checklists/import", data=changed(form_on(page), text=broken, then="draft"))
    assert response.status_code == 422
    said = re.sub(r"</?code>", "", text_of(response))
    assert f"pasted.yaml:{line} sections[2].questions[0].show_if.question: 'polite' is inside the repeated " \
           "section 'staff'" in said
    assert draft_of(SLUG) is None
