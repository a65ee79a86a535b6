"""HQ console: the dashboard at /hq/ (a few counts, a link to every section) and the console's menu."""

from __future__ import annotations

from datetime import date, datetime

from flask import render_template, request, url_for

from ..appeals import open_count as open_appeals
from ..flags import LABELS as FLAG_LABELS
from . import queries
from .blueprint import bp

#: The console's sections in menu order: (endpoint, label, the endpoint prefixes that belong to it).
SECTIONS = [
    ("hq.index", "Dashboard", ("index",)),
    ("hq.standards", "Standards", ("standard",)),
    ("hq.checklists", "Checklists", ("checklist", "draft", "editor")),
    ("hq.regions", "Regions", ("region",)),
    ("hq.branches", "Branches", ("branch",)),
    ("hq.waves", "Waves", ("wave", "assignment", "not_done")),
    ("hq.review_queue", "Review", ("review",)),
    ("hq.submissions", "Submissions", ("submission", "attachment")),
    ("hq.appeals_queue", "Appeals", ("appeal",)),
    ("hq.alerts", "Alerts", ("alert",)),
    ("hq.staff", "Staff", ("staff",)),
]


@bp.context_processor
def console_menu() -> dict:
    """Give every HQ template the menu, with the current section marked, and the flags' words."""
    items = []
    here = (request.endpoint or "").removeprefix("hq.")
    for endpoint, label, prefixes in SECTIONS:
        items.append({"url": url_for(endpoint), "label": label, "current": here.startswith(prefixes)})
    return {"hq_menu": items, "flag_labels": FLAG_LABELS}


@bp.get("/")
def index():
    today = date.today()
    month_start = datetime(today.year, today.month, 1)
    return render_template("hq/index.html", counts=queries.dashboard_counts(today, month_start),
                           alerts=queries.alert_counts(), appeals_open=open_appeals(),
                           month=today.strftime("%B %Y"), month_start=month_start.date(), today=today)
