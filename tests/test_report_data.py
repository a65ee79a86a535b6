"""Report data from a small known dataset (tests/reports_fixtures.py): every number by hand.

Period 1 Jan – 30 Jun 2026 (181 days); previous period 4 Jul – 31 Dec 2025.
Branch A (NORTH): visits 75, 75, 50, 50 (+ one rejected, one after the period,
one long before); 100 in the previous period. Branch B (NORTH): one visit, a
critical failure computed 75, reported 0. Branch C (SOUTH): 100, 100.
Branch D (NORTH): no visits.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date
from math import sqrt

import pytest
from sqlalchemy import event
from survey.extensions import db

from reports import service
from reports.service import NO_VISITS, ONE_VISIT, UnknownCode

from .reports_fixtures import *  # noqa: F401,F403
from .reports_fixtures import NA, PERIOD_END, PERIOD_START

T3 = 3.182446305284263  # t(0.975, 3)
SD_A = sqrt(625 / 3)    # 75, 75, 50, 50 around 62.5
HALF_A = T3 * SD_A / 2


def approx(value):
    return pytest.approx(value, abs=1e-9)


@pytest.fixture
def branch_a(known):
    return service.branch_report("BR-A", PERIOD_START, PERIOD_END)


@pytest.fixture
def region_north(known):
    return service.region_report("NORTH", PERIOD_START, PERIOD_END)


def test_branch_headline(branch_a):
    h = branch_a["headline"]
    assert h["n"] == 4
    assert h["score"] == approx(62.5)
    assert h["sd"] == approx(SD_A)
    assert h["ci_low"] == approx(62.5 - HALF_A)
    assert h["ci_high"] == approx(62.5 + HALF_A)
    assert h["previous_score"] == approx(100.0)
    assert h["change"] == approx(-37.5)
    assert h["region_score"] == approx((62.5 + 0.0) / 2)          # A and B weigh the same; D has no data
    assert h["network_score"] == approx((62.5 + 0.0 + 100.0) / 3)
    assert h["gap_target"] == approx(62.5 - 85.0)
    assert h["gap_region"] == approx(62.5 - 31.25)
    assert h["gap_network"] == approx(62.5 - 162.5 / 3)
    assert h["note"] is None


def test_branch_frame(branch_a, app):
    assert branch_a["kind"] == "branch"
    assert branch_a["brand"] == app.config["SURVEY_BRAND"]
    assert branch_a["target"] == 85.0
    assert branch_a["period"] == {"from": "2026-01-01", "to": "2026-06-30", "label": "1 Jan 2026 – 30 Jun 2026",
                                  "days": 181}
    assert branch_a["previous_period"] == {"from": "2025-07-04", "to": "2025-12-31",
                                           "label": "4 Jul 2025 – 31 Dec 2025", "days": 181}
    assert branch_a["branch"] == {"code": "BR-A", "name": "Alpha", "address": "1 High St"}
    assert branch_a["region"] == {"code": "NORTH", "name": "North"}
    assert branch_a["generated_at"].endswith(" UTC")


def test_branch_standards_against_region(branch_a):
    rows = {s["key"]: s for s in branch_a["standards"]}
    # Catalogue order; standards this checklist doesn't ask about have no data.
    assert [s["key"] for s in branch_a["standards"]][:4] == ["greeting", "speed", "communication", "attentiveness"]
    assert rows["greeting"] == {"key": "greeting", "title": "Greeting and first contact", "score": approx(25.0),
                                "region_score": approx((25.0 + 100.0) / 2), "diff": approx(25.0 - 62.5), "n": 4}
    # The N/A answer leaves "clean" out of one visit: 1, 1, 0 over three visits.
    assert rows["appearance"]["score"] == approx(200 / 3)
    assert rows["appearance"]["n"] == 3
    assert rows["appearance"]["region_score"] == approx((200 / 3 + 100) / 2)
    assert rows["communication"]["score"] == approx(50.0)
    # B's critical failure: its attentiveness standard is 0 (standard scores keep computed values).
    assert rows["attentiveness"]["score"] == approx(100.0)
    assert rows["attentiveness"]["region_score"] == approx(50.0)
    assert rows["speed"] == {"key": "speed", "title": "Speed of response", "score": None, "region_score": None,
                             "diff": None, "n": 0}


def test_branch_trend_has_every_month(branch_a):
    trend = {t["month"]: t for t in branch_a["trend"]}
    assert list(trend) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert trend["2026-01"] == {"month": "2026-01", "label": "Jan 2026", "score": approx(75.0), "n": 1,
                                "region_score": approx(37.5)}
    assert trend["2026-02"]["score"] == approx(62.5)
    assert trend["2026-02"]["n"] == 2
    assert trend["2026-03"] == {"month": "2026-03", "label": "Mar 2026", "score": None, "n": 0, "region_score": None}
    assert trend["2026-06"]["score"] == approx(50.0)


def test_branch_sections_and_fix_first(branch_a):
    assert [(s["key"], s["title"], s["score"], s["n"]) for s in branch_a["sections"]] == [
        ("front", "At the door", approx(50.0), 4),
        ("service", "Being served", approx(75.0), 4),
    ]
    # Points lost per visit: each failed yes/no is 1/2 of its section x 1/2 of the score = 25
    # points in that visit (50 when its neighbour was N/A); greet 3 x 25 / 4 visits, polite
    # 2 x 25 / 4, clean 25 / 4. They add up to 100 - 62.5, the branch's mean score.
    assert [(q["key"], q["text"], q["standard"], q["lost"], q["n"], q["critical"])
            for q in branch_a["fix_first"]] == [
        ("greet", "Were you greeted?", "Greeting and first contact", approx(18.75), 4, 0),
        ("polite", "Were they polite?", "Quality of communication", approx(12.5), 4, 0),
        ("clean", "Was the floor clean?", "Appearance and premises", approx(6.25), 3, 0),
    ]  # "phone" lost nothing on every visit: nothing to fix, so not listed


def test_branch_visit_log_comments_and_method(branch_a):
    assert [(v["date"], v["score"], v["critical_fail"]) for v in branch_a["visits"]] == [
        ("2026-01-10", approx(75.0), False), ("2026-02-15", approx(75.0), False),
        ("2026-02-20", approx(50.0), False), ("2026-06-30", approx(50.0), False),
    ]
    first = branch_a["visits"][0]
    assert (first["channel"], first["checklist"], first["version"]) == ("visit", "Mini visit", 1)
    assert len(first["reference"]) == 7
    # Grouped by question in checklist order, each with its visit and whether that answer passed.
    refs = {v["date"]: v["reference"] for v in branch_a["visits"]}
    assert branch_a["comments"] == [
        {"date": "2026-06-30", "reference": refs["2026-06-30"], "checklist": "Mini visit",
         "question": "Was the floor clean?", "text": "=HYPERLINK(\"http://evil.test\")", "result": "failed"},
        {"date": "2026-02-15", "reference": refs["2026-02-15"], "checklist": "Mini visit",
         "question": "Anything else?", "text": "<b>Friendly</b> staff, 100% sure", "result": None},
    ]
    assert branch_a["critical_failures"] == []
    method = branch_a["method"]
    assert method["versions"] == [{"checklist": "mini", "title": "Mini visit", "version": 1, "visits": 4}]
    assert method["na_excluded"] == 1
    assert method["hidden_excluded"] == 0
    assert method["critical_overrides"] == []
    assert method["sections"][0] == {
        "checklist": "Mini visit", "version": 1, "title": "At the door", "weight": 1.0,
        "questions": [{"text": "Were you greeted?", "weight": 1.0, "standard": "greeting"},
                      {"text": "Was the floor clean?", "weight": 1.0, "standard": "appearance"}],
    }
    # "Anything else?" is unscored, so it is not in the weights table.
    assert [q["text"] for q in method["sections"][1]["questions"]] == [
        "Were they polite?", "Did they use a phone while serving you?"]


def test_critical_failure_and_override_on_one_visit(known):
    report = service.branch_report("BR-B", PERIOD_START, PERIOD_END)
    h = report["headline"]
    assert (h["score"], h["n"], h["ci_low"], h["ci_high"], h["sd"]) == (0.0, 1, None, None, None)
    assert h["note"] == ONE_VISIT
    assert h["change"] is None
    assert report["critical_failures"] == [{
        "date": "2026-01-20", "reference": known.critical.reference, "checklist": "Mini visit",
        "question": "Did they use a phone while serving you?", "rule": "zero", "computed_score": approx(75.0),
    }]
    assert report["method"]["critical_overrides"] == [{
        "date": "2026-01-20", "reference": known.critical.reference,
        "question": "Did they use a phone while serving you?", "computed_score": approx(75.0),
    }]
    assert report["visits"][0]["critical_fail"] is True
    assert report["visits"][0]["score"] == 0.0


def test_branch_without_visits_says_so(known):
    report = service.branch_report("BR-D", PERIOD_START, PERIOD_END)
    h = report["headline"]
    assert h["note"] == NO_VISITS
    assert (h["score"], h["n"], h["gap_target"], h["gap_region"], h["change"]) == (None, 0, None, None, None)
    assert h["region_score"] == approx(31.25)
    assert report["visits"] == report["sections"] == report["fix_first"] == report["comments"] == []
    assert all(t["score"] is None and t["n"] == 0 for t in report["trend"])
    assert report["method"]["versions"] == report["method"]["sections"] == []


def test_region_headline_is_a_mean_over_branches(region_north):
    h = region_north["headline"]
    assert h["score"] == approx(31.25)            # (62.5 + 0) / 2, not the visit mean 50
    assert h["score"] != approx((75 + 75 + 50 + 50 + 0) / 5)
    assert h["n_visits"] == 5
    assert h["n_branches"] == 2
    assert h["network_score"] == approx(162.5 / 3)
    assert h["previous_score"] == approx(100.0)
    assert h["change"] == approx(31.25 - 100.0)
    assert region_north["region"] == {"code": "NORTH", "name": "North"}
    assert region_north["kind"] == "region"


def test_region_ranking(region_north):
    ranking = region_north["ranking"]
    assert [(r["rank"], r["code"]) for r in ranking] == [(1, "BR-A"), (2, "BR-B"), (None, "BR-D")]
    a, b, d = ranking
    assert a == {"rank": 1, "code": "BR-A", "name": "Alpha", "score": approx(62.5), "ci_low": approx(62.5 - HALF_A),
                 "ci_high": approx(62.5 + HALF_A), "n": 4, "change": approx(-37.5), "sd": approx(SD_A)}
    assert (b["score"], b["n"], b["ci_low"], b["sd"], b["change"]) == (0.0, 1, None, None, None)
    assert (d["score"], d["n"]) == (None, 0)


def test_region_heatmap_trend_and_fix_first_per_branch(region_north):
    keys = [s["key"] for s in region_north["standards"]]
    assert keys[:4] == ["greeting", "speed", "communication", "attentiveness"]
    rows = {r["code"]: {c["key"]: c["score"] for c in r["cells"]} for r in region_north["heatmap"]}
    assert [r["code"] for r in region_north["heatmap"]] == ["BR-A", "BR-B", "BR-D"]
    assert all([c["key"] for c in r["cells"]] == keys for r in region_north["heatmap"])
    assert rows["BR-A"]["greeting"] == approx(25.0)
    assert rows["BR-B"]["attentiveness"] == approx(0.0)
    assert rows["BR-A"]["speed"] is None
    assert set(rows["BR-D"].values()) == {None}
    trend = {t["month"]: t for t in region_north["trend"]}
    assert (trend["2026-01"]["score"], trend["2026-01"]["n"]) == (approx(37.5), 2)
    assert (trend["2026-02"]["score"], trend["2026-02"]["n"]) == (approx(62.5), 2)
    assert (trend["2026-03"]["score"], trend["2026-03"]["n"]) == (None, 0)
    assert trend["2026-06"]["label"] == "Jun 2026"
    # Each branch with visits gets its own top items; B's one visit failed the critical "phone".
    fixes = {b["code"]: [(q["key"], q["lost"], q["n"], q["critical"]) for q in b["items"]]
             for b in region_north["fix_first"]}
    assert fixes == {
        "BR-A": [("greet", approx(18.75), 4, 0), ("polite", approx(12.5), 4, 0), ("clean", approx(6.25), 3, 0)],
        "BR-B": [("phone", approx(25.0), 1, 1)],
    }


def test_region_method(region_north, known):
    method = region_north["method"]
    assert method["versions"] == [{"checklist": "mini", "title": "Mini visit", "version": 1, "visits": 5}]
    assert (method["na_excluded"], method["hidden_excluded"]) == (1, 0)
    assert [o["reference"] for o in method["critical_overrides"]] == [known.critical.reference]
    bravo = {"code": "BR-B", "name": "Bravo"}
    assert [o["branch"] for o in method["critical_overrides"]] == [bravo]
    assert [(f["reference"], f["branch"], f["rule"]) for f in region_north["critical_failures"]] == [
        (known.critical.reference, bravo, "zero")]


def test_branch_sections_grouped_by_checklist(branch_a):
    assert branch_a["checklists"] == [{
        "checklist": "mini", "title": "Mini visit", "visits": 4,
        "sections": [{k: s[k] for k in ("key", "title", "score", "n")} for s in branch_a["sections"]],
    }]


def test_reports_are_plain_data(branch_a, region_north):
    for report in (branch_a, region_north):
        assert json.loads(json.dumps(report)) == report


def test_default_period_ends_today(known):
    report = service.branch_report("BR-A")
    assert report["period"]["to"] == date.today().isoformat()
    assert report["period"]["days"] in (366, 367)


def test_unknown_codes_raise(known):
    with pytest.raises(UnknownCode):
        service.branch_report("BR-NOPE", PERIOD_START, PERIOD_END)
    with pytest.raises(UnknownCode):
        service.region_report("NOWHERE", PERIOD_START, PERIOD_END)


def test_shipped_checklists_report_titles_from_their_versions(make_branch, make_visit, published):
    """A store visit with the real checklist: titles come from the version, comments stay verbatim."""
    from survey.caches import checklist_of

    from .conftest import good_answers

    branch = make_branch("BR-S", "WEST")
    checklist = published["store-visit"]
    schema = checklist_of(checklist.latest)
    raw = good_answers(schema, date(2026, 2, 2))
    from survey.checklist.conditions import slots
    from survey.shopper.fields import slot_name

    given = {slot: raw.get(slot_name(slot)) for _, _, _, slot in slots(schema)}  # one employee met
    make_visit(branch, date(2026, 2, 2), checklist=checklist, by_slot=given)
    report = service.branch_report("BR-S", PERIOD_START, PERIOD_END)
    assert report["headline"]["score"] == approx(100.0)
    assert report["sections"][0]["title"] == "Arrival and greeting"
    assert report["visits"][0]["checklist"] == "Store visit"


# --- A fixed number of queries whatever the data --------------------------------------------

@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _grow(make_branch, make_visit, tag: str, regions: tuple[str, ...]):
    for r, region in enumerate(regions):
        for i in range(3):
            branch = make_branch(f"BR-{tag}{r}{i}", region)
            for month in range(1, 7):
                make_visit(branch, date(2026, month, 3 + i), greet="no" if i % 2 else "yes")


def test_query_count_does_not_grow_with_branches_or_visits(known, make_branch, make_visit):
    db.session.expire_all()
    with counted_queries() as small_branch:
        service.branch_report("BR-A", PERIOD_START, PERIOD_END)
    with counted_queries() as small_region:
        service.region_report("NORTH", PERIOD_START, PERIOD_END)

    _grow(make_branch, make_visit, "N", ("NORTH", "EAST", "SOUTH"))
    for month in range(1, 7):  # and more visits for the reported branch itself
        make_visit(known.a, date(2026, month, 12), polite="no")
    db.session.expire_all()

    with counted_queries() as big_branch:
        big = service.branch_report("BR-A", PERIOD_START, PERIOD_END)
    with counted_queries() as big_region:
        service.region_report("NORTH", PERIOD_START, PERIOD_END)
    assert big["headline"]["n"] == 10
    assert len(big_branch) == len(small_branch) <= 13  # + 1 for its actions (SPEC §8)
    assert len(big_region) == len(small_region) <= 11  # fix first and overdue actions (SPEC §8)


# --- flask report branch|region ---------------------------------------------------------------

@pytest.mark.parametrize(("kind", "code", "fmt"), [("branch", "br-a", "pdf"), ("region", "NORTH", "html")])
def test_cli_report_writes_the_document(runner, known, fake_pdf, tmp_path, kind, code, fmt):
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(args=["report", kind, code, "--from", "2026-01-01", "--to", "2026-06-30",
                                 "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out} ({kind} {code.upper()}," in result.output  # the code as stored, however typed
    data, = fake_pdf
    assert (data["kind"], data["period"]["from"], data["period"]["to"]) == (kind, "2026-01-01", "2026-06-30")
    body = out.read_bytes()
    assert body.startswith(b"%PDF") if fmt == "pdf" else body.startswith(b"<!doctype html>")


def test_cli_report_with_the_real_renderer(runner, known, tmp_path):
    pdf, html = tmp_path / "a.pdf", tmp_path / "a.html"
    assert runner.invoke(args=["report", "branch", "BR-A", "--from", "2026-01-01", "--to", "2026-06-30",
                               "-o", str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert runner.invoke(args=["report", "region", "NORTH", "--format", "html", "-o", str(html)]).exit_code == 0
    page = html.read_text(encoding="utf-8")
    assert "<style>" in page and "North" in page       # stylesheet inlined: opens as-is in a browser


@pytest.mark.parametrize(("args", "words"), [
    (["branch", "BR-NOPE"], "no branch with code 'BR-NOPE'"),
    (["region", "NOWHERE"], "no region with code 'NOWHERE'"),
    (["branch", "BR-A", "--from", "2026-13-01"], "is not a date"),
    (["branch", "BR-A", "--to", "31.01.2026"], "is not a date"),
    (["region", "NORTH", "--from", "2026-06-01", "--to", "2026-01-01"], "is after the"),
    (["region", "NORTH", "--from", "2019-01-01", "--to", "2026-01-01"], "at most 5 years"),
    (["branch", "BR-A", "--format", "docx"], "docx"),
])
def test_cli_report_bad_input_exits_2(runner, known, fake_pdf, tmp_path, args, words):
    out = tmp_path / "x.pdf"
    result = runner.invoke(args=["report", *args, "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert fake_pdf == []


def test_cli_report_needs_an_output_and_a_writable_path(runner, known, fake_pdf, tmp_path):
    missing = runner.invoke(args=["report", "branch", "BR-A"])
    assert missing.exit_code == 2 and "-o" in missing.output
    nowhere = runner.invoke(args=["report", "branch", "BR-A", "-o", str(tmp_path / "no" / "such" / "x.pdf")])
    assert nowhere.exit_code == 2 and "can't write" in nowhere.output


def test_a_question_from_a_single_visit_comes_after_the_ones_with_a_pattern(make_branch, make_visit):
    """'Fix first' must rest on more than one visit: a 0 % from the one visit that answered it
    ranks below a weak question seen across three visits, though its average is lower."""
    branch = make_branch("BR-W", "NORTH")
    make_visit(branch, date(2026, 2, 1), greet="no", clean="no")
    make_visit(branch, date(2026, 3, 1), greet="no", clean=NA)
    make_visit(branch, date(2026, 4, 1), greet="yes", clean=NA)

    report = service.branch_report("BR-W", PERIOD_START, PERIOD_END)

    # greet: 25 + 50 (clean was N/A, so greet was all of its section) + 0 over 3 visits;
    # clean: 25 in the one visit it applied, over 3 visits.
    assert [(q["key"], q["lost"], q["n"]) for q in report["fix_first"]] == [
        ("greet", approx(25.0), 3), ("clean", approx(25 / 3), 1),
    ]


def test_the_network_average_follows_review_decisions(known, make_user, make_visit):
    """The network average (from the monthly sums kept on write, survey/rollups.py, and the
    visits of part months) moves with every review decision and every new visit: a rejected
    visit leaves it, a restored one comes back, one waiting for review is out until approved.
    Checked against a direct computation each time."""
    from survey import rollups
    from survey.hq import reviews
    from survey.models import ReviewState, Submission

    from reports import queries

    hq = make_user("hq@example.com")

    def direct() -> tuple[float, int]:
        by_branch: dict[int, list[float]] = {}
        for s in db.session.scalars(db.select(Submission)):
            if s.review == ReviewState.counted and PERIOD_START <= s.visit_date <= PERIOD_END and s.score is not None:
                by_branch.setdefault(s.branch_id, []).append(s.score)
        means = [sum(v) / len(v) for v in by_branch.values()]
        return sum(means) / len(means), len(means)

    def check(score: float, branches: int) -> None:
        db.session.expire_all()
        row = queries.network_mean(PERIOD_START, PERIOD_END)
        assert (row.score, row.branches) == pytest.approx(direct())
        assert (row.score, row.branches) == pytest.approx((score, branches))

    check(162.5 / 300, 3)
    assert reviews.reject(known.critical, ReviewState.counted, hq, "Not our branch")
    check(162.5 / 200, 2)   # B has no visit left
    assert reviews.restore(known.critical, ReviewState.rejected, hq)
    check(162.5 / 300, 3)
    # Waiting for review (a checklist under review): out of the average until approved.
    with rollups.changing(known.critical.id):
        db.session.execute(db.update(Submission).where(Submission.id == known.critical.id)
                           .values(review=ReviewState.pending.value))
    db.session.commit()
    check(162.5 / 200, 2)
    assert reviews.approve(db.session.get(Submission, known.critical.id), ReviewState.pending, hq)
    check(162.5 / 300, 3)
    # A shopper's new visit (through the shopper's own write path) counts at once: D's first, 50.
    make_visit(known.d, date(2026, 5, 5), greet="no", polite="no")
    check(212.5 / 400, 4)
