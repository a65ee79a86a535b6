"""SQL aggregates for reports: SQLAlchemy selects that return plain rows, never ORM objects.

Every function is one query, so a report issues a fixed number of queries
whatever the number of branches or visits. Aggregation happens in SQL; what
Python gets back is grouped rows (per branch, standard, section, question or
day). Months are bucketed in Python from per-day rows, which keeps the SQL the
same on SQLite and PostgreSQL. Only counted submissions are in (``Submission.counts``):
no rejected, returned or pending one.
Scores come back as stored, 0..1.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Double, Integer, Row, and_, bindparam, case, cast, func, or_, select, true, union_all

from survey.caches import statements
from survey.extensions import db
from survey.models import (
    Action,
    ActionState,
    Answer,
    Appeal,
    Attachment,
    Branch,
    Checklist,
    ChecklistVersion,
    Region,
    ScoreMonth,
    SectionScore,
    Standard,
    StandardMonth,
    StandardScore,
    Submission,
    SubmissionFlag,
    code_is,
)


def _counted(start: date, end: date):
    """Return the filter for submissions that count in a period (Submission.counts), visit date inside."""
    return and_(Submission.counts(), Submission.visit_date >= start, Submission.visit_date <= end)


def _scope(branch_id: int | None = None, region_id: int | None = None, region_ids: Iterable[int] | None = None,
           column=Submission.branch_id):
    """Return the filter for one branch, one region, some regions, or (all None) the whole network,
    on ``column`` (a branch id)."""
    if branch_id is not None:
        return column == branch_id
    if region_id is not None:
        return column.in_(select(Branch.id).where(Branch.region_id == region_id))
    if region_ids is not None:
        return column.in_(select(Branch.id).where(Branch.region_id.in_(list(region_ids))))
    return true()


def _rows(statement) -> list[Row]:
    return list(db.session.execute(statement).all())


# Prepared statements. A report's selects are the same on every request but their parameters, and
# building one (columns, joins, filters) cost more than running it on a branch's year: 3-5 ms each,
# eleven of them on the branch's page (bench/branch_page.py). The selects below are built once per
# process with bound parameters, kept in ``survey.caches.statements`` and run on the session's
# connection (Core rows; reports never write, so there is nothing to flush first).

def _kind(branch_id: int | None, region_id: int | None) -> str:
    return "branch" if branch_id is not None else "region" if region_id is not None else "network"


def _bound_scope(kind: str):
    """Return ``_scope``'s filter for a kind of scope, its id the parameter ``scope_id``."""
    scope_id = bindparam("scope_id")
    return {"branch": lambda: _scope(branch_id=scope_id), "region": lambda: _scope(region_id=scope_id),
            "network": true}[kind]()


def _bound_counted(kind: str):
    """Return the counted visits of a period (parameters ``start``, ``end``) in a kind of scope."""
    return and_(_counted(bindparam("start"), bindparam("end")), _bound_scope(kind))


def _period_params(start: date, end: date, branch_id: int | None = None, region_id: int | None = None) -> dict:
    params = {"start": start, "end": end}
    if branch_id is not None or region_id is not None:
        params["scope_id"] = branch_id if branch_id is not None else region_id
    return params


def _prepared(name: str, variant: Hashable, build: Callable[[], Any]):
    """Return the select ``name`` for ``variant``, built by ``build()`` the first time in the process."""
    return statements.get((name, variant), build)


def _run(statement, params: dict) -> list[Row]:
    return list(db.session.connection().execute(statement, params).all())


def branch_by_code(code: str) -> Row | None:
    """Return a branch with its region: id, code, name, address, region_id, region_code, region_name."""
    statement = _prepared("branch_by_code", None, lambda: (
        select(Branch.id, Branch.code, Branch.name, Branch.address, Branch.region_id,
               Region.code.label("region_code"), Region.name.label("region_name"))
        .join(Region, Region.id == Branch.region_id)
        .where(code_is(Branch.code, bindparam("code")))))
    return db.session.connection().execute(statement, {"code": code.upper()}).first()


def region_by_code(code: str) -> Row | None:
    """Return a region: id, code, name."""
    return db.session.execute(select(Region.id, Region.code, Region.name).where(code_is(Region.code, code))).first()


def region_branches(region_id: int) -> list[Row]:
    """Return the branches of a region: id, code, name, active; by code."""
    return _rows(select(Branch.id, Branch.code, Branch.name, Branch.active)
                 .where(Branch.region_id == region_id).order_by(Branch.code))


def standards() -> list[Row]:
    """Return the standards catalogue in its order: key, title, retired."""
    return _run(_prepared("standards", None, lambda: select(Standard.key, Standard.title, Standard.retired)
                          .order_by(Standard.position, Standard.key)), {})


def visits(start: date, end: date, branch_id: int | None = None, region_id: int | None = None) -> list[Row]:
    """Return one row per counted visit, oldest first, with its checklist version.

    Columns: id, branch_id, visit_date, score, critical_fail, reference, version_id,
    version, slug, checklist, channel, outcome (the key of a counted outcome, SPEC §3), appealed,
    checklist_id, content_hash (the version's: what its parsed checklist is cached by).
    """
    kind = _kind(branch_id, region_id)
    statement = _prepared("visits", kind, lambda: _visits(kind))
    return _run(statement, _period_params(start, end, branch_id, region_id))


def _visits(kind: str):
    appealed = select(Appeal.id).where(Appeal.submission_id == Submission.id).exists()
    return (
        select(Submission.id, Submission.branch_id, Submission.visit_date, Submission.score,
               Submission.critical_fail, Submission.reference, Submission.version_id, Submission.outcome,
               appealed.label("appealed"), ChecklistVersion.number.label("version"), Checklist.slug,
               Checklist.title.label("checklist"), Checklist.channel, ChecklistVersion.checklist_id,
               ChecklistVersion.content_hash)
        .join(ChecklistVersion, ChecklistVersion.id == Submission.version_id)
        .join(Checklist, Checklist.id == ChecklistVersion.checklist_id)
        .where(_bound_counted(kind))
        .order_by(Submission.visit_date, Submission.visit_time, Submission.id)
    )


def _month_runs(start: date, end: date, take_off: bool = True) -> tuple[tuple[date, date] | None,
                                                                        list[tuple[date, date, int]]]:
    """Split a period into a run of calendar months read from the monthly rollups (the first days
    of its first and last month, or None) and runs of days read from the visits, each added (1)
    or taken off (-1).

    A part month at either end is read whichever way reads fewer days: its own days added, or
    the whole month from the rollup and the days outside the period taken off (a year to the 3rd
    of December: December 1-2 taken off, not December 3-31 added); never taken off with
    ``take_off=False``, so every row read lies inside the period. A period inside one month is
    read from the visits.
    """
    first, last = start.replace(day=1), end.replace(day=1)
    if first == last and (start.day != 1 or _next_month(end) - timedelta(days=1) != end):
        return None, [(start, end, 1)]
    runs = []
    if start != first:
        month_end = _next_month(first) - timedelta(days=1)
        if take_off and (start - first).days < (month_end - start).days + 1:
            runs.append((first, start - timedelta(days=1), -1))
        else:
            runs.append((start, month_end, 1))
            first = _next_month(first)
    month_end = _next_month(last) - timedelta(days=1)
    if end != month_end:
        if take_off and (month_end - end).days < (end - last).days + 1:
            runs.append((end + timedelta(days=1), month_end, -1))
        else:
            runs.append((last, end, 1))
            last = _previous_month(last)
    return ((first, last) if first <= last else None), runs


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def network_mean(start: date, end: date) -> Row:
    """Return the network's branch-weighted mean: score (mean of branch means), branches (with a score).

    The only query of a branch report that reads the whole network; it returns one row. Each
    branch's sums over the period's whole months come from the monthly rollup (ScoreMonth, kept
    on every write by survey/rollups.py: one row per branch and month, read from an index alone);
    only the days of its part months at either end are read from the visits (the covering index
    ``ix_submission_visit_scores``).
    """
    shape, params = _sums_shape(start, end, ScoreMonth, None, None)

    def build():
        sums = _branch_sums(*shape)
        return select(func.avg(sums.c.score).label("score"), func.count().label("branches"))
    return db.session.connection().execute(_prepared("network_mean", shape, build), params).one()


def _sums_shape(start: date, end: date, rollup, region_id: int | None, per_day: bool | None) -> tuple[tuple, dict]:
    """Return the shape of ``_branch_sums``'s select for a period (what its statement is kept by)
    and its parameters: the months' and part months' bounds, and the region."""
    months, runs = _month_runs(start, end, take_off=not per_day)
    params: dict[str, Any] = {"region_id": region_id} if region_id is not None else {}
    if months is not None:
        params.update(m_first=months[0], m_last=months[1])
    for i, (first, last, _) in enumerate(runs):
        params.update({f"d{i}_first": first, f"d{i}_last": last})
    shape = (rollup.__name__, region_id is not None, per_day, months is not None, tuple(sign for *_, sign in runs))
    return shape, params


def _branch_sums(rollup, in_region: bool, per_day: bool | None, with_months: bool, signs: tuple[int, ...]):
    """Return a subquery of counted scores over a period per branch: from ``rollup`` for its
    months, from the visits for the days of its part months (``_month_runs``), with the bound
    parameters ``_sums_shape`` gives.

    ``ScoreMonth``: columns branch_id, score (the branch's mean), n; with ``per_day``, per branch and
    day (a whole month's row dated its first day): branch_id, visit_date, total, n.
    ``StandardMonth``: per branch and standard: branch_id, standard_key, score, n.
    """
    rollup = {"ScoreMonth": ScoreMonth, "StandardMonth": StandardMonth}[rollup]
    region_id = bindparam("region_id") if in_region else None
    standards = rollup is StandardMonth
    pieces = []
    if with_months:
        keys = [rollup.branch_id, rollup.standard_key] if standards else [rollup.branch_id]
        if per_day:
            keys.append(rollup.month.label("visit_date"))
        pieces.append(select(*keys, rollup.total, rollup.n)
                      .where(rollup.month >= bindparam("m_first"), rollup.month <= bindparam("m_last"),
                             rollup.n > 0, _scope(region_id=region_id, column=rollup.branch_id)))
    for i, sign in enumerate(signs):
        if standards:
            keys = [Submission.branch_id, StandardScore.standard_key]
            score, n = StandardScore.score, func.count()
        else:
            keys = [Submission.branch_id] + ([Submission.visit_date] if per_day else [])
            score, n = Submission.score, func.count(Submission.score)
        piece = select(*keys, (sign * func.sum(score)).label("total"), (sign * n).label("n"))
        piece = (piece.join(StandardScore, StandardScore.submission_id == Submission.id) if standards
                 else piece.where(score.is_not(None)))
        pieces.append(piece.where(_counted(bindparam(f"d{i}_first"), bindparam(f"d{i}_last")),
                                  _scope(region_id=region_id)).group_by(*keys))
    both = (pieces[0] if len(pieces) == 1 else union_all(*pieces)).subquery()
    if per_day:
        return both
    keys = [both.c.branch_id] + ([both.c.standard_key] if standards else [])
    n = func.sum(both.c.n)
    return (select(*keys, (func.sum(both.c.total) / cast(n, Double)).label("score"), cast(n, Integer).label("n"))
            .group_by(*keys).having(n > 0).subquery())


def daily_branch_scores(start: date, end: date, region_id: int) -> list[Row]:
    """Return per branch and visit day: branch_id, visit_date, total (sum of scores), n.

    A whole calendar month of the period comes as one row per branch, dated its first day, from
    the monthly rollup (ScoreMonth); the days of part months from the visits.
    """
    shape, params = _sums_shape(start, end, ScoreMonth, region_id, per_day=True)
    return _run(_prepared("daily_branch_scores", shape, lambda: select(_branch_sums(*shape))), params)


def standard_scores(start: date, end: date, region_id: int | None = None) -> list[Row]:
    """Return per branch and standard: branch_id, region_id, standard_key, score, n.

    A visit's standard score (Σearned/Σpossible over its applicable questions of that standard,
    or 0 for a counted outcome) is stored with it (StandardScore); the period's score is the
    mean over the visits where it applied: summed per month in StandardMonth for the period's
    whole months, from the visits for the rest.
    """
    shape, params = _sums_shape(start, end, StandardMonth, region_id, None)

    def build():
        sums = _branch_sums(*shape)
        return (select(sums.c.branch_id, Branch.region_id, sums.c.standard_key, sums.c.score, sums.c.n)
                .join(Branch, Branch.id == sums.c.branch_id))
    return _run(_prepared("standard_scores", shape, build), params)


def section_scores(start: date, end: date, branch_id: int) -> list[Row]:
    """Return per checklist and section: checklist_id, section_key, position, score (mean over applicable visits), n."""
    return _rows(
        select(ChecklistVersion.checklist_id, SectionScore.section_key,
               func.min(SectionScore.position).label("position"),
               func.avg(SectionScore.score).label("score"), func.count(SectionScore.score).label("n"))
        .join(Submission, Submission.id == SectionScore.submission_id)
        .join(ChecklistVersion, ChecklistVersion.id == Submission.version_id)
        .where(_counted(start, end), _scope(branch_id), SectionScore.score.is_not(None))
        .group_by(ChecklistVersion.checklist_id, SectionScore.section_key)
    )


def question_losses(start: date, end: date, branch_id: int | None = None, region_id: int | None = None) -> list[Row]:
    """Return per branch, checklist and scored question the points of the overall score lost on it (SPEC §8).

    Columns: branch_id, checklist_id, question_key, standard_key, lost (Σ over counted visits of the
    share of the visit's score lost, 0..1), n (visits where it applied), critical (failed critical
    answers), visits (the branch's counted visits with a score: the mean's denominator).

    A visit's loss on a question is (w - e) / Σw of its section (or repetition) x the section's
    weight / Σ weights of the visit's applicable sections; in a repeated section, averaged over the
    section's applicable repetitions. Summed over questions it is 1 - the score before any
    critical override, bonus or deduction.
    """
    # Built once per kind of scope and kept (survey.caches): building this select costs more
    # than running it on a branch's year (bench/branch_page.py).
    kind = _kind(branch_id, region_id)
    statement = _prepared("question_losses", kind, lambda: _question_losses(kind))
    return _run(statement, _period_params(start, end, branch_id, region_id))


def _question_losses(kind: str):
    """Build the fix-first select for one kind of scope, its parameters bound later.

    A repetition's weight and a section's number of repetitions come from window functions over
    the answers, not from aggregate subqueries joined back on two and three columns: PostgreSQL
    guessed those joins at one row and chose nested loops that took 4-8 s for a chain's
    50-branch region (bench/chain_pages.py). The visit's total weight stays a subquery joined on
    the visit alone, which both databases join by hash or index (two window subqueries joined to
    each other cost SQLite a scan of one per row of the other).
    """
    counted = _bound_counted(kind)
    scored = Answer.possible > 0
    in_part = (Answer.submission_id, Answer.section_key, Answer.repeat)
    answers = (
        select(Submission.branch_id, Submission.version_id, Answer.submission_id, Answer.section_key,
               Answer.question_key, Answer.standard_key, Answer.critical_fail,
               (Answer.possible - Answer.earned).label("missed"), SectionScore.weight.label("section_weight"),
               func.sum(Answer.possible).over(partition_by=in_part).label("part_weight"),
               func.dense_rank().over(partition_by=(Answer.submission_id, Answer.section_key),
                                      order_by=Answer.repeat).label("nth"))
        .join(Submission, Submission.id == Answer.submission_id)
        .join(SectionScore, and_(SectionScore.submission_id == Answer.submission_id,
                                 SectionScore.section_key == Answer.section_key))
        .where(counted, scored)
        .subquery()
    )
    # A section's repetitions: the highest rank of its answers' repeat numbers.
    spread = (
        select(answers, func.max(answers.c.nth).over(partition_by=(answers.c.submission_id, answers.c.section_key))
               .label("spans"))
        .subquery()
    )
    totals = (
        select(SectionScore.submission_id, func.sum(SectionScore.weight).label("weight"))
        .join(Submission, Submission.id == SectionScore.submission_id)
        .where(counted, SectionScore.score.is_not(None))
        .group_by(SectionScore.submission_id)
        .subquery()
    )
    visits = (
        select(Submission.branch_id, func.count().label("n"))
        .where(counted, Submission.score.is_not(None))
        .group_by(Submission.branch_id)
        .subquery()
    )
    share = (spread.c.missed / spread.c.part_weight / spread.c.spans * spread.c.section_weight / totals.c.weight)
    losses = (
        select(spread.c.branch_id, ChecklistVersion.checklist_id, spread.c.question_key,
               func.max(spread.c.standard_key).label("standard_key"), func.sum(share).label("lost"),
               func.count(spread.c.submission_id.distinct()).label("n"),
               func.sum(case((spread.c.critical_fail.is_(True), 1), else_=0)).label("critical"))
        .join(ChecklistVersion, ChecklistVersion.id == spread.c.version_id)
        .join(totals, totals.c.submission_id == spread.c.submission_id)
        .group_by(spread.c.branch_id, ChecklistVersion.checklist_id, spread.c.question_key)
        .subquery()
    )
    return select(losses, visits.c.n.label("visits")).join(visits, visits.c.branch_id == losses.c.branch_id)


def critical_answers(start: date, end: date, branch_id: int | None = None, region_id: int | None = None) -> list[Row]:
    """Return every failed critical question: submission_id, branch_id, visit_date, reference,
    version_id, question_key, score (as stored) and computed (the score before any override).
    """
    kind = _kind(branch_id, region_id)
    statement = _prepared("critical_answers", kind, lambda: _critical_answers(kind))
    return _run(statement, _period_params(start, end, branch_id, region_id))


def _critical_answers(kind: str):
    computed = (
        select(func.sum(SectionScore.weight * SectionScore.score) / func.sum(SectionScore.weight))
        .where(SectionScore.submission_id == Submission.id, SectionScore.score.is_not(None))
        .correlate(Submission)
        .scalar_subquery()
    )
    return (
        select(Submission.id.label("submission_id"), Submission.branch_id, Submission.visit_date,
               Submission.reference, Submission.version_id, Answer.question_key, Submission.score,
               computed.label("computed"))
        .join(Submission, Submission.id == Answer.submission_id)
        .where(_bound_counted(kind), Answer.critical_fail.is_(True))
        .order_by(Submission.visit_date, Submission.id, Answer.position)
    )


def actions(branch_id: int | None = None, region_ids: Iterable[int] | None = None,
            overdue_on: date | None = None, action_id: int | None = None,
            submission_id: int | None = None) -> list[Row]:
    """Return actions of one branch, or of some regions (None: all); with ``overdue_on``, only the
    ones still open whose date is before that day; newest first.

    Columns: id, branch_id, branch_code, branch_name, region_id, region_code, checklist_id, slug,
    checklist, question_key, question_text, submission_id, what, owner, due, state, note, opened_on,
    closed_at.
    """
    given = {"action_id": action_id, "submission_id": submission_id, "branch_id": branch_id,
             "region_ids": list(region_ids) if region_ids is not None else None, "overdue_on": overdue_on}
    params = {name: value for name, value in given.items() if value is not None}
    statement = _prepared("actions", frozenset(params), lambda: _actions(frozenset(params)))
    return _run(statement, params)


def _actions(filters: frozenset[str]):
    """Build the actions' select with the filters named (each a parameter of the same name)."""
    statement = (
        select(Action.id, Action.branch_id, Branch.code.label("branch_code"), Branch.name.label("branch_name"),
               Branch.region_id, Region.code.label("region_code"), Action.checklist_id, Checklist.slug,
               Checklist.title.label("checklist"), Action.question_key, Action.question_text, Action.submission_id,
               Action.what, Action.owner, Action.due, Action.state, Action.note, Action.opened_on, Action.closed_at)
        .join(Branch, Branch.id == Action.branch_id)
        .join(Region, Region.id == Branch.region_id)
        .join(Checklist, Checklist.id == Action.checklist_id)
        .order_by(Action.due, Action.id)
    )
    if "action_id" in filters:
        statement = statement.where(Action.id == bindparam("action_id"))
    if "submission_id" in filters:
        statement = statement.where(Action.submission_id == bindparam("submission_id"))
    if "branch_id" in filters:
        statement = statement.where(Action.branch_id == bindparam("branch_id"))
    if "region_ids" in filters:
        statement = statement.where(Branch.region_id.in_(bindparam("region_ids", expanding=True)))
    if "overdue_on" in filters:
        statement = statement.where(Action.state == ActionState.open, Action.due < bindparam("overdue_on"))
    return statement


def action_scores(windows: dict[int, date], end: date) -> list[Row]:
    """Return each action's question score before it was opened and since: action_id, since (bool), score, n.

    ``windows`` maps an action id to the first day of its "before" visits (12 months before it was
    opened); before runs up to and including the day it was opened, since from the day after up to
    ``end``. Counted visits of its branch only; the question matched by checklist and key across
    versions. A visit's score on it is Σe/Σw over its repetitions; the means are over the visits
    where it applied.
    """
    if not windows:
        return []
    first_day = case(windows, value=Action.id)
    since = Submission.visit_date > Action.opened_on
    per_visit = (
        select(Action.id.label("action_id"), Answer.submission_id, since.label("since"),
               (func.sum(Answer.earned) / func.sum(Answer.possible)).label("score"))
        .join(Submission, Submission.branch_id == Action.branch_id)
        .join(ChecklistVersion, and_(ChecklistVersion.id == Submission.version_id,
                                     ChecklistVersion.checklist_id == Action.checklist_id))
        .join(Answer, and_(Answer.submission_id == Submission.id, Answer.question_key == Action.question_key))
        .where(Action.id.in_(sorted(windows)), _counted(min(windows.values()), end),
               Submission.visit_date >= first_day, Answer.possible > 0)
        .group_by(Action.id, Answer.submission_id, Submission.visit_date, Action.opened_on)
        .subquery()
    )
    return _rows(
        select(per_visit.c.action_id, per_visit.c.since, func.avg(per_visit.c.score).label("score"),
               func.count().label("n"))
        .group_by(per_visit.c.action_id, per_visit.c.since)
    )


def action_counts(today: date, region_ids: Iterable[int] | None = None) -> list[Row]:
    """Return per branch its open actions: branch_id, open, overdue (open and past their date)."""
    statement = (
        select(Action.branch_id, func.count().label("open"),
               func.sum(case((Action.due < today, 1), else_=0)).label("overdue"))
        .where(Action.state == ActionState.open)
        .group_by(Action.branch_id)
    )
    if region_ids is not None:
        mine = select(Branch.id).where(Branch.region_id.in_(list(region_ids)))
        statement = statement.where(Action.branch_id.in_(mine))
    return _rows(statement)


def visit(reference: str) -> Row | None:
    """Return one visit by its reference, whether it counts or not: id, reference, branch_id, branch_code,
    branch_name, region_id, version_id, visit_date, visit_time, score, critical_fail, outcome, counted."""
    counts = case((_counted(date.min, date.max), True), else_=False)
    return db.session.execute(
        select(Submission.id, Submission.reference, Submission.branch_id, Branch.code.label("branch_code"),
               Branch.name.label("branch_name"), Branch.region_id, Submission.version_id, Submission.visit_date,
               Submission.visit_time, Submission.score, Submission.critical_fail, Submission.outcome,
               counts.label("counted"))
        .join(Branch, Branch.id == Submission.branch_id)
        # References are made in capitals (submissions.new_reference): an equality on the column
        # uses its unique index, where upper() of it read every visit of the chain.
        .where(Submission.reference == reference.strip().upper())
    ).first()


def visit_answers(submission_id: int) -> list[Row]:
    """Return a visit's answers in the form's order: section_key, question_key, repeat, value, status,
    earned, possible, critical_fail, comment, standard_key."""
    return _rows(
        select(Answer.section_key, Answer.question_key, Answer.repeat, Answer.value, Answer.status, Answer.earned,
               Answer.possible, Answer.critical_fail, Answer.comment, Answer.standard_key)
        .where(Answer.submission_id == submission_id)
        .order_by(Answer.position)
    )


def visit_photos(submission_id: int) -> list[Row]:
    """Return a visit's photos: id, question_key, original_name."""
    return _rows(select(Attachment.id, Attachment.question_key, Attachment.original_name)
                 .where(Attachment.submission_id == submission_id).order_by(Attachment.id))


def comments(start: date, end: date, branch_id: int) -> list[Row]:
    """Return what shoppers wrote: per-question comments, and answers to unscored questions
    (the service keeps those of free-text questions, and an outcome's); with them, in the same
    query, every bonus and deduction applied (``adjustment`` not 0, SPEC §4). ``earned`` and
    ``possible`` tell whether a commented answer passed (the branch PDF says so beside it).

    Columns: visit_date, reference, version_id, question_key, comment, value, adjustment, earned, possible.
    """
    return _rows(
        select(Submission.visit_date, Submission.reference, Submission.version_id, Answer.question_key,
               Answer.comment, Answer.value, Answer.adjustment, Answer.earned, Answer.possible)
        .join(Submission, Submission.id == Answer.submission_id)
        .where(_counted(start, end), _scope(branch_id),
               or_(Answer.comment.is_not(None),
                   and_(Answer.standard_key.is_(None), Answer.status == "answered", Answer.value.is_not(None)),
                   and_(Answer.adjustment.is_not(None), Answer.adjustment != 0)))
        .order_by(Submission.visit_date, Submission.id, Answer.position)
    )


def excluded_counts(start: date, end: date, branch_id: int | None = None, region_id: int | None = None) -> list[Row]:
    """Return how many scored questions were left out as not applicable: status ('na' | 'hidden'), n."""
    return _rows(
        select(Answer.status, func.count().label("n"))
        .join(Submission, Submission.id == Answer.submission_id)
        .where(_counted(start, end), _scope(branch_id, region_id),
               Answer.standard_key.is_not(None), Answer.status.in_(("na", "hidden")))
        .group_by(Answer.status)
    )


def version_contents(version_ids: Iterable[int]) -> list[Row]:
    """Return checklist versions: id, checklist_id, slug, title, channel, number, content, content_hash."""
    ids = sorted(set(version_ids))
    if not ids:
        return []
    return _rows(
        select(ChecklistVersion.id, ChecklistVersion.checklist_id, Checklist.slug, Checklist.title,
               Checklist.channel, ChecklistVersion.number, ChecklistVersion.content, ChecklistVersion.content_hash)
        .join(Checklist, Checklist.id == ChecklistVersion.checklist_id)
        .where(ChecklistVersion.id.in_(ids))
    )


def branch_overview(start: date, end: date, region_ids: Iterable[int] | None = None) -> list[Row]:
    """Return the branches a user may see with their period mean and latest visit.

    Columns: id, code, name, active, region_code, region_name, n, score, critical (visits with a
    critical failure), last_date, last_score.
    An inactive branch is listed only for the visits it had in the period.
    """
    # Scoped inside the subqueries too: a manager's page reads their regions' visits, not the network's.
    in_period = and_(_counted(start, end), _scope(region_ids=region_ids))
    means = (
        select(Submission.branch_id, func.count(Submission.score).label("n"), func.avg(Submission.score).label("score"),
               func.sum(case((Submission.critical_fail.is_(True), 1), else_=0)).label("critical"))
        .where(in_period).group_by(Submission.branch_id).subquery()
    )
    ordered = (
        select(Submission.branch_id, Submission.visit_date, Submission.score,
               func.row_number().over(partition_by=Submission.branch_id,
                                      order_by=(Submission.visit_date.desc(), Submission.id.desc())).label("nth"))
        .where(in_period).subquery()
    )
    latest = select(ordered.c.branch_id, ordered.c.visit_date, ordered.c.score).where(ordered.c.nth == 1).subquery()
    statement = (
        select(Branch.id, Branch.code, Branch.name, Branch.active, Region.code.label("region_code"),
               Region.name.label("region_name"), func.coalesce(means.c.n, 0).label("n"), means.c.score,
               func.coalesce(means.c.critical, 0).label("critical"),
               latest.c.visit_date.label("last_date"), latest.c.score.label("last_score"))
        .join(Region, Region.id == Branch.region_id)
        .outerjoin(means, means.c.branch_id == Branch.id)
        .outerjoin(latest, latest.c.branch_id == Branch.id)
        .where(or_(Branch.active.is_(True), means.c.n > 0))
        .order_by(Region.code, Branch.code)
    )
    if region_ids is not None:
        statement = statement.where(Branch.region_id.in_(list(region_ids)))
    return _rows(statement)


def visible_regions(region_ids: Iterable[int] | None = None) -> list[Row]:
    """Return regions (all, or the given ids): id, code, name; by code."""
    statement = select(Region.id, Region.code, Region.name).order_by(Region.code)
    if region_ids is not None:
        statement = statement.where(Region.id.in_(list(region_ids)))
    return _rows(statement)


def export_rows(start: date, end: date, region_ids: Iterable[int] | None = None,
                batch: int = 1000) -> Iterator[Row]:
    """Yield one row per answer of the counted submissions (SPEC §5 CSV), fetched in batches.

    Columns: submission_id, visit_date, region_code, branch_code, checklist_slug,
    checklist_version, channel, section_key, question_key, standard_key, answer,
    earned, possible, score, critical_fail (the submission's), comment, repeat.
    """
    statement = (
        select(Submission.id.label("submission_id"), Submission.visit_date,
               Region.code.label("region_code"), Branch.code.label("branch_code"),
               Checklist.slug.label("checklist_slug"), ChecklistVersion.number.label("checklist_version"),
               Checklist.channel, Answer.section_key, Answer.question_key, Answer.standard_key,
               Answer.value.label("answer"), Answer.earned, Answer.possible, Submission.score,
               Submission.critical_fail, Answer.comment, Answer.repeat)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Branch, Branch.id == Submission.branch_id)
        .join(Region, Region.id == Branch.region_id)
        .join(ChecklistVersion, ChecklistVersion.id == Submission.version_id)
        .join(Checklist, Checklist.id == ChecklistVersion.checklist_id)
        .where(_counted(start, end), _scope(region_ids=region_ids))
        .order_by(Submission.visit_date, Submission.id, Answer.position)
        .execution_options(yield_per=batch)
    )
    yield from db.session.execute(statement)


def visit_count(start: date, end: date, region_ids: Iterable[int] | None = None) -> int:
    """Count the visits in a period (every review state), as the per-visit export would list them."""
    return db.session.scalar(select(func.count(Submission.id)).where(
        Submission.visit_date >= start, Submission.visit_date <= end, _scope(region_ids=region_ids)))


def visit_export_rows(start: date, end: date, region_ids: Iterable[int] | None = None,
                      batch: int = 1000) -> Iterator[Row]:
    """Yield one row per visit in the period, in every review state (SPEC §5 ``by=visit``), in batches.

    Unlike every other report this one is not limited to counted visits: the review state is one of
    its columns, so HQ can see in a spreadsheet what is waiting, returned or rejected, and why (flags).
    Columns: reference, visit_date, branch_code, branch_name, region_code, checklist_slug,
    checklist_version, channel, score, critical_fail, review, flags (comma-separated, or None).
    """
    flags = (select(func.aggregate_strings(SubmissionFlag.flag, ","))
             .where(SubmissionFlag.submission_id == Submission.id).scalar_subquery())
    statement = (
        select(Submission.reference, Submission.visit_date, Branch.code.label("branch_code"),
               Branch.name.label("branch_name"), Region.code.label("region_code"),
               Checklist.slug.label("checklist_slug"), ChecklistVersion.number.label("checklist_version"),
               Checklist.channel, Submission.score, Submission.critical_fail, Submission.review,
               flags.label("flags"))
        .join(Branch, Branch.id == Submission.branch_id)
        .join(Region, Region.id == Branch.region_id)
        .join(ChecklistVersion, ChecklistVersion.id == Submission.version_id)
        .join(Checklist, Checklist.id == ChecklistVersion.checklist_id)
        .where(Submission.visit_date >= start, Submission.visit_date <= end, _scope(region_ids=region_ids))
        .order_by(Submission.visit_date, Submission.id)
        .execution_options(yield_per=batch)
    )
    yield from db.session.execute(statement)
