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
