"""Benchmark the branch page: does /reports/branches/<code> answer within 2× a bare render of its template?

Seeds the demo (13 branches, 12 months) into a temporary SQLite database and logs in as the
region's manager. Times two GETs through the same test client, alternating:

- the page, ``/reports/branches/BR-001`` (login check, access check, ``service.branch_screen``,
  render);
- a bench-only endpoint that renders the same template with the same data, computed once before
  timing: what the page would cost if its data were free.

Budget (issue 13): page / bare ≤ 2, the median of the back-to-back pairs' ratios.
A report, not a test: it prints PASS/FAIL and exits 0 either way.
Run: ``.venv/bin/python bench/branch_page.py [--runs N]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import render_template  # noqa: E402
from flask_login import login_required  # noqa: E402

from survey import create_app  # noqa: E402
from survey.demo import DEMO_PASSWORD, seed  # noqa: E402
from survey.extensions import db  # noqa: E402
from tests.conftest import hidden_fields  # noqa: E402

from reports import service  # noqa: E402

BRANCH = "BR-001"
MANAGER = "manager.north@example.com"
BUDGET = 2.0


def timed(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="timed requests of each kind (default 40)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench",
                          "UPLOAD_DIR": f"{tmp}/uploads", "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False})
        with app.app_context():
            db.create_all()
            seed(echo=lambda line: None)
            data = service.branch_screen(BRANCH)
            db.session.remove()
        page_url = f"/reports/branches/{BRANCH}"
        args_ = {"from": data["period"]["from"], "to": data["period"]["to"]}

        @login_required
        def bare():
            return render_template("reports/branch.html", r=data, args=args_)

        # The bare endpoint sits in the reports blueprint's place so it gets the same template helpers.
        app.view_functions["reports.bench_bare"] = bare
        app.add_url_rule("/reports/bench-bare", "reports.bench_bare", bare)
        client = app.test_client()
        login = hidden_fields(client.get("/login").get_data(as_text=True))
        client.post("/login", data={**login, "email": MANAGER, "password": DEMO_PASSWORD})
        for _ in range(3):
            timed(client, page_url)
            timed(client, "/reports/bench-bare")
        pages, bares = [], []
        for _ in range(args.runs):
            pages.append(timed(client, page_url))
            bares.append(timed(client, "/reports/bench-bare"))
        with app.app_context():
            db.engine.dispose()

    ratio = statistics.median(p / b for p, b in zip(pages, bares))
    print(f"branch page {page_url}: median {statistics.median(pages) * 1000:.1f} ms, best {min(pages) * 1000:.1f} ms")
    print(f"bare render of the same template and data: median {statistics.median(bares) * 1000:.1f} ms, "
          f"best {min(bares) * 1000:.1f} ms")
    print(f"page / bare (median of paired runs): {ratio:.2f}×; budget ≤ {BUDGET}×   "
          f"{'PASS' if ratio <= BUDGET else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
