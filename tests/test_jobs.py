"""The job queue (survey/jobs.py): where jobs wait, the daily purge on the scheduler, Redis."""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from survey import create_app
from survey.config import ConfigError
from survey.extensions import db
from survey.jobs import QueueUrlError, enqueue, queue_target, run_periodic, run_queued
from survey.models import JobRun


@pytest.mark.parametrize("url, expected", [
    (None, ("sqlite", "/srv/instance/jobs.db")),
    ("", ("sqlite", "/srv/instance/jobs.db")),
    ("redis://localhost:6379/2", ("redis", "redis://localhost:6379/2")),
    ("rediss://:secret@cache.example.com:6380/0", ("redis", "rediss://:secret@cache.example.com:6380/0")),
    ("sqlite:////var/lib/survey/jobs.db", ("sqlite", "/var/lib/survey/jobs.db")),
])
def test_queue_url_names_where_jobs_wait(url, expected):
    assert queue_target(url, "/srv/instance") == expected


@pytest.mark.parametrize("url", ["redis://", "redis://host:port/0", "amqp://localhost", "localhost:6379", "sqlite://"])
def test_a_queue_url_that_cannot_work_is_refused(url):
    with pytest.raises(QueueUrlError, match="SURVEY_QUEUE_URL"):
        queue_target(url, "/srv/instance")


def test_a_bad_queue_url_stops_start_up_naming_the_setting(monkeypatch):
    monkeypatch.setenv("SURVEY_QUEUE_URL", "amqp://localhost")
    with pytest.raises(ConfigError, match="SURVEY_QUEUE_URL"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def orphan_photo(app) -> Path:
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    orphan = folder / (uuid.uuid4().hex + ".jpeg")
    orphan.write_bytes(b"x" * 10)
    return orphan


def test_daily_purge_runs_on_the_scheduler_once_a_day(app):
    first = orphan_photo(app)
    run_periodic("uploads_purge")
    assert not first.exists()
    assert db.session.scalar(db.select(JobRun.day).filter_by(name="uploads_purge")) == date.today()
    # A second scheduler (two workers without --no-periodic) finds the day taken.
    second = orphan_photo(app)
    run_periodic("uploads_purge")
    assert second.exists()


def test_a_queued_job_runs_in_the_apps_context(app):
    orphan = orphan_photo(app)
    enqueue("uploads_purge")
    assert orphan.exists()  # queued, not run inside the caller
    assert run_queued(app) == 1
    assert not orphan.exists()
    assert run_queued(app) == 0


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_app(_schema, tmp_path):
    """An app whose jobs wait in Redis (database 15, under a name of this run only, flushed after)."""
    if not redis_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis does not answer at 127.0.0.1:6379; with CI=true the Redis test may not be skipped")
        pytest.skip("Redis does not answer at 127.0.0.1:6379")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _schema, "SECRET_KEY": "test",
                      "UPLOAD_DIR": str(tmp_path / "uploads"), "SURVEY_QUEUE_URL": "redis://127.0.0.1:6379/15",
                      "SURVEY_QUEUE_NAME": f"survey-test-{uuid.uuid4().hex[:12]}"})
    huey = app.extensions["jobs"].huey
    with app.app_context():
        yield app
        huey.storage.flush_all()
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(JobRun.__table__.delete())
        db.engine.dispose()


def test_jobs_wait_in_redis_when_the_queue_url_says_so(redis_app):
    orphan = orphan_photo(redis_app)
    enqueue("uploads_purge")
    assert redis_app.extensions["jobs"].huey.pending_count() == 1
    assert run_queued(redis_app) == 1
    assert not orphan.exists()


def test_the_scheduler_sweeps_every_minute_and_purges_at_03_17_and_03_27_utc(app):
    huey = app.extensions["jobs"].huey
    due = lambda when: sorted(task.name for task in huey.read_periodic(when))  # noqa: E731
    # Both sweeps (alerts', and the monthly delivery's, which also starts it on HQ's day) every minute.
    assert due(datetime(2026, 12, 3, 3, 17)) == ["delivery_sweep", "sweep", "uploads_purge"]
    assert due(datetime(2026, 12, 3, 3, 18)) == ["delivery_sweep", "sweep"]
    assert due(datetime(2026, 12, 3, 3, 27)) == ["batch_purge", "delivery_sweep", "sweep"]
    assert due(datetime(2026, 12, 3, 15, 17)) == ["delivery_sweep", "sweep"]
