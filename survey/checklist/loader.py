"""YAML text → validated checklist or standards, with every error located by file, line and path.

PyYAML's plain ``load`` forgets where a value came from, so the document is
composed into nodes first and built by hand, keeping each path's line. The
same walk catches YAML 1.1's surprises (bare ``no`` is ``False``, ``4:00`` is
240, ``2026-01-01`` is a date) where the author meant text.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from . import rules, types
from .base import answer_text
from .messages import AT_KEY, for_file
from .schema import Checklist, StandardsFile, partial_checklist

Path_ = tuple[str | int, ...]

#: Keys whose value is legitimately a YAML boolean.
BOOL_KEYS = {"required", "allow_na", "scored", "critical", "retired"}
#: How people write a whole number; YAML 1.1 reads more (octal 010, hex 0x1F, 1_000, 0b101).
PLAIN_INTEGER = re.compile(r"[-+]?(0|[1-9][0-9]*)")
#: Places where a bare yes/no means the answer "yes"/"no" (SPEC §3).
ANSWER_PLACES = {("pass_on",), ("show_if", "equals"), ("show_if", "in")}

KNOWN_KEYS = sorted(
    {
        "slug", "title", "channel", "language", "on_critical_fail", "review", "min_minutes", "help", "sections",
        "key",
        "weight", "show_if", "questions", "text", "type", "required", "standard", "critical",
        "comment", "allow_na", "scored", "pass_on", "min", "max", "labels", "options", "label",
        "score", "unit", "bands", "question", "equals", "in", "above", "below", "description",
        "retired", "standards", "visit", "date", "time", "repeat", "add", "bonus", "deduction", "outcomes",
    }
)


@dataclass(frozen=True)
class LoadError:
    file: str
    line: int | None
    path: str
    message: str
    #: What broke, as a key of ``messages.MESSAGES`` (or pydantic's own error type), and its details:
    #: the editor words it from these, not from ``message``.
    code: str = field(default="", compare=False)
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def of(cls, file: str, line: int | None, path: str, code: str, **params: Any) -> LoadError:
        return cls(file, line, path, for_file(code, params), code, params)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ChecklistError(Exception):
    """A file was refused; ``errors`` lists every problem found, in file order."""

    def __init__(self, errors: list[LoadError]):
        self.errors = sorted(errors, key=lambda e: (e.file, e.line or 0, e.path))
        super().__init__("\n".join(str(e) for e in self.errors))


def format_path(path: Path_) -> str:
    """Spell a path as the SPEC does: ``sections[2].questions[0].weight``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _TooBig(Exception):
    pass


class _Builder:
    """Build plain data from YAML nodes, remembering each path's line."""

    #: Enough for any real checklist; stops alias bombs ("billion laughs") early.
    MAX_NODES = 50_000

    def __init__(self, filename: str):
        self.filename = filename
        self.count = 0
        self.building: set[int] = set()
        self.data: Any = None
        self.lines: dict[Path_, int] = {}
        self.errors: list[LoadError] = []
        self.constructor = yaml.SafeLoader("")

    def error(self, path: Path_, code: str, params: dict[str, Any] | None = None, line: int | None = None,
              fallback: str = "") -> None:
        params = params or {}
        self.errors.append(LoadError(self.filename, line or self.line_of(path), format_path(path),
                                     for_file(code, params, fallback), code, params))

    def line_of(self, path: Path_) -> int | None:
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        self.count += 1
        if self.count > self.MAX_NODES:
            raise _TooBig()
        if id(node) in self.building:
            self.error(path, "yaml_alias_loop")
            return None
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.building.add(id(node))
            try:
                return self._collection(node, path)
            finally:
                self.building.discard(id(node))
        return self.scalar(node, path)

    def _collection(self, node: yaml.Node, path: Path_) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.error(path, "yaml_key_not_text", line=key_node.start_mark.line + 1)
                    continue
                if key_node.tag == MERGE_TAG:
                    self.error(path, "yaml_merge_key", line=key_node.start_mark.line + 1)
                    continue
                key = self._construct(key_node, path)
                if isinstance(key, bool):
                    key = key_node.value  # `yes: ...` as a label key; keep the author's text
                child = path + (key,)
                self.lines[child] = key_node.start_mark.line + 1
                if key in result:
                    self.error(child, "yaml_key_twice")
                    continue
                result[key] = self.build(value_node, child)
            return result
        return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]

    def _construct(self, node: yaml.ScalarNode, path: Path_) -> Any:
        """Read a scalar; a tag YAML's safe loader refuses (``!foo``, ``!!python/...``) is a located error."""
        try:
            return self.constructor.construct_object(node)
        except yaml.YAMLError:
            self.error(path, "yaml_tag", {"tag": node.tag}, line=node.start_mark.line + 1)
            return node.value

    def scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        value = self._construct(node, path)
        if node.style is not None:  # quoted or block text: exactly what was written
            return value
        where = _answer_place(path)
        if isinstance(value, bool):
            if where:
                return "yes" if value else "no"
            if path and path[-1] in BOOL_KEYS:
                return value
            self.error(path, "yaml_bool", {"raw": node.value})
            return node.value
        if isinstance(value, date):
            self.error(path, "yaml_date", {"raw": node.value})
            return node.value
        if isinstance(value, (int, float)) and ":" in node.value:
            self.error(path, "yaml_number", {"raw": node.value, "value": value})
            return node.value
        if (isinstance(value, int) and not PLAIN_INTEGER.fullmatch(node.value)) or (
                isinstance(value, float) and "_" in node.value):
            # 010 is 8, 0x1F is 31, 1_000 is 1000 in YAML 1.1: an author writing a key or a label never means that.
            self.error(path, "yaml_surprising_number", {"raw": node.value, "value": value})
            return node.value
        return value


def _answer_place(path: Path_) -> bool:
    tail = tuple(p for p in path[-3:] if not isinstance(p, int))
    return any(tail[-len(place):] == place for place in ANSWER_PLACES) and (
        path[-1] == "pass_on" or "show_if" in path
    )


#: YAML's tag for ``<<`` merge keys, which the composer leaves for the constructor to resolve.
MERGE_TAG = "tag:yaml.org,2002:merge"
#: A checklist nests five levels (sections, questions, options, ...); PyYAML's composer (and our
#: builder) recurse once per level, so 2,000 brackets would exhaust Python's stack.
MAX_DEPTH = 50


def _too_deep(text: str) -> int | None:
    """Return the line where collections nest deeper than MAX_DEPTH, or None; reads events, no recursion."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark.line + 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def parse_yaml(text: str, filename: str) -> tuple[Any, _Builder]:
    """Parse YAML text into plain data plus a builder holding lines and errors."""
    builder = _Builder(filename)
    try:
        too_deep = _too_deep(text)
        if too_deep is not None:
            builder.errors.append(LoadError.of(filename, too_deep, "", "yaml_too_deep", depth=MAX_DEPTH))
            return None, builder
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        builder.errors.append(LoadError.of(filename, mark.line + 1 if mark else None, "", "yaml_invalid",
                                           problem=problem))
        return None, builder
    if node is None:
        builder.errors.append(LoadError.of(filename, 1, "", "file_empty"))
        return None, builder
    try:
        return builder.build(node, ()), builder
    except _TooBig:
        builder.errors.append(LoadError.of(filename, None, "", "file_too_large"))
        return None, builder


def _pydantic_errors(exc: ValidationError, builder: _Builder) -> None:
    """Turn pydantic's errors into located problems, one per place in the file."""
    found: dict[Path_, list[tuple[str, dict[str, Any], str]]] = {}
    for err in exc.errors():
        loc, code, params, fallback = _problem(err, builder)
        same_place = found.setdefault(loc, [])
        if all(fallback != seen for _, _, seen in same_place):
            same_place.append((code, params, fallback))
    for loc, problems in found.items():
        if loc[-1:] == ("critical",) and len(problems) > 1:
            problems = [("critical_value", {}, for_file("critical_value"))]
        code, params, words = problems[0]
        if len(problems) > 1:  # a value that fits none of a union's shapes: say every way to fix it
            words = " or ".join(fallback for _, _, fallback in problems)
        builder.errors.append(LoadError(builder.filename, builder.line_of(loc), format_path(loc), words, code, params))


#: pydantic's comparison errors carry their limit under these names.
_LIMITS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def _problem(err: dict, builder: _Builder) -> tuple[Path_, str, dict[str, Any], str]:
    """Return a pydantic error as (location, code, parameters, the file's words)."""
    loc = _locate(err["loc"], builder.data, keep_last=err["type"] == "missing")
    kind = err["type"]
    params = dict(err.get("ctx") or {})
    if kind == "extra_forbidden":
        code, params = _unknown_key(loc, builder)
    elif kind == "missing":
        code = "key_missing"
    elif kind == "union_tag_not_found":
        loc, code, params = loc + ("type",), "type_missing", {"types": ", ".join(types.names())}
    elif kind == "union_tag_invalid":
        given = err["input"].get("type") if isinstance(err["input"], dict) else None
        loc, code, params = loc + ("type",), "type_unknown", {"given": given, "types": ", ".join(types.names())}
    elif kind in _LIMITS:
        code, params = kind, {"limit": answer_text(params.get(_LIMITS[kind]))}
    elif kind == "string_pattern_mismatch" and loc[-1:] == ("language",):
        code = "language_code"
    else:
        code = kind
    at = AT_KEY.get(code)
    if at is not None and isinstance(_get(builder, loc), dict) and at in _get(builder, loc):
        loc = loc + (at,)
    msg = err["msg"].replace("Value error, ", "").replace("Input should be", "must be")
    for old in ("Input should have", "String should have", "List should have"):
        msg = msg.replace(old, "must have")
    fallback = for_file(code, params, msg[:1].lower() + msg[1:])
    return loc, code, params, fallback


def _locate(loc: tuple, data: Any, keep_last: bool) -> Path_:
    """Follow pydantic's location through the data, dropping its union and type tags."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in types.REGISTRY and node.get("type") == part:
            continue  # the union's tag, not the question's own `text:` key
        if isinstance(node, dict) and part in node:
            node = node[part]
            out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            out.append(part)
        elif keep_last and i == len(loc) - 1 and isinstance(part, (str, int)):
            out.append(part)
    return tuple(out)


def _unknown_key(loc: Path_, builder: _Builder) -> tuple[str, dict[str, Any]]:
    name = str(loc[-1])
    if name in KNOWN_KEYS:
        parent = _get(builder, loc[:-1])
        kind = parent.get("type") if isinstance(parent, dict) else None
        if kind:
            return "key_not_allowed_on_type", {"name": name, "kind": kind}
        return "key_not_allowed", {"name": name}
    hint = difflib.get_close_matches(name, KNOWN_KEYS, n=1)
    return "unknown_key", {"hint": f" (did you mean '{hint[0]}'?)" if hint else ""}


def _get(builder: _Builder, loc: Path_) -> Any:
    data = builder.data
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def content_hash(content: dict[str, Any]) -> str:
    """Hash canonical content; key order in the file must not matter."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def kind_of(data: Any) -> str:
    """Tell a standards catalogue from a checklist by its top-level key."""
    return "standards" if isinstance(data, dict) and "standards" in data else "checklist"


def load_standards_text(text: str, filename: str) -> StandardsFile:
    """Validate a standards catalogue; raise ChecklistError listing every problem."""
    data, builder = parse_yaml(text, filename)
    builder.data = data
    result = None
    if data is not None and not builder.errors:
        try:
            result = StandardsFile.model_validate(data)
        except ValidationError as exc:
            _pydantic_errors(exc, builder)
    if result is not None:
        seen: set[str] = set()
        for i, std in enumerate(result.standards):
            if std.key in seen:
                builder.error(("standards", i, "key"), "standard_key_twice", {"key": std.key})
            seen.add(std.key)
    if builder.errors or result is None:
        raise ChecklistError(builder.errors)
    return result


def load_checklist_text(text: str, filename: str, standards: dict[str, bool]) -> Checklist:
    """Validate a checklist against the standards catalogue (key → retired).

    Raise ChecklistError listing every problem, YAML, field and cross-reference
    alike, so an author fixes a file in one pass.
    """
    data, builder = parse_yaml(text, filename)
    builder.data = data
    if data is None:
        raise ChecklistError(builder.errors)
    result = _validate(data, builder, standards)
    if builder.errors or result is None:
        raise ChecklistError(builder.errors)
    return result


def validate_content(data: Any, standards: dict[str, bool],
                     filename: str = "draft") -> tuple[Checklist | None, list[LoadError]]:
    """Validate checklist content that did not come from a file (the HQ editor's draft).

    Same rules as a file import; errors carry paths (``sections[0].questions[2].weight``)
    and no line numbers.
    """
    builder = _Builder(filename)
    builder.data = data
    result = _validate(data, builder, standards)
    return (None if builder.errors else result), builder.errors


def _validate(data: Any, builder: _Builder, standards: dict[str, bool]) -> Checklist | None:
    if not isinstance(data, dict):
        builder.error((), "file_not_mapping")
        return None
    result = None
    try:
        result = Checklist.model_validate(data)
    except ValidationError as exc:
        _pydantic_errors(exc, builder)
    # Cross-checks run on whatever parts are valid, so a typo in one question
    # doesn't hide a dangling reference in another.
    for path, code, params in rules.check(result or partial_checklist(data), standards):
        builder.error(path, code, params)
    return result


def load_checklist_data(content: dict[str, Any]) -> Checklist:
    """Rebuild a checklist from stored canonical content (already validated when published)."""
    return Checklist.model_validate(content)


def dump_yaml(content: dict[str, Any]) -> str:
    """Write canonical content as YAML that loads back to the same content."""
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)


def read_file(path: str | Path) -> tuple[str, str]:
    """Return ``(text, display name)`` for a checklist path; raise ChecklistError if it isn't UTF-8."""
    p = Path(path)
    raw = p.read_bytes()
    try:
        return raw.decode("utf-8"), p.name
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start]
        raise ChecklistError([LoadError.of(p.name, line, "", "not_utf8", byte=bad)]) from None
