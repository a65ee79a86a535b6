"""The checklist file format (SPEC §3) as pydantic models.

Field-level rules live on the models; rules that need the whole checklist
(unique keys, references to earlier questions, known standards) live in
``rules.py`` so every broken one can be reported with its location at once.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

Key = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Weight = Annotated[float, Field(gt=0, le=1000)]
Score = Annotated[float, Field(ge=0, le=1)]


class Strict(BaseModel):
    # A bare number where text is expected (`label: 10`) is read as that text.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)


def _snake(value: str) -> str:
    if not KEY_RE.match(value):
        raise ValueError("must be lower_snake_case (a-z, 0-9, _; starting with a letter)")
    return value


class ShowIf(Strict):
    """When a question or a section is shown; exactly one comparison is given."""

    question: Key
    equals: str | float | None = None
    in_: list[str | float] | None = Field(default=None, alias="in")
    above: float | None = None
    below: float | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)

    @model_validator(mode="after")
    def one_comparison(self) -> ShowIf:
        given = [n for n in ("equals", "in_", "above", "below") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of equals, in, above, below")
        if self.in_ is not None and not self.in_:
            raise ValueError("in: needs at least one value")
        return self

    def values(self) -> list[str]:
        """Return the compared values as answer strings (``equals``/``in`` only)."""
        raw = [self.equals] if self.equals is not None else (self.in_ or [])
        return [answer_text(v) for v in raw]


def answer_text(value: Any) -> str:
    """Spell a value the way an answer is stored: ``3.0`` as ``3``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Option(Strict):
    key: Key
    label: Text
    score: Score | None = None

    _key = field_validator("key")(_snake)


class Band(Strict):
    max: float | None = None
    score: Score


class QuestionBase(Strict):
    key: Key
    text: Text
    help: Text | None = None
    required: bool | None = None
    show_if: ShowIf | None = None

    _key = field_validator("key")(_snake)

    @property
    def scored(self) -> bool:
        return False

    @property
    def is_required(self) -> bool:
        return True if self.required is None else self.required


class ScoredMixin(BaseModel):
    """Keys that only make sense on a question that can earn points."""

    weight: Weight = 1
    standard: Key | None = None
    critical: bool | Literal["zero", "flag"] = False
    comment: Literal["optional", "on_fail"] | None = None
    allow_na: bool = False
    scored_flag: bool = Field(default=True, alias="scored")

    model_config = ConfigDict(populate_by_name=True)


class YesNoQuestion(QuestionBase, ScoredMixin):
    type: Literal["yes_no"]
    pass_on: Literal["yes", "no"] = "yes"

    @property
    def scored(self) -> bool:
        return self.scored_flag


class ScaleQuestion(QuestionBase, ScoredMixin):
    type: Literal["scale"]
    min: int
    max: int
    labels: dict[int, Text] | None = None

    @property
    def scored(self) -> bool:
        return self.scored_flag

    @model_validator(mode="after")
    def ordered(self) -> ScaleQuestion:
        if self.min >= self.max:
            raise ValueError("min must be less than max")
        if self.max - self.min > 20:
            raise ValueError("a scale may have at most 21 points")
        for k in self.labels or {}:
            if not self.min <= k <= self.max:
                raise ValueError(f"label {k} is outside min..max")
        return self


class ChoiceQuestion(QuestionBase, ScoredMixin):
    type: Literal["choice", "multi"]
    options: list[Option]

    @property
    def scored(self) -> bool:
        return self.scored_flag and any(o.score is not None for o in self.options)

    @model_validator(mode="after")
    def options_ok(self) -> ChoiceQuestion:
        if len(self.options) < 2:
            raise ValueError("needs at least two options")
        keys = [o.key for o in self.options]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"option keys must be unique (repeated: {', '.join(dupes)})")
        scored = [o.score is not None for o in self.options]
        if any(scored) and not all(scored):
            raise ValueError("either every option has a score or none has")
        return self


class NumberQuestion(QuestionBase, ScoredMixin):
    type: Literal["number"]
    unit: Annotated[str, Field(max_length=40)] | None = None
    min: float | None = None
    max: float | None = None
    bands: list[Band] | None = None

    @property
    def scored(self) -> bool:
        return self.scored_flag and bool(self.bands)

    @model_validator(mode="after")
    def bands_ok(self) -> NumberQuestion:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("min must be less than max")
        if self.bands is not None:
            if not self.bands:
                raise ValueError("bands: give at least one band, or leave bands out")
            *head, last = self.bands
            if last.max is not None:
                raise ValueError("the last band has no max (it catches everything above)")
            if any(b.max is None for b in head):
                raise ValueError("only the last band may leave out max")
            edges = [b.max for b in head]
            if any(later <= earlier for earlier, later in zip(edges, edges[1:])):
                raise ValueError("band max values must be strictly increasing")
        return self


class PlainQuestion(QuestionBase):
    """Unscored types: the shopper's own words, a date, a time, a photo."""

    type: Literal["text", "date", "time", "photo"]

    @property
    def is_required(self) -> bool:
        if self.required is not None:
            return self.required
        return self.type not in ("text", "photo")


Question = Annotated[
    Union[YesNoQuestion, ScaleQuestion, ChoiceQuestion, NumberQuestion, PlainQuestion],
    Field(discriminator="type"),
]

QUESTION_TYPES = ("yes_no", "scale", "choice", "multi", "number", "text", "date", "time", "photo")


class Section(Strict):
    key: Key
    title: Text
    help: Text | None = None
    weight: Weight = 1
    show_if: ShowIf | None = None
    questions: list[Question] = Field(min_length=1)

    _key = field_validator("key")(_snake)


class Checklist(Strict):
    slug: Key
    title: Text
    channel: Literal["visit", "call", "email", "chat"]
    language: Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en"
    on_critical_fail: Literal["zero", "flag"] = "zero"
    help: Text | None = None
    sections: list[Section] = Field(min_length=1)

    @field_validator("slug")
    @classmethod
    def slug_ok(cls, value: str) -> str:
        if not SLUG_RE.match(value):
            raise ValueError("must be lower-case letters, digits and hyphens")
        return value

    def questions(self):
        """Yield ``(section, question)`` in file order."""
        for section in self.sections:
            for question in section.questions:
                yield section, question

    def canonical(self) -> dict[str, Any]:
        """Return the content as plain data with defaults left out: what is stored and hashed."""
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude_none=True)
        data = _ordered(data)
        data["sections"] = [_ordered(s) for s in data["sections"]]
        for section in data["sections"]:
            section["questions"] = [_ordered(q) for q in section["questions"]]
        return data


class Standard(Strict):
    key: Key
    title: Text
    description: Annotated[str, Field(max_length=2000)] = ""
    retired: bool = False

    _key = field_validator("key")(_snake)


class StandardsFile(Strict):
    standards: list[Standard] = Field(min_length=1)


def critical_rule(question: Any, checklist: Checklist) -> str | None:
    """Return ``"zero"``, ``"flag"`` or None for a question's critical-failure rule."""
    critical = getattr(question, "critical", False)
    if critical is True:
        return checklist.on_critical_fail
    if critical in ("zero", "flag"):
        return critical
    return None


#: The order an author reads keys in; export writes them so.
KEY_ORDER = [
    "slug", "key", "title", "text", "channel", "language", "on_critical_fail", "help", "type", "unit",
    "min", "max", "labels", "options", "bands", "pass_on", "scored", "standard", "weight", "critical",
    "allow_na", "comment", "required", "show_if", "sections", "questions",
]


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    rank = {k: i for i, k in enumerate(KEY_ORDER)}
    return dict(sorted(data.items(), key=lambda kv: rank.get(kv[0], len(rank))))


QUESTION_ADAPTER: TypeAdapter = TypeAdapter(Question)


class InvalidPart(SimpleNamespace):
    """A question or section that failed field validation; cross-checks skip it but know its key."""

    invalid = True


def partial_checklist(data: Any) -> SimpleNamespace:
    """Keep what validates of a broken checklist, so cross-checks can still report on it."""
    sections = []
    raw_sections = data.get("sections") if isinstance(data, dict) else None
    for raw in raw_sections if isinstance(raw_sections, list) else []:
        if not isinstance(raw, dict):
            sections.append(InvalidPart(key=None, show_if=None, questions=[]))
            continue
        questions = []
        raw_questions = raw.get("questions")
        for q in raw_questions if isinstance(raw_questions, list) else []:
            try:
                questions.append(QUESTION_ADAPTER.validate_python(q))
            except ValidationError:
                questions.append(InvalidPart(key=q.get("key") if isinstance(q, dict) else None))
        try:
            show_if = ShowIf.model_validate(raw["show_if"]) if raw.get("show_if") is not None else None
        except ValidationError:
            show_if = None
        sections.append(SimpleNamespace(key=raw.get("key"), show_if=show_if, questions=questions))
    return SimpleNamespace(sections=sections)
