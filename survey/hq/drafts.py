"""Draft operations of the checklist editor: every write of a draft, one function per user action.

A draft (``ChecklistDraft``) is HQ's working copy of a checklist; it is made from the
latest version on the first change. Every write goes through the ORM, where the draft's
``revision`` is an optimistic lock (``version_id_col``): a form carries the revision it
was opened at (``Working.revision``) and a write whose draft changed meanwhile, by a form
save, an import or a publish, fails here with ``Stale`` instead of overwriting it.
Operations commit (or roll back) and log; views turn their outcome into a page.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import catalogue
from ..checklist import edits, loader
from ..checklist.schema import Checklist as ChecklistSchema
from ..extensions import db
from ..models import Checklist, ChecklistDraft, ChecklistVersion, utcnow
from . import queries

logger = logging.getLogger(__name__)

#: Slugs the editor's own pages use (``/hq/checklists/new``); a checklist can't take them.
RESERVED_SLUGS = {"new", "import"}


class Stale(Exception):
    """The draft changed (saved, published, imported) after the form was opened; nothing was stored."""


class Refused(Exception):
    """An operation that can't be done as asked; ``message`` says why, in the page's words."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass
class Working:
    """What the editor works on: the published checklist (if any), its draft (if any) and the content to edit."""

    slug: str
    checklist: Checklist | None
    draft: ChecklistDraft | None
    #: The draft's content, or the latest version's while no draft exists (a deep copy: safe to change).
    content: dict[str, Any]

    @property
    def revision(self) -> str:
        """The token every form carries: the draft's revision, or the latest version while there is no draft.

        A form opened before anyone saved the draft, published, or imported a
        new version carries an older token and is refused as stale.
        """
        if self.draft is not None:
            return str(self.draft.revision)
        return f"v{self.latest.number if self.latest else 0}"

    @property
    def latest(self) -> ChecklistVersion | None:
        return self.checklist.latest if self.checklist else None

    @property
    def behind(self) -> bool:
        """Tell whether a version was published after this draft was started (e.g. a YAML import)."""
        if self.draft is None:
            return False
        latest = self.latest.number if self.latest else None
        return self.draft.base_version != latest


def load(slug: str) -> Working | None:
    """Return what the editor works on for a slug, or None if there is neither a checklist nor a draft."""
    checklist = queries.checklist(slug)
    draft = queries.draft(slug)
    if draft is not None:
        content = draft.content
    elif checklist is not None and checklist.latest is not None:
        content = checklist.latest.content
    else:
        return None
    return Working(slug, checklist, draft, copy.deepcopy(content))


def check(content: dict[str, Any]) -> list[edits.Problem]:
    """Return every problem of a draft, by the YAML import's rules, worded for the editor."""
    return edits.problems(content, queries.standards_catalogue(), queries.standard_titles())


def _commit(what: str, slug: str, user_id: int | None) -> None:
    """Commit a draft write; a write that lost a race raises ``Stale`` with nothing stored."""
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        logger.info("checklist %s: %s by user %s refused, the draft changed meanwhile", slug, what, user_id)
        raise Stale() from None
    logger.info("checklist %s: %s by user %s", slug, what, user_id)


def save(working: Working, content: dict[str, Any], revision: str | None, user_id: int | None,
         base_version: int | None = None, what: str = "draft saved") -> None:
    """Store ``content`` as the draft's next revision; raise ``Stale`` if ``revision`` is not the current one."""
    if revision is None or revision != working.revision:
        raise Stale()
    draft = working.draft
    if draft is None:
        base = working.latest.number if working.latest else None
        draft = ChecklistDraft(slug=working.slug, content=content, base_version=base, updated_by_id=user_id)
        db.session.add(draft)
    else:
        draft.content, draft.updated_by_id, draft.updated_at = content, user_id, utcnow()
        if base_version is not None:
            draft.base_version = base_version
    _commit(what, working.slug, user_id)


def create(content: dict[str, Any], user_id: int | None) -> None:
    """Start the draft of a new checklist; ``Stale`` if its slug was taken a moment ago."""
    db.session.add(ChecklistDraft(slug=content["slug"], content=content, base_version=None, updated_by_id=user_id))
    _commit("new checklist started", content["slug"], user_id)


@dataclass
class Published:
    version: ChecklistVersion
    created: bool


def publish(working: Working, revision: str | None, user_id: int | None) -> Published:
    """Publish the draft as a new immutable version; raise ``Refused`` or ``Stale``.

    Submissions keep the version they were made on. The draft then holds the published
    content, so it shows no changes.
    """
    if revision != working.revision:
        raise Stale()
    parsed, errors = loader.validate_content(working.content, queries.standards_catalogue())
    if errors or parsed is None:
        raise Refused(f"Not published: fix the {len(errors)} problem(s) listed below first. Nothing was changed.")
    if working.behind:
        latest = working.latest.number if working.latest else None
        raise Refused(f"Not published: version {latest} was published (for example by a YAML import) after this "
                      f"draft was started. Publishing would undo it. Discard the draft to start again from "
                      f"version {latest}.", 409)
    try:
        version, created = catalogue.publish(parsed)
    except IntegrityError:  # someone published this checklist at the same moment
        db.session.rollback()
        raise Stale() from None
    if not created:
        db.session.rollback()
        return Published(version, False)
    if working.draft is not None:
        draft = working.draft
        draft.content, draft.base_version = copy.deepcopy(version.content), version.number
        draft.updated_by_id, draft.updated_at = user_id, utcnow()
    _commit(f"version {version.number} published", working.slug, user_id)
    return Published(version, True)


def discard(working: Working, revision: str | None, user_id: int | None) -> ChecklistVersion | None:
    """Throw the draft's changes away; return the version the editor shows again (None: the draft is gone)."""
    if revision != working.revision:
        raise Stale()
    latest = working.latest
    if latest is None:
        db.session.delete(working.draft)
        _commit("unpublished draft discarded", working.slug, user_id)
        return None
    save(working, copy.deepcopy(latest.content), revision, user_id, base_version=latest.number,
         what="draft discarded")
    return latest


def parse_import(text: str, name: str) -> ChecklistSchema:
    """Validate an imported file for the editor: a checklist, not a standards catalogue, nor a reserved slug."""
    data, builder = loader.parse_yaml(text, name)
    if loader.kind_of(data) == "standards":
        raise loader.ChecklistError([loader.LoadError.of(name, 1, "", "standards_not_checklist")])
    parsed = loader.load_checklist_text(text, name, queries.standards_catalogue())
    if parsed.slug in RESERVED_SLUGS:
        raise loader.ChecklistError([loader.LoadError.of(name, builder.lines.get(("slug",)), "slug",
                                                         "slug_reserved", slug=parsed.slug)])
    return parsed


@dataclass
class Imported:
    slug: str
    #: "published"; "published_unchanged" (the file matches the latest version); "draft"; "draft_unchanged"
    #: (the draft now matches the latest version); "nothing_to_review" (no draft, and the file matches).
    outcome: str
    version: ChecklistVersion | None = None
    #: The latest version's number after the import.
    latest: int | None = None


def import_checklist(parsed: ChecklistSchema, then: str, user_id: int | None) -> Imported:
    """Publish an imported checklist, or put it in the draft; ``Stale`` if another write raced it."""
    slug = parsed.slug
    checklist = queries.checklist(slug)
    if then == "publish":
        previous = checklist.latest if checklist else None
        try:
            version, created = catalogue.publish(parsed)
        except IntegrityError:
            db.session.rollback()
            raise Stale() from None
        _fast_forward(slug, previous, version)
        _commit(f"imported as version {version.number}" if created else "import unchanged", slug, user_id)
        return Imported(slug, "published" if created else "published_unchanged", version, version.number)
    draft = queries.draft(slug)
    latest = checklist.latest.number if checklist and checklist.latest else None
    unchanged = latest is not None and loader.content_hash(parsed.canonical()) == checklist.latest.content_hash
    if unchanged and draft is None:
        return Imported(slug, "nothing_to_review", checklist.latest, latest)
    if draft is None:
        db.session.add(ChecklistDraft(slug=slug, content=parsed.canonical(), base_version=latest,
                                      updated_by_id=user_id))
    else:
        draft.content, draft.base_version = parsed.canonical(), latest
        draft.updated_by_id, draft.updated_at = user_id, utcnow()
    _commit("imported into the draft", slug, user_id)
    return Imported(slug, "draft_unchanged" if unchanged else "draft", None, latest)


def _fast_forward(slug: str, previous: ChecklistVersion | None, version: ChecklistVersion) -> None:
    """After a publish from elsewhere, move a draft with no changes of its own onto the new version."""
    draft = queries.draft(slug)
    if draft is None or previous is None or draft.base_version != previous.number:
        return
    if edits.unchanged_from(draft.content, previous.content_hash):
        draft.content, draft.base_version = copy.deepcopy(version.content), version.number
