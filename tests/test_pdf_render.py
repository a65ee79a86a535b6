"""Branch and region PDFs from sample report data: what a manager reads on each page."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from pypdf import PdfReader

from reports import charts, pdf
from reports.pdf import key_points, render_html, render_report
from tests import report_samples as samples

SAMPLES = {
    "branch": lambda: samples.BRANCH,
    "one_visit": samples.branch_one_visit,
    "empty": samples.branch_empty,
    "region": lambda: samples.REGION,
    "region_empty": samples.region_empty,
}
_rendered: dict[str, list[str]] = {}


def flat(text: str) -> str:
    """Collapse the line breaks and runs of spaces that text extraction leaves."""
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def pages(app):
    """Return a callable giving the text of each page of a sample's PDF (rendered once per run)."""

    def get(name: str) -> list[str]:
        if name not in _rendered:
            pdf = render_report(SAMPLES[name]())
            assert pdf.startswith(b"%PDF-")
            _rendered[name] = [flat(p.extract_text()) for p in PdfReader(BytesIO(pdf)).pages]
        return _rendered[name]

    return get


def test_branch_headline_interval_and_gaps(pages):
    data, first = samples.BRANCH, pages("branch")[0]
    h = data["headline"]
    assert f"{h['score']:.1f} %" in first
    assert f"Likely between {round(h['ci_low'])} and {round(h['ci_high'])} % more visits narrow this" in first
    assert "95 %" not in first and "interval" not in first  # the words are the appendix's
    assert "24 visits" in first
    assert f"▼ {abs(h['score'] - data['target']):.1f} points below target" in first
    assert f"▲ {h['score'] - h['previous_score']:.1f} points up" in first


def test_branch_standards_table_prints_score_region_and_difference(pages):
    first = pages("branch")[1]
    for s in samples.BRANCH["standards"]:
        diff = s["score"] - s["region_score"]
        sign = "+" if diff > 0 else "−"
        assert (
            f"{s['title']} {s['n']} {s['score']:.1f} % {s['region_score']:.1f} % "
            f"{sign}{abs(diff):.1f}" in first
        )


def test_branch_pages_are_numbered_and_titled(pages):
    texts = pages("branch")
    total = len(texts)
    assert total >= 3
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {total}" in text
    # Later pages repeat the report's title in their header.
    assert "Leeds Briggate (BR-014)" in texts[1]


def test_branch_sections_appear_in_reading_order(pages):
    text = " ".join(pages("branch"))
    order = [
        "Fix first The questions",
        "ACTIONS",
        "CRITICAL FAILURES",
        "Standards Average score",
        "Month by month",
        "Actions What the branch",
        "Critical failures Each visit",
        "Sections, checklist by checklist",
        "Visit log",
        "What shoppers wrote",
        "Appendix · How the scores are computed",
    ]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)


def test_branch_lists_fix_first_failures_visits_and_comments(pages):
    text = " ".join(pages("branch"))
    data = samples.BRANCH
    for q in data["fix_first"]:
        assert q["text"] in text
    assert (
        "3 May 2026 S-10428 Store visit "
        "Did they use a personal phone while serving you? Score set to 0 %" in text
    )
    assert "Flagged, score kept" in text
    for v in data["visits"]:
        assert v["reference"] in text
    assert 'Young man with a grey fleece, badge said "Tom". Friendly but hurried.' in text
    assert "11 N/A answers and 37 hidden questions were left out" in text


def test_one_visit_shows_no_interval_and_says_why(pages):
    first = pages("one_visit")[0]
    assert "1 visit: not enough to compare" in first
    assert "95 % interval" not in first
    assert f"{samples.branch_one_visit()['headline']['score']:.1f} %" in first


def test_empty_period_says_so_on_one_page(pages):
    texts = pages("empty")
    assert len(texts) == 1
    assert "No visits in this period" in texts[0]
    assert "Page 1 of 1" in texts[0]
    assert "Visit log" not in texts[0]


def test_region_ranks_branches_best_first(pages):
    texts = pages("region")
    text = " ".join(texts)
    ranking = samples.REGION["ranking"]
    positions = [text.index(f"{b['name']} {b['code']}") for b in ranking]
    assert positions == sorted(positions)
    best = ranking[0]
    assert f"1 {best['name']} {best['code']} {best['n']} {best['score']:.1f} %" in texts[0]
    assert "no visits" in text
    assert f"Page 1 of {len(texts)}" in texts[0]


def test_region_with_no_visits_says_so(pages):
    texts = pages("region_empty")
    assert "No visits in this period" in texts[0]
    assert "Branch ranking" not in " ".join(texts)


def test_region_heat_map_prints_every_number_and_marks_missing_data(pages):
    text = " ".join(pages("region"))
    for row in samples.REGION["heatmap"]:
        for cell in row["cells"]:
            if cell["score"] is not None:
                assert f"{cell['score']:.1f}" in text
    assert "no data" in text
    assert "Fix first, branch by branch" in text


def test_comments_are_escaped_in_html(app):
    data = samples.branch_sample(3)
    data["comments"] = [
        {"date": "2026-05-01", "question": "Describe <b>who</b>", "text": "<b>rude</b> & loud"}
    ]
    html = render_html(data)
    assert "&lt;b&gt;rude&lt;/b&gt; &amp; loud" in html
    assert "<b>rude</b>" not in html
    assert "Describe &lt;b&gt;who&lt;/b&gt;" in html


def test_unknown_report_kind_is_refused(app):
    with pytest.raises(ValueError, match="unknown report kind"):
        render_html({"kind": "invoice"})


def test_one_visit_says_on_page_one_that_it_is_indicative(pages):
    assert "Fix first Based on a single visit: indicative only." in pages("one_visit")[0]


# --- charts -----------------------------------------------------------------------------


def test_trend_chart_leaves_gaps_for_months_without_visits():
    points = [
        {"label": f"M{i} 2026", "score": s, "n": 0 if s is None else 1}
        for i, s in enumerate([70, 80, None, 60, 65, None, 90])
    ]
    svg = charts.trend_chart(points, 85, region=False)
    branch_lines = [line for line in re.findall(r'<polyline points="([^"]+)"', svg)]
    assert [len(line.split()) for line in branch_lines] == [
        2,
        2,
    ]  # one isolated point: a dot, no line
    assert svg.count("<circle") == 5 + 1  # five months with visits, one legend marker
    assert "Target 85.0 %" in svg


def test_trend_chart_with_no_data_says_so():
    svg = charts.trend_chart([{"label": "Jan 2026", "score": None, "n": 0}], 85)
    assert "No visits in this period" in svg


def test_chart_text_is_xml_escaped():
    svg = charts.trend_chart(
        [{"label": "<Jan> & 2026", "score": 50, "n": 1}], None, series_label='Branch "A" <b>'
    )
    assert "&lt;Jan&gt;" in svg and "&amp;" in svg
    assert "<b>" not in svg and "<Jan>" not in svg


def test_score_bar_marks_region_and_target():
    svg = charts.score_bar(50, 80, 85, width=100)
    assert 'width="50"' in svg  # the bar runs to 50 % of the track
    assert 'x1="80"' in svg and 'x1="85"' in svg


def test_heat_bins_get_darker_as_scores_fall():
    levels = [charts.heat(s)["level"] for s in (95, 85, 75, 65, 55, 10)]
    assert levels == [0, 1, 2, 3, 4, 5]
    assert charts.heat(None)["bg"] is None
    assert [b["label"] for b in charts.heat_legend()][0] == "≥ 90 %"


# --- wording and small helpers ----------------------------------------------------------


def test_region_ranking_does_not_compare_a_single_visit_with_the_previous_period(pages):
    text = " ".join(pages("region"))
    ranking = samples.REGION["ranking"]
    at = next(i for i, b in enumerate(ranking) if b["n"] == 1)
    single, after = ranking[at], ranking[at + 1]
    assert single["change"] is not None  # the sample has a previous score for it ...
    row = text[text.index(f"{single['name']} {single['code']}"):text.index(f"{after['name']} {after['code']}")]
    assert "1 visit: not enough to compare" in row
    assert "▲" not in row and "▼" not in row  # ... but one visit is not compared


def test_region_key_points_agree_in_number():
    data = samples.region_sample(4, 40, empty_branches=0, single_visit_branches=0)
    for entry, score in zip(data["ranking"], (90.0, 80.0, 70.0, 60.0)):
        entry["score"] = score
    assert "1 of 4 branches with visits reaches the 85.0 % target." in key_points(data)
    data["ranking"][1]["score"] = 86.0
    assert "2 of 4 branches with visits reach the 85.0 % target." in key_points(data)


def test_counts_are_printed_with_thousands_separated():
    assert pdf.visits(1) == "1 visit"
    assert pdf.visits(1200) == "1,200 visits"
    assert pdf.count(2059) == "2,059"
    assert pdf.arrow_points(16.94) == "▲ 16.9"
    assert pdf.arrow_points(-0.04) == "● 0.0"
    assert pdf.arrow_points(None) == "–"


def test_partly_covered_months_are_named_under_the_trend():
    period = {"from": "2025-11-30", "to": "2026-11-23"}
    trend = [{"month": m} for m in ("2025-11", "2025-12", "2026-10", "2026-11")]
    assert pdf.partial_months(period, trend) == "Partly in the period: Nov 2025 (30 Nov only), Nov 2026 (1–23 Nov)."
    whole = {"from": "2026-01-01", "to": "2026-06-30"}
    assert pdf.partial_months(whole, [{"month": "2026-01"}, {"month": "2026-06"}]) is None
    one_month = {"from": "2026-02-03", "to": "2026-02-10"}
    assert pdf.partial_months(one_month, [{"month": "2026-02"}]) == "Partly in the period: Feb 2026 (3–10 Feb)."


def test_trend_caption_appears_in_the_branch_pdf(pages):
    text = " ".join(pages("branch"))
    assert "Partly in the period: Nov 2026 (1–23 Nov)." in text


@pytest.mark.parametrize("name", ["branch", "region"])
def test_what_to_fix_is_only_ever_said_of_fix_first(pages, name):
    """SPEC §8: no other ranking of "what to fix" appears; every such word sits beside "fix first"."""
    text = " ".join(pages(name))
    words = list(re.finditer(r"(?i)\b(fix\w*|weak\w*|coach\w*|priorit\w*|improve\w*)", text))
    assert words, "the report should name what to fix first"
    for match in words:
        around = text[max(0, match.start() - 60):match.end() + 60].lower()
        assert "fix first" in around, around


def test_branch_lists_each_action_with_its_score_before_and_since(pages):
    text = " ".join(pages("branch"))
    assert "Actions What the branch committed to do" in text
    assert "Order new name badges." in text and "Note: Badges handed out on 20 Feb." in text
    assert "Done 50.0 % 10 visits 87.5 % 8 visits" in text
    first = pages("branch")[0]
    assert "ACTIONS 1 open · 1 overdue Due 30 Jun 2026 · Role-play the complaint script" in first


def test_region_lists_overdue_actions(pages):
    text = " ".join(pages("region"))
    assert "Overdue actions Actions still open after their date" in text
    assert text.count("Add the farewell to the till checklist.") == 3  # two branches' rows, and "In short"
    assert "2 actions overdue; the oldest was due 1 Sep 2026" in text
