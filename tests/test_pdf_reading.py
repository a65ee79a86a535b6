"""The branch and region PDFs as a manager reads them (issue 15), from a year of real visits.

A branch, Quayside (BR-030), gets 30 visits over 12 months on the shipped checklists, each
answer drawn like the demo's and scored by the real scoring: 22 store visits (the first one a
critical failure), 7 phone calls and a single e-mail inquiry. Two of its store visits carry
comments on the same question, one on a failed answer, one on a passed one. It has an overdue
action and one still in time. Millbrook (BR-031) shares its region; Harbourside (BR-040) is in
another, so the network differs from the region.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader
from survey import actions as operations
from survey.caches import checklist_of
from survey.checklist.conditions import slots
from survey.demo import _fill
from survey.extensions import db
from survey.models import Submission
from survey.submissions import create_assignments, record_submission

from reports import output, service
from reports.pdf import likely_range

from .conftest import log_in

START, END = date(2025, 12, 1), date(2026, 11, 30)
APPENDIX = "Appendix · How the scores are computed"
FAILED_NOTE = "Sticky floor by the door, crisps everywhere."
PASSED_NOTE = "Spotless entrance, mats straight."


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def pdf_pages(body: bytes) -> list[str]:
    assert body.startswith(b"%PDF-")
    return [flat(page.extract_text()) for page in PdfReader(BytesIO(body)).pages]


def half_up(value: float) -> int:
    """Round as a person would (62.5 → 63), independently of the code under test."""
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Year:
    failed: str   # reference of the visit whose comment is on a failed answer
    passed: str   # ... on a passed answer
    critical: str  # reference of the critical failure


def _visit(checklist, branch, day: date, rng: random.Random, quality: float, *, critical: bool = False,
           answer: dict[str, str] | None = None, comment: dict[str, str] | None = None) -> Submission:
    """Store one visit drawn like the demo's (``survey.demo``), with some answers and comments set."""
    version = checklist.latest
    schema = checklist_of(version)
    standards = {q.standard for _, q in schema.questions() if getattr(q, "standard", None)}
    filled = _fill(schema, {**{s: quality for s in standards}, "_": quality}, rng, day, time(11, 30), critical)
    for _, _n, q, slot in slots(schema, filled.repeats):
        if answer and q.key in answer:
            filled.answers[slot] = q.kind.loaded(q, answer[q.key])
        if comment and q.key in comment:
            filled.comments[slot] = comment[q.key]
    (assignment, _), = create_assignments(checklist, branch, 1, due=day + timedelta(days=7),
                                          not_before=day - timedelta(days=14))
    assignment.version = version
    return db.session.get(Submission, record_submission(assignment, version, filled, alerts=False)[0])


@pytest.fixture
def year(published, make_branch) -> Year:
    rng = random.Random(15)
    quayside = make_branch("BR-030", "NORTH", name="Quayside")
    millbrook = make_branch("BR-031", "NORTH", name="Millbrook")
    harbourside = make_branch("BR-040", "SOUTH", name="Harbourside")
    plan = ["store-visit"] * 22 + ["phone-call"] * 7 + ["email-inquiry"]
    refs = {}
    for i, slug in enumerate(plan):
        k = START.month - 1 + i % 12  # every month of the period, two or three visits each
        month = START.replace(month=k % 12 + 1, year=START.year + k // 12)
        day = month + timedelta(days=3 + (i * 7) % 20)
        extra = {}
        if i == 3:  # the praise comes first in time, the complaint later: the complaint is still read first
            extra = {"answer": {"premises_clean": "yes"}, "comment": {"premises_clean": PASSED_NOTE}}
        elif i == 5:
            extra = {"answer": {"premises_clean": "no"}, "comment": {"premises_clean": FAILED_NOTE}}
        visit = _visit(published[slug], quayside, day, rng, 0.72, critical=i == 0, **extra)
        refs[i] = visit.reference
    for i in range(3):  # the previous period, for the change
        _visit(published["store-visit"], quayside, date(2025, 3 + 3 * i, 14), rng, 0.8)
    for i in range(4):
        _visit(published["store-visit"], millbrook, date(2026, 2 + i, 10), rng, 0.9)
    for i in range(3):
        _visit(published["store-visit"], harbourside, date(2026, 3 + i, 12), rng, 0.6)
    store = published["store-visit"]
    operations.open_action(branch_id=quayside.id, checklist_id=store.id, question_key="premises_clean",
                           question_text="Were the entrance and floor clean?", what="Mop the entrance every hour.",
                           owner="Jo (floor lead)", due=date(2026, 9, 1), by_id=None, today=date(2026, 8, 1))
    operations.open_action(branch_id=quayside.id, checklist_id=store.id, question_key="greeted",
                           question_text="Were you greeted?", what="Greet every customer within ten seconds.",
                           owner="Sam", due=date.today() + timedelta(days=30), by_id=None, today=date(2026, 8, 1))
    db.session.commit()
    return Year(failed=refs[5], passed=refs[3], critical=refs[0])


@pytest.fixture
def branch_data(year):
    return service.branch_report("BR-030", START, END)


@pytest.fixture
def branch_pages(branch_data):
    return pdf_pages(output.render_pdf(branch_data))


def appendix_start(pages: list[str]) -> int:
    return next(i for i, text in enumerate(pages) if APPENDIX in text)


def test_a_year_of_thirty_visits_fits_four_pages_and_a_short_appendix(branch_data, branch_pages):
    assert branch_data["headline"]["n"] == 30
    assert branch_data["headline"]["previous_score"] is not None
    body = appendix_start(branch_pages)
    assert 1 <= body <= 4, f"the body takes {body} pages"
    assert len(branch_pages) - body <= 2, f"the appendix takes {len(branch_pages) - body} pages"
    assert all(f"Page {i} of {len(branch_pages)}" in text for i, text in enumerate(branch_pages, start=1))


def test_page_one_says_how_the_branch_is_doing_and_what_to_do_first(year, branch_data, branch_pages):
    first, h = branch_pages[0], branch_data["headline"]
    low, high = half_up(h["ci_low"]), half_up(h["ci_high"])
    assert re.search(rf"OVERALL SCORE {h['score']:.1f} % ?Likely between {low} and {high} % more visits narrow this",
                     first), first[:900]
    assert "from 30 visits" in first
    assert "Likely between: a few visits can't pin a score down exactly" in first  # said the first time it appears
    assert "Spread: a typical visit scored" in first
    change = h["score"] - h["previous_score"]
    assert (f"Previous period 1 Dec 2024 – 30 Nov 2025 {h['previous_score']:.1f} % "
            f"{'▲' if change > 0 else '▼'} {abs(change):.1f} points {'up' if change > 0 else 'down'}") in first
    fixes = branch_data["fix_first"]
    assert len(fixes) == 5
    positions = [first.index(q["text"]) for q in fixes]
    assert positions == sorted(positions)
    assert first.index("Fix first") < positions[0]
    assert "ACTIONS 2 open · 1 overdue Due 1 Sep 2026 · Mop the entrance every hour." in first
    failures = branch_data["critical_failures"]
    assert failures[0]["reference"] == year.critical
    assert f"CRITICAL FAILURES {len(failures)} in the period" in first
    critical = failures[-1]  # the latest comes first
    assert f"visit {critical['reference']} · {critical['question']}" in first
    for word in ("Student", "95 %", "interval", "standard deviation", "consistency"):
        assert word not in " ".join(branch_pages[:appendix_start(branch_pages)]), word


def test_the_plain_range_is_the_interval_rounded(branch_data, branch_pages):
    h = branch_data["headline"]
    assert h["ci_low"] < h["score"] < h["ci_high"]
    assert f"Likely between {half_up(h['ci_low'])} and {half_up(h['ci_high'])} %" in branch_pages[0]
    assert likely_range(62.5, 77.49) == "likely between 63 and 77 %"
    assert likely_range(62.49, 77.5) == "likely between 62 and 78 %"
    assert likely_range(None, 70.0) is None


def test_fix_is_said_only_in_the_fix_first_list(branch_pages):
    text = " ".join(branch_pages)
    start, end = text.index("Fix first The questions"), text.index("ACTIONS")
    words = list(re.finditer(r"(?i)\b(fix\w*|weak\w*|start here|priorit\w*|improve\w*|coach\w*)", text))
    assert words
    outside = [text[max(0, w.start() - 40):w.end() + 40] for w in words if not start <= w.start() < end]
    assert not outside, outside


def test_sections_are_shown_per_checklist(branch_data, branch_pages):
    text = " ".join(branch_pages)
    part = text[text.index("Sections, checklist by checklist"):text.index("Visit log")]
    assert [(c["title"], c["visits"]) for c in branch_data["checklists"]] == [
        ("Store visit", 22), ("Phone call", 7), ("E-mail inquiry", 1)]
    assert "Store visit 22 visits SECTION VISITS SCORE" in part
    assert "Phone call 7 visits SECTION VISITS SCORE" in part
    assert "E-mail inquiry 1 visit Only one visit used this checklist: its scores are indicative only." in part
    store = part[part.index("Store visit 22 visits"):part.index("Phone call 7 visits")]
    assert "Answering the call" not in store  # a phone section never sits in the store visit's table
    assert "Arrival and greeting" in store


def test_comments_sit_under_their_question_with_visit_and_result(year, branch_pages):
    text = " ".join(branch_pages)
    part = text[text.index("What shoppers wrote"):text.index(APPENDIX)]
    assert part.count("Were the entrance and floor clean?") == 1  # one group per question, not one per visit
    heading = part.index("Were the entrance and floor clean? Store visit")
    failed = part.index("Failed · ", heading)
    assert part.index(f"visit {year.failed} {FAILED_NOTE}") > failed
    assert part.index(f"visit {year.passed} {PASSED_NOTE}") > part.index(f"visit {year.failed} {FAILED_NOTE}")
    assert re.search(rf"Passed · \d+ \w+ 2026 · visit {year.passed} {re.escape(PASSED_NOTE)}", part)
    assert f"visit {year.failed} {FAILED_NOTE}" in part
    # Praise and complaints are told apart: the failed one says so.
    before = part[:part.index(FAILED_NOTE)]
    assert before.rindex("Failed") > before.rindex("Were the entrance and floor clean?")


def test_the_appendix_can_be_left_out(branch_data, branch_pages):
    without = pdf_pages(output.render_pdf(branch_data, appendix=False))
    assert APPENDIX not in " ".join(without)
    assert len(without) == appendix_start(branch_pages)


def test_hq_downloads_without_the_appendix(year, client, make_user):
    make_user("hq@example.com", "hq")
    log_in(client, "hq@example.com")
    args = f"from={START}&to={END}"
    full = client.get(f"/reports/branches/BR-030.pdf?{args}")
    short = client.get(f"/reports/branches/BR-030.pdf?{args}&appendix=0")
    region = client.get(f"/reports/regions/NORTH.pdf?{args}&appendix=0")
    assert full.status_code == short.status_code == region.status_code == 200
    assert APPENDIX in " ".join(pdf_pages(full.data))
    assert APPENDIX not in " ".join(pdf_pages(short.data))
    assert APPENDIX not in " ".join(pdf_pages(region.data))
    index = client.get(f"/reports/?{args}").get_data(as_text=True)
    assert "BR-030.pdf?" in index and "appendix=0" in index
    bad = client.get(f"/reports/branches/BR-030.pdf?{args}&appendix=maybe")
    assert bad.status_code == 400
    assert "appendix must be 1" in bad.get_data(as_text=True)


def test_a_manager_is_not_offered_the_short_version(year, client, make_user):
    make_user("north@example.com", "manager", regions=("NORTH",))
    log_in(client, "north@example.com")
    index = client.get(f"/reports/?from={START}&to={END}").get_data(as_text=True)
    assert "appendix=0" not in index


def test_cli_leaves_the_appendix_out(year, runner, tmp_path):
    short = tmp_path / "short.pdf"
    result = runner.invoke(args=["report", "branch", "BR-030", "--from", str(START), "--to", str(END),
                                 "--no-appendix", "-o", str(short)])
    assert result.exit_code == 0, result.output
    assert APPENDIX not in " ".join(pdf_pages(short.read_bytes()))


# --- Region -------------------------------------------------------------------------------------


@pytest.fixture
def region_data(year):
    return service.region_report("NORTH", START, END)


@pytest.fixture
def region_pages(region_data):
    return pdf_pages(output.render_pdf(region_data))


def test_region_names_the_branch_of_each_critical_failure(year, region_data, region_pages):
    text = " ".join(region_pages)
    part = text[text.index("Critical failures Each visit"):text.index("Overdue actions")]
    failure = region_data["critical_failures"][0]
    assert failure["branch"] == {"code": "BR-030", "name": "Quayside"}
    assert failure["reference"] == year.critical
    assert f"Quayside BR-030 {year.critical} {failure['question']}" in part
    assert region_data["method"]["critical_overrides"][0]["branch"] == failure["branch"]
    if failure["rule"] == "zero":  # the override: counted as 0 % instead of what the visit scored
        assert f"Score set to 0 % instead of {failure['computed_score']:.1f} %" in part


def test_region_calls_nothing_weakest_and_marks_branches_above_the_network(region_data, region_pages):
    text = " ".join(region_pages)
    assert not re.search(r"(?i)weakest|start here", text)
    network = region_data["headline"]["network_score"]
    part = text[text.index("Fix first, branch by branch"):]
    for b in region_data["fix_first"]:
        after = part[part.index(f"{b['name']} {b['code']} · {b['score']:.1f} %"):][:120]
        assert ("above the network average" in after) == (b["score"] > network), (b["name"], after)
    assert any(b["score"] > network for b in region_data["fix_first"])
    assert any(b["score"] <= network for b in region_data["fix_first"])


def test_region_keeps_ranking_heat_map_trend_and_overdue_actions(region_data, region_pages):
    text = " ".join(region_pages)
    for heading in ("Branch ranking", "Standards by branch", "Month by month", "Critical failures",
                    "Overdue actions", "Fix first, branch by branch"):
        assert heading in text
    assert "Mop the entrance every hour." in text  # the overdue action, with its branch
    for b in region_data["ranking"]:
        if b["n"] >= 2:
            assert f"{half_up(b['ci_low'])}–{half_up(b['ci_high'])} %" in text
