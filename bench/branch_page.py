"""Benchmark the branch page: does /reports/branches/<code> answer within 2× a bare render of its template?

Seeds the demo (13 branches, 12 months) into a temporary SQLite database and logs in as the
region's manager. Times two GETs through the same test client, alternating:

- the page, ``/reports/branches/BR-001`` (login check, access check, ``service.branch_screen``,
  render);
- a bench-only endpoint that renders the same template with the same data, computed once before
  timing: what the page would cost if its data were free.

Budget (issue 13): page / bare ≤ 2, the median of the back-to-back pairs' ratios.
A report, not a test: it prints PASS/FAIL and exits 0 either way.
Run: ``.venv/bin/python bench/branch_page.py [--runs N] [--profile]``

``--profile`` also says where the page's time goes above the bare render: 100 more pages under
cProfile (login, access check, data, render), then 100 unprofiled ones with each query function
of ``reports.queries`` timed as a whole and its statement's execution in SQLite apart.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
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

from reports import queries, service  # noqa: E402
from sqlalchemy import event  # noqa: E402

BRANCH = "BR-001"
MANAGER = "manager.north@example.com"
BUDGET = 2.0


def timed(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


#: Areas of a profiled request: (label, file name ending, function names); cumulative time each.
AREAS = [
    ("whole request (test client)", "flask/app.py", ("wsgi_app",)),
    ("login: session and user (also in the bare render)", "survey/auth/sessions.py", ("load_user",)),
    ("access check: the branch by code", "reports/queries.py", ("branch_by_code",)),
    ("access check: the user's regions", "survey/access.py", ("can_see_region",)),
    ("data: service.branch_screen", "reports/service.py", ("branch_screen",)),
    ("  fix first, wording of the five shown", "reports/service.py", ("ranked_fixes",)),
    ("  months bucketed in Python", "reports/service.py", ("_monthly",)),
    ("render: reports/branch.html (also in the bare render)", "flask/templating.py", ("render_template",)),
]


def profile(client, url: str, reps: int) -> str:
    """cProfile ``reps`` pages; return the cumulative time of each area per request."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(reps):
        client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    lines = [f"--- cProfile of {url}, {reps} requests (profiling inflates pure-Python parts) ---",
             f"    {'area':<58} {'ms/request':>10}"]
    for label, filename, functions in AREAS:
        total = sum(ct for (f, _, fn), (_, _, _, ct, _) in stats.items() if f.endswith(filename) and fn in functions)
        lines.append(f"    {label:<58} {total / reps * 1000:10.2f}")
    return "\n".join(lines)


def query_times(app, client, url: str, reps: int) -> str:
    """Time each query function of the page (build, compile, execute, rows) and its SQL alone."""
    spent: dict[str, list[float]] = {}
    executed: dict[str, list[float]] = {}
    current: list[str] = []
    originals = {}
    for name in ("branch_by_code", "visits", "standard_scores", "daily_branch_scores", "question_losses",
                 "critical_answers", "standards", "actions", "action_scores", "version_contents"):
        original = originals[name] = getattr(queries, name)

        @functools.wraps(original)
        def timed_query(*args, _original=original, _name=name, **kwargs):
            current.append(_name)
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent.setdefault(_name, []).append(time.perf_counter() - start)
                current.pop()

        setattr(queries, name, timed_query)
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        label = current[-1] if current else "outside reports.queries (login, user's regions)"
        executed.setdefault(label, []).append(time.perf_counter() - conn.info.pop("bench_started"))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for _ in range(reps):
            client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        for name, original in originals.items():
            setattr(queries, name, original)
    lines = [f"--- {url}, {reps} requests: each query function, and its SQL executed in SQLite ---",
             f"    {'query':<48} {'calls':>5} {'whole ms':>9} {'SQL ms':>7}"]
    for name in sorted(set(spent) | set(executed), key=lambda n: -sum(spent.get(n, executed.get(n, [])))):
        whole, sql = spent.get(name), executed.get(name, [])
        lines.append(f"    {name:<48} {len(whole or sql) / reps:5.1f} "
                     f"{sum(whole) / reps * 1000 if whole else float('nan'):9.2f} {sum(sql) / reps * 1000:7.2f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="timed requests of each kind (default 40)")
    parser.add_argument("--profile", action="store_true", help="also: where the page's time goes")
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
        profiled = ""
        if args.profile:
            profiled = "\n\n".join([profile(client, page_url, 100), profile(client, "/reports/bench-bare", 100),
                                     query_times(app, client, page_url, 100)])
        with app.app_context():
            db.engine.dispose()

    ratio = statistics.median(p / b for p, b in zip(pages, bares))
    print(f"branch page {page_url}: median {statistics.median(pages) * 1000:.1f} ms, best {min(pages) * 1000:.1f} ms")
    print(f"bare render of the same template and data: median {statistics.median(bares) * 1000:.1f} ms, "
          f"best {min(bares) * 1000:.1f} ms")
    print(f"page / bare (median of paired runs): {ratio:.2f}×; budget ≤ {BUDGET}×   "
          f"{'PASS' if ratio <= BUDGET else 'FAIL'}")
    if profiled:
        print("\n" + profiled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
