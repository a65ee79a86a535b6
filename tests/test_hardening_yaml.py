"""Checklist YAML that used to crash the import (issue 11, point 5): every parse failure is a located error."""

from __future__ import annotations

import pytest
from survey.checklist import loader

from .conftest import CHECKLISTS

MERGE = "x: {<<: {a: 1}}\n"
DEEP = "slug: deep\nx: " + "[" * 2000 + "]" * 2000 + "\n"
TAGGED = "slug: t\ntitle: !custom Hello\n"


@pytest.mark.parametrize("text, line, words", [
    (MERGE, 1, "merge keys (<<) are not supported"),
    (DEEP, 2, "nested more than 50 levels deep"),
    (TAGGED, 2, "the tag !custom is not allowed"),
    ("slug: a\nbad: " + "{a: " * 60 + "1" + "}" * 60 + "\n", 2, "nested more than 50 levels deep"),
])
def test_a_hostile_file_is_refused_with_a_located_error(text, line, words):
    with pytest.raises(loader.ChecklistError) as refused:
        loader.load_checklist_text(text, "hostile.yaml", {})
    located = [e for e in refused.value.errors if words in e.message]
    assert located, [str(e) for e in refused.value.errors]
    assert located[0].file == "hostile.yaml" and located[0].line == line


def test_the_shipped_checklists_are_far_from_the_depth_limit():
    for path in CHECKLISTS.glob("*.yaml"):
        assert loader._too_deep(path.read_text(encoding="utf-8")) is None, path.name


@pytest.mark.parametrize("text, words", [(MERGE, "merge keys"), (DEEP, "nested more than 50"),
                                          (TAGGED, "the tag !custom")])
def test_hq_pasting_it_gets_the_error_not_a_500(hq, text, words):
    response = hq.post("/hq/checklists/import", data={"text": text, "then": "draft"})
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
