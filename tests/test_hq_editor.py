"""The HQ checklist editor over HTTP (SPEC §1, HQ): pages, access, drafts, publishing, preview, YAML, bad input.

Most tests edit a small checklist of their own (``editor-test`` below), so they
don't break when the shipped checklists are adjusted; the ones about shoppers'
submissions use the shipped store visit and read its keys from the database.
"""

from __future__ import annotations

import copy
import html as htmllib
import io
import re
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session
from survey.catalogue import import_standards, publish
from survey.checklist import loader
from survey.extensions import db
from survey.hq import drafts
from survey.models import Assignment, Checklist, ChecklistDraft, ChecklistVersion, Submission
from survey.caches import checklist_of
from werkzeug.datastructures import MultiDict

from .conftest import CHECKLISTS, good_answers, hidden_fields, PASSWORD, post_multipart

SLUG = "editor-test"
BASE = f"/hq/checklists/{SLUG}"

SMALL = """\
slug: editor-test
title: Editor test
channel: visit
sections:
  - key: first
    title: First impressions
    weight: 2
    questions:
      - key: greeted
        text: Were you greeted?
        type: yes_no
        standard: greeting
        weight: 2
      - key: warmth
        text: How warm was the greeting?
        type: scale
        min: 1
        max: 5
        labels: {1: Cold, 5: Warm}
        standard: greeting
      - key: screener
        text: Did you raise a complaint?
        type: yes_no
        scored: false
  - key: second
    title: Advice
    questions:
      - key: outcome
        text: How was the complaint handled?
        type: choice
        standard: problem_solving
        allow_na: true
        comment: on_fail
        critical: zero
        show_if: {question: screener, equals: yes}
        options:
          - {key: solved, label: Solved on the spot, score: 1}
          - {key: ignored, label: Ignored, score: 0}
      - key: wait
        text: Seconds you waited
        type: number
        unit: seconds
        min: 0
        standard: speed
        bands:
          - {max: 30, score: 1}
          - {score: 0}
      - key: notes
        text: Anything else?
        type: text
"""


# ---------------------------------------------------------------- reading pages like a browser


def text_of(response) -> str:
    """Return a page's HTML with entities decoded, as a person would read the words."""
    return htmllib.unescape(response.get_data(as_text=True))


class _FormReader(HTMLParser):
    """Collect each form's action and the name/value pairs a browser would send (no button pressed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.form: dict | None = None
        self.select: dict | None = None
        self.textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = {"action": a.get("action"), "id": a.get("id"), "fields": [], "buttons": []}
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "button" and a.get("formaction"):
            self.form["buttons"].append(a["formaction"])  # a second button posting elsewhere (delete)
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset") or "name" not in a or "disabled" in a:
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.form["fields"].append((a["name"], a.get("value") or ("on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select":
            self.select = {"name": a.get("name"), "value": None, "first": None}
        elif tag == "option" and self.select is not None:
            if self.select["first"] is None:
                self.select["first"] = a.get("value")
            if "selected" in a:
                self.select["value"] = a.get("value")
        elif tag == "textarea":
            self.textarea = [a.get("name"), ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select" and self.select is not None and self.form is not None:
            value = self.select["value"] if self.select["value"] is not None else self.select["first"]
            self.form["fields"].append((self.select["name"], value or ""))
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            name, value = self.textarea
            self.form["fields"].append((name, value[2:] if value.startswith("\r\n") else value.removeprefix("\n")))
            self.textarea = None


def form_on(html: str, action: str | None = None, form_id: str | None = None) -> MultiDict:
    """Return the data of the form with that action (or id; else the page's main form) as a browser sends it."""
    reader = _FormReader()
    reader.feed(html)
    for form in reader.forms:
        if (action and action in [form["action"]] + form["buttons"]) or (form_id and form["id"] == form_id) or (
                not action and not form_id and form["action"] is None):
            return MultiDict(form["fields"])
    raise AssertionError(f"no form {action or form_id} on the page")


def changed(data: MultiDict, **values) -> MultiDict:
    """Return form data with some fields changed (``show_if__question`` means ``show_if-question``)."""
    out = MultiDict(data)
    for name, value in values.items():
        out.setlist(name.replace("__", "-"), [value] if not isinstance(value, list) else value)
    return out


def field_block(html: str, field_id: str) -> str:
    """Return the markup of one labelled field: its label, hint, messages and control."""
    at = html.index(f'id="{field_id}"')
    start = html.rindex('<div class="field', 0, at)
    return html[start:html.index("</div>", at)]


def draft_of(slug: str = SLUG) -> ChecklistDraft | None:
    db.session.expire_all()
    return db.session.scalar(db.select(ChecklistDraft).filter_by(slug=slug))


def versions_of(slug: str = SLUG) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(
        db.select(ChecklistVersion.number).join(Checklist).where(Checklist.slug == slug)
        .order_by(ChecklistVersion.number)))


def question(content: dict, key: str) -> dict:
    return next(q for s in content["sections"] for q in s["questions"] if q["key"] == key)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def login(client):
    """Log a user in through the login form, as a browser would."""

    def log_in(email: str) -> None:
        page = client.get("/login")
        token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
        response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)

    return log_in


@pytest.fixture
def standards(app):
    """Import the shipped standards catalogue (the shipped checklists only where a test asks for them)."""
    import_standards(loader.load_standards_text((CHECKLISTS / "standards.yaml").read_text(), "standards.yaml"))
    db.session.commit()


@pytest.fixture
def small(standards):
    """Publish the small test checklist (version 1)."""
    version, _ = publish(loader.load_checklist_text(SMALL, "editor-test.yaml", {
        "greeting": False, "problem_solving": False, "speed": False}))
    db.session.commit()
    return version


@pytest.fixture
def hq(client, small, make_user, login):
    """A client logged in as HQ, with the small checklist published."""
    make_user("hq@example.com", "hq")
    login("hq@example.com")
    return client


@pytest.fixture
def edit(hq):
    """Open a page, take its form as the browser filled it, change some fields and post it back."""

    def post(url: str, action: str | None = None, form_id: str | None = None, page: str | None = None, **values):
        html = hq.get(page or url).get_data(as_text=True)
        data = changed(form_on(html, action=action, form_id=form_id), **values)
        return hq.post(url, data=data)

    return post


@pytest.fixture
def button(hq):
    """Press a button on the draft page: post its form (CSRF token and revision included)."""

    def press(action: str, **values):
        html = hq.get(BASE).get_data(as_text=True)
        return hq.post(action, data=changed(form_on(html, action=action), **values))

    return press


@pytest.fixture
def submitted(client, make_assignment, open_form):
    """A store-visit submission on version 1; returns it."""
    assignment, token = make_assignment("store-visit")
    _, hidden = open_form(token)
    checklist = checklist_of(assignment.version)
    response = client.post(f"/s/{token}", data={**hidden, **good_answers(checklist)})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id))


# ---------------------------------------------------------------- access


PAGES = [
    "/hq/checklists",
    "/hq/checklists/new",
    "/hq/checklists/import",
    BASE,
    f"{BASE}/settings",
    f"{BASE}/add-section",
    f"{BASE}/sections/first",
    f"{BASE}/sections/first/add-question",
    f"{BASE}/questions/greeted",
    f"{BASE}/preview",
    f"{BASE}/export.yaml",
    f"{BASE}/versions/1",
]
POSTS = [
    "/hq/checklists/new",
    "/hq/checklists/import",
    f"{BASE}/settings",
    f"{BASE}/add-section",
    f"{BASE}/sections/first",
    f"{BASE}/sections/first/move",
    f"{BASE}/sections/first/delete",
    f"{BASE}/sections/first/add-question",
    f"{BASE}/questions/greeted",
    f"{BASE}/questions/greeted/move",
    f"{BASE}/questions/greeted/delete",
    f"{BASE}/publish",
    f"{BASE}/discard",
]
ROUTES = [("GET", url) for url in PAGES] + [("POST", url) for url in POSTS]


@pytest.mark.parametrize("url", PAGES)
def test_every_editor_page_opens_for_hq(hq, url):
    response = hq.get(url)
    assert response.status_code == 200
    if url.endswith(".yaml"):
        assert response.mimetype == "application/yaml"
    else:
        assert "<h1>" in response.get_data(as_text=True)


def _token(client) -> str:
    return hidden_fields(client.get("/login").get_data(as_text=True))["csrf_token"]


@pytest.mark.parametrize("method,url", ROUTES)
def test_managers_get_404_on_every_editor_route(client, small, make_user, login, method, url):
    make_user("manager@example.com", "manager", regions=("NORTH",))
    token = _token(client)
    login("manager@example.com")
    response = client.open(url, method=method, data={"csrf_token": token, "revision": "1", "direction": "up"}
                           if method == "POST" else None)
    assert response.status_code == 404
    assert draft_of() is None and versions_of() == [1]


@pytest.mark.parametrize("method,url", ROUTES)
def test_anonymous_visitors_are_sent_to_login_on_every_editor_route(client, small, method, url):
    token = _token(client)
    data = {"csrf_token": token, "revision": "1"} if method == "POST" else None
    response = client.open(url, method=method, data=data)
    assert response.status_code == 302
    assert response.location.startswith("/login")
    assert draft_of() is None and versions_of() == [1]


# ---------------------------------------------------------------- the list


def test_list_shows_channel_latest_version_and_submissions_per_version(hq, submitted, edit):
    first = checklist_of(submitted.version).sections[0].questions[0]
    edit(f"/hq/checklists/store-visit/questions/{first.key}", text="Reworded for version 2")
    base = "/hq/checklists/store-visit"
    assert edit(f"{base}/publish", page=base, action=f"{base}/publish").status_code == 302
    page = hq.get("/hq/checklists").get_data(as_text=True)
    row = page[page.index('href="/hq/checklists/store-visit"'):]
    row = row[: row.index("</tr>")]
    assert "visit" in row and "version 2" in row
    assert 'data-version="2" data-submissions="0"' in row
    assert 'data-version="1" data-submissions="1"' in row


def test_list_counts_submissions_in_one_query_whatever_the_number_of_versions(hq, app):
    from sqlalchemy import event

    def count_queries() -> int:
        db.session.remove()  # start cold, so both counts load the same things
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert hq.get("/hq/checklists").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    before = count_queries()
    for n in range(3):  # three more versions of the small checklist
        content = loader.load_checklist_data(versions_content()).canonical()
        content["title"] = f"Editor test {n}"
        publish(loader.load_checklist_data(content))
    db.session.commit()
    assert count_queries() == before


def versions_content() -> dict:
    db.session.expire_all()
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug=SLUG))
    return checklist.latest.content


# ---------------------------------------------------------------- editing and publishing


def test_the_first_edit_starts_a_draft_from_the_latest_version(hq, edit):
    assert draft_of() is None
    response = edit(f"{BASE}/questions/greeted", text="Did anyone greet you?")
    assert response.status_code == 302
    draft = draft_of()
    assert draft.base_version == 1 and draft.revision == 1
    assert question(draft.content, "greeted")["text"] == "Did anyone greet you?"
    assert versions_of() == [1]  # nothing published yet
    page = text_of(hq.get(BASE))
    assert "Did anyone greet you?" in page and "draft revision 1" in page


def test_publish_creates_version_2_and_old_submissions_keep_version_1(hq, submitted, edit):
    v1 = submitted.version
    first = checklist_of(v1).sections[0].questions[0]
    base = "/hq/checklists/store-visit"
    edit(f"{base}/questions/{first.key}", text="A new wording")
    response = edit(f"{base}/publish", page=base, action=f"{base}/publish")
    assert response.status_code == 302
    assert response.location == "/hq/checklists/store-visit/versions/2"
    assert versions_of("store-visit") == [1, 2]
    db.session.expire_all()
    assert db.session.get(Submission, submitted.id).version_id == v1.id
    assert db.session.get(ChecklistVersion, v1.id).content == v1.content  # untouched
    page = text_of(hq.get(response.location))
    assert "version 2" in page and "A new wording" in page


def test_publish_shows_a_reworded_and_a_reweighted_question(hq, edit, button):
    edit(f"{BASE}/questions/greeted", text="Did anyone greet you?")
    edit(f"{BASE}/questions/warmth", weight="3")
    draft_page = text_of(hq.get(BASE))
    assert "reworded" in draft_page and "re-weighted" in draft_page
    response = button(f"{BASE}/publish")
    assert response.status_code == 302
    page = text_of(hq.get(response.location))
    assert "What changed since version 1" in page
    reworded = page[page.index("reworded"):]
    assert "greeted" in reworded[:200]
    assert "Were you greeted?" in reworded[:300] and "Did anyone greet you?" in reworded[:400]
    reweighted = page[page.index("re-weighted"):]
    assert "warmth" in reweighted[:200] and re.search(r"weight\s*<del>1</del> → <ins>3</ins>", reweighted[:400])


def test_publishing_unchanged_content_says_nothing_changed(hq, edit, button):
    edit(f"{BASE}/questions/greeted", text="Temporary")
    edit(f"{BASE}/questions/greeted", text="Were you greeted?")
    response = button(f"{BASE}/publish")
    assert response.status_code == 302 and response.location == BASE
    assert "Nothing changed since version 1" in text_of(hq.get(BASE))
    assert versions_of() == [1]


def test_publishing_is_refused_while_the_draft_has_problems(hq, edit, button):
    response = edit(f"{BASE}/add-section", page=BASE, action=f"{BASE}/add-section", title="Empty for now")
    assert response.status_code == 302
    page = text_of(hq.get(BASE))
    section = page[page.index('id="s-empty_for_now"'):]
    assert "This section has no questions yet" in section[:2000]  # beside the section
    assert "1 problem to fix before publishing" in page
    assert "Were you greeted?" in text_of(hq.get(f"{BASE}/preview"))  # the rest can still be previewed
    response = button(f"{BASE}/publish")
    assert response.status_code == 422
    assert "Not published: fix the 1 problem(s)" in text_of(response)
    assert versions_of() == [1]


def test_a_publish_from_elsewhere_blocks_an_older_draft(hq, edit, button):
    edit(f"{BASE}/questions/greeted", text="Draft wording")
    content = loader.load_checklist_data(versions_content()).canonical()
    content["title"] = "Imported meanwhile"
    publish(loader.load_checklist_data(content))
    db.session.commit()
    response = button(f"{BASE}/publish")
    assert response.status_code == 409
    assert "version 2 was published" in text_of(response)
    assert versions_of() == [1, 2]
    response = button(f"{BASE}/discard")
    assert response.status_code == 302
    assert draft_of().content["title"] == "Imported meanwhile"


def test_discarding_the_draft_goes_back_to_the_latest_version(hq, edit, button):
    edit(f"{BASE}/questions/greeted", text="Draft wording")
    response = button(f"{BASE}/discard")
    assert response.status_code == 302
    assert question(draft_of().content, "greeted")["text"] == "Were you greeted?"
    assert "Draft wording" not in text_of(hq.get(BASE))


def test_a_new_checklist_goes_from_an_empty_draft_to_version_1(hq, edit):
    response = edit("/hq/checklists/new", slug="mystery-chat", title="Chat test", channel="chat")
    assert response.status_code == 302 and response.location == "/hq/checklists/mystery-chat"
    base = "/hq/checklists/mystery-chat"
    assert "the checklist has no sections yet" in text_of(hq.get(base)).lower()
    assert "new, unpublished" in text_of(hq.get("/hq/checklists"))
    edit(f"{base}/add-section", page=base, action=f"{base}/add-section", title="Opening")
    response = edit(f"{base}/sections/opening/add-question", page=base, action=f"{base}/sections/opening/add-question",
                    text="Did they answer within a minute?", type="yes_no")
    assert response.location == f"{base}/questions/did_they_answer_within_a"
    page = text_of(hq.get(response.location))
    assert "A scored question must name a standard." in field_block(page, "standard")
    response = edit(response.location, standard="speed", critical="flag", comment="on_fail")
    assert response.status_code == 302
    response = edit(f"{base}/publish", page=base, action=f"{base}/publish")
    assert response.status_code == 302
    assert versions_of("mystery-chat") == [1]
    content = db.session.scalar(db.select(Checklist).filter_by(slug="mystery-chat")).latest.content
    assert content["channel"] == "chat"
    assert content["sections"][0]["questions"][0] == {
        "key": "did_they_answer_within_a", "text": "Did they answer within a minute?", "type": "yes_no",
        "standard": "speed", "critical": "flag", "comment": "on_fail"}


def test_a_new_checklist_needs_a_free_valid_slug(hq, edit):
    response = edit("/hq/checklists/new", slug="Bad Slug", title="")
    assert response.status_code == 422
    page = text_of(response)
    assert "lower-case letters, digits and hyphens" in field_block(page, "slug")
    assert 'value="Bad Slug"' in field_block(page, "slug")
    response = edit("/hq/checklists/new", slug=SLUG, title="Again")
    assert "There is already a checklist" in field_block(text_of(response), "slug")
    assert db.session.scalar(db.select(db.func.count(ChecklistDraft.id))) == 0


# ---------------------------------------------------------------- the question form


def test_every_question_type_has_its_own_fields(hq, edit):
    response = edit(f"{BASE}/questions/warmth", scale_min="0", scale_max="10", **{
        "labels-0-point": "0", "labels-0-text": "Icy", "labels-1-point": "", "labels-1-text": "",
        "labels-2-point": "10", "labels-2-text": "Glowing"}, help="Count from the door.", required="false",
        critical="true", allow_na="y", weight="1.5")
    assert response.status_code == 302, text_of(response)
    assert question(draft_of().content, "warmth") == {
        "key": "warmth", "text": "How warm was the greeting?", "type": "scale", "help": "Count from the door.",
        "required": False, "min": 0, "max": 10, "labels": {"0": "Icy", "10": "Glowing"}, "standard": "greeting",
        "weight": 1.5, "critical": True, "allow_na": True}
    response = edit(f"{BASE}/questions/wait", number_min="", number_max="600", unit="s", **{
        "bands-1-max": "60", "bands-1-score": "0.5", "bands-2-max": "", "bands-2-score": "0"})
    assert response.status_code == 302, text_of(response)
    assert question(draft_of().content, "wait")["bands"] == [
        {"max": 30, "score": 1}, {"max": 60, "score": 0.5}, {"score": 0}]
    response = edit(f"{BASE}/questions/outcome", type="multi", **{
        "options-2-key": "escalated", "options-2-label": "Passed on", "options-2-score": "0.5",
        "show_if-op": "in", "show_if-value": "yes"})
    assert response.status_code == 302, text_of(response)
    saved = question(draft_of().content, "outcome")
    assert saved["type"] == "multi" and [o["key"] for o in saved["options"]] == ["solved", "ignored", "escalated"]
    assert saved["show_if"] == {"question": "screener", "in": ["yes"]}
    response = edit(f"{BASE}/questions/greeted", pass_on="no", unscored="y", standard="", critical="", comment="")
    assert response.status_code == 302, text_of(response)
    assert question(draft_of().content, "greeted")["pass_on"] == "no"
    assert question(draft_of().content, "greeted")["scored"] is False


def test_changing_the_type_without_javascript_shows_the_new_types_fields(hq, edit):
    response = edit(f"{BASE}/questions/greeted", type="choice")
    assert response.status_code == 422
    page = text_of(response)
    assert "Needs at least two options." in page[page.index('id="rows-options"'):]
    assert re.search(r'<fieldset class="group" data-types="choice multi">', page)  # now shown
    assert question(draft_of().content if draft_of() else versions_content(), "greeted")["type"] == "yes_no"


@pytest.mark.parametrize("slug", ["store-visit", "phone-call", "email-inquiry", SLUG])
def test_saving_every_question_unchanged_changes_nothing(hq, published, edit, slug):
    """The form shows every key of every shipped question and writes it back as it was."""
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug=slug))
    original = checklist.latest.content
    for section in original["sections"]:
        for q in section["questions"]:
            response = edit(f"/hq/checklists/{slug}/questions/{q['key']}")
            assert response.status_code == 302, (q["key"], text_of(response)[:3000])
    saved = loader.load_checklist_data(draft_of(slug).content).canonical()
    assert loader.content_hash(saved) == checklist.latest.content_hash


def test_renaming_a_question_renames_the_show_if_rules_that_name_it(hq, edit):
    response = edit(f"{BASE}/questions/screener", key="complaint_raised")
    assert response.status_code == 302
    content = draft_of().content
    assert question(content, "outcome")["show_if"]["question"] == "complaint_raised"
    assert "1 show_if rule(s) now name the new key" in text_of(hq.get(BASE))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("typed,message", [
    ("0", "Must be more than 0."),
    ("-1", "Must be more than 0."),
    ("heavy", "Must be a number, such as 2 or 0.5."),
])
def test_a_bad_question_weight_is_refused_beside_the_field(hq, edit, typed, message):
    response = edit(f"{BASE}/questions/greeted", weight=typed, text="Typed and kept")
    assert response.status_code == 422
    page = text_of(response)
    block = field_block(page, "weight")
    assert message in block and f'value="{typed}"' in block and 'aria-invalid="true"' in block
    assert "Typed and kept" in field_block(page, "text")
    assert "Nothing in the draft was changed" in page
    assert draft_of() is None  # nothing stored, not even a draft


@pytest.mark.parametrize("typed", ["0", "-2", "lots"])
def test_a_bad_section_weight_is_refused_beside_the_field(hq, edit, typed):
    response = edit(f"{BASE}/sections/second", weight=typed, title="Typed title")
    assert response.status_code == 422
    page = text_of(response)
    assert "Must be" in field_block(page, "weight") and f'value="{typed}"' in field_block(page, "weight")
    assert 'value="Typed title"' in field_block(page, "title")
    assert draft_of() is None


def test_an_option_score_out_of_range_is_shown_in_its_row(hq, edit):
    response = edit(f"{BASE}/questions/outcome", **{"options-1-score": "2"})
    assert response.status_code == 422
    page = text_of(response)
    cell = page[page.index('id="options-1-score"'):]
    assert "A score is between 0 and 1, such as 0.5." in cell[:400]
    assert 'value="2"' in page[page.index('id="options-1-score"') - 200:][:400]
    assert draft_of() is None


def test_a_duplicate_question_key_is_refused(hq, edit):
    response = edit(f"{BASE}/questions/notes", key="greeted")
    assert response.status_code == 422
    block = field_block(text_of(response), "key")
    assert "question key 'greeted' is used twice" in block.lower() and 'value="greeted"' in block
    assert draft_of() is None


def test_a_duplicate_question_key_is_refused_when_adding(hq, edit):
    response = edit(f"{BASE}/sections/second/add-question", page=BASE, action=f"{BASE}/sections/second/add-question",
                    text="Another", key="warmth")
    assert response.status_code == 422
    assert "used twice" in field_block(text_of(response), "key")
    assert draft_of() is None


def test_a_duplicate_section_key_is_refused(hq, edit):
    response = edit(f"{BASE}/sections/second", key="first")
    assert response.status_code == 422
    assert "section key 'first' is used twice" in field_block(text_of(response), "key").lower()
    assert draft_of() is None


@pytest.mark.parametrize("target,why", [
    ("outcome", "is not a question earlier"),     # itself
    ("notes", "is not a question earlier"),       # a later question
    ("nowhere", "is not a question earlier"),     # no such question
])
def test_a_show_if_loop_or_dangling_reference_is_refused(hq, edit, target, why):
    response = edit(f"{BASE}/questions/outcome", show_if__question=target, show_if__value="yes")
    assert response.status_code == 422
    page = text_of(response)
    block = field_block(page, "show_if-question")
    assert why in block and f'<option selected value="{target}">' in block
    assert draft_of() is None


def test_a_show_if_value_the_question_cant_take_is_refused(hq, edit):
    response = edit(f"{BASE}/questions/outcome", show_if__value="maybe")
    assert response.status_code == 422
    block = field_block(text_of(response), "show_if-value")
    assert "'maybe' is not an answer 'screener' can take (no, yes)" in block and 'value="maybe"' in block


def test_moving_a_question_above_the_one_its_show_if_names_is_refused(hq, button):
    # outcome (first of section 2) depends on screener (last of section 1)
    assert button(f"{BASE}/questions/outcome/move", direction="up").status_code == 302  # to the end of section 1
    revision = draft_of().revision
    response = button(f"{BASE}/questions/outcome/move", direction="up")  # above screener
    assert response.status_code == 422
    page = text_of(response)
    assert "Not done" in page and "'screener' is not a question earlier" in page
    assert draft_of().revision == revision
    assert [q["key"] for q in draft_of().content["sections"][0]["questions"]][-2:] == ["screener", "outcome"]


def test_deleting_a_question_another_depends_on_is_refused(hq, button):
    response = button(f"{BASE}/questions/screener/delete")
    assert response.status_code == 422
    assert "'screener' is not a question earlier" in text_of(response)
    assert draft_of() is None


def test_emptying_a_section_is_refused(hq, button):
    button(f"{BASE}/questions/notes/delete")
    button(f"{BASE}/questions/wait/delete")
    assert [q["key"] for q in draft_of().content["sections"][1]["questions"]] == ["outcome"]
    revision = draft_of().revision
    response = button(f"{BASE}/questions/outcome/delete")
    assert response.status_code == 422
    assert "This section has no questions yet" in text_of(response)
    assert draft_of().revision == revision


def test_a_stale_question_form_is_refused_and_keeps_what_was_typed(hq, edit):
    old_page = hq.get(f"{BASE}/questions/greeted").get_data(as_text=True)
    edit(f"{BASE}/questions/warmth", text="Someone else's change")  # the draft moves on to revision 1
    data = changed(form_on(old_page), text="My change", weight="4")
    response = hq.post(f"{BASE}/questions/greeted", data=data)
    assert response.status_code == 409
    page = text_of(response)
    assert "someone else changed this checklist's draft" in page and "Nothing was overwritten" in page
    assert "My change" in field_block(page, "text") and 'value="4"' in field_block(page, "weight")
    content = draft_of().content
    assert question(content, "greeted")["text"] == "Were you greeted?"
    assert question(content, "warmth")["text"] == "Someone else's change"
    # Pressing Save again, now that the page carries the current revision, applies the entries.
    response = hq.post(f"{BASE}/questions/greeted", data=form_on(response.get_data(as_text=True)))
    assert response.status_code == 302
    assert question(draft_of().content, "greeted")["text"] == "My change"


def test_a_form_opened_before_a_publish_is_stale(hq, edit):
    old_page = hq.get(f"{BASE}/questions/greeted").get_data(as_text=True)  # no draft yet: version 1 is shown
    edit("/hq/checklists/import", text=SMALL.replace("Were you greeted?", "Greeted at the door?"), then="publish")
    assert versions_of() == [1, 2]
    response = hq.post(f"{BASE}/questions/greeted", data=changed(form_on(old_page), weight="5"))
    assert response.status_code == 409
    assert 'value="5"' in field_block(text_of(response), "weight")
    assert draft_of() is None


def test_a_stale_button_is_refused(hq, edit):
    old_page = hq.get(BASE).get_data(as_text=True)
    edit(f"{BASE}/questions/warmth", text="Someone else's change")
    for action in (f"{BASE}/questions/greeted/move", f"{BASE}/questions/notes/delete", f"{BASE}/publish"):
        response = hq.post(action, data=changed(form_on(old_page, action=action), direction="down"))
        assert response.status_code == 409
        assert "someone else changed" in text_of(response)
    assert draft_of().revision == 1 and versions_of() == [1]


def test_a_post_without_its_csrf_token_changes_nothing(hq):
    response = hq.post(f"{BASE}/questions/greeted", data={"revision": "0", "text": "Forged"})
    assert response.status_code in (400, 409)
    assert draft_of() is None


# ---------------------------------------------------------------- moving, adding, deleting


def test_questions_move_up_and_down_without_javascript(hq, button):
    assert button(f"{BASE}/questions/warmth/move", direction="up").status_code == 302
    assert [q["key"] for q in draft_of().content["sections"][0]["questions"]] == ["warmth", "greeted", "screener"]
    button(f"{BASE}/questions/warmth/move", direction="down")
    button(f"{BASE}/questions/notes/move", direction="up")
    assert [q["key"] for q in draft_of().content["sections"][1]["questions"]] == ["outcome", "notes", "wait"]
    # past the edge of a section a question goes to the neighbouring section
    button(f"{BASE}/questions/screener/move", direction="down")
    sections = draft_of().content["sections"]
    assert [q["key"] for q in sections[0]["questions"]] == ["greeted", "warmth"]
    assert [q["key"] for q in sections[1]["questions"]] == ["screener", "outcome", "notes", "wait"]


def test_sections_move_and_delete(hq, button):
    response = button(f"{BASE}/sections/first/move", direction="down")
    assert response.status_code == 422  # section 2 asks about screener, which would then come later
    button(f"{BASE}/questions/outcome/delete")
    assert button(f"{BASE}/sections/first/move", direction="down").status_code == 302
    assert [s["key"] for s in draft_of().content["sections"]] == ["second", "first"]
    assert button(f"{BASE}/sections/second/delete").status_code == 302
    assert [s["key"] for s in draft_of().content["sections"]] == ["first"]


def test_drag_and_drop_posts_a_section_and_a_position(hq, button):
    response = button(f"{BASE}/questions/notes/move", to_section="first", to_index="1")
    assert response.status_code == 302
    keys = [q["key"] for q in draft_of().content["sections"][0]["questions"]]
    assert keys == ["greeted", "notes", "warmth", "screener"]


def test_adding_a_question_opens_it_to_be_finished(hq, edit):
    response = edit(f"{BASE}/sections/second/add-question", page=BASE, action=f"{BASE}/sections/second/add-question",
                    text="How long did it take?", type="number")
    assert response.status_code == 302 and response.location == f"{BASE}/questions/how_long_did_it_take"
    assert question(draft_of().content, "how_long_did_it_take")["type"] == "number"
    assert "How long did it take?" in text_of(hq.get(response.location))


def test_settings_are_validated_like_the_file(hq, edit):
    response = edit(f"{BASE}/settings", language="English", title="")
    assert response.status_code == 422
    page = text_of(response)
    assert "language code" in field_block(page, "language") and 'value="English"' in field_block(page, "language")
    assert "Must not be empty." in field_block(page, "title")
    response = edit(f"{BASE}/settings", on_critical_fail="flag", help="Fill it in at once.")
    assert response.status_code == 302
    assert draft_of().content["on_critical_fail"] == "flag"


def test_review_and_minimum_minutes_are_settings_kept_as_typed_when_wrong(hq, edit):
    response = edit(f"{BASE}/settings", review="hq", min_minutes="soon")
    assert response.status_code == 422
    assert 'value="soon"' in field_block(text_of(response), "min_minutes")
    assert "number" in field_block(text_of(response), "min_minutes")
    response = edit(f"{BASE}/settings", review="hq", min_minutes="4")
    assert response.status_code == 302
    assert (draft_of().content["review"], draft_of().content["min_minutes"]) == ("hq", 4)
    edit(f"{BASE}/settings", review="auto", min_minutes="")
    assert "review" not in draft_of().content and "min_minutes" not in draft_of().content


# ---------------------------------------------------------------- shares, preview


def test_standard_shares_are_shown_and_add_up_to_100_percent(hq):
    page = hq.get(BASE).get_data(as_text=True)
    shares = {k: float(v) for k, v in re.findall(r'data-standard="([^"]*)" data-share="([^"]+)"', page)}
    assert set(shares) == {"greeting", "problem_solving", "speed"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["greeting"] == pytest.approx(2 / 3)
    assert "66.7 %" in page


def test_preview_renders_the_draft_with_the_shopper_template_and_stores_nothing(hq, edit, submitted):
    edit(f"{BASE}/questions/greeted", text="Did anyone greet you at all?")
    assignments = db.session.scalar(db.select(db.func.count(Assignment.id)))
    submissions = db.session.scalar(db.select(db.func.count(Submission.id)))
    response = hq.get(f"{BASE}/preview")
    assert response.status_code == 200
    page = text_of(response)
    assert 'id="checklist"' in page and "Preview branch" in page  # the shopper's form, for a stand-in branch
    for text in ("Did anyone greet you at all?", "How warm was the greeting?", "Seconds you waited"):
        assert text in page
    assert "form-action 'none'" in response.headers["Content-Security-Policy"]
    token = hidden_fields(response.get_data(as_text=True))["csrf_token"]
    assert hq.post(f"{BASE}/preview", data={"csrf_token": token, "q_greeted": "yes"}).status_code == 405
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == assignments
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == submissions
    editor_page = hq.get(BASE).get_data(as_text=True)
    assert re.search(r'<iframe src="/hq/checklists/editor-test/preview\?r=1"[^>]*'
                     r'sandbox="allow-scripts"[^>]*width="390"', editor_page)


# ---------------------------------------------------------------- YAML in and out


def test_export_downloads_the_latest_version_as_yaml_that_imports_back(hq, small):
    response = hq.get(f"{BASE}/export.yaml")
    assert response.status_code == 200
    assert 'filename="editor-test.yaml"' in response.headers["Content-Disposition"]
    parsed = loader.load_checklist_text(response.get_data(as_text=True), "x.yaml",
                                        {"greeting": False, "problem_solving": False, "speed": False})
    assert loader.content_hash(parsed.canonical()) == small.content_hash


def test_yaml_import_with_errors_changes_nothing_and_lists_every_error_with_its_line(hq, edit):
    broken = SMALL.replace("weight: 2\n    questions", "weight: 0\n    questions").replace(
        "        type: scale\n", "        type: scael\n").replace("standard: speed", "standard: nonsense")
    response = edit("/hq/checklists/import", text=broken, then="publish")
    assert response.status_code == 422
    page = text_of(response)
    lines = {n for n, line in enumerate(broken.splitlines(), 1) if "weight: 0" in line or "scael" in line
             or "nonsense" in line}
    assert len(lines) == 3
    for line in lines:
        assert f"pasted.yaml:{line}" in page
    assert "Nothing was changed" in page
    assert "must be > 0" in page and "'scael' is not a question type" in page and "unknown standard 'nonsense'" in page
    assert versions_of() == [1] and draft_of() is None


def test_yaml_upload_goes_into_the_draft_for_review(hq):
    page = hq.get("/hq/checklists/import").get_data(as_text=True)
    data = dict(hidden_fields(page))
    data.update({"then": "draft", "text": "",
                 "file": (io.BytesIO(SMALL.replace("Were you greeted?", "Greeted by anyone?").encode()), "mine.yaml")})
    response = post_multipart(hq, "/hq/checklists/import", data)
    assert response.status_code == 302 and response.location == BASE
    assert question(draft_of().content, "greeted")["text"] == "Greeted by anyone?"
    assert versions_of() == [1]
    assert "reworded" in text_of(hq.get(BASE))


def test_yaml_import_can_publish_at_once(hq, edit):
    response = edit("/hq/checklists/import", text=SMALL.replace("title: Editor test", "title: Editor test v2"),
                    then="publish")
    assert response.status_code == 302 and response.location == f"{BASE}/versions/2"
    assert versions_of() == [1, 2]
    response = edit("/hq/checklists/import", text=SMALL.replace("title: Editor test", "title: Editor test v2"),
                    then="publish")
    assert versions_of() == [1, 2]
    assert "Nothing changed" in text_of(hq.get(response.location))


@pytest.mark.parametrize("then", ["publish", "draft"])
def test_an_import_racing_another_change_says_so_and_changes_nothing(hq, edit, then):
    """Someone else's version (or draft) lands between our read and our write: the unique
    constraint refuses ours, and the page says what happened instead of failing."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    def someone_else_first(session, _context, _instances):
        for obj in list(session.new):
            if isinstance(obj, ChecklistVersion):  # the same number, written just before ours
                session.connection().execute(ChecklistVersion.__table__.insert(), dict(
                    checklist_id=obj.checklist.id, number=obj.number, content=obj.content, content_hash="x" * 64))
            elif isinstance(obj, ChecklistDraft):
                session.connection().execute(ChecklistDraft.__table__.insert(), dict(
                    slug=obj.slug, content=obj.content, base_version=obj.base_version, revision=1))

    event.listen(Session, "before_flush", someone_else_first)
    try:
        response = edit("/hq/checklists/import", text=SMALL.replace("title: Editor test", "title: Raced"), then=then)
    finally:
        event.remove(Session, "before_flush", someone_else_first)
    assert response.status_code == 409
    assert "someone else published or started editing this checklist at the same moment" in text_of(response)
    assert "Raced" in text_of(response)  # the pasted YAML is still in the box
    assert versions_of() == [1]
    assert draft_of() is None


def test_a_standards_file_is_not_taken_as_a_checklist(hq, edit):
    response = edit("/hq/checklists/import", text="standards:\n  - {key: x, title: X}\n")
    assert response.status_code == 422
    assert "standards catalogue" in text_of(response)


def test_importing_nothing_asks_for_a_file(hq, edit):
    response = edit("/hq/checklists/import", text="")
    assert response.status_code == 422
    assert "Choose a file or paste the YAML." in field_block(text_of(response), "text")


def test_an_oversized_yaml_file_is_refused_before_it_is_parsed(hq, small):
    html = hq.get("/hq/checklists/import").get_data(as_text=True)
    data = {**form_on(html), "then": "publish"}
    data["file"] = (io.BytesIO(b"a: b\n" * 200_001), "huge.yaml")
    response = post_multipart(hq, "/hq/checklists/import", data)
    assert response.status_code == 422
    assert "This file is larger than 500 KB" in text_of(response)
    assert versions_of(SLUG) == [1]


def test_yaml_import_reads_the_same_file_format_as_the_cli(hq, edit):
    exported = hq.get(f"{BASE}/export.yaml").get_data(as_text=True)
    data = yaml.safe_load(exported)
    data["slug"] = "copy-of-test"
    response = edit("/hq/checklists/import", text=yaml.safe_dump(data, sort_keys=False), then="publish")
    assert response.status_code == 302
    assert versions_of("copy-of-test") == [1]


@pytest.fixture
def broken_draft(hq, small):
    """A draft holding what the forms never store (written by hand, or by an older version of the app)."""
    content = loader.load_checklist_data(small.content).canonical()
    question(content, "greeted")["weight"] = "heavy"
    question(content, "warmth")["type"] = "scael"
    db.session.add(ChecklistDraft(slug=SLUG, content=content, base_version=1, revision=5))
    db.session.commit()


def test_a_broken_draft_still_opens_and_lists_its_problems(hq, broken_draft, edit, button):
    page = text_of(hq.get(BASE))
    assert "2 problems to fix before publishing" in page
    assert "'scael' is not a question type" in page and "Must be a number, such as 2 or 0.5." in page
    assert "No preview yet" in text_of(hq.get(f"{BASE}/preview"))
    for page in (f"{BASE}/settings", f"{BASE}/sections/first"):  # the questions' problems stay on their pages
        assert 'id="form-errors"' not in hq.get(page).get_data(as_text=True)
    question_page = text_of(hq.get(f"{BASE}/questions/greeted"))
    assert "Must be a number" in field_block(question_page, "weight") and 'value="heavy"' in question_page
    assert button(f"{BASE}/publish").status_code == 422 and versions_of() == [1]
    # fixing one problem saves although the other remains: a draft may be unfinished
    assert edit(f"{BASE}/questions/greeted", weight="2").status_code == 302
    assert question(draft_of().content, "greeted")["weight"] == 2
    assert "1 problem to fix before publishing" in text_of(hq.get(BASE))


# ---------------------------------------------------------------- what the editor says (QA walk-through)


def flash_of(response) -> str:
    html = text_of(response)
    return html[html.index('<div class="flash"'):html.index("</div>", html.index('<div class="flash"'))]


def test_the_preview_says_beside_the_send_button_that_sending_is_switched_off(hq):
    html = hq.get(f"{BASE}/preview").get_data(as_text=True)

    note = re.search(r'<p class="saved" id="preview-off" role="note">([^<]+)</p>\s*<p class="send">'
                     r'<button type="submit" aria-describedby="preview-off">Send my answers</button>', html)
    assert note, "no note above the send button"
    assert note.group(1).startswith("Preview: sending is switched off.")
    editor = text_of(hq.get(BASE))
    assert "Sending is switched off in the preview" in editor
    assert re.search(r'<iframe [^>]*aria-describedby="preview-hint"', editor)


def publish_button(html: str) -> str:
    form = html[html.index(f'action="{BASE}/publish"'):]
    return form[form.index("<button"):form.index("</button>")]


def test_publish_is_switched_off_while_the_draft_has_no_changes(hq, edit, button):
    page = text_of(hq.get(BASE))
    assert "disabled" in publish_button(page) and 'aria-describedby="publish-nothing"' in publish_button(page)
    assert 'id="publish-nothing">No changes: publishing now would publish nothing.' in page

    edit(f"{BASE}/questions/greeted", text="Temporary")
    assert "disabled" not in publish_button(text_of(hq.get(BASE)))

    edit(f"{BASE}/questions/greeted", text="Were you greeted?")  # back as published: a draft, but no change
    assert "disabled" in publish_button(text_of(hq.get(BASE)))
    response = button(f"{BASE}/publish")  # pressed anyway (an old page): refused gracefully
    assert response.status_code == 302 and versions_of() == [1]
    assert "Nothing changed since version 1: no new version was published." in flash_of(hq.get(BASE))


def test_a_never_published_checklist_can_always_be_published(hq, edit):
    response = edit("/hq/checklists/new", slug="brand-new", title="Brand new")
    assert response.status_code == 302
    page = text_of(hq.get("/hq/checklists/brand-new"))
    assert "disabled" not in page[page.index('action="/hq/checklists/brand-new/publish"'):][:600].split("</form>")[0]


def test_importing_an_unchanged_file_into_the_draft_says_there_are_no_changes(hq, edit):
    response = edit("/hq/checklists/import", text=SMALL, then="draft")

    assert response.status_code == 302 and response.location == BASE
    message = flash_of(hq.get(BASE))
    assert "No changes from the published version (version 1)" in message and "Review the changes" not in message
    assert draft_of() is None  # nothing to hold

    edit(f"{BASE}/questions/greeted", text="Changed in the draft")
    edit("/hq/checklists/import", text=SMALL, then="draft")
    message = flash_of(hq.get(BASE))
    assert "Imported into the draft. No changes from the published version" in message
    assert question(draft_of().content, "greeted")["text"] == "Were you greeted?"

    edit("/hq/checklists/import", text=SMALL.replace("Were you greeted?", "Greeted?"), then="draft")
    assert "Review the changes below, then publish." in flash_of(hq.get(BASE))


def test_the_import_page_shows_the_command_as_code(hq, edit):
    page = text_of(hq.get("/hq/checklists/import"))
    assert "<code>flask checklist import</code> takes it." in page and "`" not in page

    response = edit("/hq/checklists/import", text="standards:\n  - {key: x, title: X}\n")
    assert response.status_code == 422
    assert "`" not in text_of(response) and "import it on the command line" in text_of(response)


def test_moves_are_reported_by_question_text_and_section_title(hq, button):
    said = []
    button(f"{BASE}/questions/warmth/move", direction="up")
    said.append(flash_of(hq.get(BASE)))
    assert "Question “How warm was the greeting?” moved up in “First impressions”." in said[-1]

    button(f"{BASE}/questions/screener/move", direction="down")
    said.append(flash_of(hq.get(BASE)))
    assert "Question “Did you raise a complaint?” moved down into “Advice”." in said[-1]

    button(f"{BASE}/questions/notes/move", to_section="first", to_index="0")
    said.append(flash_of(hq.get(BASE)))
    assert "Question “Anything else?” moved to place 1 of “First impressions”." in said[-1]

    response = button(f"{BASE}/questions/notes/move", direction="up")
    assert response.status_code == 422
    said.append(text_of(response)[text_of(response).index('id="notice"'):][:400])
    assert "Question “Anything else?” can't move there: it is already the first question." in said[-1]

    response = button(f"{BASE}/sections/first/move", direction="up")
    assert response.status_code == 422
    said.append(text_of(response)[text_of(response).index('id="notice"'):][:400])
    assert "Section “First impressions” is already first." in said[-1]
    for message in said:  # no internal keys
        assert not re.search(r"“(warmth|screener|notes|first|second)”", message), message


def test_a_retired_standard_is_named_by_its_title(hq, edit, button):
    from survey.models import Standard

    db.session.scalar(db.select(Standard).filter_by(key="greeting")).retired = True
    db.session.commit()
    said = "The standard “Greeting and first contact” is retired; pick another."

    assert said in text_of(hq.get(BASE))  # the list of problems
    assert said in field_block(text_of(hq.get(f"{BASE}/questions/greeted")), "standard")
    edit(f"{BASE}/questions/notes", text="Anything else to add?")
    response = button(f"{BASE}/publish")
    assert response.status_code == 422 and versions_of() == [1]
    page = text_of(response)
    assert "Not published" in page and said in page and "'greeting'" not in page


def test_a_bad_band_score_reads_as_a_range(hq, edit):
    response = edit(f"{BASE}/questions/wait", **{"bands-0-score": "-0.5"})
    assert response.status_code == 422
    cell = text_of(response)[text_of(response).index('id="bands-0-score"'):][:400]
    assert "A score is between 0 and 1, such as 0.5." in cell


def test_the_preview_of_a_phone_checklist_asks_about_the_call(hq, published):
    """The preview is the shopper's own page: a phone checklist asks for the call's date, not a visit's."""
    page = text_of(hq.get("/hq/checklists/phone-call/preview"))
    assert "<h2>Your call</h2>" in page and '<label for="visit_date">Date of your call</label>' in page
    assert "Preview: sending is switched off." in page


# ---------------------------------------------------------------- writes racing each other


@contextmanager
def someone_saves_first(text: str):
    """Just before the next write of a draft reaches the database, another editor's save of the
    same draft commits on a connection of its own (it changes the question ``greeted``)."""
    done: list[bool] = []

    def save_first(session, _context, _instances):
        if done:
            return
        done.append(True)
        table = ChecklistDraft.__table__
        with db.engine.begin() as conn:
            row = conn.execute(sa.select(table.c.revision, table.c.content).where(table.c.slug == SLUG)).one()
            content = copy.deepcopy(row.content)
            question(content, "greeted")["text"] = text
            conn.execute(table.update().where(table.c.slug == SLUG)
                         .values(content=content, revision=row.revision + 1))

    sa.event.listen(Session, "before_flush", save_first)
    try:
        yield done
    finally:
        sa.event.remove(Session, "before_flush", save_first)


def test_a_form_save_that_loses_a_race_stores_nothing_and_says_so(hq, edit):
    edit(f"{BASE}/questions/warmth", text="A draft exists")
    page = hq.get(f"{BASE}/questions/greeted").get_data(as_text=True)

    with someone_saves_first("Theirs") as raced:
        response = hq.post(f"{BASE}/questions/greeted", data=changed(form_on(page), text="Mine"))

    assert raced and response.status_code == 409
    assert "someone else changed this checklist's draft" in text_of(response)
    assert "Mine" in field_block(text_of(response), "text")  # what was typed is still there
    assert question(draft_of().content, "greeted")["text"] == "Theirs"


def test_an_import_that_loses_a_race_to_a_form_save_overwrites_nothing(hq, edit):
    edit(f"{BASE}/questions/warmth", text="A draft exists")
    revision = draft_of().revision

    with someone_saves_first("Saved by hand") as raced:
        response = edit("/hq/checklists/import", text=SMALL.replace("Were you greeted?", "Imported"), then="draft")

    assert raced and response.status_code == 409
    assert "someone else published or started editing this checklist at the same moment" in text_of(response)
    draft = draft_of()
    assert question(draft.content, "greeted")["text"] == "Saved by hand"
    assert draft.revision == revision + 1  # the hand save's, and no more


def test_every_draft_write_checks_the_revision_it_read(hq, edit):
    """The operations layer itself: a save on a draft that moved on since it was read is refused."""
    edit(f"{BASE}/questions/warmth", text="A draft exists")
    working = drafts.load(SLUG)
    with someone_saves_first("Moved on"):
        candidate = copy.deepcopy(working.content)
        question(candidate, "warmth")["text"] = "Late"
        with pytest.raises(drafts.Stale):
            drafts.save(working, candidate, working.revision, user_id=None)
    assert question(draft_of().content, "greeted")["text"] == "Moved on"
    assert question(draft_of().content, "warmth")["text"] == "A draft exists"
