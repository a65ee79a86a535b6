"""Benchmark the report data: does a branch report stay fast when the network grows tenfold?

Seeds the demo (13 branches, 12 months) into a temporary SQLite database, times
``service.branch_report`` and counts its queries; then copies the whole history
nine more times into new regions (so the database holds 10× the submissions
and answers, none of them the reported branch's) and measures again.

Budget: the 10× time is at most 1.5× the 1× time, and the query count is equal.
Runs alternate between the two databases; the ratio printed is the median of the
back-to-back pairs' ratios, which a busy machine distorts least.
Run: ``.venv/bin/python bench/report_data.py [--runs N] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey import create_app  # noqa: E402
from survey.demo import seed  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Answer, Assignment, Branch, Region, SectionScore, Submission, hash_token  # noqa: E402

from reports import service  # noqa: E402

BRANCH = "BR-001"
REGION = "NORTH"
BUDGET = 1.5


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


def _table_rows(model) -> list[dict]:
    table = model.__table__
    return [dict(row._mapping) for row in db.session.execute(select(table))]


def grow(copies: int) -> None:
    """Copy every region's history ``copies`` times into new regions with new branches."""
    regions = _table_rows(Region)
    branches = _table_rows(Branch)
    assignments = _table_rows(Assignment)
    submissions = _table_rows(Submission)
    answers = _table_rows(Answer)
    sections = _table_rows(SectionScore)
    # Copy k gets ids shifted by k × (largest id + 1), so no id collides.
    step = {name: db.session.scalar(select(func.max(model.id))) + 1
            for name, model in (("region", Region), ("branch", Branch), ("assignment", Assignment),
                                ("submission", Submission), ("answer", Answer), ("section", SectionScore))}
    for k in range(1, copies + 1):
        region_id = {r["id"]: r["id"] + k * step["region"] for r in regions}
        branch_id = {b["id"]: b["id"] + k * step["branch"] for b in branches}
        db.session.execute(insert(Region), [
            {**r, "id": region_id[r["id"]], "code": f"X{k}-{r['code']}", "name": f"{r['name']} {k}"} for r in regions])
        db.session.execute(insert(Branch), [
            {**b, "id": branch_id[b["id"]], "region_id": region_id[b["region_id"]], "code": f"X{k}-{b['code']}"}
            for b in branches])
        db.session.execute(insert(Assignment), [
            {**a, "id": a["id"] + k * step["assignment"], "branch_id": branch_id[a["branch_id"]],
             "token_hash": hash_token(secrets.token_urlsafe(24))} for a in assignments])
        db.session.execute(insert(Submission), [
            {**s, "id": s["id"] + k * step["submission"], "branch_id": branch_id[s["branch_id"]],
             "assignment_id": s["assignment_id"] + k * step["assignment"],
             "idempotency_key": secrets.token_hex(16), "reference": f"{k}{s['reference']}"} for s in submissions])
        db.session.execute(insert(Answer), [
            {**a, "id": a["id"] + k * step["answer"], "submission_id": a["submission_id"] + k * step["submission"]}
            for a in answers])
        db.session.execute(insert(SectionScore), [
            {**s, "id": s["id"] + k * step["section"], "submission_id": s["submission_id"] + k * step["submission"]}
            for s in sections])
    db.session.commit()


def sizes() -> str:
    counts = {name: db.session.scalar(select(func.count()).select_from(model))
              for name, model in (("branches", Branch), ("submissions", Submission), ("answers", Answer))}
    return ", ".join(f"{n} {name}" for name, n in counts.items())


def make_app(path: Path, folder: Path):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench",
                       "UPLOAD_DIR": str(folder / "uploads")})


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
            print(f"1×  database: {sizes()}")
            db.session.remove()
            db.engine.dispose()  # the last connection to close folds the WAL into the file
        shutil.copyfile(one_path, ten_path)
        ten = make_app(ten_path, folder)
        with ten.app_context():
            grow(9)
            print(f"10× database: {sizes()}")
            db.session.remove()
        results = [(f"branch_report {BRANCH}", compare(one, ten, service.branch_report, BRANCH, args.runs), True),
                   (f"region_report {REGION}", compare(one, ten, service.region_report, REGION, args.runs), False)]
        for app in (one, ten):
            with app.app_context():
                db.engine.dispose()
    print()
    print(f"{'':24}{'1× best':>9}{'10× best':>10}{'1× median':>11}{'10× median':>12}{'10×/1×':>8}"
          f"{'queries 1×/10×':>16}")
    ok = True
    for label, r, budgeted in results:
        (b1, b10), (m1, m10), (q1, q10), ratio = r["best"], r["median"], r["queries"], r["ratio"]
        print(f"{label:24}{b1 * 1000:7.1f}ms{b10 * 1000:8.1f}ms{m1 * 1000:9.1f}ms{m10 * 1000:10.1f}ms"
              f"{ratio:7.2f}×{q1:>10} / {q10}{'' if budgeted else '   (no budget)'}")
        if q1 != q10:
            ok = False
            print(f"  FAIL: {label} issues {q10} queries at 10×, {q1} at 1×")
        if budgeted and ratio > BUDGET:
            ok = False
            print(f"  FAIL: {label} takes {ratio:.2f}× as long at 10× (budget {BUDGET}×)")
    print()
    print(f"within budget (branch report ≤ {BUDGET}× at 10×, equal query counts)" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
