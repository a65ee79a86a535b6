"""``flask --app wsgi worker`` as a real process: it runs queued jobs and stops cleanly on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from survey.jobs import enqueue

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
