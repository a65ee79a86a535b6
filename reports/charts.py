"""Draw report charts as SVG strings from plain data (no plotting library).

Every chart is sized in points (1 user unit = 1 pt) so that font sizes match
the surrounding document, and every piece of text is XML-escaped. Colours
repeat the palette of ``assets/report.css`` because WeasyPrint does not apply
the page's CSS variables inside SVG.
"""

from __future__ import annotations

from math import ceil
from xml.sax.saxutils import escape, quoteattr

INK = "#1f2a37"
MUTED = "#5f6b7a"
GRID = "#d5dbe2"
TRACK = "#e9edf1"
BRANCH = "#2c4a6e"
REGION = "#1f2a37"
TARGET = "#a8610a"
FONT = "Report Sans, DejaVu Sans, sans-serif"

#: Heat-map bins: (lowest score in the bin, background, text colour). Darker
#: means weaker, so problems stand out in colour and in grey print alike.
#: report.css repeats these colours as --heat-0 … --heat-5 (classes .heat0 … .heat5).
HEAT_BINS = (
    (90.0, "#f3f6f9", INK),
    (80.0, "#d8e1eb", INK),
    (70.0, "#aebfd2", INK),
    (60.0, "#7b93b1", "#ffffff"),
    (50.0, "#4d6a8f", "#ffffff"),
    (0.0, "#233a57", "#ffffff"),
)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 7,
    anchor: str = "start",
    fill: str = MUTED,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-family={quoteattr(FONT)} font-size="{_num(size)}" '
        f'font-weight="{weight}" text-anchor="{anchor}" fill="{fill}">{escape(str(content))}</text>'
    )


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    stroke: str = GRID,
    width: float = 0.6,
    dash: str | None = None,
) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
        f'stroke="{stroke}" stroke-width="{_num(width)}"{dash_attr}/>'
    )


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{_num(width)}pt" height="{_num(height)}pt" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" aria-label={quoteattr(label)}>'
        + "".join(body)
        + "</svg>"
    )


def _clamp(score: float) -> float:
    return max(0.0, min(100.0, score))


def _runs(values: list[float | None]) -> list[list[int]]:
    """Split indices into runs of consecutive months that have a value (gaps break the line)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs


def trend_chart(
    points: list[dict],
    target: float | None = None,
    *,
    region: bool = True,
    series_label: str = "Branch score",
    width: float = 482,
    height: float = 168,
) -> str:
    """Draw the score per month on a 0–100 % axis, months without visits as gaps.

    A dashed target line and, when ``region`` is set and the points carry
    ``region_score``, the region's average per month are drawn too.
    """
    left, right, top, bottom = 34, 10, 24, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(points), 1)
    step = plot_w / count

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y(score: float) -> float:
        return top + plot_h * (1 - _clamp(score) / 100)

    body: list[str] = []
    for tick in range(0, 101, 20):
        body.append(
            _line(
                left,
                y(tick),
                left + plot_w,
                y(tick),
                stroke=GRID if tick else MUTED,
                width=0.5 if tick else 0.7,
            )
        )
        body.append(_text(left - 4, y(tick) + 2.4, f"{tick} %", size=6.5, anchor="end"))

    scores = [p.get("score") for p in points]
    regions = [p.get("region_score") for p in points] if region else []
    show_region = region and any(v is not None for v in regions)

    # Legend, top left: what each line means, drawn with the same strokes as the chart.
    lx = left
    body.append(_line(lx, 9, lx + 16, 9, stroke=BRANCH, width=1.6))
    body.append(f'<circle cx="{_num(lx + 8)}" cy="9" r="2.2" fill="{BRANCH}"/>')
    body.append(_text(lx + 20, 11.4, series_label, size=7, fill=INK))
    lx += 26 + 4.2 * len(series_label)
    if show_region:
        body.append(_line(lx, 9, lx + 16, 9, stroke=REGION, width=0.9, dash="3 2"))
        body.append(_text(lx + 20, 11.4, "Region average", size=7, fill=INK))
        lx += 86
    if target is not None:
        body.append(_line(lx, 9, lx + 16, 9, stroke=TARGET, width=1.1, dash="6 2 1.5 2"))
        body.append(_text(lx + 20, 11.4, f"Target {target:.1f} %", size=7, fill=INK))

    if target is not None:
        body.append(
            _line(
                left,
                y(target),
                left + plot_w,
                y(target),
                stroke=TARGET,
                width=0.9,
                dash="6 2 1.5 2",
            )
        )

    if show_region:
        for run in _runs(regions):
            if len(run) > 1:
                pts = " ".join(f"{_num(x(i))},{_num(y(regions[i]))}" for i in run)
                body.append(
                    f'<polyline points="{pts}" fill="none" stroke="{REGION}" '
                    f'stroke-width="0.9" stroke-dasharray="3 2"/>'
                )
            for i in run:
                body.append(
                    f'<rect x="{_num(x(i) - 1.6)}" y="{_num(y(regions[i]) - 1.6)}" width="3.2" '
                    f'height="3.2" fill="#ffffff" stroke="{REGION}" stroke-width="0.7"/>'
                )

    label_values = count <= 13
    labels: list[int] = []
    for run in _runs(scores):
        if len(run) > 1:
            pts = " ".join(f"{_num(x(i))},{_num(y(scores[i]))}" for i in run)
            body.append(
                f'<polyline points="{pts}" fill="none" stroke="{BRANCH}" stroke-width="1.6" '
                f'stroke-linejoin="round"/>'
            )
        for i in run:
            body.append(
                f'<circle cx="{_num(x(i))}" cy="{_num(y(scores[i]))}" r="2.3" fill="{BRANCH}" '
                f'stroke="#ffffff" stroke-width="0.6"/>'
            )
            if label_values:
                labels.append(i)
    # Values go on the side away from the region line, on a white patch so lines never cross them.
    for i in labels:
        other = regions[i] if show_region else None
        above = scores[i] < 90 and (other is None or other <= scores[i] or scores[i] < 12)
        ty = y(scores[i]) - 5.5 if above else y(scores[i]) + 10.5
        value = f"{scores[i]:.1f}"
        patch_w = 3.5 * len(value) + 3
        body.append(
            f'<rect x="{_num(x(i) - patch_w / 2)}" y="{_num(ty - 6.2)}" width="{_num(patch_w)}" '
            f'height="8" rx="1.5" fill="#ffffff" fill-opacity="0.9"/>'
        )
        body.append(_text(x(i), ty, value, size=6.3, anchor="middle", fill=INK, weight="bold"))

    # Month labels, with the year under January and under the first month; visit counts below.
    every = max(1, ceil(count / 13))
    base = top + plot_h
    body.append(_text(left - 4, base + 25, "visits", size=6, anchor="end"))
    for i, point in enumerate(points):
        if i % every:
            continue
        label = str(point.get("label") or point.get("month") or "")
        month, _, year = label.partition(" ")
        body.append(_text(x(i), base + 9, month, size=6.5, anchor="middle", fill=INK))
        if year and (i == 0 or month == "Jan"):
            body.append(_text(x(i), base + 16.5, year, size=6, anchor="middle"))
        n = point.get("n") or 0
        body.append(_text(x(i), base + 25, str(n) if n else "–", size=6, anchor="middle"))

    if not any(v is not None for v in scores):
        body.append(
            _text(
                left + plot_w / 2,
                top + plot_h / 2,
                "No visits in this period",
                size=9,
                anchor="middle",
                fill=MUTED,
            )
        )

    return _svg(width, height, body, f"{series_label} per month")


def score_bar(
    score: float | None,
    region: float | None = None,
    target: float | None = None,
    *,
    width: float = 130,
    height: float = 11,
) -> str:
    """Draw a 0–100 % bar for one score, a tick for the region average and a dashed target line."""
    body = [f'<rect x="0" y="2" width="{_num(width)}" height="{_num(height - 4)}" fill="{TRACK}"/>']
    for tick in (25, 50, 75):
        body.append(
            _line(
                width * tick / 100, 2, width * tick / 100, height - 2, stroke="#ffffff", width=0.6
            )
        )
    if score is not None:
        body.append(
            f'<rect x="0" y="2" width="{_num(width * _clamp(score) / 100)}" '
            f'height="{_num(height - 4)}" fill="{BRANCH}"/>'
        )
    if target is not None:
        tx = width * _clamp(target) / 100
        body.append(_line(tx, 0, tx, height, stroke=TARGET, width=0.9, dash="2 1"))
    if region is not None:
        rx = width * _clamp(region) / 100
        body.append(_line(rx, 0, rx, height, stroke=REGION, width=1.4))
        body.append(
            f'<path d="M{_num(rx - 2.2)},0 L{_num(rx + 2.2)},0 L{_num(rx)},2.6 Z" fill="{REGION}"/>'
        )
    label = "no data" if score is None else f"{score:.1f} %"
    return _svg(width, height, body, f"Score {label}")


def interval_bar(
    score: float | None,
    low: float | None = None,
    high: float | None = None,
    target: float | None = None,
    *,
    width: float = 120,
    height: float = 11,
) -> str:
    """Draw a score as a dot on a 0–100 % scale with its 95 % interval as a whisker."""
    mid = height / 2
    body = [f'<rect x="0" y="{_num(mid - 2)}" width="{_num(width)}" height="4" fill="{TRACK}"/>']
    for tick in (25, 50, 75):
        body.append(
            _line(
                width * tick / 100,
                mid - 2,
                width * tick / 100,
                mid + 2,
                stroke="#ffffff",
                width=0.6,
            )
        )
    if target is not None:
        tx = width * _clamp(target) / 100
        body.append(_line(tx, 0, tx, height, stroke=TARGET, width=0.9, dash="2 1"))
    if score is not None:
        if low is not None and high is not None:
            lx, hx = width * _clamp(low) / 100, width * _clamp(high) / 100
            body.append(_line(lx, mid, hx, mid, stroke=BRANCH, width=1.2))
            body.append(_line(lx, mid - 2.5, lx, mid + 2.5, stroke=BRANCH, width=1.2))
            body.append(_line(hx, mid - 2.5, hx, mid + 2.5, stroke=BRANCH, width=1.2))
        body.append(
            f'<circle cx="{_num(width * _clamp(score) / 100)}" cy="{_num(mid)}" r="2.8" '
            f'fill="{BRANCH}" stroke="#ffffff" stroke-width="0.6"/>'
        )
    label = "no data" if score is None else f"{score:.1f} %"
    return _svg(width, height, body, f"Score {label}")


def heat(score: float | None) -> dict:
    """Return the heat-map colours of a score: ``{"bg", "fg", "level"}`` (level 0 is the best)."""
    if score is None:
        return {"bg": None, "fg": MUTED, "level": None}
    for level, (floor, bg, fg) in enumerate(HEAT_BINS):
        if score >= floor:
            return {"bg": bg, "fg": fg, "level": level}
    return {"bg": HEAT_BINS[-1][1], "fg": HEAT_BINS[-1][2], "level": len(HEAT_BINS) - 1}


def heat_legend() -> list[dict]:
    """Return the heat-map bins as ``{"label", "bg", "fg"}`` for a legend, best first."""
    out = []
    upper = None
    for floor, bg, fg in HEAT_BINS:
        if upper is None:
            label = f"≥ {floor:.0f} %"
        elif floor == 0:
            label = f"< {upper:.0f} %"
        else:
            label = f"{floor:.0f}–{upper:.0f} %"
        out.append({"label": label, "bg": bg, "fg": fg})
        upper = floor
    return out
