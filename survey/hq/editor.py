"""HQ console: the checklist editor (issue 4).

HQ edits a *draft* of a checklist (``ChecklistDraft``: the file format as plain
data, allowed to be unfinished) and publishes it as a new immutable version.
The draft is made from the latest version on the first change. Every change is
judged by the YAML import's own rules (``loader.validate_content``):

- a change that would *add* a problem (a weight of 0, a duplicate key, a
  ``show_if`` on a later question, a section left empty) is refused: nothing is
  stored, the form comes back as typed with each message beside its field;
- problems already in the draft (a question just added, not yet finished) don't
  block saving; they are listed on the draft page and block publishing.

Every form carries the draft's revision (before the first change: the version
it shows); a form opened before someone else saved, published or imported is
refused with what was typed kept on screen. Saves are conditional UPDATEs on
the revision, so two saves racing can't both win.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from .. import catalogue
from ..checklist import loader
from ..checklist.diff import diff, number
from ..checklist.schema import Checklist as ChecklistSchema
from ..checklist.shares import question_shares, section_shares, standard_shares
from ..extensions import db
from ..models import Checklist, ChecklistDraft, ChecklistVersion, Standard, Submission, User, utcnow
from ..shopper import forms as shopper_forms
from ..shopper import views as shopper_views
from .blueprint import bp
from .editor_forms import (
    IMPORT_MAX_CHARS, SCOREABLE, TYPE_LABELS, ActionForm, AddQuestionForm, AddSectionForm, ImportForm, MoveForm, NewChecklistForm,
    QuestionForm, SectionForm, SettingsForm,
)

#: Slugs the editor's own pages use (``/hq/checklists/new``); a checklist can't take them.
RESERVED_SLUGS = {"new", "import"}
STALE = ("Not saved: someone else changed this checklist's draft (saved or published) after you opened this "
         "page. Nothing was overwritten. Your entries are still below: check the current draft, then press "
         "the button again to apply them to it.")


# =================================================================== the draft


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


def working_or_404(slug: str) -> Working:
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug=slug))
    draft = db.session.scalar(db.select(ChecklistDraft).filter_by(slug=slug))
    if draft is not None:
        content = draft.content
    elif checklist is not None and checklist.latest is not None:
        content = checklist.latest.content
    else:
        abort(404)
    return Working(slug, checklist, draft, copy.deepcopy(content))


def save(working: Working, content: dict[str, Any], revision: str | None, base_version: int | None = None) -> bool:
    """Store ``content`` as the draft's next revision and commit; False (nothing stored) if ``revision`` is stale."""
    if revision is None or revision != working.revision:
        return False
    if working.draft is None:
        base = working.latest.number if working.latest else None
        db.session.add(ChecklistDraft(slug=working.slug, content=content, base_version=base, revision=1,
                                      updated_by_id=current_user.id))
        try:
            db.session.commit()
        except IntegrityError:  # someone created it a moment ago
            db.session.rollback()
            return False
        return True
    current = working.draft.revision
    values: dict[str, Any] = {"content": content, "revision": current + 1, "updated_by_id": current_user.id,
                              "updated_at": utcnow()}
    if base_version is not None:
        values["base_version"] = base_version
    result = db.session.execute(
        db.update(ChecklistDraft)
        .where(ChecklistDraft.id == working.draft.id, ChecklistDraft.revision == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    db.session.commit()
    return True


# =================================================================== problems


@dataclass(frozen=True)
class Problem:
    """One broken rule of the draft: where (a path such as ``sections[1].questions[2].weight``) and what."""

    path: tuple
    message: str

    @property
    def where(self) -> str:
        return loader.format_path(self.path)


PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_path(text: str) -> tuple:
    """Read ``sections[1].questions[2].weight`` back into ``("sections", 1, "questions", 2, "weight")``."""
    return tuple(int(index) if index else name for index, name in PATH_PART.findall(text))


#: The file validator's wording (checklist/rules.py, loader.py), which the YAML tests pin, and its editor words.
RETIRED_STANDARD = re.compile(r"^standard '(.+)' is retired; pick another$")
UNKNOWN_STANDARD = re.compile(r"^unknown standard '(.+)'$")
COMPARISON = re.compile(r"^must be (>=|<=|>|<) (\S+)$")
COMPARISON_WORDS = {">": "more than {}", ">=": "{} or more", "<": "less than {}", "<=": "{} or less"}


def humanize(path: tuple, message: str, titles: dict[str, str] | None = None) -> str:
    """Say a validator message the way a person reads it beside a field (``titles``: standard key → title)."""
    titles = titles or {}
    retired, unknown, comparison = (RETIRED_STANDARD.match(message), UNKNOWN_STANDARD.match(message),
                                    COMPARISON.match(message))
    if retired:
        message = f"the standard “{titles.get(retired.group(1), retired.group(1))}” is retired; pick another"
    elif unknown:
        message = f"there is no standard “{unknown.group(1)}”; pick one from the list"
    elif comparison and path[-1:] == ("score",):
        message = "a score is between 0 and 1, such as 0.5"
    elif comparison:
        sign, limit = comparison.groups()
        message = "must be " + COMPARISON_WORDS[sign].format(limit)
    elif "at least 1 item" in message and path[-1:] == ("questions",):
        message = "this section has no questions yet: add one, or delete the section"
    elif "at least 1 item" in message and path == ("sections",):
        message = "the checklist has no sections yet: add one"
    elif "unable to parse string as a number" in message:
        message = "must be a number, such as 2 or 0.5"
    elif "valid integer" in message:
        message = "must be a whole number"
    elif "at least 1 character" in message:
        message = "must not be empty"
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?", "!", ")")) else message + "."


def check(content: dict[str, Any]) -> list[Problem]:
    """Return every problem of the content, by the YAML import's rules."""
    _, errors = loader.validate_content(content, catalogue.standards_catalogue())
    if not errors:
        return []
    titles = dict(db.session.execute(db.select(Standard.key, Standard.title)).all())
    return [Problem(parse_path(e.path), humanize(parse_path(e.path), e.message, titles)) for e in errors]


def identity(content: dict[str, Any], problem: Problem) -> tuple:
    """Name a problem by keys, not positions, so moving a question doesn't make old problems look new."""
    path = problem.path
    sections = _sections(content)
    if len(path) >= 2 and path[0] == "sections" and isinstance(path[1], int) and path[1] < len(sections):
        section = sections[path[1]]
        questions = _questions(section)
        if len(path) >= 4 and path[2] == "questions" and isinstance(path[3], int) and path[3] < len(questions):
            return ("question", questions[path[3]].get("key"), path[4:], problem.message)
        return ("section", section.get("key"), path[2:], problem.message)
    return ("checklist", path, problem.message)


def introduced(before: dict[str, Any], after: dict[str, Any], by_key: bool) -> list[Problem]:
    """Return the problems ``after`` has that ``before`` did not."""
    def name(content, problem):
        return identity(content, problem) if by_key else (problem.path, problem.message)

    old = {name(before, p) for p in check(before)}
    return [p for p in check(after) if name(after, p) not in old]


def previewable(content: dict[str, Any]) -> ChecklistSchema | None:
    """Build what can be shown of a draft: as ``model_or_none``, leaving out sections with no questions yet."""
    parsed = model_or_none(content)
    if parsed is None and isinstance(content, dict):
        kept = [s for s in _sections(content) if not (isinstance(s, dict) and s.get("questions") == [])]
        parsed = model_or_none({**content, "sections": kept}) if kept else None
    return parsed


def model_or_none(content: dict[str, Any]) -> ChecklistSchema | None:
    """Build the checklist if its fields are valid (cross-checks such as standards may still fail)."""
    try:
        return ChecklistSchema.model_validate(content)
    except (ValidationError, TypeError, ValueError):
        return None


# =================================================================== content


def _sections(content: dict[str, Any]) -> list[dict[str, Any]]:
    sections = content.get("sections")
    return sections if isinstance(sections, list) else []


def _questions(section: Any) -> list[dict[str, Any]]:
    questions = section.get("questions") if isinstance(section, dict) else None
    return questions if isinstance(questions, list) else []


def _question_list(section: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a section's list of questions, making it one if a broken draft holds something else."""
    if not isinstance(section.get("questions"), list):
        section["questions"] = []
    return section["questions"]


def find_question(content: dict[str, Any], key: str) -> tuple[int, int] | None:
    for s, section in enumerate(_sections(content)):
        for q, question in enumerate(_questions(section)):
            if isinstance(question, dict) and question.get("key") == key:
                return s, q
    return None


def find_section(content: dict[str, Any], key: str) -> int | None:
    for s, section in enumerate(_sections(content)):
        if isinstance(section, dict) and section.get("key") == key:
            return s
    return None


def question_keys(content: dict[str, Any]) -> set[str]:
    return {q.get("key") for s in _sections(content) for q in _questions(s) if isinstance(q, dict)}


def new_key(text: str, taken: set[str], fallback: str) -> str:
    """Make a lower_snake_case key from a title or a question's words, unique among ``taken``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    base = "_".join(words[:5])[:40].strip("_") or fallback
    if not base[0].isalpha():
        base = f"{fallback}_{base}"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def earlier_questions(content: dict[str, Any], s: int, q: int | None) -> list[tuple[str, str]]:
    """Return ``(key, label)`` of the questions before section ``s`` question ``q`` (all of section ``s`` if None)."""
    out = []
    for i, section in enumerate(_sections(content)):
        for j, question in enumerate(_questions(section)):
            if i > s or (i == s and (q is None or j >= q)):
                return out
            if isinstance(question, dict) and question.get("key"):
                text = str(question.get("text") or "")
                out.append((question["key"], f"{question['key']} – {text[:60]}{'…' if len(text) > 60 else ''}"))
    return out


def answers_help(content: dict[str, Any], s: int, q: int) -> list[tuple[str, str, str]]:
    """List what each earlier question can answer, for writing a show_if value."""
    out = []
    for key, _ in earlier_questions(content, s, q):
        found = find_question(content, key)
        question = content["sections"][found[0]]["questions"][found[1]]
        kind = question.get("type")
        if kind == "yes_no":
            values = "yes, no"
        elif kind == "scale":
            values = f"a whole number from {question.get('min')} to {question.get('max')}"
        elif kind in ("choice", "multi"):
            values = ", ".join(str(o.get("key")) for o in question.get("options") or [] if isinstance(o, dict))
        elif kind == "number":
            values = "a number (above or below only)"
        else:
            continue  # text, date, time and photo answers can't be tested
        out.append((key, _short(question.get("text"), 60), values))
    return out


def rename_references(content: dict[str, Any], old: str, new: str) -> int:
    """Point every ``show_if`` on question ``old`` at ``new``; return how many were changed."""
    changed = 0
    for section in _sections(content):
        for item in [section] + _questions(section):
            rule = item.get("show_if") if isinstance(item, dict) else None
            if isinstance(rule, dict) and rule.get("question") == old:
                rule["question"] = new
                changed += 1
    return changed


def move_question(content: dict[str, Any], s: int, q: int, direction: str) -> bool:
    """Move a question one place; past the edge of its section it goes to the next section. False if it can't."""
    sections = _sections(content)
    questions = _questions(sections[s])
    if direction == "up":
        if q > 0:
            questions[q - 1], questions[q] = questions[q], questions[q - 1]
        elif s > 0:
            _question_list(sections[s - 1]).append(questions.pop(q))
        else:
            return False
    elif direction == "down":
        if q < len(questions) - 1:
            questions[q + 1], questions[q] = questions[q], questions[q + 1]
        elif s < len(sections) - 1:
            _question_list(sections[s + 1]).insert(0, questions.pop(q))
        else:
            return False
    else:
        return False
    return True


def move_question_to(content: dict[str, Any], s: int, q: int, section_key: str, index: int) -> bool:
    """Move a question to a position in a section (drag and drop)."""
    target = find_section(content, section_key)
    if target is None:
        return False
    question = _questions(_sections(content)[s]).pop(q)
    questions = _question_list(_sections(content)[target])
    questions.insert(max(0, min(index, len(questions))), question)
    return True


def move_section(content: dict[str, Any], s: int, direction: str) -> bool:
    sections = _sections(content)
    t = s - 1 if direction == "up" else s + 1 if direction == "down" else -1
    if not 0 <= t < len(sections):
        return False
    sections[s], sections[t] = sections[t], sections[s]
    return True


def describe(content: dict[str, Any], path: tuple) -> str:
    """Say where a path points, in the words on the page: Section “Arrival” › “Were you greeted?” › weight."""
    sections = _sections(content)
    parts: list[str] = []
    rest = path
    if len(path) >= 2 and path[0] == "sections" and isinstance(path[1], int) and path[1] < len(sections):
        section = sections[path[1]]
        parts.append(f"Section “{section.get('title') or section.get('key')}”")
        rest = path[2:]
        questions = _questions(section)
        if len(rest) >= 2 and rest[0] == "questions" and isinstance(rest[1], int) and rest[1] < len(questions):
            question = questions[rest[1]]
            parts.append(f"“{_short(question.get('text') or question.get('key'))}”")
            rest = rest[2:]
    if rest:
        parts.append(loader.format_path(rest))
    return " › ".join(parts) or "Checklist"


def _short(text: Any, limit: int = 70) -> str:
    text = str(text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def edit_url(slug: str, content: dict[str, Any], path: tuple) -> str:
    """Return the page where the thing at ``path`` is edited."""
    draft_page = url_for("hq.checklist_edit", slug=slug)
    sections = _sections(content)
    if len(path) >= 2 and path[0] == "sections" and isinstance(path[1], int) and path[1] < len(sections):
        section = sections[path[1]]
        questions = _questions(section)
        if len(path) >= 4 and path[2] == "questions" and isinstance(path[3], int) and path[3] < len(questions):
            key = questions[path[3]].get("key") if isinstance(questions[path[3]], dict) else None
            return url_for("hq.checklist_question_edit", slug=slug, key=key) if key else draft_page
        if not isinstance(section, dict) or not section.get("key"):
            return draft_page
        if path[2:3] in (("questions",), ()):
            return f"{draft_page}#s-{section['key']}"
        return url_for("hq.checklist_section_edit", slug=slug, key=section["key"])
    if path and path[0] in SettingsForm.FIELDS:
        return url_for("hq.checklist_settings", slug=slug)
    return draft_page


# =================================================================== pages: the list


@bp.get("/checklists")
def checklists():
    """List checklists with channel, latest version and submissions per version."""
    return render_template("hq/checklists/index.html", items=checklist_summaries())


def checklist_summaries() -> list[dict[str, Any]]:
    """Summarise every checklist and draft: submissions per version come from one grouped query."""
    rows = db.session.execute(
        db.select(Checklist.slug, Checklist.title, Checklist.channel, ChecklistVersion.number,
                  ChecklistVersion.published_at, ChecklistVersion.content_hash, func.count(Submission.id))
        .join(ChecklistVersion, ChecklistVersion.checklist_id == Checklist.id)
        .outerjoin(Submission, Submission.version_id == ChecklistVersion.id)
        .group_by(Checklist.slug, Checklist.title, Checklist.channel, ChecklistVersion.number,
                  ChecklistVersion.published_at, ChecklistVersion.content_hash)
        .order_by(Checklist.title, ChecklistVersion.number)
    ).all()
    items: dict[str, dict[str, Any]] = {}
    for slug, title, channel, version_number, published_at, digest, submissions in rows:
        item = items.setdefault(slug, {"slug": slug, "title": title, "channel": channel.value, "versions": [],
                                       "submissions": 0, "draft": None})
        item["versions"].append({"number": version_number, "published_at": published_at, "submissions": submissions})
        item["submissions"] += submissions
        item["latest"], item["latest_hash"] = version_number, digest
    for draft in db.session.scalars(db.select(ChecklistDraft).order_by(ChecklistDraft.slug)):
        item = items.get(draft.slug)
        if item is None:
            content = draft.content if isinstance(draft.content, dict) else {}
            items[draft.slug] = {"slug": draft.slug, "title": content.get("title") or draft.slug,
                                 "channel": content.get("channel") or "", "versions": [], "submissions": 0,
                                 "latest": None, "draft": "new"}
            continue
        parsed = model_or_none(draft.content)
        if draft.base_version != item["latest"]:
            item["draft"] = "behind"
        elif parsed is None or loader.content_hash(parsed.canonical()) != item["latest_hash"]:
            item["draft"] = "changed"
    return sorted(items.values(), key=lambda i: str(i["title"]).lower())


@bp.route("/checklists/new", methods=["GET", "POST"])
def checklist_new():
    """Start an empty draft for a new checklist: slug, title and channel; the rest is added in the editor."""
    form = NewChecklistForm()
    if form.is_submitted():
        form.validate()
        content = form.to_content()
        _, errors = loader.validate_content(content, catalogue.standards_catalogue())
        for e in errors:
            form.place(parse_path(e.path), humanize(parse_path(e.path), e.message))  # no standards yet
        if content["slug"] in RESERVED_SLUGS:
            form.slug.errors.append(f"“{content['slug']}” is the name of an editor page; pick another slug.")
        if not form.errors:
            db.session.add(ChecklistDraft(slug=content["slug"], content=content, base_version=None, revision=1,
                                          updated_by_id=current_user.id))
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                form.slug.errors.append("That slug was taken a moment ago. Pick another.")
            else:
                flash("New checklist started. Add its first section below.")
                return redirect(url_for("hq.checklist_edit", slug=content["slug"]))
    status = 422 if form.is_submitted() else 200
    return render_template("hq/checklists/new.html", form=form), status


@bp.route("/checklists/import", methods=["GET", "POST"])
def checklist_import():
    """Import a checklist file (upload or paste): all errors at once with lines, nothing changed on error."""
    form = ImportForm()
    errors: list[loader.LoadError] = []
    if form.validate_on_submit():
        text, name = _import_text(form)
        if text is not None:
            try:
                parsed = _load_import(text, name)
            except loader.ChecklistError as exc:
                errors = exc.errors
            else:
                try:
                    return _apply_import(parsed, form.then.data)
                except IntegrityError:  # a version or draft of this checklist appeared meanwhile
                    db.session.rollback()
                    errors = [loader.LoadError(name, None, "", (
                        "someone else published or started editing this checklist at the same moment, "
                        "so nothing was imported. Look at the checklist's page, then import again."))]
                    return render_template("hq/checklists/import.html", form=form, errors=errors), 409
    status = 422 if form.is_submitted() else 200
    return render_template("hq/checklists/import.html", form=form, errors=errors), status


def _import_text(form: ImportForm) -> tuple[str | None, str]:
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        try:
            raw = upload.read(IMPORT_MAX_CHARS + 1)
        finally:
            upload.close()  # a large body is spooled to a temporary file: let it go now
        if len(raw) > IMPORT_MAX_CHARS:
            form.file.errors.append(f"This file is larger than {IMPORT_MAX_CHARS // 1000:,} KB; a checklist is far smaller.")
            return None, upload.filename
        try:
            return raw.decode("utf-8-sig"), upload.filename
        except UnicodeDecodeError:
            form.file.errors.append("This file is not UTF-8 text. Save it as UTF-8 and choose it again.")
            return None, upload.filename
    if (form.text.data or "").strip():
        return form.text.data, "pasted.yaml"
    form.text.errors.append("Choose a file or paste the YAML.")
    return None, ""


def _load_import(text: str, name: str) -> ChecklistSchema:
    data, builder = loader.parse_yaml(text, name)
    if loader.kind_of(data) == "standards":
        raise loader.ChecklistError([loader.LoadError(
            name, 1, "", "this is a standards catalogue, not a checklist; import it on the command line "
                         "with flask checklist import")])
    parsed = loader.load_checklist_text(text, name, catalogue.standards_catalogue())
    if parsed.slug in RESERVED_SLUGS:
        raise loader.ChecklistError([loader.LoadError(
            name, builder.lines.get(("slug",)), "slug",
            f"“{parsed.slug}” is the name of an editor page; pick another slug")])
    return parsed


def _apply_import(parsed: ChecklistSchema, then: str):
    slug = parsed.slug
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug=slug))
    if then == "publish":
        previous = checklist.latest if checklist else None
        version, created = catalogue.publish(parsed)
        _fast_forward_draft(slug, previous, version)
        db.session.commit()
        if not created:
            flash(f"Nothing changed: the file matches version {version.number}. No new version was published.")
            return redirect(url_for("hq.checklist_edit", slug=slug))
        flash(f"Published version {version.number} of {parsed.title}.")
        return redirect(url_for("hq.checklist_version", slug=slug, number=version.number))
    draft = db.session.scalar(db.select(ChecklistDraft).filter_by(slug=slug))
    latest = checklist.latest.number if checklist and checklist.latest else None
    unchanged = latest is not None and loader.content_hash(parsed.canonical()) == checklist.latest.content_hash
    if unchanged and draft is None:
        flash(f"No changes from the published version (version {latest}): there is nothing to review or publish.")
        return redirect(url_for("hq.checklist_edit", slug=slug))
    if draft is None:
        db.session.add(ChecklistDraft(slug=slug, content=parsed.canonical(), base_version=latest, revision=1,
                                      updated_by_id=current_user.id))
    else:
        draft.content, draft.base_version = parsed.canonical(), latest
        draft.revision += 1
        draft.updated_by_id, draft.updated_at = current_user.id, utcnow()
    db.session.commit()
    if unchanged:
        flash(f"Imported into the draft. No changes from the published version (version {latest}): "
              "there is nothing to publish.")
    else:
        flash("Imported into the draft. Review the changes below, then publish.")
    return redirect(url_for("hq.checklist_edit", slug=slug))


def _fast_forward_draft(slug: str, previous: ChecklistVersion | None, version: ChecklistVersion) -> None:
    """After a publish from elsewhere, move a draft with no changes of its own onto the new version."""
    draft = db.session.scalar(db.select(ChecklistDraft).filter_by(slug=slug))
    if draft is None or previous is None or draft.base_version != previous.number:
        return
    parsed = model_or_none(draft.content)
    if parsed is not None and loader.content_hash(parsed.canonical()) == previous.content_hash:
        draft.content, draft.base_version = copy.deepcopy(version.content), version.number
        draft.revision += 1


# =================================================================== pages: one checklist


@bp.get("/checklists/<slug>")
def checklist_edit(slug: str):
    return render_draft(working_or_404(slug))


def render_draft(working: Working, status: int = 200, notice: str | None = None, notice_items=(),
                 notice_at: str | None = None):
    """Render the draft page: sections and questions, problems, shares, changes, preview, publish."""
    content = working.content
    if notice_at and not (find_question(content, notice_at[2:]) if notice_at.startswith("q-")
                          else find_section(content, notice_at[2:]) is not None):
        notice_at = None  # gone (deleted by someone else): say it at the top
    problems = check(content)
    parsed = model_or_none(content)
    shown = parsed or previewable(content)
    latest = working.latest
    by_place: dict[tuple, list[Problem]] = {}
    for p in problems:
        place = p.path[:4] if p.path[2:3] == ("questions",) and len(p.path) >= 4 else p.path[:2]
        by_place.setdefault(place, []).append(p)
    titles = dict(db.session.execute(db.select(Standard.key, Standard.title)).all())
    shares = {}
    if shown is not None:
        shares = {"questions": question_shares(shown), "sections": section_shares(shown),
                  "standards": sorted(standard_shares(shown).items(), key=lambda kv: -kv[1])}
    changes = diff(latest.content if latest else None, parsed.canonical() if parsed else content)
    # Nothing to publish: the draft is the latest version (by content, as publishing judges it).
    unchanged = (latest is not None and parsed is not None
                 and loader.content_hash(parsed.canonical()) == latest.content_hash)
    return render_template(
        "hq/checklists/edit.html",
        working=working, content=content, sections=_sections(content), questions_of=_questions,
        problems=[(p, describe(content, p.path), edit_url(working.slug, content, p.path)) for p in problems],
        by_place=by_place, shares=shares, titles=titles, changes=changes, unchanged=unchanged,
        type_labels=TYPE_LABELS,
        scoreable=SCOREABLE, scored_keys={q.key for _, q in shown.questions() if q.scored} if shown else None,
        notice=notice, notice_items=list(notice_items), notice_at=notice_at,
        fmt=loader.format_path, num=number,
        updated_by=_email_of(working.draft.updated_by_id if working.draft else None),
        add_section=AddSectionForm(formdata=None), add_question=AddQuestionForm(formdata=None),
    ), status


def _email_of(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.email if user else None


def _refuse(working: Working, form, notice: str, items=(), status: int = 422, at: str | None = None):
    """Re-show the draft page unchanged with a message beside the item whose button was pressed."""
    return render_draft(working, status, notice, items, at)


def _stale(working: Working, form) -> bool:
    """Tell whether a posted form was opened on an older revision of the draft.

    (A missing or wrong CSRF token never gets this far: CSRFProtect answers 400 first.)
    """
    return form.posted_revision() != working.revision


@bp.route("/checklists/<slug>/settings", methods=["GET", "POST"])
def checklist_settings(slug: str):
    working = working_or_404(slug)
    form = SettingsForm()
    if not form.is_submitted():
        form.fill(working.content)
        form.revision.data = working.revision
        _place_all(form, [(p.path, p.message) for p in check(working.content) if p.path != ("sections",)])
        return render_template("hq/checklists/settings.html", working=working, form=form)
    if _stale(working, form):
        return _reshow(form, working, "hq/checklists/settings.html", STALE)
    candidate = form.apply(working.content)
    new = introduced(working.content, candidate, by_key=False)
    if new:
        _place_all(form, [(p.path, p.message) for p in check(candidate) if p.path != ("sections",)], others=new,
                   content=candidate)
        return _reshow(form, working, "hq/checklists/settings.html", None, 422)
    if not save(working, candidate, form.posted_revision()):
        return _reshow(form, working, "hq/checklists/settings.html", STALE)
    flash("Checklist settings saved.")
    return redirect(url_for("hq.checklist_edit", slug=slug))


def _place_all(form, problems: list[tuple[tuple, str]], prefix: tuple = (), others=(), content=None) -> None:
    """Put each message below ``prefix`` beside its field; list new problems elsewhere at the top of the form."""
    for path, message in problems:
        rest = path[len(prefix):]
        if path[: len(prefix)] != prefix or _inner_item(rest):
            continue
        if not form.place(rest, message):
            form.form_errors.append(f"{loader.format_path(rest) or 'This'}: {message}")
    for p in others:
        if p.path[: len(prefix)] == prefix:
            continue
        if "used twice" in p.message and hasattr(form, "key"):
            form.key.errors = list(form.key.errors or []) + [p.message]
        else:
            form.form_errors.append(f"This would break {describe(content or {}, p.path)}: {p.message}")


def _inner_item(rest: tuple) -> bool:
    """Tell whether a path below the edited item points into one of its sections or questions."""
    return len(rest) >= 2 and rest[0] in ("sections", "questions") and isinstance(rest[1], int)


def _reshow(form, working: Working, template: str, refusal: str | None, status: int | None = None, **context):
    """Show a refused form again with what was typed, the current revision, and why it was refused."""
    if refusal:
        form.form_errors.insert(0, refusal)
    else:
        form.form_errors.insert(0, "Not saved: fix what is marked below. Nothing in the draft was changed.")
    form.revision.data = working.revision
    code = status or (409 if refusal == STALE else 422)
    return render_template(template, working=working, form=form, **context), code


# ------------------------------------------------------------------- sections


@bp.route("/checklists/<slug>/add-section", methods=["GET", "POST"])
def checklist_section_add(slug: str):
    working = working_or_404(slug)
    form = AddSectionForm()
    if not form.is_submitted():
        form.revision.data = working.revision
        return render_template("hq/checklists/add_section.html", working=working, form=form)
    if _stale(working, form):
        return _reshow(form, working, "hq/checklists/add_section.html", STALE)
    taken = {s.get("key") for s in _sections(working.content) if isinstance(s, dict)}
    key = (form.key.data or "").strip() or new_key(form.title.data or "", taken, "section")
    candidate = copy.deepcopy(working.content)
    candidate.setdefault("sections", [])
    if not isinstance(candidate["sections"], list):
        candidate["sections"] = []
    candidate["sections"].append(form.to_section(key))
    prefix = ("sections", len(candidate["sections"]) - 1)
    blocking = [p for p in introduced(working.content, candidate, by_key=False)
                if p.path[:2] != prefix or p.path[2:] != ("questions",)]
    if blocking:
        _place_all(form, [(p.path, p.message) for p in blocking], prefix, others=blocking, content=candidate)
        return _reshow(form, working, "hq/checklists/add_section.html", None, 422)
    if not save(working, candidate, form.posted_revision()):
        return _reshow(form, working, "hq/checklists/add_section.html", STALE)
    flash(f"Section “{form.title.data.strip()}” added. Now add its first question.")
    return redirect(url_for("hq.checklist_edit", slug=slug) + f"#s-{key}")


@bp.route("/checklists/<slug>/sections/<key>", methods=["GET", "POST"])
def checklist_section_edit(slug: str, key: str):
    working = working_or_404(slug)
    s = find_section(working.content, key)
    form = SectionForm()
    if not form.is_submitted():
        if s is None:
            abort(404)
        form.fill(working.content["sections"][s])
        form.revision.data = working.revision
        form.show_if.form.offer(earlier_questions(working.content, s, None))
        _place_all(form, [(p.path, p.message) for p in check(working.content)], ("sections", s))
        return render_template("hq/checklists/section.html", working=working, form=form, key=key)
    form.show_if.form.offer(earlier_questions(working.content, s if s is not None else 10**6, None))
    if _stale(working, form) or s is None:
        return _reshow(form, working, "hq/checklists/section.html", STALE, key=key)
    candidate = copy.deepcopy(working.content)
    candidate["sections"][s] = form.apply(candidate["sections"][s])
    new = introduced(working.content, candidate, by_key=False)
    if new:
        _place_all(form, [(p.path, p.message) for p in check(candidate)], ("sections", s), others=new,
                   content=candidate)
        return _reshow(form, working, "hq/checklists/section.html", None, 422, key=key)
    if not save(working, candidate, form.posted_revision()):
        return _reshow(form, working, "hq/checklists/section.html", STALE, key=key)
    flash(f"Section “{candidate['sections'][s]['title']}” saved.")
    return redirect(url_for("hq.checklist_edit", slug=slug) + f"#s-{candidate['sections'][s]['key']}")


@bp.post("/checklists/<slug>/sections/<key>/move")
def checklist_section_move(slug: str, key: str):
    working, form = working_or_404(slug), MoveForm()
    s = find_section(working.content, key)
    if _stale(working, form) or s is None:
        return _refuse(working, form, STALE, status=409, at=f"s-{key}")
    candidate = copy.deepcopy(working.content)
    title = _title_of(working.content["sections"][s])
    if not move_section(candidate, s, form.direction.data):
        edge = {"up": " is already first", "down": " is already last"}.get(form.direction.data, " can't move there")
        return _refuse(working, form, f"Section “{title}”{edge}.", at=f"s-{key}")
    return _store_structural(working, candidate, form, f"Section “{title}” moved {form.direction.data}.", f"s-{key}",
                             at=f"s-{key}")


@bp.post("/checklists/<slug>/sections/<key>/delete")
def checklist_section_delete(slug: str, key: str):
    working, form = working_or_404(slug), ActionForm()
    s = find_section(working.content, key)
    if _stale(working, form) or s is None:
        return _refuse(working, form, STALE, status=409, at=f"s-{key}")
    candidate = copy.deepcopy(working.content)
    removed = candidate["sections"].pop(s)
    done = f"Section “{removed.get('title') or key}” and its {len(_questions(removed))} question(s) deleted."
    return _store_structural(working, candidate, form, done, "", at=f"s-{key}")


def _store_structural(working: Working, candidate: dict[str, Any], form, done: str, anchor: str,
                      at: str | None = None):
    """Save a move or delete unless it breaks something (a show_if left pointing at a later or missing question)."""
    new = introduced(working.content, candidate, by_key=True)
    if new:
        items = [f"{describe(candidate, p.path)}: {p.message}" for p in new]
        return _refuse(working, form, "Not done: it would break the checklist as follows. Nothing was changed.",
                       items, at=at)
    if not save(working, candidate, form.posted_revision()):
        return _refuse(working, form, STALE, status=409, at=at)
    flash(done)
    return redirect(url_for("hq.checklist_edit", slug=working.slug) + (f"#{anchor}" if anchor else ""))


# ------------------------------------------------------------------- questions


@bp.route("/checklists/<slug>/sections/<key>/add-question", methods=["GET", "POST"])
def checklist_question_add(slug: str, key: str):
    working = working_or_404(slug)
    s = find_section(working.content, key)
    form = AddQuestionForm()
    if not form.is_submitted():
        if s is None:
            abort(404)
        form.revision.data = working.revision
        return render_template("hq/checklists/add_question.html", working=working, form=form, key=key)
    if _stale(working, form) or s is None:
        return _reshow(form, working, "hq/checklists/add_question.html", STALE, key=key)
    qkey = (form.key.data or "").strip() or new_key(form.text.data or "", question_keys(working.content), "question")
    candidate = copy.deepcopy(working.content)
    questions = _question_list(candidate["sections"][s])
    questions.append(form.to_question(qkey))
    prefix = ("sections", s, "questions", len(questions) - 1)
    blocking = [p for p in introduced(working.content, candidate, by_key=False)
                if p.path[:4] != prefix or p.path[4:5] in (("key",), ("text",), ("type",))
                or (p.path == prefix and "type" in p.message)]
    if blocking:
        _place_all(form, [(p.path, p.message) for p in blocking], prefix, others=blocking, content=candidate)
        return _reshow(form, working, "hq/checklists/add_question.html", None, 422, key=key)
    if not save(working, candidate, form.posted_revision()):
        return _reshow(form, working, "hq/checklists/add_question.html", STALE, key=key)
    flash("Question added. Fill in the rest of it below.")
    return redirect(url_for("hq.checklist_question_edit", slug=slug, key=qkey))


@bp.route("/checklists/<slug>/questions/<key>", methods=["GET", "POST"])
def checklist_question_edit(slug: str, key: str):
    working = working_or_404(slug)
    found = find_question(working.content, key)
    form = QuestionForm()
    standards = db.session.execute(
        db.select(Standard.key, Standard.title, Standard.retired).order_by(Standard.position, Standard.key)).all()
    context = {"key": key, "scoreable": SCOREABLE,
               "answers": answers_help(working.content, *found) if found else []}
    if not form.is_submitted():
        if found is None:
            abort(404)
        s, q = found
        form.fill(working.content["sections"][s]["questions"][q])
        form.revision.data = working.revision
        form.offer(standards, earlier_questions(working.content, s, q))
        form.to_question()  # records which row is which, for the messages below
        _place_all(form, [(p.path, p.message) for p in check(working.content)], ("sections", s, "questions", q))
        form.pad_rows()
        return render_template("hq/checklists/question.html", working=working, form=form, **context)
    earlier = earlier_questions(working.content, *found) if found else []
    form.offer(standards, earlier)
    if _stale(working, form) or found is None:
        form.pad_rows()
        return _reshow(form, working, "hq/checklists/question.html", STALE, **context)
    s, q = found
    candidate = copy.deepcopy(working.content)
    question = form.to_question()
    candidate["sections"][s]["questions"][q] = question
    renamed = 0
    if question["key"] and question["key"] != key and question["key"] not in question_keys(working.content):
        renamed = rename_references(candidate, key, question["key"])
    new = introduced(working.content, candidate, by_key=False)
    if new or form.all_errors():
        _place_all(form, [(p.path, p.message) for p in check(candidate)], ("sections", s, "questions", q),
                   others=new, content=candidate)
        form.pad_rows()
        return _reshow(form, working, "hq/checklists/question.html", None, 422, **context)
    if not save(working, candidate, form.posted_revision()):
        form.pad_rows()
        return _reshow(form, working, "hq/checklists/question.html", STALE, **context)
    remaining = [p for p in check(candidate) if p.path[:4] == ("sections", s, "questions", q)]
    note = f" {renamed} show_if rule(s) now name the new key." if renamed else ""
    if remaining:
        flash(f"Saved.{note} This question still has {len(remaining)} problem(s) to fix before publishing.")
        return redirect(url_for("hq.checklist_question_edit", slug=slug, key=question["key"]))
    flash(f"Question “{_short(question['text'], 60)}” saved.{note}")
    return redirect(url_for("hq.checklist_edit", slug=slug) + f"#q-{question['key']}")


@bp.post("/checklists/<slug>/questions/<key>/move")
def checklist_question_move(slug: str, key: str):
    """Move a question one place up or down (buttons), or to a section and position (drag and drop)."""
    working, form = working_or_404(slug), MoveForm()
    found = find_question(working.content, key)
    if _stale(working, form) or found is None:
        return _refuse(working, form, STALE, status=409, at=f"q-{key}")
    candidate = copy.deepcopy(working.content)
    s, q = found
    label = _short(working.content["sections"][s]["questions"][q].get("text") or key, 60)
    direction = form.direction.data
    if form.to_section.data:
        try:
            index = int(form.to_index.data)
        except (TypeError, ValueError):
            index = -1
        moved = index >= 0 and move_question_to(candidate, s, q, form.to_section.data, index)
    else:
        moved = move_question(candidate, s, q, direction)
    if not moved:
        edge = {"up": "it is already the first question", "down": "it is already the last question"}
        why = edge.get(direction, "") if not form.to_section.data else ""
        return _refuse(working, form, f"Question “{label}” can't move there{': ' + why if why else ''}.",
                       at=f"q-{key}")
    return _store_structural(working, candidate, form, _moved_message(candidate, key, s, label, direction,
                                                                      bool(form.to_section.data)),
                             f"q-{key}", at=f"q-{key}")


def _title_of(section: Any) -> str:
    """A section as the page names it: its title (its key while it has none)."""
    if not isinstance(section, dict):
        return "(no title)"
    return _short(section.get("title") or section.get("key") or "(no title)", 60)


def _moved_message(candidate: dict[str, Any], key: str, old_section: int, label: str, direction: str,
                   dragged: bool) -> str:
    """Say where a question went, in the page's words: its text, its section's title and its place."""
    s, q = find_question(candidate, key)
    section = candidate["sections"][s]
    title = _title_of(section)
    if dragged:
        return f"Question “{label}” moved to place {q + 1} of “{title}”."
    if s != old_section:
        return f"Question “{label}” moved {direction} into “{title}”."
    return f"Question “{label}” moved {direction} in “{title}”."


@bp.post("/checklists/<slug>/questions/<key>/delete")
def checklist_question_delete(slug: str, key: str):
    working, form = working_or_404(slug), ActionForm()
    found = find_question(working.content, key)
    if _stale(working, form) or found is None:
        return _refuse(working, form, STALE, status=409, at=f"q-{key}")
    candidate = copy.deepcopy(working.content)
    s, q = found
    removed = candidate["sections"][s]["questions"].pop(q)
    done = f"Question “{_short(removed.get('text') or key, 60)}” deleted."
    return _store_structural(working, candidate, form, done, f"s-{candidate['sections'][s].get('key')}", at=f"q-{key}")


# ------------------------------------------------------------------- publish, discard


@bp.post("/checklists/<slug>/publish")
def checklist_publish(slug: str):
    """Publish the draft as a new immutable version; submissions keep the version they were made on."""
    working = working_or_404(slug)
    form = ActionForm()
    if _stale(working, form):
        return _refuse(working, form, STALE, status=409)
    parsed, errors = loader.validate_content(working.content, catalogue.standards_catalogue())
    if errors or parsed is None:
        return _refuse(working, form, f"Not published: fix the {len(errors)} problem(s) listed below first. "
                                      "Nothing was changed.")
    if working.behind:
        latest = working.latest.number if working.latest else None
        return _refuse(working, form, f"Not published: version {latest} was published (for example by a YAML "
                                      f"import) after this draft was started. Publishing would undo it. Discard the "
                                      f"draft to start again from version {latest}.", status=409)
    try:
        version, created = catalogue.publish(parsed)
    except IntegrityError:  # someone published this checklist at the same moment
        db.session.rollback()
        return _refuse(working_or_404(slug), form, STALE, status=409)
    if not created:
        db.session.rollback()
        flash(f"Nothing changed since version {version.number}: no new version was published.")
        return redirect(url_for("hq.checklist_edit", slug=slug))
    if working.draft is not None:
        result = db.session.execute(
            db.update(ChecklistDraft)
            .where(ChecklistDraft.id == working.draft.id, ChecklistDraft.revision == working.draft.revision)
            .values(content=copy.deepcopy(version.content), base_version=version.number,
                    revision=working.draft.revision + 1, updated_by_id=current_user.id, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            return _refuse(working_or_404(slug), form, STALE, status=409)
    db.session.commit()
    flash(f"Published version {version.number}. Links opened from now on get it; earlier submissions keep theirs.")
    return redirect(url_for("hq.checklist_version", slug=slug, number=version.number))


@bp.post("/checklists/<slug>/discard")
def checklist_discard(slug: str):
    """Throw the draft's changes away: back to the latest version (a never-published checklist is removed)."""
    working = working_or_404(slug)
    form = ActionForm()
    if _stale(working, form):
        return _refuse(working, form, STALE, status=409)
    if working.draft is None:
        flash("There were no changes to discard.")
        return redirect(url_for("hq.checklist_edit", slug=slug))
    latest = working.latest
    if latest is None:
        db.session.delete(working.draft)
        db.session.commit()
        flash(f"The unpublished checklist “{slug}” was discarded.")
        return redirect(url_for("hq.checklists"))
    if not save(working, copy.deepcopy(latest.content), form.posted_revision(), base_version=latest.number):
        return _refuse(working, form, STALE, status=409)
    flash(f"Draft discarded: the editor shows version {latest.number} again.")
    return redirect(url_for("hq.checklist_edit", slug=slug))


# ------------------------------------------------------------------- preview, export, versions


@bp.get("/checklists/<slug>/preview")
def checklist_preview(slug: str):
    """Render the draft with the shopper's own template; nothing is stored and the form posts nowhere."""
    working = working_or_404(slug)
    checklist = previewable(working.content)
    if checklist is None:
        problems = check(working.content)
        return render_template("hq/checklists/preview_unavailable.html", working=working,
                               problems=[(describe(working.content, p.path), p.message) for p in problems])
    # Not the shopper's cached form class: every edit of a draft is new content, and would stay in the cache.
    form = shopper_forms.build_form_class(checklist)()
    today = date.today()
    stand_in = SimpleNamespace(branch=SimpleNamespace(name="Preview branch", address=""),
                               not_before=today - timedelta(days=14), due=today + timedelta(days=14))
    response = Response(with_preview_note(shopper_views.render_form(stand_in, checklist, form, today)))
    response.headers["Cache-Control"] = "no-store"
    # Belt and braces with the iframe's sandbox: the preview's form can't be sent anywhere.
    response.headers["Content-Security-Policy"] = "form-action 'none'"
    return response


#: Said in the preview beside the shopper's "Send my answers" button, which (form-action 'none') does nothing there.
PREVIEW_NOTE = ('<p class="saved" id="preview-off" role="note">Preview: sending is switched off. '
                'Nothing typed here is stored or sent.</p>')
SEND_BUTTON = re.compile(r'<p class="send">(\s*)<button type="submit"')


def with_preview_note(html: str) -> str:
    """Put the preview's note above the shopper form's send button (the shopper's template stays as it is).

    The button is tied to the note (aria-describedby), so a screen reader says it with the button. Should the
    shopper's markup change, the note goes at the top of the page instead: it is never left out.
    """
    html, found = SEND_BUTTON.subn(
        lambda m: f'{PREVIEW_NOTE}\n<p class="send">{m.group(1)}<button type="submit" aria-describedby="preview-off"',
        html, count=1)
    return html if found else html.replace('<main id="main">', '<main id="main">\n' + PREVIEW_NOTE, 1)


@bp.get("/checklists/<slug>/export.yaml")
def checklist_export(slug: str):
    """Download the latest published version as YAML that imports back unchanged."""
    text = catalogue.export_yaml(slug)
    if text is None:
        abort(404)
    return Response(text, mimetype="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="{slug}.yaml"'})


@bp.get("/checklists/<slug>/versions/<int:number>")
def checklist_version(slug: str, number: int):
    """One published version: when, how many submissions, and what changed since the one before."""
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug=slug))
    version = next((v for v in (checklist.versions if checklist else []) if v.number == number), None)
    if version is None:
        abort(404)
    previous = next((v for v in checklist.versions if v.number == number - 1), None)
    submissions = db.session.scalar(db.select(func.count(Submission.id)).filter_by(version_id=version.id))
    return render_template("hq/checklists/version.html", checklist=checklist, version=version, previous=previous,
                           submissions=submissions,
                           changes=diff(previous.content if previous else None, version.content))
