"""Publishing the catalogue: standards and checklist versions from validated files into the database.

Used by ``flask checklist import``, ``seed-demo`` and (later) the HQ console, so
the same rules decide what a new version is wherever it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checklist import loader
from .checklist.schema import Checklist as ChecklistSchema
from .checklist.schema import StandardsFile
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, ProgrammingError

from .extensions import db
from .models import Checklist, ChecklistVersion, Standard


@dataclass
class Outcome:
    what: str
    changed: bool
    detail: str

    def __str__(self) -> str:
        return f"{self.what}: {self.detail}"


class NoSchema(RuntimeError):
    """The database has no tables yet (``flask db upgrade`` was never run)."""

    def __init__(self, importing: bool = False):
        super().__init__()
        self.importing = importing

    def __str__(self) -> str:
        first = "the database has no tables yet: run `flask --app wsgi db upgrade` first"
        return first if self.importing else first + ", or give standards.yaml along with the checklists"


def standards_catalogue() -> dict[str, bool]:
    """Return the database's standards as key → retired; raise NoSchema on a database never migrated."""
    try:
        rows = db.session.execute(db.select(Standard.key, Standard.retired)).all()
    except (OperationalError, ProgrammingError) as exc:
        db.session.rollback()
        if not inspect(db.engine).has_table(Standard.__tablename__):
            raise NoSchema() from None
        raise exc
    return {key: retired for key, retired in rows}


def import_standards(parsed: StandardsFile) -> Outcome:
    """Add new standards and update titles, descriptions and retirement of known ones."""
    existing = {s.key: s for s in db.session.scalars(db.select(Standard))}
    added = updated = 0
    for position, item in enumerate(parsed.standards):
        row = existing.get(item.key)
        if row is None:
            db.session.add(Standard(key=item.key, title=item.title, description=item.description,
                                    retired=item.retired, position=position))
            added += 1
        elif (row.title, row.description, row.retired, row.position) != (
            item.title, item.description, item.retired, position
        ):
            row.title, row.description, row.retired, row.position = (
                item.title, item.description, item.retired, position
            )
            updated += 1
    db.session.flush()
    return Outcome("standards", bool(added or updated), f"{added} added, {updated} updated")


def publish(parsed: ChecklistSchema) -> tuple[ChecklistVersion, bool]:
    """Publish a new immutable version unless the latest one has the same content."""
    content = parsed.canonical()
    digest = loader.content_hash(content)
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug=parsed.slug))
    if checklist is None:
        checklist = Checklist(slug=parsed.slug, title=parsed.title, channel=parsed.channel)
        db.session.add(checklist)
        db.session.flush()
    latest = checklist.latest
    if latest is not None and latest.content_hash == digest:
        return latest, False
    checklist.title = parsed.title
    checklist.channel = parsed.channel
    version = ChecklistVersion(
        checklist=checklist, number=(latest.number + 1) if latest else 1, content=content, content_hash=digest
    )
    db.session.add(version)
    db.session.flush()
    return version, True


def validate_paths(paths: list[str | Path]) -> tuple[list, list[loader.LoadError]]:
    """Validate files, standards first; return parsed items and every error of every file.

    Checklists are checked against the standards given alongside them, or else
    against the database's catalogue.
    """
    parsed: list = []
    errors: list[loader.LoadError] = []
    texts = []
    for path in paths:
        try:
            texts.append(loader.read_file(path))
        except loader.ChecklistError as exc:
            errors.extend(exc.errors)
    given_standards: dict[str, bool] = {}
    checklist_texts = []
    for text, name in texts:
        data, builder = loader.parse_yaml(text, name)
        if loader.kind_of(data) == "standards":
            try:
                result = loader.load_standards_text(text, name)
            except loader.ChecklistError as exc:
                errors.extend(exc.errors)
                continue
            parsed.append(result)
            given_standards.update({s.key: s.retired for s in result.standards})
        else:
            checklist_texts.append((text, name))
    try:
        standards = standards_catalogue()
    except NoSchema:
        if checklist_texts and not given_standards:
            raise
        standards = {}  # a new installation: the standards given alongside are the catalogue
    catalogue = {**standards, **given_standards}
    for text, name in checklist_texts:
        try:
            parsed.append(loader.load_checklist_text(text, name, catalogue))
        except loader.ChecklistError as exc:
            errors.extend(exc.errors)
    return parsed, errors


def import_paths(paths: list[str | Path]) -> tuple[list[Outcome], list[loader.LoadError]]:
    """Validate every file and, only if all are valid, import them in one transaction."""
    try:
        standards_catalogue()  # an import needs the tables: NoSchema says so in one line
    except NoSchema:
        raise NoSchema(importing=True) from None
    parsed, errors = validate_paths(paths)
    if errors:
        return [], errors
    outcomes = []
    for item in parsed:
        if isinstance(item, StandardsFile):
            outcomes.append(import_standards(item))
        else:
            version, created = publish(item)
            detail = f"published version {version.number}" if created else f"unchanged (version {version.number})"
            outcomes.append(Outcome(item.slug, created, detail))
    db.session.commit()
    return outcomes, []


def checklist_paths(directory: str | Path) -> list[Path]:
    """Return the shipped files of a folder, the standards catalogue first."""
    folder = Path(directory)
    files = sorted(folder.glob("*.yaml"))
    return sorted(files, key=lambda p: (p.name != "standards.yaml", p.name))


def export_yaml(slug: str) -> str | None:
    """Return the latest version of a checklist as YAML, or None if there is no such checklist."""
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug=slug))
    if checklist is None or checklist.latest is None:
        return None
    return loader.dump_yaml(checklist.latest.content)
