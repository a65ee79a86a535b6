"""HQ console: the dashboard at /hq/ (a few counts, a link to every section) and the console's menu."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app, render_template, request, url_for

from ..extensions import db
from ..models import Assignment, AssignmentState, Branch, Region, Standard, Submission, Wave
from .blueprint import bp
from .standards import measured_by

#: The console's sections in menu order: (endpoint, label, the endpoint prefixes that belong to it).
#: The checklist editor's endpoint is found at run time (see ``checklists_endpoint``).
SECTIONS = [
    ("hq.index", "Dashboard", ("index",)),
    ("hq.standards", "Standards", ("standard",)),
    ("checklists", "Checklists", ("checklist", "draft", "editor")),
    ("hq.regions", "Regions", ("region",)),
    ("hq.branches", "Branches", ("branch",)),
    ("hq.waves", "Waves", ("wave", "assignment")),
    ("hq.submissions", "Submissions", ("submission", "attachment")),
]


def checklists_endpoint() -> str | None:
    """Return the checklist editor's list page: the shortest argument-free GET route of /hq/ about checklists."""
    rules = [r for r in current_app.url_map.iter_rules()
             if r.endpoint.startswith("hq.") and "checklist" in r.endpoint and not r.arguments
             and "GET" in (r.methods or ())]
    return min(rules, key=lambda r: (len(r.rule), r.rule)).endpoint if rules else None


@bp.context_processor
def console_menu() -> dict:
    """Give every HQ template the menu, with the current section marked."""
    items = []
    here = (request.endpoint or "").removeprefix("hq.")
    for endpoint, label, prefixes in SECTIONS:
        if endpoint == "checklists":
            endpoint = checklists_endpoint()
            if endpoint is None:
                continue
        items.append({"url": url_for(endpoint), "label": label, "current": here.startswith(prefixes)})
    return {"hq_menu": items}


@bp.get("/")
def index():
    today = date.today()
    month_start = datetime(today.year, today.month, 1)
    usable = Assignment.usable_on(today)
    measured = measured_by()
    active_standards = db.session.scalars(db.select(Standard.key).where(Standard.retired.is_(False))).all()
    counts = {
        "open_links": count(db.select(Assignment.id).where(usable)),
        "started_links": count(db.select(Assignment.id).where(usable, Assignment.state == AssignmentState.started)),
        "submissions_month": count(db.select(Submission.id).where(Submission.submitted_at >= month_start)),
        "critical_month": count(db.select(Submission.id).where(Submission.submitted_at >= month_start,
                                                             Submission.critical_fail.is_(True))),
        "rejected": count(db.select(Submission.id).where(Submission.rejected.is_(True))),
        "standards": len(active_standards),
        "unmeasured": sum(1 for key in active_standards if not measured.get(key)),
        # Branches that can get links: an active branch of an inactive region gets none (as on /hq/regions).
        "branches": count(db.select(Branch.id).join(Region).where(Branch.active, Region.active)),
        "waves": count(db.select(Wave.id)),
    }
    return render_template("hq/index.html", counts=counts, month=today.strftime("%B %Y"),
                           month_start=month_start.date(), today=today, checklists_endpoint=checklists_endpoint())


def count(query) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(query.subquery())) or 0
