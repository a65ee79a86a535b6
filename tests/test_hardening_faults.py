"""Faults a production host meets (issue 11, point 7): a full upload disk, a database that is down
or hangs, a disk that fills under SQLite. Nothing is lost, and people are told the truth."""

from __future__ import annotations

import contextlib
import errno
import html
import io
import os
import socket
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from survey import create_app
from survey.extensions import db
from survey.models import Attachment, ShopperDraft, Submission
from survey.shopper.forms import field_name

from .conftest import hidden_fields, log_in, tiny_photo
from .conftest import post_multipart as post
from .test_shopper import photo_question, text_of, visit  # noqa: F401  (visit: a fixture)


class FullDisk:
    """Files opened for writing under ``folder`` take half of what is written, then fail with
    ENOSPC, as a disk that fills mid-write does. Only the OS-level write is replaced: our code
    opens, writes and cleans up as it would on a real full disk."""

    def __init__(self, folder: Path, real_open):
        self.folder, self.real_open = str(folder), real_open

    def __call__(self, file, mode="r", *args, **kwargs):
        handle = self.real_open(file, mode, *args, **kwargs)
        if isinstance(file, (str, os.PathLike)) and os.fspath(file).startswith(self.folder) and \
                any(m in mode for m in "wxa"):
            return _Filling(handle)
        return handle


class _Filling:
    def __init__(self, handle):
        self.handle = handle

    def write(self, data):
        self.handle.write(bytes(data[: len(data) // 2]))
        self.handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


@pytest.fixture
def full_upload_disk(app, monkeypatch):
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(io, "open", FullDisk(folder, io.open))
    return folder


def test_a_full_upload_disk_keeps_the_answers_removes_the_partial_file_and_says_so(
        client, app, visit, full_upload_disk, monkeypatch):
    token, checklist, data = visit
    photo = photo_question(checklist)
    text_key = next(k for k, v in data.items() if v == "All fine.")
    data[text_key] = "The cashier, Sam, was lovely."
    data[field_name(photo.key)] = (io.BytesIO(tiny_photo("JPEG")), "receipt.jpg")

    response = post(client, f"/s/{token}", data)  # a form sent without JavaScript

    page = text_of(response)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "Your answers are saved, but the photo could not be stored. Send the form again in a few minutes." in page
    assert "The cashier, Sam, was lovely." in page  # the form comes back filled in
    assert "Nothing you sent was lost" not in page
    assert list(full_upload_disk.iterdir()) == []  # no partial photo left behind
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
    draft = db.session.scalar(db.select(ShopperDraft))
    assert draft is not None and draft.answers[text_key] == "The cashier, Sam, was lovely."

    monkeypatch.undo()  # room on the disk again: the same form goes through, photo and all
    data[field_name(photo.key)] = (io.BytesIO(tiny_photo("JPEG")), "receipt.jpg")
    assert post(client, f"/s/{token}", data).status_code == 303
    submission = db.session.scalar(db.select(Submission))
    assert len(submission.attachments) == 1
    assert (full_upload_disk / submission.attachments[0].stored_name).is_file()


def test_purge_removes_orphan_photos_of_any_age(app, runner):
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    orphan, partial = folder / ("a" * 32 + ".jpeg"), folder / ("b" * 32 + ".png.part")
    orphan.write_bytes(b"x" * 10)
    partial.write_bytes(b"y" * 10)  # both just now
    result = runner.invoke(args=["uploads", "purge"])
    assert result.exit_code == 0 and "2 files" in result.output
    assert not orphan.exists() and not partial.exists()


# ---------------------------------------------------------------- the database down, or hanging


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free, and nothing listens once it is closed


@pytest.fixture
def database_down(app, tmp_path):
    """The same app, but its database is a PostgreSQL server that does not answer (a closed port)."""
    down = create_app({
        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "UPLOAD_DIR": str(tmp_path / "up"),
        "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/survey",
        "RATELIMIT_ENABLED": False,
    })
    yield down
    with down.app_context():
        db.engine.dispose()


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_with_the_database_down_healthz_answers_503(database_down):
    response = database_down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.get_data(as_text=True) == "database unavailable"


def test_with_the_database_down_a_shopper_link_answers_503_in_the_browsers_language(database_down):
    client = database_down.test_client()
    response = client.get("/s/" + "A" * 32)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "nothing was stored from this request. Your answers are still on this phone" in page_text(response)
    german = client.post("/s/" + "B" * 32, data={"visit_date": "2026-01-01"}, headers={"Accept-Language": "de"})
    assert german.status_code == 503
    assert "Wir erreichen unsere Datenbank gerade nicht" in page_text(german)
    assert '<html lang="de">' in page_text(german)


def test_with_the_database_down_a_logged_in_staff_page_answers_503(database_down, client, make_user):
    make_user("hq@example.com", "hq")
    log_in(client, "hq@example.com")
    staff = database_down.test_client()
    cookie = client.get_cookie("session")
    staff.set_cookie("session", cookie.value, domain=cookie.domain)  # the same browser, after the outage began
    response = staff.get("/hq/")
    assert response.status_code == 503
    assert "We can't reach the database at the moment, so nothing was changed." in page_text(response)
    someone = database_down.test_client()  # logging in needs the database too
    form = hidden_fields(someone.get("/login").get_data(as_text=True))
    assert someone.post("/login", data={**form, "email": "hq@example.com", "password": "x"}).status_code == 503


@pytest.fixture
def impatient(app, _schema, tmp_path):
    """The app with a database that may take 0.3 s (SURVEY_DB_TIMEOUT) before a request gives up."""
    quick = create_app({"TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "SQLALCHEMY_DATABASE_URI": _schema,
                        "UPLOAD_DIR": str(tmp_path / "up"), "RATELIMIT_ENABLED": False, "SURVEY_DB_TIMEOUT": 0.3})
    yield quick
    with quick.app_context():
        db.session.remove()
        db.engine.dispose()


@contextlib.contextmanager
def database_held(url: str):
    """Another connection holds the assignment table (PostgreSQL) or the write lock (SQLite).

    Released after 20 s whatever happens, so that code without a timeout fails this test
    (its request then succeeds) instead of hanging the run.
    """
    engine = None
    if url.startswith("sqlite"):
        holder = sqlite3.connect(make_url(url).database, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
    else:
        engine = create_engine(url)
        holder = engine.connect()
        holder.execute(text("LOCK TABLE assignment IN ACCESS EXCLUSIVE MODE"))
    timer = threading.Timer(20, holder.rollback)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        holder.rollback()
        holder.close()
        if engine is not None:
            engine.dispose()


def test_a_database_that_hangs_answers_503_within_the_timeout(impatient, make_assignment, _schema):
    _, token = make_assignment()  # never opened: its first opening writes
    client = impatient.test_client()
    with database_held(_schema):
        response = client.get(f"/s/{token}")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "can't reach our database" in page_text(response)
    assert client.get(f"/s/{token}").status_code == 200  # and it recovers by itself


def test_the_timeouts_reach_the_driver():
    from survey.config import engine_options

    pg = engine_options("postgresql+psycopg://u@h/db?options=-csearch_path%3Dx", 5, 2)
    assert pg["connect_args"] == {"connect_timeout": 2,
                                  "options": "-csearch_path=x -c statement_timeout=5000 -c jit=off"}
    assert engine_options("sqlite:////tmp/x.db", 2.5, 2)["connect_args"] == {"timeout": 2.5}


# ---------------------------------------------------------------- /healthz and the disks


def test_healthz_says_ok_with_room_on_the_disks(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"


def test_healthz_answers_503_when_a_disk_is_nearly_full(app, client):
    app.config["SURVEY_MIN_FREE_MB"] = 10 ** 12  # more than any disk has: as if ours were full
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert body.startswith("disk space low (uploads: ") and "MB free" in body
