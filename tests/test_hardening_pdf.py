"""A branch PDF is bounded whatever the number of visits (issue 11, point 7): 2,030 visits made
108 pages, 33 s and 514 MB. The latest entries of each growing list are printed, with a word on
where the rest are; every figure still counts every visit."""

from __future__ import annotations

import json
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from reports import bounds
from reports.output import render_pdf
from tests import report_samples as samples

ROOT = Path(__file__).resolve().parent.parent
VISITS = 2030


def big_branch(n: int = VISITS) -> dict:
    """The sample branch with ``n`` visits, one comment each, and a critical failure every tenth."""
    data = samples.branch_sample(n)
    data["comments"] = [{"date": v["date"], "question": "Describe who served you",
                         "text": f"Visit {v['reference']}: the assistant was friendly and knew the range well."}
                        for v in data["visits"]]
    data["critical_failures"] = [{"date": v["date"], "reference": v["reference"], "checklist": v["checklist"],
                                  "question": "Did the employee use a personal phone?", "rule": "zero"}
                                 for v in data["visits"][::10]]
    data["method"]["critical_overrides"] = [{"date": f["date"], "reference": f["reference"], "question": f["question"],
                                             "computed_score": 80.0} for f in data["critical_failures"]]
    return data


@pytest.fixture(scope="module")
def big_pdf_pages(app_for_module):
    with app_for_module.app_context():
        pdf = render_pdf(big_branch())
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def app_for_module(tmp_path_factory):
    from survey import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_a_branch_with_2030_visits_prints_a_bounded_pdf(big_pdf_pages):
    text = " ".join(" ".join(page.split()) for page in big_pdf_pages)
    assert len(big_pdf_pages) <= 16, len(big_pdf_pages)  # 108 before
    assert "The latest 100 of 2,030 visits; every visit, with every answer, is in the CSV export" in text
    assert "The latest 60 of 2,030 comments; every one is in the CSV export." in text
    assert "The latest 50 of 203 critical failures" in text
    assert "2,030 visits" in text  # the headline still counts every visit


def test_the_latest_visits_are_the_ones_printed():
    data = big_branch()
    printed = bounds.for_print(data)
    newest = sorted(v["date"] for v in data["visits"])[-100:]
    assert sorted(v["date"] for v in printed["visits"]) == newest
    assert printed["visits"] == sorted(printed["visits"], key=lambda v: v["date"])
    assert printed["headline"] == data["headline"] and len(data["visits"]) == VISITS  # nothing else changes


def test_a_small_branch_prints_everything_without_a_note():
    data = samples.branch_sample(24)
    assert bounds.for_print(data) == data


CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from survey import create_app
from reports.output import render_pdf
from tests.test_hardening_pdf import big_branch
app = create_app({{"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"}})
with app.app_context():
    render_pdf(big_branch())
# VmHWM, this process's own peak: getrusage's maxrss would count the pytest process it was forked from.
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps(int(peak.split()[1]) / 1024))
"""


def test_rendering_it_takes_less_than_250_mb():
    """Peak memory of a process that renders it (interpreter, WeasyPrint and fonts included)."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT))], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    peak_mb = json.loads(out.stdout.strip().splitlines()[-1])
    assert peak_mb < 250, f"peak RSS {peak_mb:.0f} MB"
