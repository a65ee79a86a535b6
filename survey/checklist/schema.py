"""The checklist file format (SPEC §3) as pydantic models.

Field-level rules live on the models; rules that need the whole checklist
(unique keys, references to earlier questions, known standards) live in
``rules.py`` so every broken one can be reported with its location at once.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from . import types
from .base import SLUG_RE, Key, ShowIf, Strict, Text, Weight, problem, snake


class _AnyQuestion:
    """Any registered question type, told apart by its ``type`` key (``types.question_union``)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return handler.generate_schema(types.question_union())


Question = _AnyQuestion


class Repeat(Strict):
    """A section asked once per person met or item ordered: at least ``min``, at most ``max`` times."""

    min: Annotated[int, Field(ge=1, le=50)] = 1
    max: Annotated[int, Field(ge=1, le=50)]
    #: Each repetition's heading; ``{n}`` is its number ("Employee {n}").
    label: Text | None = None
    #: The words of the button that adds one ("Add another employee").
    add: Text | None = None

    @model_validator(mode="after")
    def ordered(self) -> Repeat:
        if self.min > self.max:
            raise problem("repeat_min_over_max")
        return self

    def heading(self, n: int) -> str:
        """Name repetition ``n`` as the page shows it."""
        return self.label.replace("{n}", str(n)) if self.label else str(n)


class Section(Strict):
    key: Key
    title: Text
    help: Text | None = None
    weight: Weight = 1
    show_if: ShowIf | None = None
    repeat: Repeat | None = None
    questions: list[Question] = Field(min_length=1)

    _key = field_validator("key")(snake)


class VisitKeys(Strict):
    """The checklist's own questions that are the visit's date and time (SPEC §3, ``visit:``)."""

    date: Key
    time: Key | None = None


class Outcome(Strict):
    """A way a shop can end without the form being filled ("Nobody answered three calls")."""

    key: Key
    label: Text
    #: 0: a counted visit scoring 0 (on ``standards``, default every standard the checklist scores);
    #: "none": not counted, the link ends not_done.
    score: Literal[0, "none"]
    standards: list[Key] | None = None

    _key = field_validator("key")(snake)

    @model_validator(mode="after")
    def standards_only_when_counted(self) -> Outcome:
        if self.standards is not None and self.score == "none":
            raise problem("outcome_standards_uncounted")
        return self

    @property
    def counts(self) -> bool:
        return self.score == 0


class Checklist(Strict):
    slug: Key
    title: Text
    channel: Literal["visit", "call", "email", "chat"]
    language: Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en"
    on_critical_fail: Literal["zero", "flag"] = "zero"
    #: auto: a visit counts on arrival; hq: it waits for HQ's approval (SPEC §8).
    review: Literal["auto", "hq"] = "auto"
    #: A visit whose form took less than this from first answer to send is flagged ``fast``.
    min_minutes: Annotated[int | float, Field(gt=0, le=1440)] | None = None
    help: Text | None = None
    visit: VisitKeys | None = None
    outcomes: Annotated[list[Outcome], Field(min_length=1)] | None = None
    sections: list[Section] = Field(min_length=1)

    @field_validator("slug")
    @classmethod
    def slug_ok(cls, value: str) -> str:
        if not SLUG_RE.match(value):
            raise problem("not_slug")
        return value

    def questions(self):
        """Yield ``(section, question)`` in file order."""
        for section in self.sections:
            for question in section.questions:
                yield section, question

    def outcome(self, key: str | None) -> Outcome | None:
        return next((o for o in self.outcomes or [] if o.key == key), None)

    def scored_standards(self) -> list[str]:
        """Return the standards the checklist's scored questions measure, in order of first use."""
        return list(dict.fromkeys(q.standard for _, q in self.questions() if q.scored and q.standard))

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

    _key = field_validator("key")(snake)


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
    "slug", "key", "title", "text", "channel", "language", "on_critical_fail", "review", "min_minutes", "help",
    "visit", "outcomes",
    "type", "unit", "min", "max", "labels", "options", "bands", "pass_on", "scored", "standard", "weight",
    "bonus", "deduction", "critical", "allow_na", "comment", "required", "show_if", "repeat", "sections",
    "questions",
]


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    rank = {k: i for i, k in enumerate(KEY_ORDER)}
    return dict(sorted(data.items(), key=lambda kv: rank.get(kv[0], len(rank))))


QUESTION_ADAPTER: TypeAdapter = TypeAdapter(Question)


def _rebuild() -> None:
    """Accept a type registered after this module was loaded (a plug-in, or a test's own type)."""
    global QUESTION_ADAPTER
    for model in (Section, Checklist):
        model.model_rebuild(force=True)
    QUESTION_ADAPTER = TypeAdapter(Question)


types.on_register(_rebuild)


class InvalidPart(SimpleNamespace):
    """A question or section that failed field validation; cross-checks skip it but know its key."""

    invalid = True


def partial_checklist(data: Any) -> SimpleNamespace:
    """Keep what validates of a broken checklist, so cross-checks can still report on it."""
    sections = []
    data = data if isinstance(data, dict) else {}
    raw_sections = data.get("sections")
    for raw in raw_sections if isinstance(raw_sections, list) else []:
        if not isinstance(raw, dict):
            sections.append(InvalidPart(key=None, show_if=None, repeat=None, questions=[]))
            continue
        questions = []
        raw_questions = raw.get("questions")
        for q in raw_questions if isinstance(raw_questions, list) else []:
            try:
                questions.append(QUESTION_ADAPTER.validate_python(q))
            except ValidationError:
                given = q if isinstance(q, dict) else {}
                questions.append(InvalidPart(key=given.get("key"), standard=given.get("standard")))
        sections.append(SimpleNamespace(key=raw.get("key"), show_if=_valid(ShowIf, raw.get("show_if")),
                                        repeat=raw.get("repeat") or None, questions=questions))
    outcomes = data.get("outcomes")
    return SimpleNamespace(
        sections=sections, visit=_valid(VisitKeys, data.get("visit")),
        outcomes=[o for o in (_valid(Outcome, raw) for raw in outcomes) if o] if isinstance(outcomes, list) else None,
    )


def _valid(model: type[Strict], raw: Any) -> Any:
    """Return ``raw`` validated as ``model``, or None when it is missing or broken (its errors are reported)."""
    if raw is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None
