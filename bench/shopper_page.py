"""Measure the shopper's store-visit page: its weight, and its server time against bare Flask.

Run with ``.venv/bin/python bench/shopper_page.py`` (``--reps N``, ``--profile``). It builds
the app on a throw-away SQLite file, imports the shipped checklists, and prints a report with
PASS/FAIL per budget. It always exits 0: it is a report, not a test (see bench/README.md).
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import io
import pstats
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import render_template, request  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Mapped, mapped_column  # noqa: E402

from survey import create_app, submissions  # noqa: E402
from survey.catalogue import checklist_paths, import_paths  # noqa: E402
from survey.extensions import csrf, db  # noqa: E402
from survey.models import Branch, Checklist, Region  # noqa: E402
from survey.caches import checklist_of  # noqa: E402
from survey.checklist.conditions import slots  # noqa: E402
from survey.submissions import create_assignments  # noqa: E402

SLUG = "store-visit"
BUDGET_BYTES = 40 * 1024
BUDGET_REQUESTS = 5
#: The service worker is fetched once, after the page, and counted apart.
BUDGET_SW_BYTES = 10 * 1024
BUDGET_RATIO = 3.0
#: A POST whose visit alerts (a critical failure) against a POST that doesn't (SPEC §8, issue 13).
BUDGET_ALERT_RATIO = 1.10
#: The store visit's critical question, failed with the comment it asks for.
CRITICAL_FAILURE = {"q_used_phone": "yes", "q_used_phone__comment": "On her phone the whole time."}
ORIGIN = "http://localhost"

#: The GET baseline: a page of the same shape (base layout, a heading, a short form), but small.
BASELINE_TEMPLATE = """{% extends "base.html" %}{% block main %}<h1>{{ title }}</h1>
<form method="post">{% for n in range(3) %}<p><label for="f{{ n }}">Field {{ n }}</label>
<input id="f{{ n }}" name="f{{ n }}"></p>{% endfor %}<button>Send</button></form>{% endblock %}"""


class BenchRow(db.Model):
    """The POST baseline's table: one row inserted and committed per request."""

    __tablename__ = "bench_row"
    id: Mapped[int] = mapped_column(primary_key=True)
    payload: Mapped[str]


# ---------------------------------------------------------------- set-up


def build_app(workdir: Path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
            "UPLOAD_DIR": str(workdir / "uploads"),
            "SURVEY_QUEUE_URL": f"sqlite:///{workdir / 'jobs.db'}",
            # On, as in production: the form's POST pays for its per-link limit. Each
            # measured POST uses a fresh link, so none is ever refused.
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )

    # Registered before the first request (Flask refuses later), on the same app, so the
    # baseline goes through the same extensions, hooks and WSGI stack as the real page.
    baseline = app.jinja_env.from_string(BASELINE_TEMPLATE)  # compiled once, as a file template is

    @app.get("/bench/bare")
    def bare_get():
        return render_template(baseline, title="Bare page")

    @app.post("/bench/bare")
    def bare_post():
        db.session.add(BenchRow(payload=request.form.get("payload", "")))
        db.session.commit()
        return "", 303, {"Location": "/bench/bare"}

    csrf.exempt(bare_post)

    app.wsgi_app = ServerTimer(app.wsgi_app)
    return app


def seed(count: int) -> tuple[list[str], object]:
    """Import the shipped checklists; return ``count`` fresh tokens and the checklist schema."""
    outcomes, errors = import_paths(checklist_paths(ROOT / "checklists"))
    if errors:
        raise SystemExit("the shipped checklists do not import:\n" + "\n".join(map(str, errors)))
    region = Region(code="BENCH", name="Bench")
    branch = Branch(code="BR-BENCH", name="Bench branch", region=region, address="1 Bench St")
    db.session.add_all([region, branch])
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug=SLUG))
    today = date.today()
    made = create_assignments(
        checklist,
        branch,
        count,
        not_before=today - timedelta(days=7),
        due=today + timedelta(days=7),
    )
    db.session.commit()
    return [token for _, token in made], checklist_of(checklist.latest)


class ServerTimer:
    """WSGI middleware: time from the request entering the app to the last byte of the body.

    Also the CPU time this thread spent on it: on a shared machine the wall time swings with
    the neighbours' load, the CPU time much less.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.last = self.last_cpu = 0.0

    def __call__(self, environ, start_response):
        start, start_cpu = time.perf_counter(), time.thread_time()
        body = b"".join(self.wsgi_app(environ, start_response))
        self.last, self.last_cpu = time.perf_counter() - start, time.thread_time() - start_cpu
        return [body]


class QueryCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args):
        self.count += 1


# ---------------------------------------------------------------- (a) page weight


class Assets(HTMLParser):
    """Collect every URL the page makes a browser fetch (and any it merely links to elsewhere)."""

    FETCHED = {
        ("link", "href"),
        ("script", "src"),
        ("img", "src"),
        ("img", "srcset"),
        ("source", "src"),
        ("source", "srcset"),
        ("iframe", "src"),
        ("video", "poster"),
        ("audio", "src"),
        ("embed", "src"),
        ("object", "data"),
        ("input", "src"),
    }

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (what, url)
        self.links: list[str] = []
        self.sw: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("data-sw"):
            self.sw = attrs["data-sw"]
        if tag == "link" and not (
            {"stylesheet", "icon", "preload", "modulepreload", "manifest", "apple-touch-icon"}
            & set((attrs.get("rel") or "").lower().split())
        ):
            return
        for t, name in self.FETCHED:
            if t == tag and attrs.get(name):
                for url in (
                    (u.strip().split(" ")[0] for u in attrs[name].split(","))
                    if name == "srcset"
                    else [attrs[name]]
                ):
                    self.urls.append((f"<{tag} {name}>", url))
        if tag in ("a", "form") and attrs.get("href" if tag == "a" else "action"):
            self.links.append(attrs.get("href") or attrs.get("action"))


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def page_weight(client, token: str) -> dict:
    path = f"/s/{token}"
    response = client.get(path)
    html = response.get_data()
    parser = Assets()
    parser.feed(html.decode())
    rows = [("HTML", path, len(html), len(gzip.compress(html, 6)))]
    third_party: list[str] = []
    queue = [(what, urljoin(ORIGIN + path, url)) for what, url in parser.urls]
    seen: set[str] = set()
    while queue:
        what, url = queue.pop(0)
        if url.startswith("data:") or url in seen:
            continue  # inline: no request
        seen.add(url)
        parts = urlsplit(url)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != ORIGIN:
            third_party.append(url)
            continue
        asset = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        body = asset.get_data()
        if asset.status_code != 200:
            rows.append(
                (
                    f"{what} (HTTP {asset.status_code})",
                    parts.path,
                    len(body),
                    len(gzip.compress(body, 6)),
                )
            )
        else:
            rows.append((what, parts.path, len(body), len(gzip.compress(body, 6))))
        if parts.path.endswith(".css"):
            for m in CSS_URL.finditer(body.decode(errors="replace")):
                queue.append(("CSS url()", urljoin(url, m.group(1) or m.group(2))))
    for link in parser.links:
        parts = urlsplit(urljoin(ORIGIN + path, link))
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != ORIGIN:
            third_party.append(link)
    # The page registers its service worker from data-sw (form.js): not part of the load.
    worker = parser.sw and client.get(parser.sw).get_data()
    return {"rows": rows, "third_party": third_party, "sw": (parser.sw, len(worker or b""))}


# ---------------------------------------------------------------- (b) server time


def hidden_fields(html: str) -> dict[str, str]:
    out = {}
    for tag in re.findall(r'<input[^>]*type="hidden"[^>]*>', html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name:
            out[name.group(1)] = value.group(1) if value else ""
    return out


def valid_answers(checklist) -> dict:
    """What a careful shopper sends after a flawless visit: every question shown answered.

    A repeated section is sent its ``min`` times (the shipped store visit: one employee).
    """
    data: dict[str, object] = {"visit_date": date.today().isoformat(), "visit_time": "12:30"}
    for section, n, q, _ in slots(checklist):
        name = f"q_{q.key}" if n is None else f"q_{q.key}-{n}"
        if n == 1:
            data[f"n_{section.key}"] = str(n)
        if q.type == "yes_no":
            data[name] = q.pass_on if q.scored or q.kind.adjustment(q) else "yes"
        elif q.type == "scale":
            data[name] = str(q.max)
        elif q.type == "choice":
            data[name] = max(q.options, key=lambda o: o.score or 0).key
        elif q.type == "multi":
            data[name] = [o.key for o in q.options if o.score]
        elif q.type == "number":
            data[name] = str(int(q.min or 0))
        elif q.type == "text":
            data[name] = "All fine."
        elif q.type == "date":
            data[name] = date.today().isoformat()
        elif q.type == "time":
            data[name] = "12:15"
    return data


def without_alerts(send):
    """Send with the alert hook switched off: the same critical-failure POST, minus the alert row."""
    real = submissions.visit_counted
    submissions.visit_counted = lambda *args, **kwargs: False
    try:
        return send()
    finally:
        submissions.visit_counted = real


def measure(app, tokens: list[str], checklist, reps: int, queries: QueryCounter) -> dict:
    """Alternate real and baseline requests so drift (CPU boost, cache) hits both alike."""
    timer = app.wsgi_app
    answers = valid_answers(checklist)
    times = {"form GET": [], "bare GET": [], "form POST": [], "bare POST": [], "alert POST": [], "no-alert POST": []}
    counts = {k: [] for k in times}
    cpu = {k: [] for k in times}

    def timed(name, send, expect_status):
        before = queries.count
        response = send()
        assert response.status_code == expect_status, (
            name,
            response.status_code,
            response.get_data(as_text=True)[:2000],
        )
        times[name].append(timer.last)
        cpu[name].append(timer.last_cpu)
        counts[name].append(queries.count - before)

    warm = 5
    for i in range(reps + warm):
        get_token, post_token = tokens.pop(), tokens.pop()
        # Each shopper is a new browser: a fresh cookie jar, so no session state piles up.
        client = app.test_client()
        timed("form GET", lambda: client.get(f"/s/{get_token}"), 200)
        timed("bare GET", lambda: client.get("/bench/bare"), 200)
        page = client.get(f"/s/{post_token}")  # untimed: the shopper opens the link first
        data = {**hidden_fields(page.get_data(as_text=True)), **answers}
        timed("form POST", lambda: client.post(f"/s/{post_token}", data=data), 303)
        timed("bare POST", lambda: client.post("/bench/bare", data={"payload": f"row {i}"}), 303)
        alert_token = tokens.pop()
        page = client.get(f"/s/{alert_token}")
        failed = {**hidden_fields(page.get_data(as_text=True)), **answers, **CRITICAL_FAILURE}
        timed("alert POST", lambda: client.post(f"/s/{alert_token}", data=failed), 303)
        quiet_token = tokens.pop()
        page = client.get(f"/s/{quiet_token}")
        failed = {**hidden_fields(page.get_data(as_text=True)), **answers, **CRITICAL_FAILURE}
        timed("no-alert POST", lambda: without_alerts(lambda: client.post(f"/s/{quiet_token}", data=failed)), 303)
        if i < warm:
            for k in times:
                times[k].pop()
                counts[k].pop()
                cpu[k].pop()
    return {
        k: (statistics.median(v), statistics.quantiles(v, n=10)[-1], statistics.median(counts[k]),
            statistics.median(cpu[k]))
        for k, v in times.items()
    }


#: Where a request's time can go: (label, file name ending, function name(s) of the entry point).
AREAS = [
    ("whole request (WSGI)", "shopper_page.py", "__call__"),
    ("  find the assignment (SQL)", "views.py", "get_assignment_or_404"),
    ("  pin the version (one UPDATE)", "submissions.py", "pin_version"),
    ("  the blank page (spliced)", "views.py", "blank_page"),
    ("  db.session.commit (flush + COMMIT)", "scoping.py", "commit"),
    ("  checklist_of (reload after commit)", "caches.py", "checklist_of"),
    ("  build the WTForms form", "form.py", "__call__"),
    ("  read + check the answers", "forms.py", "check"),
    ("  store photos", "uploads.py", "collect"),
    ("  record_submission (score + 4 statements + commit)", "submissions.py", "record_submission"),
    ("    scoring.score", "scoring.py", "score"),
    ("  render_template", "templating.py", "render_template"),
    ("    of which the question macro", "forms.html", "macro"),
    (
        "all SQL statements (SQLAlchemy execute)",
        "engine/base.py",
        ("_exec_single_context", "_exec_insertmany_context"),
    ),
]


def profile(app, tokens: list[str], checklist, reps: int) -> str:
    """cProfile the real GET and POST; return where the time goes, per request."""
    answers = valid_answers(checklist)
    out = []
    for label in ("GET", "POST"):
        prepared = []
        for _ in range(reps):
            token, client = tokens.pop(), app.test_client()
            data = None
            if label == "POST":
                page = client.get(f"/s/{token}")
                data = {**hidden_fields(page.get_data(as_text=True)), **answers}
            prepared.append((client, token, data))
        profiler = cProfile.Profile()
        profiler.enable()
        for client, token, data in prepared:
            if data is None:
                client.get(f"/s/{token}")
            else:
                client.post(f"/s/{token}", data=data)
        profiler.disable()
        stats = pstats.Stats(profiler)
        whole = None
        lines = [
            f"--- cProfile of the form {label}, {reps} requests"
            " (profiling inflates pure-Python parts) ---",
            f"    {'area':<48} {'ms/request':>10} {'share':>6}",
        ]
        for area, filename, function in AREAS:
            cumulative = sum(
                ct
                for (f, _, fn), (_, _, _, ct, _) in stats.stats.items()
                if f.endswith(filename)
                and fn in ((function,) if isinstance(function, str) else function)
            )
            if not cumulative:
                continue
            whole = whole or cumulative
            lines.append(
                f"    {area:<48} {cumulative / reps * 1000:10.2f} {cumulative / whole:6.0%}"
            )
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(12)
        top = buffer.getvalue()
        top = top[top.index("   ncalls") :] if "   ncalls" in top else top
        lines.append(
            "    top functions by own time:\n"
            + "\n".join("    " + line for line in top.rstrip().splitlines())
        )
        out.append("\n".join(lines))
    return "\n\n".join(out)


# ---------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reps", type=int, default=200, help="timed requests of each kind (default 200)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile the form's GET and POST"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        app = build_app(Path(tmp))
        with app.app_context():
            db.create_all()
            needed = 4 * (args.reps + 5) + 1 + (2 * 50 if args.profile else 0)
            tokens, checklist = seed(needed)
            engine = db.engine
            db.session.remove()
        # Requests run outside any app context, as under a real server: each gets its own
        # context, so nothing (session identity map, g) is carried from one to the next.
        queries = QueryCounter(engine)
        weight = page_weight(app.test_client(), tokens.pop())
        timings = measure(app, tokens, checklist, args.reps, queries)
        profiled = profile(app, tokens, checklist, 50) if args.profile else ""
        engine.dispose()

    questions = sum(1 for _ in checklist.questions())
    print(
        f"Shopper page benchmark: checklist '{SLUG}' ({questions} questions), "
        f"Python {sys.version.split()[0]}, "
        f"SQLite, Flask test client\n"
    )

    print("(a) Page weight of GET /s/<token> (uncompressed; gzip -6 for information)")
    total = total_gz = 0
    for what, path, size, gz in weight["rows"]:
        print(f"    {what:<22} {path:<40} {size:>8,} B  {gz:>7,} B gz")
        total += size
        total_gz += gz
    requests = len(weight["rows"])
    print(f"    {'total':<22} {'':<40} {total:>8,} B  {total_gz:>7,} B gz")
    print(
        f"    bytes:       {total / 1024:6.1f} KB of {BUDGET_BYTES // 1024} KB   "
        f"{verdict(total <= BUDGET_BYTES)}"
    )
    print(
        f"    requests:    {requests:6d}    of {BUDGET_REQUESTS}       "
        f"{verdict(requests <= BUDGET_REQUESTS)}"
    )
    hosts = sorted({urlsplit(u).netloc for u in weight["third_party"]})
    print(f"    third-party: {', '.join(hosts) if hosts else 'none':<17} {verdict(not hosts)}")
    for url in weight["third_party"]:
        print(f"      {url}")
    sw_path, sw_size = weight["sw"]
    print(f"    service worker {sw_path or '(none registered)'}: {sw_size / 1024:.1f} KB of "
          f"{BUDGET_SW_BYTES // 1024} KB   {verdict(bool(sw_path) and sw_size <= BUDGET_SW_BYTES)}")

    print(
        f"\n(b) Server time (WSGI app, first byte in to last byte out), "
        f"median of {args.reps} requests each,"
        " each form request on a fresh assignment"
    )
    print(f"    {'request':<11} {'median':>9} {'p90':>9} {'SQL':>5} {'CPU median':>11}")
    for name, (median, p90, sql, cpu) in timings.items():
        print(f"    {name:<11} {median * 1000:7.2f}ms {p90 * 1000:7.2f}ms {sql:5.0f} {cpu * 1000:9.2f}ms")
    ratios = []
    for kind, work in (("GET", "small template render"), ("POST", "one-row insert + commit")):
        ratio = timings[f"form {kind}"][0] / timings[f"bare {kind}"][0]
        ratios.append(ratio)
        print(
            f"    form {kind:<4} / bare {kind:<4} ({work}): {ratio:5.2f}x of {BUDGET_RATIO:g}x   "
            f"{verdict(ratio <= BUDGET_RATIO)}"
        )
    alert_ratio = timings["alert POST"][0] / timings["no-alert POST"][0]
    print(
        f"    alert POST / no-alert POST (a critical failure, its alert row written or not): "
        f"{alert_ratio:5.2f}x of {BUDGET_ALERT_RATIO:g}x   {verdict(alert_ratio <= BUDGET_ALERT_RATIO)}"
    )
    if profiled:
        print("\n" + profiled)
    elif any(r > BUDGET_RATIO for r in ratios):
        print("\n    Over budget: run with --profile to see where the time goes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
