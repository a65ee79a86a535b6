"""The exports (SPEC §5): one CSV row per answer of every counted submission, one CSV row per
visit, and a workbook holding both; each streamed or spooled so memory stays flat at any size."""

from __future__ import annotations

import csv
import io
from datetime import date
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

from survey.spreadsheet import FORMULA_START
from survey.spreadsheet import safe_text as text

from . import queries
from .periods import Period

COLUMNS = (
    "submission_id", "visit_date", "region_code", "branch_code", "checklist_slug", "checklist_version",
    "channel", "section_key", "question_key", "standard_key", "answer", "earned", "possible",
    "submission_score", "critical_fail", "comment", "repeat",
)
#: SPEC §5 ``by=visit``: one row per visit, for people who read visits, not answers.
VISIT_COLUMNS = (
    "reference", "visit_date", "branch_code", "branch_name", "region_code", "checklist_slug",
    "checklist_version", "channel", "score", "critical_fail", "review", "flags",
)
KINDS = ("answer", "visit")
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


def one_decimal(score: float | None) -> str:
    """Write a stored 0..1 score as percent to one decimal, halves rounded up as people expect.

    Rounds the exact decimal form (see ``percent``), so 72.25 % is written 72.3, never 72.2 because
    its binary form sits a hair below.
    """
    if score is None:
        return ""
    return str(Decimal(percent(score)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def flag_list(flags: str | None) -> list[str]:
    """Return a visit's flags in a fixed order whatever order the database aggregated them in."""
    return sorted(flags.split(",")) if flags else []


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


def visit_row_values(row: Any) -> list[str]:
    """Turn one visit row into the CSV cells, in VISIT_COLUMNS order."""
    return [
        row.reference, row.visit_date.isoformat(), row.branch_code, text(row.branch_name), row.region_code,
        row.checklist_slug, str(row.checklist_version), getattr(row.channel, "value", row.channel),
        one_decimal(row.score), "1" if row.critical_fail else "0", getattr(row.review, "value", row.review),
        ",".join(flag_list(row.flags)),
    ]


def lines(rows: Iterable[Any], columns: tuple[str, ...] = COLUMNS, values=row_values) -> Iterator[str]:
    """Yield the header and then one CSV line per row, without holding the export in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        out = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return out

    writer.writerow(columns)
    for row in rows:
        writer.writerow(values(row))
        if buffer.tell() >= CHUNK:
            yield flush()
    yield flush()


def export_lines(period: Period, region_ids: Iterable[int] | None = None, by: str = "answer") -> Iterator[str]:
    """Yield the whole export for a period, for some regions or (None) all of them, by answer or visit."""
    if by == "visit":
        return lines(queries.visit_export_rows(period.start, period.end, region_ids), VISIT_COLUMNS,
                     visit_row_values)
    return lines(queries.export_rows(period.start, period.end, region_ids))


def filename(period: Period, region_code: str | None = None, by: str = "answer", suffix: str = "csv") -> str:
    kind = "_visits" if by == "visit" and suffix == "csv" else ""
    return f"export_{region_code or 'all'}{kind}_{period.slug()}.{suffix}"


# The workbook -------------------------------------------------------------------------------------

#: A worksheet holds at most this many rows (Excel's limit); longer exports go on to another sheet.
SHEET_ROWS = 1_048_576


class _Sheets:
    """Write rows into worksheets of one name, opening "Answers (2)" when "Answers" is full.

    Cells get their types (dates, numbers, text), so a spreadsheet sorts and sums them; text is
    always written as text and, where it starts like a formula, with Excel's quote prefix, so
    it shows and stays text even when someone edits the cell.
    """

    def __init__(self, book, name: str, columns: tuple[str, ...], formats: dict):
        self.book, self.name, self.columns, self.formats = book, name, columns, formats
        self.count, self.sheet, self.row = 0, None, SHEET_ROWS

    def _next_sheet(self) -> None:
        self.count += 1
        self.sheet = self.book.add_worksheet(self.name if self.count == 1 else f"{self.name} ({self.count})")
        self.sheet.freeze_panes(1, 0)
        for col, title in enumerate(self.columns):
            self.sheet.write_string(0, col, title, self.formats["head"])
        self.row = 1

    def write(self, cells: list[Any]) -> None:
        if self.row >= SHEET_ROWS:
            self._next_sheet()
        for col, value in enumerate(cells):
            if value is None or value == "":
                continue
            if isinstance(value, date):
                self.sheet.write_datetime(self.row, col, value, self.formats["date"])
            elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                self.sheet.write_number(self.row, col, value)
            elif value.startswith(FORMULA_START):
                self.sheet.write_string(self.row, col, value, self.formats["text"])
            else:
                self.sheet.write_string(self.row, col, value)
        self.row += 1

    def close(self) -> None:
        if self.sheet is None:  # an empty export still has its sheet and header
            self._next_sheet()


def _decimal(value: str) -> Decimal | None:
    return Decimal(value) if value else None


def visit_cells(row: Any) -> list[Any]:
    """One visit as typed cells: the CSV's values, with the date, version and score as such."""
    cells: list[Any] = visit_row_values(row)
    cells[1], cells[6], cells[8] = row.visit_date, row.checklist_version, _decimal(cells[8])
    cells[3] = row.branch_name  # written as text; the CSV's quote prefix would show in a cell
    cells[9] = 1 if row.critical_fail else 0
    return cells


def answer_cells(row: Any) -> list[Any]:
    """One answer as typed cells (see ``visit_cells``)."""
    cells: list[Any] = row_values(row)
    cells[0], cells[1], cells[5] = row.submission_id, row.visit_date, row.checklist_version
    cells[10], cells[15] = row.answer or "", row.comment or ""
    cells[11], cells[12], cells[13] = _decimal(cells[11]), _decimal(cells[12]), _decimal(cells[13])
    cells[14], cells[16] = 1 if row.critical_fail else 0, row.repeat or None
    return cells


def write_workbook(out: IO[bytes], period: Period, region_ids: Iterable[int] | None = None) -> None:
    """Write both exports as one workbook (sheets "Visits" and "Answers") to a binary file.

    XlsxWriter's constant-memory mode writes each row to disk as it comes, so a chain's
    3.5 million answers need no more memory than a branch's; the file is spooled, then sent.
    """
    import xlsxwriter  # only the workbook needs it; the CSV download does not pay for the import

    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False})
    formats = {"head": book.add_format({"bold": True}), "date": book.add_format({"num_format": "yyyy-mm-dd"}),
               "text": book.add_format({"quote_prefix": True})}
    for name, columns, rows, cells in (
        ("Visits", VISIT_COLUMNS, queries.visit_export_rows(period.start, period.end, region_ids), visit_cells),
        ("Answers", COLUMNS, queries.export_rows(period.start, period.end, region_ids), answer_cells),
    ):
        sheets = _Sheets(book, name, columns, formats)
        for row in rows:
            sheets.write(cells(row))
        sheets.close()
    book.close()
