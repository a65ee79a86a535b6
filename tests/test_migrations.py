"""``flask db upgrade`` on an empty database builds exactly the schema the models describe."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from survey import create_app
from survey.extensions import db



@pytest.fixture
def logging_kept():
    """Put logging back as it was: Alembic's env.py runs ``fileConfig``, which disables
    existing loggers and hangs a handler on the root logger for the rest of the run."""
    manager = logging.Logger.manager
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    saved = {name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
             for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    yield
    root.setLevel(saved_root[0])
    root.handlers[:] = saved_root[1]
    for name, lg in list(manager.loggerDict.items()):
        if not isinstance(lg, logging.Logger):
            continue
        if name in saved:
            lg.disabled, lg.level, handlers, lg.propagate = saved[name]
            lg.handlers[:] = handlers
        else:
            lg.disabled = False


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(params=["sqlite"] + (["postgresql"] if _postgres_url() else []))
def empty_database(request, tmp_path):
    """Yield the URL of a database with no tables: a new SQLite file, and on the PostgreSQL leg
    also a new database on that server (never the shared test database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    server = _postgres_url()
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_db_upgrade_creates_the_schema_of_the_models(empty_database, logging_kept):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "test"})
    with app.app_context():
        try:
            result = app.test_cli_runner().invoke(args=["db", "upgrade"])
            assert result.exit_code == 0, result.output + repr(result.exception)
            with db.engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
                differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
                version = conn.execute(text("select version_num from alembic_version")).scalar()
        finally:
            db.engine.dispose()
    assert version
    assert differences == []
    assert tables == set(db.metadata.tables) | {"alembic_version"}


def test_db_upgrade_twice_changes_nothing(empty_database, logging_kept):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "test"})
    with app.app_context():
        try:
            runner = app.test_cli_runner()
            assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
            again = runner.invoke(args=["db", "upgrade"])
            assert again.exit_code == 0, again.output + repr(again.exception)
            with db.engine.connect() as conn:
                versions = conn.execute(text("select version_num from alembic_version")).scalars().all()
        finally:
            db.engine.dispose()
    assert len(versions) == 1


#: The rows of a database from before review states: a rejected visit whose reason was only in
#: its own columns, and a counted one with answers and an audit trail that must survive the
#: table being rebuilt (SQLite) without ON DELETE CASCADE firing.
BEFORE_REVIEW = [
    "INSERT INTO region (id, code, name, active) VALUES (1, 'N', 'North', true)",
    "INSERT INTO branch (id, code, name, region_id, address, active) VALUES (1, 'B1', 'One', 1, '', true)",
    "INSERT INTO \"user\" (id, email, password_hash, role, active, created_at) "
    "VALUES (1, 'hq@example.com', 'x', 'hq', true, '2026-01-01 00:00:00')",
    "INSERT INTO checklist (id, slug, title, channel) VALUES (1, 'c', 'C', 'visit')",
    "INSERT INTO checklist_version (id, checklist_id, number, content, content_hash, published_at) "
    "VALUES (1, 1, 1, '{}', 'h', '2026-01-01 00:00:00')",
    *[f"INSERT INTO assignment (id, token_hash, branch_id, checklist_id, not_before, due, state, created_at) "
      f"VALUES ({i}, 't{i}', 1, 1, '2026-01-01', '2026-02-01', 'submitted', '2026-01-01 00:00:00')" for i in (1, 2)],
    "INSERT INTO submission (id, assignment_id, idempotency_key, reference, version_id, branch_id, visit_date, "
    "submitted_at, critical_fail, rejected, rejected_reason, rejected_at, rejected_by_id) VALUES "
    "(1, 1, 'k1', 'AAA-111', 1, 1, '2026-01-05', '2026-01-05 10:00:00', false, true, 'Wrong branch', "
    "'2026-01-06 09:00:00', 1)",
    "INSERT INTO submission (id, assignment_id, idempotency_key, reference, version_id, branch_id, visit_date, "
    "submitted_at, critical_fail, rejected) VALUES (2, 2, 'k2', 'AAA-222', 1, 1, '2026-01-05', "
    "'2026-01-05 10:00:00', false, false)",
    "INSERT INTO answer (submission_id, position, section_key, question_key, status, critical_fail, repeat) "
    "VALUES (2, 0, 's', 'q', 'answered', false, 0)",
    "INSERT INTO submission_event (submission_id, user_id, action, reason, at) "
    "VALUES (2, 1, 'restored', 'Checked', '2026-01-07 00:00:00')",
]


def test_review_states_keep_every_row_and_turn_a_rejection_into_an_event(empty_database, logging_kept):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "test"})
    with app.app_context():
        try:
            runner = app.test_cli_runner()
            assert runner.invoke(args=["db", "upgrade", "c3d5e7f9a1b2"]).exit_code == 0
            with db.engine.begin() as conn:
                for statement in BEFORE_REVIEW:
                    conn.execute(text(statement))
            upgraded = runner.invoke(args=["db", "upgrade"])
            assert upgraded.exit_code == 0, upgraded.output + repr(upgraded.exception)
            with db.engine.connect() as conn:
                states = dict(conn.execute(text("select id, review from submission")).all())
                events = conn.execute(text(
                    "select submission_id, user_id, action, reason, from_state, to_state from submission_event "
                    "order by submission_id")).all()
                answers = conn.execute(text("select count(*) from answer")).scalar()
            downgraded = runner.invoke(args=["db", "downgrade", "c3d5e7f9a1b2"])
            assert downgraded.exit_code == 0, downgraded.output + repr(downgraded.exception)
            with db.engine.connect() as conn:
                old = conn.execute(text("select id, rejected, rejected_reason from submission order by id")).all()
        finally:
            db.engine.dispose()
    assert states == {1: "rejected", 2: "counted"}
    assert [tuple(e) for e in events] == [(1, 1, "rejected", "Wrong branch", "counted", "rejected"),
                                          (2, 1, "restored", "Checked", "rejected", "counted")]
    assert answers == 1
    assert [(i, bool(r), reason) for i, r, reason in old] == [(1, True, "Wrong branch"), (2, False, None)]
