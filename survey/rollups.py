"""Monthly sums of each branch's counted scores (ScoreMonth, StandardMonth), kept on every write.

The only module that writes them. Every write that changes whether a visit counts, or its
score, standard scores, date or branch, goes through here in its own transaction:
``count_new`` for a visit that arrives (or is seeded) counting, ``changing`` around anything
else (review decisions, the shopper's resend, appeals' rescoring). Increments are atomic
upserts (``n = n + :d``), sorted by key, so concurrent writes add up on PostgreSQL and SQLite.

Why per branch and month, not per region or network and day: the reports' region and network
averages are means of branch means (SPEC §4), which no sum over a region's or the network's
visits gives back; they need each branch's sums over the period. A branch's month row replaces
its visits of a whole month (a chain's two a month) in every period that covers the month, and a
branch moving to another region moves its rows with it. A region- or network-wide row would
also be one hot row that every arrival of the chain waits on.

``check`` recomputes the sums from the visits and, with ``repair``, puts right what drifted:
``flask rollups check [--repair]``, and every night on the worker's scheduler.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from huey import crontab
from sqlalchemy import Date, case, cast, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from .caches import statements
from .extensions import db
from .jobs import claim_day, periodic
from .models import ReviewState, ScoreMonth, StandardMonth, StandardScore, Submission

log = logging.getLogger(__name__)

#: Sums that differ by less than this are the same (floating point over many increments).
TOLERANCE = 1e-9

Key = tuple  # (branch_id, month) or (branch_id, month, standard_key)


def month_of(day: date) -> date:
    """Return the first day of ``day``'s month, the rollups' key."""
    return day.replace(day=1)


@dataclass
class Tally:
    """Counts and sums of scores by key: what some visits add to the rollups."""

    scores: dict[Key, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))
    standards: dict[Key, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))

    def add(self, branch_id: int, visit_date: date, score: float | None,
            standards: Iterable[tuple[str, float]], sign: int = 1) -> None:
        month = month_of(visit_date)
        if score is not None:
            bucket = self.scores[branch_id, month]
            bucket[0] += sign
            bucket[1] += sign * score
        for key, value in standards:
            bucket = self.standards[branch_id, month, key]
            bucket[0] += sign
            bucket[1] += sign * value

    def minus(self, other: Tally) -> Tally:
        out = Tally()
        for mine, theirs, into in ((self.scores, other.scores, out.scores),
                                   (self.standards, other.standards, out.standards)):
            for key in set(mine) | set(theirs):
                n = mine.get(key, [0, 0.0])[0] - theirs.get(key, [0, 0.0])[0]
                total = mine.get(key, [0, 0.0])[1] - theirs.get(key, [0, 0.0])[1]
                if n or total:
                    into[key] = [n, total]
        return out


def _upsert(model):
    """Return an INSERT that adds ``n`` and ``total`` to the row of its key, creating it if missing.

    Built once per table and database kind (``caches.statements``): the shopper's send runs it,
    and building it each time cost more than running it (bench/shopper_page.py).
    """
    name = db.session.get_bind().dialect.name
    return statements.get(("rollup upsert", model.__name__, name), lambda: _build_upsert(model, name))


def _build_upsert(model, dialect_name: str):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(model)
    keys = [c.name for c in model.__table__.primary_key.columns]
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={"n": model.__table__.c.n + statement.excluded.n,
              "total": model.__table__.c.total + statement.excluded.total})


def _rows(model, entries: Mapping[Key, list[float]]) -> list[dict[str, Any]]:
    names = [c.name for c in model.__table__.primary_key.columns]
    return [{**dict(zip(names, key)), "n": int(n), "total": total} for key, (n, total) in sorted(entries.items())]


def _apply(tally: Tally) -> None:
    """Add a tally to the rollups in this transaction; drop rows left with no visit."""
    connection = db.session.connection()
    for model, entries in ((ScoreMonth, tally.scores), (StandardMonth, tally.standards)):
        rows = _rows(model, entries)
        if not rows:
            continue
        connection.execute(_upsert(model), rows)
        emptied = [row for row in rows if row["n"] < 0]
        if emptied:
            table = model.__table__
            keys = [c for c in table.primary_key.columns]
            connection.execute(
                delete(table).where(*(c == db.bindparam(f"k_{c.name}") for c in keys), table.c.n <= 0),
                [{f"k_{c.name}": row[c.name] for c in keys} for row in emptied])


def count_new(submission: Mapping[str, Any], standards: Iterable[Mapping[str, Any]]) -> None:
    """Add a visit just stored (its row as inserted, its standard score rows) if it counts on arrival.

    From the values in hand, not read back: the shopper's send is a budgeted request.
    """
    if submission["review"] != ReviewState.counted:
        return
    tally = Tally()
    tally.add(submission["branch_id"], submission["visit_date"], submission["score"],
              ((s["standard_key"], s["score"]) for s in standards))
    _apply(tally)


def _contribution(submission_id: int, lock: bool = False) -> Tally:
    """Read what one visit adds to the rollups as the database holds it now (nothing unless it counts)."""
    counts = case((Submission.counts(), True), else_=False).label("counts")
    statement = (select(Submission.branch_id, Submission.visit_date, Submission.score, counts)
                 .where(Submission.id == submission_id))
    if lock:  # the visit's row: a second change to it waits, then reads what the first left
        statement = statement.with_for_update()
    row = db.session.execute(statement).first()
    tally = Tally()
    if row is None or not row.counts:
        return tally
    standards = db.session.execute(select(StandardScore.standard_key, StandardScore.score)
                                   .where(StandardScore.submission_id == submission_id)).all()
    tally.add(row.branch_id, row.visit_date, row.score, standards)
    return tally


@contextmanager
def changing(submission_id: int) -> Iterator[None]:
    """Keep the rollups right around a change to one stored visit, in the caller's transaction.

    Reads what the visit adds now (locking its row), lets the caller change it, then adds the
    difference. Nothing is applied if the body raises: the caller rolls back.
    """
    db.session.flush()
    before = _contribution(submission_id, lock=True)
    yield
    db.session.flush()
    _apply(_contribution(submission_id).minus(before))


# ---------------------------------------------------------------- recomputing from the visits


def _month_sql(column):
    """SQL for the first day of a date column's month, on PostgreSQL and SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


def _sums():
    """Return the two selects that sum the counted visits per branch and month (and standard),
    in the rollups' column order."""
    month = _month_sql(Submission.visit_date).label("month")
    scores = (select(Submission.branch_id, month, func.count(Submission.score).label("n"),
                     func.sum(Submission.score).label("total"))
              .where(Submission.counts(), Submission.score.is_not(None))
              .group_by(Submission.branch_id, month))
    standards = (select(Submission.branch_id, month, StandardScore.standard_key, func.count().label("n"),
                        func.sum(StandardScore.score).label("total"))
                 .join(StandardScore, StandardScore.submission_id == Submission.id)
                 .where(Submission.counts())
                 .group_by(Submission.branch_id, month, StandardScore.standard_key))
    return scores, standards


def expected() -> Tally:
    """Recompute every rollup row from the counted visits (two grouped queries)."""
    scores, standards = _sums()
    tally = Tally()
    for row in db.session.execute(scores):
        tally.scores[row[0], _day(row[1])] = [row[2], row[3]]
    for row in db.session.execute(standards):
        tally.standards[row[0], _day(row[1]), row[2]] = [row[3], row[4]]
    return tally


def rebuild() -> None:
    """Write both rollups afresh from the visits, in SQL (data loaded in bulk: bench/chain_data.py)."""
    scores, standards = _sums()
    for model, source in ((ScoreMonth, scores), (StandardMonth, standards)):
        db.session.execute(delete(model))
        columns = [c.name for c in model.__table__.primary_key.columns] + ["n", "total"]
        db.session.execute(model.__table__.insert().from_select(columns, source))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def stored() -> Tally:
    """Read every rollup row as stored."""
    tally = Tally()
    for row in db.session.execute(select(ScoreMonth.branch_id, ScoreMonth.month, ScoreMonth.n, ScoreMonth.total)):
        tally.scores[row[0], row[1]] = [row[2], row[3]]
    for row in db.session.execute(select(StandardMonth.branch_id, StandardMonth.month, StandardMonth.standard_key,
                                         StandardMonth.n, StandardMonth.total)):
        tally.standards[row[0], row[1], row[2]] = [row[3], row[4]]
    return tally


@dataclass
class Drift:
    """Rows whose stored sums differ from the visits': key → (stored, expected), each (n, total) or None."""

    scores: dict[Key, tuple] = field(default_factory=dict)
    standards: dict[Key, tuple] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.scores) + len(self.standards)


def _differences(have: Mapping[Key, list[float]], want: Mapping[Key, list[float]]) -> dict[Key, tuple]:
    out = {}
    for key in set(have) | set(want):
        a, b = have.get(key), want.get(key)
        if a is not None and not a[0] and abs(a[1]) < TOLERANCE:
            a = None  # an emptied row is no row
        if a is None and b is None:
            continue
        if a is None or b is None or a[0] != b[0] or abs(a[1] - b[1]) > TOLERANCE:
            out[key] = (tuple(a) if a else None, tuple(b) if b else None)
    return out


def check(repair: bool = False) -> Drift:
    """Compare the rollups with the visits; with ``repair``, set every drifted row to the visits' sums.

    A repair locks both tables against writes first (PostgreSQL), so a write running meanwhile
    either is in what it reads or adds its change after it.
    """
    if repair and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE score_month, standard_month IN EXCLUSIVE MODE"))
    have, want = stored(), expected()
    drift = Drift(_differences(have.scores, want.scores), _differences(have.standards, want.standards))
    if repair and drift:
        fix = Tally()
        for into, found in ((fix.scores, drift.scores), (fix.standards, drift.standards)):
            for key, (was, should) in found.items():
                was, should = was or (0, 0.0), should or (0, 0.0)
                into[key] = [should[0] - was[0], should[1] - was[1]]
        _apply(fix)
    return drift


@periodic(crontab(minute="47", hour="3"))
def rollups_repair() -> None:
    """Put right any drift of the rollups from the visits, once a day at 03:47 UTC."""
    today = date.today()
    if not claim_day("rollups_repair", today):
        log.info("rollups repair for %s already ran", today)
        return
    drift = check(repair=True)
    db.session.commit()
    if drift:
        log.warning("rollups repair: %d rows had drifted from the visits and were set right", len(drift))
    else:
        log.info("rollups repair: no drift")
