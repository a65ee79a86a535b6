"""Rules that need the whole checklist: unique keys, references, standards (SPEC §3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .schema import Checklist, ChoiceQuestion, NumberQuestion, ScaleQuestion, ShowIf, YesNoQuestion

Problem = tuple[tuple, str]


def check(checklist: Checklist, standards: dict[str, bool]) -> list[Problem]:
    """Return every broken rule as ``(path, message)``; ``standards`` maps key → retired."""
    return list(_sections(checklist)) + list(_questions(checklist, standards))


def _sections(checklist: Checklist) -> Iterator[Problem]:
    seen: set[str] = set()
    earlier: dict[str, Any] = {}
    for s, section in enumerate(checklist.sections):
        if section.key is not None and section.key in seen:
            yield ("sections", s, "key"), f"section key '{section.key}' is used twice"
        seen.add(section.key)
        if section.show_if:
            yield from _show_if(section.show_if, ("sections", s, "show_if"), earlier)
        for question in section.questions:
            earlier.setdefault(question.key, question)


def _questions(checklist: Checklist, standards: dict[str, bool]) -> Iterator[Problem]:
    earlier: dict[str, Any] = {}
    for s, section in enumerate(checklist.sections):
        for q, question in enumerate(section.questions):
            path = ("sections", s, "questions", q)
            if question.key is not None and question.key in earlier:
                yield path + ("key",), f"question key '{question.key}' is used twice in this checklist"
            if getattr(question, "invalid", False):
                earlier.setdefault(question.key, question)
                continue
            yield from _scoring_keys(question, path, standards)
            if question.show_if:
                yield from _show_if(question.show_if, path + ("show_if",), earlier)
            earlier.setdefault(question.key, question)


def _scoring_keys(question: Any, path: tuple, standards: dict[str, bool]) -> Iterator[Problem]:
    standard = getattr(question, "standard", None)
    if question.scored:
        if not standard:
            yield path + ("standard",), "a scored question must name a standard"
        elif standard not in standards:
            yield path + ("standard",), f"unknown standard '{standard}'"
        elif standards[standard]:
            yield path + ("standard",), f"standard '{standard}' is retired; pick another"
        return
    why = _unscored_reason(question)
    if standard:
        yield path + ("standard",), f"this question is not scored ({why}), so it names no standard"
    if getattr(question, "critical", False):
        yield path + ("critical",), f"only a scored question can be critical ({why})"
    if getattr(question, "comment", None):
        yield path + ("comment",), f"comment goes on scored questions only ({why})"


def _unscored_reason(question: Any) -> str:
    if not getattr(question, "scored_flag", True):
        return "scored: false"
    if isinstance(question, NumberQuestion):
        return "a number without bands"
    if isinstance(question, ChoiceQuestion):
        return "its options carry no score"
    return f"{question.type} questions are never scored"


def _show_if(rule: ShowIf, path: tuple, earlier: dict[str, Any]) -> Iterator[Problem]:
    parent = earlier.get(rule.question)
    if getattr(parent, "invalid", False):
        return  # its own errors are reported; guessing at its answers would only add noise
    if parent is None:
        yield path + ("question",), f"'{rule.question}' is not a question earlier in this checklist"
        return
    numeric = isinstance(parent, (ScaleQuestion, NumberQuestion))
    if rule.above is not None or rule.below is not None:
        if not numeric:
            yield path, f"above/below need a scale or number question; '{parent.key}' is {parent.type}"
        return
    allowed = _possible_values(parent)
    if allowed is None:
        yield path + ("question",), f"'{parent.key}' is a {parent.type} question; show_if can't test it"
        return
    where = "equals" if rule.equals is not None else "in"
    for value in rule.values():
        if value not in allowed:
            shown = ", ".join(sorted(allowed)) if len(allowed) < 25 else "its range"
            yield path + (where,), f"'{value}' is not an answer '{parent.key}' can take ({shown})"


def _possible_values(parent: Any) -> set[str] | None:
    if isinstance(parent, YesNoQuestion):
        return {"yes", "no"}
    if isinstance(parent, ScaleQuestion):
        return {str(v) for v in range(parent.min, parent.max + 1)}
    if isinstance(parent, ChoiceQuestion):
        return {o.key for o in parent.options}
    return None
