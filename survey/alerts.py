"""E-mail alerts (SPEC §8): a counted visit with a critical failure, or a score below
``SURVEY_ALERT_BELOW``, e-mails its region's active managers, once.

How an alert travels (the rules of survey/jobs.py):

1. ``visit_counted`` writes an ``Alert`` row (state ``pending``) in the transaction that makes
   the visit count. Nothing else happens in that request: no queue, no mail server.
2. The worker's ``sweep`` (every minute) queues ``send_alert(id)`` for each pending row whose
   time has come.
3. ``send_alert`` claims the row (``pending`` -> ``sending``, one conditional UPDATE, committed)
   before it talks to the mail server, so of two jobs for one alert only one sends.
4. Refused or timed out before the message was handed over: ``pending`` again, the wait doubling
   from SURVEY_ALERT_RETRY_SECONDS up to an hour; after SURVEY_ALERT_ATTEMPTS tries, ``failed``.
   Cut off while handing it over, or a worker that died mid-send (found by the sweep): ``unknown``,
   never tried again on its own: the message may have arrived, and an alert goes at most once.
   HQ may send a failed or unknown alert again from /hq/alerts (same Message-ID).
5. A visit that stopped counting before its e-mail left: ``cancelled``.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from flask import Flask, current_app, render_template
from huey import crontab
from sqlalchemy import bindparam

from . import mail
from .caches import checklist_of
from .extensions import db
from .i18n import mail_language
from .jobs import describes_work, enqueue, job, periodic
from .models import Alert, AlertState, ReviewState, Role, Submission, User, user_region, utcnow

log = logging.getLogger(__name__)

#: Where a visit is read on screen (the reports' visit page); the one place alerts spell it.
VISIT_PATH = "/reports/visits/{reference}"
#: The longest a try may wait between its retries.
LONGEST_WAIT = timedelta(hours=1)
#: Alerts queued per sweep; the rest wait for the next minute.
SWEEP_BATCH = 500
#: At most this many questions are listed in one e-mail (critical failures first).
LISTED = 10


def visit_url(reference: str) -> str:
    """Return the address of a visit's page on the configured public origin."""
    return current_app.config["SURVEY_BASE_URL"] + VISIT_PATH.format(reference=reference)


def alert_reason(score: float | None, critical_fail: bool, below: float | None) -> str | None:
    """Return why a counted visit alerts (``critical`` first, else ``low_score``), or None."""
    if critical_fail:
        return "critical"
    if below is not None and score is not None and score * 100 < below:
        return "low_score"
    return None


_INSERT = Alert.__table__.insert()


def visit_counted(submission_id: int, facts: dict[str, Any] | None = None, *, arriving: bool = False) -> bool:
    """Write the visit's alert if it has one due; call it before the commit that makes the visit count.

    The contract, for every path by which a visit starts to count (arrival under ``review: auto``,
    HQ's approval under ``review: hq``, an appeal denied...): call it inside that transaction,
    before its commit, so the alert and the counting are stored together or not at all; it only
    writes a row (the worker sends it), so it costs a request one INSERT when it alerts and
    nothing else. ``facts`` may give the submission's ``score`` and ``critical_fail`` when the
    caller has them (saves a query). ``arriving=True`` says the submission was inserted in this
    very transaction, so it can have no alert yet; otherwise an alert already written for the
    visit (it counted before, was set aside, counts again) is left as it is: one e-mail per visit.
    Return whether an alert was written.
    """
    if facts is None:
        facts = db.session.execute(db.select(Submission.score, Submission.critical_fail)
                                   .where(Submission.id == submission_id)).mappings().one()
    reason = alert_reason(facts["score"], facts["critical_fail"], current_app.config["SURVEY_ALERT_BELOW"])
    if reason is None:
        return False
    if not arriving and db.session.scalar(db.select(Alert.id).where(Alert.submission_id == submission_id)):
        return False
    now = utcnow()
    db.session.connection().execute(_INSERT, {
        "submission_id": submission_id, "reason": reason, "state": AlertState.pending.name, "attempts": 0,
        "next_attempt_at": now, "created_at": now})
    return True


# ---------------------------------------------------------------- the worker's side

def _lost_after() -> timedelta:
    """Say when a ``sending`` row has lost its worker: every step of a send has SURVEY_MAIL_TIMEOUT,
    and a send is a handful of steps, so ten of them (at least five minutes) is past any live one."""
    return timedelta(seconds=max(300.0, 10 * current_app.config["SURVEY_MAIL_TIMEOUT"]))


_table = Alert.__table__
_CLAIM = (_table.update()
          .where(_table.c.id == bindparam("alert_id"), _table.c.state == AlertState.pending.name,
                 _table.c.next_attempt_at <= bindparam("now"))
          .values(state=AlertState.sending.name, attempts=_table.c.attempts + 1, claimed_at=bindparam("now")))


@periodic(crontab())
def sweep() -> None:
    """Queue every alert whose time has come; mark ``unknown`` those whose worker died mid-send."""
    now = utcnow()
    lost = db.session.execute(
        _table.update().where(_table.c.state == AlertState.sending.name,
                              _table.c.claimed_at < now - _lost_after())
        .values(state=AlertState.unknown.name,
                last_error="the worker stopped while sending: the e-mail may have arrived")).rowcount
    due = db.session.scalars(db.select(Alert.id).where(Alert.state == AlertState.pending, Alert.next_attempt_at <= now)
                             .order_by(Alert.next_attempt_at).limit(SWEEP_BATCH)).all()
    db.session.commit()
    if lost:
        log.warning("%d alert(s) were being sent by a worker that stopped; marked unknown", lost)
    for alert_id in due:
        enqueue("send_alert", alert_id)


@job
def send_alert(alert_id: int) -> None:
    """Claim one alert and try to send it once; record what happened."""
    now = utcnow()
    claimed = db.session.execute(_CLAIM, {"alert_id": alert_id, "now": now}).rowcount
    db.session.commit()  # the claim is stored before anything leaves: a crash from here on is "unknown"
    if claimed != 1:
        return  # another job has it, or it is no longer waiting
    alert = db.session.get(Alert, alert_id)
    submission = alert.submission
    if not still_counts(submission):
        record(alert, AlertState.cancelled, "the visit stopped counting before the e-mail left", "alert")
        return
    if alert_reason(submission.score, submission.critical_fail, current_app.config["SURVEY_ALERT_BELOW"]) is None:
        # An appeal upheld before the e-mail left can take the failure away: managers must not
        # be sent to a visit that no longer shows what the message says.
        record(alert, AlertState.cancelled, "the visit no longer fails (changed on appeal before the e-mail left)",
               "alert")
        return
    try:
        message = build_message(alert, submission)
    except NoRecipients as exc:
        record(alert, AlertState.failed, str(exc), "alert")
        return
    alert.recipients = message["To"]
    alert.message_id = message["Message-ID"]
    db.session.commit()
    where = hand_over(alert, message, AlertState, "alert")
    if where:
        log.info("alert %d for visit %s sent to %s (%s)", alert.id, submission.reference, alert.recipients, where)


def still_counts(submission: Submission) -> bool:
    """Say whether the visit still counts in reports (HQ may have rejected it since it arrived)."""
    return submission.review == ReviewState.counted


def next_try(attempts: int) -> datetime | None:
    """When an e-mail refused on its ``attempts``-th try is tried again, or None: give up.

    The one rule for every e-mail the worker sends (alerts, the monthly delivery): the wait
    doubles from SURVEY_ALERT_RETRY_SECONDS up to an hour, SURVEY_ALERT_ATTEMPTS tries in all.
    """
    config = current_app.config
    if attempts >= config["SURVEY_ALERT_ATTEMPTS"]:
        return None
    wait = timedelta(seconds=config["SURVEY_ALERT_RETRY_SECONDS"] * 2 ** (attempts - 1))
    return utcnow() + min(wait, LONGEST_WAIT)


def hand_over(row: Any, message: EmailMessage, states: type[enum.Enum], what: str) -> str | None:
    """Send a claimed row's message once and record how it went; return where it went, if sent.

    The one rule for every e-mail the worker sends (an ``Alert``, a ``DeliveryMail``: rows with
    ``state``, ``attempts``, ``next_attempt_at``, ``last_error`` and ``sent_at``, whose ``states``
    have ``pending``, ``sent``, ``failed`` and ``unknown``): a refusal is tried again later, a
    connection cut while the message is handed over is ``unknown`` and never tried again by itself.
    """
    try:
        where = deliver(message)
    except mail.Refused as exc:
        refused(row, states, str(exc), what)
    except mail.Unknown as exc:
        record(row, states.unknown, str(exc), what)
    except NoMailServer as exc:
        record(row, states.failed, str(exc), what)
    else:
        row.sent_at = utcnow()
        record(row, states.sent, None, what)
        return where
    return None


def refused(row: Any, states: type[enum.Enum], error: str, what: str) -> None:
    """Record a refusal: wait and try again (``next_try``), or give up as failed."""
    when = next_try(row.attempts)
    if when is None:
        record(row, states.failed, f"{error} (gave up after {row.attempts} tries)", what)
        return
    row.next_attempt_at = when
    record(row, states.pending, error, what)


def record(row: Any, state: enum.Enum, error: str | None, what: str) -> None:
    """Store an e-mail row's new state and error; a failed or unknown one is logged for HQ."""
    row.state, row.last_error = state, error[:500] if error else None
    db.session.commit()
    if state.name in ("failed", "unknown"):
        log.warning("%s %d %s: %s", what, row.id, state.value, error)


def compose(kind: str, context: dict[str, Any], language: str, to: str, message_id: str | None,
            id_hint: str) -> EmailMessage:
    """Render ``mail/<kind>_subject.txt``, ``<kind>.txt`` and ``<kind>.html`` in ``language`` into
    one message; ``message_id`` is kept when sending again, so a copy is the same message."""
    with mail_language(language):
        subject = render_template(f"mail/{kind}_subject.txt", **context).strip()
        text = render_template(f"mail/{kind}.txt", **context)
        html = render_template(f"mail/{kind}.html", **context)
    sender = current_app.config["SURVEY_MAIL_FROM"]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = message_id or make_msgid(id_hint, domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_again(alert: Alert) -> bool:
    """Put a failed or unknown alert back in line and queue it now (HQ's button); False if it can't be."""
    if alert.state not in (AlertState.failed, AlertState.unknown):
        return False
    alert.state, alert.attempts, alert.next_attempt_at = AlertState.pending, 0, utcnow()
    db.session.commit()
    enqueue("send_alert", alert.id)
    return True


# ---------------------------------------------------------------- the message

class NoRecipients(Exception):
    """The visit's region has no active manager to write to."""


class NoMailServer(Exception):
    """Production without MAIL_URL: nowhere to send."""


def recipients(region_id: int) -> list[str]:
    """Return the addresses of the active managers of a region."""
    return list(db.session.scalars(
        db.select(User.email).join(user_region, user_region.c.user_id == User.id)
        .where(user_region.c.region_id == region_id, User.role == Role.manager, User.active)
        .order_by(User.email)))


def build_message(alert: Alert, submission: Submission) -> EmailMessage:
    """Compose the alert in the checklist's language (managers have none of their own yet)."""
    branch = submission.branch
    to = recipients(branch.region_id)
    if not to:
        raise NoRecipients(f"region {branch.region.code} has no active manager to write to")
    checklist = checklist_of(submission.version)
    context = {"alert": alert, "submission": submission, "branch": branch, "region": branch.region,
               "checklist": checklist, "questions": failed_questions(submission, checklist),
               "url": visit_url(submission.reference), "brand": current_app.config["SURVEY_BRAND"]}
    return compose("alert", context, checklist.language, ", ".join(to), alert.message_id, f"alert-{alert.id}")


def failed_questions(submission: Submission, checklist) -> list[dict]:
    """The questions the visit lost points on, critical failures first, with the shopper's answers."""
    questions = {q.key: q for _, q in checklist.questions()}
    lost = [a for a in submission.answers
            if a.critical_fail or (a.possible and a.earned is not None and a.earned < a.possible)]
    lost.sort(key=lambda a: (not a.critical_fail, a.position))
    rows = []
    for answer in lost[:LISTED]:
        question = questions.get(answer.question_key)
        rows.append({"text": question.text if question else answer.question_key,
                     "answer": question.kind.display(question, answer.value) if question else answer.value,
                     "comment": answer.comment, "critical": answer.critical_fail, "repeat": answer.repeat})
    return rows


def deliver(message: EmailMessage) -> str:
    """Send through MAIL_URL, or write to the outbox in development; say where it went."""
    config = current_app.config
    if config["MAIL_URL"]:
        server = mail.parse_mail_url(config["MAIL_URL"])
        mail.send(message, server, config["SURVEY_MAIL_TIMEOUT"])
        return str(server)
    if config["SURVEY_DEVELOPMENT"]:
        return str(mail.write_outbox(message, Path(config["SURVEY_OUTBOX_DIR"])))
    raise NoMailServer("MAIL_URL is not set: no e-mail can be sent")


@describes_work
def where_mail_goes(app: Flask) -> list[str]:
    config = app.config
    if config["MAIL_URL"]:
        return [f"Mail goes to {mail.parse_mail_url(config['MAIL_URL'])}."]
    if config["SURVEY_DEVELOPMENT"]:
        return [f"Mail is written to {config['SURVEY_OUTBOX_DIR']}/ (MAIL_URL is not set)."]
    return ["Warning: MAIL_URL is not set: alerts will be marked failed, nothing will be sent."]
