"""The shopper's pages: ``/s/<token>`` shows the checklist, takes it once, then says it arrived."""

from __future__ import annotations

import functools
import re
import secrets
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext
from flask_wtf.csrf import generate_csrf
import limits
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from .. import caches
from ..caches import checklist_of
from ..extensions import db, limiter
from ..i18n import speak_language
from ..models import Assignment, AssignmentState, Submission, hash_token
from ..submissions import (
    TOKEN_RE,
    find_assignment,
    latest_version,
    end_not_done,
    needs_pinning,
    pin_version,
    record_submission,
)
from . import drafts, fields, forms, outcomes, uploads

bp = Blueprint("shopper", __name__)
#: How the question macro asks a question (its type's field builder): a template global, since
#: HQ's preview and tests render the shopper's templates too.
bp.add_app_template_global(fields.builder, "ask")


def get_assignment_or_404(token: str) -> Assignment:
    """Return the link's assignment, and let its pages speak its checklist's language; else 404.

    An address that keeps naming unknown links gets 429 first.
    """
    probing("test")
    assignment = find_assignment(token)
    if assignment is None:
        probing("hit")
        abort(404)
    speak_language(lambda: _language_of(assignment))
    return assignment


def _language_of(assignment: Assignment) -> str:
    # Asked once a word needs translating: by then a first opening has pinned its version.
    version = assignment.version or latest_version(assignment.checklist_id)
    return checklist_of(version).language if version is not None else "en"


#: Unknown links per address: a shop's Wi-Fi shares one address, but nobody mistypes thirty links
#: a minute, while someone guessing tokens would (192 random bits can't be guessed, but each try
#: costs a query and fills the logs).
PROBE_LIMIT = "30 per minute"


def probing(how: str) -> None:
    """``test``: refuse with 429 an address over PROBE_LIMIT; ``hit``: count an unknown link.

    Asked before the look-up, so a refused guess costs no query. A storage that fails lets the
    request through, as in ``throttle``.
    """
    if not (limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True)):
        return
    item, address = _parsed_limit(PROBE_LIMIT), request.remote_addr or "unknown"
    try:
        allowed = getattr(limiter.limiter, how)(item, "probe", address)
    except Exception:  # noqa: BLE001 - whatever the storage raises (Redis down, timeouts)
        current_app.logger.warning("rate limit storage failed; probe not limited", exc_info=True)
        return
    if how == "test" and not allowed:
        abort(429)


def closed_page(assignment: Assignment, today: date):
    """Return the page for a link that can't take answers (used, expired, cancelled, not yet open), or None."""
    reason = assignment.why_closed(today)
    if reason == "submitted":
        submission = db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id))
        outcome = checklist_of(assignment.version).outcome(submission.outcome) if submission.outcome else None
        return render_template("shopper/received.html", submission=submission, assignment=assignment,
                               channel=assignment.checklist.channel.value,
                               outcome_label=outcome.label if outcome else None)
    if reason is None:
        return None
    if reason == "not_done":
        outcome = checklist_of(assignment.version).outcome(assignment.outcome) if assignment.version else None
        return render_template("shopper/not_done.html", assignment=assignment,
                               label=outcome.label if outcome else assignment.outcome)
    state = assignment.effective_state(today)
    page = render_template("shopper/closed.html", assignment=assignment, state=state)
    return page, 200 if reason == "not_open" else 410


#: A blank page is rendered once per key (see blank_page) with these markers standing in
#: for what differs from link to link; a random part keeps checklist text from matching one.
_SLOT = f"slot{secrets.token_hex(6)}"
_SLOT_RE = re.compile(_SLOT + r"_([a-z_]+)_")


def page_values(assignment: Assignment, today: date, csrf_value: str | None) -> dict[str, str | None]:
    """What fill.html shows of one link and one request, beyond the checklist's own words."""
    branch = assignment.branch
    return {
        "branch_name": branch.name,
        "where": ", ".join(filter(None, (branch.name, branch.address))),
        "path": request.path,
        "date_min": assignment.not_before.isoformat(),
        "date_max": min(today, assignment.due).isoformat(),
        "csrf_value": csrf_value,
    }


def blank_page(assignment: Assignment, version, checklist, today: date) -> str:
    """Return the unfilled form of a link, from a page rendered once per version and language.

    Every shopper opening a link meets the same blank questions; rendering them (a macro and
    a dozen WTForms fields per question, translated words) was most of a GET's time, which
    bench/README.md budgets. The page is rendered once through the very template and code the
    filled-in form uses, with markers for the branch, the dates, the link, the CSRF token
    and the idempotency key; each request splices its own values in, escaped.
    """
    key = (
        version.id,
        version.content_hash,
        str(get_locale()),
        current_app.config["SURVEY_UPLOAD_MAX_MB"],
        request.script_root,
    )

    def render_blank() -> list[str]:
        form = forms.form_class(version.id, version.content_hash, checklist)(formdata=None, meta={"csrf": False})
        form.idem.data = f"{_SLOT}_idem_"
        markers = {name: f"{_SLOT}_{name}_" for name in page_values(assignment, today, None)}
        return _SLOT_RE.split(render_form(assignment, checklist, form, today, markers))

    parts = caches.blank_pages.get(key, render_blank)
    values = {**page_values(assignment, today, generate_csrf()), "idem": forms.new_idempotency_key()}
    return "".join(str(escape(values[part])) if i % 2 else part for i, part in enumerate(parts))


#: Refused sends per link: far above what a person does (a refused send from form.js counts
#: twice: its background try, then the ordinary post that shows the messages),
#: low enough that a link can't be used to keep the server busy re-checking junk.
SEND_LIMIT = "30 per minute"


def throttle(kind: str, limit: str, token: str, count: bool = True) -> None:
    """Refuse with 429 when one link has used up ``limit`` for ``kind``; else count this one
    (``count=False``: only look, for a request counted later if it turns out to cost).

    Counted per link, not per address: shoppers share addresses (a shop's Wi-Fi, a
    carrier's NAT); the key is the token's hash, as in the database, so a shared Redis holds
    no usable link. The counts live in Flask-Limiter's storage and strategy (memory, or
    Redis for several workers: RATELIMIT_STORAGE_URI), asked here rather than through its
    route decorator, whose per-request book-keeping cost the budgeted POST 0.2 ms (bench/README.md).
    form.js waits and retries on a 429. A token of the wrong shape is not counted (it is a
    404 next), and a storage that fails lets the request through: a shopper's answers
    matter more than the limit.
    """
    if not (limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True) and TOKEN_RE.match(token)):
        return
    limit_item, key = _parsed_limit(limit), hash_token(token)
    try:
        allowed = (limiter.limiter.test(limit_item, kind, key)
                   and (not count or limiter.limiter.hit(limit_item, kind, key)))
    except Exception:  # noqa: BLE001 - whatever the storage raises (Redis down, timeouts)
        current_app.logger.warning("rate limit storage failed; %s not limited", kind, exc_info=True)
        return
    if not allowed:
        abort(429)


@functools.cache
def _parsed_limit(limit: str):
    return limits.parse(limit)


@bp.route("/s/<token>", methods=["GET", "POST"])
def fill(token: str):
    if request.method == "POST":  # counted below if refused or saved: a good send is once per link
        throttle("send", SEND_LIMIT, token, count=False)
    assignment = get_assignment_or_404(token)
    today = date.today()
    if request.method == "POST" and assignment.state in (AssignmentState.submitted, AssignmentState.not_done):
        return redirect(url_for("shopper.fill", token=token), code=303)
    page = closed_page(assignment, today)
    if page is not None:
        return page
    if request.method in ("GET", "HEAD"):
        return _show(assignment, today)
    if needs_pinning(assignment):  # a send from a page opened before the link was (an old copy)
        pin_version(assignment)
        db.session.commit()
    version = assignment.version
    checklist = checklist_of(version)
    repeats, repeat_problems = forms.posted_repeats(checklist, request.form)
    action = request.form.get("action") or ""
    form = forms.form_class(version.id, version.content_hash, checklist, repeats)()
    if action == "save":
        # "Save and finish later" without JavaScript: keep what is typed, check nothing yet.
        throttle("send", SEND_LIMIT, token)  # each one writes
        if drafts.save_draft(assignment, form):
            flash("saved")
            return redirect(url_for("shopper.fill", token=token), code=303)
    elif action.startswith(("add:", "remove:")):
        return _move(assignment, checklist, form, action, today)
    elif action == outcomes.ACTION:
        return _end(assignment, version, checklist, form, today)
    else:
        # Photos are stored only for a request that carries this page's CSRF token.
        stored = forms.csrf_ok(form)
        try:
            attachments, upload_problems = uploads.collect(form, checklist, assignment, store=stored)
        except uploads.StorageFailed:
            return _photo_not_stored(assignment, checklist, form, today)
        window = (assignment.not_before, assignment.due)
        form.form_errors.extend(repeat_problems)
        filled = forms.check(form, checklist, window, today, attachments, upload_problems)
        if filled is not None:
            _, created = record_submission(assignment, version, filled)
            return _sent(token, created)
        throttle("send", SEND_LIMIT, token)  # refused: counted
    return render_form(assignment, checklist, form, today), 422


def _sent(token: str, created: bool):
    if created:
        flash("received")
    if request.headers.get("X-Outbox"):
        return "", 204  # the page's script opens the link, which thanks the shopper
    return redirect(url_for("shopper.fill", token=token), code=303)


def _move(assignment: Assignment, checklist, form, action: str, today: date):
    """"Add another" or "Remove" without JavaScript: the page again, every answer kept (and kept as the draft)."""
    throttle("send", SEND_LIMIT, assignment_token())  # each one writes
    if not forms.csrf_ok(form):
        return render_form(assignment, checklist, form, today), 422
    version = assignment.version
    result = forms.moved(request.form, checklist, action, type(form).repeats)
    if result is None:
        form.form_errors.append(gettext("That part can't take more or fewer repetitions. Your answers are kept."))
        return render_form(assignment, checklist, form, today), 422
    formdata, repeats = result
    formdata = MultiDict(formdata)
    section = action.split(":")[1]
    formdata[fields.count_name(section)] = str(repeats[section])
    drafts.store_draft(assignment, drafts.draft_answers(formdata, version))
    # The page shows the draft again, at the part just changed.
    anchor = f"r-{section}-{repeats[section]}" if action.startswith("add:") else f"s-{section}"
    return redirect(url_for("shopper.fill", token=assignment_token(), _anchor=anchor), code=303)


def _end(assignment: Assignment, version, checklist, form, today: date):
    """"Could not complete this shop?": a counted outcome is stored as a submission, another ends the link."""
    stored = forms.csrf_ok(form)
    try:
        places = [outcomes.PHOTO_PLACE] if "outcome" in form else []  # a checklist without outcomes has no panel
        attachments, problems = uploads.take(form, places, assignment, store=stored)
    except uploads.StorageFailed:
        return _photo_not_stored(assignment, checklist, form, today)
    ended = outcomes.check_outcome(form, checklist, attachments, problems) if stored else None
    if not forms.IDEM_RE.fullmatch(form.idem.data or ""):
        form.idem.data = forms.new_idempotency_key()
    if ended is None:
        throttle("send", SEND_LIMIT, assignment_token())
        return render_form(assignment, checklist, form, today, outcome_open=True), 422
    if ended.outcome.counts:
        window = (assignment.not_before, assignment.due)
        _, created = record_submission(assignment, version,
                                       outcomes.counted(ended, form.idem.data, today, window))
        return _sent(assignment_token(), created)
    end_not_done(assignment, ended.outcome.key, ended.comment)
    if request.headers.get("X-Outbox"):
        return "", 204
    return redirect(url_for("shopper.fill", token=assignment_token()), code=303)


def assignment_token() -> str:
    """The token of the link this request is for (the URL's)."""
    return request.view_args["token"]


def _photo_not_stored(assignment: Assignment, checklist, form, today: date):
    """The photo could not be written (a full disk): keep the answers as the link's draft, say so, 503.

    The form comes back with every answer (without JavaScript nothing else holds them); form.js
    reads the 503 as "try again later" and sends the queued answers again, photo included.
    """
    drafts.store_draft(assignment, drafts.draft_answers(request.form, assignment.version))
    form.form_errors.append(gettext(
        "Your answers are saved, but the photo could not be stored. Send the form again in a few minutes."))
    return render_form(assignment, checklist, form, today), 503, {"Retry-After": "60"}


def _show(assignment: Assignment, today: date):
    """The form as a link opens: blank (its questions from the cache), or the saved draft.

    The first opening pins the checklist version and marks the link started; that write is
    committed after the page is rendered, so the objects it changed need no reloading.
    """
    first_opening = needs_pinning(assignment)
    if first_opening:
        pin_version(assignment)
    version = assignment.version
    checklist = checklist_of(version)
    # A draft is saved through a pinned link only, so a link opening for the first time has none.
    draft = None if first_opening else drafts.draft_formdata(assignment)
    if draft is None and "_flashes" not in session:  # a flashed message must reach the page
        response = blank_page(assignment, version, checklist, today)
    else:
        repeats, _ = forms.posted_repeats(checklist, draft)  # a count out of range is held within it
        form = forms.form_class(version.id, version.content_hash, checklist, repeats)(formdata=draft)
        form.idem.data = forms.new_idempotency_key()
        response = render_form(assignment, checklist, form, today)
    if first_opening:
        db.session.commit()
    return response


def render_form(assignment: Assignment, checklist, form, today: date, values: dict | None = None,
                outcome_open: bool = False) -> str:
    """Render the form as filled so far; ``values`` replaces page_values (blank_page's markers).

    ``outcome_open``: the "Could not complete this shop?" panel shows open.

    HQ's preview renders a draft through here too, with a stand-in assignment.
    """
    if values is None:
        values = page_values(assignment, today, form.csrf_token.current_token if "csrf_token" in form else None)
    contact = forms.name_the_contact(form, checklist.channel)
    return render_template(
        "shopper/fill.html",
        form=form,
        checklist=checklist,
        assignment=assignment,
        field_name=fields.field_name,
        progress=forms.progress(form, checklist),
        outcome_open=outcome_open or bool(form.errors.get("outcome") or form.errors.get("outcome_comment")
                                          or form.errors.get("outcome_photo")),
        summary=forms.error_summary(form, checklist),
        hints=forms.condition_hints(checklist),
        client_words=forms.client_words(),
        csrf_failed=forms.csrf_failed(form),
        upload_max_mb=current_app.config["SURVEY_UPLOAD_MAX_MB"],
        contact=contact,
        returned=drafts.return_note(assignment),
        return_stamp=drafts.return_stamp,
        **values,
    )
