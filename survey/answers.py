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
    """Normalised answers (question key → value, or ``types.NA``) and the visit's details."""

    answers: dict[str, Any]
    visit_date: date
    visit_time: time | None
    idempotency_key: str
    comments: dict[str, str] = field(default_factory=dict)
    #: question key → the Attachment row of its photo (stored by the shopper's upload code).
    attachments: dict[str, Any] = field(default_factory=dict)
    first_answer_at: datetime | None = None
    submitted_at: datetime | None = None
