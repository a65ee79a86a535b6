"""Forms of the HQ checklist editor, and their translation to and from the checklist file format.

Each form turns what was typed into a piece of checklist content *without
judging it*: a weight of ``abc`` goes into the content as the text ``abc``, so
that the one set of rules (``loader.validate_content``, the YAML import's)
decides, and its message lands beside the field that was typed in. Numbers
that parse become numbers; empty fields are left out (the format's defaults).
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..checklist.edits import Problem
from ..checklist.types import REGISTRY, kind_of, number_or_text, shown
from ..extensions import db
from ..models import Checklist, ChecklistDraft

CHANNELS = [("visit", "Visit to a branch"), ("call", "Phone call"), ("email", "E-mail"), ("chat", "Chat")]
#: Blank rows offered under the filled ones, so an option or band can be added without JavaScript.
SPARE_ROWS = 2
#: A checklist file is a few KB; this stops a file that would hold a worker for seconds in the parser.
IMPORT_MAX_CHARS = 500_000
MAX_ROWS = 40


def options(pairs) -> list[SelectChoice]:
    """Spell select choices the way WTForms 3.3 wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _add_error(field, message: str) -> None:
    field.errors = list(field.errors or []) + [message]


class EditForm(FlaskForm):
    """Base of every form that changes a draft: it carries the draft revision it was opened at."""

    revision = HiddenField()

    def posted_revision(self) -> str | None:
        return (self.revision.data or "").strip() or None


# ------------------------------------------------------------------ show_if


class ShowIfForm(Form):
    question = SelectField(
        "Only if the answer to", choices=options([("", "— always shown —")]), validate_choice=False,
        description="An earlier question. Leave at “always shown” for no condition.",
    )
    op = SelectField(
        "is", choices=options([("equals", "equal to"), ("in", "one of"), ("above", "above"), ("below", "below")]),
        validate_choice=False, description="“above” and “below” are strict and need a scale or number question.",
    )
    value = StringField(
        "Value", description="An answer: yes, no, an option key or a scale point; for “one of”, several "
                             "separated by commas; for above/below, a number.",
    )

    def fill(self, rule: Any) -> None:
        if not isinstance(rule, dict):
            return
        self.question.data = shown(rule.get("question"))
        for op in ("equals", "in", "above", "below"):
            if op in rule:
                self.op.data = op
                value = rule[op]
                self.value.data = ", ".join(shown(v) for v in value) if isinstance(value, list) else shown(value)
                break

    def to_rule(self) -> dict[str, Any] | None:
        question = _clean(self.question.data)
        if question is None:
            return None
        rule: dict[str, Any] = {"question": question}
        op = self.op.data if self.op.data in ("equals", "in", "above", "below") else "equals"
        raw = (self.value.data or "").strip()
        if raw:
            if op == "in":
                rule["in"] = [_answer(v) for v in raw.split(",") if v.strip()]
            elif op == "equals":
                rule["equals"] = _answer(raw)
            else:
                rule[op] = number_or_text(raw)
        return rule

    def place(self, rest: tuple, problem: Problem) -> bool:
        if rest[:1] == ("question",):
            _add_error(self.question, problem.message)
        elif not rest and problem.code == "show_if_not_numeric":
            _add_error(self.op, problem.message)
        else:
            _add_error(self.value, problem.message)
        return True

    def offer(self, earlier: list[tuple[str, str]]) -> None:
        """Offer the earlier questions; keep a typed key that isn't one, so its message makes sense."""
        choices = [("", "— always shown —")] + earlier
        if self.question.data and self.question.data not in {k for k, _ in choices}:
            choices.append((self.question.data, f"{self.question.data} (not an earlier question)"))
        self.question.choices = options(choices)


def _answer(raw: str) -> str | int | float:
    """An answer value as the file would hold it: scale points as numbers, anything else as text."""
    value = number_or_text(raw.strip())
    return value if isinstance(value, (int, float)) else raw.strip()


# ------------------------------------------------------------------ rows


class OptionRowForm(Form):
    key = StringField("Key", description="lower_snake_case; stored with each answer, so keep it once published.")
    label = StringField("Label", description="What the shopper reads.")
    score = StringField("Score", description="0 to 1. Give every option a score, or none (unscored).")


class BandRowForm(Form):
    max = StringField("Up to", description="The band's highest value, inclusive. Empty on the last band.")
    score = StringField("Score", description="0 to 1.")


class LabelRowForm(Form):
    point = StringField("Point", description="A whole number between min and max.")
    text = StringField("Label", description="What that point means, e.g. “Rude”.")


def _rows_blank(row: Form) -> bool:
    return all(not (f.data or "").strip() for f in row)


def pad(field_list: FieldList, spare: int = SPARE_ROWS, at_least: int = 0) -> None:
    """Offer blank rows after the last filled one."""
    filled = [e for e in field_list.entries if not _rows_blank(e.form)]
    blanks = len(field_list.entries) - len(filled)
    while (blanks < spare or len(field_list.entries) < at_least) and len(field_list.entries) < MAX_ROWS:
        field_list.append_entry()
        blanks += 1


# ------------------------------------------------------------------ checklist


class NewChecklistForm(FlaskForm):
    slug = StringField(
        "Slug", validators=[InputRequired(message="Give the checklist a slug."), Length(max=64)],
        description="Its short name in links and files, e.g. store-visit: lower-case letters, digits, "
                    "hyphens. It can't be changed later.",
    )
    title = StringField("Title", validators=[InputRequired(message="Give the checklist a title.")],
                        description="What shoppers and reports call it, e.g. “Store visit”.")
    channel = SelectField("Channel", choices=options(CHANNELS), validate_choice=False,
                          description="How the shopper contacts the branch.")

    def validate_slug(self, field) -> None:
        slug = (field.data or "").strip()
        taken = db.session.scalar(db.select(Checklist.id).filter_by(slug=slug)) or db.session.scalar(
            db.select(ChecklistDraft.id).filter_by(slug=slug))
        if taken:
            raise ValidationError(f"There is already a checklist “{slug}”. Pick another slug, or edit that one.")

    def to_content(self) -> dict[str, Any]:
        return {"slug": (self.slug.data or "").strip(), "title": (self.title.data or "").strip(),
                "channel": self.channel.data, "sections": []}

    def place(self, path: tuple, problem: Problem) -> bool:
        field = getattr(self, str(path[0]), None) if path else None
        if field is None or path[0] not in ("slug", "title", "channel"):
            return False
        _add_error(field, problem.message)
        return True


class OutcomeRowForm(Form):
    key = StringField("Key", description="lower_snake_case, e.g. no_answer; stored with the visit.")
    label = StringField("Label", description="What the shopper picks and reports show, e.g. “Nobody answered "
                                             "three calls”.")
    score = SelectField("Counts as", validate_choice=False, choices=options([
        ("0", "Counted, scores 0"), ("none", "Not counted: not done")]))
    standards = StringField("Standards", description="For a counted one: the standards it scores 0 on, "
                                                     "separated by commas; empty for every standard.")

    def blank(self) -> bool:
        return not any((f.data or "").strip() for f in (self.key, self.label, self.standards))

    def fill(self, outcome: dict[str, Any]) -> None:
        self.key.data, self.label.data = shown(outcome.get("key")), shown(outcome.get("label"))
        self.score.data = "none" if outcome.get("score") == "none" else shown(outcome.get("score"))
        standards = outcome.get("standards")
        self.standards.data = ", ".join(map(shown, standards)) if isinstance(standards, list) else shown(standards)

    def to_outcome(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": (self.key.data or "").strip(), "label": (self.label.data or "").strip()}
        score = (self.score.data or "").strip()
        out["score"] = "none" if score == "none" else number_or_text(score) if score else None
        standards = [k.strip() for k in (self.standards.data or "").split(",") if k.strip()]
        if standards:
            out["standards"] = standards
        return out


class SettingsForm(EditForm):
    title = StringField("Title", description="What shoppers and reports call this checklist.")
    channel = SelectField("Channel", choices=options(CHANNELS), validate_choice=False,
                          description="How the shopper contacts the branch.")
    language = StringField("Language", description="A language code such as en or de-CH.")
    on_critical_fail = SelectField(
        "On a critical failure", validate_choice=False,
        choices=options([("zero", "Score the visit 0 (zero)"), ("flag", "Keep the score, flag the visit (flag)")]),
        description="What a failed critical question marked “true” does; a question can say zero or flag itself.",
    )
    review = SelectField(
        "Review", validate_choice=False,
        choices=options([("auto", "Count each visit on arrival (auto)"),
                         ("hq", "Hold each visit until HQ approves it (hq)")]),
        description="Under hq, a visit waits in HQ's review queue and counts in no report until approved.",
    )
    min_minutes = StringField(
        "Minimum minutes", description="Optional. A form sent faster than this after its first answer is "
                                       "flagged “fast” for review, e.g. 5.")
    help = TextAreaField("Guidance for shoppers",
                         description="Shown under the title, e.g. “Fill this in right after you leave.”")

    visit_date = SelectField("The visit's date is the question", validate_choice=False,
                             choices=options([("", "— a separate date field —")]),
                             description="A date question of this checklist that is the visit's date: the form "
                                         "then asks the date once.")
    visit_time = SelectField("The visit's time is the question", validate_choice=False,
                             choices=options([("", "— a separate time field —")]),
                             description="Only with a date question above.")
    outcomes = FieldList(FormField(OutcomeRowForm), label="Ways a shop can end unfilled", max_entries=MAX_ROWS)

    FIELDS = ("title", "channel", "language", "on_critical_fail", "review", "min_minutes", "help")
    #: What an empty choice means; stored only when it differs.
    DEFAULTS = {"on_critical_fail": "zero", "review": "auto"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: Which form row each outcome came from, so a message on outcomes[1] finds its row.
        self.rows: list[int] = []
        #: Messages about the outcomes as a whole, shown above their rows.
        self.group_errors: list[str] = []

    def fill(self, content: dict[str, Any]) -> None:
        for name in self.FIELDS:
            getattr(self, name).data = shown(content.get(name))
        self.language.data = self.language.data or "en"
        for name, default in self.DEFAULTS.items():
            getattr(self, name).data = getattr(self, name).data or default
        visit = content.get("visit") if isinstance(content.get("visit"), dict) else {}
        self.visit_date.data, self.visit_time.data = shown(visit.get("date")), shown(visit.get("time"))
        while self.outcomes.entries:
            self.outcomes.pop_entry()
        for outcome in content.get("outcomes") or []:
            self.outcomes.append_entry().form.fill(outcome if isinstance(outcome, dict) else {})

    def pad_rows(self) -> None:
        filled = [e for e in self.outcomes.entries if not e.form.blank()]
        while len(self.outcomes.entries) < len(filled) + SPARE_ROWS and len(self.outcomes.entries) < MAX_ROWS:
            self.outcomes.append_entry()

    def apply(self, content: dict[str, Any]) -> dict[str, Any]:
        out = dict(content)
        for name in self.FIELDS + ("visit", "outcomes"):
            out.pop(name, None)
        for name in self.FIELDS:
            value = _clean(getattr(self, name).data)
            if name == "min_minutes":
                value = number_or_text(value)
            if value is not None and value != self.DEFAULTS.get(name):
                out[name] = value
        out.setdefault("title", "")
        date, time = _clean(self.visit_date.data), _clean(self.visit_time.data)
        if date or time:
            out["visit"] = {"date": date, **({"time": time} if time else {})}
        kept = [(i, e.form) for i, e in enumerate(self.outcomes.entries) if not e.form.blank()]
        self.rows = [i for i, _ in kept]
        if kept:
            out["outcomes"] = [row.to_outcome() for _, row in kept]
        return out

    def place(self, path: tuple, problem: Problem) -> bool:
        if path and path[0] in self.FIELDS:
            _add_error(getattr(self, path[0]), problem.message)
            return True
        if path[:1] == ("visit",):
            _add_error(self.visit_time if path[1:2] == ("time",) else self.visit_date, problem.message)
            return True
        if path[:1] == ("outcomes",):
            rest = path[1:]
            if rest and isinstance(rest[0], int) and rest[0] < len(self.rows):
                row = self.outcomes.entries[self.rows[rest[0]]].form
                column = rest[1] if len(rest) > 1 and rest[1] in row._fields else None
                _add_error(row[column or "key"], problem.message)
            else:
                self.group_errors.append(problem.message)
            return True
        return False

    def offer(self, content: dict[str, Any]) -> None:
        """Offer the checklist's date and time questions; keep a typed key that is none, so its message makes sense."""
        found: dict[str, list[tuple[str, str]]] = {"date": [], "time": []}
        for section in content.get("sections") or []:
            for q in section.get("questions") or [] if isinstance(section, dict) else []:
                if isinstance(q, dict) and q.get("type") in found:
                    found[q["type"]].append((shown(q.get("key")), f"{shown(q.get('text'))} ({shown(q.get('key'))})"))
        for field, kind, none in ((self.visit_date, "date", "— a separate date field —"),
                                  (self.visit_time, "time", "— a separate time field —")):
            choices = [("", none)] + found[kind]
            if field.data and field.data not in {k for k, _ in choices}:
                choices.append((field.data, f"{field.data} (not a {kind} question)"))
            field.choices = options(choices)


# ------------------------------------------------------------------ sections


class RepeatForm(Form):
    """A section asked once per person met or item ordered (SPEC §3 ``repeat``)."""

    on = BooleanField("Ask this section once per person or item (a repeated section)",
                      description="E.g. once for each employee met. The shopper adds repetitions as needed; "
                                  "the section's score is the mean of its repetitions.")
    min = StringField("At least", description="Repetitions the shopper must fill; default 1.")
    max = StringField("At most", description="The most repetitions allowed, up to 50.")
    heading = StringField("Heading of each", description="{n} is its number, e.g. “Employee {n}”.")
    add = StringField("Add button", description="The words of the button that adds one, "
                                                "e.g. “Add another employee”.")

    #: The file's keys and their fields ("label" is taken: every WTForms field has one).
    KEYS = {"min": "min", "max": "max", "label": "heading", "add": "add"}

    def fill(self, repeat: Any) -> None:
        self.on.data = isinstance(repeat, dict)
        for key, name in self.KEYS.items():
            getattr(self, name).data = shown(repeat.get(key)) if isinstance(repeat, dict) else ""

    def to_repeat(self) -> dict[str, Any] | None:
        """The section's ``repeat`` as typed (numbers that parse become numbers), or None when not repeated."""
        if not self.on.data:
            return None
        out: dict[str, Any] = {}
        for key, name in self.KEYS.items():
            raw = getattr(self, name).data
            value = number_or_text(raw) if key in ("min", "max") else _clean(raw)
            if value is not None:
                out[key] = value
        return out

    def place(self, rest: tuple, problem: Problem) -> bool:
        name = self.KEYS.get(rest[0], "on") if rest else "on"
        _add_error(getattr(self, name), problem.message)
        return True


class SectionForm(EditForm):
    key = StringField("Key", description="lower_snake_case, unique in the checklist; reports use it.")
    title = StringField("Title", description="The section's heading, e.g. “Arrival and greeting”.")
    help = TextAreaField("Guidance for shoppers", description="Shown under the heading. Optional.")
    weight = StringField("Weight", description="Relative weight of this section in the overall score; default 1.")
    show_if = FormField(ShowIfForm, label="Show this section only if…")
    repeat = FormField(RepeatForm, label="Repeated section")

    def fill(self, section: dict[str, Any]) -> None:
        for name in ("key", "title", "help", "weight"):
            getattr(self, name).data = shown(section.get(name))
        self.show_if.form.fill(section.get("show_if"))
        self.repeat.form.fill(section.get("repeat"))

    def apply(self, section: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"key": (self.key.data or "").strip(), "title": (self.title.data or "").strip()}
        if _clean(self.help.data):
            out["help"] = _clean(self.help.data)
        weight = number_or_text(self.weight.data)
        if weight is not None:
            out["weight"] = weight
        rule = self.show_if.form.to_rule()
        if rule:
            out["show_if"] = rule
        repeat = self.repeat.form.to_repeat()
        if repeat is not None:
            out["repeat"] = repeat
        out["questions"] = section.get("questions", [])
        return out

    def place(self, rest: tuple, problem: Problem) -> bool:
        """Put a message about this section (path below ``sections[i]``) beside its field."""
        if rest[:1] == ("show_if",):
            return self.show_if.form.place(rest[1:], problem)
        if rest[:1] == ("repeat",):
            return self.repeat.form.place(rest[1:], problem)
        if rest[:1] and rest[0] in ("key", "title", "help", "weight"):
            _add_error(getattr(self, rest[0]), problem.message)
            return True
        return False


class AddSectionForm(EditForm):
    title = StringField("Title", description="The new section's heading.")
    key = StringField("Key", description="Optional: made from the title when left empty.")
    weight = StringField("Weight", description="Optional; default 1.")

    def to_section(self, key: str) -> dict[str, Any]:
        out: dict[str, Any] = {"key": key, "title": (self.title.data or "").strip()}
        weight = number_or_text(self.weight.data)
        if weight is not None:
            out["weight"] = weight
        out["questions"] = []
        return out

    def place(self, rest: tuple, problem: Problem) -> bool:
        if rest[:1] and rest[0] in ("key", "title", "weight"):
            _add_error(getattr(self, rest[0]), problem.message)
            return True
        return False


# ------------------------------------------------------------------ questions


def type_choices() -> list[SelectChoice]:
    """Offer every registered question type, by the editor's name for it."""
    return options((name, kind.label) for name, kind in REGISTRY.items())


class AddQuestionForm(EditForm):
    text = StringField("Question", description="As the shopper reads it, e.g. “Were you greeted within 30 seconds?”")
    type = SelectField("Type", choices=type_choices, validate_choice=False,
                       description="What kind of answer it takes.")
    key = StringField("Key", description="Optional: made from the question when left empty.")

    def to_question(self, key: str) -> dict[str, Any]:
        return {"key": key, "text": (self.text.data or "").strip(), "type": self.type.data or "yes_no"}

    def place(self, rest: tuple, problem: Problem) -> bool:
        if rest[:1] and rest[0] in ("key", "text", "type"):
            _add_error(getattr(self, rest[0]), problem.message)
            return True
        return False


class QuestionForm(EditForm):
    """One question with every key of SPEC §3; the fields that don't fit its type are ignored on save."""

    key = StringField("Key", description="lower_snake_case, unique in the checklist. Reports follow a question "
                                         "across versions by its key: keep it once published.")
    text = TextAreaField("Question", description="As the shopper reads it.")
    type = SelectField("Type", choices=type_choices, validate_choice=False,
                       description="Changing it shows that type's fields (press Save without JavaScript).")
    help = TextAreaField("Guidance for shoppers",
                         description="Shown under the question, e.g. “Count from stepping inside.”")
    required = SelectField(
        "Answer needed", validate_choice=False,
        choices=options([("", "Default"), ("true", "Required"), ("false", "Optional")]),
        description="Default: required, except text and photo. An optional scored question left blank counts as N/A.",
    )
    # scoring
    standard = SelectField("Standard", choices=options([("", "— none —")]), validate_choice=False,
                           description="The standard this question measures. Every scored question names one.")
    weight = StringField("Weight", description="Relative weight inside its section; default 1.")
    unscored = BooleanField("Not scored (a screener that only decides what is asked next)",
                            description="Sets scored: false; such a question names no standard.")
    critical = SelectField(
        "Critical", validate_choice=False,
        choices=options([("", "No"), ("true", "Yes, as the checklist says"), ("zero", "Yes: the visit scores 0"),
                         ("flag", "Yes: keep the score, flag the visit")]),
        description="A critical question answered with 0 points is a critical failure.",
    )
    comment = SelectField(
        "Comment box", validate_choice=False,
        choices=options([("", "None"), ("optional", "Optional comment"),
                         ("on_fail", "Required when it falls short (on_fail)")]),
        description="A comment that travels with the answer into reports and the CSV.",
    )
    allow_na = BooleanField("Offer “N/A”",
                            description="The shopper may answer not applicable; it then counts for nothing.")
    pass_on = SelectField("Points for", choices=options([("yes", "Yes"), ("no", "No (a negatively phrased question)")]),
                          validate_choice=False, description="Which answer earns the points.")
    adjust = SelectField(
        "Outside the sections", validate_choice=False,
        choices=options([("", "No: scored in its section"), ("bonus", "Bonus: adds points when it passes"),
                         ("deduction", "Deduction: takes points off when it fails")]),
        description="A bonus or deduction moves the overall score by a number of percentage points; "
                    "it has no weight and can't be critical.")
    adjust_points = StringField("Points", description="Percentage points, more than 0 and at most 100.")
    # scale
    scale_min = StringField("From", description="Lowest point, a whole number (e.g. 1).")
    scale_max = StringField("To", description="Highest point, a whole number; at most 20 above the lowest.")
    labels = FieldList(FormField(LabelRowForm), label="Point labels", max_entries=MAX_ROWS)
    # choice / multi
    options = FieldList(FormField(OptionRowForm), label="Options", max_entries=MAX_ROWS)
    # number
    unit = StringField("Unit", description="Shown after the box, e.g. seconds.")
    number_min = StringField("Lowest allowed", description="Optional.")
    number_max = StringField("Highest allowed", description="Optional.")
    bands = FieldList(FormField(BandRowForm), label="Score bands", max_entries=MAX_ROWS)
    show_if = FormField(ShowIfForm, label="Ask this question only if…")

    #: Content keys every type has, each shown in a single field of this form.
    SIMPLE = ("key", "text", "type", "help")
    #: Keys of the types that can earn points (``QuestionType.scoreable``), each in a single field.
    SCORING = ("standard", "weight", "critical", "comment")
    #: The lists of rows, by field name: their messages go beside a row, or above the list.
    ROWS = ("options", "bands", "labels")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: Which form row each content row came from, so a message on options[1] finds its row.
        self.rows: dict[str, list[int]] = {"options": [], "bands": [], "labels": []}
        #: Messages about a whole list (options, bands, labels), shown above its rows.
        self.group_errors: dict[str, list[str]] = {"options": [], "bands": [], "labels": []}

    # content → form
    def fill(self, q: dict[str, Any]) -> None:
        for name in self.SIMPLE + self.SCORING:
            getattr(self, name).data = shown(q.get(name))
        self.type.data = self.type.data or "yes_no"
        self.pass_on.data = "yes"
        self.required.data = "" if q.get("required") is None else shown(q.get("required"))
        critical = q.get("critical")
        self.critical.data = "" if critical in (None, False) else shown(critical)
        self.allow_na.data = q.get("allow_na") is True
        self.unscored.data = q.get("scored") is False
        kind = kind_of(q)
        for name, value in (kind.to_editor(q) if kind is not None else {}).items():
            if name in self.ROWS:
                _fill_rows(getattr(self, name), value)
            else:
                getattr(self, name).data = value
        self.show_if.form.fill(q.get("show_if"))

    def pad_rows(self) -> None:
        pad(self.options, at_least=3)
        pad(self.bands, at_least=3)
        pad(self.labels, at_least=2)

    # form → content
    def to_question(self) -> dict[str, Any]:
        """Turn what was typed into the question's content, without judging it (its type says how)."""
        name = self.type.data or "yes_no"
        q: dict[str, Any] = {"key": (self.key.data or "").strip(), "text": (self.text.data or "").strip(), "type": name}
        if _clean(self.help.data):
            q["help"] = _clean(self.help.data)
        if self.required.data in ("true", "false"):
            q["required"] = self.required.data == "true"
        kind = kind_of(q)
        if kind is not None:
            values: dict[str, Any] = {}
            for field_name in kind.editor_inputs:
                if field_name in self.ROWS:
                    kept = [(i, e.form) for i, e in enumerate(getattr(self, field_name).entries)
                            if not _rows_blank(e.form)]
                    self.rows[field_name] = [i for i, _ in kept]
                    values[field_name] = [(i, {f.short_name: f.data for f in row}) for i, row in kept]
                else:
                    values[field_name] = getattr(self, field_name).data
            content, trouble = kind.from_editor(values)
            q.update(content)
            for (field_name, i, column), message in trouble:
                _add_error(getattr(self, field_name).entries[i].form[column], message)
            if kind.scoreable:
                self._scoring_keys(q)
        rule = self.show_if.form.to_rule()
        if rule:
            q["show_if"] = rule
        return q

    def _scoring_keys(self, q: dict[str, Any]) -> None:
        if self.unscored.data:
            q["scored"] = False
        if _clean(self.standard.data):
            q["standard"] = _clean(self.standard.data)
        weight = number_or_text(self.weight.data)
        if weight is not None:
            q["weight"] = weight
        if self.critical.data in ("true", "zero", "flag"):
            q["critical"] = True if self.critical.data == "true" else self.critical.data
        if self.allow_na.data:
            q["allow_na"] = True
        if self.comment.data in ("optional", "on_fail"):
            q["comment"] = self.comment.data

    # messages → fields
    def place(self, rest: tuple, problem: Problem) -> bool:
        """Put a message about this question (its path below ``...questions[j]``) beside its field."""
        kind = kind_of({"type": self.type.data})
        fields = kind.editor_fields if kind is not None else {}
        if not rest:  # a rule about the question as a whole (pydantic's model checks): its type says where
            name = kind.editor_problems.get(problem.code) if kind is not None else None
            if name in self.ROWS:
                self.group_errors[name].append(problem.message)
            elif name:
                _add_error(getattr(self, name), problem.message)
            return name is not None
        head = rest[0]
        if head == "show_if":
            return self.show_if.form.place(rest[1:], problem)
        if head == "scored":
            _add_error(self.unscored, problem.message)
            return True
        name = fields.get(head, head)
        if name in self.ROWS:
            return self._place_row(name, rest[1:], problem.message)
        if name in self.SIMPLE + self.SCORING + ("required", "allow_na") or name in fields.values():
            _add_error(getattr(self, name), problem.message)
            return True
        return False

    def _place_row(self, name: str, rest: tuple, message: str) -> bool:
        rows = self.rows.get(name, [])
        if name == "labels":
            # labels are a mapping: the path names the point, not a row
            self.group_errors["labels"].append(f"{rest[0]}: {message}" if rest else message)
            return True
        if rest and isinstance(rest[0], int) and rest[0] < len(rows):
            row = getattr(self, name).entries[rows[rest[0]]].form
            column = rest[1] if len(rest) > 1 else None
            if column in row._fields:
                _add_error(row[column], message)
                return True
            self.group_errors[name].append(f"Row {rest[0] + 1}: {message}")
            return True
        self.group_errors[name].append(message)
        return True

    def offer(self, standards: list[tuple[str, str, bool]], earlier: list[tuple[str, str]]) -> None:
        """Fill the choices: live standards (plus the current one, even if retired) and earlier questions."""
        choices = [("", "— none —")] + [(key, title) for key, title, retired in standards if not retired]
        current = self.standard.data
        if current and current not in {k for k, _ in choices}:
            retired = {key for key, _, r in standards if r}
            choices.append((current, f"{current} ({'retired' if current in retired else 'unknown'})"))
        self.standard.choices = options(choices)
        self.show_if.form.offer(earlier)

    def all_errors(self) -> bool:
        return bool(self.errors) or any(self.group_errors.values()) or bool(self.form_errors)


def _fill_rows(field_list: FieldList, rows: list[dict[str, str]]) -> None:
    while field_list.entries:
        field_list.pop_entry()
    for row in rows:
        field_list.append_entry(row)


# ------------------------------------------------------------------ actions


class ActionForm(EditForm):
    """A button that changes the draft (publish, discard, delete): only the revision is sent."""


class MoveForm(EditForm):
    direction = HiddenField(description="up or down")
    #: Set by drag and drop instead of a direction: the section and the position to move to.
    to_section = HiddenField()
    to_index = HiddenField()


class ImportForm(FlaskForm):
    file = FileField("YAML file",
                     description=Markup("A checklist file as <code>flask checklist import</code> takes it."))
    text = TextAreaField("…or paste the YAML", validators=[Optional(), Length(max=IMPORT_MAX_CHARS)],
                         description="Used when no file is chosen.")
    then = RadioField(
        "Then", default="draft", validate_choice=False,
        choices=options([("draft", "Put it in the draft, to review and publish from the editor"),
                         ("publish", "Publish it as a new version now")]),
        description="If the file has any error, nothing changes either way.",
    )
