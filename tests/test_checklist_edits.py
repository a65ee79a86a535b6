"""Edits of a checklist draft as plain data (survey/checklist/edits.py): no app, no database."""

from __future__ import annotations

import copy

from survey.checklist import edits

STANDARDS = {"greeting": False, "speed": False, "old": True}
TITLES = {"greeting": "Greeting", "old": "Old speed"}

DRAFT = {
    "slug": "d", "title": "D", "channel": "visit",
    "sections": [
        {"key": "a", "title": "Arrival", "questions": [
            {"key": "greeted", "text": "Were you greeted?", "type": "yes_no", "standard": "greeting"},
            {"key": "asked", "text": "Did they ask?", "type": "yes_no", "scored": False},
        ]},
        {"key": "b", "title": "Advice", "questions": [
            {"key": "why", "text": "Why not?", "type": "text", "show_if": {"question": "asked", "equals": "no"}},
        ]},
    ],
}


def draft():
    return copy.deepcopy(DRAFT)


def keys(content):
    return [[q["key"] for q in s["questions"]] for s in content["sections"]]


def test_a_question_moves_past_the_edge_of_its_section_into_the_next():
    content = draft()
    assert edits.move_question(content, 0, 1, "down")
    assert keys(content) == [["greeted"], ["asked", "why"]]
    assert edits.move_question(content, 1, 0, "up")
    assert keys(content) == [["greeted", "asked"], ["why"]]
    assert not edits.move_question(content, 0, 0, "up")  # already the first
    assert edits.move_question_to(content, 0, 0, "b", 5)  # an index past the end goes last
    assert keys(content) == [["asked"], ["why", "greeted"]]


def test_renaming_a_question_points_its_show_if_rules_at_the_new_key():
    content = draft()
    assert edits.rename_references(content, "asked", "offered_help") == 1
    assert content["sections"][1]["questions"][0]["show_if"]["question"] == "offered_help"


def test_new_keys_are_snake_case_and_unique():
    assert edits.new_key("Were you greeted?", {"were_you_greeted"}, "question") == "were_you_greeted_2"
    assert edits.new_key("2 Fast!", set(), "section") == "section_2_fast"
    assert edits.new_key("¿Qué?", set(), "question") == "que"


def test_problems_are_worded_for_people_and_named_by_key():
    content = draft()
    content["sections"][0]["questions"][0]["standard"] = "old"
    content["sections"][0]["questions"][1]["weight"] = 0
    found = edits.problems(content, STANDARDS, TITLES)
    assert [(p.where, p.code, p.message) for p in found] == [
        ("sections[0].questions[1].weight", "greater_than", "Must be more than 0."),
        ("sections[0].questions[0].standard", "standard_retired", "The standard “Old speed” is retired; pick another."),
    ]
    assert edits.identity(content, found[1])[:2] == ("question", "greeted")
    assert edits.identity(content, found[0])[:2] == ("question", "asked")


def test_a_move_that_breaks_a_show_if_is_a_new_problem_and_one_that_does_not_is_none():
    def check(content):
        return edits.problems(content, STANDARDS, TITLES)

    before = draft()
    after = draft()
    edits.move_section(after, 1, "up")  # "why" now comes before the question it depends on
    new = edits.introduced(before, after, by_key=True, check=check)
    assert [(p.code, p.params.get("question")) for p in new] == [("show_if_not_earlier", "asked")]
    harmless = draft()
    edits.move_question(harmless, 0, 0, "down")
    assert edits.introduced(before, harmless, by_key=True, check=check) == []


def test_a_broken_draft_can_still_be_walked_and_previewed():
    content = draft()
    content["sections"].append({"key": "c", "title": "Empty", "questions": []})
    content["sections"].append("not a section")
    assert edits.find_question(content, "why") == (1, 0)
    assert edits.find_section(content, "c") == 2
    assert edits.model_or_none(content) is None
    assert edits.describe(content, ("sections", 1, "questions", 0, "show_if")) == \
        "Section “Advice” › “Why not?” › show_if"
    content["sections"].pop()
    assert [s.key for s in edits.previewable(content).sections] == ["a", "b"]
