"""The shipped checklists load, point at real standards and survive an export (SPEC §3)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from survey.checklist.loader import (
    content_hash,
    dump_yaml,
    kind_of,
    load_checklist_text,
    load_standards_text,
    parse_yaml,
)
from survey.checklist.schema import Checklist
from survey.checklist.types import names as question_types
from survey.checklist.conditions import slots
from survey.scoring import score

CHECKLISTS = Path(__file__).resolve().parent.parent / "checklists"
SHIPPED = {
    "store-visit.yaml": "visit",
    "phone-call.yaml": "call",
    "email-inquiry.yaml": "email",
}
#: The standards the product promises (SPEC §2 and the seeds); consistency is measured, not asked.
PROMISED_STANDARDS = {
    "greeting", "speed", "communication", "accuracy", "problem_solving", "appearance", "farewell",
}


def read(name: str) -> str:
    return (CHECKLISTS / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def standards() -> dict[str, bool]:
    """Load the catalogue first, as `checklist import` does; return key → retired."""
    catalogue = load_standards_text(read("standards.yaml"), "standards.yaml")
    return {s.key: s.retired for s in catalogue.standards}


@pytest.fixture(scope="module")
def shipped(standards: dict[str, bool]) -> dict[str, Checklist]:
    return {name: load_checklist_text(read(name), name, standards) for name in SHIPPED}


def test_standards_catalogue_has_the_promised_standards(standards):
    assert PROMISED_STANDARDS <= set(standards)
    assert not any(standards.values()), "a fresh catalogue retires nothing"


def test_every_standard_has_a_title_and_a_short_description():
    catalogue = load_standards_text(read("standards.yaml"), "standards.yaml")
    for std in catalogue.standards:
        assert std.title
        assert 20 <= len(std.description) <= 300, std.key
        assert std.description.count(". ") <= 1, f"{std.key}: one or two sentences"


def test_files_are_told_apart_by_their_top_level_key():
    assert kind_of(parse_yaml(read("standards.yaml"), "standards.yaml")[0]) == "standards"
    for name in SHIPPED:
        assert kind_of(parse_yaml(read(name), name)[0]) == "checklist"


def test_every_checklist_file_in_the_folder_loads(standards):
    found = sorted(p.name for p in CHECKLISTS.glob("*.yaml") if p.name != "standards.yaml")
    assert set(SHIPPED) <= set(found)
    for name in found:
        assert load_checklist_text(read(name), name, standards).slug == Path(name).stem


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_checklist_loads(name, standards):
    checklist = load_checklist_text(read(name), name, standards)
    assert checklist.slug == Path(name).stem
    assert checklist.channel == SHIPPED[name]
    assert checklist.language == "en"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_scored_question_names_a_live_standard(name, shipped, standards):
    for _, question in shipped[name].questions():
        standard = getattr(question, "standard", None)
        if question.scored:
            assert standard in standards and not standards[standard], question.key
        elif question.kind.adjustment(question):  # a bonus or deduction may name one (SPEC §3)
            assert standard is None or (standard in standards and not standards[standard]), question.key
        else:
            assert standard is None, question.key


def test_every_standard_is_asked_somewhere(shipped, standards):
    used = {
        q.standard for checklist in shipped.values() for _, q in checklist.questions() if q.scored
    }
    assert used == {key for key, retired in standards.items() if not retired}


def test_every_question_type_appears_across_the_shipped_files(shipped):
    used = {q.type for checklist in shipped.values() for _, q in checklist.questions()}
    assert used == set(question_types())


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_export_then_import_gives_the_same_content(name, shipped, standards):
    original = shipped[name].canonical()
    exported = dump_yaml(original)
    again = load_checklist_text(exported, name, standards).canonical()
    assert again == original
    assert content_hash(again) == content_hash(original)
    # A second export is byte-for-byte the first: nothing drifts on repeated round trips.
    assert dump_yaml(again) == exported


def test_store_visit_uses_every_feature_of_the_format(shipped):
    checklist = shipped["store-visit.yaml"]
    questions = [q for _, q in checklist.questions()]
    types = {q.type for q in questions}
    # The form itself asks the visit's date and time first, so the checklist doesn't.
    assert types == set(question_types()) - {"date", "time"}
    assert len(checklist.sections) == 7
    assert 24 <= len(questions) <= 30
    staff = next(s for s in checklist.sections if s.repeat)
    assert staff.repeat.min == 1 and staff.repeat.max > 1 and "{n}" in staff.repeat.label, "each employee met"
    assert any(getattr(q, "bonus", None) for q in questions), "a bonus"
    assert any(getattr(q, "deduction", None) and q.pass_on == "no" for q in questions), "a deduction"

    assert any(s.show_if for s in checklist.sections), "a section with show_if"
    assert any(q.show_if for q in questions), "a question with show_if"
    assert any(getattr(q, "allow_na", False) for q in questions)
    assert any(getattr(q, "critical", False) for q in questions)
    assert any(getattr(q, "comment", None) == "on_fail" for q in questions)
    assert any(q.type == "yes_no" and q.pass_on == "no" for q in questions)
    assert any(q.type == "yes_no" and not q.scored for q in questions), "a screener"
    assert any(q.type == "number" and q.bands for q in questions)
    assert any(q.type == "scale" and q.labels for q in questions)
    assert any(q.type == "choice" and q.scored for q in questions)
    assert any(q.type == "multi" and q.scored for q in questions)
    assert any(q.type == "text" for q in questions)
    receipt = next(q for q in questions if q.type == "photo")
    assert receipt.is_required is False


def test_store_visit_writes_pass_on_no_bare_as_authors_do():
    assert re.search(r"^\s+pass_on: no$", read("store-visit.yaml"), re.MULTILINE)
    assert re.search(r"equals: yes\}", read("store-visit.yaml"))


def test_store_visit_question_texts_stay_short(shipped):
    # The whole form must fit a 40 KB page budget on a shopper's phone.
    for _, question in shipped["store-visit.yaml"].questions():
        assert len(question.text) <= 60, question.key
        assert len(question.help or "") <= 80, question.key


def best_answers(checklist: Checklist) -> dict:
    """Answer every question as well as possible (each type's best answer), opening every show_if."""
    today = date.today()
    return {slot: q.kind.parse(q, q.kind.best_answer(q, today), today)[0] for _, _, q, slot in slots(checklist)}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_perfect_visit_scores_full_marks_in_every_section(name, shipped):
    checklist = shipped[name]
    answers = best_answers(checklist)
    result = score(checklist, answers)
    assert result.score == pytest.approx(1.0)
    assert not result.critical_fail
    assert all(s.score == pytest.approx(1.0) for s in result.sections)
    assert all(r.status == "answered" for r in result.questions), "best answers open every show_if"


def test_phone_call_has_an_outcome_for_nobody_answering(shipped):
    checklist = shipped["phone-call.yaml"]
    no_answer, could_not = checklist.outcome("no_answer"), checklist.outcome("could_not_call")
    assert no_answer.counts and no_answer.standards == ["speed"]
    assert not could_not.counts
