"""Turn report data into print HTML and PDF: the only module that imports WeasyPrint.

A report never fetches anything but the project's own files: ``safe_fetcher``
serves files under ``reports/assets/`` and refuses every other URL, so text a
shopper typed can neither reach the network nor read the server's disk.
"""

from __future__ import annotations

import math
import threading
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import render_template
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import charts
from .formats import arrow, arrow_points, count, delta, nice_date, percent_label, signed, trend_class, visits

ASSETS = (Path(__file__).resolve().parent / "assets").resolve()
#: Relative URLs in report HTML and CSS resolve against this folder.
BASE_URL = ASSETS.as_uri() + "/"
STYLESHEET = ASSETS / "report.css"
TEMPLATES = {"branch": "pdf/branch.html", "region": "pdf/region.html"}
MEDIA_TYPES = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

# Fontconfig and Pango objects are shared by every render; one render at a time
# per process keeps them safe (rendering is CPU-bound under the GIL anyway).
_render_lock = threading.Lock()


class RefusedURL(ValueError):
    """A report asked for a resource outside ``reports/assets/``."""


def asset_path(url: str) -> Path:
    """Return the file under ``reports/assets/`` that ``url`` names, or raise ``RefusedURL``."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"only report assets may be loaded, not {url[:80]!r}")
    raw = url2pathname(parts.path)
    if "\x00" in raw or "\\" in raw:
        raise RefusedURL(f"malformed asset path {url[:80]!r}")
    path = Path(raw).resolve()
    if (
        not path.is_relative_to(ASSETS)
        or not path.is_file()
        or path.suffix.lower() not in MEDIA_TYPES
    ):
        raise RefusedURL(f"not a report asset: {url[:80]!r}")
    return path


class SafeURLFetcher(URLFetcher):
    """Serve files under ``reports/assets/``; refuse http, https, ftp, data and every other file."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=False)

    def fetch(self, url, headers=None):
        path = asset_path(url)
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), {"Content-Type": MEDIA_TYPES[path.suffix.lower()]}
        )

    def open(self, url, data=None, timeout=None):
        # urllib's opener would follow any scheme; everything goes through ``fetch``.
        return self.fetch(getattr(url, "full_url", url))


#: The URL fetcher every report uses; callable as ``safe_fetcher(url)``.
safe_fetcher = SafeURLFetcher()


@cache
def _print_setup() -> tuple[FontConfiguration, CSS]:
    """Load the fonts and parse report.css once per process."""
    font_config = FontConfiguration()
    css = CSS(filename=str(STYLESHEET), url_fetcher=safe_fetcher, font_config=font_config)
    return font_config, css


def _render(data: dict, appendix: bool = True, **extra) -> str:
    try:
        template = TEMPLATES[data["kind"]]
    except KeyError:
        raise ValueError(f"unknown report kind {data.get('kind')!r}") from None
    return render_template(template, r=data, appendix=appendix, **HELPERS, **extra)


def render_html(data: dict, *, appendix: bool = True) -> str:
    """Render report data (see CONTRACT.md) as print HTML; needs an app context.

    ``appendix=False`` leaves out how the scores are computed (method, weights), which HQ may
    not want to send every time.
    """
    return _render(data, appendix)


def render_standalone_html(data: dict, *, appendix: bool = True) -> str:
    """Render report data as HTML with report.css inlined, for viewing in a browser."""
    return _render(data, appendix, inline_css=Markup(STYLESHEET.read_text(encoding="utf-8")))


def html_to_pdf(html: str) -> bytes:
    """Lay out print HTML with report.css and the shipped fonts, fetching only local assets."""
    with _render_lock:
        font_config, css = _print_setup()
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=safe_fetcher)
        return document.write_pdf(stylesheets=[css], font_config=font_config)


def render_report(data: dict, *, appendix: bool = True) -> bytes:
    """Render report data (see CONTRACT.md) as a PDF; needs an app context."""
    return html_to_pdf(render_html(data, appendix=appendix))


# --- Formatting helpers the templates receive -------------------------------------------


def partial_months(period: dict | None, trend: list[dict] | None) -> str | None:
    """Say which months of a trend lie only partly in the period, so a thin first or last month isn't misread.

    The default period (12 months back from today) touches 13 calendar months, the first of them
    often for a day or two: ``Partly in the period: Nov 2025 (30 Nov only), Nov 2026 (1–23 Nov).``
    """
    if not period or not trend:
        return None
    try:
        start, end = date.fromisoformat(str(period["from"])[:10]), date.fromisoformat(str(period["to"])[:10])
    except (KeyError, ValueError):
        return None
    months = [str(p.get("month") or "") for p in trend]
    notes = []
    for month in dict.fromkeys((months[0], months[-1])):
        try:
            first = date(int(month[:4]), int(month[5:7]), 1)
        except ValueError:
            continue
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        low, high = max(first, start), min(last, end)
        if (low, high) == (first, last) or low > high:
            continue
        days = f"{low.day} {low:%b} only" if low == high else f"{low.day}–{high.day} {low:%b}"
        notes.append(f"{first:%b %Y} ({days})")
    return f"Partly in the period: {', '.join(notes)}." if notes else None


def note_for(n: int | None, note: str | None = None) -> str | None:
    """Explain a headline that has too few visits for an interval."""
    if note:
        return note
    if not n:
        return "No visits in this period"
    if n == 1:
        return "1 visit: not enough to compare"
    return None


def sd_text(value: float | None) -> str:
    """Format a standard deviation in points: ``6.2``."""
    return "–" if value is None else f"{value:.1f}"


def rounded(value: float) -> int:
    """Round half up to a whole percent (Python's ``round`` would send 62.5 to 62 but 63.5 to 64)."""
    return math.floor(value + 0.5)


def likely_range(low: float | None, high: float | None) -> str | None:
    """Say the 95 % interval in plain words, rounded to whole percent: ``likely between 63 and 77 %``."""
    if low is None or high is None:
        return None
    return f"likely between {rounded(low)} and {rounded(high)} %"


def comment_groups(comments: list[dict] | None) -> list[dict]:
    """Gather consecutive comments on the same question (the service orders them so) under one heading."""
    groups: list[dict] = []
    for c in comments or []:
        key = (c.get("checklist") or "", c.get("question") or "")
        if not groups or groups[-1]["key"] != key:
            groups.append({"key": key, "checklist": key[0], "question": key[1], "comments": []})
        groups[-1]["comments"].append(c)
    return groups


# Two columns filled here, not by CSS columns: WeasyPrint balances CSS columns by laying their
# content out again and again, a pixel taller each time (46 times for a branch's three
# checklists; with the appendix's rules and weights, 1.5 M calls of a 3.5 M layout). The
# templates put each row below in a table row of two cells, which is laid out once and never
# split between pages if it fits on one: a row taller than a page would read down the left
# column's two pages before the right one's.


def halves(items: list | None, size=len) -> list[list]:
    """Split ``items`` in two runs for two columns read down the left one first, the taller as short as can be.

    ``size(item)`` is an item's height in any unit (rows, lines). Of two equally good splits the
    one with the taller left column wins, as in balanced CSS columns.
    """
    items = list(items or [])
    sizes = [size(item) for item in items]
    total = sum(sizes)
    best_at, best = 0, (total, 1)
    above = 0
    for at in range(len(items) + 1):
        rank = (max(above, total - above), 0 if above >= total - above else 1)
        if rank <= best:
            best_at, best = at, rank
        if at < len(items):
            above += sizes[at]
    return [items[:best_at], items[best_at:]]


def column_rows(items: list | None, size, most: int) -> list[list[list]]:
    """Lay ``items`` out in rows of two columns (``[left, right]`` each), in order, each row at most ``most`` tall.

    Consecutive items fill a row until they would make two columns taller than ``most`` (in the
    unit of ``size``); then a new row starts. An item taller than ``most`` has a row to itself.
    """
    def taller(columns: list[list]) -> int:
        return max(sum(map(size, column)) for column in columns)

    rows: list[list[list]] = []
    run: list = []
    for item in items or []:
        if run and taller(halves(run + [item], size)) > most:
            rows.append(halves(run, size))
            run = []
        run.append(item)
    if run:
        rows.append(halves(run, size))
    return rows


def _checklist_lines(c: dict) -> int:
    # About three lines for its heading and column heads, one for the note beside a checklist
    # used in a single visit, and per section one line for every 22 characters of its title
    # (what a half-page column holds before it wraps).
    sections = c.get("sections") or []
    return 3 + (c.get("visits") == 1) + sum(1 + len(s.get("title") or "") // 22 for s in sections)


def checklist_rows(checklists: list[dict] | None) -> list[list[list[dict]]]:
    """Put a branch's per-checklist section tables in two columns of about equal height.

    Rows of at most 40 lines a column (about 190 mm), so a row fits on a page.
    """
    return column_rows(checklists, _checklist_lines, 40)


def _weight_lines(s: dict) -> int:
    # One line for the head, and per question one for every 60 characters of its words and standard.
    return 1 + sum(1 + (len(q.get("text") or "") + 25) // 60 for q in s.get("questions") or [])


def weight_rows(sections: list[dict] | None) -> list[list[list[dict]]]:
    """Put the appendix's weight tables in two columns, checklist version by checklist version.

    A version's sections never share a row with another version's, so a reader finds a
    checklist's weights in one place; rows of at most 60 lines a column (about 190 mm).
    """
    groups: list[list[dict]] = []
    for s in sections or []:
        if not groups or (groups[-1][0].get("checklist"), groups[-1][0].get("version")) != (
                s.get("checklist"), s.get("version")):
            groups.append([])
        groups[-1].append(s)
    return [row for group in groups for row in column_rows(group, _weight_lines, 60)]


RESULT_WORDS = {"failed": "Failed", "partly": "Partly", "passed": "Passed"}


def action_counts(actions: list[dict] | None) -> dict[str, int]:
    """Count a branch's actions: still open, of which overdue, and done."""
    actions = actions or []
    return {
        "open": sum(1 for a in actions if a.get("state") == "open"),
        "overdue": sum(1 for a in actions if a.get("overdue")),
        "done": sum(1 for a in actions if a.get("state") == "done"),
    }


def titles(standards: list[dict] | None) -> dict[str, str]:
    """Map standard keys to their titles, so a key in the data prints as words."""
    return {s["key"]: s.get("title") or s["key"] for s in standards or [] if s.get("key")}


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n:,} {plural or word + 's'}"


def key_points(r: dict) -> list[str]:
    """Say in a few plain sentences what a reader of a region report should take from it.

    A branch report's page 1 says it in full (fix first, actions, critical failures) instead.
    """
    return _region_points(r) if r.get("kind") == "region" else []


def _overdue_point(actions: list[dict]) -> list[str]:
    overdue = [a for a in actions if a.get("overdue")]
    if not overdue:
        return []
    oldest = min(overdue, key=lambda a: a["due"])
    return [f"{_plural(len(overdue), 'action')} overdue; the oldest was due {nice_date(oldest['due'])}: "
            f"“{oldest['what']}”."]


def _region_points(r: dict) -> list[str]:
    points: list[str] = []
    ranked = [b for b in r.get("ranking") or [] if b.get("score") is not None]
    if len(ranked) >= 2:
        best, worst = ranked[0], ranked[-1]
        network = (r.get("headline") or {}).get("network_score")
        still = " – still above the network average" if network is not None and worst["score"] > network else ""
        points.append(
            f"Best branch: {best['name']} ({percent_label(best['score'])}); "
            f"lowest: {worst['name']} ({percent_label(worst['score'])}{still})."
        )
    if ranked and r.get("target") is not None:
        reached = sum(1 for b in ranked if b["score"] >= r["target"])
        points.append(
            f"{reached} of {_plural(len(ranked), 'branch', 'branches')} with visits "
            f"{'reaches' if reached == 1 else 'reach'} the {percent_label(r['target'])} target."
        )
    silent = [b["name"] for b in r.get("ranking") or [] if not b.get("n")]
    if silent:
        more = f" and {len(silent) - 6} more" if len(silent) > 6 else ""
        points.append("No visits in this period: " + ", ".join(silent[:6]) + more + ".")
    points.extend(_overdue_point(r.get("overdue_actions") or []))
    return points


RULE_WORDS = {"zero": "Score set to 0 %", "flag": "Flagged, score kept"}

HELPERS = {
    "percent_label": percent_label,
    "delta": delta,
    "signed": signed,
    "arrow": arrow,
    "arrow_points": arrow_points,
    "trend_class": trend_class,
    "nice_date": nice_date,
    "visits": visits,
    "count": count,
    "partial_months": partial_months,
    "note_for": note_for,
    "sd_text": sd_text,
    "titles": titles,
    "key_points": key_points,
    "likely_range": likely_range,
    "rounded": rounded,
    "comment_groups": comment_groups,
    "checklist_rows": checklist_rows,
    "weight_rows": weight_rows,
    "result_words": lambda result: RESULT_WORDS.get(result, ""),
    "action_counts": action_counts,
    "rule_words": lambda rule: RULE_WORDS.get(rule, rule or "–"),
    "trend_chart": lambda *a, **k: Markup(charts.trend_chart(*a, **k)),
    "score_bar": lambda *a, **k: Markup(charts.score_bar(*a, **k)),
    "interval_bar": lambda *a, **k: Markup(charts.interval_bar(*a, **k)),
    "heat": charts.heat,
    "heat_legend": charts.heat_legend,
}
