"""The question-type registry (survey/checklist/types.py): each type's parsing, points, show_if and display.

The last part adds a type that exists only in this module, to show that one class and one
field builder are all a new type needs: it loads from YAML, is checked, asked on the phone,
scored and shown in review, with no other file changed.
"""

from __future__ import annotations

import textwrap
from datetime import date, time
from typing import ClassVar, Literal

import pytest
from survey.caches import checklist_of
from survey.catalogue import publish
from survey.checklist import types
from survey.checklist.base import QuestionBase, ScoredMixin
from survey.checklist.conditions import visible_questions
from survey.checklist.loader import ChecklistError, load_checklist_text
from survey.checklist.types import NA, REGISTRY
from survey.extensions import db
from survey.models import Answer, Submission
from survey.scoring import score
from survey.shopper import fields
from survey.shopper.forms import field_name
from survey.submissions import create_assignments

from .conftest import hidden_fields, log_in

STANDARDS = {"speed": False, "communication": False, "accuracy": False}
TODAY = date(2026, 11, 23)


def checklist(*questions: str):
    head = textwrap.dedent("""\
        slug: t
        title: T
        channel: visit
        sections:
          - key: only
            title: Only
            questions:
        """)
    body = "".join(textwrap.indent(textwrap.dedent(q), " " * 6) for q in questions)
    return load_checklist_text(head + body, "t.yaml", STANDARDS)


def only(text: str):
    (_, question), = checklist(text).questions()
    return question


YES_NO = """\
- key: q
  text: Greeted?
  type: yes_no
  pass_on: no
  standard: speed
"""
SCALE = """\
- key: q
  text: Polite?
  type: scale
  min: 1
  max: 5
  standard: communication
"""
CHOICE = """\
- key: q
  text: Outcome?
  type: choice
  options:
    - {key: solved, label: Solved, score: 1}
    - {key: escalated, label: Escalated, score: 0.5}
  standard: accuracy
  allow_na: true
"""
MULTI = """\
- key: q
  text: Offered?
  type: multi
  options:
    - {key: bag, label: A bag, score: 0.5}
    - {key: card, label: A loyalty card, score: 0.75}
  standard: accuracy
"""
NUMBER = """\
- key: q
  text: Seconds to greet?
  type: number
  unit: seconds
  min: 0
  max: 600
  bands: [{max: 30, score: 1}, {max: 60, score: 0.5}, {score: 0}]
  standard: speed
"""


# --- parse: raw text (from a form or a draft) → value, or a problem code ----------------------


@pytest.mark.parametrize(("question", "raw", "value", "problem"), [
    (YES_NO, "no", "no", None),
    (YES_NO, "maybe", None, "choose_shown"),
    (YES_NO, "", None, None),
    (SCALE, "4", 4, None),
    (SCALE, "6", None, "choose_shown"),
    (CHOICE, "na", NA, None),
    (CHOICE, "gone", None, "choose_shown"),
    (MULTI, ["card", "bag"], ["bag", "card"], None),          # the options' order, not the ticks'
    (MULTI, ["bag", "x"], None, "choose_among"),
    (NUMBER, "45,5", 45.5, None),                             # a decimal comma is read
    (NUMBER, "700", None, "number_max"),
    (NUMBER, "soon", None, "number"),
    ("- {key: q, text: 'Notes', type: text}", "  fine \x00 ", "fine", None),  # control characters dropped
    ("- {key: q, text: 'Notes', type: text}", "x" * 5001, None, "text_long"),
    ("- {key: q, text: 'Reply on', type: date}", "2026-11-24", None, "date_future"),
    ("- {key: q, text: 'Reply on', type: date}", "2026-11-20", date(2026, 11, 20), None),
    ("- {key: q, text: 'At', type: time}", "14:30:59", time(14, 30), None),
    ("- {key: q, text: 'At', type: time}", "half past", None, "time"),
])
def test_each_type_parses_its_raw_answer(question, raw, value, problem):
    q = only(question)
    parsed, trouble = q.kind.parse(q, raw, TODAY)
    assert parsed == value
    assert (trouble[0] if trouble else None) == problem


@pytest.mark.parametrize(("question", "value", "share"), [
    (YES_NO, "no", 1.0),          # pass_on: no
    (YES_NO, "yes", 0.0),
    (SCALE, 4, 0.75),             # (4 - 1) / (5 - 1)
    (CHOICE, "escalated", 0.5),
    (MULTI, ["bag", "card"], 1.0),  # min(1, 0.5 + 0.75)
    (MULTI, ["bag"], 0.5),
    (NUMBER, 30.0, 1.0),          # a band's edge is inclusive
    (NUMBER, 30.5, 0.5),
    (NUMBER, 61.0, 0.0),
])
def test_each_scored_type_earns_its_share(question, value, share):
    q = only(question)
    assert q.kind.earned(q, value) == share


def test_what_is_stored_reads_back_and_displays_as_the_shopper_saw_it():
    cases = [(YES_NO, "no", "No"), (SCALE, 4, "4 (of 1–5)"), (CHOICE, "solved", "Solved"),
             (MULTI, ["bag", "card"], "A bag, A loyalty card"), (NUMBER, 45.0, "45 seconds")]
    for question, value, shown in cases:
        q = only(question)
        text = q.kind.stored(value)
        assert q.kind.loaded(q, text) == value
        assert q.kind.display(q, text) == shown


@pytest.mark.parametrize(("parent", "rule", "error"), [
    (YES_NO, "equals: yes", None),
    (SCALE, "equals: 6", "'6' is not an answer 'q' can take (1, 2, 3, 4, 5)"),
    (CHOICE, "in: [solved, gone]", "'gone' is not an answer 'q' can take (escalated, solved)"),
    (NUMBER, "equals: 45", None),                                   # SPEC §3: equals/in on a number
    (NUMBER, "in: [0, 600]", None),
    (NUMBER, "equals: 601", "'601' is not an answer 'q' can take (a number from 0 to 600)"),
    (NUMBER, "above: 60", None),
    (CHOICE, "above: 1", "above/below need a scale or number question; 'q' is choice"),
    ("- {key: q, text: 'Notes', type: text}\n", "equals: fine", "'q' is a text question; show_if can't test it"),
])
def test_each_type_says_what_a_show_if_may_test(parent, rule, error):
    child = f"- {{key: c, text: 'Why', type: text, show_if: {{question: q, {rule}}}}}\n"
    if error is None:
        checklist(parent, child)
    else:
        with pytest.raises(ChecklistError) as caught:
            checklist(parent, child)
        assert [e.message for e in caught.value.errors] == [error]


def test_a_number_parent_shows_its_child_on_an_equal_number_however_it_is_spelled():
    loaded = checklist(NUMBER, "- {key: c, text: 'Why', type: text, show_if: {question: q, in: [0, 45]}}\n")
    assert "c" in visible_questions(loaded, {"q": 45.0})
    assert "c" in visible_questions(loaded, {"q": 0.0})
    assert "c" not in visible_questions(loaded, {"q": 45.5})
    assert "c" not in visible_questions(loaded, {"q": None})


# --- a type added here only ----------------------------------------------------------------------


class Stars(types.QuestionType):
    """One to five stars, scored like a five-point scale that starts at zero points."""

    name = "stars"
    label = "Stars (1 to 5)"
    scoreable = True
    testable = True
    numeric = True

    class Model(QuestionBase, ScoredMixin):
        type: Literal["stars"]

    STARS: ClassVar[list[str]] = ["1", "2", "3", "4", "5"]

    def scored(self, q):
        return q.scored_flag

    def choices(self, q):
        return [(s, "★" * int(s)) for s in self.STARS]

    def parse(self, q, raw, today=None):
        text = raw[0] if isinstance(raw, list) else (raw or "")
        if not text:
            return None, None
        return (int(text), None) if text in self.STARS else (None, ("choose_shown", {}))

    def earned(self, q, value):
        return (int(value) - 1) / 4

    def can_take(self, q, value):
        return value in self.STARS

    def display(self, q, text):
        return None if text is None else "★" * int(text)

    def best_answer(self, q, visit):
        return "5"


STARS = """\
- key: stars
  text: How many stars for the welcome?
  type: stars
  standard: communication
  weight: 2
"""


@pytest.fixture
def stars():
    """Register the test's own type, and its field builder, for one test."""
    types.register(Stars)
    fields.BUILDERS["stars"] = fields.Options()
    yield
    fields.BUILDERS.pop("stars")
    types.unregister("stars")


def test_a_type_defined_in_one_class_loads_checks_and_scores(stars):
    loaded = checklist(STARS, "- {key: why, text: 'Why so few', type: text, show_if: {question: stars, below: 3}}\n")
    q = loaded.sections[0].questions[0]
    assert (q.scored, q.is_required, q.kind.label) == (True, True, "Stars (1 to 5)")
    result = score(loaded, {"stars": 4, "why": None})
    assert (result.by_key["stars"].earned, result.by_key["stars"].possible) == (1.5, 2)  # 2 × (4 − 1) / 4
    assert "why" not in visible_questions(loaded, {"stars": 4})
    with pytest.raises(ChecklistError) as caught:
        checklist(STARS.replace("standard: communication", "standard: nonsense"))
    assert "unknown standard 'nonsense'" in str(caught.value)
    assert "stars" not in set(types.names()) - {"stars"}


def test_a_type_defined_in_one_class_is_asked_on_the_phone_scored_and_reviewed(stars, app, client, make_branch,
                                                                               make_user, published):
    content = load_checklist_text(textwrap.dedent("""\
        slug: stars-visit
        title: Stars visit
        channel: visit
        sections:
          - key: welcome
            title: Welcome
            questions:
        """) + textwrap.indent(STARS, " " * 6), "stars.yaml", {"communication": False})
    version, _ = publish(content)
    db.session.commit()
    branch = make_branch()
    (assignment, token), = create_assignments(version.checklist, branch, 1)
    db.session.commit()

    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "How many stars for the welcome?" in page and "★★★★★" in page

    data = {**hidden_fields(page), "visit_date": date.today().isoformat(), "visit_time": "10:00",
            field_name("stars"): "4"}
    assert client.post(f"/s/{token}", data=data).status_code == 303
    submission = db.session.scalar(db.select(Submission))
    answer = db.session.scalar(db.select(Answer))
    assert (answer.value, answer.earned, answer.possible, submission.score) == ("4", 1.5, 2.0, 0.75)
    assert checklist_of(submission.version).sections[0].questions[0].type == "stars"

    make_user("hq@example.com", "hq")
    staff = log_in(client, "hq@example.com")
    review = staff.get(f"/hq/submissions/{submission.id}").get_data(as_text=True)
    assert "★★★★" in review


def test_every_type_has_a_field_builder_and_a_label():
    assert set(REGISTRY) <= set(fields.BUILDERS)
    assert all(kind.label and kind.Model.kind is kind for kind in REGISTRY.values())
