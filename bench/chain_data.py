"""A national chain's data on PostgreSQL, in minutes: 2,000 branches in 40 regions, 24 shops per
branch a year, three years (about 144,000 visits and 3.5 million answers).

Run: .venv/bin/python bench/chain_data.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--branches 2000] [--regions 40] [--per-year 24] [--years 3] [--schema chain] [--drop]

Made in a schema of its own (``--schema``, default ``chain``; ``--drop`` removes it, and so does
a new run before it starts). Other bench scripts open it with ``url_for(schema)``.

How it stays quick and true at once: the app's own code draws and scores a few thousand
*template* visits (survey.demo's answers at every quality level, scored by the same
``submissions._scored`` the shopper's POST uses, for each checklist version); the chain's visits
then copy a template's answers, section scores and standard scores with bulk ``COPY``, never
the ORM row by row. So every stored score agrees with its stored answers, as if shoppers had
sent them. The spread is a chain's: branches better and worse (a fixed quality each, drifting
over the years), a dip in December-January and in August, critical failures where a template
has one, three channels (store visits most), and two versions of the store visit (the second,
reworded, for the last 18 months).
"""

from __future__ import annotations

import argparse
import bisect
import io
import random
import sys
import time
import uuid
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: Share of visits per checklist: store visits most, then calls and e-mails.
CHANNELS = (("store-visit", 0.6), ("phone-call", 0.25), ("email-inquiry", 0.15))
TEMPLATES_PER_LEVEL, LEVELS = 12, 30
SUBMISSION_COLUMNS = ("id", "assignment_id", "idempotency_key", "reference", "version_id", "branch_id",
                      "visit_date", "visit_time", "opened_at", "first_answer_at", "submitted_at", "score",
                      "critical_fail", "outcome", "review")


def url_for(base: str, schema: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def season(day: date) -> float:
    """A chain's year: busy, tired staff in December-January and holiday cover in August."""
    return {12: -0.06, 1: -0.05, 8: -0.04}.get(day.month, 0.0)


def make_schema(admin, schema: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))


def setup_app(url: str, folder: Path):
    from survey import create_app
    from survey.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "chain", "UPLOAD_DIR": str(folder / "up"),
                      "SURVEY_DB_TIMEOUT": 600})
    with app.app_context():
        db.create_all()
    return app


def publish_checklists(folder: Path) -> dict[str, list]:
    """Import the shipped checklists, then a second store-visit version with one question reworded."""
    from survey import catalogue
    from survey.extensions import db
    from survey.models import Checklist, ChecklistVersion

    outcomes, errors = catalogue.import_paths(catalogue.checklist_paths(ROOT / "checklists"))
    assert not errors, errors
    source = (ROOT / "checklists" / "store-visit.yaml").read_text()
    reworded = folder / "store-visit.yaml"
    reworded.write_text(source.replace("title: Store visit", "title: Store visit (2nd edition)", 1))
    outcomes, errors = catalogue.import_paths([ROOT / "checklists" / "standards.yaml", reworded])
    assert not errors, errors
    versions = {}
    for slug, _ in CHANNELS:
        checklist = db.session.scalar(db.select(Checklist).filter_by(slug=slug))
        versions[slug] = db.session.scalars(db.select(ChecklistVersion).filter_by(checklist_id=checklist.id)
                                            .order_by(ChecklistVersion.id)).all()
    return versions


def templates(versions: dict[str, list], seed: int) -> dict[int, list]:
    """Per version: (score, rows) of scored visits at every quality level, sorted by score."""
    from survey import demo
    from survey.caches import checklist_of
    from survey.submissions import _scored

    rng = random.Random(seed)
    stand_in = SimpleNamespace(id=0, branch_id=0, opened_at=None)
    made: dict[int, list] = {}
    for slug, _ in CHANNELS:
        for version in versions[slug]:
            checklist = checklist_of(version)
            found = []
            for level in range(LEVELS):
                p = 0.35 + 0.64 * level / (LEVELS - 1)
                for _ in range(TEMPLATES_PER_LEVEL):
                    quality = {"_": p}
                    filled = demo._fill(checklist, quality, rng, date(2026, 1, 5), clock(11, 0),
                                        force_critical=rng.random() < 0.04)
                    scored = _scored(stand_in, version, filled)
                    found.append((scored.submission["score"] or 0.0, scored))
            found.sort(key=lambda item: item[0])
            made[version.id] = found
    return made


class Copier:
    """Rows into a COPY ... FROM STDIN, as tab-separated text, sent when the caller flushes."""

    def __init__(self, cursor, table: str, columns: tuple[str, ...]):
        self.cursor, self.table, self.columns = cursor, table, columns
        self.buffer, self.rows = io.StringIO(), 0

    @staticmethod
    def cell(value) -> str:
        if value is None:
            return r"\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")

    def add(self, row) -> None:
        self.buffer.write("\t".join(self.cell(v) for v in row) + "\n")
        self.rows += 1  # flushed by the caller, parents before children (foreign keys)

    def flush(self) -> None:
        if self.buffer.tell():
            with self.cursor.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy:
                copy.write(self.buffer.getvalue())
            self.buffer = io.StringIO()


def build(url: str, branches: int, regions: int, per_year: int, years: int, seed: int = 7) -> dict[str, int]:
    import tempfile

    from survey.extensions import db

    rng = random.Random(seed)
    today = date.today()
    start = today - timedelta(days=365 * years)
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        app = setup_app(url, Path(tmp))
        with app.app_context():
            versions = publish_checklists(Path(tmp))
            made = templates(versions, seed)
            checklist_ids = {slug: versions[slug][0].checklist_id for slug, _ in CHANNELS}
            versions = {slug: [v.id for v in found] for slug, found in versions.items()}  # plain ids from here
            db.session.commit()
            raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        region_rows = Copier(cursor, "region", ("id", "code", "name", "active"))
        for r in range(1, regions + 1):
            region_rows.add((r, f"R{r:02d}", f"Region {r:02d}", True))
        region_rows.flush()
        branch_rows = Copier(cursor, "branch", ("id", "code", "name", "region_id", "address", "active"))
        quality = {}
        for b in range(1, branches + 1):
            branch_rows.add((b, f"B{b:04d}", f"Branch {b:04d}", (b - 1) % regions + 1, f"{b} High Street", True))
            quality[b] = (min(0.97, max(0.45, rng.gauss(0.78, 0.09))), rng.gauss(0, 0.03))  # level, drift a year
        branch_rows.flush()
        raw.commit()

        assignments = Copier(cursor, "assignment", ("id", "token_hash", "branch_id", "checklist_id", "version_id",
                                                   "not_before", "due", "state", "created_at", "opened_at"))
        submissions = Copier(cursor, "submission", SUBMISSION_COLUMNS)
        sections = Copier(cursor, "section_score", ("submission_id", "section_key", "position", "weight", "earned",
                                                    "possible", "score"))
        standards = Copier(cursor, "standard_score", ("submission_id", "standard_key", "score", "earned",
                                                      "possible"))
        answers = Copier(cursor, "answer", ("submission_id", "position", "section_key", "question_key",
                                            "standard_key", "value", "status", "earned", "possible",
                                            "critical_fail", "comment", "repeat", "adjustment"))
        second_from = today - timedelta(days=548)
        slugs, weights = [s for s, _ in CHANNELS], [w for _, w in CHANNELS]
        visit_id = 0
        days = (today - start).days
        for b in range(1, branches + 1):
            level, drift = quality[b]
            for n in range(per_year * years):
                visit_id += 1
                day = start + timedelta(days=int((n + rng.random()) * days / (per_year * years)))
                slug = rng.choices(slugs, weights)[0]
                version = versions[slug][-1] if day >= second_from or len(versions[slug]) == 1 else versions[slug][0]
                p = level + drift * (day - start).days / 365 + season(day) + rng.gauss(0, 0.05)
                pool = made[version]
                target = 0.35 + 0.64 * min(1.0, max(0.0, (p - 0.35) / 0.64))  # scores are stored as 0..1
                at = bisect.bisect_left([score for score, _ in pool], target)
                score, scored = pool[min(len(pool) - 1, max(0, at + rng.randint(-6, 6)))]
                visited = datetime.combine(day, clock(rng.randint(9, 17), rng.choice((0, 15, 30, 45))),
                                           tzinfo=timezone.utc)
                assignments.add((visit_id, uuid.uuid4().hex + uuid.uuid4().hex, b, checklist_ids[slug], version,
                                 day - timedelta(days=7), day + timedelta(days=7), "submitted", visited, visited))
                row = scored.submission
                submissions.add((visit_id, visit_id, uuid.uuid4().hex, f"V{visit_id:09d}", version, b, day,
                                 visited.time() if slug != "email-inquiry" else None, visited,
                                 visited + timedelta(minutes=2), visited + timedelta(minutes=14), row["score"],
                                 row["critical_fail"], row["outcome"], "counted"))
                for s in scored.sections:
                    sections.add((visit_id, s["section_key"], s["position"], s["weight"], s["earned"], s["possible"],
                                  s["score"]))
                for s in scored.standards:
                    standards.add((visit_id, s["standard_key"], s["score"], s["earned"], s["possible"]))
                for a in scored.answers:
                    answers.add((visit_id, a["position"], a["section_key"], a["question_key"], a["standard_key"],
                                 a["value"], a["status"], a["earned"], a["possible"], a["critical_fail"], a["comment"],
                                 a["repeat"], a["adjustment"]))
            if b % 100 == 0:
                for copier in (assignments, submissions, sections, standards, answers):
                    copier.flush()
                raw.commit()
                print(f"  {b} branches, {visit_id} visits", flush=True)
        for copier in (assignments, submissions, sections, standards, answers):
            copier.flush()
            counts[copier.table] = copier.rows
        for table in ("region", "branch", "assignment", "submission", "section_score", "standard_score", "answer"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
        with app.app_context():  # the monthly sums the region and network averages read (survey/rollups.py)
            from survey import rollups

            rollups.rebuild()
            db.session.commit()
            counts["score_month"] = db.session.scalar(text("SELECT count(*) FROM score_month"))
            db.session.remove()
        raw.autocommit = True  # their visibility map, so they are read from their indexes alone at once
        cursor.execute("VACUUM score_month, standard_month")
        raw.autocommit = False
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--schema", default="chain")
    parser.add_argument("--branches", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=40)
    parser.add_argument("--per-year", type=int, default=24)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--drop", action="store_true", help="only drop the schema")
    args = parser.parse_args()
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except Exception as exc:
        print(f"SKIPPED: needs PostgreSQL at {args.database_url} ({exc.__class__.__name__})")
        return 0
    if args.drop:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE'))
        print(f"dropped schema {args.schema}")
        return 0
    make_schema(admin, args.schema)
    started = time.monotonic()
    counts = build(url_for(args.database_url, args.schema), args.branches, args.regions, args.per_year, args.years)
    print(f"made in {time.monotonic() - started:.0f} s in schema {args.schema}: "
          + ", ".join(f"{n:,} {table}" for table, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
