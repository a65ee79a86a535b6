"""Report data (reports/CONTRACT.md): rows from ``queries`` → statistics → one plain dict per report.

Nothing here writes, and nothing returned is an ORM object, so rendering can't
touch the database. Scores go out as percent (0–100) at full precision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any, NamedTuple

from flask import current_app

from survey.checklist.schema import Checklist as ChecklistSchema
from survey.checklist.schema import critical_rule
from survey.caches import checklist_of, parsed_checklist
from survey.models import photo_key
from survey.submissions import OUTCOME_PREFIX

from . import queries, stats
from .periods import Period, make_period, month_label, shift_months

#: Interval ends are clipped to what a score can be.
BOUNDS = (0.0, 100.0)
#: Channels in the order people think of them; sections are listed in this order.
CHANNELS = ("visit", "call", "email", "chat")
NO_VISITS = "No visits in this period"
ONE_VISIT = "1 visit: not enough to compare"
#: How many questions "what to fix first" names (SPEC §8).
FIX_FIRST = 5
#: Below this many points lost per visit a question needs no fixing (floating-point sums may leave a hair).
NOTHING_LOST = 1e-9


class UnknownCode(LookupError):
    """No branch or region has that code."""


def to_percent(value: float | None) -> float | None:
    """Turn a stored 0..1 score into percent."""
    return None if value is None else value * 100.0


def _value(enum_or_str: Any) -> str:
    return getattr(enum_or_str, "value", enum_or_str)


class VersionRow(NamedTuple):
    """A checklist version as the visits name it (``queries.version_contents`` without the content)."""

    id: int
    checklist_id: int
    slug: str
    title: str
    channel: Any
    number: int
    content_hash: str


class Versions:
    """The checklist versions a report's visits were filled against, parsed once per process
    (the shopper's own cache, ``checklist_of``)."""

    def __init__(self, rows: Iterable[Any], parsed: dict[int, ChecklistSchema] | None = None):
        """``rows`` from ``queries.version_contents``; those in ``parsed`` (by id) need no content."""
        self.rows = {r.id: r for r in rows}
        parsed = parsed or {}
        self.parsed: dict[int, ChecklistSchema] = {vid: parsed.get(vid) or checklist_of(row)
                                                   for vid, row in self.rows.items()}

    @classmethod
    def of_visits(cls, visits: Iterable[Any]) -> Versions:
        """Return the versions of ``queries.visits`` rows, which name them; only a version not parsed
        yet in this process has its content read (one query for all of them)."""
        rows: dict[int, VersionRow] = {}
        for v in visits:
            if v.version_id not in rows:
                rows[v.version_id] = VersionRow(v.version_id, v.checklist_id, v.slug, v.checklist, v.channel,
                                                v.version, v.content_hash)
        parsed = {vid: found for vid, row in rows.items()
                  if (found := parsed_checklist(vid, row.content_hash)) is not None}
        missing = [vid for vid in rows if vid not in parsed]
        return cls([*(rows[vid] for vid in parsed), *queries.version_contents(missing)], parsed)

    def newest_first(self, checklist_id: int) -> list[int]:
        ids = [i for i, r in self.rows.items() if r.checklist_id == checklist_id]
        return sorted(ids, key=lambda i: self.rows[i].number, reverse=True)

    def question(self, version_id: int, key: str):
        """Return ``(section, question)`` of a version, or ``(None, None)``."""
        for section, question in self.parsed[version_id].questions():
            if question.key == key:
                return section, question
        return None, None

    def latest_question(self, checklist_id: int, key: str):
        """Return the newest wording of a question among the versions used."""
        for version_id in self.newest_first(checklist_id):
            section, question = self.question(version_id, key)
            if question is not None:
                return section, question
        return None, None

    def latest_section(self, checklist_id: int, key: str):
        for version_id in self.newest_first(checklist_id):
            for section in self.parsed[version_id].sections:
                if section.key == key:
                    return section
        return None

    def checklist_row(self, checklist_id: int):
        ids = self.newest_first(checklist_id)
        return self.rows[ids[0]] if ids else None


def _frame(kind: str, period: Period) -> dict[str, Any]:
    """Return what every report starts with: kind, brand, time, periods and target."""
    previous = period.previous()
    return {
        "kind": kind,
        "brand": current_app.config["SURVEY_BRAND"],
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "period": period.as_dict(),
        "previous_period": previous.as_dict(),
        "target": float(current_app.config["SURVEY_TARGET_SCORE"]),
    }


def _standard_list(catalogue, with_data: set[str]) -> list[Any]:
    """Return the standards to show, in catalogue order: current ones, and retired ones that have data."""
    return [s for s in catalogue if not s.retired or s.key in with_data]


def _monthly(rows: Iterable[Any], period: Period) -> dict[str, dict[int, list[float]]]:
    """Bucket per-day (or per-visit) rows into month → branch → [total, n]."""
    months: dict[str, dict[int, list[float]]] = {m: {} for m in period.months()}
    # Keyed by (year, month): formatting each row's date cost more than the rest of the loop, and
    # a region of a chain has a year of days for each of its fifty branches.
    named = {(int(m[:4]), int(m[5:])): months[m] for m in months}
    for row in rows:
        day = row.visit_date
        bucket = named[day.year, day.month].setdefault(row.branch_id, [0.0, 0])
        bucket[0] += row.total
        bucket[1] += row.n
    return months


def _month_means(buckets: dict[int, list[float]]) -> dict[int, float]:
    return {branch_id: to_percent(total / n) for branch_id, (total, n) in buckets.items() if n}


def _versions_used(current: list[Any], versions: Versions) -> list[dict[str, Any]]:
    counts: dict[int, int] = defaultdict(int)
    for visit in current:
        counts[visit.version_id] += 1
    out = []
    for version_id, n in counts.items():
        row = versions.rows[version_id]
        out.append({"checklist": row.slug, "title": row.title, "version": row.number, "visits": n})
    return sorted(out, key=lambda v: (_channel_order(versions, v["checklist"]), v["checklist"], v["version"]))


def _channel_order(versions: Versions, slug: str) -> int:
    for row in versions.rows.values():
        if row.slug == slug:
            channel = _value(row.channel)
            return CHANNELS.index(channel) if channel in CHANNELS else len(CHANNELS)
    return len(CHANNELS)


def _excluded(rows: Iterable[Any]) -> tuple[int, int]:
    counts = {r.status: r.n for r in rows}
    return counts.get("na", 0), counts.get("hidden", 0)


def _critical(rows: Iterable[Any], versions: Versions, branches: dict[int, Any] | None = None):
    """Return (critical failures, critical overrides) from failed critical answers.

    ``branches`` (id → row with code and name): name each one's branch, for a region's report,
    where a visit code alone tells a reader nothing.
    """
    failures, overrides, seen = [], [], set()
    for row in rows:
        checklist = versions.parsed.get(row.version_id)
        _, question = versions.question(row.version_id, row.question_key) if checklist else (None, None)
        rule = critical_rule(question, checklist) if question is not None else None
        text = question.text if question is not None else row.question_key
        where = {}
        if branches is not None:
            branch = branches.get(row.branch_id)
            where = {"branch": {"code": branch.code if branch else "", "name": branch.name if branch else ""}}
        failures.append({
            "date": row.visit_date.isoformat(),
            "reference": row.reference,
            "checklist": versions.rows[row.version_id].title if checklist else "",
            "question": text,
            "rule": rule or "zero",
            # The score the visit would have had (a "zero" rule's override), for the region's list.
            "computed_score": to_percent(row.computed) if rule == "zero" else None,
            **where,
        })
        if rule == "zero" and row.computed is not None and row.submission_id not in seen:
            seen.add(row.submission_id)
            overrides.append({"date": row.visit_date.isoformat(), "reference": row.reference,
                              "question": text, "computed_score": to_percent(row.computed), **where})
    return failures, overrides


def _note(n: int) -> str | None:
    if n == 0:
        return NO_VISITS
    if n == 1:
        return ONE_VISIT
    return None


def ranked_fixes(rows: Iterable[Any], versions: Versions, titles: dict[str, str],
                 top: int = FIX_FIRST) -> dict[int, list[dict[str, Any]]]:
    """Rank each branch's questions by what to fix first (SPEC §8), from ``queries.question_losses`` rows;
    return each branch's first ``top``.

    A question with a critical failure in the period comes first; then by points lost per visit,
    most first; within each group, one applicable in fewer than 2 visits comes after the rest (one
    visit may be chance); ties by visits seen, then checklist and key. A question that lost
    nothing and never failed is not listed. Only the questions listed are looked up for their
    wording (a branch's year has fifty-odd questions with a loss; bench/branch_page.py).
    """
    slugs: dict[int, str] = {}
    ranked: dict[int, list[tuple[tuple, float, Any]]] = defaultdict(list)
    for row in rows:
        lost = 100.0 * (row.lost or 0.0) / row.visits if row.visits else 0.0
        if lost < NOTHING_LOST and not row.critical:
            continue
        if row.checklist_id not in slugs:
            checklist = versions.checklist_row(row.checklist_id)
            slugs[row.checklist_id] = checklist.slug if checklist else ""
        order = (not row.critical, row.n < 2, -lost, -row.n, slugs[row.checklist_id], row.question_key)
        ranked[row.branch_id].append((order, lost, row))
    out: dict[int, list[dict[str, Any]]] = {}
    for branch_id, items in ranked.items():
        items.sort(key=lambda item: item[0])
        out[branch_id] = [_fix(row, lost, versions, titles) for _, lost, row in items[:top]]
    return out


def _fix(row: Any, lost: float, versions: Versions, titles: dict[str, str]) -> dict[str, Any]:
    """Lay out one fix-first item in the words of the newest version of its question."""
    _, question = versions.latest_question(row.checklist_id, row.question_key)
    checklist = versions.checklist_row(row.checklist_id)
    return {
        "key": row.question_key, "checklist": checklist.slug if checklist else "",
        "checklist_title": checklist.title if checklist else "",
        "text": question.text if question is not None else row.question_key,
        "standard": titles.get(row.standard_key, row.standard_key),
        "lost": lost, "n": row.n, "critical": int(row.critical or 0),
    }


def action_list(rows: Iterable[Any], today: date) -> list[dict[str, Any]]:
    """Lay out action rows (``queries.actions``) with their question's score before and since (SPEC §8).

    One more query for all of them. Open ones come first, the most overdue at the top; then the
    closed ones, latest closed first.
    """
    rows = list(rows)
    windows = {r.id: shift_months(r.opened_on, -12) for r in rows}
    scores: dict[tuple[int, bool], Any] = {(r.action_id, bool(r.since)): r
                                          for r in queries.action_scores(windows, today)}
    out = []
    for r in rows:
        state = _value(r.state)
        before, since = scores.get((r.id, False)), scores.get((r.id, True))
        out.append({
            "id": r.id, "branch": {"code": r.branch_code, "name": r.branch_name}, "region_code": r.region_code,
            "checklist": r.slug, "checklist_title": r.checklist, "question_key": r.question_key,
            "question": r.question_text, "what": r.what, "owner": r.owner, "due": r.due.isoformat(),
            "state": state, "note": r.note, "opened_on": r.opened_on.isoformat(),
            "overdue": state == "open" and r.due < today,
            "closed_on": r.closed_at.date().isoformat() if r.closed_at else None,
            "before": {"score": to_percent(before.score) if before else None, "n": before.n if before else 0},
            "since": {"score": to_percent(since.score) if since else None, "n": since.n if since else 0},
        })
    still_open = sorted((a for a in out if a["state"] == "open"), key=lambda a: (a["due"], a["id"]))
    closed = sorted((a for a in out if a["state"] != "open"), key=lambda a: (a["closed_on"] or "", a["id"]),
                    reverse=True)
    return still_open + closed


def actions(branch_id: int | None = None, region_ids: Iterable[int] | None = None, overdue: bool = False,
            today: date | None = None) -> list[dict[str, Any]]:
    """Return a branch's actions, or those of some regions (None: every region); ``overdue``: only
    the open ones past their date."""
    today = today or date.today()
    return action_list(queries.actions(branch_id=branch_id, region_ids=region_ids,
                                       overdue_on=today if overdue else None), today)


def branch_report(code: str, start: date | None = None, end: date | None = None,
                  today: date | None = None) -> dict[str, Any]:
    """Return the branch report's data (CONTRACT.md); raise UnknownCode for an unknown branch."""
    period = make_period(start, end, today)
    branch = queries.branch_by_code(code)
    if branch is None:
        raise UnknownCode(f"no branch with code '{code}'")
    rows = queries.visits(period.previous().start, period.end, branch_id=branch.id)
    current = [r for r in rows if r.visit_date >= period.start]
    network = queries.network_mean(period.start, period.end)
    section_rows = queries.section_scores(period.start, period.end, branch.id)
    comment_rows = queries.comments(period.start, period.end, branch.id)
    na, hidden = _excluded(queries.excluded_counts(period.start, period.end, branch_id=branch.id))
    versions = Versions(queries.version_contents(r.version_id for r in current))
    report, overrides = _branch_shown(branch, period, rows, versions, today)

    sections = []
    for row in section_rows:
        section = versions.latest_section(row.checklist_id, row.section_key)
        checklist = versions.checklist_row(row.checklist_id)
        sections.append({
            "key": row.section_key, "title": section.title if section else row.section_key,
            "checklist": checklist.title if checklist else "", "score": to_percent(row.score), "n": row.n,
            "_order": (_channel_order(versions, checklist.slug) if checklist else 9,
                       checklist.slug if checklist else "", row.position),
        })
    sections.sort(key=lambda s: s.pop("_order"))

    headline = report["headline"]
    headline["network_score"] = to_percent(network.score)
    headline["gap_network"] = stats.change(headline["score"], headline["network_score"])
    report.update({
        "sections": sections,
        "checklists": _checklist_groups(section_rows, sections, current, versions),
        "comments": _comments(comment_rows, versions),
        "method": {
            "versions": _versions_used(current, versions),
            "sections": _method_sections(versions),
            "na_excluded": na, "hidden_excluded": hidden, "critical_overrides": overrides,
            "adjustments": _adjustments(comment_rows, versions),
        },
    })
    return report


def branch_screen(code: str, start: date | None = None, end: date | None = None, today: date | None = None,
                  branch: Any = None) -> dict[str, Any]:
    """Return what a branch's page shows (SPEC §8 Screens): the branch report's numbers, from the
    same queries and the same code as its PDF, without what only the PDF prints (network average,
    sections, comments, method). ``branch``: the ``queries.branch_by_code`` row when the caller has
    it (the page's access check). Raise UnknownCode for an unknown branch.

    Seven queries, each a prepared statement but the region's two (bench/branch_page.py); the
    checklist versions come with the visits, their content read only for one not parsed yet.
    """
    period = make_period(start, end, today)
    branch = branch or queries.branch_by_code(code)
    if branch is None:
        raise UnknownCode(f"no branch with code '{code}'")
    rows = queries.visits(period.previous().start, period.end, branch_id=branch.id)
    versions = Versions.of_visits(r for r in rows if r.visit_date >= period.start)
    report, _ = _branch_shown(branch, period, rows, versions, today)
    return report


def _branch_shown(branch: Any, period: Period, rows: list[Any], versions: Versions,
                  today: date | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Lay out what the branch's PDF and its page both show, from the branch's visits (``rows``, from
    the previous period's start) and a few more queries: headline (without the network), standards and
    trend against the region, fix first, actions, critical failures and the visit log.

    Return the report (CONTRACT.md's keys but sections, checklists, comments and method) and the
    visits whose score a critical failure set to 0 (the PDF's method).
    """
    previous = period.previous()
    current = [r for r in rows if r.visit_date >= period.start]
    before = [r for r in rows if r.visit_date <= previous.end]
    standard_rows = queries.standard_scores(period.start, period.end, region_id=branch.region_id)
    daily = queries.daily_branch_scores(period.start, period.end, region_id=branch.region_id)
    loss_rows = queries.question_losses(period.start, period.end, branch_id=branch.id)
    critical_rows = queries.critical_answers(period.start, period.end, branch_id=branch.id)
    catalogue = queries.standards()
    titles = {s.key: s.title for s in catalogue}

    head = stats.summary((to_percent(r.score) for r in current), bounds=BOUNDS)
    region_totals: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])
    for row in daily:
        region_totals[row.branch_id][0] += row.total
        region_totals[row.branch_id][1] += row.n
    region_score = stats.branch_weighted(to_percent(total / n) for total, n in region_totals.values() if n)
    previous_score = stats.mean(to_percent(r.score) for r in before)
    score = head["score"]
    target = float(current_app.config["SURVEY_TARGET_SCORE"])

    own: dict[str, Any] = {}
    by_standard: dict[str, list[float]] = defaultdict(list)
    for row in standard_rows:
        by_standard[row.standard_key].append(to_percent(row.score))
        if row.branch_id == branch.id:
            own[row.standard_key] = row
    standards = []
    for s in _standard_list(catalogue, set(own)):
        mine = to_percent(own[s.key].score) if s.key in own else None
        region_avg = stats.branch_weighted(by_standard.get(s.key, []))
        standards.append({"key": s.key, "title": s.title, "score": mine, "region_score": region_avg,
                          "diff": stats.change(mine, region_avg), "n": own[s.key].n if s.key in own else 0})

    trend = []
    for month, buckets in _monthly(daily, period).items():
        means = _month_means(buckets)
        trend.append({"month": month, "label": month_label(month), "score": means.get(branch.id),
                      "n": int(buckets.get(branch.id, [0, 0])[1]), "region_score": stats.branch_weighted(means)})

    failures, overrides = _critical(critical_rows, versions)
    report = _frame("branch", period)
    report.update({
        "target": target,
        "branch": {"code": branch.code, "name": branch.name, "address": branch.address},
        "region": {"code": branch.region_code, "name": branch.region_name},
        "headline": {
            "score": score, "ci_low": head["ci_low"], "ci_high": head["ci_high"], "n": head["n"], "sd": head["sd"],
            "previous_score": previous_score, "change": stats.change(score, previous_score),
            "region_score": region_score, "network_score": None,
            "gap_target": stats.change(score, target), "gap_region": stats.change(score, region_score),
            "gap_network": None, "note": _note(head["n"]),
        },
        "standards": standards,
        "trend": trend,
        "fix_first": ranked_fixes(loss_rows, versions, titles).get(branch.id, []),
        "actions": actions(branch_id=branch.id, today=today),
        "critical_failures": failures,
        "visits": [{
            "date": r.visit_date.isoformat(), "channel": _value(r.channel), "checklist": r.checklist,
            "version": r.version, "score": to_percent(r.score), "critical_fail": bool(r.critical_fail),
            "reference": r.reference, "outcome": _outcome_label(versions, r.version_id, r.outcome),
            "appealed": bool(r.appealed),
        } for r in current],
    })
    return report, overrides


#: How a commented answer scored: the whole of its points, part of them, or none.
RESULTS = ("failed", "partly", "passed")


def _result(earned: float | None, possible: float | None) -> str | None:
    """Say whether a scored answer passed: "passed" (every point), "failed" (none), "partly"; None if unscored."""
    if not possible:
        return None
    if earned is None or earned <= NOTHING_LOST:
        return "failed"
    return "passed" if earned >= possible - NOTHING_LOST else "partly"


def _comments(rows: Iterable[Any], versions: Versions) -> list[dict[str, Any]]:
    """Lay out what shoppers wrote, grouped under their question in checklist order.

    Within a question, comments on failed answers come before partly passed and passed ones,
    so a complaint is never read as praise; each keeps its visit's reference. An outcome's
    comment (a shop that ended without answers) has the outcome's label as its question.
    """
    out = []
    for row in rows:
        row_version = versions.rows.get(row.version_id)
        checklist = row_version.title if row_version is not None else ""
        slug = row_version.slug if row_version is not None else ""
        base = {"date": row.visit_date.isoformat(), "reference": row.reference, "checklist": checklist}
        if row.value and row.value.startswith(OUTCOME_PREFIX):  # a shop that ended with a counted outcome
            if row.comment:
                label = _outcome_label(versions, row.version_id, row.value.removeprefix(OUTCOME_PREFIX))
                out.append({**base, "question": label, "text": row.comment, "result": None,
                             "_order": (_channel_order(versions, slug), slug, -1, label)})
            continue
        _, question = versions.question(row.version_id, row.question_key)
        wording = question.text if question is not None else row.question_key
        order = (_channel_order(versions, slug), slug, _position(versions, row.version_id, row.question_key), wording)
        if row.comment:
            out.append({**base, "question": wording, "text": row.comment,
                        "result": _result(row.earned, row.possible), "_order": order})
        if row.value and question is not None and question.kind.verbatim:
            out.append({**base, "question": wording, "text": row.value, "result": None, "_order": order})
    rank = {r: i for i, r in enumerate(RESULTS)}
    out.sort(key=lambda c: (c["_order"], rank.get(c["result"], len(RESULTS)), c["date"]))
    for comment in out:
        del comment["_order"]
    return out


def _position(versions: Versions, version_id: int, key: str) -> int:
    """Return where a question stands in its checklist version (its order in the form)."""
    parsed = versions.parsed.get(version_id)
    if parsed is None:
        return 10**6
    for i, (_, question) in enumerate(parsed.questions()):
        if question.key == key:
            return i
    return 10**6


def _checklist_groups(section_rows: Iterable[Any], sections: list[dict[str, Any]], current: list[Any],
                      versions: Versions) -> list[dict[str, Any]]:
    """Group the section scores by checklist, each with how many visits filled it in the period,
    so three checklists are never read as one and a checklist seen once says so."""
    visits_of: dict[int, int] = defaultdict(int)
    for visit in current:
        row = versions.rows.get(visit.version_id)
        if row is not None:
            visits_of[row.checklist_id] += 1
    groups: dict[str, dict[str, Any]] = {}
    by_title = {}
    for row in section_rows:
        checklist = versions.checklist_row(row.checklist_id)
        if checklist is not None:
            by_title[checklist.title] = (checklist, row.checklist_id)
    for section in sections:
        title = section["checklist"]
        checklist, checklist_id = by_title.get(title, (None, None))
        group = groups.setdefault(title, {
            "checklist": checklist.slug if checklist else "", "title": title,
            "visits": visits_of.get(checklist_id, 0), "sections": []})
        group["sections"].append({k: section[k] for k in ("key", "title", "score", "n")})
    return list(groups.values())


def _outcome_label(versions: Versions, version_id: int, key: str | None) -> str | None:
    """Name a counted outcome as the checklist does ("No answer after three calls"); None for a filled form."""
    if not key:
        return None
    checklist = versions.parsed.get(version_id)
    outcome = checklist.outcome(key) if checklist is not None else None
    return outcome.label if outcome is not None else key


def _adjustments(rows: Iterable[Any], versions: Versions) -> list[dict[str, Any]]:
    """Each bonus earned and deduction lost, in the words of its question, with its points (+P or -P)."""
    out = []
    for row in rows:
        if not row.adjustment:
            continue
        _, question = versions.question(row.version_id, row.question_key)
        out.append({"date": row.visit_date.isoformat(), "reference": row.reference,
                    "question": question.text if question is not None else row.question_key,
                    "kind": "bonus" if row.adjustment > 0 else "deduction", "points": row.adjustment})
    return out


def _method_sections(versions: Versions) -> list[dict[str, Any]]:
    """Describe how each version used scores: its sections' weights and scored questions."""
    out = []
    ordered = sorted(versions.rows.values(), key=lambda r: (_channel_order(versions, r.slug), r.slug, r.number))
    for row in ordered:
        for section in versions.parsed[row.id].sections:
            scored = [q for q in section.questions if q.scored]
            if not scored:
                continue
            out.append({
                "checklist": row.title, "version": row.number, "title": section.title, "weight": section.weight,
                "questions": [{"text": q.text, "weight": q.weight, "standard": q.standard} for q in scored],
            })
    return out


def region_report(code: str, start: date | None = None, end: date | None = None,
                  today: date | None = None) -> dict[str, Any]:
    """Return the region report's data (CONTRACT.md); raise UnknownCode for an unknown region."""
    period = make_period(start, end, today)
    previous = period.previous()
    region = queries.region_by_code(code)
    if region is None:
        raise UnknownCode(f"no region with code '{code}'")
    branches = queries.region_branches(region.id)
    rows = queries.visits(previous.start, period.end, region_id=region.id)
    network = queries.network_mean(period.start, period.end)
    standard_rows = queries.standard_scores(period.start, period.end, region_id=region.id)
    critical_rows = queries.critical_answers(period.start, period.end, region_id=region.id)
    loss_rows = queries.question_losses(period.start, period.end, region_id=region.id)
    na, hidden = _excluded(queries.excluded_counts(period.start, period.end, region_id=region.id))
    catalogue = queries.standards()
    current = [r for r in rows if r.visit_date >= period.start]
    before = [r for r in rows if r.visit_date <= previous.end]
    versions = Versions(queries.version_contents(r.version_id for r in current))

    now_scores: dict[int, list[float]] = defaultdict(list)
    then_scores: dict[int, list[float]] = defaultdict(list)
    for r in current:
        if r.score is not None:
            now_scores[r.branch_id].append(to_percent(r.score))
    for r in before:
        if r.score is not None:
            then_scores[r.branch_id].append(to_percent(r.score))

    listed = [b for b in branches if b.active or now_scores.get(b.id)]
    ranking = []
    for b in listed:
        summary = stats.summary(now_scores.get(b.id, []), bounds=BOUNDS)
        was = stats.mean(then_scores.get(b.id, []))
        ranking.append({"rank": None, "code": b.code, "name": b.name, "score": summary["score"],
                        "ci_low": summary["ci_low"], "ci_high": summary["ci_high"], "n": summary["n"],
                        "change": stats.change(summary["score"], was), "sd": summary["sd"], "_id": b.id})
    ranking.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0.0), r["code"]))
    for entry, place in zip(ranking, stats.rank(r["score"] for r in ranking)):
        entry["rank"] = place

    per_branch: dict[int, dict[str, float]] = defaultdict(dict)
    for row in standard_rows:
        per_branch[row.branch_id][row.standard_key] = to_percent(row.score)
    with_data = {key for cells in per_branch.values() for key in cells}
    shown = _standard_list(catalogue, with_data)
    heatmap = [{"code": r["code"], "name": r["name"],
                "cells": [{"key": s.key, "score": per_branch.get(r["_id"], {}).get(s.key)} for s in shown]}
               for r in ranking]
    titles = {s.key: s.title for s in catalogue}
    fixes = ranked_fixes(loss_rows, versions, titles)
    fix_first = [{"code": r["code"], "name": r["name"], "score": r["score"],
                  "items": fixes.get(r["_id"], [])}
                 for r in ranking if r["n"]]

    months: dict[str, dict[int, list[float]]] = {m: {} for m in period.months()}
    for r in current:
        if r.score is not None:
            bucket = months[f"{r.visit_date:%Y-%m}"].setdefault(r.branch_id, [0.0, 0])
            bucket[0] += r.score
            bucket[1] += 1
    trend = [{"month": m, "label": month_label(m), "score": stats.branch_weighted(_month_means(b)),
              "n": int(sum(n for _, n in b.values()))} for m, b in months.items()]

    score = stats.branch_weighted(stats.mean(v) for v in now_scores.values())
    previous_score = stats.branch_weighted(stats.mean(v) for v in then_scores.values())
    failures, overrides = _critical(critical_rows, versions, {b.id: b for b in branches})
    for entry in ranking:
        del entry["_id"]

    report = _frame("region", period)
    report.update({
        "region": {"code": region.code, "name": region.name},
        "headline": {
            "score": score, "n_visits": sum(len(v) for v in now_scores.values()),
            "n_branches": len(now_scores), "network_score": to_percent(network.score),
            "previous_score": previous_score, "change": stats.change(score, previous_score),
        },
        "ranking": ranking,
        "standards": [{"key": s.key, "title": s.title} for s in shown],
        "heatmap": heatmap,
        "trend": trend,
        "fix_first": fix_first,
        "critical_failures": failures,
        "overdue_actions": actions(region_ids=[region.id], overdue=True, today=today),
        "method": {"versions": _versions_used(current, versions), "na_excluded": na,
                   "hidden_excluded": hidden, "critical_overrides": overrides},
    })
    return report


def branch_list(period: Period, region_ids: Iterable[int] | None, today: date | None = None) -> list[dict[str, Any]]:
    """Return the branches a user may see with score, change against the previous period, visits,
    critical failures, and open and overdue actions; by region and code. Three queries."""
    today = today or date.today()
    previous = period.previous()
    before = {r.id: r.score for r in queries.branch_overview(previous.start, previous.end, region_ids)}
    counts = {r.branch_id: r for r in queries.action_counts(today, region_ids)}
    out = []
    for r in queries.branch_overview(period.start, period.end, region_ids):
        score, was = to_percent(r.score), to_percent(before.get(r.id))
        actions_of = counts.get(r.id)
        out.append({
            "code": r.code, "name": r.name, "active": bool(r.active), "region_code": r.region_code,
            "region_name": r.region_name, "n": r.n, "score": score, "change": stats.change(score, was),
            "critical": int(r.critical or 0), "last_date": r.last_date.isoformat() if r.last_date else None,
            "open": actions_of.open if actions_of else 0, "overdue": int(actions_of.overdue or 0) if actions_of else 0,
        })
    return out


def visit_screen(visit: Any, today: date | None = None) -> dict[str, Any]:
    """Lay out one visit (a ``queries.visit`` row) for its page: answers by section and repetition,
    with comments and photos, and the actions opened from it."""
    versions = Versions(queries.version_contents([visit.version_id]))
    checklist = versions.parsed[visit.version_id]
    photos: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in queries.visit_photos(visit.id):
        photos[p.question_key].append({"id": p.id, "name": p.original_name})
    questions = {q.key: q for _, q in checklist.questions()}
    sections: dict[str, dict[str, Any]] = {}
    for a in queries.visit_answers(visit.id):
        if not a.question_key:  # a counted outcome's row
            continue
        section = sections.setdefault(a.section_key, {"key": a.section_key, "title": a.section_key, "parts": {}})
        part = section["parts"].setdefault(a.repeat, {"repeat": a.repeat, "heading": None, "answers": []})
        question = questions.get(a.question_key)
        part["answers"].append({
            "key": a.question_key, "text": question.text if question is not None else a.question_key,
            "answer": question.kind.display(question, a.value) if question is not None and a.value is not None
            else a.value,
            "status": a.status, "score": a.earned / a.possible * 100.0 if a.possible else None,
            "critical_fail": bool(a.critical_fail), "comment": a.comment,
            "photos": photos.get(photo_key(a.question_key, a.repeat), []),
        })
    for section in checklist.sections:
        if section.key in sections:
            sections[section.key]["title"] = section.title
            for part in sections[section.key]["parts"].values():
                if part["repeat"] and section.repeat is not None:
                    part["heading"] = section.repeat.heading(part["repeat"])
    laid_out = [{**s, "parts": list(s["parts"].values())} for s in sections.values()]
    row = versions.rows[visit.version_id]
    return {
        "reference": visit.reference, "branch": {"code": visit.branch_code, "name": visit.branch_name},
        "checklist": row.title, "checklist_slug": row.slug, "version": row.number,
        "date": visit.visit_date.isoformat(), "time": visit.visit_time.strftime("%H:%M") if visit.visit_time else None,
        "score": to_percent(visit.score), "critical_fail": bool(visit.critical_fail), "outcome": visit.outcome,
        "counted": bool(visit.counted), "sections": laid_out,
        "actions": action_list(queries.actions(submission_id=visit.id), today or date.today()),
    }
