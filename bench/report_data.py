"""Benchmark the report data: does a branch report stay fast when the network grows tenfold?

Seeds the demo (13 branches, 12 months) into a temporary SQLite database, times
``service.branch_report`` and counts its queries; then copies the whole history
nine more times into new regions (so the database holds 10× the submissions
and answers, none of them the reported branch's) and measures again.

Budget: the 10× time is at most 1.5× the 1× time, and the query count is equal.
Runs alternate between the two databases; the ratio printed is the median of the
back-to-back pairs' ratios, which a busy machine distorts least.

It also checks what the budget assumes: that the database really grew tenfold, and
that the branch report reaches its rows through indexes. Every statement of the report
is timed on both databases and explained (``EXPLAIN QUERY PLAN``) on the 10× one; a
full scan of submission, answer or section_score is a FAIL. Queries that read the
whole network by design (the network average) are marked: they grow with the network.

A report, not a test: it prints PASS/FAIL and exits 0 either way.
Run: ``.venv/bin/python bench/report_data.py [--runs N] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey import create_app, rollups  # noqa: E402
from survey.demo import seed  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Answer, Assignment, Branch, Region, SectionScore, Submission, hash_token  # noqa: E402

from reports import queries, service  # noqa: E402
from reports.periods import make_period  # noqa: E402

BRANCH = "BR-001"
REGION = "NORTH"
BUDGET = 1.5
GROWTH = 10
#: Tables that grow with the history: reaching them by a full scan breaks the budget as data grows.
BIG_TABLES = ("submission", "answer", "section_score", "assignment")


class QueryCounter:
    """Count the statements sent to the database while active."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _hit(self, *args):
        self.count += 1

    def __enter__(self):
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._hit)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._hit)


def timed(app, build, code: str) -> float:
    """Return the seconds one report takes, from a cold session, in its own app context."""
    with app.app_context():
        db.session.expire_all()
        start = time.perf_counter()
        build(code)
        elapsed = time.perf_counter() - start
        db.session.remove()
    return elapsed


def queries_of(app, build, code: str) -> int:
    with app.app_context(), QueryCounter(db.engine) as counter:
        build(code)
        db.session.remove()
    return counter.count


def compare(one, ten, build, code: str, runs: int) -> dict:
    """Time a report on both databases, alternating, so a busy machine slows both alike."""
    for app in (one, ten):
        timed(app, build, code)  # warm caches (parsed checklists, SQLite pages)
    times: dict[str, list[float]] = {"one": [], "ten": []}
    for _ in range(runs):
        times["one"].append(timed(one, build, code))
        times["ten"].append(timed(ten, build, code))
    return {
        "best": (min(times["one"]), min(times["ten"])),
        "median": (statistics.median(times["one"]), statistics.median(times["ten"])),
        # Each pair ran back to back, so its ratio is what a shared, busy machine distorts least.
        "ratio": statistics.median(t / o for o, t in zip(times["one"], times["ten"])),
        "queries": (queries_of(one, build, code), queries_of(ten, build, code)),
    }


def _query_name() -> str:
    """Name the reports.queries function that is sending the current statement."""
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_filename.endswith(f"reports{os.sep}queries.py") and not code.co_name.startswith("_"):
            return code.co_name
        frame = frame.f_back
    return "?"


class StatementLog:
    """Record, per query function, each statement with its parameters and its time."""

    def __init__(self, engine):
        self.engine = engine
        self.times: dict[str, list[float]] = defaultdict(list)
        self.statements: dict[str, tuple[str, Any]] = {}

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_start"] = (time.perf_counter(), _query_name())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        start, name = conn.info.pop("bench_start")
        self.times[name].append(time.perf_counter() - start)
        self.statements.setdefault(name, (statement, parameters))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def statements_of(app, build, code: str, runs: int) -> StatementLog:
    with app.app_context(), StatementLog(db.engine) as log:
        for _ in range(runs):
            db.session.expire_all()
            build(code)
        db.session.remove()
    return log


def plans(app, log: StatementLog) -> dict[str, list[str]]:
    """Return each query function's plan on this database (SQLite's EXPLAIN QUERY PLAN details)."""
    out = {}
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for name, (statement, parameters) in log.statements.items():
                out[name] = [row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
        finally:
            raw.close()
    return out


def full_scans(plan: list[str]) -> list[str]:
    """Return the steps of a plan that read a whole growing table (``SCAN answer``, even through an index)."""
    return [step for step in plan if step.startswith("SCAN ") and step.split()[1] in BIG_TABLES]


def reads_network(plan: list[str]) -> bool:
    """Is this a network-wide query: one reaching submission by visit date or answers by standard only?"""
    return any(("ix_submission_visit_scores" in step or "ix_answer_standard" in step) for step in plan)


def _table_rows(model) -> list[dict]:
    table = model.__table__
    return [dict(row._mapping) for row in db.session.execute(select(table))]


def _copy(k: int, step: dict[str, int], branch_id: dict[int, int], assignments, submissions, answers, sections,
          reference: str) -> None:
    """Insert copy ``k`` of some history, ids shifted by k × step, branches mapped by ``branch_id``."""
    db.session.execute(insert(Assignment), [
        {**a, "id": a["id"] + k * step["assignment"], "branch_id": branch_id[a["branch_id"]],
         "token_hash": hash_token(secrets.token_urlsafe(24))} for a in assignments])
    db.session.execute(insert(Submission), [
        {**s, "id": s["id"] + k * step["submission"], "branch_id": branch_id[s["branch_id"]],
         "assignment_id": s["assignment_id"] + k * step["assignment"],
         "idempotency_key": secrets.token_hex(16), "reference": f"{reference}{k}{s['reference']}"}
        for s in submissions])
    db.session.execute(insert(Answer), [
        {**a, "id": a["id"] + k * step["answer"], "submission_id": a["submission_id"] + k * step["submission"]}
        for a in answers])
    db.session.execute(insert(SectionScore), [
        {**s, "id": s["id"] + k * step["section"], "submission_id": s["submission_id"] + k * step["submission"]}
        for s in sections])


def _steps() -> dict[str, int]:
    return {name: db.session.scalar(select(func.max(model.id))) + 1
            for name, model in (("region", Region), ("branch", Branch), ("assignment", Assignment),
                                ("submission", Submission), ("answer", Answer), ("section", SectionScore))}


def grow(copies: int) -> None:
    """Copy every region's history ``copies`` times into new regions with new branches."""
    regions = _table_rows(Region)
    branches = _table_rows(Branch)
    history = (_table_rows(Assignment), _table_rows(Submission), _table_rows(Answer), _table_rows(SectionScore))
    # Copy k gets ids shifted by k × (largest id + 1), so no id collides.
    step = _steps()
    for k in range(1, copies + 1):
        region_id = {r["id"]: r["id"] + k * step["region"] for r in regions}
        branch_id = {b["id"]: b["id"] + k * step["branch"] for b in branches}
        db.session.execute(insert(Region), [
            {**r, "id": region_id[r["id"]], "code": f"X{k}-{r['code']}", "name": f"{r['name']} {k}"} for r in regions])
        db.session.execute(insert(Branch), [
            {**b, "id": branch_id[b["id"]], "region_id": region_id[b["region_id"]], "code": f"X{k}-{b['code']}"}
            for b in branches])
        _copy(k, step, branch_id, *history, reference="")
    rollups.rebuild()  # the copies' monthly sums, as every write would have kept them
    db.session.commit()


def grow_branch(code: str, copies: int) -> None:
    """Copy one branch's own history ``copies`` times into itself: the same branch, ``copies + 1``× the visits."""
    branch = db.session.scalar(select(Branch.id).where(Branch.code == code))
    assignments = [a for a in _table_rows(Assignment) if a["branch_id"] == branch]
    submissions = [s for s in _table_rows(Submission) if s["branch_id"] == branch]
    ids = {s["id"] for s in submissions}
    answers = [a for a in _table_rows(Answer) if a["submission_id"] in ids]
    sections = [s for s in _table_rows(SectionScore) if s["submission_id"] in ids]
    step = _steps()
    for k in range(1, copies + 1):
        _copy(k, step, {branch: branch}, assignments, submissions, answers, sections, reference="B")
    rollups.rebuild()
    db.session.commit()


def fix_first_queries(app, code: str) -> tuple[int, int, float]:
    """Return (queries of the fix-first ranking, visits of the branch in 12 months, seconds) on one database."""
    with app.app_context():
        branch = db.session.scalar(select(Branch.id).where(Branch.code == code))
        period = make_period(None, None)
        visits = len(queries.visits(period.start, period.end, branch_id=branch))
        with QueryCounter(db.engine) as counter:
            start = time.perf_counter()
            queries.question_losses(period.start, period.end, branch_id=branch)
            elapsed = time.perf_counter() - start
        db.session.remove()
    return counter.count, visits, elapsed


def sizes() -> dict[str, int]:
    return {name: db.session.scalar(select(func.count()).select_from(model))
            for name, model in (("regions", Region), ("branches", Branch), ("submissions", Submission),
                                ("answers", Answer), ("section scores", SectionScore))}


def sizes_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items())


def make_app(path: Path, folder: Path):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench",
                       "UPLOAD_DIR": str(folder / "uploads")})


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed calls per report and database (default 30)")
    parser.add_argument("--keep", help="folder for the databases (default: a temporary one, deleted)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        one_path, ten_path = folder / "one.db", folder / "ten.db"
        for path in (one_path, ten_path):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        one = make_app(one_path, folder)
        with one.app_context():
            db.create_all()
            seed(echo=lambda line: None)
            size_one = sizes()
            db.session.remove()
            db.engine.dispose()  # the last connection to close folds the WAL into the file
        shutil.copyfile(one_path, ten_path)
        ten = make_app(ten_path, folder)
        with ten.app_context():
            grow(GROWTH - 1)
            size_ten = sizes()
            db.session.remove()
        deep_path = folder / "deep.db"
        shutil.copyfile(one_path, deep_path)
        deep = make_app(deep_path, folder)
        with deep.app_context():
            grow_branch(BRANCH, GROWTH - 1)
            db.session.remove()
        fix_first = (fix_first_queries(one, BRANCH), fix_first_queries(deep, BRANCH))
        with deep.app_context():
            db.engine.dispose()
        results = [(f"branch_report {BRANCH}", service.branch_report, BRANCH, True),
                   (f"region_report {REGION}", service.region_report, REGION, False)]
        measured = []
        for label, build, code, budgeted in results:
            r = compare(one, ten, build, code, args.runs)
            logs = (statements_of(one, build, code, 10), statements_of(ten, build, code, 10))
            measured.append((label, r, budgeted, logs, plans(ten, logs[1])))
        for app in (one, ten):
            with app.app_context():
                db.engine.dispose()

    print(f"1×  database: {sizes_text(size_one)}")
    print(f"10× database: {sizes_text(size_ten)}")
    growth = {name: size_ten[name] / size_one[name] for name in ("submissions", "answers", "section scores")}
    grown = all(abs(g - GROWTH) < 1e-9 for g in growth.values())
    print(f"    growth: {', '.join(f'{name} {g:.1f}×' for name, g in growth.items())}, all in other regions "
          f"(the reported branch's own rows are unchanged)   {verdict(grown)}")
    print()
    print(f"{'':24}{'1× best':>9}{'10× best':>10}{'1× median':>11}{'10× median':>12}{'10×/1×':>8}"
          f"{'queries 1×/10×':>16}")
    for label, r, budgeted, _, _ in measured:
        (b1, b10), (m1, m10), (q1, q10), ratio = r["best"], r["median"], r["queries"], r["ratio"]
        print(f"{label:24}{b1 * 1000:7.1f}ms{b10 * 1000:8.1f}ms{m1 * 1000:9.1f}ms{m10 * 1000:10.1f}ms"
              f"{ratio:7.2f}×{q1:>10} / {q10}{'' if budgeted else '   (no budget)'}")

    all_ok = grown
    for label, r, budgeted, (log1, log10), plan in measured:
        print(f"\n{label}: each query, median of 10 reports, and how SQLite reaches the rows at 10×")
        scans = []
        for name in log10.times:
            t1 = statistics.median(log1.times.get(name, [float("nan")])) * 1000
            t10 = statistics.median(log10.times[name]) * 1000
            steps = plan.get(name, [])
            bad = full_scans(steps)
            scans.extend(f"{name}: {step}" for step in bad)
            access = "; ".join(step for step in steps if step.startswith(("SEARCH", "SCAN"))
                               and step.split()[1] in BIG_TABLES)
            mark = "  ← network-wide by design" if reads_network(steps) else ""
            print(f"    {name:<24}{t1:7.2f} ms{t10:8.2f} ms{t10 / t1 if t1 else float('nan'):6.1f}×  "
                  f"{access or '(small tables only)'}{mark}")
        if not budgeted:
            print(f"    (no budget) full scans of growing tables: {'; '.join(scans) or 'none'}")
            continue
        (q1, q10), ratio = r["queries"], r["ratio"]
        ok_time, ok_queries, ok_scans = ratio <= BUDGET, q1 == q10, not scans
        all_ok = all_ok and ok_time and ok_queries and ok_scans
        print(f"    time at 10× / 1× (median of paired runs): {ratio:.2f}×; budget ≤ {BUDGET}×   {verdict(ok_time)}")
        print(f"    queries: {q1} at 1×, {q10} at 10×; budget equal   {verdict(ok_queries)}")
        print(f"    full scans of growing tables: {'; '.join(scans) or 'none'}   {verdict(ok_scans)}")
    (q1, n1, t1), (q10, n10, t10) = fix_first
    ok_fix = q1 == q10 == 1 and n10 == GROWTH * n1
    all_ok = all_ok and ok_fix
    print(f"\nfix first of {BRANCH} over 12 months, its own history copied {GROWTH}×: {n1} → {n10} visits, "
          f"queries {q1} → {q10} (budget: 1, whatever the visits), {t1 * 1000:.1f} → {t10 * 1000:.1f} ms   "
          f"{verdict(ok_fix)}")
    print()
    print(f"branch report at {GROWTH}× the data: {verdict(all_ok)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
