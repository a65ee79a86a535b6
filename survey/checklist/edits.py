"""Edits of a checklist draft, as plain data: no Flask, no database.

A draft is checklist content in the file format (``schema.Checklist.canonical`` shape),
allowed to be unfinished while HQ works on it: any list may hold a broken entry, so
every walk here tolerates one. The HQ editor (``survey/hq/editor.py``) changes a deep
copy with these functions, judges the copy with ``problems`` (the YAML import's own
rules, worded for people), and stores it through ``survey/hq/drafts.py``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from . import loader
from .messages import for_people
from .schema import Checklist
from .types import kind_of

Content = dict[str, Any]


# =================================================================== walking a draft


def sections(content: Content) -> list[Content]:
    found = content.get("sections") if isinstance(content, dict) else None
    return found if isinstance(found, list) else []


def questions(section: Any) -> list[Content]:
    found = section.get("questions") if isinstance(section, dict) else None
    return found if isinstance(found, list) else []


def question_list(section: Content) -> list[Content]:
    """Return a section's list of questions, making it one if a broken draft holds something else."""
    if not isinstance(section.get("questions"), list):
        section["questions"] = []
    return section["questions"]


def find_question(content: Content, key: str) -> tuple[int, int] | None:
    for s, section in enumerate(sections(content)):
        for q, question in enumerate(questions(section)):
            if isinstance(question, dict) and question.get("key") == key:
                return s, q
    return None


def find_section(content: Content, key: str) -> int | None:
    for s, section in enumerate(sections(content)):
        if isinstance(section, dict) and section.get("key") == key:
            return s
    return None


def question_keys(content: Content) -> set[str]:
    return {q.get("key") for s in sections(content) for q in questions(s) if isinstance(q, dict)}


def section_keys(content: Content) -> set[str]:
    return {s.get("key") for s in sections(content) if isinstance(s, dict)}


def short(text: Any, limit: int = 70) -> str:
    text = str(text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def title_of(section: Any) -> str:
    """A section as the page names it: its title (its key while it has none)."""
    if not isinstance(section, dict):
        return "(no title)"
    return short(section.get("title") or section.get("key") or "(no title)", 60)


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


def earlier_questions(content: Content, s: int, q: int | None) -> list[tuple[str, str]]:
    """Return ``(key, label)`` of the questions before section ``s`` question ``q`` (all of section ``s`` if None)."""
    out = []
    for i, section in enumerate(sections(content)):
        for j, question in enumerate(questions(section)):
            if i > s or (i == s and (q is None or j >= q)):
                return out
            if isinstance(question, dict) and question.get("key"):
                text = str(question.get("text") or "")
                out.append((question["key"], f"{question['key']} – {text[:60]}{'…' if len(text) > 60 else ''}"))
    return out


def answers_help(content: Content, s: int, q: int) -> list[tuple[str, str, str]]:
    """List what each earlier question can answer, for writing a show_if value (its type says)."""
    out = []
    for key, _ in earlier_questions(content, s, q):
        i, j = find_question(content, key)
        question = content["sections"][i]["questions"][j]
        kind = kind_of(question)
        values = kind.answers_help(question) if kind is not None else None
        if values is not None:
            out.append((key, short(question.get("text"), 60), values))
    return out


def describe(content: Content, path: tuple) -> str:
    """Say where a path points, in the words on the page: Section “Arrival” › “Were you greeted?” › weight."""
    found = sections(content)
    parts: list[str] = []
    rest = path
    if len(path) >= 2 and path[0] == "sections" and isinstance(path[1], int) and path[1] < len(found):
        section = found[path[1]]
        parts.append(f"Section “{section.get('title') or section.get('key')}”")
        rest = path[2:]
        items = questions(section)
        if len(rest) >= 2 and rest[0] == "questions" and isinstance(rest[1], int) and rest[1] < len(items):
            question = items[rest[1]]
            parts.append(f"“{short(question.get('text') or question.get('key'))}”")
            rest = rest[2:]
    if rest:
        parts.append(loader.format_path(rest))
    return " › ".join(parts) or "Checklist"


# =================================================================== changing a draft


def rename_references(content: Content, old: str, new: str) -> int:
    """Point every ``show_if`` on question ``old`` at ``new``; return how many were changed."""
    changed = 0
    for section in sections(content):
        for item in [section] + questions(section):
            rule = item.get("show_if") if isinstance(item, dict) else None
            if isinstance(rule, dict) and rule.get("question") == old:
                rule["question"] = new
                changed += 1
    return changed


def move_question(content: Content, s: int, q: int, direction: str) -> bool:
    """Move a question one place; past the edge of its section it goes to the next section. False if it can't."""
    found = sections(content)
    items = questions(found[s])
    if direction == "up":
        if q > 0:
            items[q - 1], items[q] = items[q], items[q - 1]
        elif s > 0:
            question_list(found[s - 1]).append(items.pop(q))
        else:
            return False
    elif direction == "down":
        if q < len(items) - 1:
            items[q + 1], items[q] = items[q], items[q + 1]
        elif s < len(found) - 1:
            question_list(found[s + 1]).insert(0, items.pop(q))
        else:
            return False
    else:
        return False
    return True


def move_question_to(content: Content, s: int, q: int, section_key: str, index: int) -> bool:
    """Move a question to a position in a section (drag and drop)."""
    target = find_section(content, section_key)
    if target is None:
        return False
    question = questions(sections(content)[s]).pop(q)
    items = question_list(sections(content)[target])
    items.insert(max(0, min(index, len(items))), question)
    return True


def move_section(content: Content, s: int, direction: str) -> bool:
    found = sections(content)
    t = s - 1 if direction == "up" else s + 1 if direction == "down" else -1
    if not 0 <= t < len(found):
        return False
    found[s], found[t] = found[t], found[s]
    return True


def add_section(content: Content, section: Content) -> int:
    """Append a section; return its index."""
    if not isinstance(content.get("sections"), list):
        content["sections"] = []
    content["sections"].append(section)
    return len(content["sections"]) - 1


# =================================================================== judging a draft


@dataclass(frozen=True)
class Problem:
    """One broken rule of a draft: where (``sections[1].questions[2].weight`` as a path), what, in words."""

    path: tuple
    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def where(self) -> str:
        return loader.format_path(self.path)


PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_path(text: str) -> tuple:
    """Read ``sections[1].questions[2].weight`` back into ``("sections", 1, "questions", 2, "weight")``."""
    return tuple(int(index) if index else name for index, name in PATH_PART.findall(text))


def worded(errors: list[loader.LoadError], titles: dict[str, str] | None = None) -> list[Problem]:
    """Word the validator's errors for the editor (``titles``: standard key → title)."""
    out = []
    for e in errors:
        path = parse_path(e.path)
        out.append(Problem(path, e.code, for_people(e.code, e.params, path, e.message, titles), e.params))
    return out


def problems(content: Content, standards: dict[str, bool], titles: dict[str, str] | None = None) -> list[Problem]:
    """Return every problem of a draft, by the YAML import's rules (``standards``: key → retired)."""
    _, errors = loader.validate_content(content, standards)
    return worded(errors, titles) if errors else []


def identity(content: Content, problem: Problem) -> tuple:
    """Name a problem by keys, not positions, so moving a question doesn't make old problems look new."""
    path = problem.path
    found = sections(content)
    if len(path) >= 2 and path[0] == "sections" and isinstance(path[1], int) and path[1] < len(found):
        section = found[path[1]]
        items = questions(section)
        if len(path) >= 4 and path[2] == "questions" and isinstance(path[3], int) and path[3] < len(items):
            return ("question", items[path[3]].get("key"), path[4:], problem.message)
        return ("section", section.get("key"), path[2:], problem.message)
    return ("checklist", path, problem.message)


def introduced(before: Content, after: Content, by_key: bool,
               check: Callable[[Content], list[Problem]]) -> list[Problem]:
    """Return the problems ``after`` has that ``before`` did not (``check`` judges a content)."""
    def name(content: Content, problem: Problem) -> tuple:
        return identity(content, problem) if by_key else (problem.path, problem.message)

    old = {name(before, p) for p in check(before)}
    return [p for p in check(after) if name(after, p) not in old]


def model_or_none(content: Content) -> Checklist | None:
    """Build the checklist if its fields are valid (cross-checks such as standards may still fail)."""
    try:
        return Checklist.model_validate(content)
    except (ValidationError, TypeError, ValueError):
        return None


def previewable(content: Content) -> Checklist | None:
    """Build what can be shown of a draft: as ``model_or_none``, leaving out sections with no questions yet."""
    parsed = model_or_none(content)
    if parsed is None and isinstance(content, dict):
        kept = [s for s in sections(content) if not (isinstance(s, dict) and s.get("questions") == [])]
        parsed = model_or_none({**content, "sections": kept}) if kept else None
    return parsed


def unchanged_from(content: Content, content_hash: str | None) -> bool:
    """Tell whether a draft holds what a published version does (by content, as publishing judges it)."""
    parsed = model_or_none(content)
    return content_hash is not None and parsed is not None and loader.content_hash(parsed.canonical()) == content_hash
