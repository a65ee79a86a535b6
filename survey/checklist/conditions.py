"""Which questions a shopper sees, given the answers so far (``show_if``, SPEC §3).

Used by the scoring and by the form's server-side check; the browser applies the
same rules from the ``data-show-if`` attributes the templates write.
"""

from __future__ import annotations

from typing import Any

from .schema import Checklist, ShowIf, answer_text


class _NA:
    """The shopper's explicit "not applicable"."""

    def __repr__(self) -> str:
        return "NA"


NA = _NA()


def holds(rule: ShowIf, value: Any) -> bool:
    """Tell whether a visible parent's answer satisfies a rule; a blank or N/A never does."""
    if value is None or value is NA or value == "" or value == []:
        return False
    if rule.above is not None or rule.below is not None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        return number > rule.above if rule.above is not None else number < rule.below
    wanted = set(rule.values())
    chosen = value if isinstance(value, list) else [value]
    return any(answer_text(v) in wanted for v in chosen)


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
