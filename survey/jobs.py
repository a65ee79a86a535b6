"""Background jobs (SPEC §5 ``worker``): e-mail alerts and scheduled clean-ups, on Huey.

Where jobs wait is ``SURVEY_QUEUE_URL``: unset, a SQLite file ``<instance>/jobs.db`` (nothing to
install or run beside the app); ``redis://`` or ``rediss://`` for Redis, which several hosts can
share. ``flask --app wsgi worker`` (cli.py) runs them.

The rules every job here follows, so that a queue that loses, repeats or delays a message
never loses, repeats or delays the work:

- The work is a database row (an alert, survey/alerts.py) written in the same transaction as
  what caused it; the job carries only the row's id.
- A worker claims the row with one conditional UPDATE (``... WHERE id = :id AND state = 'due'``)
  before acting: of two jobs for one row (a sweep racing a retry, two workers) one acts, the
  other finds nothing to do.
- A periodic ``sweep`` (every minute) queues every row whose time has come: new work, retries
  whose wait is over, and work whose job was lost (a queue flushed, a worker killed before it
  claimed). The shopper's request only writes the row; the sweep queues it, so the request
  never touches the queue (bench/README.md).
- Periodic jobs run where the scheduler runs (``worker`` without ``--no-periodic``): one
  scheduler is enough, and a second one does no harm (the daily purge claims its day in
  ``job_run``; the sweep's claims make its repeats harmless).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.storage import SqliteStorage
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import JobRun
from .shopper.uploads import purge

log = logging.getLogger(__name__)


class QueueUrlError(ValueError):
    """SURVEY_QUEUE_URL names no queue this app can use."""


def queue_target(url: str | None, instance_path: str) -> tuple[str, str]:
    """Return ``("sqlite", file)`` or ``("redis", url)`` for SURVEY_QUEUE_URL, or raise QueueUrlError."""
    if not url:
        return "sqlite", str(Path(instance_path) / "jobs.db")
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss"):
        if not parts.hostname:
            raise QueueUrlError(f"SURVEY_QUEUE_URL {url!r} names no host (e.g. redis://localhost:6379/0)")
        try:
            parts.port  # noqa: B018 (raises on a port that is no number)
        except ValueError:
            raise QueueUrlError(f"SURVEY_QUEUE_URL {url!r} has a port that is no number") from None
        return "redis", url
    if parts.scheme == "sqlite" and not parts.netloc and parts.path not in ("", "/"):
        return "sqlite", parts.path[1:]  # as SQLAlchemy spells them: sqlite:///relative, sqlite:////absolute
    raise QueueUrlError(f"SURVEY_QUEUE_URL {url!r}: use redis://host:port/db, rediss://..., "
                        "sqlite:////absolute/path, or leave it unset for instance/jobs.db")


class _QuickSqliteStorage(SqliteStorage):
    """Huey's SQLite queue with WAL and synchronous=NORMAL: its default syncs every write to disk,
    which made each job cost 4 ms; with WAL a crash loses at most the last writes, never the
    file, and the sweep queues again whatever a lost message carried."""

    def _create_connection(self) -> sqlite3.Connection:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


def make_huey(app: Flask) -> Huey:
    """Build the Huey instance SURVEY_QUEUE_URL names; results are not kept (rows hold outcomes)."""
    kind, where = queue_target(app.config["SURVEY_QUEUE_URL"], app.instance_path)
    name = app.config.get("SURVEY_QUEUE_NAME", "survey")
    if kind == "redis":
        return RedisHuey(name, url=where, results=False)
    Path(where).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=where, results=False, storage_class=_QuickSqliteStorage)


def describe_queue(app: Flask) -> str:
    """Say where jobs wait, for the worker's first lines (a password in a Redis URL is hidden)."""
    kind, where = queue_target(app.config["SURVEY_QUEUE_URL"], app.instance_path)
    if kind == "redis":
        parts = urlsplit(where)
        return f"Redis at {parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"
    return f"SQLite file {where}"


#: Every job, by name: its function and, for a periodic one, its schedule. Filled by ``@job`` and
#: ``@periodic`` in the modules that own the work (alerts.py, below), bound to an app by init_jobs.
_JOBS: dict[str, tuple[Callable, crontab | None]] = {}


def job(func: Callable) -> Callable:
    """Register ``func`` as a job queued by name with ``enqueue``; it runs in the app's context."""
    _JOBS[func.__name__] = (func, None)
    return func


def periodic(schedule: Callable) -> Callable[[Callable], Callable]:
    """Register ``func`` to run on ``schedule`` (a huey ``crontab``) wherever a scheduler runs."""
    def register(func: Callable) -> Callable:
        _JOBS[func.__name__] = (func, schedule)
        return func
    return register


#: Lines the worker prints at start (where mail goes, warnings), from the modules that own the work.
_DESCRIBERS: list[Callable[[Flask], list[str]]] = []


def describes_work(func: Callable[[Flask], list[str]]) -> Callable[[Flask], list[str]]:
    """Register ``func(app)`` to say something at the worker's start; a line starting "Warning" goes to stderr."""
    _DESCRIBERS.append(func)
    return func


def describe_work(app: Flask) -> list[str]:
    return [line for func in _DESCRIBERS for line in func(app)]


@dataclass
class Jobs:
    """An app's queue: the Huey instance and each job's Huey task (calling one queues it)."""

    huey: Huey
    tasks: dict[str, Callable] = field(default_factory=dict)


def init_jobs(app: Flask) -> None:
    """Bind every registered job to a Huey instance for ``app``, each run in the app's context."""
    jobs = Jobs(make_huey(app))
    for name, (func, schedule) in _JOBS.items():
        wrapped = _in_app(app, func)
        if schedule is None:
            jobs.tasks[name] = jobs.huey.task(name=name)(wrapped)
        else:
            jobs.tasks[name] = jobs.huey.periodic_task(schedule, name=name)(wrapped)
    app.extensions["jobs"] = jobs


def _in_app(app: Flask, func: Callable) -> Callable:
    started_in = os.getpid()

    def run(*args):
        nonlocal started_in
        if os.getpid() != started_in:  # a forked worker process (-k process): no pooled connection of the parent's
            started_in = os.getpid()
            with app.app_context():
                db.engine.dispose(close=False)
        with app.app_context():
            return func(*args)

    run.__name__ = func.__name__
    return run


def enqueue(name: str, *args) -> None:
    """Queue the job ``name`` with ``args`` (row ids only)."""
    current_app.extensions["jobs"].tasks[name](*args)


def run_queued(app: Flask | None = None, limit: int = 1000) -> int:
    """Run every job waiting now, in this process, and return how many ran (tests, ``worker --burst``)."""
    huey = (app or current_app).extensions["jobs"].huey
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        ran += 1
    return ran


def run_periodic(name: str) -> None:
    """Run the periodic job ``name`` now, as its schedule would (tests and ``worker --burst``)."""
    _JOBS[name][0]()


def claim_day(name: str, day: date) -> bool:
    """Claim ``day`` for the daily job ``name``; False when another scheduler has already run it."""
    try:
        with db.session.begin_nested():
            db.session.add(JobRun(name=name, day=day))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


@periodic(crontab(minute="17", hour="3"))
def uploads_purge() -> None:
    """Delete the photos that can never be sent, once a day at 03:17 UTC (``flask uploads purge``)."""
    today = date.today()
    if not claim_day("uploads_purge", today):
        log.info("uploads purge for %s already ran", today)
        return
    done = purge(today)
    log.info("uploads purge: %d unsent photos and %d files deleted", done.rows, done.files)
