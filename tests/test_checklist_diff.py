"""What changed between two checklist contents (diff.py) and each standard's share of the score (shares.py).

Plain data in, plain data out: no app, no database.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from survey.checklist import loader
from survey.checklist.diff import diff
from survey.checklist.schema import Checklist
from survey.checklist.shares import question_shares, section_shares, standard_shares

from .conftest import CHECKLISTS


def base() -> dict:
    return {
        "slug": "shop", "title": "Shop", "channel": "visit",
        "sections": [
            {"key": "arrival", "title": "Arrival", "weight": 2, "questions": [
                {"key": "greeted", "text": "Were you greeted?", "type": "yes_no", "standard": "greeting", "weight": 3},
                {"key": "warmth", "text": "How warm?", "type": "scale", "min": 1, "max": 5, "standard": "greeting"},
                {"key": "briefed", "text": "Briefed to complain?", "type": "yes_no", "scored": False},
            ]},
            {"key": "advice", "title": "Advice", "questions": [
                {"key": "correct", "text": "Was it correct?", "type": "yes_no", "standard": "accuracy"},
                {"key": "wait", "text": "Seconds waited", "type": "number", "standard": "speed",
                 "bands": [{"max": 30, "score": 1}, {"score": 0}]},
                {"key": "notes", "text": "Anything else?", "type": "text"},
            ]},
        ],
    }


@pytest.fixture
def old() -> dict:
    return base()


@pytest.fixture
def new() -> dict:
    return base()


def kinds(changes) -> list[tuple[str, str, str]]:
    return [(c.kind, c.level, c.key) for c in changes]


# ---------------------------------------------------------------- diff


def test_identical_content_has_no_changes(old, new):
    changes = diff(old, new)
    assert not changes and len(changes) == 0 and changes.summary() == "no changes"


def test_a_spelled_out_default_is_not_a_change(old, new):
    new["sections"][1]["weight"] = 1
    new["sections"][0]["questions"][1]["weight"] = 1.0
    new["sections"][0]["questions"][0]["allow_na"] = False
    new["language"] = "en"
    assert not diff(old, new)


def test_a_reworded_and_a_reweighted_question(old, new):
    new["sections"][0]["questions"][0]["text"] = "Did anyone greet you?"
    new["sections"][1]["questions"][0]["weight"] = 2.5
    changes = diff(old, new)
    assert kinds(changes) == [("reworded", "question", "greeted"), ("reweighted", "question", "correct")]
    reworded, reweighted = changes
    assert (reworded.old, reworded.new, reworded.section) == ("Were you greeted?", "Did anyone greet you?", "arrival")
    assert (reweighted.old, reweighted.new) == (1, 2.5)
    assert str(reworded) == "reworded question greeted: “Were you greeted?” → “Did anyone greet you?”"
    assert str(reweighted) == "re-weighted question correct: weight 1 → 2.5"


def test_added_removed_and_moved_questions(old, new):
    moved = new["sections"][0]["questions"].pop(1)
    new["sections"][1]["questions"].insert(0, moved)
    new["sections"][1]["questions"].pop()  # notes
    new["sections"][0]["questions"].append({"key": "smiled", "text": "Did they smile?", "type": "yes_no",
                                            "standard": "greeting"})
    changes = diff(old, new)
    assert changes.of("added") == [c for c in changes if c.key == "smiled"]
    assert changes.of("added")[0].section == "arrival" and changes.of("added")[0].label == "Did they smile?"
    assert [(c.key, c.old, c.new) for c in changes.of("moved")] == [("warmth", "arrival", "advice")]
    assert [(c.key, c.label) for c in changes.of("removed")] == [("notes", "Anything else?")]
    assert "reordered" not in [c.kind for c in changes.of(level="section")]


def test_other_question_changes_name_the_keys(old, new):
    question = new["sections"][0]["questions"][1]
    question.update({"max": 7, "critical": "zero", "labels": {1: "Cold"}})
    changes = diff(old, new)
    assert kinds(changes) == [("changed", "question", "warmth")]
    assert changes.changes[0].fields == ("max", "critical", "labels")


def test_label_keys_compare_as_text(old, new):
    """Stored JSON turns label keys into text; a draft may hold them as numbers."""
    old["sections"][0]["questions"][1]["labels"] = {"1": "Cold"}
    new["sections"][0]["questions"][1]["labels"] = {1: "Cold"}
    assert not diff(old, new)


def test_section_changes(old, new):
    new["sections"][0].update({"title": "At the door", "weight": 3, "help": "Look around."})
    new["sections"].append({"key": "extra", "title": "Extra", "questions": []})
    new["sections"][1]["questions"].reverse()
    changes = diff(old, new).of(level="section")
    assert kinds(changes) == [("reworded", "section", "arrival"), ("reweighted", "section", "arrival"),
                              ("changed", "section", "arrival"), ("reordered", "section", "advice"),
                              ("added", "section", "extra")]
    assert changes[2].fields == ("help",)


def test_removed_and_reordered_sections(old, new):
    new["sections"].reverse()
    assert kinds(diff(old, new).of(level="checklist")) == [("reordered", "checklist", "shop")]
    del new["sections"][0]
    changes = diff(old, new)
    assert ("removed", "section", "advice") in kinds(changes)
    assert {c.key for c in changes.of("removed", "question")} == {"correct", "wait", "notes"}


def test_checklist_settings(old, new):
    new.update({"title": "Shop visit", "on_critical_fail": "flag"})
    changes = diff(old, new)
    assert [(c.fields, c.old, c.new) for c in changes] == [
        (("title",), "Shop", "Shop visit"), (("on_critical_fail",), "zero", "flag")]
    assert str(changes.changes[0]) == "changed the checklist's title: “Shop” → “Shop visit”"


def test_a_new_checklist_is_all_added(new):
    changes = diff(None, new)
    assert {c.kind for c in changes} == {"added"}
    assert len(changes.of("added", "section")) == 2 and len(changes.of("added", "question")) == 6


def test_an_unfinished_draft_does_not_break_the_diff(old):
    draft = copy.deepcopy(old)
    draft["sections"][0]["weight"] = "heavy"
    draft["sections"][1]["questions"].append("not a question")
    draft["sections"].append("not a section")
    changes = diff(old, draft)
    assert kinds(changes) == [("reweighted", "section", "arrival")]


# ---------------------------------------------------------------- shares


def test_shares_follow_section_and_question_weights():
    checklist = Checklist.model_validate(base())
    # arrival (weight 2 of 3): greeted 3/4, warmth 1/4; advice (1 of 3): correct 1/2, wait 1/2
    assert question_shares(checklist) == pytest.approx({
        "greeted": 2 / 3 * 3 / 4, "warmth": 2 / 3 * 1 / 4, "correct": 1 / 3 / 2, "wait": 1 / 3 / 2})
    assert standard_shares(checklist) == pytest.approx({"greeting": 2 / 3, "accuracy": 1 / 6, "speed": 1 / 6})
    assert list(standard_shares(checklist)) == ["greeting", "accuracy", "speed"]  # order of first use
    assert section_shares(checklist) == pytest.approx({"arrival": 2 / 3, "advice": 1 / 3})


def test_a_section_without_scored_questions_takes_no_share():
    content = base()
    content["sections"].append({"key": "about", "title": "About you", "weight": 5, "questions": [
        {"key": "name", "text": "Your name", "type": "text"}]})
    checklist = Checklist.model_validate(content)
    assert section_shares(checklist)["about"] == 0
    assert sum(standard_shares(checklist).values()) == pytest.approx(1)


def test_unscored_questions_take_no_share():
    content = base()
    content["sections"][0]["questions"][0]["scored"] = False
    shares = question_shares(Checklist.model_validate(content))
    assert "greeted" not in shares and "briefed" not in shares and "notes" not in shares
    assert shares["warmth"] == pytest.approx(2 / 3)


def test_a_question_without_a_standard_yet_is_counted_apart():
    content = base()
    del content["sections"][1]["questions"][1]["standard"]
    shares = standard_shares(Checklist.model_validate(content))
    assert shares[None] == pytest.approx(1 / 6) and sum(shares.values()) == pytest.approx(1)


@pytest.mark.parametrize("name", ["store-visit", "phone-call", "email-inquiry"])
def test_the_shipped_checklists_shares_add_up_to_100_percent(name):
    standards = {s["key"]: False for s in yaml.safe_load((CHECKLISTS / "standards.yaml").read_text())["standards"]}
    checklist = loader.load_checklist_text((CHECKLISTS / f"{name}.yaml").read_text(), name, standards)
    assert sum(standard_shares(checklist).values()) == pytest.approx(1)
    assert None not in standard_shares(checklist)
