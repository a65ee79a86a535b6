"""``flask uploads purge``: photos that can never be sent, and files no row names, are deleted;
everything a link may still send, and every photo of a submission, stays."""

from __future__ import annotations

import io
import os
import re
import time
from datetime import date, timedelta
from pathlib import Path

from survey.extensions import db
from survey.models import AssignmentState, Attachment, Submission
from survey.shopper.forms import field_name
from survey.caches import checklist_of

from . import test_shopper
from .conftest import good_answers, hidden_fields, post_multipart


def photo_key(checklist) -> str:
    return next(q.key for _, q in checklist.questions() if q.type == "photo")


def leave_a_waiting_photo(client, assignment, token) -> dict:
    """Send the form with a photo but no visit date: refused, so the photo waits on the link."""
    checklist = checklist_of(assignment.version or assignment.checklist.latest)
    page = client.get(f"/s/{token}").get_data(as_text=True)
    data = {**hidden_fields(page), **good_answers(checklist)}
    del data["visit_date"]
    data[field_name(photo_key(checklist))] = (io.BytesIO(test_shopper.JPEG), "receipt.jpg")
    refused = post_multipart(client, f"/s/{token}", data)
    assert refused.status_code == 422
    data["upload_id"] = re.search(rf'name="{field_name(photo_key(checklist), "upload")}" value="(\d+)"',
                                  refused.get_data(as_text=True)).group(1)
    return data


def files(app) -> set[str]:
    return {p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir()}


def stored_name(assignment) -> str:
    return db.session.scalar(db.select(Attachment.stored_name).filter_by(assignment_id=assignment.id))


def test_purge_deletes_only_what_no_link_can_send(app, client, runner, make_assignment):
    today = date.today()
    links = {name: make_assignment()
             for name in ("open", "cancelled", "long_past_due", "just_past_due", "sent_without", "sent_with")}
    data = {name: leave_a_waiting_photo(client, *links[name]) for name in links}
    checklist = checklist_of(links["sent_with"][0].version)
    photo = photo_key(checklist)

    # Sent with its photo, the way a shopper does: the kept photo's id and the missing date.
    sent = {k: v for k, v in data["sent_with"].items() if k not in ("upload_id", field_name(photo))}
    sent.update(visit_date=today.isoformat(), **{field_name(photo, "upload"): data["sent_with"]["upload_id"]})
    assert post_multipart(client, f"/s/{links['sent_with'][1]}", sent).status_code == 303
    links["cancelled"][0].state = AssignmentState.cancelled
    # HQ may still extend a link just past due (its photo must wait), not one a month past.
    long_past, just_past = links["long_past_due"][0], links["just_past_due"][0]
    long_past.not_before, long_past.due = today - timedelta(days=60), today - timedelta(days=31)
    just_past.not_before, just_past.due = today - timedelta(days=30), today - timedelta(days=1)
    links["sent_without"][0].state = AssignmentState.submitted  # sent by another tab without the photo
    db.session.commit()
    names = {name: stored_name(assignment) for name, (assignment, _) in links.items()}
    folder = Path(app.config["UPLOAD_DIR"])
    # Named as _store names photos, and no row names them: left by a request that failed, of any
    # age (a photo takes its stored name only once its row is committed), a partial one too.
    crashed, young, partial = "0" * 32 + ".jpeg", "1" * 32 + ".png", "2" * 32 + ".jpeg.part"
    (folder / crashed).write_bytes(b"x" * 1000)
    (folder / young).write_bytes(b"y" * 10)
    (folder / partial).write_bytes(b"z" * 10)
    (folder / "notes.txt").write_bytes(b"not a photo of ours")  # never touched, however old
    an_hour_ago = time.time() - 3700
    for name in (crashed, "notes.txt"):
        os.utime(folder / name, (an_hour_ago, an_hour_ago))
    before = files(app)

    dry = runner.invoke(args=["uploads", "purge", "--dry-run"])
    assert dry.exit_code == 0 and "Would delete 3 unsent photos and 6 files" in dry.output
    assert files(app) == before and db.session.scalar(db.select(db.func.count(Attachment.id))) == 6

    result = runner.invoke(args=["uploads", "purge"])
    assert result.exit_code == 0 and "Deleted 3 unsent photos and 6 files" in result.output
    assert files(app) == {names["open"], names["just_past_due"], names["sent_with"], "notes.txt"}
    db.session.expire_all()
    kept = set(db.session.scalars(db.select(Attachment.stored_name)))
    assert kept == {names["open"], names["just_past_due"], names["sent_with"]}
    submission = db.session.scalar(db.select(Submission).filter_by(assignment_id=links["sent_with"][0].id))
    assert [a.stored_name for a in submission.attachments] == [names["sent_with"]]

    # The open link still sends its waiting photo afterwards.
    still = {k: v for k, v in data["open"].items() if k not in ("upload_id", field_name(photo))}
    still.update(visit_date=today.isoformat(), **{field_name(photo, "upload"): data["open"]["upload_id"]})
    assert post_multipart(client, f"/s/{links['open'][1]}", still).status_code == 303

    again = runner.invoke(args=["uploads", "purge"])
    assert "Deleted 0 unsent photos and 0 files (0.0 MB)" in again.output
