"""Pages and reports at a national chain's size against the same on the demo data: figures.

Run: .venv/bin/python bench/chain_pages.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--chain-schema chain] [--runs 5] [--pages-only]

Needs the chain's data (bench/chain_data.py, schema ``chain``; made first when missing) and makes
the demo network in a schema of its own (dropped afterwards). Each page is requested through the
app (the Flask test client, as HQ or as a region's manager) ``--runs`` times on each database,
alternating, and the median compared: budget 1.5x (issue 16). The branch report's aggregation is
timed the same way. The region PDF of a 50-branch region is made in a process of its own, for its
time and peak memory (budget 10 s and 400 MB). The network CSV export is streamed in a process of
its own: its peak memory (budget 300 MB) and its first byte against a one-branch export's (2x).
The three slowest statements on the chain are printed with PostgreSQL's EXPLAIN ANALYZE.

A report, not a test: PASS/FAIL lines, exit 0 either way.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chain_data import DEFAULT_URL, build, make_schema, url_for  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402

BUDGET = 1.5
HQ, MANAGER = "hq.bench@example.com", "manager.bench@example.com"
#: The region and branch each database's manager and reports use.
PLACES = {"demo": ("NORTH", "BR-001"), "chain": ("R01", "B0001")}


def app_for(url: str, **config):
    from survey import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                       "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "SURVEY_DB_TIMEOUT": 600,
                       "UPLOAD_DIR": "/tmp/chain-pages-up", **config})


def backend_cpu(app) -> tuple[int | None, float]:
    """The pid of the app's one PostgreSQL backend and the CPU seconds it has used (from /proc:
    the server is on this machine), so a report's SQL counts in its CPU time."""
    from survey.extensions import db

    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None, 0.0


def staff(app, region_code: str) -> None:
    from survey.extensions import db
    from survey.models import Region, Role, User

    with app.app_context():
        for email, role in ((HQ, Role.hq), (MANAGER, Role.manager)):
            if db.session.scalar(db.select(User).filter_by(email=email)) is None:
                user = User(email=email, role=role)
                user.set_password("bench-password-1")
                if role == Role.manager:
                    user.regions = [db.session.scalar(db.select(Region).filter_by(code=region_code))]
                db.session.add(user)
        db.session.commit()


def logged_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": "bench-password-1"})
    assert response.status_code in (302, 303), response.status_code
    return client


def latest_visit(app, branch_code: str) -> str:
    """The reference of a branch's latest counted visit: the visit page measured."""
    from survey.extensions import db
    from survey.models import Branch, Submission

    with app.app_context():
        reference = db.session.scalar(
            db.select(Submission.reference).join(Branch, Branch.id == Submission.branch_id)
            .where(Branch.code == branch_code, Submission.counts())
            .order_by(Submission.visit_date.desc(), Submission.id.desc()).limit(1))
        db.session.remove()
    return reference


def pages(kind: str, reference: str) -> list[tuple[str, str, str]]:
    """(name, who, url) of every page measured."""
    region, branch = PLACES[kind]
    year = f"from={(date.today() - timedelta(days=365)).isoformat()}&to={date.today().isoformat()}"
    return [
        ("HQ home", "hq", "/hq/"),
        ("HQ submissions", "hq", "/hq/submissions"),
        ("HQ submissions, page 5", "hq", "/hq/submissions?page=5"),
        ("HQ review queue", "hq", "/hq/review"),
        ("HQ standards", "hq", "/hq/standards"),
        ("HQ waves", "hq", "/hq/waves"),
        ("HQ branches", "hq", "/hq/branches"),
        ("manager's report list", "manager", f"/reports/?{year}"),
        ("manager's branch page", "manager", f"/reports/branches/{branch}?{year}"),
        ("manager's visit page", "manager", f"/reports/visits/{reference}"),
        ("branch PDF", "manager", f"/reports/branches/{branch}.pdf?{year}"),
    ]


class Statements:
    """Time every statement; keep the slowest with its parameters, for EXPLAIN."""

    def __init__(self, engine):
        self.engine, self.slowest = engine, {}

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        took = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        if took > self.slowest.get(statement, (0, None))[0]:
            self.slowest[statement] = (took, parameters)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def measure_pages(urls: dict[str, str], runs: int) -> None:
    from survey.extensions import db

    apps = {kind: app_for(url) for kind, url in urls.items()}
    clients, references = {}, {}
    for kind, app in apps.items():
        staff(app, PLACES[kind][0])
        references[kind] = latest_visit(app, PLACES[kind][1])
        clients[kind] = {"hq": logged_in(app, HQ), "manager": logged_in(app, MANAGER)}
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with apps["chain"].app_context():
        engine = db.engine
    with Statements(engine) as statements:
        for _ in range(runs):
            for kind in ("demo", "chain"):
                for name, who, url in pages(kind, references[kind]):
                    started = time.perf_counter()
                    response = clients[kind][who].get(url)
                    body = response.get_data()
                    times[name][kind].append(time.perf_counter() - started)
                    assert response.status_code == 200, (kind, url, response.status_code, body[:300])
                with apps[kind].app_context():
                    from reports import service
                    region, branch = PLACES[kind]
                    started = time.perf_counter()
                    service.branch_report(branch, date.today() - timedelta(days=365), date.today())
                    times["branch report aggregation"][kind].append(time.perf_counter() - started)
                    db.session.remove()
                    from reports import queries
                    branch_id = queries.branch_by_code(branch).id
                    started = time.perf_counter()
                    queries.question_losses(date.today() - timedelta(days=365), date.today(), branch_id=branch_id)
                    times["fix first, one branch"][kind].append(time.perf_counter() - started)
                    db.session.remove()
    print("load average (1, 5, 15 min) after the pages: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"{'page':<28}{'demo ms':>9}{'chain ms':>10}{'ratio':>8}")
    for name, by in times.items():
        demo, chain = statistics.median(by["demo"]) * 1000, statistics.median(by["chain"]) * 1000
        ratio = chain / demo
        print(f"{name:<28}{demo:>9.1f}{chain:>10.1f}{ratio:>7.2f}x  {'PASS' if ratio <= BUDGET else 'FAIL'}")
    print("\nThe three slowest statements on the chain (EXPLAIN ANALYZE):")
    worst = sorted(statements.slowest.items(), key=lambda item: -item[1][0])[:3]
    with engine.connect() as conn:
        for statement, (took, parameters) in worst:
            print(f"\n-- {took * 1000:.1f} ms: {' '.join(statement.split())[:300]}")
            try:
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
                for line in plan[:25]:
                    print("   ", line[0])
            except Exception as exc:  # a statement EXPLAIN cannot take as it is: say so
                print(f"    (no plan: {exc.__class__.__name__})")
                conn.rollback()


def child(what: str, url: str) -> None:
    """Run in a process of its own: one region PDF or one streamed export; print time and peak memory.

    One database connection (a pool of one), so its backend's CPU is the request's SQL."""
    app = app_for(url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    staff(app, "R01")
    client = logged_in(app, HQ if what != "region-pdf" else MANAGER)
    year = f"from={(date.today() - timedelta(days=365)).isoformat()}&to={date.today().isoformat()}"
    everything = f"from={(date.today() - timedelta(days=3 * 366)).isoformat()}&to={date.today().isoformat()}"
    target = {"region-pdf": f"/reports/regions/R01.pdf?{year}",
              "network-csv": f"/reports/export.csv?{everything}",
              "one-branch-csv": f"/reports/export.csv?region=ONE&{everything}"}[what]
    pid, sql_before = backend_cpu(app)
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(target, buffered=False)
    chunks = iter(response.response)
    first = next(chunks, b"")
    first_byte = time.perf_counter() - started
    size = len(first) + sum(len(chunk) for chunk in chunks)
    response.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time() - cpu
    again, sql_after = backend_cpu(app)
    sql = sql_after - sql_before if pid is not None and again == pid else None
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu": cpu, "sql_cpu": sql,
                      "first_byte": first_byte, "bytes": size,
                      "peak_mb": peak, "status": response.status_code}))


def in_child(what: str, url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", what, "--url", url], capture_output=True,
                         text=True, cwd=ROOT, timeout=3600)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": (out.stderr or out.stdout)[-1500:]}


def measure_exports(url: str, admin, schema: str) -> None:
    pdf = in_child("region-pdf", url)
    if "error" in pdf:
        print("region PDF failed:", pdf["error"])
    else:
        # CPU time decides, as in report_pdf.py: the work is one thread, and on a shared machine the
        # wall clock also counts other processes (both are printed).
        # CPU time decides, as in report_pdf.py: the work is one thread (and its database backend),
        # and on a shared machine the wall clock also counts other processes (both are printed).
        sql = pdf.get("sql_cpu")
        cpu = pdf["cpu"] + (sql or 0)
        ok = (cpu if sql is not None else pdf["seconds"]) <= 10 and pdf["peak_mb"] <= 400
        said = (f"{cpu:.1f} s CPU (app {pdf['cpu']:.1f} s + PostgreSQL {sql:.1f} s), {pdf['seconds']:.1f} s wall"
                if sql is not None else f"{pdf['seconds']:.1f} s wall (the backend's CPU unreadable)")
        print(f"region PDF, 50 branches: {said}, peak {pdf['peak_mb']:.0f} MB, {pdf['bytes'] / 1e6:.1f} MB  "
              f"{'PASS' if ok else 'FAIL'} (10 s, 400 MB)")
    # A one-branch export: its own region for the run, put back afterwards.
    with admin.connect() as conn:
        conn.execute(text(f'SET search_path TO "{schema}"'))
        conn.execute(text("INSERT INTO region (code, name, active) VALUES ('ONE', 'One branch', true)"))
        old = conn.execute(text("SELECT region_id FROM branch WHERE code = 'B0002'")).scalar()
        conn.execute(text("UPDATE branch SET region_id = (SELECT id FROM region WHERE code = 'ONE') "
                          "WHERE code = 'B0002'"))
    try:
        one = in_child("one-branch-csv", url)
        network = in_child("network-csv", url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'SET search_path TO "{schema}"'))
            conn.execute(text("UPDATE branch SET region_id = :old WHERE code = 'B0002'"), {"old": old})
            conn.execute(text("DELETE FROM region WHERE code = 'ONE'"))
    for name, result in (("one-branch CSV", one), ("network CSV", network)):
        if "error" in result or result.get("status") != 200:
            print(f"{name} failed:", result.get("error") or result.get("status"))
            return
    if "error" not in one and "error" not in network:
        ratio = network["first_byte"] / one["first_byte"]
        print(f"network CSV: {network['bytes'] / 1e6:.0f} MB in {network['seconds']:.0f} s, peak "
              f"{network['peak_mb']:.0f} MB  {'PASS' if network['peak_mb'] <= 300 else 'FAIL'} (300 MB)")
        print(f"first byte: network {network['first_byte'] * 1000:.0f} ms, one branch "
              f"{one['first_byte'] * 1000:.0f} ms = {ratio:.2f}x  {'PASS' if ratio <= 2 else 'FAIL'} (2x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--chain-schema", default="chain")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages-only", action="store_true", help="leave out the region PDF and the CSV exports")
    parser.add_argument("--child")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url)
        return 0
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            have = conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s "
                                     "AND table_name = 'submission'"), {"s": args.chain_schema}).scalar()
    except Exception as exc:
        print(f"SKIPPED: needs PostgreSQL at {args.database_url} ({exc.__class__.__name__})")
        return 0
    chain_url = url_for(args.database_url, args.chain_schema)
    if not have:
        print("making the chain's data first (bench/chain_data.py)...")
        make_schema(admin, args.chain_schema)
        build(chain_url, 2000, 40, 24, 3)
    demo_schema = f"demo_{os.getpid()}"
    make_schema(admin, demo_schema)
    demo_url = url_for(args.database_url, demo_schema)
    try:
        from survey import demo
        from survey.extensions import db

        app = app_for(demo_url)
        with app.app_context():
            db.create_all()
            demo.seed(echo=lambda _: None)
            db.session.remove()
        with admin.connect() as conn:
            counts = {s: conn.execute(text(f'SELECT count(*) FROM "{s}".submission')).scalar()
                      for s in (demo_schema, args.chain_schema)}
        print(f"demo: {counts[demo_schema]:,} visits; chain: {counts[args.chain_schema]:,} visits")
        print("load average (1, 5, 15 min) before the pages: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
        measure_pages({"demo": demo_url, "chain": chain_url}, args.runs)
        if not args.pages_only:
            print()
            measure_exports(chain_url, admin, args.chain_schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{demo_schema}" CASCADE'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
