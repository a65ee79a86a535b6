"""Which questions a shopper sees, given the answers so far (``show_if``, SPEC §3).

Used by the scoring and by the form's server-side check; the browser applies the
same rules from the ``data-show-if`` attributes the templates write.
"""

from __future__ import annotations

from typing import Any

from .base import ShowIf, answer_text
from .schema import Checklist
from .types import NA, blank

__all__ = ["NA", "holds", "visible_questions"]


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


def visible_questions(checklist: Checklist, answers: dict[str, Any]) -> set[str]:
    """Return the keys of the questions shown; hidden parents hide their children."""
    shown: set[str] = set()
    for section in checklist.sections:
        if section.show_if and not _parent_holds(section.show_if, answers, shown):
            continue
        for question in section.questions:
            if question.show_if and not _parent_holds(question.show_if, answers, shown):
                continue
            shown.add(question.key)
    return shown


def _parent_holds(rule: ShowIf, answers: dict[str, Any], shown: set[str]) -> bool:
    return rule.question in shown and holds(rule, answers.get(rule.question))
