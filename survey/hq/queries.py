"""What the HQ console reads: one function per question a page asks, so views only call and render.

Like ``reports/queries.py``: each function is one query (or a fixed few), whatever the
number of checklists, branches or links; nothing here writes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, orm

from ..caches import checklist_of
from ..checklist.edits import unchanged_from
from ..extensions import db
from ..models import (
    UNFINISHED,
    Alert,
    AlertState,
    Assignment,
    AssignmentState,
    Branch,
    Checklist,
    ChecklistDraft,
    ChecklistVersion,
    Region,
    ReviewState,
    Standard,
    Submission,
    SubmissionFlag,
    User,
    Wave,
    code_is,
)

# ------------------------------------------------------------------ the catalogue


def standards() -> list[Standard]:
    """Return the standards for the catalogue page: current first, in catalogue order."""
    return list(db.session.scalars(db.select(Standard).order_by(Standard.retired, Standard.position, Standard.key)))


def standard_choices() -> list[tuple[str, str, bool]]:
    """Return ``(key, title, retired)`` of every standard, in catalogue order (the editor's choices)."""
    return [tuple(row) for row in db.session.execute(
        db.select(Standard.key, Standard.title, Standard.retired).order_by(Standard.position, Standard.key))]


def standard_titles() -> dict[str, str]:
    return dict(db.session.execute(db.select(Standard.key, Standard.title)).all())


def standards_catalogue() -> dict[str, bool]:
    """Return the standards as key → retired (what the checklist validator needs)."""
    return dict(db.session.execute(db.select(Standard.key, Standard.retired)).all())


def _latest_versions():
    """Select each checklist's newest version (its content deferred), with the checklist's slug and title."""
    newest = (db.select(ChecklistVersion.checklist_id, func.max(ChecklistVersion.number).label("number"))
              .group_by(ChecklistVersion.checklist_id).subquery())
    return (db.select(ChecklistVersion, Checklist.slug, Checklist.title)
            .join(Checklist, Checklist.id == ChecklistVersion.checklist_id)
            .join(newest, (newest.c.checklist_id == ChecklistVersion.checklist_id)
                  & (newest.c.number == ChecklistVersion.number))
            .order_by(Checklist.title))


def measured_by() -> dict[str, list[dict[str, Any]]]:
    """Return, per standard key, the questions of the latest published versions that measure it.

    One query for every checklist's latest version; each is parsed once per process.
    """
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for version, slug, title in db.session.execute(_latest_versions()):
        for section, question in checklist_of(version).questions():
            key = getattr(question, "standard", None)
            if key and question.scored:
                found[key].append({
                    "checklist": title, "slug": slug, "version": version.number,
                    "section": section.title, "key": question.key, "text": question.text,
                })
    return found


def checklist_summaries() -> list[dict[str, Any]]:
    """Summarise every checklist and draft: versions with their submissions, and the draft's state.

    Two queries: versions with submissions counted per version, and the drafts.
    """
    rows = db.session.execute(
        db.select(Checklist.slug, Checklist.title, Checklist.channel, ChecklistVersion.number,
                  ChecklistVersion.published_at, ChecklistVersion.content_hash, func.count(Submission.id))
        .join(ChecklistVersion, ChecklistVersion.checklist_id == Checklist.id)
        .outerjoin(Submission, Submission.version_id == ChecklistVersion.id)
        .group_by(Checklist.slug, Checklist.title, Checklist.channel, ChecklistVersion.number,
                  ChecklistVersion.published_at, ChecklistVersion.content_hash)
        .order_by(Checklist.title, ChecklistVersion.number)
    ).all()
    items: dict[str, dict[str, Any]] = {}
    for slug, title, channel, version_number, published_at, digest, submissions in rows:
        item = items.setdefault(slug, {"slug": slug, "title": title, "channel": channel.value, "versions": [],
                                       "submissions": 0, "draft": None})
        item["versions"].append({"number": version_number, "published_at": published_at, "submissions": submissions})
        item["submissions"] += submissions
        item["latest"], item["latest_hash"] = version_number, digest
    for draft in db.session.scalars(db.select(ChecklistDraft).order_by(ChecklistDraft.slug)):
        item = items.get(draft.slug)
        if item is None:
            content = draft.content if isinstance(draft.content, dict) else {}
            items[draft.slug] = {"slug": draft.slug, "title": content.get("title") or draft.slug,
                                 "channel": content.get("channel") or "", "versions": [], "submissions": 0,
                                 "latest": None, "draft": "new"}
        elif draft.base_version != item["latest"]:
            item["draft"] = "behind"
        elif not unchanged_from(draft.content, item["latest_hash"]):
            item["draft"] = "changed"
    return sorted(items.values(), key=lambda i: str(i["title"]).lower())


def checklist(slug: str) -> Checklist | None:
    return db.session.scalar(db.select(Checklist).filter_by(slug=slug))


def draft(slug: str) -> ChecklistDraft | None:
    return db.session.scalar(db.select(ChecklistDraft).filter_by(slug=slug))


def slug_taken(slug: str) -> bool:
    """Tell whether a checklist or a draft already has this slug."""
    return bool(db.session.scalar(db.select(Checklist.id).filter_by(slug=slug))
                or db.session.scalar(db.select(ChecklistDraft.id).filter_by(slug=slug)))


def user_email(user_id: int | None) -> str | None:
    return db.session.scalar(db.select(User.email).where(User.id == user_id)) if user_id else None


@dataclass
class VersionPage:
    checklist: Checklist
    version: ChecklistVersion
    previous: ChecklistVersion | None
    submissions: int


def version_page(slug: str, number: int) -> VersionPage | None:
    """Return a published version, the one before it and how many submissions it has; None if unknown."""
    found = checklist(slug)
    version = next((v for v in (found.versions if found else []) if v.number == number), None)
    if version is None:
        return None
    previous = next((v for v in found.versions if v.number == number - 1), None)
    submissions = db.session.scalar(db.select(func.count(Submission.id)).filter_by(version_id=version.id))
    return VersionPage(found, version, previous, submissions)


# ------------------------------------------------------------------ the dashboard


def dashboard_counts(today: date, month_start: datetime) -> dict[str, int]:
    """Count what the dashboard shows, in one query (plus the standards measured, from the cache)."""
    usable = Assignment.usable_on(today)
    this_month = Submission.submitted_at >= month_start

    def count(*where: Any, of: Any) -> Any:
        return db.select(func.count()).select_from(of).where(*where).scalar_subquery()

    active_standards = db.select(Standard.key).where(Standard.retired.is_(False))
    row = db.session.execute(db.select(
        count(usable, of=Assignment).label("open_links"),
        count(usable, Assignment.state == AssignmentState.started, of=Assignment).label("started_links"),
        count(this_month, of=Submission).label("submissions_month"),
        count(this_month, Submission.critical_fail.is_(True), of=Submission).label("critical_month"),
        count(Submission.review == ReviewState.rejected, of=Submission).label("rejected"),
        count(Submission.review == ReviewState.pending, of=Submission).label("waiting"),
        # Branches that can get links: an active branch of an inactive region gets none (as on /hq/regions).
        db.select(func.count()).select_from(Branch).join(Region).where(Branch.active, Region.active)
        .scalar_subquery().label("branches"),
        count(of=Wave).label("waves"),
        db.select(func.count()).select_from(active_standards.subquery()).scalar_subquery().label("standards"),
    )).one()
    counts = dict(row._mapping)
    measured = measured_by()
    active = db.session.scalars(active_standards).all()
    counts["unmeasured"] = sum(1 for key in active if not measured.get(key))
    return counts


# ------------------------------------------------------------------ regions and branches


def branch_counts_by_region() -> dict[int, dict[bool, int]]:
    """Return, per region id, its branches counted by active (True) and inactive (False)."""
    totals: dict[int, dict[bool, int]] = {}
    for region_id, active, n in db.session.execute(
            db.select(Branch.region_id, Branch.active, func.count()).group_by(Branch.region_id, Branch.active)):
        totals.setdefault(region_id, {True: 0, False: 0})[bool(active)] += n
    return totals


def regions() -> list[Region]:
    """Return the regions, active first, by code."""
    return list(db.session.scalars(db.select(Region).order_by(Region.active.desc(), Region.code)))


def regions_by_code() -> list[Region]:
    return list(db.session.scalars(db.select(Region).order_by(Region.code)))


def region(code: str) -> Region | None:
    return db.session.scalar(db.select(Region).filter_by(code=code))


def branches_page(region_id: int | None, page: int, size: int) -> tuple[list[Any], int, int]:
    """Return one page of the branches (of one region), active first, by region and code; the
    number of them, and the page (kept inside the list).

    Rows, not objects: id, code, name, address, active, region_name, region_active. A chain has
    thousands: one page of them, with its region, in one query; the count reads only the branch
    table (bench/chain_pages.py).
    """
    query = (db.select(Branch.id, Branch.code, Branch.name, Branch.address, Branch.active,
                       Region.name.label("region_name"), Region.active.label("region_active"))
             .join(Region, Region.id == Branch.region_id))
    counted = db.select(func.count()).select_from(Branch)
    if region_id is not None:
        query, counted = query.where(Branch.region_id == region_id), counted.where(Branch.region_id == region_id)
    total = db.session.scalar(counted)
    page = min(max(page, 1), max(1, -(-total // size)))
    # The id last: codes are unique, but a total order is what keeps a branch on exactly one page.
    rows = db.session.execute(query.order_by(Branch.active.desc(), Region.code, Branch.code, Branch.id)
                              .limit(size).offset((page - 1) * size))
    return list(rows), total, page


def open_links_by_branch(today: date, branch_ids: list[int]) -> dict[int, int]:
    """Return, per branch id of ``branch_ids``, how many of its links a shopper could still use.

    Only the branches asked for: a page of them reads their links, not every link of the chain.
    """
    if not branch_ids:
        return {}
    return dict(db.session.execute(
        db.select(Assignment.branch_id, func.count())
        .where(Assignment.branch_id.in_(branch_ids), Assignment.usable_on(today))
        .group_by(Assignment.branch_id)).all())


# ------------------------------------------------------------------ waves and links


def waves() -> list[Wave]:
    return list(db.session.scalars(db.select(Wave).order_by(Wave.created_at.desc(), Wave.id.desc())))


def state_counts(today: date, wave_id: int | None = None) -> dict[int | None, Counter]:
    """Count links per wave and effective state (an unfinished link past its due date is expired).

    Links made outside a wave (``flask assign``, a chain's years of them) are not counted: the
    wave_id index then skips them instead of the query reading every link ever made.
    """
    past = Assignment.due < today
    query = (db.select(Assignment.wave_id, Assignment.state, past, func.count())
             .group_by(Assignment.wave_id, Assignment.state, past))
    query = query.where(Assignment.wave_id == wave_id if wave_id is not None else Assignment.wave_id.is_not(None))
    counts: dict[int | None, Counter] = defaultdict(Counter)
    for wave, state, is_past, n in db.session.execute(query):
        counts[wave][AssignmentState.expired.value if state in UNFINISHED and is_past else state.value] += n
    return counts


def wave_links(wave_id: int) -> list[Assignment]:
    """Return a wave's links with their branch, checklist and version number, in one query."""
    return list(db.session.scalars(
        db.select(Assignment).join(Branch).where(Assignment.wave_id == wave_id).order_by(Branch.code, Assignment.id)
        .options(orm.contains_eager(Assignment.branch), orm.joinedload(Assignment.checklist),
                 orm.joinedload(Assignment.version).load_only(ChecklistVersion.number))))


def wave_submissions(wave_id: int) -> dict[int, int]:
    """Return, per link of a wave that was sent, its submission's id."""
    return dict(db.session.execute(
        db.select(Submission.assignment_id, Submission.id).join(Assignment).where(Assignment.wave_id == wave_id)).all())


def not_done_links(wave_id: int | None = None) -> list[Assignment]:
    """Return the links shoppers ended as not done (SPEC §3 ``outcomes``), latest first, in one query."""
    query = (db.select(Assignment).join(Branch).where(Assignment.state == AssignmentState.not_done)
             .order_by(Assignment.outcome_at.desc(), Assignment.id.desc())
             .options(orm.contains_eager(Assignment.branch), orm.joinedload(Assignment.checklist),
                      orm.joinedload(Assignment.version), orm.joinedload(Assignment.wave),
                      orm.selectinload(Assignment.outcome_photos)))
    if wave_id is not None:
        query = query.where(Assignment.wave_id == wave_id)
    return list(db.session.scalars(query))


def reissued(links: list[Assignment]) -> dict[int, int]:
    """Map each not-done link to the first link issued after it for the same branch, checklist and wave.

    One query for all of them; a link counts as the new one when it was made after the shopper said
    the shop could not be done.
    """
    links = [a for a in links if a.state == AssignmentState.not_done]
    if not links:
        return {}
    since = min(a.outcome_at or a.created_at for a in links)
    later = db.session.execute(
        db.select(Assignment.id, Assignment.branch_id, Assignment.checklist_id, Assignment.wave_id,
                  Assignment.created_at)
        .where(Assignment.branch_id.in_({a.branch_id for a in links}),
               Assignment.checklist_id.in_({a.checklist_id for a in links}), Assignment.created_at >= since)
        .order_by(Assignment.id)).all()
    out = {}
    for link in links:
        after = link.outcome_at or link.created_at
        found = next((row.id for row in later if row.id > link.id and row.branch_id == link.branch_id
                      and row.checklist_id == link.checklist_id and row.wave_id == link.wave_id
                      and row.created_at >= after), None)
        if found is not None:
            out[link.id] = found
    return out


def submission_of(assignment_id: int) -> Submission | None:
    return db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment_id))


# ------------------------------------------------------------------ submissions


@dataclass
class SubmissionFilter:
    """What HQ narrows the submissions list to; None means "any"."""

    wave: int | None = None
    region: int | None = None
    branch: int | None = None
    checklist: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    #: Percent, 0..100.
    score_min: float | None = None
    score_max: float | None = None
    critical: bool = False
    #: A ReviewState's value ("counted", "pending", "returned", "rejected"), or "" for any.
    state: str = ""
    #: A trust flag (flags.FLAGS), or "" for any.
    flag: str = ""


def branch_with_code(code: str) -> int | None:
    """Return the id of the branch with this code, whatever its case, or None."""
    # Codes are stored in capitals: the unique index first, every branch's upper() only for an older one.
    return (db.session.scalar(db.select(Branch.id).where(Branch.code == code.upper()))
            or db.session.scalar(db.select(Branch.id).where(code_is(Branch.code, code))))


def region_branch_codes(region_id: int) -> list[tuple[str, str]]:
    """Return ``(code, name)`` of a region's branches, by code."""
    return [tuple(row) for row in db.session.execute(
        db.select(Branch.code, Branch.name).where(Branch.region_id == region_id).order_by(Branch.code))]


def _filtered(f: SubmissionFilter, query):
    """Narrow a select of submissions to the filters.

    The filters on other tables are subqueries, so counting the matches reads the submissions alone
    (one index) and only the rows shown are joined to their branch, region and version.
    """
    if f.wave is not None:
        query = query.where(Submission.assignment_id.in_(
            db.select(Assignment.id).where(Assignment.wave_id == f.wave)))
    if f.region is not None:
        query = query.where(Submission.branch_id.in_(db.select(Branch.id).where(Branch.region_id == f.region)))
    if f.branch is not None:
        query = query.where(Submission.branch_id == f.branch)
    if f.checklist is not None:
        query = query.where(Submission.version_id.in_(
            db.select(ChecklistVersion.id).where(ChecklistVersion.checklist_id == f.checklist)))
    if f.date_from:
        query = query.where(Submission.visit_date >= f.date_from)
    if f.date_to:
        query = query.where(Submission.visit_date <= f.date_to)
    if f.score_min is not None:
        query = query.where(Submission.score >= f.score_min / 100)
    if f.score_max is not None:
        query = query.where(Submission.score <= f.score_max / 100)
    if f.critical:
        query = query.where(Submission.critical_fail.is_(True))
    if f.flag:
        query = query.where(Submission.id.in_(db.select(SubmissionFlag.submission_id)
                                              .where(SubmissionFlag.flag == f.flag)))
    if f.state == ReviewState.counted.value:
        query = query.where(Submission.counts())
    elif f.state:
        query = query.where(Submission.review == ReviewState(f.state))
    return query


#: HQ's review queue: what waits for HQ first, then what waits for the shopper.
QUEUE_STATES = (ReviewState.pending, ReviewState.returned)


#: The submissions lists count their matches up to here (or a page past the one shown): a chain's
#: 144,000 visits counted on every page cost more than the page itself.
COUNT_CAP = 1000


def submissions_page(f: SubmissionFilter, page: int, size: int,
                     queue: bool = False) -> tuple[list[Any], int, int, bool]:
    """Return one page of matching submissions, the number matching, the page, and whether there are
    more than that number.

    The list shows the newest visits first; the review ``queue`` only those waiting, pending
    before returned, the longest waiting first. Matches are counted only up to ``COUNT_CAP`` or
    one past the page asked for, whichever is more: past it the number is "more than", the last
    page unknown and the next one there (its rows are after the ones counted).
    """
    query = _filtered(f, db.select(Submission.id))
    if queue:
        query = query.where(Submission.review.in_(QUEUE_STATES))
        order = (case((Submission.review == ReviewState.pending, 0), else_=1), Submission.submitted_at, Submission.id)
    else:
        order = (Submission.visit_date.desc(), Submission.id.desc())
    cap = max(COUNT_CAP, max(page, 1) * size) + 1
    total = db.session.scalar(db.select(func.count()).select_from(query.limit(cap).subquery()))
    more = total >= cap
    if more:
        total = cap - 1
    else:
        page = min(max(page, 1), max(1, -(-total // size)))
    shown = (query.with_only_columns(Submission, Branch, Region, ChecklistVersion)
             .join(Branch, Submission.branch_id == Branch.id).join(Region, Branch.region_id == Region.id)
             .join(ChecklistVersion, Submission.version_id == ChecklistVersion.id))
    rows = db.session.execute(shown.order_by(*order).limit(size).offset((page - 1) * size)
                              .options(orm.selectinload(Submission.flags))).all()
    return rows, total, page, more


def wave_flag_counts(wave_id: int) -> dict[str, int]:
    """Count a wave's submissions per trust flag."""
    return dict(db.session.execute(
        db.select(SubmissionFlag.flag, func.count()).join(Submission, SubmissionFlag.submission_id == Submission.id)
        .join(Assignment, Submission.assignment_id == Assignment.id).where(Assignment.wave_id == wave_id)
        .group_by(SubmissionFlag.flag)).all())


def checklist_titles() -> dict[int, str]:
    return dict(db.session.execute(db.select(Checklist.id, Checklist.title)).all())


# ------------------------------------------------------------------ e-mail alerts

#: What HQ should look at: alerts that went nowhere, or may have.
NEEDS_ATTENTION = (AlertState.failed, AlertState.unknown)


def alerts_page(state: str, reason: str, region_id: int | None, page: int, size: int) -> tuple[list[Any], int, int]:
    """Return one page of alerts (those needing attention first, then newest), the number matching, and the page."""
    query = (db.select(Alert, Submission, Branch, Region).join(Submission, Alert.submission_id == Submission.id)
             .join(Branch, Submission.branch_id == Branch.id).join(Region, Branch.region_id == Region.id))
    if state == "attention":
        query = query.where(Alert.state.in_(NEEDS_ATTENTION))
    elif state:
        query = query.where(Alert.state == AlertState(state))
    if reason:
        query = query.where(Alert.reason == reason)
    if region_id is not None:
        query = query.where(Branch.region_id == region_id)
    total = db.session.scalar(db.select(func.count()).select_from(query.with_only_columns(Alert.id).subquery()))
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    attention = db.case((Alert.state.in_(NEEDS_ATTENTION), 0), else_=1)
    rows = db.session.execute(query.order_by(attention, Alert.created_at.desc(), Alert.id.desc())
                              .limit(size).offset((page - 1) * size)).all()
    return rows, total, page


def alert_counts() -> dict[str, int]:
    """Count alerts by what the dashboard says of them: needing attention, on their way."""
    counts = dict(db.session.execute(db.select(Alert.state, func.count()).group_by(Alert.state)).all())
    return {"attention": sum(counts.get(s, 0) for s in NEEDS_ATTENTION),
            "waiting": counts.get(AlertState.pending, 0) + counts.get(AlertState.sending, 0),
            "sent": counts.get(AlertState.sent, 0)}
