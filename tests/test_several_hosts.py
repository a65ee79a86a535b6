"""Two app hosts share what one host alone used to keep: throttling counters in Redis, photos in
a bucket (tests/test_photo_store.py). Redis is the one at 127.0.0.1:6379, database 15, under a key
prefix of this run's own; it is flushed afterwards."""

from __future__ import annotations

import os
import uuid

import pytest
from survey import create_app
from survey.extensions import db

REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_prefix():
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis does not answer at 127.0.0.1:6379; with CI=true this test may not be skipped")
        pytest.skip("Redis does not answer at 127.0.0.1:6379")
    prefix = f"survey-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


def host(_schema, tmp_path, prefix):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _schema, "SECRET_KEY": "test-secret",
                      "UPLOAD_DIR": str(tmp_path / "uploads"), "RATELIMIT_ENABLED": True,
                      "RATELIMIT_STORAGE_URI": REDIS, "RATELIMIT_KEY_PREFIX": prefix})
    return app


def test_two_hosts_count_unknown_links_together(app, _schema, tmp_path, redis_prefix):
    """30 unknown links a minute per address (README): split over two hosts, the 31st is still refused.

    With each host counting in its own memory, an address could probe 30 links per host."""
    first, second = host(_schema, tmp_path, redis_prefix), host(_schema, tmp_path, redis_prefix)
    try:
        statuses = [(first if i % 2 else second).test_client().get(f"/s/unknown-token-{i:03d}-xxxxxxxxxxxxxxxx")
                    .status_code for i in range(31)]
        assert statuses[:30] == [404] * 30
        assert statuses[30] == 429
        # An address of its own is not slowed by the first one's probing.
        other = first.test_client().get("/s/unknown-token-999-xxxxxxxxxxxxxxxx",
                                        environ_base={"REMOTE_ADDR": "10.9.8.7"})
        assert other.status_code == 404
    finally:
        for each in (first, second):
            with each.app_context():
                db.session.remove()
                db.engine.dispose()
