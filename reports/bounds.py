"""What a printed report holds at most, whatever the number of visits.

A branch with 2,030 visits made a 108-page PDF: 33 s and 514 MB to lay out, past gunicorn's
timeout. The lists that grow with visits (the visit log, the comments, the critical failures,
the scores they set to 0, the bonuses and deductions applied) are cut to their latest entries
for print, and the document says how many there were and where all of them are: the CSV
export. Every figure (means, intervals, trends, fix first) is still computed from every visit.
bench/faults.py
measures a 2,030-visit branch.
"""

from __future__ import annotations

from typing import Any

#: Rows printed per list: about three pages of visit log, two of comments.
LIMITS = {"visits": 100, "comments": 60, "critical_failures": 50}
#: Rows printed per list of the "how computed" part: the scores set to 0, the bonuses and deductions applied.
METHOD_LIMITS = {"critical_overrides": 50, "adjustments": 50}
#: The same for a region's report, whose critical failures grow with its branches' visits.
REGION_LIMITS = {"critical_failures": 50}


def latest(rows: list[dict], limit: int) -> list[dict]:
    """The ``limit`` latest rows by date, in their own (chronological) order."""
    if len(rows) <= limit:
        return rows
    keep = set(sorted(range(len(rows)), key=lambda i: str(rows[i].get("date") or ""))[-limit:])
    return [row for i, row in enumerate(rows) if i in keep]


def for_print(data: dict[str, Any]) -> dict[str, Any]:
    """Return report data with its growing lists cut for print; ``<name>_total`` says how many there were.

    The data itself is not changed (a copy is returned), and a list within its limit has no total.
    """
    if data.get("kind") not in ("branch", "region"):
        return data
    out = dict(data)
    for name, limit in (LIMITS if data["kind"] == "branch" else REGION_LIMITS).items():
        rows = data.get(name) or []
        if len(rows) > limit:
            out[name], out[f"{name}_total"] = latest(rows, limit), len(rows)
    method = dict(data.get("method") or {})
    for name, limit in METHOD_LIMITS.items():
        rows = method.get(name) or []
        if len(rows) > limit:
            method[name], method[f"{name}_total"] = latest(rows, limit), len(rows)
    if method:
        out["method"] = method
    return out
