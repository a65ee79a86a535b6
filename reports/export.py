"""The CSV export (SPEC §5): one row per answer of every counted submission, streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from survey.spreadsheet import safe_text as text

from . import queries
from .periods import Period

COLUMNS = (
    "submission_id", "visit_date", "region_code", "branch_code", "checklist_slug", "checklist_version",
    "channel", "section_key", "question_key", "standard_key", "answer", "earned", "possible",
    "submission_score", "critical_fail", "comment", "repeat",
)
#: Lines are sent in chunks of about this many characters: few writes, little memory.
CHUNK = 64 * 1024


def number(value: float | None) -> str:
    """Write a number at full precision, without a trailing ``.0`` on whole numbers."""
    if value is None:
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def percent(score: float | None) -> str:
    """Write a stored 0..1 score as percent, shifting its decimal digits so no float noise appears.

    ``0.72 * 100`` is ``72.00000000000001`` in binary floating point; the stored value's
    shortest decimal form, shifted two places, is exactly ``72``.
    """
    if score is None:
        return ""
    return format(Decimal(repr(float(score))).scaleb(2).normalize(), "f")


def row_values(row: Any) -> list[str]:
    """Turn one query row into the CSV cells, in COLUMNS order."""
    return [
        str(row.submission_id), row.visit_date.isoformat(), row.region_code, row.branch_code,
        row.checklist_slug, str(row.checklist_version), getattr(row.channel, "value", row.channel),
        row.section_key, row.question_key, row.standard_key or "", text(row.answer),
        number(row.earned), number(row.possible),
        percent(row.score), "1" if row.critical_fail else "0",
        text(row.comment), str(row.repeat) if row.repeat else "",
    ]


def lines(rows: Iterable[Any]) -> Iterator[str]:
    """Yield the header and then one CSV line per row, without holding the export in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        out = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return out

    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row_values(row))
        if buffer.tell() >= CHUNK:
            yield flush()
    yield flush()


def export_lines(period: Period, region_ids: Iterable[int] | None = None) -> Iterator[str]:
    """Yield the whole export for a period, for some regions or (None) all of them."""
    return lines(queries.export_rows(period.start, period.end, region_ids))


def filename(period: Period, region_code: str | None = None) -> str:
    return f"export_{region_code or 'all'}_{period.slug()}.csv"
