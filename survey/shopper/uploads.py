"""Receipt photos: checked by their content, size-limited, stored outside the web root."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, request
from flask_babel import format_decimal, gettext

from ..extensions import db
from ..flags import photo_hash
from ..models import Assignment, AssignmentState, Attachment, photo_key
from ..checklist.types import clean_text
from ..checklist.conditions import slots
from ..storage import StoreError, photos
from .fields import slot_name
from .images import MAX_PIXELS, TooManyPixels, clean_photo

HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def sniff(head: bytes) -> str | None:
    """Return the image type from a file's first bytes; names and declared types can lie."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "image/heic"
    return None


def collect(form, checklist, assignment: Assignment,
            store: bool = True) -> tuple[dict[Any, Attachment], dict[Any, str]]:
    """Store new photos and find kept ones; return them and a message per bad file, by slot.

    A good photo is stored at once and remembered in a hidden field, so a form
    shown again for another mistake does not ask for the photo again. With ``store``
    false (a request without this page's CSRF token) new files are not written.
    """
    places = [(slot, slot_name(slot), slot_name(slot, "upload"))
              for _, _n, q, slot in slots(checklist, type(form).repeats) if q.kind.upload]
    return take(form, places, assignment, store)


def attachment_key(slot: Any) -> str:
    """Name a form slot's photo as Attachment.question_key (``models.photo_key``)."""
    return photo_key(slot) if isinstance(slot, str) else photo_key(*slot)


def take(form, places: list[tuple[Any, str, str]], assignment: Assignment,
         store: bool = True) -> tuple[dict[Any, Attachment], dict[Any, str]]:
    """Store the photos sent in ``places`` (``(slot, file field, kept-photo field)``); see ``collect``."""
    found: dict[Any, Attachment] = {}
    problems: dict[Any, str] = {}
    replaced: list[str] = []
    written: set[str] = set()
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    for slot, name, kept_name in places:
        field, kept, key = form[name], form[kept_name], attachment_key(slot)
        upload = request.files.get(field.name)
        if upload is not None and upload.filename and store:
            data = upload.stream.read(limit + 1)
            if len(data) > limit:
                problems[slot] = gettext("This photo is larger than %(mb)s MB. Choose a smaller one.",
                                         mb=format_decimal(current_app.config["SURVEY_UPLOAD_MAX_MB"]))
                continue
            kind = sniff(data[:16])
            if kind is None:
                problems[slot] = gettext("This file is not a photo. Choose a JPEG, PNG, WebP or HEIC image.")
                continue
            try:
                cleaned = clean_photo(data, kind)
            except TooManyPixels:
                problems[slot] = gettext(
                    "This photo is too large to read (more than %(mp)s megapixels). Choose a smaller one.",
                    mp=format_decimal(MAX_PIXELS // 1_000_000))
                continue
            if cleaned is None:
                problems[slot] = gettext("This photo could not be read. Take it again or choose another.")
                continue
            cleaned, kind = cleaned
            try:
                attachment = _store(assignment, key, upload.filename, kind, cleaned, replaced)
            except StorageFailed:
                db.session.rollback()
                for stored_name in written:
                    _forget(stored_name + PARTIAL)
                raise
            attachment.phash = photo_hash(cleaned)
            written.add(attachment.stored_name)
            kept.data = str(attachment.id)
            found[slot] = attachment
        elif kept.data:
            attachment = _kept(assignment, key, kept.data)
            if attachment is None:
                kept.data = ""
                problems[slot] = gettext("That photo could not be found. Please choose it again.")
            else:
                found[slot] = attachment
    if found:
        db.session.commit()
        _publish([a for a in found.values() if a.stored_name in written])
    for name in replaced:  # only once the rows that named them are gone for good
        _forget(name)
    return found, problems


def _forget(name: str) -> None:
    """Delete a file whose row is gone; a store that fails now leaves it for ``purge``."""
    try:
        photos().delete(name)
    except StoreError as exc:
        current_app.logger.warning("could not delete photo %s now (purge will): %s", name, exc)


def _publish(attachments: list[Attachment]) -> None:
    """Give each new photo its final name, now that a committed row names it.

    So a file under a stored name always has its row, and ``purge`` may delete any file no row
    names, whatever its age. Should a rename fail (``purge`` took the partial file), the row
    goes too and the request answers StorageFailed.
    """
    store = photos()
    try:
        for attachment in attachments:
            store.rename(attachment.stored_name + PARTIAL, attachment.stored_name)
    except StoreError as exc:
        for attachment in attachments:
            _forget(attachment.stored_name + PARTIAL)
            _forget(attachment.stored_name)
            db.session.delete(attachment)
        db.session.commit()
        raise StorageFailed(str(exc)) from exc


def _kept(assignment: Assignment, key: str, raw: str) -> Attachment | None:
    # An id the database can hold: a tampered 40-digit number must not overflow the query.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        return None
    attachment = db.session.get(Attachment, int(raw))
    if attachment is None or attachment.assignment_id != assignment.id or attachment.question_key != key:
        return None
    if attachment.submission_id is not None and assignment.state != AssignmentState.returned:
        return None  # part of a sent visit; only a visit HQ returned keeps its photos
    return attachment


def _store(assignment: Assignment, key: str, filename: str, kind: str, data: bytes, replaced: list[str]) -> Attachment:
    """Store a photo; it replaces any earlier one not yet sent for the same link and question.

    So a link holds at most one waiting photo per question on disk, however often its
    form is posted (a shopper changing their mind, or someone with the link filling the disk).
    The earlier files are added to ``replaced``, for the caller to delete after the commit.
    The photo is written under a partial name (``_publish`` renames it after the commit); a
    write that fails leaves no file behind and raises StorageFailed.
    """
    stored = secrets.token_hex(16) + "." + kind.split("/")[1]
    store = photos()
    try:
        store.write(stored + PARTIAL, data)
    except StoreError as exc:  # a full disk, a quota, a read-only mount, a bucket out of reach
        current_app.logger.error("could not store a photo in the %r: %s", store, exc)
        raise StorageFailed(str(exc)) from exc
    earlier = db.session.scalars(db.select(Attachment).filter_by(
        assignment_id=assignment.id, question_key=key, submission_id=None)).all()
    for old in earlier:
        replaced.append(old.stored_name)
        db.session.delete(old)
    attachment = Attachment(
        assignment_id=assignment.id, question_key=key, stored_name=stored,
        original_name=clean_text(Path(filename).name)[:255] or "photo", content_type=kind, size=len(data),
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


#: A photo is written under its stored name plus this, and renamed once its row is committed.
PARTIAL = ".part"


class StorageFailed(OSError):
    """A photo could not be stored (a full disk, a read-only mount, a bucket out of reach); nothing is left."""


#: HQ may extend a link past its due date (waves.extend): its photos wait this long after it.
EXTEND_GRACE = timedelta(days=30)
#: The names _store gives (finished or partial): nothing else in the store is ever deleted.
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(jpeg|png|webp|heic)(\.part)?")


@dataclass
class Purged:
    rows: int = 0
    files: int = 0
    bytes: int = 0


def purge(today: date, dry_run: bool = False) -> Purged:
    """Delete photos that can never be sent, and files no row names; return what went.

    A photo waits (no submission) while its link may still send it. Once the link is sent
    without it or cancelled, nothing will ever show it, yet it holds a shopper's picture and
    disk; past its due date HQ may still extend the link, so its photos wait EXTEND_GRACE. Files no
    row names, of any age, go too: a file takes its stored name only once its row is committed, so
    none of them is an upload on its way (a partial one deleted mid-write makes that request answer
    "try again", and nothing is lost). Rows go first, files only after the commit, as everywhere
    photos are deleted.
    """
    store = photos()
    done = Purged()
    # A link ended not_done keeps its photo: HQ reads it with the shopper's reason.
    closed = db.and_(Assignment.state != AssignmentState.not_done,
                     db.or_(Assignment.state.in_([AssignmentState.submitted, AssignmentState.cancelled]),
                            Assignment.due < today - EXTEND_GRACE))
    waiting = db.session.scalars(db.select(Attachment).join(Assignment, Attachment.assignment_id == Assignment.id)
                                 .where(Attachment.submission_id.is_(None), closed)).all()
    unsendable = {a.stored_name for a in waiting}
    done.rows = len(waiting)
    if not dry_run:
        for attachment in waiting:
            db.session.delete(attachment)
        db.session.commit()
    # The store first, the names second: a file listed here got its stored name after its
    # row was committed (_publish), so the names read next include it.
    listed = {item.name: item.size for item in store.listing() if STORED_NAME.fullmatch(item.name)}
    named = set(db.session.scalars(db.select(Attachment.stored_name)))
    doomed = {name: size for name, size in listed.items() if name in unsendable}
    for name, size in listed.items():
        final = name.removesuffix(PARTIAL)
        if final not in named:
            doomed[name] = size
        elif name != final and final not in listed and not dry_run:
            store.rename(name, final)  # written in full before its row was committed
    for name, size in doomed.items():
        if not dry_run:
            store.delete(name)
        done.files += 1
        done.bytes += size
    return done
