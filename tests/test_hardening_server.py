"""The README's gunicorn deployment (issue 11, point 7): 200 idle connections no longer lock shoppers out.

gunicorn runs from the checkout with the shipped gunicorn.conf.py (one worker, to be quick), on a
loopback port and a SQLite file of its own. Before the configuration file, the README's command
ran sync workers: each idle connection held a worker until gunicorn's timeout killed it, and a
shopper's request waited behind all of them. The socket timeout below only stops such a hang
(the request is served in about a second); it is not a speed budget.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IDLE = 200
HANG_GUARD = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG_GUARD)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.fixture
def served(tmp_path):
    """gunicorn as the README starts it (``gunicorn wsgi:app`` in the checkout), one worker; yields
    its port and a link of its database."""
    from survey import create_app
    from survey.catalogue import checklist_paths, import_paths
    from survey.extensions import db
    from survey.models import Branch, Checklist, Region
    from survey.submissions import create_assignments

    url = f"sqlite:///{tmp_path / 'served.db'}"
    seeded = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "s", "UPLOAD_DIR": str(tmp_path / "up")})
    with seeded.app_context():
        db.create_all()
        import_paths(checklist_paths(ROOT / "checklists"))
        branch = Branch(code="BR-1", name="One", region=Region(code="R", name="R"), address="")
        db.session.add(branch)
        checklist = db.session.scalar(db.select(Checklist).filter_by(slug="store-visit"))
        (_, token), = create_assignments(checklist, branch, 1, not_before=date.today() - timedelta(days=1),
                                          due=date.today() + timedelta(days=7))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "s" * 32, "SURVEY_ENV": "development",
           "UPLOAD_DIR": str(tmp_path / "up"), "WEB_CONCURRENCY": "1"}
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                if get(port, "/healthz") == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield port, token
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def test_200_idle_connections_do_not_lock_shoppers_out(served):
    port, token = served
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(IDLE)]  # opened, nothing sent
    try:
        assert get(port, f"/s/{token}") == 200
        assert get(port, "/healthz") == 200
    finally:
        for conn in idle:
            conn.close()
