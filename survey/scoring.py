"""Scoring of one submission (SPEC §4): pure functions, no Flask, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from collections.abc import Iterable

from .checklist.conditions import NA, visible_questions
from .checklist.schema import Checklist, critical_rule
from .checklist.types import blank


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


@dataclass
class SectionResult:
    key: str
    weight: float
    earned: float = 0.0
    possible: float = 0.0

    @property
    def score(self) -> float | None:
        return self.earned / self.possible if self.possible else None


@dataclass
class Result:
    questions: list[QuestionResult]
    sections: list[SectionResult]
    standards: dict[str, float]
    #: The weighted mean of section scores before any critical override.
    computed_score: float | None
    #: What counts: 0 when a critical question with rule "zero" failed.
    score: float | None
    critical_fail: bool
    overridden: bool = False
    by_key: dict[str, QuestionResult] = field(default_factory=dict)


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


def score(checklist: Checklist, answers: dict[str, Any]) -> Result:
    """Score answers (question key → normalised value, or ``NA``) against a checklist."""
    shown = visible_questions(checklist, answers)
    results: list[QuestionResult] = []
    sections: list[SectionResult] = []
    failed_rules: list[str] = []
    for section, question in checklist.questions():
        if not sections or sections[-1].key != section.key:
            sections.append(SectionResult(section.key, section.weight))
        current = sections[-1]
        value = answers.get(question.key)
        result = QuestionResult(question.key, section.key, getattr(question, "standard", None), "answered")
        if question.key not in shown:
            result.status = "hidden"
        elif value is NA or (blank(value) and question.scored):
            result.status = "na"
        elif question.scored:
            weight = question.weight
            result.possible = weight
            result.earned = weight * earned_fraction(question, value)
            current.earned += result.earned
            current.possible += weight
            rule = critical_rule(question, checklist)
            if rule and result.earned == 0:
                result.critical_fail = True
                result.critical_rule = rule
                failed_rules.append(rule)
        results.append(result)

    applicable = [s for s in sections if s.score is not None]
    total_weight = sum(s.weight for s in applicable)
    computed = sum(s.score * s.weight for s in applicable) / total_weight if total_weight else None
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
        by_key={r.key: r for r in results},
    )
