"""Question types for the shopper's form: each knows its WTForms field and how to read an answer.

The form is the one dynamic form of the app: ``forms.build_form`` asks this
registry for a field per question and, on POST, for the answer read from it.
Reading returns ``(value, error)``; required-ness and ``show_if`` are decided
by the form afterwards, because they depend on other answers.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask_babel import format_decimal, gettext
from wtforms import FileField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..checklist.conditions import NA

TEXT_MAX = 5000
NA_VALUE = "na"


#: C0 control characters but tab and line breaks: nobody types them, and
#: PostgreSQL refuses to store NUL in text (a 500 instead of an answer).
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def clean_text(raw: str | None) -> str:
    """Return typed text without surrounding space and without control characters."""
    return (raw or "").translate(_CONTROL).strip()


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _declare(pairs: list[tuple[str, str]], allow_na: bool) -> list[SelectChoice]:
    pairs = pairs + ([(NA_VALUE, "N/A")] if allow_na else [])
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QuestionType:
    """Base: a free-text field."""

    def choices(self, q) -> list[tuple[str, str]]:
        return []

    def field(self, q):
        return StringField(q.text, description=q.help or "")

    def read(self, q, field) -> tuple[Any, str | None]:
        raw = clean_text(field.data)
        return (raw or None), None


class OptionsType(QuestionType):
    """One answer out of a fixed list: yes/no, a scale point, or a choice."""

    def field(self, q):
        choices = _declare(self.choices(q), getattr(q, "allow_na", False))
        return RadioField(q.text, choices=choices, validate_choice=False, description=q.help or "")

    def read(self, q, field):
        raw = field.data
        if raw in (None, "", "None"):
            return None, None
        if raw == NA_VALUE and getattr(q, "allow_na", False):
            return NA, None
        if raw not in {k for k, _ in self.choices(q)}:
            return None, gettext("Choose one of the answers shown.")
        return self.convert(q, raw), None

    def convert(self, q, raw: str) -> Any:
        return raw


class YesNo(OptionsType):
    def choices(self, q):
        return [("yes", "Yes"), ("no", "No")]


class Scale(OptionsType):
    def choices(self, q):
        return [(str(v), str(v)) for v in range(q.min, q.max + 1)]

    def convert(self, q, raw):
        return int(raw)


class Choice(OptionsType):
    def choices(self, q):
        return [(o.key, o.label) for o in q.options]


class Multi(QuestionType):
    def choices(self, q):
        return [(o.key, o.label) for o in q.options]

    def field(self, q):
        choices = _declare(self.choices(q), q.allow_na)
        return MultiCheckboxField(q.text, choices=choices, validate_choice=False, description=q.help or "")

    def read(self, q, field):
        picked = [v for v in (field.data or []) if v]
        if not picked:
            return None, None
        if NA_VALUE in picked and q.allow_na:
            if len(picked) > 1:
                return None, gettext("Tick N/A on its own, or untick it.")
            return NA, None
        allowed = [k for k, _ in self.choices(q)]
        if any(p not in allowed for p in picked):
            return None, gettext("Choose among the answers shown.")
        return [k for k in allowed if k in picked], None


class Number(QuestionType):
    def field(self, q):
        return StringField(q.text, description=q.help or "")

    def read(self, q, field):
        raw = (field.data or "").strip()
        if not raw:
            return None, None
        value = _number(raw)
        if value is None:
            return None, gettext("Enter a number, for example 45.")
        if q.min is not None and value < q.min:
            return None, gettext("Enter a number of at least %(min)s.", min=format_decimal(q.min))
        if q.max is not None and value > q.max:
            return None, gettext("Enter a number no larger than %(max)s.", max=format_decimal(q.max))
        return value, None


class Text(QuestionType):
    def field(self, q):
        return TextAreaField(q.text, description=q.help or "")

    def read(self, q, field):
        raw = clean_text(field.data)
        if len(raw) > TEXT_MAX:
            return None, gettext("Please keep this under %(max)s characters (it has %(count)s).",
                                 max=format_decimal(TEXT_MAX), count=format_decimal(len(raw)))
        return (raw or None), None


class Date(QuestionType):
    def read(self, q, field):
        raw = (field.data or "").strip()
        if not raw:
            return None, None
        try:
            return date.fromisoformat(raw), None
        except ValueError:
            return None, gettext("Enter a date, for example 2026-11-02.")


class Time(QuestionType):
    def read(self, q, field):
        raw = (field.data or "").strip()
        if not raw:
            return None, None
        try:
            return time.fromisoformat(raw).replace(second=0, microsecond=0), None
        except ValueError:
            return None, gettext("Enter a time, for example 14:30.")


class Photo(QuestionType):
    """Files are checked and stored by the view (they need the disk); here only the fields."""

    def field(self, q):
        return FileField(q.text, description=q.help or "")

    def read(self, q, field):
        return None, None


REGISTRY: dict[str, QuestionType] = {
    "yes_no": YesNo(),
    "scale": Scale(),
    "choice": Choice(),
    "multi": Multi(),
    "number": Number(),
    "text": Text(),
    "date": Date(),
    "time": Time(),
    "photo": Photo(),
}
