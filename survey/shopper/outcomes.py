"""The shopper's "Could not complete this shop?" (SPEC §3 ``outcomes``): ending a link without the form.

A counted outcome (``score: 0``) is stored as a submission scoring 0 (``submissions.record_submission``);
one that does not count ends the link ``not_done`` with the shopper's reason. Either may carry a comment
and a photo. The panel is part of the checklist form (``templates/shopper/_outcome.html``), so it works
without JavaScript and form.js queues it offline like any send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import format_decimal, gettext, lazy_gettext as _l
from wtforms import FileField, HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..answers import Filled
from ..checklist.schema import Checklist, Outcome
from ..checklist.types import clean_text
from ..models import OUTCOME_PHOTO_KEY
from ..submissions import OUTCOME_PREFIX

#: The button that sends the panel: ``action=outcome``.
ACTION = "outcome"
#: Attachment.question_key of an outcome's photo.
PHOTO_KEY = OUTCOME_PHOTO_KEY
COMMENT_MAX = 2000


def outcome_fields(checklist: Checklist) -> dict[str, Any]:
    """Return the panel's fields for a checklist's form class (none when it has no outcomes)."""
    if not checklist.outcomes:
        return {}
    return {
        "outcome": RadioField(_l("What happened?"), choices=[SelectChoice(o.key, o.label) for o in checklist.outcomes],
                              validate_choice=False),
        "outcome_comment": TextAreaField(_l("Comment"), description=_l("What happened, in a few words.")),
        "outcome_photo": FileField(_l("Photo"), description=_l("A photo that shows it, if you have one.")),
        "outcome_upload": HiddenField(),
    }


#: (slot, file field, kept-photo field) for ``uploads.take``.
PHOTO_PLACE = (PHOTO_KEY, "outcome_photo", "outcome_upload")


@dataclass
class Ended:
    outcome: Outcome
    comment: str
    attachment: Any | None


def check_outcome(form, checklist: Checklist, attachments: dict[Any, Any], problems: dict[Any, str]) -> Ended | None:
    """Check the panel; put each message on its field and return None, or what the shopper reported."""
    if "outcome" not in form:
        form.form_errors.append(gettext("This checklist has no other way to end: please fill in the form."))
        return None
    outcome = checklist.outcome(form.outcome.data)
    if outcome is None:
        form.outcome.errors = [gettext("Choose one of the reasons shown.")]
    comment = clean_text(form.outcome_comment.data)
    if len(comment) > COMMENT_MAX:
        form.outcome_comment.errors = [gettext(
            "Please keep the comment under %(max)s characters (it has %(count)s).",
            max=format_decimal(COMMENT_MAX), count=format_decimal(len(comment)))]
    if PHOTO_KEY in problems:
        form.outcome_photo.errors = [problems[PHOTO_KEY]]
    if outcome is None or form.outcome_comment.errors or form.outcome_photo.errors:
        return None
    return Ended(outcome, comment, attachments.get(PHOTO_KEY))


def counted(ended: Ended, idempotency_key: str, today: date, window: tuple[date, date]) -> Filled:
    """Return what a counted outcome stores: no answers, the day it was reported (within the link's window)."""
    not_before, due = window
    return Filled(
        answers={}, visit_date=max(not_before, min(today, due)), visit_time=None, idempotency_key=idempotency_key,
        comments={OUTCOME_PREFIX: ended.comment},
        attachments={PHOTO_KEY: ended.attachment} if ended.attachment is not None else {},
        outcome=ended.outcome.key,
    )
