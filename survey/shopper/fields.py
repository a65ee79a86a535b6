"""The shopper's form field for each question type, looked up by the type's name.

What an answer *means* (parsing, checks, points) belongs to the type
(``survey/checklist/types.py``); here is only how it is asked on the phone: the WTForms
field, any field beside it (N/A for a number, the kept photo), which markup
``templates/_macros/forms.html`` writes (``widget``), and how its raw value is read for
the type to parse. The words of the type's parse problems, in the page's language, are
``PROBLEMS`` at the end.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal, lazy_gettext as _l
from wtforms import BooleanField, FileField, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..checklist.types import NA_VALUE


def field_name(key: str, suffix: str = "", n: int | None = None) -> str:
    """Name a question's field (``suffix``: a field beside it); ``n``: its repetition in a repeated section."""
    base = f"q_{key}" if n is None else f"q_{key}-{n}"
    return f"{base}__{suffix}" if suffix else base


def slot_name(slot: Any, suffix: str = "") -> str:
    """Name the field of an answer's slot (``conditions.Slot``: a key, or ``(key, n)``)."""
    return field_name(slot, suffix) if isinstance(slot, str) else field_name(slot[0], suffix, slot[1])


def count_name(section_key: str) -> str:
    """Name the hidden field that says how many repetitions a repeated section has."""
    return f"n_{section_key}"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _declare(q: Any, allow_na: bool) -> list[SelectChoice]:
    pairs = q.kind.choices(q) + ([(NA_VALUE, "N/A")] if allow_na else [])
    return [SelectChoice(value, label) for value, label in pairs]


class Builder:
    """A one-line answer (``widget`` "line")."""

    #: Which markup the question macro writes: options, number, text, native, photo or line.
    widget = "line"
    #: The answers are the same few words in every checklist (yes, no): the page translates them.
    fixed_words = False

    def field(self, q: Any):
        return StringField(q.text, description=q.help or "")

    def extra(self, q: Any) -> dict[str, Any]:
        """Fields beside the answer's own, by name suffix (``field_name(key, suffix)``)."""
        return {}

    def raw(self, form: Any, q: Any, n: int | None = None) -> Any:
        """Return what the shopper sent for ``q`` (in repetition ``n``), for its type to parse."""
        return form[field_name(q.key, "", n)].data

    def fail_hint(self, q: Any) -> str:
        """Name the words (``fill.html``'s ``words``) under an on_fail comment box."""
        return "short"

    def prefill(self, q: Any, text: str | None, status: str) -> dict[str, Any]:
        """Return the fields, by name suffix, that show a stored answer again (a returned visit)."""
        if status == "na" and getattr(q, "allow_na", False):
            return {"": NA_VALUE}
        return {"": text} if text is not None and status == "answered" else {}


class Options(Builder):
    """One answer out of the type's fixed answers, as radio buttons."""

    widget = "options"
    input = "radio"

    def field(self, q):
        return RadioField(q.text, choices=_declare(q, q.allow_na), validate_choice=False, description=q.help or "")

    def layout(self, q) -> str:
        """Return the answers' layout class (after ``o``): a column by default."""
        return ""


class YesNo(Options):
    fixed_words = True

    def layout(self, q):
        return " three" if q.allow_na else " two"

    def fail_hint(self, q):
        return "if_no" if q.pass_on == "yes" else "if_yes"


class Scale(Options):
    def layout(self, q):
        return " row"


class Multi(Options):
    input = "checkbox"

    def prefill(self, q, text, status):
        found = super().prefill(q, text, status)
        return {"": found[""].split(";")} if found.get("") not in (None, NA_VALUE) else found

    def field(self, q):
        return MultiCheckboxField(q.text, choices=_declare(q, q.allow_na), validate_choice=False,
                                  description=q.help or "")


class Number(Builder):
    widget = "number"

    def extra(self, q):
        return {"na": BooleanField(_l("N/A"))} if q.allow_na else {}

    def raw(self, form, q, n=None):
        if q.allow_na and form[field_name(q.key, "na", n)].data:
            return NA_VALUE
        return form[field_name(q.key, "", n)].data

    def prefill(self, q, text, status):
        found = super().prefill(q, text, status)
        return {"na": "y"} if found.get("") == NA_VALUE else found


class Text(Builder):
    widget = "text"

    def field(self, q):
        return TextAreaField(q.text, description=q.help or "")


class Native(Builder):
    """A date or a time: the phone's own picker (``<input type="date">``, ``"time"``)."""

    widget = "native"

    def __init__(self, input: str):
        self.input = input


class Photo(Builder):
    """Files are checked and stored by ``uploads``; a kept photo's id rides in a hidden field."""

    widget = "photo"

    def field(self, q):
        return FileField(q.text, description=q.help or "")

    def extra(self, q):
        return {"upload": HiddenField()}

    def raw(self, form, q, n=None):
        return None

    def prefill(self, q, text, status):
        return {}  # the kept photo's id is set from the attachment (drafts.returned_fields)


#: Question type name → how the shopper is asked it.
BUILDERS: dict[str, Builder] = {
    "yes_no": YesNo(),
    "scale": Scale(),
    "choice": Options(),
    "multi": Multi(),
    "number": Number(),
    "text": Text(),
    "date": Native("date"),
    "time": Native("time"),
    "photo": Photo(),
}


def builder(q: Any) -> Builder:
    return BUILDERS[q.type]


#: The words of each parse problem a type reports (``types.QuestionType.parse``).
PROBLEMS = {
    "choose_shown": _l("Choose one of the answers shown."),
    "choose_among": _l("Choose among the answers shown."),
    "na_alone": _l("Tick N/A on its own, or untick it."),
    "number": _l("Enter a number, for example 45."),
    "number_min": _l("Enter a number of at least %(min)s."),
    "number_max": _l("Enter a number no larger than %(max)s."),
    "text_long": _l("Please keep this under %(max)s characters (it has %(count)s)."),
    "date": _l("Enter a date, for example 2026-11-02."),
    "date_future": _l("This date can't be in the future."),
    "time": _l("Enter a time, for example 14:30."),
}


def problem_words(code: str, params: dict[str, Any]) -> str:
    """Word a type's parse problem in the page's language, numbers as the language writes them."""
    words = str(PROBLEMS[code])
    return words % {k: format_decimal(v) for k, v in params.items()} if params else words
