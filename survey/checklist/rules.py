"""Rules that need the whole checklist: unique keys, references, standards (SPEC §3).

Each broken rule is ``(path, code, parameters)``; ``messages.MESSAGES`` words it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .base import ShowIf
from .schema import Checklist

Problem = tuple[tuple, str, dict[str, Any]]


def check(checklist: Checklist, standards: dict[str, bool]) -> list[Problem]:
    """Return every broken rule; ``standards`` maps key → retired."""
    return list(_sections(checklist)) + list(_questions(checklist, standards))


def _sections(checklist: Checklist) -> Iterator[Problem]:
    seen: set[str] = set()
    earlier: dict[str, Any] = {}
    for s, section in enumerate(checklist.sections):
        if section.key is not None and section.key in seen:
            yield ("sections", s, "key"), "section_key_twice", {"key": section.key}
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
                yield path + ("key",), "question_key_twice", {"key": question.key}
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
            yield path + ("standard",), "standard_missing", {}
        elif standard not in standards:
            yield path + ("standard",), "standard_unknown", {"standard": standard}
        elif standards[standard]:
            yield path + ("standard",), "standard_retired", {"standard": standard}
        return
    why = {"why": question.kind.unscored_reason(question)}
    if standard:
        yield path + ("standard",), "standard_on_unscored", why
    if getattr(question, "critical", False):
        yield path + ("critical",), "critical_on_unscored", why
    if getattr(question, "comment", None):
        yield path + ("comment",), "comment_on_unscored", why


def _show_if(rule: ShowIf, path: tuple, earlier: dict[str, Any]) -> Iterator[Problem]:
    parent = earlier.get(rule.question)
    if getattr(parent, "invalid", False):
        return  # its own errors are reported; guessing at its answers would only add noise
    if parent is None:
        yield path + ("question",), "show_if_not_earlier", {"question": rule.question}
        return
    kind = parent.kind
    if rule.above is not None or rule.below is not None:
        if not kind.numeric:
            yield path, "show_if_not_numeric", {"question": parent.key, "type": parent.type}
        return
    if not kind.testable:
        yield path + ("question",), "show_if_untestable", {"question": parent.key, "type": parent.type}
        return
    where = "equals" if rule.equals is not None else "in"
    for value in rule.values():
        if not kind.can_take(parent, value):
            yield path + (where,), "show_if_bad_value", {"value": value, "question": parent.key,
                                                          "allowed": kind.allowed(parent)}
