"""Trust flags (SPEC §8), computed once when a submission arrives and stored beside it.

A flag tells HQ what to look at; it never changes a score. ``fast``: the form took less than
the checklist's ``min_minutes``, or under a quarter of the median fill time of the latest
visits against the same version. ``outside_hours``: a visit or call at a time the branch is
closed, when HQ has set its hours. ``photo_reused``: a photo (by perceptual hash, ImageHash's
pHash, at most 4 of 64 bits apart) was sent with another submission. ``late``: sent more than
three days after the visit.
"""

from __future__ import annotations

import io
import statistics
import time as clock
from datetime import datetime
from typing import Any

import imagehash
from PIL import Image
from sqlalchemy import bindparam, delete

from . import caches
from .extensions import db
from .hours import DAYS, HoursError, is_open, parse_hours
from .models import Attachment, Branch, PhotoBand, Submission, SubmissionFlag

FLAGS = ("fast", "outside_hours", "photo_reused", "late")
#: Words HQ reads for each flag.
LABELS = {"fast": "Fast", "outside_hours": "Outside opening hours", "photo_reused": "Photo reused",
          "late": "Sent late"}
LATE_DAYS = 3
#: Under this share of the median fill time is fast.
FAST_SHARE = 0.25
#: The median is taken over this many latest visits of the version, once there are MEDIAN_FROM.
MEDIAN_OF, MEDIAN_FROM = 100, 5
#: A full window's median is kept this many seconds (caches.fill_medians).
MEDIAN_SECONDS = 60
#: Photos this many bits (of 64) apart or fewer are the same picture.
SAME_PHOTO_BITS = 4
#: Band widths of the 64-bit hash: SAME_PHOTO_BITS + 1 bands, so a near copy matches one whole band.
BANDS = (13, 13, 13, 13, 12)
#: Channels where the shopper is at the branch, or calls it, at a time of day.
TIMED_CHANNELS = ("visit", "call")

_FILL_TIMES = (db.select(Submission.first_answer_at, Submission.opened_at, Submission.submitted_at)
               .where(Submission.version_id == bindparam("version_id"), Submission.id != bindparam("submission_id"))
               .order_by(Submission.id.desc()).limit(MEDIAN_OF))


def photo_hash(data: bytes) -> str | None:
    """Return a photo's pHash as 16 hex digits, or None if it can't be read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return str(imagehash.phash(image))
    except (OSError, ValueError):
        return None


def bands(phash: str) -> list[tuple[int, int]]:
    """Split a 64-bit hash into (band, value) pairs."""
    bits, found, shift = int(phash, 16), [], 64
    for band, width in enumerate(BANDS):
        shift -= width
        found.append((band, (bits >> shift) & ((1 << width) - 1)))
    return found


def fill_minutes(first_answer_at: datetime | None, opened_at: datetime | None, submitted_at: datetime) -> float | None:
    """Minutes from the first answer (or, without JavaScript, the link's opening) to the send."""
    start = first_answer_at or opened_at
    if start is None or submitted_at < start:
        return None
    return (submitted_at - start).total_seconds() / 60


def _fast(row: dict[str, Any], submission_id: int, checklist) -> str | None:
    minutes = fill_minutes(row["first_answer_at"], row["opened_at"], row["submitted_at"])
    if minutes is None:
        return None
    if checklist.min_minutes and minutes < checklist.min_minutes:
        return f"{minutes:.1f} min to fill in (minimum {checklist.min_minutes:g})"
    median, count = _median(row["version_id"], submission_id)
    if median is not None and minutes < FAST_SHARE * median:
        return f"{minutes:.1f} min to fill in; the median of the last {count} is {median:.1f} min"
    return None


def _median(version_id: int, submission_id: int) -> tuple[float | None, int]:
    """Return the median fill time of the version's latest visits (None under MEDIAN_FROM) and their number."""
    def read() -> tuple[float | None, int]:
        earlier = [m for m in (fill_minutes(*r) for r in db.session.connection().execute(
            _FILL_TIMES, {"version_id": version_id, "submission_id": submission_id})) if m is not None]
        return (statistics.median(earlier) if len(earlier) >= MEDIAN_FROM else None), len(earlier)

    key = (version_id, int(clock.monotonic() // MEDIAN_SECONDS))
    found = caches.fill_medians.get(key, read)
    if found[1] < MEDIAN_OF:
        caches.fill_medians.forget(key)
    return found


def _outside_hours(row: dict[str, Any], branch: Branch, checklist) -> str | None:
    if checklist.channel not in TIMED_CHANNELS or not branch.opening_hours or row["visit_time"] is None:
        return None
    try:
        hours = parse_hours(branch.opening_hours)
    except HoursError:
        return None  # refused by HQ's forms; an old value must not stop a shopper's send
    day = row["visit_date"].weekday()
    if is_open(hours, day, row["visit_time"]):
        return None
    return f"{DAYS[day]} {row['visit_time'].strftime('%H:%M')}; the branch opens {branch.opening_hours}"


def _late(row: dict[str, Any]) -> str | None:
    days = (row["submitted_at"].date() - row["visit_date"]).days
    return f"sent {days} days after the visit" if days > LATE_DAYS else None


def _photo_reused(submission_id: int, attachments: list[Attachment]) -> str | None:
    connection = db.session.connection()
    found = []
    for attachment in attachments:
        if not attachment.phash:
            continue
        mine = bands(attachment.phash)
        connection.execute(delete(PhotoBand).where(PhotoBand.attachment_id == attachment.id))
        connection.execute(PhotoBand.__table__.insert(),
                           [{"attachment_id": attachment.id, "band": b, "value": v} for b, v in mine])
        candidates = connection.execute(
            db.select(Attachment.phash, Submission.reference).distinct()
            .join(PhotoBand, PhotoBand.attachment_id == Attachment.id)
            .join(Submission, Submission.id == Attachment.submission_id)
            .where(db.tuple_(PhotoBand.band, PhotoBand.value).in_(mine), Attachment.submission_id != submission_id))
        bits = int(attachment.phash, 16)
        found += [reference for phash, reference in candidates
                  if phash and bin(bits ^ int(phash, 16)).count("1") <= SAME_PHOTO_BITS]
    if not found:
        return None
    return "the same picture was sent with " + ", ".join(sorted(set(found)))


def record_flags(row: dict[str, Any], submission_id: int, branch: Branch, checklist,
                 attachments: list[Attachment], resend: bool = False) -> list[str]:
    """Compute and store a submission's flags (a resend keeps its first ``fast``); return them."""
    computed = {
        "fast": None if resend else _fast(row, submission_id, checklist),
        "outside_hours": _outside_hours(row, branch, checklist),
        "photo_reused": _photo_reused(submission_id, attachments),
        "late": _late(row),
    }
    connection = db.session.connection()
    if resend:
        connection.execute(delete(SubmissionFlag).where(SubmissionFlag.submission_id == submission_id,
                                                        SubmissionFlag.flag != "fast"))
    rows = [{"submission_id": submission_id, "flag": flag, "detail": detail[:500]}
            for flag, detail in computed.items() if detail]
    if rows:
        connection.execute(SubmissionFlag.__table__.insert(), rows)
    return [r["flag"] for r in rows]
