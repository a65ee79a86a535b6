"""HQ console: the checklist editor's pages.

HQ edits a *draft* of a checklist and publishes it as a new immutable version. The
work is in three layers: ``checklist/edits.py`` changes a copy of the draft as plain
data and judges it by the YAML import's own rules; ``hq/drafts.py`` stores it (every
write, with the draft's revision as an optimistic lock); these views read a form,
apply an edit, and show the outcome:

- a change that would *add* a problem (a weight of 0, a duplicate key, a ``show_if``
  on a later question, a section left empty) is refused: nothing is stored, the form
  comes back as typed with each message beside its field;
- problems already in the draft (a question just added, not yet finished) don't block
  saving; they are listed on the draft page and block publishing;
- a form opened before someone else saved, published or imported is refused as stale,
  with what was typed kept on screen.
"""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from .. import catalogue
from ..checklist import edits, loader
from ..checklist.diff import diff, number
from ..checklist.edits import Problem, describe, find_question, find_section, short
from ..checklist.shares import question_shares, section_shares, standard_shares
from ..checklist import types
from ..checklist.types import REGISTRY
from ..shopper import forms as shopper_forms
from ..shopper import views as shopper_views
from . import drafts, queries
from .blueprint import bp
from .drafts import RESERVED_SLUGS, Refused, Stale, Working
from .editor_forms import (
    IMPORT_MAX_CHARS, ActionForm, AddQuestionForm, AddSectionForm, ImportForm, MoveForm, NewChecklistForm,
    QuestionForm, SectionForm, SettingsForm,
)

STALE = ("Not saved: someone else changed this checklist's draft (saved or published) after you opened this "
         "page. Nothing was overwritten. Your entries are still below: check the current draft, then press "
         "the button again to apply them to it.")


def working_or_404(slug: str) -> Working:
    working = drafts.load(slug)
    if working is None:
        abort(404)
    return working


def introduced(before: dict[str, Any], after: dict[str, Any], by_key: bool) -> list[Problem]:
    """Return the problems a change adds, judged against the current standards."""
    return edits.introduced(before, after, by_key, drafts.check)


def store(working: Working, candidate: dict[str, Any], form) -> bool:
    """Save a changed draft; False (nothing stored) when someone changed it since the form was opened."""
    try:
        drafts.save(working, candidate, form.posted_revision(), current_user.id)
    except Stale:
        return False
    return True


def edit_url(slug: str, content: dict[str, Any], path: tuple) -> str:
    """Return the page where the thing at ``path`` is edited."""
    draft_page = url_for("hq.checklist_edit", slug=slug)
    found = edits.sections(content)
    if len(path) >= 2 and path[0] == "sections" and isinstance(path[1], int) and path[1] < len(found):
        section = found[path[1]]
        items = edits.questions(section)
        if len(path) >= 4 and path[2] == "questions" and isinstance(path[3], int) and path[3] < len(items):
            key = items[path[3]].get("key") if isinstance(items[path[3]], dict) else None
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
    return render_template("hq/checklists/index.html", items=queries.checklist_summaries())


@bp.route("/checklists/new", methods=["GET", "POST"])
def checklist_new():
    """Start an empty draft for a new checklist: slug, title and channel; the rest is added in the editor."""
    form = NewChecklistForm()
    if form.is_submitted():
        form.validate()
        content = form.to_content()
        for problem in drafts.check(content):  # no standards are needed yet
            form.place(problem.path, problem)
        if content["slug"] in RESERVED_SLUGS:
            form.slug.errors.append(f"“{content['slug']}” is the name of an editor page; pick another slug.")
        if not form.errors:
            try:
                drafts.create(content, current_user.id)
            except Stale:
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
                parsed = drafts.parse_import(text, name)
            except loader.ChecklistError as exc:
                errors = exc.errors
            else:
                try:
                    return _imported(drafts.import_checklist(parsed, form.then.data, current_user.id), parsed)
                except Stale:  # a version or draft of this checklist appeared meanwhile
                    errors = [loader.LoadError.of(name, None, "", "import_raced")]
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
            form.file.errors.append(
                f"This file is larger than {IMPORT_MAX_CHARS // 1000:,} KB; a checklist is far smaller.")
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


def _imported(done: drafts.Imported, parsed):
    """Say what an import did, and show where it went."""
    if done.outcome == "published":
        flash(f"Published version {done.version.number} of {parsed.title}.")
        return redirect(url_for("hq.checklist_version", slug=done.slug, number=done.version.number))
    flash(
        {
            "published_unchanged": f"Nothing changed: the file matches version {done.latest}. "
                                   "No new version was published.",
            "nothing_to_review": f"No changes from the published version (version {done.latest}): there is nothing to "
            "review or publish.",
            "draft_unchanged": "Imported into the draft. No changes from the published version "
                               f"(version {done.latest}): "
            "there is nothing to publish.",
            "draft": "Imported into the draft. Review the changes below, then publish.",
        }[done.outcome]
    )
    return redirect(url_for("hq.checklist_edit", slug=done.slug))


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
    problems = drafts.check(content)
    parsed = edits.model_or_none(content)
    shown = parsed or edits.previewable(content)
    latest = working.latest
    by_place: dict[tuple, list[Problem]] = {}
    for p in problems:
        place = p.path[:4] if p.path[2:3] == ("questions",) and len(p.path) >= 4 else p.path[:2]
        by_place.setdefault(place, []).append(p)
    shares = {}
    if shown is not None:
        shares = {"questions": question_shares(shown), "sections": section_shares(shown),
                  "standards": sorted(standard_shares(shown).items(), key=lambda kv: -kv[1])}
    changes = diff(latest.content if latest else None, parsed.canonical() if parsed else content)
    return render_template(
        "hq/checklists/edit.html",
        working=working,
        content=content,
        sections=edits.sections(content),
        questions_of=edits.questions,
        problems=[(p, describe(content, p.path), edit_url(working.slug, content, p.path)) for p in problems],
        by_place=by_place,
        shares=shares,
        titles=queries.standard_titles(),
        changes=changes,
        # Nothing to publish: the draft is the latest version (by content, as publishing judges it).
        unchanged=latest is not None and edits.unchanged_from(content, latest.content_hash),
        types=REGISTRY,
        scored_keys={q.key for _, q in shown.questions() if q.scored} if shown else None,
        notice=notice,
        notice_items=list(notice_items),
        notice_at=notice_at,
        fmt=loader.format_path,
        num=number,
        updated_by=queries.user_email(working.draft.updated_by_id if working.draft else None),
        add_section=AddSectionForm(formdata=None),
        add_question=AddQuestionForm(formdata=None),
    ), status


def _refuse(working: Working, notice: str, items=(), status: int = 422, at: str | None = None):
    """Re-show the draft page unchanged with a message beside the item whose button was pressed."""
    return render_draft(working, status, notice, items, at)


def _stale(working: Working, form) -> bool:
    """Tell whether a posted form was opened on an older revision of the draft.

    (A missing or wrong CSRF token never gets this far: CSRFProtect answers 400 first.)
    """
    return form.posted_revision() != working.revision


def _place_all(form, problems: list[Problem], prefix: tuple = (), others=(), content=None) -> None:
    """Put each message below ``prefix`` beside its field; list new problems elsewhere at the top of the form."""
    for problem in problems:
        rest = problem.path[len(prefix) :]
        if problem.path[: len(prefix)] != prefix or _inner_item(rest):
            continue
        if not form.place(rest, problem):
            form.form_errors.append(f"{loader.format_path(rest) or 'This'}: {problem.message}")
    for p in others:
        if p.path[: len(prefix)] == prefix:
            continue
        if p.code in ("question_key_twice", "section_key_twice") and hasattr(form, "key"):
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


@bp.route("/checklists/<slug>/settings", methods=["GET", "POST"])
def checklist_settings(slug: str):
    working = working_or_404(slug)
    form = SettingsForm()
    form.offer(working.content)
    if not form.is_submitted():
        form.fill(working.content)
        form.revision.data = working.revision
        form.apply(working.content)  # which row holds which outcome, for the messages below
        _place_all(form, [p for p in drafts.check(working.content) if p.path != ("sections",)])
        form.pad_rows()
        return render_template("hq/checklists/settings.html", working=working, form=form)
    if _stale(working, form):
        form.pad_rows()
        return _reshow(form, working, "hq/checklists/settings.html", STALE)
    candidate = form.apply(working.content)
    new = introduced(working.content, candidate, by_key=False)
    if new:
        _place_all(form, [p for p in drafts.check(candidate) if p.path != ("sections",)], others=new, content=candidate)
        form.pad_rows()
        return _reshow(form, working, "hq/checklists/settings.html", None, 422)
    if not store(working, candidate, form):
        form.pad_rows()
        return _reshow(form, working, "hq/checklists/settings.html", STALE)
    flash("Checklist settings saved.")
    return redirect(url_for("hq.checklist_edit", slug=slug))


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
    key = (form.key.data or "").strip() or edits.new_key(
        form.title.data or "", edits.section_keys(working.content), "section"
    )
    candidate = copy.deepcopy(working.content)
    prefix = ("sections", edits.add_section(candidate, form.to_section(key)))
    blocking = [
        p
        for p in introduced(working.content, candidate, by_key=False)
        if p.path[:2] != prefix or p.path[2:] != ("questions",)
    ]
    if blocking:
        _place_all(form, blocking, prefix, others=blocking, content=candidate)
        return _reshow(form, working, "hq/checklists/add_section.html", None, 422)
    if not store(working, candidate, form):
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
        form.show_if.form.offer(edits.earlier_questions(working.content, s, None))
        _place_all(form, drafts.check(working.content), ("sections", s))
        return render_template("hq/checklists/section.html", working=working, form=form, key=key)
    form.show_if.form.offer(edits.earlier_questions(working.content, s if s is not None else 10**6, None))
    if _stale(working, form) or s is None:
        return _reshow(form, working, "hq/checklists/section.html", STALE, key=key)
    candidate = copy.deepcopy(working.content)
    candidate["sections"][s] = form.apply(candidate["sections"][s])
    new = introduced(working.content, candidate, by_key=False)
    if new:
        _place_all(form, drafts.check(candidate), ("sections", s), others=new, content=candidate)
        return _reshow(form, working, "hq/checklists/section.html", None, 422, key=key)
    if not store(working, candidate, form):
        return _reshow(form, working, "hq/checklists/section.html", STALE, key=key)
    flash(f"Section “{candidate['sections'][s]['title']}” saved.")
    return redirect(url_for("hq.checklist_edit", slug=slug) + f"#s-{candidate['sections'][s]['key']}")


@bp.post("/checklists/<slug>/sections/<key>/move")
def checklist_section_move(slug: str, key: str):
    working, form = working_or_404(slug), MoveForm()
    s = find_section(working.content, key)
    if _stale(working, form) or s is None:
        return _refuse(working, STALE, status=409, at=f"s-{key}")
    candidate = copy.deepcopy(working.content)
    title = edits.title_of(working.content["sections"][s])
    if not edits.move_section(candidate, s, form.direction.data):
        edge = {"up": " is already first", "down": " is already last"}.get(form.direction.data, " can't move there")
        return _refuse(working, f"Section “{title}”{edge}.", at=f"s-{key}")
    return _store_structural(
        working, candidate, form, f"Section “{title}” moved {form.direction.data}.", f"s-{key}", at=f"s-{key}"
    )


@bp.post("/checklists/<slug>/sections/<key>/delete")
def checklist_section_delete(slug: str, key: str):
    working, form = working_or_404(slug), ActionForm()
    s = find_section(working.content, key)
    if _stale(working, form) or s is None:
        return _refuse(working, STALE, status=409, at=f"s-{key}")
    candidate = copy.deepcopy(working.content)
    removed = candidate["sections"].pop(s)
    done = f"Section “{removed.get('title') or key}” and its {len(edits.questions(removed))} question(s) deleted."
    return _store_structural(working, candidate, form, done, "", at=f"s-{key}")


def _store_structural(working: Working, candidate: dict[str, Any], form, done: str, anchor: str,
                      at: str | None = None):
    """Save a move or delete unless it breaks something (a show_if left pointing at a later or missing question)."""
    new = introduced(working.content, candidate, by_key=True)
    if new:
        items = [f"{describe(candidate, p.path)}: {p.message}" for p in new]
        return _refuse(working, "Not done: it would break the checklist as follows. Nothing was changed.", items, at=at)
    if not store(working, candidate, form):
        return _refuse(working, STALE, status=409, at=at)
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
    qkey = (form.key.data or "").strip() or edits.new_key(
        form.text.data or "", edits.question_keys(working.content), "question"
    )
    candidate = copy.deepcopy(working.content)
    questions = edits.question_list(candidate["sections"][s])
    questions.append(form.to_question(qkey))
    prefix = ("sections", s, "questions", len(questions) - 1)
    blocking = [
        p
        for p in introduced(working.content, candidate, by_key=False)
        if p.path[:4] != prefix
        or p.path[4:5] in (("key",), ("text",), ("type",))
        or (p.path == prefix and p.code in ("type_missing", "type_unknown"))
    ]
    if blocking:
        _place_all(form, blocking, prefix, others=blocking, content=candidate)
        return _reshow(form, working, "hq/checklists/add_question.html", None, 422, key=key)
    if not store(working, candidate, form):
        return _reshow(form, working, "hq/checklists/add_question.html", STALE, key=key)
    flash("Question added. Fill in the rest of it below.")
    return redirect(url_for("hq.checklist_question_edit", slug=slug, key=qkey))


@bp.route("/checklists/<slug>/questions/<key>", methods=["GET", "POST"])
def checklist_question_edit(slug: str, key: str):
    working = working_or_404(slug)
    found = find_question(working.content, key)
    form = QuestionForm()
    standards = queries.standard_choices()
    context = {
        "key": key,
        "type_group": types.with_group,
        "answers": edits.answers_help(working.content, *found) if found else [],
    }
    if not form.is_submitted():
        if found is None:
            abort(404)
        s, q = found
        form.fill(working.content["sections"][s]["questions"][q])
        form.revision.data = working.revision
        form.offer(standards, edits.earlier_questions(working.content, s, q))
        form.to_question()  # records which row is which, for the messages below
        _place_all(form, drafts.check(working.content), ("sections", s, "questions", q))
        form.pad_rows()
        return render_template("hq/checklists/question.html", working=working, form=form, **context)
    earlier = edits.earlier_questions(working.content, *found) if found else []
    form.offer(standards, earlier)
    if _stale(working, form) or found is None:
        form.pad_rows()
        return _reshow(form, working, "hq/checklists/question.html", STALE, **context)
    s, q = found
    candidate = copy.deepcopy(working.content)
    question = form.to_question()
    candidate["sections"][s]["questions"][q] = question
    renamed = 0
    if question["key"] and question["key"] != key and question["key"] not in edits.question_keys(working.content):
        renamed = edits.rename_references(candidate, key, question["key"])
    new = introduced(working.content, candidate, by_key=False)
    if new or form.all_errors():
        _place_all(form, drafts.check(candidate), ("sections", s, "questions", q), others=new, content=candidate)
        form.pad_rows()
        return _reshow(form, working, "hq/checklists/question.html", None, 422, **context)
    if not store(working, candidate, form):
        form.pad_rows()
        return _reshow(form, working, "hq/checklists/question.html", STALE, **context)
    remaining = [p for p in drafts.check(candidate) if p.path[:4] == ("sections", s, "questions", q)]
    note = f" {renamed} show_if rule(s) now name the new key." if renamed else ""
    if remaining:
        flash(f"Saved.{note} This question still has {len(remaining)} problem(s) to fix before publishing.")
        return redirect(url_for("hq.checklist_question_edit", slug=slug, key=question["key"]))
    flash(f"Question “{short(question['text'], 60)}” saved.{note}")
    return redirect(url_for("hq.checklist_edit", slug=slug) + f"#q-{question['key']}")


@bp.post("/checklists/<slug>/questions/<key>/move")
def checklist_question_move(slug: str, key: str):
    """Move a question one place up or down (buttons), or to a section and position (drag and drop)."""
    working, form = working_or_404(slug), MoveForm()
    found = find_question(working.content, key)
    if _stale(working, form) or found is None:
        return _refuse(working, STALE, status=409, at=f"q-{key}")
    candidate = copy.deepcopy(working.content)
    s, q = found
    label = short(working.content["sections"][s]["questions"][q].get("text") or key, 60)
    direction = form.direction.data
    if form.to_section.data:
        try:
            index = int(form.to_index.data)
        except (TypeError, ValueError):
            index = -1
        moved = index >= 0 and edits.move_question_to(candidate, s, q, form.to_section.data, index)
    else:
        moved = edits.move_question(candidate, s, q, direction)
    if not moved:
        edge = {"up": "it is already the first question", "down": "it is already the last question"}
        why = edge.get(direction, "") if not form.to_section.data else ""
        return _refuse(working, f"Question “{label}” can't move there{': ' + why if why else ''}.", at=f"q-{key}")
    return _store_structural(
        working,
        candidate,
        form,
        _moved_message(candidate, key, s, label, direction, bool(form.to_section.data)),
        f"q-{key}",
        at=f"q-{key}",
    )


def _moved_message(candidate: dict[str, Any], key: str, old_section: int, label: str, direction: str,
                   dragged: bool) -> str:
    """Say where a question went, in the page's words: its text, its section's title and its place."""
    s, q = find_question(candidate, key)
    title = edits.title_of(candidate["sections"][s])
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
        return _refuse(working, STALE, status=409, at=f"q-{key}")
    candidate = copy.deepcopy(working.content)
    s, q = found
    removed = candidate["sections"][s]["questions"].pop(q)
    done = f"Question “{short(removed.get('text') or key, 60)}” deleted."
    return _store_structural(working, candidate, form, done, f"s-{candidate['sections'][s].get('key')}", at=f"q-{key}")


# ------------------------------------------------------------------- publish, discard


@bp.post("/checklists/<slug>/publish")
def checklist_publish(slug: str):
    """Publish the draft as a new immutable version; submissions keep the version they were made on."""
    working = working_or_404(slug)
    form = ActionForm()
    try:
        published = drafts.publish(working, form.posted_revision(), current_user.id)
    except Stale:
        return _refuse(working_or_404(slug), STALE, status=409)
    except Refused as refused:
        return _refuse(working, refused.message, status=refused.status)
    if not published.created:
        flash(f"Nothing changed since version {published.version.number}: no new version was published.")
        return redirect(url_for("hq.checklist_edit", slug=slug))
    number = published.version.number
    flash(f"Published version {number}. Links opened from now on get it; earlier submissions keep theirs.")
    return redirect(url_for("hq.checklist_version", slug=slug, number=number))


@bp.post("/checklists/<slug>/discard")
def checklist_discard(slug: str):
    """Throw the draft's changes away: back to the latest version (a never-published checklist is removed)."""
    working = working_or_404(slug)
    form = ActionForm()
    if _stale(working, form):
        return _refuse(working, STALE, status=409)
    if working.draft is None:
        flash("There were no changes to discard.")
        return redirect(url_for("hq.checklist_edit", slug=slug))
    try:
        shown = drafts.discard(working, form.posted_revision(), current_user.id)
    except Stale:
        return _refuse(working, STALE, status=409)
    if shown is None:
        flash(f"The unpublished checklist “{slug}” was discarded.")
        return redirect(url_for("hq.checklists"))
    flash(f"Draft discarded: the editor shows version {shown.number} again.")
    return redirect(url_for("hq.checklist_edit", slug=slug))


# ------------------------------------------------------------------- preview, export, versions


@bp.get("/checklists/<slug>/preview")
def checklist_preview(slug: str):
    """Render the draft with the shopper's own template; nothing is stored and the form posts nowhere."""
    working = working_or_404(slug)
    checklist = edits.previewable(working.content)
    if checklist is None:
        return render_template(
            "hq/checklists/preview_unavailable.html",
            working=working,
            problems=[(describe(working.content, p.path), p.message) for p in drafts.check(working.content)],
        )
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
PREVIEW_NOTE = (
    '<p class="saved" id="preview-off" role="note">Preview: sending is switched off. '
    "Nothing typed here is stored or sent.</p>"
)
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
    page = queries.version_page(slug, number)
    if page is None:
        abort(404)
    return render_template(
        "hq/checklists/version.html",
        checklist=page.checklist,
        version=page.version,
        previous=page.previous,
        submissions=page.submissions,
        changes=diff(page.previous.content if page.previous else None, page.version.content),
    )
