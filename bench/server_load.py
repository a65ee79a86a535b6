"""The README's gunicorn deployment under load and faults, on loopback: figures, not a test.

Run: .venv/bin/python bench/server_load.py [--shoppers 2000] [--concurrency 16] [--idle 200]
                                            [--database-url postgresql+psycopg://postgres@127.0.0.1/test]

Everything runs on 127.0.0.1 and stops by itself (every phase is bounded in requests and time):

1. load: gunicorn with the shipped gunicorn.conf.py; N shoppers, C at a time, each opens a fresh
   link (GET) and sends a flawless form the way form.js does (POST with X-Outbox, retried with the
   same idempotency key on a network error, 5xx or 429). Halfway through, one worker is killed
   (SIGKILL). Printed: links per second, p50/p95/p99 of GET and POST, retries, RSS per worker; then
   the database is checked: every link stored exactly once, whole (its answers and section scores).
2. idle connections: that server with 200 connections opened and left silent; shoppers' GET+POST
   timed meanwhile. Then the same against the README's old command (4 sync workers, no config file).
3. a database that hangs (another connection holds SQLite's write lock, or PostgreSQL's assignment
   table, for 12 s): links opened during it are answered 503 after SURVEY_DB_TIMEOUT, and work
   once it is released.
4. a database that is down (a closed port): /healthz and a shopper link, time and status.

On SQLite (the default, a throw-away file) or on PostgreSQL (--database-url; a schema of its own,
dropped afterwards). It prints figures and always exits 0 (see bench/README.md).
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from shopper_page import hidden_fields, valid_answers  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

SLUG = "store-visit"


# ---------------------------------------------------------------- set-up


def seed(url: str, folder: Path, count: int) -> tuple[list[str], dict]:
    """Create the schema, import the checklists and ``count`` open links; return their tokens and
    the form data of a flawless visit."""
    from survey import create_app
    from survey.catalogue import checklist_paths, import_paths
    from survey.extensions import db
    from survey.models import Branch, Checklist, Region
    from survey.submissions import checklist_of, create_assignments

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_DIR": str(folder / "up")})
    with app.app_context():
        db.create_all()
        import_paths(checklist_paths(ROOT / "checklists"))
        branch = Branch(code="BR-LOAD", name="Load branch", region=Region(code="LOAD", name="Load"), address="1 St")
        db.session.add(branch)
        checklist = db.session.scalar(db.select(Checklist).filter_by(slug=SLUG))
        today = date.today()
        made = create_assignments(checklist, branch, count, not_before=today - timedelta(days=3),
                                  due=today + timedelta(days=7))
        db.session.commit()
        tokens = [t for _, t in made]
        answers = valid_answers(checklist_of(checklist.latest))
        db.session.remove()
        db.engine.dispose()
    return tokens, answers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn on a loopback port, with the app's settings in its environment."""

    def __init__(self, url: str, folder: Path, args: list[str], log: Path, env: dict | None = None):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-" + uuid.uuid4().hex,
               # Plain HTTP on loopback: cookies without Secure, as a browser on localhost would send them.
               "SURVEY_ENV": "development", "UPLOAD_DIR": str(folder / "up"), "GUNICORN_BIND": f"127.0.0.1:{self.port}",
               "RATELIMIT_STORAGE_URI": "memory://", **(env or {})}
        self.log = log.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", *args, "--bind", f"127.0.0.1:{self.port}",
                                      "wsgi:app"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(self.port, "GET", "/healthz", timeout=2)[0] in (200, 503):
                    return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"gunicorn did not start; see {log}")

    def workers(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# ---------------------------------------------------------------- a shopper


class Shopper:
    """Open a link and send it the way form.js does; record what each request took."""

    def __init__(self, port: int, answers: dict, timeout: float = 30):
        self.port, self.answers, self.timeout = port, answers, timeout
        self.get_s = self.post_s = None
        self.retries = 0

    def run(self, token: str) -> str:
        path = f"/s/{token}"
        for _ in range(3):  # a page that did not load: the shopper taps the link again
            started = time.perf_counter()
            try:
                status, headers, body = request(self.port, "GET", path, timeout=self.timeout)
            except (ConnectionError, http.client.RemoteDisconnected):
                status = 0
            if status == 200:
                break
            self.retries += 1
            time.sleep(1)
        self.get_s = time.perf_counter() - started
        if status != 200:
            return f"GET {status}"
        cookie = headers.get("set-cookie", "").split(";")[0]
        fields = {**hidden_fields(body.decode()), **self.answers}
        payload = urlencode(fields, doseq=True).encode()
        send = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "X-Outbox": "1"}
        for attempt in range(8):  # form.js's outbox: the same entry, again, until it is stored
            started = time.perf_counter()
            try:
                status, _, _ = request(self.port, "POST", path, payload, send, timeout=self.timeout)
            except (ConnectionError, http.client.RemoteDisconnected):
                status = 0
            if status in (204, 303):
                self.post_s = time.perf_counter() - started
                return "sent"
            self.retries += 1
            time.sleep(0.5 * (attempt + 1))
        return f"POST {status}"


def percentiles(values: list[float]) -> str:
    if not values:
        return "no data"
    q = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {statistics.median(values) * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms"


# ---------------------------------------------------------------- phases


def load(server: Server, tokens: list[str], answers: dict, concurrency: int, kill: bool) -> None:
    done = threading.Semaphore(0)
    killed: list[int] = []

    def killer():
        for _ in range(len(tokens) // 2):
            done.acquire()
        pids = server.workers()
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    def one(token):
        shopper = Shopper(server.port, answers)
        try:
            outcome = shopper.run(token)
        except OSError as exc:
            outcome = f"error {exc.__class__.__name__}"
        done.release()
        return shopper, outcome

    if kill:
        threading.Thread(target=killer, daemon=True).start()
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, tokens))
    wall = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for _, outcome in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    gets = [s.get_s for s, _ in results if s.get_s is not None]
    posts = [s.post_s for s, _ in results if s.post_s is not None]
    print(f"    {len(tokens)} shoppers, {concurrency} at a time, in {wall:.1f} s: {len(tokens) / wall:.1f} links/s")
    print(f"    outcomes: {outcomes}; requests retried: {sum(s.retries for s, _ in results)}"
          + (f"; worker {killed[0]} killed (SIGKILL) halfway" if killed else ""))
    print(f"    GET  {percentiles(gets)}")
    print(f"    POST {percentiles(posts)}")
    print("    RSS per worker after the load: " + ", ".join(f"{rss_mb(p):.0f} MB" for p in server.workers())
          + f" (master {rss_mb(server.proc.pid):.0f} MB)")


def check_stored(url: str, tokens: list[str]) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        submissions = conn.execute(text("SELECT count(*) FROM submission")).scalar()
        per_link = conn.execute(text("SELECT count(*) FROM (SELECT assignment_id FROM submission "
                                     "GROUP BY assignment_id HAVING count(*) > 1) AS d")).scalar()
        answers = conn.execute(text("SELECT count(*) FROM answer GROUP BY submission_id")).scalars().all()
        sections = conn.execute(text("SELECT count(*) FROM section_score GROUP BY submission_id")).scalars().all()
        sent = conn.execute(text("SELECT count(*) FROM assignment WHERE state = 'submitted'")).scalar()
    engine.dispose()
    whole = len(set(answers)) == 1 and len(set(sections)) == 1 and len(answers) == submissions == len(sections)
    print(f"    stored: {submissions} submissions for {len(tokens)} links, {sent} links marked sent; "
          f"doubled: {per_link}; every one whole (same answer and section rows): {'yes' if whole else 'NO'}")


def idle(port: int, count: int, tokens: list[str], answers: dict, timeout: float) -> None:
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        sockets.append(s)  # opened, and nothing sent
    time.sleep(1)
    times, failures = [], []
    deadline = time.monotonic() + 60
    for token in tokens:
        if time.monotonic() > deadline:
            break
        shopper = Shopper(port, answers, timeout=timeout)
        started = time.perf_counter()
        try:
            outcome = shopper.run(token) if shopper else None
        except OSError as exc:
            outcome = f"{exc.__class__.__name__} after {time.perf_counter() - started:.0f} s"
        if outcome == "sent":
            times.append(time.perf_counter() - started)
        else:
            failures.append(outcome)
    for s in sockets:
        s.close()
    served = (f", GET+POST median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
              if times else "")
    print(f"    {count} idle connections held: {len(times)} of {len(times) + len(failures)} shoppers served"
          + served
          + (f"; failed: {failures[:3]}{' …' if len(failures) > 3 else ''}" if failures else ""))


def hanging(server: Server, url: str, tokens: list[str], answers: dict) -> None:
    """Another connection holds what the links need for 12 s: SQLite's write lock, or (PostgreSQL)
    the assignment table, as a stuck migration or a forgotten transaction would."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=1,
                                 check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        engine = None
    else:
        engine = create_engine(url)
        holder = engine.connect()
        holder.execute(text("LOCK TABLE assignment IN ACCESS EXCLUSIVE MODE"))
    release = threading.Timer(12, holder.rollback)
    release.start()
    results = []

    def one(token):
        started = time.perf_counter()
        status, headers, body = request(server.port, "GET", f"/s/{token}", timeout=30)  # first opening writes
        results.append((status, time.perf_counter() - started, headers.get("retry-after"),
                        b"can&#39;t reach our database" in body or b"can't reach our database" in body))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, tokens[:4]))
    release.join()
    holder.close()
    if engine is not None:
        engine.dispose()
    print("    while another connection held the lock: "
          + "; ".join(f"{s} in {t:.1f} s (Retry-After {r}, says so: {'yes' if said else 'no'})"
                      for s, t, r, said in results))
    after = [Shopper(server.port, answers).run(t) for t in tokens[:4]]
    print(f"    once released, the same links: {after}")


def database_down(folder: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    server = Server(url, folder, ["-c", str(ROOT / "gunicorn.conf.py")], folder / "down.log")
    try:
        for path in ("/healthz", "/s/" + "A" * 32):
            started = time.perf_counter()
            status, headers, body = request(server.port, "GET", path, timeout=10)
            said = "nothing was stored" in body.decode(errors="replace")
            print(f"    GET {path[:12]:<12} {status} in {(time.perf_counter() - started) * 1000:.0f} ms, "
                  f"Retry-After {headers.get('retry-after')}" + (", the page says what happened" if said else ""))
    finally:
        server.stop()


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--database-url", help="PostgreSQL (a schema of its own is made and dropped); default SQLite")
    parser.add_argument("--skip-sync", action="store_true", help="do not start the old sync deployment")
    parser.add_argument("--gunicorn", nargs=argparse.REMAINDER, default=[],
                        help="more gunicorn options for the shipped configuration, e.g. --threads 16")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    schema = None
    if args.database_url:
        schema = f"bench_{os.getpid()}"
        admin = create_engine(args.database_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{args.database_url}{'&' if '?' in args.database_url else '?'}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{folder / 'load.db'}"
    spare = 60 + 4 * 2
    tokens, answers = seed(url, folder, args.shoppers + spare)
    work, extra = tokens[:args.shoppers], tokens[args.shoppers:]
    backend = "PostgreSQL" if schema else "SQLite"
    print(f"Server under load and faults: {backend}, gunicorn.conf.py (gthread), Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    try:
        server = Server(url, folder, ["-c", str(ROOT / "gunicorn.conf.py"), *args.gunicorn], folder / "load.log")
        try:
            print("1. load, with a worker killed halfway")
            load(server, work, answers, args.concurrency, kill=True)
            check_stored(url, work)
            print("2. idle connections, shipped configuration")
            idle(server.port, args.idle, extra[:20], answers, timeout=10)
            print("3. a database that hangs (" + ("the assignment table" if schema else "SQLite's write lock")
                  + " held by another connection for 12 s)")
            hanging(server, url, extra[20:24], answers)
        finally:
            server.stop()
        if not args.skip_sync:
            print("2b. idle connections, the README's old command (gunicorn --workers 4, sync, no config)")
            old = Server(url, folder, ["-c", "/dev/null", "--workers", "4"], folder / "sync.log")
            try:
                idle(old.port, args.idle, extra[24:29], answers, timeout=5)
            finally:
                old.stop()
        print("4. a database that is down (PostgreSQL URL on a closed port)")
        database_down(folder)
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        subprocess.run(["rm", "-rf", str(folder)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
