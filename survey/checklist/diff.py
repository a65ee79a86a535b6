"""What changed between two checklist contents, in the words an author uses.

Both sides are checklist content in the file format (a published version's
canonical content, or an editor's draft, which may still be invalid). Sections
and questions are matched by ``key``: keys are stable across versions, so a
question whose key is kept but whose text changed is *reworded*, not removed
and added. Values left out mean their defaults (``weight: 1`` and so on), so a
draft that spells out a default is not reported as changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: What a missing key means; comparing through these keeps "weight: 1" equal to no weight.
DEFAULTS: dict[str, Any] = {
    "weight": 1, "scored": True, "allow_na": False, "critical": False, "pass_on": "yes",
    "language": "en", "on_critical_fail": "zero", "review": "auto",
}
#: Checklist-level keys an author can change (the slug is the checklist's identity).
CHECKLIST_FIELDS = ("title", "channel", "language", "on_critical_fail", "review", "min_minutes", "help")


@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` is added, removed, reworded, reweighted, moved, reordered or changed."""

    kind: str
    #: "checklist", "section" or "question".
    level: str
    key: str
    old: Any = None
    new: Any = None
    #: The keys that differ, for ``changed`` (e.g. ``("options", "standard")``).
    fields: tuple[str, ...] = ()
    #: A question's section (its new one; the old one if it was removed).
    section: str | None = None
    #: The question's text or the section's title, as it reads now (or last read).
    label: str = ""

    def __str__(self) -> str:
        name = f"{self.level} {self.key}" if self.level != "checklist" else "checklist"
        if self.kind == "added":
            where = f" to section {self.section}" if self.level == "question" else ""
            return f"added {name} “{self.label}”{where}"
        if self.kind == "removed":
            return f"removed {name} “{self.label}”"
        if self.kind == "reworded":
            return f"reworded {name}: “{self.old}” → “{self.new}”"
        if self.kind == "reweighted":
            return f"re-weighted {name}: weight {number(self.old)} → {number(self.new)}"
        if self.kind == "moved":
            return f"moved {name} from section {self.old} to section {self.new}"
        if self.kind == "reordered":
            return f"reordered the {'questions of section ' + self.key if self.level == 'section' else 'sections'}"
        if self.level == "checklist":
            return f"changed the checklist's {self.fields[0]}: {show(self.old)} → {show(self.new)}"
        return f"changed {name}: {', '.join(self.fields)}"


@dataclass
class ChecklistDiff:
    changes: list[Change] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def of(self, kind: str | None = None, level: str | None = None) -> list[Change]:
        """Return the changes of one kind and/or level, in order."""
        return [c for c in self.changes if (kind is None or c.kind == kind) and (level is None or c.level == level)]

    def summary(self) -> str:
        """Say in one line how much changed ("2 questions added, 1 reworded")."""
        if not self.changes:
            return "no changes"
        counts: dict[str, int] = {}
        for c in self.changes:
            counts[c.kind] = counts.get(c.kind, 0) + 1
        return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def number(value: Any) -> str:
    """Spell a weight or score briefly: ``2.0`` as ``2``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def show(value: Any) -> str:
    return "(none)" if value is None else f"“{value}”" if isinstance(value, str) else number(value)


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> ChecklistDiff:
    """Return what changed from ``old`` to ``new`` (``old`` None: a new checklist, all added)."""
    old = old or {}
    changes: list[Change] = []
    if old:
        for name in CHECKLIST_FIELDS:
            if _value(old, name) != _value(new, name):
                changes.append(Change("changed", "checklist", str(new.get("slug", "")), _value(old, name),
                                      _value(new, name), fields=(name,)))
    old_sections, new_sections = _by_key(_sections(old)), _by_key(_sections(new))
    common = [k for k in new_sections if k in old_sections]
    if [k for k in old_sections if k in new_sections] != common:
        changes.append(Change("reordered", "checklist", str(new.get("slug", ""))))
    for key, section in new_sections.items():
        if key not in old_sections:
            changes.append(Change("added", "section", key, label=_text(section, "title")))
        else:
            changes.extend(_section_changes(key, old_sections[key], section))
    for key, section in old_sections.items():
        if key not in new_sections:
            changes.append(Change("removed", "section", key, label=_text(section, "title")))
    changes.extend(_question_changes(old, new))
    return ChecklistDiff(changes)


def _section_changes(key: str, old: Mapping, new: Mapping) -> Iterator[Change]:
    if _text(old, "title") != _text(new, "title"):
        yield Change("reworded", "section", key, _text(old, "title"), _text(new, "title"), label=_text(new, "title"))
    if not _same_number(_value(old, "weight"), _value(new, "weight")):
        yield Change("reweighted", "section", key, _value(old, "weight"), _value(new, "weight"),
                     label=_text(new, "title"))
    others = _other_fields(old, new, skip={"key", "title", "weight", "questions"})
    if others:
        yield Change("changed", "section", key, fields=others, label=_text(new, "title"))
    old_keys = [_key(q) for q in _questions_of(old)]
    new_keys = [_key(q) for q in _questions_of(new)]
    if [k for k in old_keys if k in new_keys] != [k for k in new_keys if k in old_keys]:
        yield Change("reordered", "section", key, label=_text(new, "title"))


def _question_changes(old: Mapping, new: Mapping) -> Iterator[Change]:
    old_questions = _all_questions(old)
    new_questions = _all_questions(new)
    for key, (section, question) in new_questions.items():
        label = _text(question, "text")
        if key not in old_questions:
            yield Change("added", "question", key, section=section, label=label)
            continue
        old_section, before = old_questions[key]
        if _text(before, "text") != label:
            yield Change("reworded", "question", key, _text(before, "text"), label, section=section, label=label)
        if not _same_number(_value(before, "weight"), _value(question, "weight")):
            yield Change("reweighted", "question", key, _value(before, "weight"), _value(question, "weight"),
                         section=section, label=label)
        if old_section != section:
            yield Change("moved", "question", key, old_section, section, section=section, label=label)
        others = _other_fields(before, question, skip={"key", "text", "weight"})
        if others:
            yield Change("changed", "question", key, fields=others, section=section, label=label)
    for key, (section, question) in old_questions.items():
        if key not in new_questions:
            yield Change("removed", "question", key, section=section, label=_text(question, "text"))


def _other_fields(old: Mapping, new: Mapping, skip: set[str]) -> tuple[str, ...]:
    names = [k for k in list(old) + [k for k in new if k not in old] if k not in skip]
    return tuple(n for n in names if not _same(_value(old, n), _value(new, n)))


def _same(a: Any, b: Any) -> bool:
    """Compare values as the validator would read them: 1 and 1.0 and "1" alike, label keys as text."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        a_items = {str(k): v for k, v in a.items()}
        b_items = {str(k): v for k, v in b.items()}
        return a_items.keys() == b_items.keys() and all(_same(a_items[k], b_items[k]) for k in a_items)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b or _same_number(a, b)


def _same_number(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


def _value(data: Mapping, name: str) -> Any:
    return data.get(name, DEFAULTS.get(name)) if isinstance(data, Mapping) else None


def _text(data: Any, name: str) -> str:
    value = data.get(name) if isinstance(data, Mapping) else None
    return "" if value is None else str(value)


def _key(data: Any) -> str:
    return _text(data, "key")


def _sections(content: Mapping) -> list[Mapping]:
    sections = content.get("sections") if isinstance(content, Mapping) else None
    return [s for s in sections if isinstance(s, Mapping)] if isinstance(sections, list) else []


def _questions_of(section: Mapping) -> list[Mapping]:
    questions = section.get("questions")
    return [q for q in questions if isinstance(q, Mapping)] if isinstance(questions, list) else []


def _by_key(items: list[Mapping]) -> dict[str, Mapping]:
    out: dict[str, Mapping] = {}
    for item in items:
        out.setdefault(_key(item), item)  # a duplicate key is the validator's business, not the diff's
    return out


def _all_questions(content: Mapping) -> dict[str, tuple[str, Mapping]]:
    out: dict[str, tuple[str, Mapping]] = {}
    for section in _sections(content):
        for question in _questions_of(section):
            out.setdefault(_key(question), (_key(section), question))
    return out
