"""Scoring of one submission (SPEC §4): pure functions, no Flask, no database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .checklist.conditions import NA, Slot, section_slots, visible_questions
from .checklist.schema import Checklist, Outcome, critical_rule
from .checklist.types import blank


class Incomplete(ValueError):
    """A required question that is shown was left blank: the answers can't be scored (SPEC §4).

    The form refuses such a send with a message beside the field; every other way in (a draft,
    an offline resend, a returned submission) reaches the scorer, which refuses it too.
    """

    def __init__(self, slots: list[Slot]):
        super().__init__(f"required questions left blank: {', '.join(map(str, slots))}")
        self.slots = slots


@dataclass
class QuestionResult:
    key: str
    section_key: str
    standard: str | None
    #: "answered", "na" (explicit N/A, or an optional question left blank) or "hidden".
    status: str
    earned: float | None = None
    possible: float | None = None
    critical_fail: bool = False
    critical_rule: str | None = None
    #: The repetition (1, 2, ...) of a repeated section's answer; None elsewhere.
    repeat: int | None = None
    #: A bonus or deduction question's effect on the overall score, in percentage points:
    #: +P (bonus earned), -P (deduction lost) or 0 (not applied); None for other questions.
    adjustment: float | None = None

    @property
    def slot(self) -> Slot:
        return self.key if self.repeat is None else (self.key, self.repeat)


@dataclass
class SectionResult:
    key: str
    weight: float
    earned: float = 0.0
    possible: float = 0.0
    #: A repeated section's repetitions, each scored as a section of its own.
    repetitions: list[SectionResult] | None = None

    @property
    def score(self) -> float | None:
        """Σe / Σw; for a repeated section the mean of its applicable repetitions' scores."""
        if self.repetitions is not None:
            scores = [r.score for r in self.repetitions if r.score is not None]
            return sum(scores) / len(scores) if scores else None
        return self.earned / self.possible if self.possible else None


@dataclass
class Result:
    questions: list[QuestionResult]
    sections: list[SectionResult]
    standards: dict[str, float]
    #: The overall score (0..1) before any critical override, bonuses and deductions applied.
    computed_score: float | None
    #: What counts: 0 when a critical question with rule "zero" failed.
    score: float | None
    critical_fail: bool
    overridden: bool = False
    #: Percentage points added by bonuses and taken off by deductions (both ≥ 0).
    bonus: float = 0.0
    deduction: float = 0.0
    #: The outcome a shop ended with instead of a filled form (SPEC §3 ``outcomes``), if any.
    outcome: str | None = None
    by_key: dict[Slot, QuestionResult] = field(default_factory=dict)


def earned_fraction(question: Any, value: Any) -> float:
    """Return the share (0..1) of a scored question's weight that an answer earns (its type says how)."""
    return question.kind.earned(question, value)


def standard_points(answers: Iterable[tuple[str | None, float | None, float | None]]) -> dict[str, tuple[float, float]]:
    """Add up ``(standard, earned, possible)`` per standard: a visit's standard score is Σe / Σw.

    The one place the rule lives in Python (reports apply it in SQL, ``reports.queries``).
    """
    sums: dict[str, tuple[float, float]] = {}
    for standard, earned, possible in answers:
        if standard and possible:
            e, w = sums.get(standard, (0.0, 0.0))
            sums[standard] = (e + (earned or 0.0), w + possible)
    return sums


def score_outcome(checklist: Checklist, outcome: Outcome) -> Result:
    """Score a shop that ended with a counted outcome: 0 overall and on its standards (SPEC §4)."""
    standards = outcome.standards or checklist.scored_standards()
    return Result(questions=[], sections=[], standards=dict.fromkeys(standards, 0.0), computed_score=0.0,
                  score=0.0, critical_fail=False, outcome=outcome.key)


def score(checklist: Checklist, answers: dict[Slot, Any], repeats: dict[str, int] | None = None) -> Result:
    """Score answers (slot → normalised value, or ``NA``) against a checklist.

    ``repeats`` gives how many times each repeated section was filled (its ``min`` if absent).
    Raise ``Incomplete`` when a shown, required question was left blank.
    """
    shown = visible_questions(checklist, answers, repeats)
    results: list[QuestionResult] = []
    sections: list[SectionResult] = []
    failed_rules: list[str] = []
    blanks: list[Slot] = []
    bonus = deduction = 0.0
    for section in checklist.sections:
        whole = SectionResult(section.key, section.weight, repetitions=[] if section.repeat else None)
        sections.append(whole)
        current = whole
        for n, question, slot in section_slots(section, repeats):
            if n is not None and (not whole.repetitions or len(whole.repetitions) < n):
                current = SectionResult(section.key, section.weight)
                whole.repetitions.append(current)
            value = answers.get(slot)
            result = QuestionResult(question.key, section.key, getattr(question, "standard", None), "answered",
                                    repeat=n)
            adjustment = question.kind.adjustment(question)
            if slot not in shown:
                result.status = "hidden"
            elif value is NA:
                result.status = "na"
            elif blank(value):
                if question.is_required:
                    blanks.append(slot)
                if question.scored or adjustment:
                    result.status = "na"
            elif adjustment is not None:
                kind, points = adjustment
                passed = question.kind.earned(question, value) == 1
                if kind == "bonus":
                    result.adjustment = points if passed else 0.0
                    bonus += result.adjustment
                else:
                    result.adjustment = 0.0 if passed else -points
                    deduction -= result.adjustment
            elif question.scored:
                weight = question.weight
                result.possible = weight
                result.earned = weight * earned_fraction(question, value)
                current.earned += result.earned
                current.possible += weight
                if whole is not current:
                    whole.earned += result.earned
                    whole.possible += weight
                rule = critical_rule(question, checklist)
                if rule and result.earned == 0:
                    result.critical_fail = True
                    result.critical_rule = rule
                    failed_rules.append(rule)
            results.append(result)
    if blanks:
        raise Incomplete(blanks)

    applicable = [s for s in sections if s.score is not None]
    total_weight = sum(s.weight for s in applicable)
    computed = None
    if total_weight:
        percent = 100 * sum(s.score * s.weight for s in applicable) / total_weight + bonus - deduction
        computed = min(100.0, max(0.0, percent)) / 100
    overridden = "zero" in failed_rules and computed is not None
    return Result(
        questions=results,
        sections=sections,
        standards={k: e / w for k, (e, w) in standard_points((r.standard, r.earned, r.possible)
                                                             for r in results).items()},
        computed_score=computed,
        score=0.0 if overridden else computed,
        critical_fail=bool(failed_rules),
        overridden=overridden,
        bonus=bonus,
        deduction=deduction,
        by_key={r.slot: r for r in results},
    )
