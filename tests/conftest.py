"""Shared fixtures: an app on a real database (SQLite, or PostgreSQL via TEST_DATABASE_URL),
clients, a CLI runner, and factories that return callables.
"""

from __future__ import annotations

import contextvars
import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import uuid

import pytest
from flask import has_app_context
from flask.testing import EnvironBuilder, FlaskClient
from sqlalchemy import create_engine, text
from survey import caches, create_app
from survey.catalogue import checklist_paths, import_paths
from survey.extensions import db
from survey.models import Branch, Checklist, Region, Role, User
from survey.submissions import create_assignments, get_or_create_wave
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parent.parent
CHECKLISTS = ROOT / "checklists"
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The database under test: PostgreSQL when TEST_DATABASE_URL says so, else a SQLite file.

    On PostgreSQL each run gets its own schema, so two runs against one server
    (two developers, or CI beside a developer) never see each other's rows.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Create the schema once per run, from empty, on the database under test."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return database_url


@pytest.fixture
def app(_schema, tmp_path):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _schema,
        "SECRET_KEY": "test-secret",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "SURVEY_BASE_URL": "http://shop.test",
        "SURVEY_UPLOAD_MAX_MB": 1,
        "RATELIMIT_ENABLED": False,
        "SURVEY_QUEUE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
        "SURVEY_OUTBOX_DIR": str(tmp_path / "outbox"),
    })

    app.test_client_class = ServerClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    """Delete every row, children first, so the next test starts from nothing."""
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    # Made from rows, unlike the other caches (made from immutable versions): gone with them.
    caches.fill_medians.clear()


class ServerClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as on a server.

    The test body holds the ``app`` fixture's context for its own queries; a request must
    not share it (its ``g``: a CSRF token, a language; its database session). A streamed
    body is read to its end within the request's context too, and handed over as an
    iterator, so it still reads as streamed. After each request the test's session forgets
    what it loaded, so it reads what the request committed.
    """

    def open(self, *args, **kwargs):
        if not has_app_context():  # a redirect followed inside the request's own context
            return super().open(*args, **kwargs)
        context = contextvars.Context()
        response = context.run(super().open, *args, **kwargs)
        if response.is_streamed:
            body = response.response
            response.response = iter(context.run(_drain, body))
        db.session.expire_all()
        return response


def _drain(body) -> list[bytes]:
    try:
        return list(body)
    finally:
        if hasattr(body, "close"):
            body.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def limited_client(app, _schema, tmp_path):
    """A second app on the same database, with the rate limits switched on."""
    limited = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": _schema, "SECRET_KEY": "test-secret",
        "UPLOAD_DIR": str(tmp_path / "uploads"), "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
    })
    yield limited.test_client()
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def published(app):
    """Import the shipped standards and checklists; return checklists by slug."""
    outcomes, errors = import_paths(checklist_paths(CHECKLISTS))
    assert not errors, errors
    return {c.slug: c for c in db.session.scalars(db.select(Checklist))}


@pytest.fixture
def make_region(app):
    def make(code: str = "NORTH", name: str | None = None) -> Region:
        region = db.session.scalar(db.select(Region).filter_by(code=code))
        if region is None:
            region = Region(code=code, name=name or code.title())
            db.session.add(region)
            db.session.commit()
        return region

    return make


@pytest.fixture
def make_branch(app, make_region):
    def make(code: str = "BR-001", region: str = "NORTH", name: str | None = None) -> Branch:
        branch = Branch(code=code, name=name or f"Branch {code}", region=make_region(region), address="1 High St")
        db.session.add(branch)
        db.session.commit()
        return branch

    return make


@pytest.fixture
def make_assignment(app, published, make_branch):
    """Return a callable creating an assignment; it returns ``(assignment, token)``."""

    def make(slug: str = "store-visit", branch: Branch | None = None, not_before: date | None = None,
             due: date | None = None, wave: str | None = None):
        branch = branch or db.session.scalar(db.select(Branch).filter_by(code="BR-001")) or make_branch()
        today = date.today()
        (assignment, token), = create_assignments(
            published[slug], branch, 1,
            due=due or today + timedelta(days=14),
            not_before=not_before or today - timedelta(days=14),
            wave=get_or_create_wave(wave),
        )
        db.session.commit()
        return assignment, token

    return make


@pytest.fixture
def make_user(app, make_region):
    def make(email: str = "hq@example.com", role: str = "hq", regions: tuple[str, ...] = ()) -> User:
        user = User(email=email, role=Role(role), regions=[make_region(r) for r in regions])
        # A cheap hash: the real one (scrypt, ~0.3 s) would dominate the console tests,
        # which log in hundreds of times; test_auth.py checks set_password itself.
        user.password_hash = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
        db.session.add(user)
        db.session.commit()
        return user

    return make


class Staff:
    """A logged-in test client that sends the session's CSRF token with every form."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)


def log_in(client, email: str) -> Staff:
    """Log in through the form, as a browser would; the CSRF token stays valid for the session."""
    token = hidden_fields(client.get("/login").get_data(as_text=True))["csrf_token"]
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return Staff(client, token)


@pytest.fixture
def hq(client, make_user) -> Staff:
    """A client logged in as HQ (test_hq_editor.py has its own, with a checklist published)."""
    make_user("hq@example.com", "hq")
    return log_in(client, "hq@example.com")


def post_multipart(client, url: str, data: dict):
    """POST a form like ``client.post``, and close the request body afterwards.

    Werkzeug spools a large multipart body to a temporary file and, without
    ``follow_redirects``, never closes it; under ``filterwarnings = error`` the
    leak would fail whichever test runs next.
    """
    builder = EnvironBuilder(client.application, path=url, method="POST", data=data)
    try:
        request = builder.get_request()
    finally:
        builder.close()
    try:
        response = client.open(request)
        response.get_data()
    finally:
        request.input_stream.close()
    return response


def tiny_photo(fmt: str = "JPEG", size: tuple[int, int] = (32, 24)) -> bytes:
    """A real, decodable photo of a few hundred bytes: photos are re-encoded from their pixels."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(out, fmt)
    return out.getvalue()


HIDDEN_RE = re.compile(r'<input[^>]*type="hidden"[^>]*>')
NAME_RE = re.compile(r'name="([^"]+)"')
VALUE_RE = re.compile(r'value="([^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    """Read the hidden inputs (CSRF token, idempotency key) a browser would send back."""
    out = {}
    for tag in HIDDEN_RE.findall(html):
        name, value = NAME_RE.search(tag), VALUE_RE.search(tag)
        if name:
            out[name.group(1)] = value.group(1) if value else ""
    return out


def good_answers(checklist, visit: date | None = None) -> dict[str, str | list[str]]:
    """Form data a careful shopper would send after a flawless visit (every question shown answered).

    A repeated section is filled its ``min`` times, each repetition as flawlessly.
    """
    from survey.checklist.conditions import slots
    from survey.shopper.fields import count_name, slot_name

    visit = visit or date.today()
    data: dict[str, str | list[str]] = {"visit_date": visit.isoformat(), "visit_time": "12:30"}
    for section, n, q, slot in slots(checklist):
        if n == 1:
            data[count_name(section.key)] = str(section.repeat.min)
        answer = q.kind.best_answer(q, visit)
        if answer is not None:
            data[slot_name(slot)] = answer
    return data


@pytest.fixture
def open_form(client):
    """GET a shopper link and return ``(response, hidden fields)``."""

    def get(token: str):
        response = client.get(f"/s/{token}")
        return response, hidden_fields(response.get_data(as_text=True))

    return get
