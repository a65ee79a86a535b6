"""Rules that need the whole checklist: unique keys, references, standards (SPEC §3).

Each broken rule is ``(path, code, parameters)``; ``messages.MESSAGES`` words it. The rules
run on whatever parts of a broken file are valid (``schema.partial_checklist``), so one typo
doesn't hide the other problems.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .base import ShowIf
from .schema import Checklist

Problem = tuple[tuple, str, dict[str, Any]]


def check(checklist: Checklist, standards: dict[str, bool]) -> list[Problem]:
    """Return every broken rule; ``standards`` maps key → retired."""
    return [*_sections(checklist), *_questions(checklist, standards), *_visit(checklist),
            *_outcomes(checklist, standards)]


def _repeated_in(checklist: Checklist) -> dict[str, str]:
    """Map each question of a repeated section to that section's key."""
    return {q.key: s.key for s in checklist.sections if getattr(s, "repeat", None) for q in s.questions}


def _sections(checklist: Checklist) -> Iterator[Problem]:
    seen: set[str] = set()
    earlier: dict[str, Any] = {}
    repeated = _repeated_in(checklist)
    for s, section in enumerate(checklist.sections):
        if section.key is not None and section.key in seen:
            yield ("sections", s, "key"), "section_key_twice", {"key": section.key}
        seen.add(section.key)
        if section.show_if:
            yield from _show_if(section.show_if, ("sections", s, "show_if"), earlier, repeated, None)
        for question in section.questions:
            earlier.setdefault(question.key, question)


def _questions(checklist: Checklist, standards: dict[str, bool]) -> Iterator[Problem]:
    earlier: dict[str, Any] = {}
    repeated = _repeated_in(checklist)
    for s, section in enumerate(checklist.sections):
        for q, question in enumerate(section.questions):
            path = ("sections", s, "questions", q)
            if question.key is not None and question.key in earlier:
                yield path + ("key",), "question_key_twice", {"key": question.key}
            if getattr(question, "invalid", False):
                # Its own errors are reported; a standard it names is still checked, so an author
                # sees a misspelt standard in the same pass as the rest.
                if isinstance(getattr(question, "standard", None), str):
                    yield from _standard(question.standard, path, standards)
                earlier.setdefault(question.key, question)
                continue
            yield from _scoring_keys(question, path, standards)
            if getattr(section, "repeat", None) and question.kind.upload:
                yield path + ("type",), "repeat_upload", {"type": question.type}
            if question.show_if:
                within = section.key if getattr(section, "repeat", None) else None
                yield from _show_if(question.show_if, path + ("show_if",), earlier, repeated, within)
            earlier.setdefault(question.key, question)


def _standard(standard: str, path: tuple, standards: dict[str, bool]) -> Iterator[Problem]:
    if standard not in standards:
        yield path + ("standard",), "standard_unknown", {"standard": standard}
    elif standards[standard]:
        yield path + ("standard",), "standard_retired", {"standard": standard}


def _scoring_keys(question: Any, path: tuple, standards: dict[str, bool]) -> Iterator[Problem]:
    standard = getattr(question, "standard", None)
    if question.scored:
        if not standard:
            yield path + ("standard",), "standard_missing", {}
        else:
            yield from _standard(standard, path, standards)
        return
    if question.kind.adjustment(question) is not None:  # a bonus or deduction may name a standard
        if standard:
            yield from _standard(standard, path, standards)
        return
    why = {"why": question.kind.unscored_reason(question)}
    if standard:
        yield path + ("standard",), "standard_on_unscored", why
    if getattr(question, "critical", False):
        yield path + ("critical",), "critical_on_unscored", why
    if getattr(question, "comment", None):
        yield path + ("comment",), "comment_on_unscored", why


def _show_if(rule: ShowIf, path: tuple, earlier: dict[str, Any], repeated: dict[str, str],
             within: str | None) -> Iterator[Problem]:
    """Check a rule; ``within`` is the repeated section the rule's question stands in, if any."""
    parent = earlier.get(rule.question)
    if getattr(parent, "invalid", False):
        return  # its own errors are reported; guessing at its answers would only add noise
    if parent is None:
        yield path + ("question",), "show_if_not_earlier", {"question": rule.question}
        return
    if rule.question in repeated and repeated[rule.question] != within:
        # A repetition's answers exist once per repetition: only the same repetition may ask them.
        yield path + ("question",), "show_if_into_repeat", {"question": rule.question,
                                                            "section": repeated[rule.question]}
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


def _visit(checklist: Checklist) -> Iterator[Problem]:
    """The checklist's own date and time questions stand for the visit's: asked once, always, required."""
    visit = getattr(checklist, "visit", None)
    if visit is None:
        return
    where = {q.key: (section, q) for section, q in _all_questions(checklist)}
    for part in ("date", "time"):
        key = getattr(visit, part)
        if key is None:
            continue
        path = ("visit", part)
        if key not in where:
            yield path, "visit_not_a_question", {"key": key}
            continue
        section, question = where[key]
        if getattr(question, "invalid", False):
            continue
        details = {"key": key, "part": part, "type": question.type}
        if question.type != part:
            yield path, "visit_wrong_type", details
        elif getattr(section, "repeat", None):
            yield path, "visit_repeated", details
        elif question.show_if or section.show_if:
            yield path, "visit_conditional", details
        elif not question.is_required:
            yield path, "visit_optional", details


def _all_questions(checklist: Checklist):
    for section in checklist.sections:
        for question in section.questions:
            yield section, question


def _outcomes(checklist: Checklist, standards: dict[str, bool]) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, outcome in enumerate(getattr(checklist, "outcomes", None) or []):
        path = ("outcomes", i)
        if outcome.key in seen:
            yield path + ("key",), "outcome_key_twice", {"key": outcome.key}
        seen.add(outcome.key)
        for j, standard in enumerate(outcome.standards or []):
            if standard not in standards:
                yield path + ("standards", j), "standard_unknown", {"standard": standard}
            elif standards[standard]:
                yield path + ("standards", j), "standard_retired", {"standard": standard}
