"""Photos through the shopper's form (issue 11, point 6): only pixels are stored, and a
decompression bomb is refused beside its field before anything is written."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from survey.extensions import db
from survey.models import Attachment, Submission
from survey.shopper.forms import field_name

from .conftest import post_multipart as post
from .test_images import SECRET, bomb, chunk, jpeg, segment  # noqa: F401  (bomb: a fixture)
from .test_shopper import block, photo_question, text_of, visit  # noqa: F401  (visit: a fixture)


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"])
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_hidden_data_in_a_jpeg_and_a_png_is_not_stored(client, app, visit):
    token, checklist, data = visit
    photo = photo_question(checklist)
    original = jpeg()
    tampered = original[:2] + segment(0xEB, SECRET) + segment(0xE0, b"JFXX\x00" + SECRET) + original[2:]
    data[field_name(photo.key)] = (io.BytesIO(tampered), "receipt.jpg")
    assert post(client, f"/s/{token}", data).status_code == 303
    attachment = db.session.scalar(db.select(Attachment))
    stored = (Path(app.config["UPLOAD_DIR"]) / attachment.stored_name).read_bytes()
    assert SECRET in tampered and SECRET not in stored
    assert Image.open(io.BytesIO(stored)).size == (64, 48)


def test_a_png_with_a_private_chunk_is_stored_without_it(client, app, make_assignment, open_form):
    from .conftest import good_answers
    from survey.caches import checklist_of

    assignment, token = make_assignment()
    page, hidden = open_form(token)
    checklist = checklist_of(assignment.version)
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 90)).save(out, "PNG")
    png = out.getvalue()
    tampered = png[:33] + chunk(b"prVt", SECRET) + png[33:]
    photo = field_name(photo_question(checklist).key)
    data = {**hidden, **good_answers(checklist), photo: (io.BytesIO(tampered), "r.png")}
    assert post(client, f"/s/{token}", data).status_code == 303
    attachment = db.session.scalar(db.select(Attachment))
    stored = (Path(app.config["UPLOAD_DIR"]) / attachment.stored_name).read_bytes()
    assert attachment.content_type == "image/png" and SECRET not in stored


def test_a_decompression_bomb_is_refused_beside_the_field_and_nothing_is_stored(client, app, visit, bomb):
    token, checklist, data = visit
    photo = photo_question(checklist)
    assert len(bomb) < app.config["UPLOAD_MAX_BYTES"]  # the size limit alone lets it through
    data[field_name(photo.key)] = (io.BytesIO(bomb), "receipt.png")
    response = post(client, f"/s/{token}", data)
    html = text_of(response)
    assert response.status_code == 422
    assert "This photo is too large to read (more than 50 megapixels). Choose a smaller one." in block(html, photo.key)
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
    assert stored_files(app) == []
