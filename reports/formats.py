"""Number and date formatting for reports, shared by the PDFs and the pages (which need no PDF library)."""

from __future__ import annotations

from datetime import date


def percent_label(value: float | None) -> str:
    """Format a 0–100 score with one decimal: ``78.4 %``; ``–`` when there is no data."""
    return "–" if value is None else f"{value:.1f} %"


def delta(value: float | None, reference: float | None) -> float | None:
    """Return ``value − reference`` in points, or None when either is missing."""
    if value is None or reference is None:
        return None
    return value - reference


def signed(points: float | None) -> str:
    """Format a difference in points with its sign: ``+4.3``, ``−2.1``, ``0.0``."""
    if points is None:
        return "–"
    rounded = round(points, 1)
    if rounded == 0:
        return "0.0"
    return f"+{rounded:.1f}" if rounded > 0 else f"−{abs(rounded):.1f}"


def arrow(points: float | None, up: str = "", down: str = "", same: str = "no change") -> str:
    """Describe a difference with an arrow and words: ``▲ 4.3 points above target``."""
    if points is None:
        return "–"
    rounded = round(points, 1)
    if rounded == 0:
        return f"● {same}".strip()
    word = "point" if abs(rounded) == 1 else "points"
    suffix = up if rounded > 0 else down
    mark = "▲" if rounded > 0 else "▼"
    return f"{mark} {abs(rounded):.1f} {word} {suffix}".strip()


def arrow_points(points: float | None) -> str:
    """Show a difference as an arrow and its size, for a table whose legend names the unit: ``▲ 4.3``."""
    if points is None:
        return "–"
    rounded = round(points, 1)
    if rounded == 0:
        return "● 0.0"
    return f"{'▲' if rounded > 0 else '▼'} {abs(rounded):.1f}"


def trend_class(points: float | None) -> str:
    """Name the CSS class for a difference: ``up``, ``down`` or ``flat``."""
    if points is None or round(points, 1) == 0:
        return "flat"
    return "up" if points > 0 else "down"


def nice_date(value) -> str:
    """Format an ISO date (or datetime) string as ``15 Jan 2026``; other text passes through."""
    if value is None:
        return "–"
    text = str(value)
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return text
    return f"{day.day} {day:%b %Y}"


def visits(n: int | None) -> str:
    """Say how many visits: ``1 visit``, ``24 visits``, ``1,200 visits``."""
    n = n or 0
    return f"{n} visit" if n == 1 else f"{n:,} visits"


def count(n: int | None) -> str:
    """Print a count with thousands separated: ``2,059``."""
    return f"{n or 0:,}"
