"""Monthly delivery of report PDFs (issue 15.5) and batches of every branch's PDF (issue 16.3).

A batch is rows, and the worker's jobs act on rows (the rules of survey/jobs.py):

- ``start_batch`` writes one ``ReportBatch``, one ``BatchPdf`` per PDF to make (every active
  branch; for a delivery, every active region too) and, for a delivery, one ``DeliveryMail`` per
  active manager who has not turned it off, linked to the PDFs of their regions. Each PDF is one
  row, so it is made once and shared by every manager who gets it. Then it queues
  ``make_pdf(id)`` for each PDF row.
- ``make_pdf`` claims its row (``due`` -> ``making``, one conditional UPDATE), renders it (the
  reports part registers the renderer: survey never imports reports), writes it to the objects
  store under a name of its own try, and marks it ``done`` only if its claim still holds. Any
  worker may take any PDF, so several workers share a batch.
- When the last PDF an e-mail needs is settled, the e-mail becomes ``pending`` and
  ``send_delivery(id)`` is queued; it claims, sends and records like an alert (survey/alerts.py):
  sent at most once, a cut-off send is ``unknown`` and waits for HQ.
- The ``delivery_sweep`` (every minute) puts back PDFs whose worker died (``making`` for longer
  than SURVEY_PDF_LOST_SECONDS), queues again PDFs whose message was lost, sends e-mails due a
  retry, marks ``unknown`` e-mails whose worker died mid-send, and on HQ's day of the month starts
  last month's delivery (once: the month is claimed in ``job_run``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from flask import Flask, current_app
from flask_babel import format_date
from huey import crontab
from sqlalchemy import bindparam, exists, func

from .alerts import compose, hand_over, record, refused
from .extensions import db
from .i18n import mail_language
from .jobs import claim_day, enqueue, job, periodic
from .models import (
    BatchPdf,
    Branch,
    DeliveryMail,
    DeliverySettings,
    JobRun,
    MailState,
    PdfState,
    Region,
    ReportBatch,
    Role,
    User,
    delivery_mail_pdf,
    user_region,
    utcnow,
)
from .storage import StoreError, objects

log = logging.getLogger(__name__)

#: Folder of the objects store that holds the batches' PDFs.
FOLDER = "reports"
#: Tries of one PDF before it is marked failed (a render that raises will raise again).
PDF_ATTEMPTS = 3
#: Where a delivered PDF is opened when it is linked, not attached (reports/delivered.py serves it).
PDF_PATH = "/reports/deliveries/{pdf_id}/{filename}"
#: How the log names a manager's monthly e-mail.
WHAT = "monthly e-mail"
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
LANGUAGES = {"en": "English", "de": "German"}


class MonthError(ValueError):
    """A month a person typed that can't be delivered; the message says why."""


def parse_month(text: str | None, today: date | None = None) -> date:
    """Read ``YYYY-MM`` into its first day; blank means last month. Only a month that has ended."""
    today = today or date.today()
    this_month = today.replace(day=1)
    if text is None or not text.strip():
        return (this_month - timedelta(days=1)).replace(day=1)
    found = MONTH_RE.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or not 1900 <= int(found.group(1)) <= 2999:
        raise MonthError(f"'{text.strip()[:20]}' is not a month: write it as YYYY-MM, e.g. "
                         f"{(this_month - timedelta(days=1)):%Y-%m}.")
    first = date(int(found.group(1)), int(found.group(2)), 1)
    if first >= this_month:
        raise MonthError(f"{first:%Y-%m} has not ended yet: a delivery covers a month that is over.")
    return first


def month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


# ---------------------------------------------------------------- settings

def settings() -> DeliverySettings:
    """HQ's delivery settings; until HQ saves them, the delivery is off (a new installation must not
    mail last month's reports the minute its worker starts)."""
    row = db.session.get(DeliverySettings, 1)
    return row if row is not None else DeliverySettings(id=1, enabled=False, day=1, attach_limit_kb=10240,
                                                        language="en")


def save_settings(enabled: bool, day: int, attach_limit_kb: int, language: str) -> None:
    row = db.session.get(DeliverySettings, 1)
    if row is None:
        row = DeliverySettings(id=1)
        db.session.add(row)
    row.enabled, row.day, row.attach_limit_kb, row.language = enabled, day, attach_limit_kb, language
    db.session.commit()


# ---------------------------------------------------------------- starting a batch

#: ``render(kind, code, start, end) -> (file name, PDF bytes)``, registered by the reports part.
Renderer = Callable[[str, str, date, date], tuple[str, bytes]]


def register_renderer(app: Flask, render: Renderer) -> None:
    """Say how PDFs are made (reports.init_app): the flow runs survey -> reports, never back."""
    app.extensions["report_renderer"] = render


@dataclass
class Started:
    batch: ReportBatch
    branches: int
    regions: int
    mails: int


def start_batch(first: date, kind: str = "delivery", origin: str = "command line") -> Started:
    """Write a batch's rows for the month starting ``first`` and queue its PDFs; say what it holds.

    ``kind="pdfs"``: every active branch's PDF. ``kind="delivery"``: those, every active
    region's, and an e-mail to each active manager who gets the monthly delivery.
    """
    batch = ReportBatch(kind=kind, month=f"{first:%Y-%m}", origin=origin, created_at=utcnow())
    db.session.add(batch)
    db.session.flush()
    now = utcnow()
    branches = db.session.execute(
        db.select(Branch.code, Branch.region_id).join(Region).where(Branch.active, Region.active)
        .order_by(Branch.code)).all()
    rows = [{"batch_id": batch.id, "kind": "branch", "code": code, "region_id": region_id,
             "state": PdfState.due.name, "attempts": 0, "queued_at": now} for code, region_id in branches]
    regions = []
    if kind == "delivery":
        regions = db.session.execute(db.select(Region.code, Region.id).where(Region.active)
                                     .order_by(Region.code)).all()
        rows += [{"batch_id": batch.id, "kind": "region", "code": code, "region_id": region_id,
                  "state": PdfState.due.name, "attempts": 0, "queued_at": now} for code, region_id in regions]
    if rows:
        db.session.execute(BatchPdf.__table__.insert(), rows)
    mails = 0
    if kind == "delivery":
        mails = _add_mails(batch, now)
    db.session.commit()
    for pdf_id in db.session.scalars(db.select(BatchPdf.id).where(BatchPdf.batch_id == batch.id)
                                     .order_by(BatchPdf.id)):
        enqueue("make_pdf", pdf_id)
    log.info("batch %d (%s %s): %d branch and %d region PDFs, %d e-mails queued", batch.id, kind, batch.month,
             len(branches), len(regions), mails)
    return Started(batch, len(branches), len(regions), mails)


def _add_mails(batch: ReportBatch, now: datetime) -> int:
    """One e-mail per active manager with the delivery on and a region, linked to the PDFs they get."""
    managers = db.session.scalars(
        db.select(User.id).where(User.role == Role.manager, User.active, User.monthly_delivery,
                                 exists().where(user_region.c.user_id == User.id)).order_by(User.id)).all()
    if not managers:
        return 0
    db.session.execute(DeliveryMail.__table__.insert(), [
        {"batch_id": batch.id, "user_id": user_id, "state": MailState.waiting.name, "attempts": 0,
         "next_attempt_at": now, "linked": False} for user_id in managers])
    # Each e-mail gets the PDFs of its manager's regions: the region's own and its branches'.
    pairs = db.select(DeliveryMail.id, BatchPdf.id).join(
        user_region, user_region.c.user_id == DeliveryMail.user_id).join(
        BatchPdf, (BatchPdf.region_id == user_region.c.region_id) & (BatchPdf.batch_id == batch.id)).where(
        DeliveryMail.batch_id == batch.id)
    db.session.execute(delivery_mail_pdf.insert().from_select(["mail_id", "pdf_id"], pairs))
    # A manager whose regions are all closed has nothing to get: no empty e-mail.
    table = DeliveryMail.__table__
    empty = db.session.execute(table.delete().where(
        table.c.batch_id == batch.id, ~exists().where(delivery_mail_pdf.c.mail_id == table.c.id))).rowcount
    return len(managers) - empty


def maybe_start_monthly(today: date) -> ReportBatch | None:
    """Start last month's delivery if today is HQ's day (or past it) and this month has none yet."""
    config = settings()
    if not config.enabled or today.day < config.day:
        return None
    first_of_month = today.replace(day=1)
    if db.session.get(JobRun, ("monthly_delivery", first_of_month)) is not None:
        return None
    if not claim_day("monthly_delivery", first_of_month):
        return None
    return start_batch(parse_month(None, today), "delivery", "schedule").batch


# ---------------------------------------------------------------- making the PDFs

_pdf = BatchPdf.__table__
_CLAIM_PDF = (_pdf.update().where(_pdf.c.id == bindparam("pdf_id"), _pdf.c.state == PdfState.due.name)
              .values(state=PdfState.making.name, attempts=_pdf.c.attempts + 1, claimed_at=bindparam("now")))


def stored_name(pdf_id: int, batch_id: int, attempt: int) -> str:
    """Each try writes a name of its own: a try that lost its claim never overwrites the winner's file."""
    return f"{batch_id}-{pdf_id}-{attempt}.pdf"


@job
def make_pdf(pdf_id: int) -> None:
    """Claim one PDF of a batch, make it once, store it, and release the e-mails it completes."""
    claimed = db.session.execute(_CLAIM_PDF, {"pdf_id": pdf_id, "now": utcnow()}).rowcount
    db.session.commit()
    if claimed != 1:
        return  # made, being made, or gone
    pdf = db.session.get(BatchPdf, pdf_id)
    attempt, batch_id = pdf.attempts, pdf.batch_id
    first = date.fromisoformat(pdf.batch.month + "-01")
    store = objects(FOLDER)
    name = stored_name(pdf.id, batch_id, attempt)
    try:
        filename, body = current_app.extensions["report_renderer"](pdf.kind, pdf.code, first, month_end(first))
        store.write(name, body)
    except Exception as exc:  # a render or store that raises: tried again, then failed with its reason
        db.session.rollback()
        log.exception("PDF %s %s of batch %d, try %d", pdf.kind, pdf.code, batch_id, attempt)
        again = attempt < PDF_ATTEMPTS
        done = db.session.execute(
            _pdf.update().where(_pdf.c.id == pdf_id, _pdf.c.state == PdfState.making.name,
                                _pdf.c.attempts == attempt)
            .values(state=(PdfState.due if again else PdfState.failed).name, queued_at=utcnow(),
                    last_error=f"{type(exc).__name__}: {exc}"[:500])).rowcount
        db.session.commit()
        if done and again:
            enqueue("make_pdf", pdf_id)
        elif done:
            release_mails(batch_id)
        return
    done = db.session.execute(
        _pdf.update().where(_pdf.c.id == pdf_id, _pdf.c.state == PdfState.making.name, _pdf.c.attempts == attempt)
        .values(state=PdfState.done.name, made_at=utcnow(), stored_name=name, filename=filename, size=len(body),
                last_error=None)).rowcount
    db.session.commit()
    if done != 1:  # the sweep gave it to another worker meanwhile: theirs counts, ours goes
        _forget(store, name)
        return
    for earlier in range(1, attempt):  # a try killed after writing its file left it behind
        _forget(store, stored_name(pdf_id, batch_id, earlier))
    release_mails(batch_id)


def _forget(store, name: str) -> None:
    try:
        store.delete(name)
    except StoreError as exc:
        log.warning("could not delete %s: %s", name, exc)


_UNSETTLED = (PdfState.due.name, PdfState.making.name)


def release_mails(batch_id: int) -> None:
    """Queue the batch's e-mails whose PDFs are all settled (made, or failed for good)."""
    unsettled = (db.select(delivery_mail_pdf.c.mail_id)
                 .join(BatchPdf, BatchPdf.id == delivery_mail_pdf.c.pdf_id)
                 .where(delivery_mail_pdf.c.mail_id == DeliveryMail.id, BatchPdf.state.in_(_UNSETTLED)))
    ready = db.session.scalars(db.select(DeliveryMail.id).where(
        DeliveryMail.batch_id == batch_id, DeliveryMail.state == MailState.waiting, ~unsettled.exists())).all()
    for mail_id in ready:
        moved = db.session.execute(
            _mail.update().where(_mail.c.id == mail_id, _mail.c.state == MailState.waiting.name)
            .values(state=MailState.pending.name, next_attempt_at=utcnow())).rowcount
        db.session.commit()
        if moved:
            enqueue("send_delivery", mail_id)
    db.session.commit()


# ---------------------------------------------------------------- sending the e-mails

_mail = DeliveryMail.__table__
_CLAIM_MAIL = (_mail.update()
               .where(_mail.c.id == bindparam("mail_id"), _mail.c.state == MailState.pending.name,
                      _mail.c.next_attempt_at <= bindparam("now"))
               .values(state=MailState.sending.name, attempts=_mail.c.attempts + 1, claimed_at=bindparam("now")))


class NotMade(Exception):
    """A PDF the e-mail needs could not be made."""


def pdf_url(pdf: BatchPdf) -> str:
    return current_app.config["SURVEY_BASE_URL"] + PDF_PATH.format(pdf_id=pdf.id, filename=pdf.filename)


@job
def send_delivery(mail_id: int) -> None:
    """Claim one manager's monthly e-mail and try to send it once; record what happened."""
    claimed = db.session.execute(_CLAIM_MAIL, {"mail_id": mail_id, "now": utcnow()}).rowcount
    db.session.commit()  # stored before anything leaves: a crash from here on is "unknown"
    if claimed != 1:
        return
    row = db.session.get(DeliveryMail, mail_id)
    if not (row.user.active and row.user.monthly_delivery):  # changed since the batch started
        record(row, MailState.failed, "not sent: the account was deactivated or turned the monthly e-mail off", WHAT)
        return
    try:
        message = build_message(row)
    except NotMade as exc:
        record(row, MailState.failed, str(exc), WHAT)
        return
    except StoreError as exc:
        refused(row, MailState, f"the stored PDFs could not be read: {exc}", WHAT)
        return
    row.recipient, row.message_id = message["To"], message["Message-ID"]
    db.session.commit()
    where = hand_over(row, message, MailState, WHAT)
    if where:
        log.info("monthly e-mail %d of batch %d sent to %s (%s)", row.id, row.batch_id, row.recipient, where)


def build_message(row: DeliveryMail) -> EmailMessage:
    """Compose one manager's e-mail: their PDFs attached, or linked when over HQ's size limit."""
    pdfs = list(row.pdfs)
    missing = [p for p in pdfs if p.state != PdfState.done]
    if missing:
        raise NotMade("not made: " + ", ".join(f"{p.kind} {p.code} ({p.last_error or p.state.value})"
                                               for p in missing))
    config = settings()
    total = sum(p.size or 0 for p in pdfs)
    row.linked = total > config.attach_limit_kb * 1024
    first = date.fromisoformat(row.batch.month + "-01")
    regions = sorted({p.region for p in pdfs}, key=lambda r: r.code)
    context = {"user": row.user, "month": first, "language": config.language, "regions": regions, "linked": row.linked,
               "pdfs": [{"kind": p.kind, "code": p.code, "filename": p.filename, "size": p.size,
                         "url": pdf_url(p)} for p in pdfs],
               "brand": current_app.config["SURVEY_BRAND"],
               "settings_url": current_app.config["SURVEY_BASE_URL"] + "/account/delivery"}
    with mail_language(config.language):
        context["month_label"] = format_date(first, "MMMM yyyy")
    message = compose("delivery", context, config.language, row.user.email, row.message_id, f"delivery-{row.id}")
    if not row.linked:
        store = objects(FOLDER)
        for pdf in pdfs:
            body = store.read(pdf.stored_name)
            if body is None:
                raise StoreError(f"{pdf.filename} is missing from the store")
            message.add_attachment(body, maintype="application", subtype="pdf", filename=pdf.filename)
    return message


def _lost_mail_after() -> timedelta:
    return timedelta(seconds=max(300.0, 10 * current_app.config["SURVEY_MAIL_TIMEOUT"]))


def send_again(row: DeliveryMail) -> str | None:
    """HQ's "Send again" for one manager's e-mail; return why it can't be, or None when queued.

    A sent e-mail may go again too (a manager who lost it): HQ decides, as for an unknown one.
    PDFs that failed are made again first.
    """
    if row.state not in (MailState.sent, MailState.failed, MailState.unknown):
        return f"it is {row.state.value}; only a sent, failed or unknown e-mail can be sent again"
    failed = [p for p in row.pdfs if p.state == PdfState.failed]
    now = utcnow()
    for pdf in failed:
        pdf.state, pdf.attempts, pdf.queued_at, pdf.last_error = PdfState.due, 0, now, None
    row.state = MailState.waiting if failed else MailState.pending
    row.attempts, row.next_attempt_at, row.last_error = 0, now, None
    db.session.commit()
    for pdf in failed:
        enqueue("make_pdf", pdf.id)
    if not failed:
        enqueue("send_delivery", row.id)
    return None


# ---------------------------------------------------------------- the sweep

def _lost_pdf_after() -> timedelta:
    return timedelta(seconds=current_app.config["SURVEY_PDF_LOST_SECONDS"])


@periodic(crontab())
def delivery_sweep() -> None:
    """Put back PDFs and e-mails whose worker or message was lost; start the month's delivery."""
    now = utcnow()
    lost_pdfs = db.session.execute(
        _pdf.update().where(_pdf.c.state == PdfState.making.name, _pdf.c.claimed_at < now - _lost_pdf_after())
        .values(state=PdfState.due.name, queued_at=None)).rowcount
    db.session.execute(
        _mail.update().where(_mail.c.state == MailState.sending.name, _mail.c.claimed_at < now - _lost_mail_after())
        .values(state=MailState.unknown.name,
                last_error="the worker stopped while sending: the e-mail may have arrived"))
    db.session.commit()
    if lost_pdfs:
        log.warning("%d PDF(s) were being made by a worker that stopped; queued again", lost_pdfs)
    # A due PDF whose message is lost: the queue is empty, or it was queued long ago (a long batch
    # keeps the queue busy, so its due rows are not queued again every minute).
    idle = current_app.extensions["jobs"].huey.pending_count() == 0
    stale = db.select(BatchPdf.id).where(BatchPdf.state == PdfState.due)
    if not idle:
        stale = stale.where((BatchPdf.queued_at.is_(None)) | (BatchPdf.queued_at < now - _lost_pdf_after()))
    again = db.session.scalars(stale.order_by(BatchPdf.id).limit(5000)).all()
    if again:
        db.session.execute(_pdf.update().where(_pdf.c.id.in_(again)).values(queued_at=now))
    due_mails = db.session.scalars(db.select(DeliveryMail.id).where(
        DeliveryMail.state == MailState.pending, DeliveryMail.next_attempt_at <= now).limit(500)).all()
    waiting_batches = db.session.scalars(db.select(DeliveryMail.batch_id).where(
        DeliveryMail.state == MailState.waiting).distinct()).all()
    db.session.commit()
    for pdf_id in again:
        enqueue("make_pdf", pdf_id)
    for mail_id in due_mails:
        enqueue("send_delivery", mail_id)
    for batch_id in waiting_batches:  # a worker that died between "done" and releasing its e-mails
        release_mails(batch_id)
    batch = maybe_start_monthly(now.date())
    if batch is not None:
        log.info("monthly delivery of %s started (batch %d)", batch.month, batch.id)


# ---------------------------------------------------------------- what HQ sees

@dataclass
class Progress:
    pdfs: dict[str, int]
    mails: dict[str, int]

    @property
    def pdfs_total(self) -> int:
        return sum(self.pdfs.values())

    @property
    def mails_total(self) -> int:
        return sum(self.mails.values())

    @property
    def finished(self) -> bool:
        return (not any(self.pdfs.get(s.name) for s in (PdfState.due, PdfState.making))
                and not any(self.mails.get(s.name) for s in (MailState.waiting, MailState.pending, MailState.sending)))


def progress(batch_ids: list[int]) -> dict[int, Progress]:
    """Count each batch's PDFs and e-mails by state: two grouped queries for a page of batches."""
    out = {batch_id: Progress({}, {}) for batch_id in batch_ids}
    for batch_id, state, n in db.session.execute(
            db.select(BatchPdf.batch_id, BatchPdf.state, func.count()).where(BatchPdf.batch_id.in_(batch_ids))
            .group_by(BatchPdf.batch_id, BatchPdf.state)):
        out[batch_id].pdfs[state.name] = n
    for batch_id, state, n in db.session.execute(
            db.select(DeliveryMail.batch_id, DeliveryMail.state, func.count())
            .where(DeliveryMail.batch_id.in_(batch_ids)).group_by(DeliveryMail.batch_id, DeliveryMail.state)):
        out[batch_id].mails[state.name] = n
    return out


# ---------------------------------------------------------------- keeping the store's size

#: PDFs whose rows are cleared, then files deleted, per round of the clean-up.
PURGE_CHUNK = 500


def purge_old_pdfs(now: datetime | None = None) -> int:
    """Delete the stored PDFs of batches older than SURVEY_BATCH_KEEP_DAYS; return how many.

    A chain's month is two thousand PDFs, so they can't be kept for ever. The rows stay (HQ's
    record of what was sent, and the page an old e-mail's link opens), without a stored name.
    Each row is cleared and committed before its file goes: a crash in between leaves a file no
    row names (space, not harm), never a link to a file that is gone.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["SURVEY_BATCH_KEEP_DAYS"])
    store, removed = objects(FOLDER), 0
    while True:
        rows = db.session.execute(
            db.select(BatchPdf.id, BatchPdf.stored_name).join(ReportBatch)
            .where(ReportBatch.created_at < cutoff, BatchPdf.stored_name.is_not(None)).limit(PURGE_CHUNK)).all()
        if not rows:
            return removed
        db.session.execute(_pdf.update().where(_pdf.c.id.in_([r.id for r in rows])).values(stored_name=None))
        db.session.commit()
        for row in rows:
            try:
                store.delete(row.stored_name)
            except StoreError as exc:
                log.warning("batch PDF %s (%s) not deleted: %s", row.id, row.stored_name, exc)
        removed += len(rows)


@periodic(crontab(minute="27", hour="3"))
def batch_purge() -> None:
    """Delete old batch PDFs once a day at 03:27 UTC (after the uploads purge)."""
    today = date.today()
    if not claim_day("batch_purge", today):
        return
    removed = purge_old_pdfs()
    log.info("batch purge: %d PDFs older than %d days deleted", removed,
             current_app.config["SURVEY_BATCH_KEEP_DAYS"])
