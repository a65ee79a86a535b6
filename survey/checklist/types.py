"""Question types (SPEC §3): one class per type says everything the type means.

A type owns its keys in the file (its pydantic ``Model``) and their checks, how a raw
answer (text from a form or a draft) is parsed and stored, the share of the weight an
answer earns, which values a ``show_if`` may test, how a stored answer reads in review,
reports and the CSV, how the HQ editor spreads it over form fields and back, and what a
demo shopper answers. Nothing else in the code branches on a type's name: it asks the
question's ``kind`` (``q.kind``, set by ``register``). The shopper's WTForms field for a
type lives in ``survey/shopper/fields.py``, looked up by the type's name.

Adding a type is one class here (decorated with ``@register``), its field builder, and
their tests. This module knows nothing of Flask or WTForms.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import date, time
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from .base import Band, Option, QuestionBase, ScoredMixin, Text, answer_text, problem

#: Parse problems: (code, parameters); the shopper's pages word them in the page's language.
Problem = tuple[str, dict[str, Any]]


class _NA:
    """The shopper's explicit "not applicable"."""

    def __repr__(self) -> str:
        return "NA"


NA = _NA()
NA_VALUE = "na"
TEXT_MAX = 5000


def blank(value: Any) -> bool:
    """Tell whether an answer is missing (nothing typed or chosen)."""
    return value is None or value == "" or value == []


def number_or_text(raw: Any) -> int | float | str | None:
    """Read a typed number; keep anything else as typed, so a validator can name the problem."""
    text = ("" if raw is None else str(raw)).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def shown(value: Any) -> str:
    """Write a content value back into a text box: ``2.0`` as ``2``, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return answer_text(value)
    return str(value)


def _first(raw: Any) -> str:
    """One typed value: the first of a list (a form field sent twice), stripped."""
    if isinstance(raw, (list, tuple)):
        raw = raw[0] if raw else ""
    return (raw or "").strip() if isinstance(raw, str) else ""


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


class QuestionType:
    """What every type answers; the defaults suit an unscored question with one typed value."""

    name: ClassVar[str]
    #: The editor's name for the type.
    label: ClassVar[str]
    Model: ClassVar[type[QuestionBase]]
    #: Can earn points, so takes weight, standard, critical, comment and N/A.
    scoreable: ClassVar[bool] = False
    required_by_default: ClassVar[bool] = True
    #: A ``show_if`` may test its answers with ``equals``/``in`` (``can_take`` says which).
    testable: ClassVar[bool] = False
    #: A ``show_if`` may test its answers with ``above``/``below``.
    numeric: ClassVar[bool] = False
    #: Its answer is the shopper's own words: reports quote it with the comments.
    verbatim: ClassVar[bool] = False
    #: Its answer is a file, stored by the shopper's upload code, not parsed from text.
    upload: ClassVar[bool] = False
    #: The editor's groups of fields this type uses (``templates/hq/checklists/question.html``);
    #: "scoring" is every scoreable type's.
    editor_groups: ClassVar[tuple[str, ...]] = ()
    #: Content key → the editor's field for it (for keys beyond the common ones).
    editor_fields: ClassVar[dict[str, str]] = {}
    #: Problems with the question as a whole (pydantic's model checks), by code → the editor's field.
    editor_problems: ClassVar[dict[str, str]] = {}
    #: Editor fields the type reads beyond ``editor_fields``'s (a choice that no content key holds).
    editor_extra: ClassVar[tuple[str, ...]] = ()

    @property
    def editor_inputs(self) -> tuple[str, ...]:
        """Name the editor's fields that ``from_editor`` reads."""
        return tuple(dict.fromkeys((*self.editor_fields.values(), *self.editor_extra)))

    # ---- the file
    def scored(self, q: Any) -> bool:
        return False

    def unscored_reason(self, q: Any) -> str:
        """Say why a question earns no points (in the validator's messages)."""
        return f"{self.name} questions are never scored"

    def adjustment(self, q: Any) -> tuple[str, float] | None:
        """Return ``("bonus", P)`` or ``("deduction", P)`` for a question that moves the overall
        score by P points outside every section (SPEC §4), else None."""
        return None

    # ---- answers
    def choices(self, q: Any) -> list[tuple[str, str]]:
        """Return the fixed answers ``(value, label)``, in order; none for typed answers."""
        return []

    def parse(self, q: Any, raw: Any, today: date | None = None) -> tuple[Any, Problem | None]:
        """Read a raw answer (text, or a list of texts) into a value; blank is ``(None, None)``."""
        text = _first(raw)
        return (text or None), None

    def stored(self, value: Any) -> str | None:
        """Spell an answer as text for the database and the CSV (None for no answer)."""
        if blank(value) or value is NA:
            return None
        if isinstance(value, list):
            return ";".join(value)
        if isinstance(value, time):
            return value.isoformat(timespec="minutes")
        if isinstance(value, date):
            return value.isoformat()
        return answer_text(value)

    def loaded(self, q: Any, text: str | None) -> Any:
        """Read a stored answer back into a value (to score it again)."""
        if text is None:
            return None
        return self.parse(q, text)[0]

    def earned(self, q: Any, value: Any) -> float:
        """Return the share (0..1) of the question's weight an answer earns."""
        raise ValueError(f"question {q.key} is not scored")

    def full_marks(self, q: Any) -> list[str] | None:
        """Return the answers that earn the whole weight, when they can be listed."""
        return None

    # ---- show_if
    def can_take(self, q: Any, value: str) -> bool:
        """Tell whether ``value`` (as a show_if spells it) is an answer this question can take."""
        return False

    def allowed(self, q: Any) -> str:
        """Say which answers a show_if on this question may compare with (the validator's message)."""
        return ""

    def answers_help(self, q: dict[str, Any]) -> str | None:
        """Say, for the editor, what a show_if on this question (as content) may test; None: nothing."""
        return None

    # ---- reading
    def display(self, q: Any, text: str | None) -> str | None:
        """Spell a stored answer the way the shopper saw it (review, reports)."""
        return text

    # ---- the editor: content (the file's keys, maybe unfinished) ↔ field values
    def to_editor(self, q: dict[str, Any]) -> dict[str, Any]:
        """Return the editor's values for this type's own keys: text, or lists of row dicts."""
        return {}

    def from_editor(self, values: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[tuple, str]]]:
        """Turn the editor's values back into content keys, without judging them.

        Rows arrive as ``(form row index, row dict)`` pairs, blank rows left out. Returns the
        content and problems only the form can see, as ``((field, row, column), message)``.
        """
        return {}, []

    # ---- demo data and tests
    def demo_answer(self, q: Any, p: float, rng: random.Random, visit: date, at: time) -> Any:
        """Draw a plausible answer from a shopper whose experience had quality ``p`` (0..1)."""
        return None

    def best_answer(self, q: Any, visit: date) -> str | list[str] | None:
        """Return the raw form value a careful shopper sends after a flawless visit."""
        return None


#: Type name → its one instance, in the order the file format lists them.
REGISTRY: dict[str, QuestionType] = {}
_listeners: list[Callable[[], None]] = []


def register(cls: type[QuestionType]) -> type[QuestionType]:
    """Add a type (a class decorator); the checklist schema is rebuilt to accept it."""
    instance = cls()
    REGISTRY[cls.name] = instance
    cls.Model.kind = instance
    for listener in _listeners:
        listener()
    return cls


def unregister(name: str) -> None:
    """Remove a type again (a test's own type, once its test is done)."""
    REGISTRY.pop(name, None)
    for listener in _listeners:
        listener()


def on_register(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever a type is added or removed (``schema`` rebuilds its models)."""
    _listeners.append(listener)


def question_union() -> Any:
    """Return the annotation for "any registered question", told apart by its ``type`` key."""
    members = tuple(Annotated[t.Model, Tag(name)] for name, t in REGISTRY.items())
    return Annotated[Union[members], Discriminator(_type_of)]


def _type_of(value: Any) -> str | None:
    return value.get("type") if isinstance(value, dict) else getattr(value, "type", None)


def kind_of(question: Any) -> QuestionType | None:
    """Return the type of a question, parsed or as content (a draft's dict); None if unknown."""
    name = _type_of(question)
    return REGISTRY.get(name) if isinstance(name, str) else None


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def with_group(group: str) -> list[str]:
    """Return the names of the types whose editor shows a group of fields (``editor_groups``)."""
    return [name for name, kind in REGISTRY.items()
            if group in kind.editor_groups or (group == "scoring" and kind.scoreable)]


# ============================================================================ scored types


class Scoreable(QuestionType):
    """Base of the types that can earn points."""

    scoreable = True
    testable = True

    def scored(self, q):
        return q.scored_flag

    def unscored_reason(self, q):
        return "scored: false"

    def choices_parse(self, q, raw) -> tuple[Any, Problem | None]:
        text = _first(raw)
        if text in ("", "None"):
            return None, None
        if text == NA_VALUE and q.allow_na:
            return NA, None
        if text not in {value for value, _ in self.choices(q)}:
            return None, ("choose_shown", {})
        return text, None

    def can_take(self, q, value):
        return value in {v for v, _ in self.choices(q)}

    def allowed(self, q):
        values = [v for v, _ in self.choices(q)]
        return ", ".join(sorted(values)) if len(values) < 25 else "its range"

    def display(self, q, text):
        labels = dict(self.choices(q))
        return labels.get(text, text) if text is not None else None


@register
class YesNo(Scoreable):
    name = "yes_no"
    label = "Yes / no"
    editor_groups = ("pass_on",)
    editor_fields = {"pass_on": "pass_on", "bonus": "adjust_points", "deduction": "adjust_points"}
    editor_problems = {"bonus_and_deduction": "adjust", "adjustment_weight": "weight",
                       "adjustment_critical": "critical"}
    editor_extra = ("adjust",)

    class Model(QuestionBase, ScoredMixin):
        type: Literal["yes_no"]
        pass_on: Literal["yes", "no"] = "yes"
        #: Percentage points added to the overall score when the answer passes.
        bonus: Annotated[float, Field(gt=0, le=100)] | None = None
        #: Percentage points taken off the overall score when the answer fails.
        deduction: Annotated[float, Field(gt=0, le=100)] | None = None

        @model_validator(mode="after")
        def adjustment_alone(self):
            if self.bonus is not None and self.deduction is not None:
                raise problem("bonus_and_deduction")
            if self.bonus is not None or self.deduction is not None:
                if "weight" in self.model_fields_set:
                    raise problem("adjustment_weight")
                if self.critical:
                    raise problem("adjustment_critical")
            return self

    def scored(self, q):
        return q.scored_flag and q.bonus is None and q.deduction is None

    def unscored_reason(self, q):
        return "scored: false" if not q.scored_flag else "a bonus or deduction"

    def adjustment(self, q):
        if q.bonus is not None:
            return "bonus", q.bonus
        if q.deduction is not None:
            return "deduction", q.deduction
        return None

    def choices(self, q):
        return [("yes", "Yes"), ("no", "No")]

    def parse(self, q, raw, today=None):
        return self.choices_parse(q, raw)

    def earned(self, q, value):
        return 1.0 if value == q.pass_on else 0.0

    def full_marks(self, q):
        return [q.pass_on]

    def answers_help(self, q):
        return "yes, no"

    def to_editor(self, q):
        kind = "bonus" if q.get("bonus") is not None else "deduction" if q.get("deduction") is not None else ""
        return {"pass_on": "no" if q.get("pass_on") == "no" else "yes", "adjust": kind,
                "adjust_points": shown(q.get(kind)) if kind else ""}

    def from_editor(self, values):
        out: dict[str, Any] = {"pass_on": "no"} if values.get("pass_on") == "no" else {}
        if values.get("adjust") in ("bonus", "deduction"):
            out[values["adjust"]] = number_or_text(values.get("adjust_points"))
        return out, []

    def demo_answer(self, q, p, rng, visit, at):
        if self.adjustment(q) is not None:  # a bonus is rare, a deduction rarer
            chance = 0.3 if q.bonus is not None else 0.9
            return q.pass_on if rng.random() < chance else ("no" if q.pass_on == "yes" else "yes")
        if not q.scored:
            return "yes" if rng.random() < 0.4 else "no"
        return q.pass_on if rng.random() < p else ("no" if q.pass_on == "yes" else "yes")

    def best_answer(self, q, visit):
        return q.pass_on if q.scored or self.adjustment(q) is not None else "yes"


@register
class Scale(Scoreable):
    name = "scale"
    label = "Scale (min to max)"
    numeric = True
    editor_groups = ("scale",)
    editor_fields = {"min": "scale_min", "max": "scale_max", "labels": "labels"}
    editor_problems = {"min_not_below_max": "scale_min", "scale_too_long": "scale_min",
                       "scale_label_outside": "labels"}

    class Model(QuestionBase, ScoredMixin):
        type: Literal["scale"]
        min: int
        max: int
        labels: dict[int, Text] | None = None

        @model_validator(mode="after")
        def ordered(self):
            if self.min >= self.max:
                raise problem("min_not_below_max")
            if self.max - self.min > 20:
                raise problem("scale_too_long")
            for k in self.labels or {}:
                if not self.min <= k <= self.max:
                    raise problem("scale_label_outside", point=k)
            return self

    def choices(self, q):
        return [(str(v), str(v)) for v in range(q.min, q.max + 1)]

    def parse(self, q, raw, today=None):
        value, trouble = self.choices_parse(q, raw)
        return (int(value) if isinstance(value, str) else value), trouble

    def earned(self, q, value):
        return (int(value) - q.min) / (q.max - q.min)

    def full_marks(self, q):
        return [str(q.max)]

    def display(self, q, text):
        return None if text is None else f"{text} (of {q.min}\u2013{q.max})"

    def answers_help(self, q):
        return f"a whole number from {q.get('min')} to {q.get('max')}"

    def to_editor(self, q):
        labels = q.get("labels") if isinstance(q.get("labels"), dict) else {}
        return {"scale_min": shown(q.get("min")), "scale_max": shown(q.get("max")),
                "labels": [{"point": shown(k), "text": shown(v)} for k, v in labels.items()]}

    def from_editor(self, values):
        out: dict[str, Any] = {"min": number_or_text(values.get("scale_min")),
                               "max": number_or_text(values.get("scale_max"))}
        labels: dict[Any, str] = {}
        trouble = []
        for i, row in values.get("labels", []):
            point = number_or_text(row.get("point"))
            point = point if point is not None else ""
            if point in labels:
                trouble.append((("labels", i, "point"), f"Point {shown(point)} already has a label above."))
            labels[point] = (row.get("text") or "").strip()
        if labels:
            out["labels"] = labels
        return out, trouble

    def demo_answer(self, q, p, rng, visit, at):
        if not q.scored:
            return rng.randint(q.min, q.max)
        x = min(1.0, max(0.0, rng.gauss(p, 0.18)))
        return q.min + round(x * (q.max - q.min))

    def best_answer(self, q, visit):
        return str(q.max)


@register
class Choice(Scoreable):
    name = "choice"
    label = "Choice (one option)"
    editor_groups = ("options",)
    editor_fields = {"options": "options"}
    editor_problems = {"options_too_few": "options", "options_repeated": "options",
                       "options_mixed_scores": "options"}

    class Model(QuestionBase, ScoredMixin):
        type: Literal["choice"]
        options: list[Option]

        @model_validator(mode="after")
        def options_ok(self):
            if len(self.options) < 2:
                raise problem("options_too_few")
            keys = [o.key for o in self.options]
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise problem("options_repeated", keys=", ".join(dupes))
            scored = [o.score is not None for o in self.options]
            if any(scored) and not all(scored):
                raise problem("options_mixed_scores")
            return self

    def scored(self, q):
        return q.scored_flag and any(o.score is not None for o in q.options)

    def unscored_reason(self, q):
        return "scored: false" if not q.scored_flag else "its options carry no score"

    def choices(self, q):
        return [(o.key, o.label) for o in q.options]

    def parse(self, q, raw, today=None):
        return self.choices_parse(q, raw)

    def earned(self, q, value):
        return {o.key: o.score or 0.0 for o in q.options}[value]

    def full_marks(self, q):
        return [o.key for o in q.options if (o.score or 0) >= 1]

    def answers_help(self, q):
        return ", ".join(str(o.get("key")) for o in _rows(q.get("options")))

    def to_editor(self, q):
        return {"options": [{n: shown(o.get(n)) for n in ("key", "label", "score")} for o in _rows(q.get("options"))]}

    def from_editor(self, values):
        options = []
        for _, row in values.get("options", []):
            option: dict[str, Any] = {"key": (row.get("key") or "").strip(), "label": (row.get("label") or "").strip()}
            score = number_or_text(row.get("score"))
            if score is not None:
                option["score"] = score
            options.append(option)
        return {"options": options}, []

    def demo_answer(self, q, p, rng, visit, at):
        if not q.scored:
            return rng.choice(q.options).key
        return _near(rng, p, [(o.key, o.score) for o in q.options])

    def best_answer(self, q, visit):
        return max(q.options, key=lambda o: o.score or 0).key


@register
class Multi(Choice):
    name = "multi"
    label = "Multi (several options)"

    class Model(Choice.Model):
        type: Literal["multi"]

    def parse(self, q, raw, today=None):
        picked = [v for v in (raw if isinstance(raw, (list, tuple)) else [raw]) if isinstance(v, str) and v]
        if not picked:
            return None, None
        if NA_VALUE in picked and q.allow_na:
            if len(picked) > 1:
                return None, ("na_alone", {})
            return NA, None
        allowed = [k for k, _ in self.choices(q)]
        if any(p not in allowed for p in picked):
            return None, ("choose_among", {})
        return [k for k in allowed if k in picked], None

    def loaded(self, q, text):
        return None if text is None else self.parse(q, text.split(";"))[0]

    def earned(self, q, value):
        scores = {o.key: o.score or 0.0 for o in q.options}
        return min(1.0, sum(scores[k] for k in value))

    def full_marks(self, q):
        return None  # several ticks may add up to full marks

    def display(self, q, text):
        labels = dict(self.choices(q))
        return None if text is None else ", ".join(labels.get(v, v) for v in text.split(";"))

    def demo_answer(self, q, p, rng, visit, at):
        picked = [o.key for o in q.options if rng.random() < (p * (o.score or 0.5) * 1.4 if q.scored else 0.4)]
        return picked or [q.options[0].key]

    def best_answer(self, q, visit):
        return [o.key for o in q.options]


@register
class Number(Scoreable):
    name = "number"
    label = "Number"
    numeric = True
    editor_groups = ("number",)
    editor_fields = {"unit": "unit", "min": "number_min", "max": "number_max", "bands": "bands"}
    editor_problems = {"min_not_below_max": "number_min", "bands_empty": "bands", "bands_last_max": "bands",
                       "bands_open_middle": "bands", "bands_order": "bands"}

    class Model(QuestionBase, ScoredMixin):
        type: Literal["number"]
        unit: Annotated[str, Field(max_length=40)] | None = None
        min: float | None = None
        max: float | None = None
        bands: list[Band] | None = None

        @model_validator(mode="after")
        def bands_ok(self):
            if self.min is not None and self.max is not None and self.min >= self.max:
                raise problem("min_not_below_max")
            if self.bands is not None:
                if not self.bands:
                    raise problem("bands_empty")
                *head, last = self.bands
                if last.max is not None:
                    raise problem("bands_last_max")
                if any(b.max is None for b in head):
                    raise problem("bands_open_middle")
                edges = [b.max for b in head]
                if any(later <= earlier for earlier, later in zip(edges, edges[1:])):
                    raise problem("bands_order")
            return self

    def scored(self, q):
        return q.scored_flag and bool(q.bands)

    def unscored_reason(self, q):
        return "scored: false" if not q.scored_flag else "a number without bands"

    def parse(self, q, raw, today=None):
        text = _first(raw)
        if not text:
            return None, None
        if text.lower() == NA_VALUE and q.allow_na:
            return NA, None
        value = _number(text)
        if value is None:
            return None, ("number", {})
        if q.min is not None and value < q.min:
            return None, ("number_min", {"min": q.min})
        if q.max is not None and value > q.max:
            return None, ("number_max", {"max": q.max})
        return value, None

    def earned(self, q, value):
        number = float(value)
        for band in q.bands or []:
            if band.max is None or number <= band.max:
                return band.score
        raise ValueError(f"question {q.key} has no band for {value}")

    def can_take(self, q, value):
        number = _number(str(value))
        return (number is not None and (q.min is None or number >= q.min)
                and (q.max is None or number <= q.max))

    def allowed(self, q):
        if q.min is not None and q.max is not None:
            return f"a number from {answer_text(q.min)} to {answer_text(q.max)}"
        return "a number"

    def display(self, q, text):
        return f"{text} {q.unit}" if text is not None and q.unit else text

    def answers_help(self, q):
        return "a number"

    def to_editor(self, q):
        return {"unit": shown(q.get("unit")), "number_min": shown(q.get("min")), "number_max": shown(q.get("max")),
                "bands": [{n: shown(b.get(n)) for n in ("max", "score")} for b in _rows(q.get("bands"))]}

    def from_editor(self, values):
        out: dict[str, Any] = {}
        unit = (values.get("unit") or "").strip()
        if unit:
            out["unit"] = unit
        for key, name in (("min", "number_min"), ("max", "number_max")):
            value = number_or_text(values.get(name))
            if value is not None:
                out[key] = value
        bands = []
        for _, row in values.get("bands", []):
            band: dict[str, Any] = {}
            top = number_or_text(row.get("max"))
            if top is not None:
                band["max"] = top
            band["score"] = number_or_text(row.get("score"))
            bands.append(band)
        if bands:
            out["bands"] = bands
        return out, []

    def demo_answer(self, q, p, rng, visit, at):
        low = q.min if q.min is not None else 0
        high = q.max if q.max is not None else 600
        if not q.bands:
            return float(round(low + (high - low) * rng.random() * 0.2))
        edges = [b.max for b in q.bands[:-1]]
        i = int(_near(rng, p, [(str(i), b.score) for i, b in enumerate(q.bands)]))
        lo = low if i == 0 else edges[i - 1]
        hi = edges[i] if i < len(edges) else max(lo * 2, lo + 30)
        return float(round(lo + (hi - lo) * rng.uniform(0.1, 1.0)))

    def best_answer(self, q, visit):
        return str(int(q.min or 0))


def _near(rng: random.Random, p: float, scored: list[tuple[str, float]]) -> str:
    """Pick the answer whose score is near ``p``, now and then another."""
    weights = [math.exp(-((s - p) ** 2) / 0.04) for _, s in scored]
    return rng.choices([k for k, _ in scored], weights=weights)[0]


# ============================================================================ unscored types


class PlainModel(QuestionBase):
    """Unscored types carry no scoring keys: a ``weight`` on them is an unknown key."""


@register
class FreeText(QuestionType):
    name = "text"
    label = "Text"
    required_by_default = False
    verbatim = True

    class Model(PlainModel):
        type: Literal["text"]

    def parse(self, q, raw, today=None):
        text = (raw[0] if isinstance(raw, (list, tuple)) and raw else raw) or ""
        text = clean_text(text if isinstance(text, str) else "")
        if len(text) > TEXT_MAX:
            return None, ("text_long", {"max": TEXT_MAX, "count": len(text)})
        return (text or None), None

    def demo_answer(self, q, p, rng, visit, at):
        return rng.choice(DEMO_COMMENTS) if rng.random() < 0.3 else None

    def best_answer(self, q, visit):
        return "All fine."


@register
class Date(QuestionType):
    name = "date"
    label = "Date"

    class Model(PlainModel):
        type: Literal["date"]

    def parse(self, q, raw, today=None):
        text = _first(raw)
        if not text:
            return None, None
        try:
            value = date.fromisoformat(text)
        except ValueError:
            return None, ("date", {})
        if today is not None and value > today:
            # Every date a shopper is asked (a reply, a delivery) has happened by the time they report it.
            return None, ("date_future", {})
        return value, None

    def demo_answer(self, q, p, rng, visit, at):
        return visit

    def best_answer(self, q, visit):
        return visit.isoformat()


@register
class Time(QuestionType):
    name = "time"
    label = "Time"

    class Model(PlainModel):
        type: Literal["time"]

    def parse(self, q, raw, today=None):
        text = _first(raw)
        if not text:
            return None, None
        try:
            return time.fromisoformat(text).replace(second=0, microsecond=0), None
        except ValueError:
            return None, ("time", {})

    def demo_answer(self, q, p, rng, visit, at):
        return at

    def best_answer(self, q, visit):
        return "12:15"


@register
class Photo(QuestionType):
    name = "photo"
    label = "Photo"
    required_by_default = False
    upload = True

    class Model(PlainModel):
        type: Literal["photo"]

    def parse(self, q, raw, today=None):
        return None, None  # a photo is a file: survey/shopper/uploads.py checks and stores it


#: C0 control characters but tab and line breaks: nobody types them, and
#: PostgreSQL refuses to store NUL in text (a 500 instead of an answer).
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def clean_text(raw: str | None) -> str:
    """Return typed text without surrounding space and without control characters."""
    return (raw or "").translate(_CONTROL).strip()


#: What demo shoppers write in text answers and comments.
DEMO_COMMENTS = [
    "The assistant was friendly but clearly in a hurry.",
    "Had to wait while two staff members chatted at the till.",
    "Very helpful, explained the options without pushing the expensive one.",
    "Nobody offered help until I asked at the counter.",
    "Shop was tidy, but the fitting room area was cluttered.",
    "Answered every question, even checked stock at another branch.",
    "Felt rushed at the end; no goodbye.",
    "Great experience, I would come back.",
]
