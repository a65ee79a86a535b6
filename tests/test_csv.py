"""The CSV export (SPEC §5): exact columns, values, what is left out; over HTTP and the CLI."""

from __future__ import annotations

import csv
import io

import pytest

from reports.export import COLUMNS, number, percent, text

from .reports_fixtures import *  # noqa: F401,F403

HEADER = ("submission_id,visit_date,region_code,branch_code,checklist_slug,checklist_version,channel,"
          "section_key,question_key,standard_key,answer,earned,possible,submission_score,critical_fail,comment,"
          "repeat")
PERIOD = "from=2026-01-01&to=2026-06-30"


@pytest.fixture
def hq_client(client, known, make_user, login):
    make_user("hq@example.com", "hq")
    login("hq@example.com")
    return client


def read(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def test_header_is_exactly_the_spec_columns(hq_client):
    body = hq_client.get(f"/reports/export.csv?{PERIOD}").get_data(as_text=True)
    assert body.split("\r\n")[0] == HEADER
    assert ",".join(COLUMNS) == HEADER


def test_one_row_per_answer_of_counted_visits_only(hq_client, known):
    rows = read(hq_client.get(f"/reports/export.csv?{PERIOD}").get_data(as_text=True))
    # A: 4 visits in the period (rejected and out-of-period ones left out); B: 1; C: 2. Five questions each.
    assert len(rows) == (4 + 1 + 2) * 5
    dates = sorted({r["visit_date"] for r in rows})
    assert dates[0] == "2026-01-10" and dates[-1] == "2026-06-30"
    assert "2026-03-10" not in dates                     # the rejected visit
    assert "2026-07-01" not in dates                     # the day after the period


def test_values_of_one_visit(hq_client, known):
    rows = read(hq_client.get(f"/reports/export.csv?region=NORTH&{PERIOD}").get_data(as_text=True))
    visit = [r for r in rows if r["visit_date"] == "2026-02-15"]
    assert [r["question_key"] for r in visit] == ["greet", "clean", "polite", "phone", "note"]
    greet, clean, polite, phone, note = visit
    assert greet == {
        "submission_id": greet["submission_id"], "visit_date": "2026-02-15", "region_code": "NORTH",
        "branch_code": "BR-A", "checklist_slug": "mini", "checklist_version": "1", "channel": "visit",
        "section_key": "front", "question_key": "greet", "standard_key": "greeting", "answer": "yes",
        "earned": "1", "possible": "1", "submission_score": "75", "critical_fail": "0", "comment": "",
        "repeat": "",
    }
    assert greet["submission_id"].isdigit()
    # N/A: no answer and no points; the unscored text question has neither points nor standard.
    assert (clean["answer"], clean["earned"], clean["possible"]) == ("", "", "")
    assert (polite["answer"], polite["earned"], polite["possible"]) == ("no", "0", "1")
    assert (phone["answer"], phone["earned"], phone["possible"]) == ("no", "1", "1")
    assert (note["standard_key"], note["earned"], note["possible"]) == ("", "", "")
    assert note["answer"] == "<b>Friendly</b> staff, 100% sure"


def test_critical_failure_and_overridden_score(hq_client, known):
    rows = read(hq_client.get(f"/reports/export.csv?region=NORTH&{PERIOD}").get_data(as_text=True))
    visit = [r for r in rows if r["submission_id"] == str(known.critical.id)]
    assert {r["submission_score"] for r in visit} == {"0"}
    # SPEC §5: the submission's critical failure, the same on each of its rows; the phone question failed.
    assert [r["critical_fail"] for r in visit] == ["1", "1", "1", "1", "1"]
    assert visit[3]["answer"] == "yes" and visit[3]["earned"] == "0"


def test_comments_travel_with_their_answer_and_cannot_run_as_formulas(hq_client, known):
    rows = read(hq_client.get(f"/reports/export.csv?region=NORTH&{PERIOD}").get_data(as_text=True))
    clean = [r for r in rows if r["visit_date"] == "2026-06-30" and r["question_key"] == "clean"][0]
    assert clean["comment"] == "'=HYPERLINK(\"http://evil.test\")"
    assert clean["answer"] == "no"


def test_region_filter(hq_client):
    rows = read(hq_client.get(f"/reports/export.csv?region=SOUTH&{PERIOD}").get_data(as_text=True))
    assert {r["branch_code"] for r in rows} == {"BR-C"}
    assert {r["submission_score"] for r in rows} == {"100"}


def test_empty_period_is_just_the_header(hq_client):
    body = hq_client.get("/reports/export.csv?from=2020-01-01&to=2020-12-31").get_data(as_text=True)
    assert body == HEADER + "\r\n"


def test_numbers_keep_full_precision():
    assert number(None) == ""
    assert number(2.0) == "2"
    assert number(0.5) == "0.5"
    assert number(200 / 3) == "66.66666666666667"
    assert number(0.1 + 0.2) == "0.30000000000000004"


@pytest.mark.parametrize(("score", "written"), [
    (None, ""), (0.0, "0"), (1.0, "100"), (0.72, "72"), (0.875, "87.5"), (2 / 3, "66.66666666666666"),
    (0.123456789012345, "12.3456789012345"), (1e-07, "0.00001"),
])
def test_submission_score_is_the_stored_value_in_percent(score, written):
    assert percent(score) == written


@pytest.mark.parametrize(("given", "written"), [
    (None, ""), ("", ""), ("fine", "fine"), ("=1+1", "'=1+1"), ("+44 20", "'+44 20"), ("@cmd", "'@cmd"),
    ("-5", "-5"), ("-2.5", "-2.5"), ("- rude", "'- rude"), ("\tx", "'\tx"),
])
def test_text_is_defused_for_spreadsheets(given, written):
    assert text(given) == written


# --- flask export csv ------------------------------------------------------------------------

def test_cli_export_writes_the_file(runner, known, tmp_path):
    out = tmp_path / "north.csv"
    result = runner.invoke(args=["export", "csv", "--region", "NORTH", "--from", "2026-01-01",
                                 "--to", "2026-06-30", "-o", str(out)])
    assert result.exit_code == 0, result.output
    body = out.read_bytes().decode("utf-8")
    assert body.split("\r\n")[0] == HEADER
    rows = read(body)
    assert len(rows) == 5 * 5 and {r["region_code"] for r in rows} == {"NORTH"}
    assert "Wrote" in result.output


def test_cli_export_all_regions_to_stdout(runner, known):
    result = runner.invoke(args=["export", "csv", "--from", "2026-01-01", "--to", "2026-06-30", "-o", "-"])
    assert result.exit_code == 0
    assert len(read(result.output)) == 7 * 5


@pytest.mark.parametrize(("args", "words"), [
    (["--region", "NOWHERE"], "no region with code 'NOWHERE'"),
    (["--from", "2026-02-30"], "is not a date"),
    (["--from", "2026-06-01", "--to", "2026-05-01"], "is after the"),
    (["--from", "2000-01-01", "--to", "2026-01-01"], "at most 5 years"),
])
def test_cli_export_bad_input_exits_2(runner, known, tmp_path, args, words):
    result = runner.invoke(args=["export", "csv", *args, "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert words in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.csv").exists()


def test_cli_export_unwritable_path_exits_2(runner, known, tmp_path):
    result = runner.invoke(args=["export", "csv", "-o", str(tmp_path / "missing" / "x.csv")])
    assert result.exit_code == 2
    assert "can't write" in result.output


def test_cli_export_needs_an_output(runner, known):
    result = runner.invoke(args=["export", "csv"])
    assert result.exit_code == 2
    assert "-o" in result.output
