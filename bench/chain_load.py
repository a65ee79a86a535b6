"""A load test of the several-hosts deployment, on loopback: figures, not a test.

Run: .venv/bin/python bench/chain_load.py [--shoppers 1500] [--users 18] [--run-time 120]
        [--hosts 2] [--workers 2] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--redis redis://127.0.0.1:6379/14]

What runs (everything on 127.0.0.1, bounded in links and in time, then stopped and dropped):
- PostgreSQL: a schema of its own, with the demo network (12 branches, a year of visits) and
  ``--shoppers`` open store-visit links; dropped afterwards.
- ``--hosts`` gunicorn hosts (the shipped gunicorn.conf.py, ``--workers`` each) on their own
  ports, sharing the database and Redis (throttling counters, under a key prefix of this run's
  own, deleted afterwards), behind a small round-robin TCP proxy like a load balancer's.
- Locust, headless. First one shopper alone sends 40 links (the median a crowd is held against);
  then 18 users, 16 shoppers who open a fresh link and send a flawless form the way form.js does
  and 2 managers who log in and read the report list and branch and region PDFs, until every
  link is sent or ``--run-time`` seconds pass. Budget (issue 16): no error, nothing lost or
  doubled, the crowd's send-form p95 within 3x the lone shopper's median.

Printed: per kind of request its count, failures, throughput and p50/p95/p99; requests each host
served; then the database is checked against what was answered: every form answered 303/204 is
stored exactly once, whole (its answers), and nothing else is stored. Exits 0 whatever it finds.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from server_load import Server  # noqa: E402
from shopper_page import valid_answers  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

SLUG = "store-visit"
#: Links sent by one shopper alone first: the median a crowd's p95 is held against.
SINGLE_LINKS = 40


def seed(url: str, folder: Path, count: int) -> tuple[list[str], dict, list]:
    """The demo network plus ``count`` open links; return tokens, a flawless visit and the managers."""
    from survey import create_app, demo
    from survey.extensions import db
    from survey.models import Branch, Checklist, Role, User
    from survey.submissions import checklist_of, create_assignments

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_DIR": str(folder / "up")})
    with app.app_context():
        db.create_all()
        demo.seed(echo=lambda _: None)
        checklist = db.session.scalar(db.select(Checklist).filter_by(slug=SLUG))
        branches = db.session.scalars(db.select(Branch).order_by(Branch.code)).all()
        today = date.today()
        tokens = []
        for branch, share in zip(itertools.cycle(branches), range(count)):
            del share
            made = create_assignments(checklist, branch, 1, not_before=today - timedelta(days=3),
                                      due=today + timedelta(days=7))
            tokens += [t for _, t in made]
        db.session.commit()
        answers = valid_answers(checklist_of(checklist.latest))
        managers = []
        for user in db.session.scalars(db.select(User).filter_by(role=Role.manager)):
            regions = [r.code for r in user.regions]
            codes = [b.code for b in branches if b.region.code in regions]
            managers.append([user.email, demo.DEMO_PASSWORD, codes, regions])
        db.session.remove()
        db.engine.dispose()
    return tokens, answers, managers


class Proxy:
    """A round-robin TCP proxy: each new connection goes to the next host, as a load balancer's."""

    def __init__(self, ports: list[int]):
        self.ports, self.next = ports, itertools.cycle(range(len(ports)))
        self.served = [0] * len(ports)
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        started.wait()

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        started.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        host = next(self.next)
        self.served[host] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.ports[host])
        except OSError:
            writer.close()
            return

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def run_locust(name: str, host: str, folder: Path, tokens: list[str], answers: dict, managers: list,
               users: int, run_time: int, classes: tuple[str, ...] = ()) -> Path:
    (folder / f"{name}-tokens.txt").write_text("\n".join(tokens))
    (folder / "answers.json").write_text(json.dumps(answers))
    (folder / "managers.json").write_text(json.dumps(managers))
    env = {**os.environ, "LOAD_TOKENS": str(folder / f"{name}-tokens.txt"),
           "LOAD_ANSWERS": str(folder / "answers.json"), "LOAD_MANAGERS": str(folder / "managers.json")}
    locust = Path(sys.executable).parent / "locust"
    stats = folder / name
    command = [str(locust), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--only-summary",
               "-u", str(users), "-r", str(max(1, users // 4)), "--run-time", f"{run_time}s",
               "--stop-timeout", "20", "--host", host, "--csv", str(stats), "--loglevel", "WARNING", *classes]
    with (folder / f"{name}.log").open("w") as log:
        subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, timeout=run_time + 120)
    return Path(f"{stats}_stats.csv")


def report(stats_csv: Path, seconds: float) -> dict[str, dict]:
    rows = {row["Name"]: row for row in csv.DictReader(stats_csv.open())}
    print(f"{'request':<24}{'count':>7}{'fail':>6}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
    for name, row in rows.items():
        print(f"{name:<24}{row['Request Count']:>7}{row['Failure Count']:>6}"
              f"{float(row['Request Count']) / seconds:>8.1f}{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}")
    return rows


def check_stored(url: str, tokens: list[str], sent_ok: int) -> None:
    from survey.models import hash_token

    engine = create_engine(url)
    hashes = [hash_token(t) for t in tokens]
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.id, (SELECT count(*) FROM answer a WHERE a.submission_id = s.id) FROM submission s "
            "JOIN assignment x ON x.id = s.assignment_id WHERE x.token_hash = ANY(:h)"), {"h": hashes}).all()
        links = conn.execute(text("SELECT count(*) FROM assignment WHERE token_hash = ANY(:h) "
                                  "AND state = 'submitted'"), {"h": hashes}).scalar()
    engine.dispose()
    # The same flawless form every time: a whole submission has as many answers as the others.
    per_visit = max((n for _, n in rows), default=0)
    whole = sum(1 for _, answers in rows if answers == per_visit > 0)
    print(f"forms answered as sent: {sent_ok}; submissions stored: {len(rows)} "
          f"({whole} whole, {per_visit} answers each); links marked sent: {links}")
    verdict = "PASS" if len(rows) == sent_ok == links == whole else "FAIL"
    print(f"{verdict}: every form answered as sent is stored exactly once, whole, and nothing else")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=1500, help="links made (each is sent once)")
    parser.add_argument("--users", type=int, default=18, help="Locust users: 8 shoppers to 1 manager")
    parser.add_argument("--run-time", type=int, default=120)
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per host")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    try:
        import redis
        redis.Redis.from_url(args.redis, socket_connect_timeout=2).ping()
        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except Exception as exc:  # a figure, not a test: say what is missing and stop
        print(f"SKIPPED: needs PostgreSQL at {args.database_url} and Redis at {args.redis} ({exc.__class__.__name__})")
        return 0
    schema = f"load_{os.getpid()}"
    prefix = f"load-{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.database_url}{'&' if '?' in args.database_url else '?'}options=-csearch_path%3D{schema}"
    hosts: list[Server] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            tokens, answers, managers = seed(url, folder, args.shoppers)
            env = {"RATELIMIT_STORAGE_URI": args.redis, "RATELIMIT_KEY_PREFIX": prefix,
                   "WEB_CONCURRENCY": str(args.workers)}
            for n in range(args.hosts):
                hosts.append(Server(url, folder, [], folder / f"host{n}.log", env=env))
            proxy = Proxy([h.port for h in hosts])
            print(f"{args.hosts} hosts x {args.workers} gunicorn workers (gthread) on PostgreSQL and Redis, behind a "
                  f"round-robin proxy; Locust: {args.users} users (8 shoppers : 1 manager), {args.shoppers} links, "
                  f"at most {args.run_time} s")
            host = f"http://127.0.0.1:{proxy.port}"
            alone, crowd = tokens[:SINGLE_LINKS], tokens[SINGLE_LINKS:]
            single = run_locust("single", host, folder, alone, answers, managers, 1, args.run_time, ("Shopper",))
            if not single.exists():
                print("FAIL: Locust wrote no figures; its log:\n" + (folder / "single.log").read_text()[-2000:])
                return 0
            baseline = {row["Name"]: row for row in csv.DictReader(single.open())}
            solo_median = float(baseline["shopper: send form"]["50%"])
            print(f"one shopper alone, {len(alone)} links: send form median {solo_median:.0f} ms")
            started = time.monotonic()
            stats_csv = run_locust("load", host, folder, crowd, answers, managers, args.users, args.run_time)
            seconds = time.monotonic() - started
            print(f"ran {seconds:.0f} s; connections per host: {proxy.served}")
            if not stats_csv.exists():
                print("FAIL: Locust wrote no figures; its log:\n" + (folder / "load.log").read_text()[-2000:])
                return 0
            rows = report(stats_csv, seconds)
            sent = rows.get("shopper: send form", {})
            sent_ok = int(sent.get("Request Count", 0)) - int(sent.get("Failure Count", 0))
            total = rows.get("Aggregated", {})
            errors = int(total.get("Failure Count", 1))
            verdict = "PASS" if errors == 0 else "FAIL"
            print(f"{verdict}: errors: {errors} of {total.get('Request Count', '?')} requests")
            ratio = float(sent.get("95%", "nan")) / solo_median
            print(f"{'PASS' if ratio <= 3 else 'FAIL'}: send form p95 under load / alone median = {ratio:.2f}x "
                  f"(budget 3x)")
            solo_sent = int(baseline["shopper: send form"]["Request Count"]) - int(
                baseline["shopper: send form"]["Failure Count"])
            check_stored(url, tokens, sent_ok + solo_sent)
    finally:
        for host in hosts:
            host.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        import redis
        client = redis.Redis.from_url(args.redis)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
