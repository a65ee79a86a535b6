"""Time the monthly delivery and the branch-PDF batch on real worker processes (issues 15.5, 16.3).

Run: .venv/bin/python bench/batch_pdfs.py [--keep DIR] [--rounds N] [--skip-delivery]   (about 7 minutes)

Set-up (not timed): a throw-away SQLite file with the shipped checklists and a region of 50
branches with 1,200 visits over the last 12 months (bench/report_pdf.py's ``seed_region``), 5
active managers of that region, and a real SMTP server (aiosmtpd) on loopback.

Budgets (bench/README.md), each printed with PASS/FAIL:

(a) A monthly delivery of last month for 50 branches and 5 managers (51 PDFs: 50 branches and
    the region; 5 e-mails with 51 attachments each) on ONE worker (``worker -w 1``): from the
    batch's start to the last e-mail accepted by the SMTP server, within 2 minutes.
(b) A batch of every branch's PDF (50) on one worker process (``worker -w 1 -k process``) and
    on two such processes, each in a session of its own as systemd or a second host would start
    them: two reach at least 1.8x one's PDFs per minute. One process with ``-w 2 -k process`` is
    measured too, for information: its two job processes share one session, and Linux's autogroup
    scheduler gives a session one share of a busy machine however many processes it runs.
    PDFs per minute are counted from the first claim to the last PDF made (rows' ``claimed_at``
    and ``made_at``), so the workers' start-up is not in them; "PDFs in the making at once" is
    the sum of each PDF's time over that span (2.0: two workers busy all along). The load
    average is printed before and after each run: the machine is shared, so read the ratio with it.

A report, not a test: exits 0 either way.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DELIVERY_SECONDS = 120.0
SPEEDUP = 1.8
MANAGERS = 5
GIVE_UP = 900


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def make_app(db_path: Path, folder: Path, mail_url: str):
    from survey import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench",
        "UPLOAD_DIR": str(folder / "uploads"), "SURVEY_QUEUE_URL": f"sqlite:///{folder / 'jobs.db'}",
        "MAIL_URL": mail_url,
    })


def seed(app) -> None:
    from report_pdf import seed_region
    from survey.catalogue import checklist_paths, import_paths
    from survey.extensions import db
    from survey.models import Region, Role, User

    with app.app_context():
        db.create_all()
        _, errors = import_paths(checklist_paths(ROOT / "checklists"))
        assert not errors, errors
        db.session.commit()
        seed_region(date.today())
        region = db.session.scalar(db.select(Region))
        for n in range(MANAGERS):
            user = User(email=f"manager{n}@example.com", role=Role.manager, regions=[region])
            user.password_hash = "x"
            db.session.add(user)
        db.session.commit()
        db.session.remove()


def start_worker(folder: Path, db_path: Path, mail_url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "UPLOAD_DIR": str(folder / "uploads"),
           "SURVEY_QUEUE_URL": f"sqlite:///{folder / 'jobs.db'}", "SURVEY_ENV": "development",
           "SECRET_KEY": "bench", "MAIL_URL": mail_url, "FLASK_DEBUG": "0"}
    log = open(folder / f"worker-{time.monotonic_ns()}.log", "wb")
    # A session of its own, as a worker started by systemd or on another host has: Linux's
    # autogroup scheduler shares the CPU between sessions, so workers of one session on a busy
    # shared machine split one session's share however many they are.
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--no-periodic", *args],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log = log
    return proc


def stop(proc: subprocess.Popen) -> float:
    """Stop a worker (SIGTERM) and return the CPU seconds it and its reaped children used."""
    proc.terminate()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    proc.log.close()
    return usage.ru_utime + usage.ru_stime


def run_batch(app, kind: str, procs: list[subprocess.Popen]) -> dict:
    """Start a batch of last month, wait for its end, and return its figures."""
    from survey import delivery
    from survey.extensions import db
    from survey.models import BatchPdf, DeliveryMail, MailState, PdfState

    with app.app_context():
        before = load()
        started_at = time.perf_counter()
        started = delivery.start_batch(delivery.parse_month(None), kind, "bench")
        batch_id = started.batch.id
        deadline = time.monotonic() + GIVE_UP
        while True:
            db.session.expire_all()
            pdfs = db.session.scalar(db.select(db.func.count()).where(
                BatchPdf.batch_id == batch_id, BatchPdf.state.in_([PdfState.due, PdfState.making])))
            mails = db.session.scalar(db.select(db.func.count()).where(
                DeliveryMail.batch_id == batch_id, DeliveryMail.state.in_([MailState.waiting, MailState.pending,
                                                                           MailState.sending])))
            if not pdfs and not mails:
                break
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                raise RuntimeError(f"a worker stopped or it took too long: {[p.log.name for p in procs]}")
            time.sleep(0.2)
        wall = time.perf_counter() - started_at
        rows = db.session.execute(db.select(BatchPdf.kind, BatchPdf.state, BatchPdf.claimed_at, BatchPdf.made_at,
                                            BatchPdf.attempts, BatchPdf.size)
                                  .where(BatchPdf.batch_id == batch_id)).all()
        sent = db.session.scalars(db.select(DeliveryMail.state).where(DeliveryMail.batch_id == batch_id)).all()
        branches = [r for r in rows if r.kind == "branch"]
        span = (max(r.made_at for r in branches) - min(r.claimed_at for r in branches)).total_seconds()
        # PDFs being made at once, on average: 2 with two workers that both had a PDF all along.
        busy = sum((r.made_at - r.claimed_at).total_seconds() for r in branches) / span
        db.session.remove()
    return {"wall": wall, "pdfs": len(rows), "branch_pdfs": len(branches), "span": span,
            "per_minute": len(branches) / span * 60, "busy": busy,
            "failed": sum(r.state != PdfState.done for r in rows),
            "attempts": sum(r.attempts for r in rows), "mb": sum(r.size or 0 for r in rows) / 1e6,
            "mails": len(sent), "sent": sum(s == MailState.sent for s in sent), "load_before": before,
            "load_after": load()}


def delivery_run(app, folder: Path, db_path: Path, mail_url: str, inbox) -> None:
    """(a): last month's delivery on one worker, to the SMTP server on loopback."""
    worker = start_worker(folder, db_path, mail_url, "-w", "1")
    time.sleep(4)  # its imports (WeasyPrint) before the batch, so the timed part is the work
    one = run_batch(app, "delivery", [worker])
    cpu = stop(worker)
    attached = sum(len(list(m.iter_attachments())) for m in inbox.messages)
    ok = one["wall"] <= DELIVERY_SECONDS and one["sent"] == MANAGERS and not one["failed"]
    print(f"\n(a) Monthly delivery on one worker: {one['pdfs']} PDFs ({one['mb']:.1f} MB) made once each "
          f"({one['attempts']} tries), {one['sent']} of {one['mails']} e-mails sent with {attached} "
          f"attachments in {one['wall']:.1f} s (budget {DELIVERY_SECONDS:.0f} s): {'PASS' if ok else 'FAIL'}\n"
          f"    the worker used {cpu:.0f} CPU s ({cpu / one['pdfs']:.2f} per PDF, its start-up included); "
          f"load {one['load_before']} -> {one['load_after']}")


#: (label, one argument list per worker process): one process; two processes (two systemd units
#: or two hosts); and, for information, one process running two job processes (one session).
SETUPS = [("1 worker process", [["-w", "1", "-k", "process"]]),
          ("2 worker processes", [["-w", "1", "-k", "process"]] * 2),
          ("1 process, -w 2 -k process", [["-w", "2", "-k", "process"]])]


def throughput(app, folder: Path, db_path: Path, mail_url: str, rounds: int) -> None:
    """(b): every branch's PDF on one worker, then on two; ``rounds`` times. Each round's ratio
    compares runs next to each other in time (the load drifts), and the median round counts."""
    print()
    ratios, informative = [], []
    for _ in range(rounds):
        figures = {}
        for label, workers in SETUPS:
            procs = [start_worker(folder, db_path, mail_url, *args) for args in workers]
            time.sleep(4)  # their imports (WeasyPrint) before the batch, so the timed part is the work
            f = figures[label] = run_batch(app, "pdfs", procs)
            cpu = sum(stop(p) for p in procs)
            print(f"    {label}: {f['branch_pdfs']} branch PDFs in {f['span']:.1f} s = {f['per_minute']:.0f} "
                  f"PDFs/min, {f['attempts']} tries, {f['failed']} failed; {f['busy']:.2f} PDFs in the making at "
                  f"once on average; {cpu:.0f} CPU s; load {f['load_before']} -> {f['load_after']}")
        one = figures[SETUPS[0][0]]["per_minute"]
        ratios.append(figures[SETUPS[1][0]]["per_minute"] / one)
        informative.append(figures[SETUPS[2][0]]["per_minute"] / one)
        print(f"    this round: two worker processes {ratios[-1]:.2f}x one; -w 2 -k process {informative[-1]:.2f}x")
    ratio = statistics.median(ratios)
    print(f"(b) Two worker processes over one: {ratio:.2f}x PDFs per minute, median of {rounds} round(s) "
          f"(budget >= {SPEEDUP}x): {'PASS' if ratio >= SPEEDUP else 'FAIL'}; one process with -w 2 -k process: "
          f"{statistics.median(informative):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", metavar="DIR", help="Keep the database, PDFs and worker logs here.")
    parser.add_argument("--rounds", type=int, default=1,
                        help="Alternate the one- and two-worker runs this often; the best of each counts.")
    parser.add_argument("--skip-delivery", action="store_true", help="Only (b).")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-batch-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "bench.db"
    db_path.unlink(missing_ok=True)
    sys.path.insert(0, str(ROOT / "tests"))
    from mail_fixtures import start_smtp

    controller, inbox = start_smtp()
    mail_url = f"smtp://127.0.0.1:{controller.port}"
    try:
        app = make_app(db_path, folder, mail_url)
        t0 = time.perf_counter()
        seed(app)
        print(f"Seeded 50 branches, {MANAGERS} managers in {time.perf_counter() - t0:.0f} s; "
              f"{os.cpu_count()} CPUs; load average {load()}")

        if not args.skip_delivery:
            delivery_run(app, folder, db_path, mail_url, inbox)
        throughput(app, folder, db_path, mail_url, args.rounds)
    finally:
        controller.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
