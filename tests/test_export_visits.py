"""The per-visit export and the workbook (SPEC §5 ``by=visit``, ``export.xlsx``): columns, values,
review states and flags, defused text, scoping; over HTTP and the CLI."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
from survey.extensions import db
from survey.models import ReviewState, SubmissionFlag

from reports import export
from reports.export import COLUMNS, VISIT_COLUMNS, one_decimal

from .reports_fixtures import *  # noqa: F401,F403

PERIOD = "from=2026-01-01&to=2026-06-30"
VISIT_HEADER = ("reference,visit_date,branch_code,branch_name,region_code,checklist_slug,checklist_version,"
                "channel,score,critical_fail,review,flags")


@pytest.fixture
def marked(known, make_visit, make_branch):
    """The known dataset, plus: a visit waiting for review with two flags, and a branch whose name
    (imported from someone's spreadsheet) starts like a formula. Every visit here was sent long
    after its date, so each carries the ``late`` flag."""
    pending = make_visit(known.a, date(2026, 5, 5), greet="no")
    pending.review = ReviewState.pending
    # Sent today for a visit months ago, it is flagged late already; add a fast one.
    db.session.add(SubmissionFlag(submission_id=pending.id, flag="fast", detail="0.5 min"))
    evil = make_branch("BR-E", "SOUTH", name="=cmd|' /C calc'!A0")
    make_visit(evil, date(2026, 4, 2), polite="no")
    db.session.commit()
    return pending


@pytest.fixture
def hq_client(client, known, make_user, login):
    make_user("hq@example.com", "hq")
    login("hq@example.com")
    return client


def read(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def workbook(body: bytes):
    return openpyxl.load_workbook(io.BytesIO(body))


def sheet_rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


# --- one row per visit, CSV -----------------------------------------------------------------------

def test_visit_csv_has_the_spec_columns_and_one_row_per_visit_in_every_state(hq_client, known, marked):
    response = hq_client.get(f"/reports/export.csv?by=visit&region=NORTH&{PERIOD}")
    assert response.status_code == 200
    name = "export_NORTH_visits_2026-01-01_2026-06-30.csv"
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
    body = response.get_data(as_text=True)
    assert body.split("\r\n")[0] == VISIT_HEADER == ",".join(VISIT_COLUMNS)
    rows = read(body)
    # NORTH in the period: A on 10 Jan, 15 Feb, 20 Feb, 10 Mar (rejected), 5 May (pending), 30 Jun; B on 20 Jan.
    assert [(r["visit_date"], r["branch_code"], r["score"], r["review"]) for r in rows] == [
        ("2026-01-10", "BR-A", "75.0", "counted"),
        ("2026-01-20", "BR-B", "0.0", "counted"),
        ("2026-02-15", "BR-A", "75.0", "counted"),
        ("2026-02-20", "BR-A", "50.0", "counted"),
        ("2026-03-10", "BR-A", "100.0", "rejected"),
        ("2026-05-05", "BR-A", "75.0", "pending"),
        ("2026-06-30", "BR-A", "50.0", "counted"),
    ]


def test_values_of_one_visit_row(hq_client, known, marked):
    rows = read(hq_client.get(f"/reports/export.csv?by=visit&{PERIOD}").get_data(as_text=True))
    critical = next(r for r in rows if r["reference"] == known.critical.reference)
    assert critical == {
        "reference": known.critical.reference, "visit_date": "2026-01-20", "branch_code": "BR-B",
        "branch_name": "Bravo", "region_code": "NORTH", "checklist_slug": "mini", "checklist_version": "1",
        "channel": "visit", "score": "0.0", "critical_fail": "1", "review": "counted", "flags": "late",
    }
    pending = next(r for r in rows if r["reference"] == marked.reference)
    assert pending["flags"] == "fast,late"          # sorted, whatever order the database gave
    assert pending["critical_fail"] == "0"


def test_a_branch_name_that_looks_like_a_formula_is_defused(hq_client, marked):
    rows = read(hq_client.get(f"/reports/export.csv?by=visit&region=SOUTH&{PERIOD}").get_data(as_text=True))
    assert [r["branch_name"] for r in rows if r["branch_code"] == "BR-E"] == ["'=cmd|' /C calc'!A0"]


@pytest.mark.parametrize(("score", "written"), [
    (0.7225, "72.3"), (2 / 3, "66.7"), (0.9433333333333334, "94.3"), (1.0, "100.0"), (0.0, "0.0"),
    (0.12345, "12.3"), (0.99951, "100.0"), (None, ""),
])
def test_score_to_one_decimal_rounds_halves_up(score, written):
    assert one_decimal(score) == written


def test_by_must_be_answer_or_visit(hq_client):
    response = hq_client.get(f"/reports/export.csv?by=visits&{PERIOD}")
    assert response.status_code == 400
    assert "Choose one row per answer (by=answer) or one per visit (by=visit)." in response.get_data(as_text=True)


def test_by_answer_is_the_unchanged_export(hq_client, known):
    plain = hq_client.get(f"/reports/export.csv?{PERIOD}").get_data(as_text=True)
    assert hq_client.get(f"/reports/export.csv?by=answer&{PERIOD}").get_data(as_text=True) == plain


def test_a_manager_gets_only_their_regions_visits(client, marked, make_user, login):
    make_user("north@example.com", "manager", ("NORTH",))
    login("north@example.com")
    rows = read(client.get(f"/reports/export.csv?by=visit&{PERIOD}").get_data(as_text=True))
    assert rows and {r["region_code"] for r in rows} == {"NORTH"}
    assert client.get(f"/reports/export.csv?by=visit&region=SOUTH&{PERIOD}").status_code == 404
    assert client.get(f"/reports/export.xlsx?region=SOUTH&{PERIOD}").status_code == 404
    book = workbook(client.get(f"/reports/export.xlsx?{PERIOD}").data)
    assert {row[4] for row in sheet_rows(book["Visits"])[1:]} == {"NORTH"}
    assert {row[2] for row in sheet_rows(book["Answers"])[1:]} == {"NORTH"}


# --- the workbook ---------------------------------------------------------------------------------

def test_workbook_holds_both_exports_with_typed_cells(hq_client, known, marked):
    response = hq_client.get(f"/reports/export.xlsx?region=NORTH&{PERIOD}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == "attachment; filename=export_NORTH_2026-01-01_2026-06-30.xlsx"
    book = workbook(response.data)
    assert book.sheetnames == ["Visits", "Answers"]
    visits, answers = sheet_rows(book["Visits"]), sheet_rows(book["Answers"])
    assert visits[0] == VISIT_COLUMNS and answers[0] == COLUMNS
    csv_visits = read(hq_client.get(f"/reports/export.csv?by=visit&region=NORTH&{PERIOD}").get_data(as_text=True))
    csv_answers = read(hq_client.get(f"/reports/export.csv?region=NORTH&{PERIOD}").get_data(as_text=True))
    assert len(visits) - 1 == len(csv_visits) == 7
    assert len(answers) - 1 == len(csv_answers) == 5 * 5
    first = dict(zip(VISIT_COLUMNS, visits[1]))
    assert first["visit_date"] == datetime(2026, 1, 10)          # a real date: it sorts as one
    assert first["score"] == 75 and first["checklist_version"] == 1 and first["critical_fail"] == 0
    assert [v[10] for v in visits[1:]].count("pending") == 1
    assert dict(zip(VISIT_COLUMNS, next(v for v in visits if v[0] == marked.reference)))["flags"] == "fast,late"
    polite = next(dict(zip(COLUMNS, a)) for a in answers[1:]
                  if a[1] == datetime(2026, 2, 15) and a[8] == "polite")
    assert (polite["answer"], polite["earned"], polite["possible"], polite["submission_score"]) == ("no", 0, 1, 75)
    assert polite["repeat"] is None and polite["comment"] is None


def test_workbook_text_never_runs_as_a_formula(hq_client, marked):
    book = workbook(hq_client.get(f"/reports/export.xlsx?{PERIOD}").data)
    cells = [c for row in book["Answers"].iter_rows() for c in row if c.value == '=HYPERLINK("http://evil.test")']
    cells += [c for row in book["Visits"].iter_rows() for c in row if c.value == "=cmd|' /C calc'!A0"]
    assert len(cells) == 2
    for cell in cells:
        assert cell.data_type == "s"           # text, not "f" (formula)
        assert cell.quotePrefix                # and stays text when someone edits the cell


def test_workbook_goes_on_to_a_second_sheet_when_one_is_full(hq_client, known, monkeypatch):
    monkeypatch.setattr(export, "SHEET_ROWS", 11)  # a header and 10 rows per sheet instead of 1,048,575
    book = workbook(hq_client.get(f"/reports/export.xlsx?{PERIOD}").data)
    assert book.sheetnames == ["Visits", "Answers", "Answers (2)", "Answers (3)", "Answers (4)"]
    answers = [row for name in book.sheetnames[1:] for row in sheet_rows(book[name])]
    assert answers.count(COLUMNS) == 4                          # each sheet has its header
    assert len([r for r in answers if r != COLUMNS]) == 7 * 5   # every answer once


def test_a_workbook_over_the_visit_limit_is_refused_with_the_csv_offered(hq_client, app, known):
    app.config["SURVEY_XLSX_MAX_VISITS"] = 5
    response = hq_client.get(f"/reports/export.xlsx?region=north&{PERIOD}")   # NORTH has 6 visits
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert "has 6 visits; a workbook download holds at most 5" in page
    assert "/reports/export.csv?by=visit&amp;from=2026-01-01&amp;to=2026-06-30&amp;region=north" in page
    app.config["SURVEY_XLSX_MAX_VISITS"] = 6
    assert hq_client.get(f"/reports/export.xlsx?region=north&{PERIOD}").status_code == 200


def test_empty_period_gives_headers_only(hq_client):
    book = workbook(hq_client.get("/reports/export.xlsx?from=2020-01-01&to=2020-02-01").data)
    assert sheet_rows(book["Visits"]) == [VISIT_COLUMNS]
    assert sheet_rows(book["Answers"]) == [COLUMNS]


def test_landing_page_offers_the_three_downloads(hq_client, known):
    page = hq_client.get(f"/reports/?{PERIOD}").get_data(as_text=True)
    assert "/reports/export.csv?region=NORTH&amp;by=visit&amp;from=2026-01-01" in page
    assert "/reports/export.xlsx?region=NORTH&amp;from=2026-01-01" in page
    assert "Visits (CSV)" in page and "Both (Excel)" in page


# --- flask export csv --by visit, -o x.xlsx -------------------------------------------------------

def test_cli_by_visit(runner, marked, tmp_path):
    out = tmp_path / "visits.csv"
    result = runner.invoke(args=["export", "csv", "--by", "visit", "--region", "north", "--from", "2026-01-01",
                                 "--to", "2026-06-30", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = read(out.read_text(encoding="utf-8"))
    assert len(rows) == 7 and {r["region_code"] for r in rows} == {"NORTH"}


def test_cli_writes_a_workbook_for_an_xlsx_name(runner, marked, tmp_path):
    out = tmp_path / "all.XLSX"
    result = runner.invoke(args=["export", "csv", "--from", "2026-01-01", "--to", "2026-06-30", "-o", str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert len(sheet_rows(book["Visits"])) == 1 + 7 + 3      # NORTH's 7, SOUTH's C twice and E once
    assert len(sheet_rows(book["Answers"])) == 1 + (5 + 3) * 5     # counted visits only, as ever


def test_cli_by_must_be_answer_or_visit(runner, known, tmp_path):
    result = runner.invoke(args=["export", "csv", "--by", "branch", "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "'branch' is not one of 'answer', 'visit'" in result.output
