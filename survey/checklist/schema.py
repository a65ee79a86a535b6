"""The checklist file format (SPEC §3) as pydantic models.

Field-level rules live on the models; rules that need the whole checklist
(unique keys, references to earlier questions, known standards) live in
``rules.py`` so every broken one can be reported with its location at once.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator

from . import types
from .base import SLUG_RE, Key, ShowIf, Strict, Text, Weight, problem, snake


class _AnyQuestion:
    """Any registered question type, told apart by its ``type`` key (``types.question_union``)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return handler.generate_schema(types.question_union())


Question = _AnyQuestion


class Section(Strict):
    key: Key
    title: Text
    help: Text | None = None
    weight: Weight = 1
    show_if: ShowIf | None = None
    questions: list[Question] = Field(min_length=1)

    _key = field_validator("key")(snake)


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
            raise problem("not_slug")
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
    "slug", "key", "title", "text", "channel", "language", "on_critical_fail", "help", "type", "unit",
    "min", "max", "labels", "options", "bands", "pass_on", "scored", "standard", "weight", "critical",
    "allow_na", "comment", "required", "show_if", "sections", "questions",
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
