"""The shopper's checklist form, built from a checklist version, and its server-side check."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from flask_babel import format_decimal, gettext, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField, TextAreaField

from .. import caches
from ..answers import Filled
from ..checklist.conditions import NA, slots, visible_questions
from ..checklist.schema import Checklist
from ..checklist.types import TEXT_MAX, clean_text
from ..i18n import long_date
from .outcomes import outcome_fields
from .fields import PROBLEMS, builder, count_name, field_name, problem_words, slot_name

COMMENT_MAX = 2000
IDEM_RE = re.compile(r"^[0-9a-f]{32}$")


class ChecklistBaseForm(FlaskForm):
    """The fixed part of every checklist: the visit's date and time, and bookkeeping."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            """Bind a question's field by copying one bound once per form class.

            Binding runs each field's whole constructor (label, flags, choices): for a
            checklist's thirty-odd fields that was 0.45 ms of every shopper POST, more
            than the SQL (bench/README.md). A bound field keeps only settings, and the
            form and meta it was bound to, until ``process`` gives it this request's data,
            errors and raw input as new objects; so a copy of a never-processed one,
            given this form and meta, is as fresh as a new one. Only
            questions' fields are copied: nothing changes them after binding, while
            name_the_contact rewords the visit fields' labels. A form class is one
            checklist version (``form_class``), so its questions never change.
            tests/test_shopper_forms.py holds copies to fields bound the ordinary way.
            """
            name = options["name"]
            if not name.startswith("q_"):
                return super().bind_field(form, unbound_field, options)
            prototypes = type(form).__dict__.get("_prototypes")
            if prototypes is None:
                prototypes = {}
                type.__setattr__(type(form), "_prototypes", prototypes)
            prototype = prototypes.get(name)
            if prototype is None:
                prototype = prototypes[name] = super().bind_field(form, unbound_field, options)
                # Bound within the first shopper's request: it must not keep their form alive.
                prototype._form = prototype.meta = None
            # Not copy.copy: a Field built without ``_form`` turns into an UnboundField.
            field = object.__new__(type(prototype))
            field.__dict__.update(prototype.__dict__)
            field._form, field.meta = form, form.meta  # what binding to this form sets
            return field

    visit_date = StringField(_l("Date of your visit"), description=_l("The day you visited."))
    visit_time = StringField(_l("Time of your visit"), description=_l("About when it started."))
    #: One per rendered form; a replay or double tap carries the same key.
    idem = HiddenField()
    first_answer_at = HiddenField()


#: How the form names the contact it asks about, per channel: heading, date label and hint,
#: time label and hint. A shopper who phoned is not asked about their "visit".
CONTACT_WORDS = {
    "visit": (_l("Your visit"), _l("Date of your visit"), _l("The day you visited."),
              _l("Time of your visit"), _l("About when it started.")),
    "call": (_l("Your call"), _l("Date of your call"), _l("The day you called."),
             _l("Time of your call"), _l("About when you called.")),
    "email": (_l("Your e-mail"), _l("Date you sent the e-mail"), _l("The day you wrote."),
              _l("Time you sent the e-mail"), _l("About when you sent it.")),
    "chat": (_l("Your chat"), _l("Date of the chat"), _l("The day you chatted."),
             _l("Time the chat started"), _l("About when it started.")),
}


def name_the_contact(form: ChecklistBaseForm, channel: str) -> str:
    """Word the date and time fields for the checklist's channel; return the section's heading."""
    heading, date_label, date_hint, time_label, time_hint = CONTACT_WORDS.get(channel, CONTACT_WORDS["visit"])
    form.visit_date.label.text, form.visit_date.description = date_label, date_hint
    form.visit_time.label.text, form.visit_time.description = time_label, time_hint
    return heading


def form_class(version_id: int, content_hash: str, checklist: Checklist,
               repeats: dict[str, int] | None = None) -> type[ChecklistBaseForm]:
    """Return the form class of one checklist version and count of repetitions (cached: versions never change)."""
    repeats = full_repeats(checklist, repeats)
    return caches.form_classes.get((version_id, content_hash, tuple(sorted(repeats.items()))),
                                   lambda: build_form_class(checklist, repeats))


def full_repeats(checklist: Checklist, repeats: dict[str, int] | None = None) -> dict[str, int]:
    """Return how many times each repeated section is asked: as given, else its ``min``."""
    return {s.key: (repeats or {}).get(s.key, s.repeat.min) for s in checklist.sections if s.repeat is not None}


def build_form_class(checklist: Checklist, repeats: dict[str, int] | None = None) -> type[ChecklistBaseForm]:
    """Build the form of a checklist with ``repeats`` repetitions of each repeated section (default its ``min``)."""
    repeats = full_repeats(checklist, repeats)
    attrs: dict[str, Any] = {"repeats": repeats}
    for _, n, q, _slot in slots(checklist, repeats):
        ask = builder(q)
        attrs[field_name(q.key, "", n)] = ask.field(q)
        if getattr(q, "comment", None):
            attrs[field_name(q.key, "comment", n)] = TextAreaField(
                _l("Comment"), description=_l("What happened, in a few words.")
            )
        for suffix, extra in ask.extra(q).items():
            attrs[field_name(q.key, suffix, n)] = extra
    for key in repeats:
        attrs[count_name(key)] = HiddenField()
    attrs.update(outcome_fields(checklist))
    return type("ChecklistForm", (ChecklistBaseForm,), attrs)


def posted_repeats(checklist: Checklist, formdata) -> tuple[dict[str, int], list[str]]:
    """Read how many repetitions of each repeated section were sent (``n_<section>``).

    A count outside the section's ``min``..``max`` (a hand-made request, an old page) is held
    within them and explained; a missing or unreadable one is the section's ``min``.
    """
    repeats, problems = {}, []
    for section in checklist.sections:
        if section.repeat is None:
            continue
        low, high = section.repeat.min, section.repeat.max
        raw = (formdata.get(count_name(section.key)) or "").strip() if formdata is not None else ""
        count = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else low
        if count > high:
            problems.append(gettext("“%(section)s” can be filled at most %(max)s times; %(count)s were sent.",
                                    section=section.title, max=format_decimal(high), count=format_decimal(count)))
        elif count < low:
            problems.append(gettext("“%(section)s” must be filled at least %(min)s times; %(count)s were sent.",
                                    section=section.title, min=format_decimal(low), count=format_decimal(count)))
        repeats[section.key] = min(high, max(low, count))
    return repeats, problems


def moved(formdata, checklist: Checklist, action: str, repeats: dict[str, int]) -> tuple[Any, dict[str, int]] | None:
    """Apply "Add another" (``add:<section>``) or "Remove" (``remove:<section>:<n>``) to posted answers.

    Return the answers with the repetitions renumbered, and the new counts; None for an action
    that names no repeated section, or would leave it outside its ``min``..``max``.
    """
    parts = action.split(":")
    section = next((s for s in checklist.sections if s.repeat is not None and s.key == parts[1]), None) \
        if len(parts) in (2, 3) else None
    if section is None:
        return None
    count = repeats[section.key]
    if parts[0] == "add" and len(parts) == 2 and count < section.repeat.max:
        return formdata, {**repeats, section.key: count + 1}
    if not (parts[0] == "remove" and len(parts) == 3 and parts[2].isdigit() and count > section.repeat.min
            and 1 <= int(parts[2]) <= count):
        return None
    gone = int(parts[2])
    names = {field_name(q.key, "", n): (q.key, n) for q in section.questions for n in range(1, count + 1)}
    data = MultiDict()
    for name, value in formdata.items(multi=True):
        base, _, suffix = name.partition("__")
        key_n = names.get(base)
        if key_n is None:
            data.add(name, value)
        elif key_n[1] != gone:
            n = key_n[1] - 1 if key_n[1] > gone else key_n[1]
            data.add(field_name(key_n[0], suffix, n), value)
    data[count_name(section.key)] = str(count - 1)
    return data, {**repeats, section.key: count - 1}


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def _parse_client_time(raw: str | None, not_before: date) -> datetime | None:
    """Read the browser's first-answer stamp as naive UTC, like every stored timestamp; None if unusable.

    The stamp is the phone's clock, which can be wrong by years: a stamp after now, or before
    the first day the link could be opened, is dropped rather than stored (with a few minutes'
    slack for a clock a little off, and a day because the link's first day is a local date).
    """
    try:
        stamp = datetime.fromisoformat((raw or "").replace("Z", "+00:00"))
        # A zone-aware stamp goes to UTC, not to the server's local zone; a
        # tampered year-1 or year-9999 stamp overflows on the way and is dropped.
        stamp = stamp if stamp.tzinfo is None else stamp.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None
    earliest = datetime.combine(not_before, time.min) - timedelta(days=1)
    latest = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(minutes=10)
    return stamp if earliest <= stamp <= latest else None


def csrf_ok(form: ChecklistBaseForm) -> bool:
    """Check the form's CSRF token, once per request; a refusal is left on the token's field.

    The token is all WTForms validates here: no field has a WTForms validator (``check``
    applies every rule, in words a shopper understands), so ``form.validate()`` would walk
    the checklist's thirty-odd fields for nothing, on a budgeted POST, twice.
    """
    if form.meta.csrf is False:
        return True
    if "csrf_ok" not in form.__dict__:
        form.__dict__["csrf_ok"] = form.csrf_token.validate(form)
    return form.__dict__["csrf_ok"]


def check(form: ChecklistBaseForm, checklist: Checklist, window: tuple[date, date], today: date,
          attachments: dict[Any, Any], upload_problems: dict[Any, str]) -> Filled | None:
    """Check a posted form; put each message on its field and return None, or the filled answers.

    Answers to questions hidden by ``show_if`` are dropped, never refused: a
    browser without JavaScript shows and sends them. ``attachments`` and ``upload_problems``
    are by slot (``conditions.Slot``), as ``uploads.collect`` gives them.
    """
    csrf_ok(form)  # every other rule is below
    repeats = type(form).repeats
    values: dict[Any, Any] = {}
    problems: dict[Any, str] = {}
    for _, n, q, slot in slots(checklist, repeats):
        if q.kind.upload:
            value, problem = attachments.get(slot), upload_problems.get(slot)
        else:
            value, trouble = q.kind.parse(q, builder(q).raw(form, q, n), today)
            problem = problem_words(*trouble) if trouble else None
        values[slot] = value
        if problem:
            problems[slot] = problem
    shown = visible_questions(checklist, values, repeats)
    comments: dict[Any, str] = {}
    for _, _n, q, slot in slots(checklist, repeats):
        field = form[slot_name(slot)]
        if slot not in shown:
            values.pop(slot, None)
            field.errors = []
            continue
        value = values[slot]
        if slot in problems:
            field.errors = [problems[slot]]
        elif value is None and q.is_required:
            field.errors = [gettext("Please add the photo.") if q.kind.upload
                            else gettext("Please answer this question.")]
        if getattr(q, "comment", None):
            comment_field = form[slot_name(slot, "comment")]
            comment = clean_text(comment_field.data)
            if len(comment) > COMMENT_MAX:
                comment_field.errors = [
                    gettext(
                        "Please keep the comment under %(max)s characters (it has %(count)s).",
                        max=format_decimal(COMMENT_MAX),
                        count=format_decimal(len(comment)),
                    )
                ]
            elif (
                q.comment == "on_fail"
                and not comment
                and value not in (None, NA)
                and slot not in problems
                and q.kind.earned(q, value) < 1
            ):
                comment_field.errors = [gettext("Please say briefly what happened.")]
            comments[slot] = comment
    if checklist.visit is not None:
        # The checklist's own questions are the visit's (SPEC §3 ``visit``): the window applies to them.
        date_field = form[field_name(checklist.visit.date)]
        visit_date = values.get(checklist.visit.date)
        if visit_date is not None and not date_field.errors:
            _check_window(date_field, visit_date, window, today)
        visit_time = values.get(checklist.visit.time) if checklist.visit.time else None
    else:
        visit_date = _check_visit_date(form.visit_date, window, today)
        visit_time = _check_visit_time(form.visit_time)
    if not IDEM_RE.fullmatch(form.idem.data or ""):
        form.idem.data = new_idempotency_key()
        form.form_errors.append(gettext("Part of this form was damaged on the way. Check your answers and send again."))
    if form.errors or form.form_errors:
        return None
    return Filled(
        answers=values,
        visit_date=visit_date,
        visit_time=visit_time,
        idempotency_key=form.idem.data,
        comments=comments,
        attachments={k: v for k, v in attachments.items() if k in shown},
        first_answer_at=_parse_client_time(form.first_answer_at.data, window[0]),
        repeats=dict(repeats),
    )


def _check_visit_date(field, window: tuple[date, date], today: date) -> date | None:
    raw = (field.data or "").strip()
    if not raw:
        field.errors = [gettext("Please enter the date of your visit.")]
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        field.errors = [gettext("Enter a date, for example 2026-11-02.")]
        return None
    _check_window(field, value, window, today)
    return value


def _check_window(field, value: date, window: tuple[date, date], today: date) -> None:
    """Put a message on a visit's date outside the link's window (or in the future)."""
    not_before, due = window
    if value > today:
        field.errors = [gettext("The visit date can't be in the future.")]
    elif value < not_before:
        field.errors = [gettext("This visit had to take place on or after %(date)s.", date=long_date(not_before))]
    elif value > due:
        field.errors = [gettext("This visit had to take place by %(date)s.", date=long_date(due))]


def _check_visit_time(field) -> time | None:
    raw = (field.data or "").strip()
    if not raw:
        field.errors = [gettext("Please enter the time of your visit.")]
        return None
    try:
        return time.fromisoformat(raw).replace(second=0, microsecond=0)
    except ValueError:
        field.errors = [gettext("Enter a time, for example 14:30.")]
        return None


def csrf_failed(form: ChecklistBaseForm) -> bool:
    return bool(form.errors.get("csrf_token"))


def progress(form: ChecklistBaseForm, checklist: Checklist) -> tuple[int, int]:
    """Return ``(answered, total)`` over the required questions shown, for the progress indicator.

    A question revealed by ``show_if`` counts from when it shows (read from the answers given so far).
    """
    repeats = type(form).repeats
    given = {slot: form[slot_name(slot)].data for _, _n, _q, slot in slots(checklist, repeats)}
    given = {slot: None if value in ("", [], "None") else value for slot, value in given.items()}
    shown = visible_questions(checklist, given, repeats)
    required = [(q, slot) for _, _n, q, slot in slots(checklist, repeats) if slot in shown and q.is_required]
    done = sum(1 for q, slot in required if given[slot] is not None or (
        q.kind.upload and form[slot_name(slot, "upload")].data))
    return done, len(required)


def repetition_label(section: Any, n: int) -> str:
    """Name repetition ``n`` of a repeated section as its heading does ("Employee 2"; else "<title> 2")."""
    return (section.repeat.label or f"{section.title} {{n}}").replace("{n}", str(n))


def error_summary(form: ChecklistBaseForm, checklist: Checklist) -> list[tuple[str, str]]:
    """List ``(anchor, question)`` for every field with a message, in the order of the page."""
    items = [(name, form[name].label.text)
             for name in ("visit_date", "visit_time") if form[name].errors]
    for section, n, q, slot in slots(checklist, type(form).repeats):
        names = [slot_name(slot)] + ([slot_name(slot, "comment")] if getattr(q, "comment", None) else [])
        if any(form[name].errors for name in names):
            anchor = f"q-{q.key}" if n is None else f"q-{q.key}-{n}"
            items.append((anchor, q.text if n is None else f"{q.text} ({repetition_label(section, n)})"))
    if any(name in form and form[name].errors for name in ("outcome", "outcome_comment", "outcome_photo")):
        items.append(("q-outcome", gettext("Could not complete this shop?")))
    return items


def client_words() -> Markup:
    """The words and limits form.js checks a form with before sending (the same as ``check``'s), as JSON."""
    words = {
        "req": gettext("Please answer this question."),
        "photo": gettext("Please add the photo."),
        "fail": gettext("Please say briefly what happened."),
        "num": str(PROBLEMS["number"]),
        "min": str(PROBLEMS["number_min"]) % {"min": "{min}"},
        "max": str(PROBLEMS["number_max"]) % {"max": "{max}"},
        "long": str(PROBLEMS["text_long"]) % {"max": "{max}", "count": "{count}"},
        "clong": gettext("Please keep the comment under %(max)s characters (it has %(count)s).",
                         max="{max}", count="{count}"),
        # The plural form for one and for many, the number left for the page to put in.
        "one": ngettext("%(num)s answer needs attention", "%(num)s answers need attention", 1).replace("1", "{num}"),
        "many": ngettext("%(num)s answer needs attention", "%(num)s answers need attention", 2).replace("2", "{num}"),
        "left": gettext("%(count)s of %(max)s characters", count="{count}", max="{max}"),
        "text": TEXT_MAX,
        "comment": COMMENT_MAX,
    }
    # Safe in a single-quoted attribute (< > & ' escaped), and compact: the page's bytes are budgeted.
    return htmlsafe_json_dumps(words, dumps=json.dumps, ensure_ascii=False, separators=(",", ":"))


def condition_hints(checklist: Checklist) -> dict[str, str]:
    """Say in words when a conditional question or section applies (read when JavaScript is off)."""
    texts = {q.key: q.text for _, q in checklist.questions()}
    labels = {
        q.key: {value: gettext(label) if builder(q).fixed_words else label for value, label in q.kind.choices(q)}
        for _, q in checklist.questions()
    }
    hints = {}
    items = [(s.key, s.show_if) for s in checklist.sections] + [(q.key, q.show_if) for _, q in checklist.questions()]
    for key, rule in items:
        if rule is None:
            continue
        parent = f"“{texts.get(rule.question, rule.question)}”"
        if rule.above is not None:
            hints[key] = gettext("Only if your answer to %(question)s was above %(value)s.", question=parent,
                                 value=format_decimal(rule.above))
        elif rule.below is not None:
            hints[key] = gettext("Only if your answer to %(question)s was below %(value)s.", question=parent,
                                 value=format_decimal(rule.below))
        else:
            names = [labels.get(rule.question, {}).get(v, v) for v in rule.values()]
            hints[key] = gettext("Only if you answered %(answers)s to %(question)s.",
                                 answers=gettext(" or ").join(names), question=parent)
    return hints


__all__ = ["form_class", "check", "field_name", "new_idempotency_key", "TEXT_MAX", "csrf_failed"]
