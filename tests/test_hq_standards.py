"""The standards catalogue in the HQ console: list, add, edit, retire and un-retire, and bad input."""

from __future__ import annotations

import html as htmllib

import pytest
from survey import catalogue
from survey.extensions import db
from survey.models import Standard

from .conftest import CHECKLISTS


def text_of(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def field_block(html: str, name: str) -> str:
    """Return the markup of one form field: its label, hint, messages and control."""
    start = html.rfind('<div class="field', 0, html.index(f'name="{name}"', html.index("<main")))
    return html[start:html.index("</div>", start)]


def standard(key: str) -> Standard | None:
    db.session.expire_all()
    return db.session.scalar(db.select(Standard).filter_by(key=key))


# ---------------------------------------------------------------- the list


def test_the_list_shows_each_standard_with_the_questions_that_measure_it(hq, published):
    html = text_of(hq.get("/hq/standards"))

    assert "Speed of response" in html and "<code>speed</code>" in html
    assert "Nobody waits longer than they must" in html  # the description
    row = html[html.index('id="s-speed"'):html.index("</tr>", html.index('id="s-speed"'))]
    assert "Store visit v1" in row
    assert "Not measured by any published checklist" not in row


def test_a_standard_that_no_published_checklist_measures_is_flagged(hq, published):
    db.session.add(Standard(key="loyalty", title="Loyalty programme", description="", position=99))
    db.session.commit()

    html = text_of(hq.get("/hq/standards"))

    row = html[html.index('id="s-loyalty"'):html.index("</tr>", html.index('id="s-loyalty"'))]
    assert "Not measured by any published checklist" in row


# ---------------------------------------------------------------- add


def test_adding_a_standard_puts_it_at_the_end_of_the_catalogue(hq, published):
    last = db.session.scalar(db.select(db.func.max(Standard.position)))

    response = hq.post("/hq/standards/new", {"key": "phone_manner", "title": "Phone manner",
                                             "description": "Smile down the line."})

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/hq/standards#s-phone_manner")
    added = standard("phone_manner")
    assert (added.title, added.description, added.retired, added.position) == (
        "Phone manner", "Smile down the line.", False, last + 1)
    assert "Added the standard \u201cPhone manner\u201d." in text_of(hq.get(response.headers["Location"]))


@pytest.mark.parametrize("key, message", [
    ("Phone Manner", "Use lower_snake_case: a-z, 0-9 and _, starting with a letter."),
    ("9lives", "Use lower_snake_case: a-z, 0-9 and _, starting with a letter."),
    ("", "Enter a key."),
    ("speed", "A standard with the key \u201cspeed\u201d already exists."),
    ("k" * 65, "Keep the key under 64 characters."),
])
def test_a_bad_key_is_refused_beside_the_field_and_what_was_typed_stays(hq, published, key, message):
    before = db.session.scalar(db.select(db.func.count(Standard.id)))

    response = hq.post("/hq/standards/new", {"key": key, "title": "Phone manner", "description": "Smile."})

    html = text_of(response)
    assert response.status_code == 422
    assert message in field_block(html, "key")
    assert 'aria-invalid="true"' in field_block(html, "key")
    assert 'value="Phone manner"' in field_block(html, "title")
    assert "Smile.</textarea>" in field_block(html, "description")
    assert db.session.scalar(db.select(db.func.count(Standard.id))) == before


def test_a_standard_needs_a_title(hq, published):
    response = hq.post("/hq/standards/new", {"key": "phone_manner", "title": "  "})

    assert response.status_code == 422
    assert "Enter a title." in field_block(text_of(response), "title")
    assert 'value="phone_manner"' in field_block(text_of(response), "key")
    assert standard("phone_manner") is None


# ---------------------------------------------------------------- edit


def test_editing_changes_title_and_description_but_never_the_key(hq, published):
    page = text_of(hq.get("/hq/standards/speed/edit"))
    assert 'name="key"' not in page  # the key is shown, not editable
    assert "Store visit v1" in page  # what measures it

    response = hq.post("/hq/standards/speed/edit", {"title": "Speed", "description": "Be quick.", "key": "fast"})

    assert response.status_code == 302
    edited = standard("speed")
    assert (edited.title, edited.description) == ("Speed", "Be quick.")
    assert standard("fast") is None


def test_an_edit_without_a_title_changes_nothing_and_keeps_the_description(hq, published):
    before = standard("speed").title

    response = hq.post("/hq/standards/speed/edit", {"title": "", "description": "Typed but not saved."})

    html = text_of(response)
    assert response.status_code == 422
    assert "Enter a title." in field_block(html, "title")
    assert "Typed but not saved.</textarea>" in html
    assert standard("speed").title == before


def test_a_description_over_the_limit_is_refused(hq, published):
    response = hq.post("/hq/standards/speed/edit", {"title": "Speed", "description": "x" * 2001})

    assert response.status_code == 422
    assert "Keep the description under 2,000 characters." in field_block(text_of(response), "description")
    assert standard("speed").title == "Speed of response"


# ---------------------------------------------------------------- retire


def test_retiring_keeps_the_standard_and_the_checklist_rules_then_refuse_it(hq, published):
    response = hq.post("/hq/standards/speed/retire")

    assert response.status_code == 302
    assert standard("speed").retired is True
    html = text_of(hq.get("/hq/standards"))
    assert "Retired \u201cSpeed of response\u201d." in html
    row = html[html.index('id="s-speed"'):html.index("</tr>", html.index('id="s-speed"'))]
    assert "Retired" in row and "Un-retire" in row
    assert "their next version must use another standard" in row
    _, errors = catalogue.validate_paths([CHECKLISTS / "store-visit.yaml"])
    assert errors and all("speed" in str(e) for e in errors)


def test_un_retiring_makes_the_standard_usable_again(hq, published):
    hq.post("/hq/standards/speed/retire")

    hq.post("/hq/standards/speed/unretire")

    assert standard("speed").retired is False
    _, errors = catalogue.validate_paths([CHECKLISTS / "store-visit.yaml"])
    assert errors == []


def test_retiring_twice_changes_nothing(hq, published):
    hq.post("/hq/standards/speed/retire")
    response = hq.post("/hq/standards/speed/retire")

    assert response.status_code == 302
    assert standard("speed").retired is True


def test_an_unknown_standard_is_a_404(hq, published):
    assert hq.get("/hq/standards/nope/edit").status_code == 404
    assert hq.post("/hq/standards/nope/retire").status_code == 404


# ---------------------------------------------------------------- titles once; retiring asks first


@pytest.mark.parametrize("title", ["speed of response", "  SPEED OF RESPONSE ", "Speed of Response"])
def test_a_new_standard_may_not_take_a_title_in_use_whatever_the_case(hq, published, title):
    before = db.session.scalar(db.select(db.func.count(Standard.id)))

    response = hq.post("/hq/standards/new", {"key": "quickness", "title": title, "description": "Be quick."})

    html = text_of(response)
    assert response.status_code == 422
    block = field_block(html, "title")
    assert "There is already a standard called \u201cSpeed of response\u201d (speed)." in block
    assert 'aria-invalid="true"' in block and f'value="{title.strip()}"' in block
    assert 'value="quickness"' in field_block(html, "key")
    assert "Be quick.</textarea>" in field_block(html, "description")
    assert db.session.scalar(db.select(db.func.count(Standard.id))) == before


def test_an_edit_may_not_take_another_standards_title_but_may_recase_its_own(hq, published):
    response = hq.post("/hq/standards/speed/edit", {"title": "greeting and FIRST contact", "description": "Typed."})

    assert response.status_code == 422
    assert "There is already a standard called \u201cGreeting and first contact\u201d (greeting)." in field_block(
        text_of(response), "title")
    assert standard("speed").title == "Speed of response"

    response = hq.post("/hq/standards/speed/edit", {"title": "Speed Of Response", "description": ""})

    assert response.status_code == 302
    assert standard("speed").title == "Speed Of Response"


def test_a_retired_standards_title_is_taken_too(hq, published):
    hq.post("/hq/standards/speed/retire")

    response = hq.post("/hq/standards/new", {"key": "quickness", "title": "Speed of response"})

    assert response.status_code == 422
    assert "(speed, retired)" in field_block(text_of(response), "title")


def retire_question(html: str, key: str) -> str:
    form = html[html.index(f'action="/hq/standards/{key}/retire"'):]
    button = form[:form.index("</button>")]
    assert 'data-confirm="' in button, "Retire posts without asking"
    return button[button.index('data-confirm="') + 14:].split('"', 1)[0]


def test_retiring_asks_first_and_says_which_checklists_it_blocks(hq, published):
    from survey.hq.queries import measured_by

    questions = measured_by()["speed"]
    checklists = sorted({q["checklist"] for q in questions})
    html = text_of(hq.get("/hq/standards"))

    question = retire_question(html, "speed")

    assert question.startswith(f"Retire \u201cSpeed of response\u201d? {len(questions)} published questions "
                               "measure it (in ")
    for title in checklists:
        assert title in question
    assert "can't be published again until those questions pick another standard." in question
    assert "you can un-retire it later" in question
    assert '<script src="/static/editor.js" defer></script>' in html


def test_retiring_a_standard_nothing_measures_says_so(hq, published):
    db.session.add(Standard(key="loyalty", title="Loyalty programme", description="", position=99))
    db.session.commit()

    question = retire_question(text_of(hq.get("/hq/standards")), "loyalty")

    assert question.startswith("Retire \u201cLoyalty programme\u201d? No published question measures it.")
