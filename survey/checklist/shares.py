"""How much of the overall score each question and each standard carries under the current weights.

A question's share is its weight over the sum of the scored questions' weights
in its section, times its section's weight over the sum of the weights of the
sections that hold a scored question (a section without one never has a score,
so it takes no part in the overall mean; SPEC §4). A standard's share is the
sum of its questions' shares, so the shares of all standards add up to 100 %.

These are the shares of a visit in which every question applies. In a real
visit they move: a question hidden by ``show_if`` or answered N/A drops out of
both earned and possible points, so the other questions of its section, and
through them their standards, carry more; a whole section hidden or left
without an applicable question hands its weight to the other sections. A
critical failure under ``zero`` overrides every share with a score of 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .schema import Checklist


def _each(checklist: Checklist) -> Iterator[tuple[Any, Any, float]]:
    """Yield ``(section, question, share)`` for every scored question, in file order."""
    scored_sections = []
    for section in checklist.sections:
        scored = [q for q in section.questions if q.scored]
        if scored:
            scored_sections.append((section, scored))
    total_section_weight = sum(section.weight for section, _ in scored_sections)
    for section, scored in scored_sections:
        section_share = section.weight / total_section_weight
        question_weight = sum(q.weight for q in scored)
        for q in scored:
            yield section, q, q.weight / question_weight * section_share


def question_shares(checklist: Checklist) -> dict[str, float]:
    """Return each scored question's share (0..1) of the overall score, in file order."""
    return {q.key: share for _, q, share in _each(checklist)}


def section_shares(checklist: Checklist) -> dict[str, float]:
    """Return each section's share of the overall score (0 for a section with no scored question)."""
    shares = {s.key: 0.0 for s in checklist.sections}
    for section, _, share in _each(checklist):
        shares[section.key] += share
    return shares


def standard_shares(checklist: Checklist) -> dict[str | None, float]:
    """Return each standard's share of the overall score, in order of first use.

    A scored question that names no standard yet (an unfinished draft) is
    counted under ``None``, so the shares still add up to the whole.
    """
    shares: dict[str | None, float] = {}
    for _, q, share in _each(checklist):
        standard = getattr(q, "standard", None)
        shares[standard] = shares.get(standard, 0.0) + share
    return shares
