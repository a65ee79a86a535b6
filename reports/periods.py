"""Report periods (SPEC §5): inclusive date ranges, their defaults, and the period before."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

#: Longest period a report may cover; longer asks are refused rather than run.
MAX_YEARS = 5
#: Dates outside these years are typing mistakes, and would overflow date arithmetic.
YEARS = (1900, 2999)
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PeriodError(ValueError):
    """A period a person asked for that can't be used; the message says why, in plain words."""

    def __init__(self, message: str, field: str = "from"):
        super().__init__(message)
        #: Which input is wrong ("from" or "to"), so a form can show the message beside it.
        self.field = field


def shift_months(day: date, months: int) -> date:
    """Return the same day ``months`` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_first = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_first - timedelta(days=1)).day))


def short(day: date) -> str:
    """Spell a date as people read it on a report: ``3 Nov 2026``."""
    return f"{day.day} {day:%b %Y}"


@dataclass(frozen=True)
class Period:
    """An inclusive range of visit dates."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return f"{short(self.start)} – {short(self.end)}"

    def previous(self) -> Period:
        """Return the period of equal length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def months(self) -> list[str]:
        """Return every calendar month the period touches, as ``YYYY-MM``."""
        out = []
        day = self.start.replace(day=1)
        while day <= self.end:
            out.append(f"{day:%Y-%m}")
            day = shift_months(day, 1)
        return out

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "label": self.label, "days": self.days}

    def slug(self) -> str:
        """Return the period as it goes into a file name: ``2025-11-22_2026-11-22``."""
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def month_label(month: str) -> str:
    """Spell ``2026-01`` as ``Jan 2026``."""
    return f"{date(int(month[:4]), int(month[5:7]), 1):%b %Y}"


def parse_day(text: str | None, name: str) -> date | None:
    """Read a ``YYYY-MM-DD`` date; blank means "not given"."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        day = date.fromisoformat(text) if DAY_RE.match(text) else None
    except ValueError:
        day = None
    if day is None:
        raise PeriodError(f"'{text[:40]}' is not a date: write the '{name}' date as YYYY-MM-DD, e.g. 2026-01-31.",
                          name)
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise PeriodError(f"The '{name}' date {text} is out of range: check the year.", name)
    return day


def make_period(start: date | None, end: date | None, today: date | None = None) -> Period:
    """Apply the defaults (to = today, from = 12 months before) and check the range."""
    end = end or today or date.today()
    start = start or shift_months(end, -12)
    if start > end:
        raise PeriodError(f"The 'from' date ({start.isoformat()}) is after the 'to' date ({end.isoformat()}).")
    if start < shift_months(end, -12 * MAX_YEARS):
        raise PeriodError(f"A report covers at most {MAX_YEARS} years; choose a later 'from' date.")
    return Period(start, end)


def parse_period(start: str | None, end: str | None, today: date | None = None) -> Period:
    """Read ``from``/``to`` as typed in a URL or on the command line into a checked period."""
    return make_period(parse_day(start, "from"), parse_day(end, "to"), today)
