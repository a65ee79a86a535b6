"""HQ console: waves of shopper links; each link's state; cancelling and extending a link.

Tokens exist only while a wave is being created (only their hashes are stored), so
the links CSV is built in the response to the creating POST and offered on that
page as a one-time download (a ``data:`` link, no JavaScript). Nothing keeps the
tokens afterwards: lose the file and the links must be cancelled and issued again.
"""

from __future__ import annotations

import base64
import csv
import io
import logging
import re
from collections import Counter
from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..caches import checklist_of
from ..extensions import db
from ..models import Assignment, AssignmentState, Checklist, Wave
from ..spreadsheet import safe_text
from ..submissions import create_assignments, shopper_url
from . import queries
from .blueprint import bp
from .forms import ExtendForm, WaveForm

logger = logging.getLogger(__name__)

STATES = [s.value for s in AssignmentState]
LINKS_CSV_HEADER = ("branch_code", "branch_name", "due", "url")




def links_csv(made: list[tuple[Assignment, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LINKS_CSV_HEADER)
    for assignment, token in made:
        branch = assignment.branch
        # A branch name came from a CSV import: defuse it as the export defuses shoppers' text.
        writer.writerow([branch.code, safe_text(branch.name), assignment.due.isoformat(), shopper_url(token)])
    return out.getvalue()


def cancel_question(assignment: Assignment, state: str) -> str:
    """The confirmation asked before a link is cancelled: what happens, and that it is final."""
    branch = assignment.branch
    started = " and can no longer send the answers they started" if state == AssignmentState.started.value else ""
    return (f"Cancel the link for {branch.code} {branch.name} (due {assignment.due.isoformat()})? "
            f"The shopper will be told the visit was cancelled{started}. This can't be undone.")


def earliest_new_due(assignment: Assignment, today: date) -> date:
    """The first day an extension may choose: after the current due date, and not in the past."""
    return max(today, assignment.not_before, assignment.due + timedelta(days=1))


def csv_filename(wave: Wave) -> str:
    return "links-" + (re.sub(r"[^A-Za-z0-9]+", "-", wave.name).strip("-").lower() or f"wave-{wave.id}") + ".csv"


@bp.get("/waves")
def waves():
    counts = queries.state_counts(date.today())
    return render_template("hq/waves.html", waves=queries.waves(), counts=counts, states=STATES,
                           not_done=sum(c.get(AssignmentState.not_done.value, 0) for c in counts.values()))


@bp.route("/waves/new", methods=["GET", "POST"])
def wave_new():
    today = date.today()
    form = WaveForm(today=today)
    if request.method == "GET":
        form.not_before.data = today
        form.due.data = today + timedelta(days=30)
    if form.validate_on_submit():
        wave = Wave(name=form.name.data)
        db.session.add(wave)
        checklist = db.session.get(Checklist, form.checklist_id.data)
        made = []
        for branch in form.picked_branches():
            made += create_assignments(checklist, branch, form.visits.data, due=form.due.data,
                                       not_before=form.not_before.data, wave=wave)
        db.session.commit()
        data = links_csv(made)
        response = render_template(
            "hq/wave_created.html", wave=wave, checklist=checklist, count=len(made),
            branches=len({a.branch_id for a, _ in made}), filename=csv_filename(wave),
            data_url="data:text/csv;charset=utf-8;base64," + base64.b64encode(data.encode()).decode(),
            rows=list(csv.reader(io.StringIO(data)))[1:],
        )
        # The page holds the only copy of the tokens: keep it out of every cache.
        return response, 201, {"Cache-Control": "no-store"}
    return render_template("hq/wave_form.html", form=form), 422 if form.errors else 200


@bp.get("/waves/<int:wave_id>")
def wave(wave_id: int):
    wave = db.get_or_404(Wave, wave_id)
    today = date.today()
    show = request.args.get("state", "")
    if show not in STATES:
        show = ""
    links = queries.wave_links(wave.id)
    rows = [(a, a.effective_state(today).value) for a in links]
    submitted = queries.wave_submissions(wave.id)
    return render_template(
        "hq/wave.html", wave=wave, rows=[r for r in rows if not show or r[1] == show], total=len(rows),
        counts=Counter(state for _, state in rows), states=STATES, show=show, submitted=submitted,
        today=today, cancel_question=cancel_question, earliest_new_due=earliest_new_due,
        reissued=queries.reissued(links), outcome_label=outcome_label, reissue_window=reissue_window,
        flag_counts=queries.wave_flag_counts(wave.id),
    )


def outcome_label(assignment: Assignment) -> str | None:
    """Name the outcome a shopper ended a link with, in the checklist's words ("I could not call")."""
    if not assignment.outcome:
        return None
    version = assignment.version or assignment.checklist.latest
    outcome = checklist_of(version).outcome(assignment.outcome) if version is not None else None
    return outcome.label if outcome is not None else assignment.outcome


def reissue_window(assignment: Assignment, today: date) -> tuple[date, date]:
    """The new link's window: from today (or the old first day, if later), at least as long as the old one."""
    not_before = max(today, assignment.not_before)
    return not_before, max(assignment.due, not_before + (assignment.due - assignment.not_before))


@bp.get("/not-done")
def not_done():
    """List the links shoppers ended as not done, with their reason, and a button to issue another."""
    links = queries.not_done_links()
    return render_template("hq/not_done.html", links=links, reissued=queries.reissued(links),
                           outcome_label=outcome_label, reissue_window=reissue_window, today=date.today())


@bp.post("/assignments/<int:assignment_id>/reissue")
def assignment_reissue(assignment_id: int):
    """Issue a new link for the same branch, checklist and wave as a not-done one; show it once."""
    assignment = db.get_or_404(Assignment, assignment_id)
    code = assignment.branch.code
    if assignment.state != AssignmentState.not_done:
        flash(f"Link {assignment.id} for {code} was not ended as not done; no new link was issued.")
        return redirect(url_for("hq.assignment", assignment_id=assignment.id))
    earlier = queries.reissued([assignment]).get(assignment.id)
    if earlier is not None:
        flash(f"A new link for {code} was already issued (link {earlier}); nothing new was issued.")
        return redirect(url_for("hq.assignment", assignment_id=earlier))
    not_before, due = reissue_window(assignment, date.today())
    (new, token), = create_assignments(assignment.checklist, assignment.branch, 1, due=due, not_before=not_before,
                                       wave=assignment.wave)
    db.session.commit()
    logger.info("link %s issued for not-done link %s (%s) by user %s", new.id, assignment.id, code, current_user.id)
    page = render_template("hq/reissued.html", old=assignment, new=new, url=shopper_url(token),
                           reason=outcome_label(assignment))
    # The page holds the only copy of the token: keep it out of every cache.
    return page, 201, {"Cache-Control": "no-store"}


@bp.get("/assignments/<int:assignment_id>")
def assignment(assignment_id: int):
    assignment = db.get_or_404(Assignment, assignment_id)
    form = ExtendForm(assignment=assignment, data={"due": assignment.due})
    return _assignment_page(assignment, form)


@bp.post("/assignments/<int:assignment_id>/extend")
def assignment_extend(assignment_id: int):
    assignment = db.get_or_404(Assignment, assignment_id)
    form = ExtendForm(assignment=assignment)
    if form.validate_on_submit():
        assignment.due = form.due.data
        db.session.commit()
        flash(f"The link for {assignment.branch.code} now runs until {assignment.due.isoformat()}.")
        return redirect(_back_to(assignment))
    return _assignment_page(assignment, form, 422)


@bp.post("/assignments/<int:assignment_id>/cancel")
def assignment_cancel(assignment_id: int):
    assignment = db.get_or_404(Assignment, assignment_id)
    if assignment.state == AssignmentState.submitted:
        flash(f"The link for {assignment.branch.code} was already used; nothing was cancelled.")
    elif assignment.state != AssignmentState.cancelled:
        assignment.state = AssignmentState.cancelled
        db.session.commit()
        flash(f"Cancelled the link for {assignment.branch.code}: it no longer opens the form.")
    return redirect(_back_to(assignment))


def _back_to(assignment: Assignment) -> str:
    if assignment.wave_id is not None and request.form.get("from") == "wave":
        return url_for("hq.wave", wave_id=assignment.wave_id, _anchor=f"a-{assignment.id}")
    return url_for("hq.assignment", assignment_id=assignment.id)


def _assignment_page(assignment: Assignment, form: ExtendForm, status: int = 200):
    today = date.today()
    submission = queries.submission_of(assignment.id)
    return render_template("hq/assignment.html", assignment=assignment, form=form, submission=submission,
                           state=assignment.effective_state(today).value, today=today,
                           cancel_question=cancel_question, reissued=queries.reissued([assignment]),
                           outcome_label=outcome_label, reissue_window=reissue_window,
                           min_due=earliest_new_due(assignment, today).isoformat()), status
