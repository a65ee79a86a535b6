"""Which questions a shopper sees, given the answers so far (``show_if``, SPEC §3).

Used by the scoring and by the form's server-side check; the browser applies the
same rules from the ``data-show-if`` attributes the templates write.
"""

from __future__ import annotations

from typing import Any

from .base import ShowIf, answer_text
from .schema import Checklist
from .types import NA, blank

__all__ = ["NA", "Slot", "holds", "section_slots", "slots", "visible_questions"]


def holds(rule: ShowIf, value: Any) -> bool:
    """Tell whether a visible parent's answer satisfies a rule; a blank or N/A never does.

    A number answer equals a value of the same number however it is spelled (``45``, ``45.0``).
    """
    if blank(value) or value is NA:
        return False
    if rule.above is not None or rule.below is not None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        return number > rule.above if rule.above is not None else number < rule.below
    wanted = set(rule.values())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) in {n for n in map(_number, wanted) if n is not None}
    chosen = value if isinstance(value, list) else [value]
    return any(answer_text(v) in wanted for v in chosen)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


#: Where an answer sits: a question's key, or ``(key, n)`` for repetition n of a repeated section.
Slot = str | tuple[str, int]


def section_slots(section: Any, repeats: dict[str, int] | None = None):
    """Yield ``(repetition or None, question, slot)`` for every place an answer of a section can take.

    A repeated section is asked ``repeats[section.key]`` times (its ``min`` when not given).
    """
    if section.repeat is None:
        for question in section.questions:
            yield None, question, question.key
        return
    for n in range(1, (repeats or {}).get(section.key, section.repeat.min) + 1):
        for question in section.questions:
            yield n, question, (question.key, n)


def slots(checklist: Checklist, repeats: dict[str, int] | None = None):
    """Yield ``(section, repetition or None, question, slot)`` for every answer's place, in order."""
    for section in checklist.sections:
        for n, question, slot in section_slots(section, repeats):
            yield section, n, question, slot


def visible_questions(checklist: Checklist, answers: dict[Slot, Any],
                      repeats: dict[str, int] | None = None) -> set[Slot]:
    """Return the slots of the questions shown; hidden parents hide their children.

    Inside a repetition a rule names a question of the same repetition or one before the section.
    """
    shown: set[Slot] = set()
    for section in checklist.sections:
        if section.show_if and not _parent_holds(section.show_if, answers, shown, section.show_if.question):
            continue
        own = {q.key for q in section.questions} if section.repeat is not None else set()
        for n, question, slot in section_slots(section, repeats):
            rule = question.show_if
            if rule and not _parent_holds(rule, answers, shown, (rule.question, n) if rule.question in own
                                          else rule.question):
                continue
            shown.add(slot)
    return shown


def _parent_holds(rule: ShowIf, answers: dict[Slot, Any], shown: set[Slot], parent: Slot) -> bool:
    return parent in shown and holds(rule, answers.get(parent))
