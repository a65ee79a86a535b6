"""Scoring of one submission (SPEC §4): pure functions, no Flask, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checklist.conditions import NA, visible_questions
from .checklist.schema import (
    Checklist,
    ChoiceQuestion,
    NumberQuestion,
    ScaleQuestion,
    YesNoQuestion,
    critical_rule,
)


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
    """Return the share (0..1) of a scored question's weight that an answer earns."""
    if isinstance(question, YesNoQuestion):
        return 1.0 if value == question.pass_on else 0.0
    if isinstance(question, ScaleQuestion):
        return (int(value) - question.min) / (question.max - question.min)
    if isinstance(question, ChoiceQuestion):
        scores = {o.key: o.score or 0.0 for o in question.options}
        if question.type == "multi":
            return min(1.0, sum(scores[k] for k in value))
        return scores[value]
    if isinstance(question, NumberQuestion):
        number = float(value)
        for band in question.bands or []:
            if band.max is None or number <= band.max:
                return band.score
    raise ValueError(f"question {question.key} is not scored")


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def score(checklist: Checklist, answers: dict[str, Any]) -> Result:
    """Score answers (question key → normalised value, or ``NA``) against a checklist."""
    shown = visible_questions(checklist, answers)
    results: list[QuestionResult] = []
    sections: list[SectionResult] = []
    per_standard: dict[str, list[float]] = {}
    failed_rules: list[str] = []
    for section, question in checklist.questions():
        if not sections or sections[-1].key != section.key:
            sections.append(SectionResult(section.key, section.weight))
        current = sections[-1]
        value = answers.get(question.key)
        result = QuestionResult(question.key, section.key, getattr(question, "standard", None), "answered")
        if question.key not in shown:
            result.status = "hidden"
        elif value is NA or (_blank(value) and question.scored):
            result.status = "na"
        elif question.scored:
            weight = question.weight
            result.possible = weight
            result.earned = weight * earned_fraction(question, value)
            current.earned += result.earned
            current.possible += weight
            sums = per_standard.setdefault(question.standard, [0.0, 0.0])
            sums[0] += result.earned
            sums[1] += weight
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
        standards={k: e / w for k, (e, w) in per_standard.items()},
        computed_score=computed,
        score=0.0 if overridden else computed,
        critical_fail=bool(failed_rules),
        overridden=overridden,
        by_key={r.key: r for r in results},
    )
