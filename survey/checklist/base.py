"""The pieces every question type is built from (SPEC §3): keys, texts, ``show_if``, options, bands.

Kept apart from ``types`` (one class per question type) and ``schema`` (sections and
the checklist), so both can build on them without importing each other.
Rules that pydantic checks here raise ``PydanticCustomError`` with a code from
``messages.MESSAGES``, so the file validator and the editor word them from one table.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .messages import MESSAGES

KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

Key = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Weight = Annotated[float, Field(gt=0, le=1000)]
Score = Annotated[float, Field(ge=0, le=1)]


def problem(code: str, **params: Any) -> PydanticCustomError:
    """Return a validation error named by ``code`` (messages.MESSAGES words it)."""
    return PydanticCustomError(code, MESSAGES[code][0], params or None)


class Strict(BaseModel):
    # A bare number where text is expected (`label: 10`) is read as that text.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)


def snake(value: str) -> str:
    if not KEY_RE.match(value):
        raise problem("not_snake_case")
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
            raise problem("show_if_one_comparison")
        if self.in_ is not None and not self.in_:
            raise problem("show_if_in_empty")
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

    _key = field_validator("key")(snake)


class Band(Strict):
    max: float | None = None
    score: Score


class QuestionBase(Strict):
    """Keys every question has; each type (``types.py``) adds its own."""

    key: Key
    text: Text
    help: Text | None = None
    required: bool | None = None
    show_if: ShowIf | None = None

    #: What the answers to this question mean: its ``types.QuestionType``, set by ``types.register``.
    kind: ClassVar[Any] = None

    _key = field_validator("key")(snake)

    @property
    def scored(self) -> bool:
        return self.kind.scored(self)

    @property
    def is_required(self) -> bool:
        return self.kind.required_by_default if self.required is None else self.required


class ScoredMixin(BaseModel):
    """Keys that only make sense on a question that can earn points."""

    weight: Weight = 1
    standard: Key | None = None
    critical: bool | Literal["zero", "flag"] = False
    comment: Literal["optional", "on_fail"] | None = None
    allow_na: bool = False
    scored_flag: bool = Field(default=True, alias="scored")

    model_config = ConfigDict(populate_by_name=True)
