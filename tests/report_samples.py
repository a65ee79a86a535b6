"""Sample report data shaped like reports/CONTRACT.md, for PDF tests, previews and the benchmark.

Everything is generated from a seed, so the same call always returns the same
report; the numbers are internally consistent (headline = mean of the visit log,
interval from Student's t), which makes the rendered PDFs checkable by eye.
"""

from __future__ import annotations

import random
import statistics
from datetime import date, timedelta
from pathlib import Path

import yaml

CHECKLISTS = Path(__file__).resolve().parent.parent / "checklists"
END = date(2026, 11, 23)
TARGET = 85.0

STANDARDS = [
    ("greeting", "Greeting and first contact"),
    ("speed", "Speed of response"),
    ("communication", "Quality of communication"),
    ("attentiveness", "Attention to the customer's needs"),
    ("accuracy", "Accurate, useful information"),
    ("problem_solving", "Problem solving and complaints"),
    ("appearance", "Appearance and premises"),
    ("farewell", "Farewell and follow-up"),
]

#: Two-sided 95 % Student's t quantiles by degrees of freedom (1.96 beyond the table).
T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    11: 2.201,
    12: 2.179,
    13: 2.160,
    14: 2.145,
    15: 2.131,
    16: 2.120,
    17: 2.110,
    18: 2.101,
    19: 2.093,
    20: 2.086,
    21: 2.080,
    22: 2.074,
    23: 2.069,
    24: 2.064,
    25: 2.060,
    26: 2.056,
    27: 2.052,
    28: 2.048,
    29: 2.045,
    30: 2.042,
    40: 2.021,
    60: 2.000,
    120: 1.980,
}

COMMENTS = [
    (
        "Describe who served you",
        'Young man with a grey fleece, badge said "Tom". Friendly but hurried.',
    ),
    (
        "If no, what happened?",
        "Nobody at the counter for about two minutes; "
        "a colleague was on the phone & didn't look up.",
    ),
    (
        "How was the complaint handled?",
        "She apologised, took my number and promised a call-back by Friday. It came on Monday.",
    ),
    (
        "Describe who served you",
        "Older lady at the till, very patient, "
        "explained the 30-day returns policy without being asked.",
    ),
    (
        "If no, what happened?",
        "The price on the shelf (€12.99) was not the price charged (€14.49); "
        "corrected when I pointed it out.",
    ),
    (
        "Describe who served you",
        'Two staff chatting by the door <they said "back in 5">, then one came over.',
    ),
]


def t95(df: int) -> float:
    """Return the two-sided 95 % t quantile for ``df`` degrees of freedom (nearest lower entry)."""
    if df in T95:
        return T95[df]
    lower = [k for k in T95 if k <= df]
    return T95[max(lower)] if lower else 1.96


def summary(scores: list[float]) -> dict:
    """Mean, interval and spread of visit scores, as the service would compute them."""
    n = len(scores)
    if n == 0:
        return {"score": None, "ci_low": None, "ci_high": None, "n": 0, "sd": None}
    mean = statistics.fmean(scores)
    if n < 2:
        return {"score": mean, "ci_low": None, "ci_high": None, "n": 1, "sd": None}
    sd = statistics.stdev(scores)
    half = t95(n - 1) * sd / n**0.5
    return {
        "score": mean,
        "ci_low": max(0.0, mean - half),
        "ci_high": min(100.0, mean + half),
        "n": n,
        "sd": sd,
    }


def months(end: date, count: int) -> list[tuple[str, str]]:
    """Return ``count`` months ending with ``end``'s month, as (``2026-01``, ``Jan 2026``)."""
    out = []
    year, month = end.year, end.month
    for _ in range(count):
        out.append((f"{year:04d}-{month:02d}", date(year, month, 1).strftime("%b %Y")))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def period(end: date = END, days: int = 365) -> tuple[dict, dict]:
    start = end - timedelta(days=days)
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=days)

    def label(a: date, b: date) -> str:
        return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"

    return (
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "label": label(start, end),
            "days": days + 1,
        },
        {
            "from": prev_start.isoformat(),
            "to": prev_end.isoformat(),
            "label": label(prev_start, prev_end),
        },
    )


def method_sections() -> list[dict]:
    """Sections and scored questions with their weights, read from the shipped checklists."""
    out = []
    for slug, version in (("store-visit", 3), ("phone-call", 2)):
        doc = yaml.safe_load((CHECKLISTS / f"{slug}.yaml").read_text(encoding="utf-8"))
        for section in doc["sections"]:
            questions = [
                {"text": q["text"], "weight": float(q.get("weight", 1)), "standard": q["standard"]}
                for q in section["questions"]
                if q.get("standard")
            ]
            if questions:
                out.append(
                    {
                        "checklist": doc["title"],
                        "version": version,
                        "title": section["title"],
                        "weight": float(section.get("weight", 1)),
                        "questions": questions,
                    }
                )
    return out


def branch_sample(
    n_visits: int = 24,
    *,
    seed: int = 7,
    end: date = END,
    n_months: int = 12,
    empty_months: tuple[int, ...] = (3,),
    code: str = "BR-014",
    name: str = "Leeds Briggate",
) -> dict:
    """Return a branch report with ``n_visits`` visits spread over ``n_months`` months."""
    rng = random.Random(seed)
    current, previous = period(end)
    month_list = months(end, n_months)
    open_months = [i for i in range(n_months) if i not in empty_months] or [n_months - 1]
    visits = []
    for k in range(n_visits):
        m = open_months[k % len(open_months)] if k < len(open_months) else rng.choice(open_months)
        year, month = map(int, month_list[m][0].split("-"))
        day = date(year, month, rng.randint(1, 28))
        if day > end:
            day = end
        channel, slug, title, version = rng.choice(
            [
                ("visit", "store-visit", "Store visit", 3),
                ("visit", "store-visit", "Store visit", 3),
                ("call", "phone-call", "Phone call", 2),
            ]
        )
        score = min(100.0, max(35.0, rng.gauss(76 + m * 0.9, 9)))
        critical = k in (4, 17) and n_visits > 17
        visits.append(
            {
                "date": day.isoformat(),
                "channel": channel,
                "checklist": title,
                "slug": slug,
                "version": version,
                "score": 0.0 if critical and k == 4 else score,
                "computed": score,
                "critical_fail": critical,
                "reference": f"S-{10400 + k * 7}",
                "month": m,
            }
        )
    visits.sort(key=lambda v: v["date"])
    scores = [v["score"] for v in visits]
    head = summary(scores)
    region_score, network_score = 81.3, 79.6
    previous_score = None if n_visits == 0 else 74.1
    score = head["score"]
    note = None
    if head["n"] == 0:
        note = "No visits in this period"
    elif head["n"] == 1:
        note = "1 visit: not enough to compare"

    def gap(ref):
        return None if score is None or ref is None else score - ref

    trend = []
    for i, (key, label) in enumerate(month_list):
        in_month = [v["score"] for v in visits if v["month"] == i]
        trend.append(
            {
                "month": key,
                "label": label,
                "n": len(in_month),
                "score": statistics.fmean(in_month) if in_month else None,
                "region_score": 78 + 4 * ((i * 37) % 7) / 7,
            }
        )

    standards = []
    for j, (key, title) in enumerate(STANDARDS):
        if n_visits == 0:
            s = None
        else:
            s = min(100.0, max(20.0, (score or 75) + rng.uniform(-18, 14)))
        reg = 70 + ((j * 53) % 23)
        n_std = n_visits if j != 1 else max(0, n_visits - 3)
        s = s if n_std else None
        standards.append(
            {
                "key": key,
                "title": title,
                "score": s,
                "region_score": float(reg),
                "diff": None if s is None else s - reg,
                "n": n_std,
            }
        )

    sections = []
    for sec in (
        "Arrival and greeting",
        "Premises and appearance",
        "Your needs and the advice",
        "Communication",
        "Scripted complaint",
        "Checkout and farewell",
        "Answering the call",
        "Your question",
        "Closing and follow-up",
    ):
        sections.append(
            {
                "key": sec.lower().replace(" ", "_"),
                "title": sec,
                "score": None
                if n_visits == 0
                else min(100.0, max(20.0, (score or 70) + rng.uniform(-20, 15))),
                "n": n_visits,
            }
        )

    fixes = (
        []
        if n_visits == 0
        else [
            {
                "key": "complaint_outcome",
                "text": "How was the complaint handled?",
                "standard": "Problem solving and complaints",
                "lost": 6.5,
                "critical": 1,
                "checklist": "store-visit",
                "checklist_title": "Store visit",
                "n": min(n_visits, 9),
            },
            {
                "key": "name_badge",
                "text": "Did the person serving you wear a name badge?",
                "standard": "Appearance and premises",
                "lost": 5.6,
                "critical": 0,
                "checklist": "store-visit",
                "checklist_title": "Store visit",
                "n": min(n_visits, 16),
            },
            {
                "key": "seconds_to_greeting",
                "text": "Seconds until someone greeted you",
                "standard": "Speed of response",
                "lost": 4.9,
                "critical": 0,
                "checklist": "store-visit",
                "checklist_title": "Store visit",
                "n": min(n_visits, 16),
            },
            {
                "key": "asked_needs",
                "text": "Did they ask what you needed it for?",
                "standard": "Attention to the customer's needs",
                "lost": 4.2,
                "critical": 0,
                "checklist": "store-visit",
                "checklist_title": "Store visit",
                "n": min(n_visits, 16),
            },
            {
                "key": "said_goodbye",
                "text": "Did they say goodbye or invite you back?",
                "standard": "Farewell and follow-up",
                "lost": 3.5,
                "critical": 0,
                "checklist": "store-visit",
                "checklist_title": "Store visit",
                "n": min(n_visits, 16),
            },
        ][: max(1, min(5, n_visits))]
    )

    failures = [
        {
            "date": v["date"],
            "reference": v["reference"],
            "checklist": v["checklist"],
            "question": "Did they use a personal phone while serving you?",
            "rule": "zero" if v["score"] == 0 else "flag",
        }
        for v in visits
        if v["critical_fail"]
    ]
    overrides = [
        {
            "date": v["date"],
            "reference": v["reference"],
            "question": "Did they use a personal phone while serving you?",
            "computed_score": v["computed"],
        }
        for v in visits
        if v["critical_fail"] and v["score"] == 0
    ]
    comments = (
        [
            {"date": visits[i % len(visits)]["date"], "reference": visits[i % len(visits)]["reference"],
             "checklist": "Store visit", "question": q, "text": t,
             "result": (None, "failed", "partly", "passed")[i % 4]}
            for i, (q, t) in enumerate(COMMENTS[:n_visits])
        ]
        if visits
        else []
    )

    versions = []
    for slug, title, version in (
        ("store-visit", "Store visit", 3),
        ("phone-call", "Phone call", 2),
    ):
        count = sum(1 for v in visits if v["slug"] == slug)
        if count:
            versions.append(
                {"checklist": slug, "title": title, "version": version, "visits": count}
            )

    return {
        "kind": "branch",
        "brand": "Northwind Retail",
        "generated_at": f"{end:%Y-%m-%d} 18:40 UTC",
        "period": current,
        "previous_period": previous,
        "target": TARGET,
        "branch": {"code": code, "name": name, "address": "42 Briggate, Leeds LS1 6HD"},
        "region": {"code": "NORTH", "name": "North of England"},
        "headline": {
            **head,
            "previous_score": previous_score,
            "change": gap(previous_score),
            "region_score": region_score,
            "network_score": network_score,
            "gap_target": gap(TARGET),
            "gap_region": gap(region_score),
            "gap_network": gap(network_score),
            "note": note,
        },
        "standards": standards,
        "trend": trend,
        "sections": sections,
        "checklists": [
            {"checklist": "store-visit", "title": "Store visit", "visits": n_visits, "sections": sections[:6]},
            {"checklist": "phone-call", "title": "Phone call", "visits": 1, "sections": sections[6:]},
        ] if n_visits else [],
        "fix_first": fixes,
        "actions": [] if n_visits == 0 else [
            sample_action(1, code, name, "How was the complaint handled?", "Role-play the complaint script at the "
                          "Monday briefing, every week until the next visit.", "Sam (deputy manager)", "2026-06-30",
                          overdue=True, before=(41.7, 9), since=(50.0, 2)),
            sample_action(2, code, name, "Did the person serving you wear a name badge?", "Order new name badges.",
                          "Ana", "2026-03-01", state="done", note="Badges handed out on 20 Feb.",
                          before=(50.0, 10), since=(87.5, 8)),
        ],
        "critical_failures": failures,
        "visits": [
            {
                k: v[k]
                for k in (
                    "date",
                    "channel",
                    "checklist",
                    "version",
                    "score",
                    "critical_fail",
                    "reference",
                )
            }
            for v in visits
        ],
        "comments": comments,
        "method": {
            "versions": versions,
            "sections": method_sections() if visits else [],
            "na_excluded": 0 if not visits else 11,
            "hidden_excluded": 0 if not visits else 37,
            "critical_overrides": overrides,
        },
    }


def branch_one_visit() -> dict:
    """A branch with exactly one visit: no interval, and the note that says why."""
    return branch_sample(1, seed=3, code="BR-031", name="Harrogate Station")


def branch_empty() -> dict:
    """A branch with no visit in the period."""
    return branch_sample(0, code="BR-040", name="Ripon Market Place")


BRANCH_NAMES = [
    "Leeds Briggate",
    "York Coppergate",
    "Harrogate Station",
    "Sheffield Moor",
    "Bradford Broadway",
    "Hull Paragon",
    "Wakefield Trinity",
    "Ripon Market Place",
    "Durham Market",
    "Newcastle Eldon",
    "Sunderland Bridges",
    "Middlesbrough Hill",
    "Darlington Cornmill",
    "Lancaster Square",
    "Preston Fishergate",
    "Blackpool Houndshill",
]


def region_sample(
    n_branches: int = 9,
    n_visits: int = 180,
    *,
    seed: int = 11,
    end: date = END,
    n_months: int = 12,
    empty_branches: int = 1,
    single_visit_branches: int = 1,
) -> dict:
    """Return a region report with ``n_branches`` branches sharing ``n_visits`` visits."""
    rng = random.Random(seed)
    current, previous = period(end)
    month_list = months(end, n_months)
    active = max(0, n_branches - empty_branches)
    branches = []
    all_visits = []
    for b in range(n_branches):
        name = BRANCH_NAMES[b % len(BRANCH_NAMES)] + (
            "" if b < len(BRANCH_NAMES) else f" {b // len(BRANCH_NAMES) + 1}"
        )
        code = f"BR-{b + 1:03d}"
        count = 0 if b >= active else n_visits // active + (1 if b < n_visits % active else 0)
        if active - single_visit_branches <= b < active:
            count = 1
        level = rng.uniform(62, 92)
        spread = rng.uniform(4, 14)
        visits = [
            (rng.randrange(n_months), min(100.0, max(20.0, rng.gauss(level, spread))))
            for _ in range(count)
        ]
        all_visits.extend(visits)
        stats = summary([s for _, s in visits])
        prev = None if count == 0 or b == 2 else level + rng.uniform(-6, 6)
        cells = [
            {
                "key": key,
                "score": None
                if count == 0 or (b == 3 and key == "speed")
                else min(100.0, max(15.0, level + rng.uniform(-22, 12))),
            }
            for key, _ in STANDARDS
        ]
        branches.append(
            {
                "code": code,
                "name": name,
                **stats,
                "change": delta_or_none(stats["score"], prev),
                "cells": cells,
            }
        )
    ranked = sorted(branches, key=lambda r: (r["score"] is None, -(r["score"] or 0)))
    ranking = [
        {
            "rank": i + 1 if r["score"] is not None else None,
            **{
                k: r[k] for k in ("code", "name", "score", "ci_low", "ci_high", "n", "change", "sd")
            },
        }
        for i, r in enumerate(ranked)
    ]
    heatmap = [{"code": r["code"], "name": r["name"], "cells": r["cells"]} for r in ranked]
    with_scores = [r["score"] for r in ranked if r["score"] is not None]
    region_score = statistics.fmean(with_scores) if with_scores else None
    trend = []
    for i, (key, label) in enumerate(month_list):
        in_month = [s for m, s in all_visits if m == i]
        trend.append(
            {
                "month": key,
                "label": label,
                "n": len(in_month),
                "score": statistics.fmean(in_month) if in_month else None,
            }
        )
    std_scores = []
    for j, (key, title) in enumerate(STANDARDS):
        vals = [r["cells"][j]["score"] for r in ranked if r["cells"][j]["score"] is not None]
        s = statistics.fmean(vals) if vals else None
        net = 78.0 + (j % 3)
        std_scores.append(
            {
                "key": key,
                "title": title,
                "score": s,
                "network_score": net,
                "diff": delta_or_none(s, net),
            }
        )
    def fix(key, text, standard, lost, n, critical=0):
        return {"key": key, "text": text, "standard": standard, "checklist": "store-visit",
                "checklist_title": "Store visit", "lost": lost, "n": n, "critical": critical}

    fix_first = [
        {"code": r["code"], "name": r["name"], "score": r["score"], "items": [
            fix("complaint_outcome", "How was the complaint handled?", "Problem solving and complaints",
                6.5 - i * 0.3, max(1, r["n"] // 2), 1 if i == 0 else 0),
            fix("name_badge", "Did the person serving you wear a name badge?", "Appearance and premises",
                5.5 - i * 0.2, r["n"]),
            fix("said_goodbye", "Did they say goodbye or invite you back?", "Farewell and follow-up", 3.1, r["n"]),
        ][: 3 - i % 3]}
        for i, r in enumerate(ranked) if r.get("n")
    ]
    return {
        "kind": "region",
        "brand": "Northwind Retail",
        "generated_at": f"{end:%Y-%m-%d} 18:40 UTC",
        "period": current,
        "previous_period": previous,
        "target": TARGET,
        "region": {"code": "NORTH", "name": "North of England"},
        "headline": {
            "score": region_score,
            "n_visits": len(all_visits),
            "n_branches": n_branches,
            "network_score": 79.6,
            "previous_score": 77.2,
            "change": delta_or_none(region_score, 77.2),
        },
        "ranking": ranking,
        "standards": [{"key": k, "title": t} for k, t in STANDARDS],
        "heatmap": heatmap,
        "trend": trend,
        "fix_first": fix_first,
        "critical_failures": [
            {"date": "2026-03-14", "reference": "S-10873", "checklist": "Store visit",
             "question": "Did they use a personal phone while serving you?", "rule": "zero", "computed_score": 71.2,
             "branch": {"code": ranked[1]["code"], "name": ranked[1]["name"]}},
            {"date": "2026-08-02", "reference": "S-11290", "checklist": "Store visit",
             "question": "Did you pay the price shown?", "rule": "zero", "computed_score": 64.0,
             "branch": {"code": ranked[0]["code"], "name": ranked[0]["name"]}},
        ],
        "overdue_actions": [sample_action(3, r["code"], r["name"], "Did they say goodbye or invite you back?",
                                          "Add the farewell to the till checklist.", "Branch manager", "2026-09-01",
                                          overdue=True, before=(68.8, 16), since=(None, 0))
                            for r in ranked[1:3]],
        "method": {
            "versions": [
                {
                    "checklist": "store-visit",
                    "title": "Store visit",
                    "version": 3,
                    "visits": round(len(all_visits) * 0.7),
                },
                {
                    "checklist": "phone-call",
                    "title": "Phone call",
                    "version": 2,
                    "visits": len(all_visits) - round(len(all_visits) * 0.7),
                },
            ],
            "na_excluded": 48,
            "hidden_excluded": 212,
            "critical_overrides": [
                {
                    "date": "2026-03-14",
                    "reference": "S-10873",
                    "question": "Did they use a personal phone while serving you?",
                    "computed_score": 71.2,
                    "branch": {"code": ranked[1]["code"], "name": ranked[1]["name"]},
                },
                {
                    "date": "2026-08-02",
                    "reference": "S-11290",
                    "question": "Did you pay the price shown?",
                    "computed_score": 64.0,
                    "branch": {"code": ranked[0]["code"], "name": ranked[0]["name"]},
                },
            ],
        },
    }


def sample_action(id, code, name, question, what, owner, due, state="open", overdue=False, note=None,
                  before=(None, 0), since=(None, 0)) -> dict:
    return {"id": id, "branch": {"code": code, "name": name}, "region_code": "NORTH", "checklist": "store-visit",
            "checklist_title": "Store visit", "question_key": "q", "question": question, "what": what,
            "owner": owner, "due": due, "state": state, "note": note, "opened_on": "2026-01-15",
            "overdue": overdue, "closed_on": "2026-02-20" if state != "open" else None,
            "before": {"score": before[0], "n": before[1]}, "since": {"score": since[0], "n": since[1]}}


def delta_or_none(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def region_empty() -> dict:
    """A region none of whose branches was visited in the period."""
    return region_sample(4, 0, empty_branches=4, single_visit_branches=0)


BRANCH = branch_sample()
REGION = region_sample()
