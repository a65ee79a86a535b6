"""Time the report PDFs the way ``flask report`` makes them, from a seeded database.

Run: .venv/bin/python bench/report_pdf.py [--runs 7] [--keep DIR]   (about 2 minutes)

Set-up (not timed): a throw-away SQLite file with the demo (13 branches, 12 months,
``survey.demo.seed``) plus a region of 50 branches with 1,200 visits in the report
period (and 600 in the period before), every answer drawn and scored like the demo's.

Budgets (bench/README.md), each printed with PASS/FAIL:

(a) Branch PDF, 12 months, ~24 visits: median wall time and peak memory (printed),
    and the full ``flask report branch`` path (aggregation in SQL, statistics, charts,
    templating, WeasyPrint) over WeasyPrint's own render of the same final HTML
    (``--format html``), warm, in the same process, runs interleaved: ≤ 1.3×.
(b) Region PDF, 50 branches / 1,200 visits: ≤ 10 s on a 2-core machine and peak
    memory < 400 MB, for a cold ``flask report region`` process (interpreter start,
    imports, fonts) and for a warm one.

Each report is measured in a child process of its own, pinned to 2 CPUs when the
machine has more, so its peak RSS is its own. Wall and CPU time are both printed; the
verdicts use CPU time (user + system), because the render is single-threaded (on an idle
machine its wall time is its CPU time) and shared machines add other processes' load to
wall time. A report, not a test: exits 0 either way.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, time as clock, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATIO_BUDGET = 1.3
REGION_SECONDS = 10.0
REGION_MB = 400.0
CPUS = 2
TARGET_VISITS = 24  # the branch budget's "~24 visits"
REGION = ("CENTRAL", "Central")
REGION_BRANCHES = 50
REGION_VISITS = 1200
REGION_PREVIOUS = 600
TOWNS = [
    "Abingdon", "Alnwick", "Ashford", "Banbury", "Barnsley", "Bedford", "Beverley", "Bicester",
    "Bolton", "Boston", "Buxton", "Cheadle", "Chester", "Chorley", "Clitheroe", "Crewe", "Derby",
    "Didcot", "Dorking", "Ely", "Epsom", "Evesham", "Frome", "Grantham", "Halifax", "Hexham",
    "Hitchin", "Ilkley", "Kendal", "Ketton", "Ledbury", "Leek", "Ludlow", "Malton", "Matlock",
    "Newark", "Oakham", "Otley", "Penrith", "Retford", "Ripley", "Romsey", "Selby", "Skipton",
    "Stafford", "Stamford", "Thirsk", "Totnes", "Warwick", "Whitby",
]
STREETS = ["High Street", "Market Place", "Station Road", "Bridge Street", "Church Lane"]


# ---------------------------------------------------------------- set-up (parent)


def make_app(db_path: Path, folder: Path):
    from survey import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "SECRET_KEY": "bench",
        "UPLOAD_DIR": str(folder / "uploads"),
    })


def seed_region(today: date) -> dict:
    from reports.periods import make_period
    from survey import demo
    from survey.extensions import db
    from survey.models import Branch, Checklist, Region
    from survey.caches import checklist_of
    from survey.submissions import create_assignments, get_or_create_wave, record_submission

    rng = random.Random(2026)
    period = make_period(None, None, today)
    previous = period.previous()
    region = Region(code=REGION[0], name=REGION[1])
    db.session.add(region)
    branches = []
    for i, town in enumerate(TOWNS[:REGION_BRANCHES]):
        branch = Branch(code=f"CE-{i + 1:03d}", name=f"{town} {rng.choice(STREETS)}", region=region,
                        address=f"{rng.randint(1, 180)} {rng.choice(STREETS)}, {town}")
        db.session.add(branch)
        branches.append(branch)
    db.session.flush()
    checklists = {c.slug: c for c in db.session.scalars(db.select(Checklist))}
    standards = sorted({getattr(q, "standard", None) for c in checklists.values()
                        for _, q in checklist_of(c.latest).questions()} - {None})
    wave = get_or_create_wave("Bench region")
    # Visits per branch: 24 on average, 8 to 40, one branch with a single visit; sums exact.
    counts = [REGION_VISITS // REGION_BRANCHES] * REGION_BRANCHES
    for _ in range(200):
        a, b = rng.randrange(REGION_BRANCHES), rng.randrange(REGION_BRANCHES)
        k = rng.randint(1, 4)
        if counts[a] + k <= 40 and counts[b] - k >= 8:
            counts[a] += k
            counts[b] -= k
    counts[-1], counts[0] = 1, counts[0] + counts[-1] - 1
    before = [REGION_PREVIOUS // REGION_BRANCHES] * REGION_BRANCHES
    last_day = today - timedelta(days=1)
    made = {"current": 0, "previous": 0}
    for branch, n_now, n_before in zip(branches, counts, before):
        level = rng.uniform(0.5, 0.93)
        offsets = {s: rng.uniform(-0.12, 0.08) for s in standards}
        for span, n, key in ((period, n_now, "current"), (previous, n_before, "previous")):
            first, days = span.start, (min(span.end, last_day) - span.start).days
            for _ in range(n):
                slug = rng.choices([s for s, _ in demo.MIX], weights=[w for _, w in demo.MIX])[0]
                checklist = checklists[slug]
                version = checklist.latest
                visit = first + timedelta(days=rng.randint(0, days))
                at = clock(rng.randint(9, 18), rng.choice([0, 15, 30, 45]))
                base = min(0.99, max(0.05, level + rng.gauss(0, 0.06)))
                quality = {s: min(0.99, max(0.05, base + offsets[s])) for s in standards}
                quality["_"] = base
                filled = demo._fill(checklist_of(version), quality, rng, visit, at, rng.random() < 0.01)
                (assignment, _), = create_assignments(checklist, branch, 1, due=visit + timedelta(days=7),
                                                      not_before=visit - timedelta(days=14), wave=wave)
                assignment.version = version
                assignment.opened_at = filled.first_answer_at - timedelta(minutes=1)
                record_submission(assignment, version, filled)
                made[key] += 1
        db.session.flush()
    db.session.commit()
    return made


def seed(db_path: Path, folder: Path, today: date) -> dict:
    """Create the bench database; return what it holds and the branch to report on."""
    from reports.periods import make_period
    from survey.demo import seed as seed_demo
    from survey.extensions import db
    from survey.models import Answer, Branch, Region, Submission

    app = make_app(db_path, folder)
    with app.app_context():
        db.create_all()
        seed_demo(echo=lambda line: None, today=today)
        region_made = seed_region(today)
        period = make_period(None, None, today)
        # The branch report: the demo branch whose visit count in the period is nearest 24.
        per_branch = db.session.execute(
            db.select(Branch.code, db.func.count(Submission.id))
            .join(Submission, Submission.branch_id == Branch.id)
            .join(Region, Region.id == Branch.region_id)
            .where(Region.code != REGION[0], Submission.visit_date.between(period.start, period.end))
            .group_by(Branch.code)
        ).all()
        code, _ = min(per_branch, key=lambda row: (abs(row[1] - TARGET_VISITS), row[0]))
        sizes = {name: db.session.scalar(db.select(db.func.count()).select_from(model))
                 for name, model in (("regions", Region), ("branches", Branch), ("submissions", Submission),
                                     ("answers", Answer))}
        db.session.remove()
        db.engine.dispose()
    return {"branch": code, "sizes": sizes, "region_made": region_made}


def pin_cpus() -> int:
    """Restrict this process (and its children) to 2 CPUs, as on the budget's 2-core machine."""
    if not hasattr(os, "sched_setaffinity"):
        return os.cpu_count() or 1
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) > CPUS:
        os.sched_setaffinity(0, allowed[:CPUS])
    return len(os.sched_getaffinity(0))


def run_child(kind: str, code: str, db_path: Path, folder: Path, runs: int) -> dict:
    """Measure one report, warm, in a process of its own; return its figures."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, code, "--db", str(db_path), "--folder", str(folder),
         "--runs", str(runs)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_cold(kind: str, code: str, db_path: Path, folder: Path) -> dict:
    """Run ``flask --app wsgi report KIND CODE -o FILE`` once, as a person would; time it, read its peak RSS."""
    target = folder / f"cold-{kind}.pdf"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SURVEY_ENV": "development",
           "SECRET_KEY": "bench", "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "report", kind, code, "-o", str(target)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != 0 or not target.is_file():
        raise RuntimeError(f"flask report {kind} {code} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "pdf_kb": target.stat().st_size / 1024, "said": stdout.strip()}


# ---------------------------------------------------------------- measuring (child)


def child(kind: str, code: str, db_path: Path, folder: Path, runs: int) -> dict:
    from weasyprint import HTML

    from reports import pdf, service
    from reports.periods import make_period

    app = make_app(db_path, folder)
    runner = app.test_cli_runner()
    out_pdf, out_html = folder / f"{kind}.pdf", folder / f"{kind}.html"

    def flask_report(fmt: str = "pdf") -> None:
        target = out_pdf if fmt == "pdf" else out_html
        result = runner.invoke(args=["report", kind, code, "--format", fmt, "-o", str(target)])
        if result.exit_code != 0 or not result.output.startswith("Wrote "):
            raise RuntimeError(f"flask report {kind} {code}: {result.output}{result.exception!r}")

    def timed(fn) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - wall, time.process_time() - cpu

    first_wall, first_cpu = timed(flask_report)  # cold in this process: WeasyPrint import, fonts, templates

    # The final HTML the PDF path lays out, captured as it goes to WeasyPrint ...
    captured: list[str] = []
    original = pdf.html_to_pdf
    pdf.html_to_pdf = lambda html: captured.append(html) or original(html)
    try:
        flask_report()
    finally:
        pdf.html_to_pdf = original
    print_html = captured[0]
    # ... and the same document as `flask report --format html` writes it (stylesheet inlined).
    flask_report("html")
    standalone = out_html.read_text(encoding="utf-8")
    font_config, css = pdf._print_setup()

    def weasy_print_html() -> bytes:  # exactly html_to_pdf's WeasyPrint call
        return HTML(string=print_html, base_url=pdf.BASE_URL, url_fetcher=pdf.safe_fetcher).write_pdf(
            stylesheets=[css], font_config=font_config)

    def weasy_format_html() -> bytes:  # the --format html file, as WeasyPrint takes any HTML file
        return HTML(string=standalone, base_url=pdf.BASE_URL, url_fetcher=pdf.safe_fetcher).write_pdf(
            font_config=font_config)

    paths = {"full": flask_report, "print": weasy_print_html, "file": weasy_format_html}
    for fn in paths.values():
        fn()  # warm every path once more
    walls: dict[str, list[float]] = {k: [] for k in paths}
    cpus: dict[str, list[float]] = {k: [] for k in paths}
    order = list(paths)
    for i in range(runs):
        # Interleaved, and rotated so no path always runs first after the others.
        for key in order[i % 3:] + order[: i % 3]:
            wall, cpu = timed(paths[key])
            walls[key].append(wall)
            cpus[key].append(cpu)

    # What the budget is about: the part before WeasyPrint (aggregation, then templating + charts).
    build = service.branch_report if kind == "branch" else service.region_report
    period = make_period(None, None)
    agg, tpl = [], []
    with app.app_context():
        for _ in range(max(runs, 5)):
            start = time.perf_counter()
            data = build(code, period.start, period.end)
            middle = time.perf_counter()
            pdf.render_html(data)
            agg.append(middle - start)
            tpl.append(time.perf_counter() - middle)
        pages = {"full": len(HTML(string=print_html, base_url=pdf.BASE_URL, url_fetcher=pdf.safe_fetcher)
                             .render(stylesheets=[css], font_config=font_config).pages),
                 "file": len(HTML(string=standalone, base_url=pdf.BASE_URL, url_fetcher=pdf.safe_fetcher)
                             .render(font_config=font_config).pages)}
        if kind == "branch":
            h = data["headline"]
            shape = {"visits": h["n"], "months": len(data["trend"]), "period": data["period"]["label"],
                     "name": data["branch"]["name"]}
        else:
            h = data["headline"]
            shape = {"visits": h["n_visits"], "branches": len(data["ranking"]), "visited": h["n_branches"],
                     "months": len(data["trend"]), "period": data["period"]["label"], "name": data["region"]["name"],
                     "previous_visits": sum(1 for b in data["ranking"] if b["change"] is not None)}

    return {
        "first": {"wall": first_wall, "cpu": first_cpu},
        "walls": walls, "cpus": cpus, "agg": agg, "tpl": tpl, "pages": pages, "shape": shape,
        "html_kb": len(print_html.encode()) / 1024, "pdf_kb": out_pdf.stat().st_size / 1024,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# ---------------------------------------------------------------- report (parent)


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def med(values: list[float]) -> float:
    return statistics.median(values)


def paired(r: dict, base: str, series: str = "walls") -> float:
    """Median of the per-round ratios full / base: each round ran back to back, so load hits both alike."""
    return med([f / b for f, b in zip(r[series]["full"], r[series][base])])


def describe(title: str, r: dict) -> None:
    w, c = r["walls"], r["cpus"]
    print(title)
    print(f"    shape: {json.dumps(r['shape'], ensure_ascii=False)}; pages {r['pages']['full']} "
          f"(the --format html file lays out to {r['pages']['file']}); HTML {r['html_kb']:.0f} kB, "
          f"PDF {r['pdf_kb']:.0f} kB")
    print(f"    {'path':<58}{'wall median':>12}{'CPU median':>12}   wall runs")
    rows = (("full", "flask report (SQL, stats, charts, templating, WeasyPrint)"),
            ("print", "WeasyPrint alone: final print HTML + cached report.css"),
            ("file", "WeasyPrint alone: the --format html file (CSS inlined)"))
    for key, label in rows:
        runs = " ".join(f"{t:.2f}" for t in w[key])
        print(f"    {label:<58}{med(w[key]):10.3f} s{med(c[key]):10.3f} s   {runs}")
    print(f"    before WeasyPrint: aggregation {med(r['agg']) * 1000:.1f} ms, templating + charts "
          f"{med(r['tpl']) * 1000:.1f} ms (medians, same process)")
    print(f"    first report in a fresh process (imports, fonts): {r['first']['wall']:.2f} s wall")
    print(f"    peak RSS of this process: {r['rss_mb']:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed rounds per report (default 7)")
    parser.add_argument("--keep", metavar="DIR", help="keep the database and PDFs in DIR")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "CODE"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = child(args.child[0], args.child[1], Path(args.db), Path(args.folder), args.runs)
        print(json.dumps(result))
        return 0

    cpus = pin_cpus()
    today = date.today()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        db_path = folder / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        start = time.perf_counter()
        made = seed(db_path, folder, today)
        seeded = time.perf_counter() - start
        code = made["branch"]
        sizes = ", ".join(f"{n} {name}" for name, n in made["sizes"].items())
        print(f"Report PDF benchmark: Python {sys.version.split()[0]}, SQLite, {cpus} CPUs for the renders "
              f"({os.cpu_count()} on the machine)")
        print(f"database (seeded in {seeded:.0f} s): {sizes}; region {REGION[0]}: "
              f"{made['region_made']['current']} visits in the period, {made['region_made']['previous']} before\n")

        branch = run_child("branch", code, db_path, folder, args.runs)
        region = run_child("region", REGION[0], db_path, folder, max(3, (args.runs + 1) // 2))
        cold_branch = run_cold("branch", code, db_path, folder)
        cold_region = run_cold("region", REGION[0], db_path, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    describe(f"Branch report {code} (default period, warm, {args.runs} interleaved rounds)", branch)
    print(f"    cold `flask report branch {code}` process: {cold_branch['wall']:.2f} s wall, "
          f"{cold_branch['cpu']:.2f} s CPU, peak RSS {cold_branch['rss_mb']:.0f} MB\n")
    describe(f"Region report {REGION[0]} (default period, warm, {len(region['walls']['full'])} interleaved rounds)",
             region)
    print(f"    cold `flask report region {REGION[0]}` process: {cold_region['wall']:.2f} s wall, "
          f"{cold_region['cpu']:.2f} s CPU, peak RSS {cold_region['rss_mb']:.0f} MB\n")

    print(f"Budgets (load average {load()} — other processes' load counts in wall time, not in CPU time;\n"
          f"a render is single-threaded, so on an idle machine its wall time is its CPU time)")
    bshape = branch["shape"]
    print(f"    (a) branch PDF, {bshape['visits']} visits, {bshape['period']} ({bshape['months']} calendar months): "
          f"median {med(branch['cpus']['full']):.2f} s CPU / {med(branch['walls']['full']):.2f} s wall warm, "
          f"{cold_branch['cpu']:.2f} s CPU / {cold_branch['wall']:.2f} s wall as a cold process; peak RSS "
          f"{branch['rss_mb']:.0f} MB warm, {cold_branch['rss_mb']:.0f} MB cold   (figures, no limit)")
    ratios = {base: (paired(branch, base, "cpus"), paired(branch, base)) for base in ("file", "print")}
    ratio = max(cpu for cpu, _ in ratios.values())
    print(f"    (a) flask report / WeasyPrint on the same final HTML, warm, median of paired rounds: "
          f"{ratios['file'][0]:.2f}× CPU ({ratios['file'][1]:.2f}× wall) against the --format html file, "
          f"{ratios['print'][0]:.2f}× CPU ({ratios['print'][1]:.2f}× wall) against the print HTML with the cached "
          f"stylesheet; budget ≤ {RATIO_BUDGET}× (CPU, the larger)   {verdict(ratio <= RATIO_BUDGET)}")
    before = med(branch["agg"]) + med(branch["tpl"])
    print(f"    (a) the same by parts, free of run-to-run noise (for information): 1 + (aggregation + templating) / "
          f"WeasyPrint = 1 + {before * 1000:.1f} ms / {med(branch['cpus']['print']):.2f} s = "
          f"{1 + before / med(branch['cpus']['print']):.3f}×")
    shape = region["shape"]
    right_size = shape["branches"] == REGION_BRANCHES and shape["visits"] == REGION_VISITS
    print(f"    (b) region PDF covers {shape['branches']} branches and {shape['visits']} visits "
          f"(asked {REGION_BRANCHES} / {REGION_VISITS})   {verdict(right_size)}")
    seconds = max(cold_region["cpu"], med(region["cpus"]["full"]))
    print(f"    (b) region PDF time on {cpus} CPUs: cold process {cold_region['cpu']:.2f} s CPU "
          f"({cold_region['wall']:.2f} s wall), warm median {med(region['cpus']['full']):.2f} s CPU "
          f"({med(region['walls']['full']):.2f} s wall); budget ≤ {REGION_SECONDS:g} s   "
          f"{verdict(seconds <= REGION_SECONDS and right_size)}")
    peak = max(cold_region["rss_mb"], region["rss_mb"])
    print(f"    (b) region PDF peak RSS: {cold_region['rss_mb']:.0f} MB cold process, {region['rss_mb']:.0f} MB "
          f"in a process that laid it out {3 * len(region['walls']['full']) + 5} times; budget < {REGION_MB:g} MB   "
          f"{verdict(peak < REGION_MB and right_size)}")
    if branch["pages"]["full"] != branch["pages"]["file"] or region["pages"]["full"] != region["pages"]["file"]:
        print("    note: the --format html file does not lay out to the same pages as the PDF path")
    return 0


if __name__ == "__main__":
    sys.exit(main())
