"""``flask --app wsgi worker`` as a real process: it runs queued jobs and stops cleanly on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from survey.extensions import db
from survey.jobs import enqueue, run_periodic
from survey.models import Alert, AlertState, utcnow

from .mail_fixtures import smtp  # noqa: F401  (fixture)
from .test_alerts import managers, send_visit  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
#: Only against a worker that never comes up: the test then fails with its log instead of hanging.
GIVE_UP = 120


def worker_env(app, **extra) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "UPLOAD_DIR": app.config["UPLOAD_DIR"], "SURVEY_QUEUE_URL": app.config["SURVEY_QUEUE_URL"],
           "SURVEY_ENV": "development", "SECRET_KEY": "test-secret", "FLASK_DEBUG": "0"}
    env.update({key: str(value) for key, value in extra.items()})
    return env


@pytest.fixture
def start_worker(app, tmp_path):
    """Start ``flask worker`` on the test's database and queue; return the process (its log in a file)."""
    started = []

    def start(*args: str, **env) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")
        proc = subprocess.Popen([FLASK, "--app", "wsgi", "worker", *args], cwd=ROOT, env=worker_env(app, **env),
                                stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = log.name
        started.append((proc, log))
        return proc

    yield start
    for proc, log in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + GIVE_UP
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the worker did not {what}:\n{Path(proc.log_path).read_text()}")
        time.sleep(0.05)


def log_of(proc) -> str:
    return Path(proc.log_path).read_text()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_worker_runs_a_queued_job_and_stops_on_a_signal(app, start_worker, stop):
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    orphan = folder / (uuid.uuid4().hex + ".jpeg")
    orphan.write_bytes(b"x")
    enqueue("uploads_purge")
    proc = start_worker("--no-periodic")
    wait_for(lambda: not orphan.exists(), proc, "run the queued purge")
    proc.send_signal(stop)
    assert proc.wait(GIVE_UP) == 0, log_of(proc)
    log = log_of(proc)
    assert "Jobs wait in SQLite file" in log
    assert "Not scheduling" in log


def test_a_worker_killed_mid_send_is_never_followed_by_a_second_send(app, smtp, managers, send_visit,  # noqa: F811
                                                                     start_worker):
    smtp.hold = threading.Event()  # the server keeps the message and does not answer yet
    send_visit(critical=True)
    run_periodic("sweep")  # queue it, as the scheduler would
    first = start_worker("--no-periodic", MAIL_URL=smtp.url, SURVEY_MAIL_TIMEOUT=300)
    wait_for(smtp.arrived.is_set, first, "hand the message over")
    first.kill()  # SIGKILL: no chance to record anything
    first.wait()
    smtp.hold.set()
    db.session.expire_all()
    alert = db.session.scalar(db.select(Alert))
    assert (alert.state, alert.attempts) == (AlertState.sending, 1)

    # Minutes later the sweep finds the worker gone; a copy of the job still sits in the queue.
    db.session.execute(db.update(Alert).values(claimed_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    run_periodic("sweep")
    enqueue("send_alert", alert.id)
    huey = app.extensions["jobs"].huey
    second = start_worker("--no-periodic", MAIL_URL=smtp.url)
    wait_for(lambda: huey.pending_count() == 0, second, "take the queued job")
    second.send_signal(signal.SIGTERM)  # lets a running job finish
    assert second.wait(GIVE_UP) == 0, log_of(second)
    db.session.expire_all()
    alert = db.session.scalar(db.select(Alert))
    assert (alert.state, alert.attempts) == (AlertState.unknown, 1)
    assert len(smtp.received) == 1
