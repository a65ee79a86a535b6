"""Demo data that makes the reports mean something: branches that differ, drift and fail.

Every answer is drawn from a branch's quality for that standard and month, then
scored by the real scoring, so the history is what real shoppers would produce.
Re-running adds nothing that is already there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from datetime import date, datetime, time, timedelta
from typing import Any, Callable

from flask import current_app

from . import catalogue
from .checklist.conditions import NA, slots, visible_questions
from .extensions import db
from .models import (
    Assignment,
    AssignmentState,
    Branch,
    Checklist,
    Region,
    Role,
    Submission,
    User,
    hash_token,
)
from .answers import Filled
from .caches import checklist_of
from .checklist.types import DEMO_COMMENTS
from .submissions import OUTCOME_PREFIX, TOKEN_HINT, create_assignments, get_or_create_wave, record_submission

REGIONS = [("NORTH", "North"), ("SOUTH", "South"), ("WEST", "West")]
BRANCHES = [
    ("BR-001", "Harbour Street", "NORTH", "12 Harbour Street"),
    ("BR-002", "Millgate", "NORTH", "4 Millgate Square"),
    ("BR-003", "Castle Walk", "NORTH", "88 Castle Walk"),
    ("BR-004", "Northfield Park", "NORTH", "Unit 3, Northfield Retail Park"),
    ("BR-005", "Riverside", "SOUTH", "1 Riverside Quay"),
    ("BR-006", "Old Market", "SOUTH", "27 Old Market Place"),
    ("BR-007", "Station Road", "SOUTH", "140 Station Road"),
    ("BR-008", "Southgate Mall", "SOUTH", "Level 1, Southgate Mall"),
    ("BR-009", "Kings Cross", "SOUTH", "9 Kings Parade"),
    ("BR-010", "Westbrook", "WEST", "55 Westbrook High Street"),
    ("BR-011", "Bayview", "WEST", "2 Bayview Promenade"),
    ("BR-012", "Hillcrest", "WEST", "31 Hillcrest Road"),
    ("BR-013", "Airport", "WEST", "Terminal 2, Landside"),
]
#: Base quality per branch (0..1). BR-003 is strong, BR-007 weak; BR-010 improves (see _quality).
PROFILE = {"BR-003": 0.93, "BR-007": 0.52, "BR-010": 0.50, "BR-005": 0.78}
IMPROVING = "BR-010"
CRITICAL_BRANCH = "BR-005"
MIX = [("store-visit", 0.6), ("phone-call", 0.25), ("email-inquiry", 0.15)]
DEMO_PASSWORD = "demo-pass-2026"
#: Every demo branch's opening hours, so a visit outside them shows the outside_hours flag.
DEMO_HOURS = "Mo-Fr 09:00-18:00; Sa 09:00-13:00"

def _quality(code: str, rng: random.Random, months_ago: int) -> float:
    base = PROFILE.get(code, 0.68 + 0.16 * rng.random())
    if code == IMPROVING:
        base += 0.40 * (11 - months_ago) / 11  # 0.50 a year ago → 0.90 now
    return base


def _answer(q: Any, p: float, rng: random.Random, visit: date, at: time) -> Any:
    """Draw one plausible answer for a shopper whose experience had quality ``p``."""
    if getattr(q, "allow_na", False) and rng.random() < 0.05:
        return NA
    if not q.is_required and q.kind.scoreable and rng.random() < 0.05:
        return None
    if getattr(q, "critical", False):
        p = 1 - (1 - p) * 0.08  # critical failures are rare in real shops; most branches have none in a year
    return q.kind.demo_answer(q, p, rng, visit, at)


def _fill(checklist, quality: dict[str, float], rng: random.Random, visit: date, at: time,
          force_critical: bool) -> Filled:
    answers: dict[Any, Any] = {}
    comments: dict[Any, str] = {}
    # A repeated section: most shoppers meet one or two employees, a few meet more.
    repeats = {s.key: min(s.repeat.max, max(s.repeat.min, rng.choice([1, 1, 2, 2, 3])))
               for s in checklist.sections if s.repeat is not None}
    for _, _n, q, slot in slots(checklist, repeats):
        p = quality.get(getattr(q, "standard", None) or "", quality["_"])
        answers[slot] = _answer(q, p, rng, visit, at)
    shown = visible_questions(checklist, answers, repeats)
    if force_critical:
        for _, _n, q, slot in slots(checklist, repeats):
            failing = [v for v, _ in q.kind.choices(q) if q.kind.earned(q, q.kind.loaded(q, v)) == 0] \
                if getattr(q, "critical", False) and slot in shown else []
            if failing:
                answers[slot] = q.kind.loaded(q, failing[0])
                break
    for _, _n, q, slot in slots(checklist, repeats):
        value = answers[slot]
        if (getattr(q, "comment", None) == "on_fail" and slot in shown and value not in (NA, None)
                and q.kind.earned(q, value) < 1):
            comments[slot] = rng.choice(DEMO_COMMENTS)
    opened = datetime.combine(visit, at) + timedelta(minutes=rng.randint(10, 90))
    return Filled(
        answers=answers, visit_date=visit, visit_time=at, idempotency_key=rng.randbytes(16).hex(),
        comments=comments, first_answer_at=opened + timedelta(seconds=rng.randint(5, 60)),
        submitted_at=opened + timedelta(minutes=rng.randint(4, 15)), repeats=repeats,
    )


def _ended(checklist, rng: random.Random, visit: date, at: time) -> Filled | None:
    """Now and then a call nobody answered: the checklist's counted outcome instead of answers."""
    counted = [o for o in checklist.outcomes or [] if o.counts]
    if not counted or rng.random() >= 0.06:
        return None
    reported = datetime.combine(visit, at) + timedelta(minutes=40)
    return Filled(answers={}, visit_date=visit, visit_time=at, idempotency_key=rng.randbytes(16).hex(),
                  outcome=counted[0].key, comments={OUTCOME_PREFIX: "Rang three times, ten minutes apart."},
                  first_answer_at=reported, submitted_at=reported + timedelta(minutes=1))


def demo_token(name: str) -> str:
    """Derive a stable demo link from the secret key, so re-running prints the same links."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), name.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def seed(echo: Callable[[str], None] = print, today: date | None = None) -> None:
    """Create the demo data; what exists is left alone."""
    today = today or date.today()
    outcomes, errors = catalogue.import_paths(catalogue.checklist_paths(current_app.config["CHECKLISTS_DIR"]))
    if errors:
        raise RuntimeError("shipped checklists are invalid:\n" + "\n".join(map(str, errors)))
    regions = {}
    for code, name in REGIONS:
        region = db.session.scalar(db.select(Region).filter_by(code=code))
        if region is None:
            region = Region(code=code, name=name)
            db.session.add(region)
        regions[code] = region
    branches = {}
    for code, name, region_code, address in BRANCHES:
        branch = db.session.scalar(db.select(Branch).filter_by(code=code))
        if branch is None:
            branch = Branch(code=code, name=name, region=regions[region_code], address=address,
                            opening_hours=DEMO_HOURS)
            db.session.add(branch)
        branches[code] = branch
    logins = [("hq@example.com", Role.hq, [])] + [
        (f"manager.{code.lower()}@example.com", Role.manager, [regions[code]]) for code, _ in REGIONS
    ]
    for email, role, scope in logins:
        if db.session.scalar(db.select(User).filter_by(email=email)) is None:
            user = User(email=email, role=role, regions=scope)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
    db.session.flush()
    checklists = {c.slug: c for c in db.session.scalars(db.select(Checklist))}
    if db.session.scalar(db.select(db.func.count(Submission.id))) == 0:
        count = _history(branches, checklists, today)
        echo(f"Created {count} past visits over 12 months.")
    links = []
    for code in ("BR-001", "BR-005", "BR-007", "BR-010"):
        token = demo_token(f"demo-link-{code}")
        assignment = db.session.scalar(db.select(Assignment).filter_by(token_hash=hash_token(token)))
        if assignment is None:
            assignment = Assignment(
                token_hash=hash_token(token), token_hint=token[:TOKEN_HINT], branch=branches[code],
                checklist=checklists["store-visit"],
                not_before=today - timedelta(days=7), due=today + timedelta(days=60),
                wave=get_or_create_wave("Demo open links"),
            )
            db.session.add(assignment)
        links.append((code, token, assignment))
    db.session.commit()
    for line in outcomes:
        echo(str(line))
    echo("")
    echo(f"Staff logins (password for all: {DEMO_PASSWORD}):")
    for email, role, scope in logins:
        echo(f"  {email:32} {role.value}{' ' + scope[0].code if scope else ''}")
    echo("")
    echo("Shopper links (store visit; open one on a phone):")
    base = current_app.config["SURVEY_BASE_URL"]
    for code, token, assignment in links:
        note = "" if assignment.state != AssignmentState.submitted else "  (already used)"
        echo(f"  {code}  {base}/s/{token}{note}")


def _month_start(today: date, months_ago: int) -> date:
    index = today.year * 12 + today.month - 1 - months_ago
    return date(index // 12, index % 12 + 1, 1)


def _history(branches: dict[str, Branch], checklists: dict[str, Checklist], today: date) -> int:
    rng = random.Random(20261123)
    standards = sorted({getattr(q, "standard", None) for c in checklists.values()
                        for _, q in checklist_of(c.latest).questions()} - {None})
    offsets = {code: {s: rng.uniform(-0.12, 0.08) for s in standards} for code in branches}
    offsets["BR-007"]["problem_solving"] = -0.25 if "problem_solving" in standards else 0
    count = 0
    critical_done = False
    # Twelve months up to yesterday: on the 1st, the current month has no past day yet.
    yesterday = today - timedelta(days=1)
    for months_ago in range(11, -1, -1):
        month_start = _month_start(yesterday, months_ago)
        month_end = min((month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1), yesterday)
        wave = get_or_create_wave(f"{month_start.year} Q{(month_start.month - 1) // 3 + 1}")
        for code, branch in branches.items():
            for _ in range(rng.choice([1, 2, 2, 2, 3])):
                slug = rng.choices([s for s, _ in MIX], weights=[w for _, w in MIX])[0]
                checklist = checklists[slug]
                version = checklist.latest
                visit = month_start + timedelta(days=rng.randint(0, (month_end - month_start).days))
                at = time(rng.randint(9, 18), rng.choice([0, 10, 20, 30, 40, 50]))
                base = _quality(code, rng, months_ago) + rng.gauss(0, 0.06)
                quality = {s: min(0.99, max(0.05, base + offsets[code][s])) for s in standards}
                quality["_"] = base
                force = code == CRITICAL_BRANCH and not critical_done and months_ago <= 2 and slug == "store-visit"
                filled = _fill(checklist_of(version), quality, rng, visit, at, force)
                filled = _ended(checklist_of(version), rng, visit, at) or filled
                critical_done = critical_done or force
                (assignment, _), = create_assignments(checklist, branch, 1, due=visit + timedelta(days=7),
                                                      not_before=visit - timedelta(days=14), wave=wave)
                assignment.version = version
                assignment.opened_at = filled.first_answer_at - timedelta(minutes=1)
                record_submission(assignment, version, filled, alerts=False)
                count += 1
    return count
