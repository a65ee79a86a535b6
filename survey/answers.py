"""What a shopper sent, once checked: the one shape every way in (the form, an offline resend,
the demo seed, the tests) hands to ``submissions.record_submission``.

It lives apart from the shopper's forms and from the storage so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any


@dataclass
class Filled:
    """Normalised answers and the visit's details.

    ``answers`` maps a slot to its value (or ``types.NA``): a question's key, or ``(key, n)`` for
    repetition n of a repeated section (``conditions.Slot``); ``repeats`` says how many
    repetitions each repeated section has. A shop that ended with an ``outcome`` has no answers.
    """

    answers: dict[Any, Any]
    visit_date: date
    visit_time: time | None
    idempotency_key: str
    comments: dict[str, str] = field(default_factory=dict)
    #: question key → the Attachment row of its photo (stored by the shopper's upload code).
    attachments: dict[str, Any] = field(default_factory=dict)
    first_answer_at: datetime | None = None
    submitted_at: datetime | None = None
    repeats: dict[str, int] = field(default_factory=dict)
    #: The key of the checklist's counted outcome (``score: 0``) the shop ended with, if any.
    outcome: str | None = None
