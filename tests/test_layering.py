"""The code's shape (STYLE.md): checklists → survey → reports; nothing imports against the flow.

Read from the sources with ``ast``, so an import hidden inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from survey.caches import Bounded

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> set[str]:
    """Return the absolute names of the modules a source file imports."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, (base, node.module)))
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def offenders(folder: str, forbidden: str) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}" for path in modules(folder) for name in imports(path)
            if name == forbidden or name.startswith(forbidden + ".")]


def test_survey_never_imports_reports():
    assert modules("survey") and offenders("survey", "reports") == []


def test_the_checklist_package_knows_nothing_of_flask_forms_or_the_database():
    bad = [o for lib in ("flask", "flask_wtf", "wtforms", "sqlalchemy", "survey.extensions", "survey.models")
           for o in offenders("survey/checklist", lib)]
    assert bad == []


@pytest.mark.parametrize("blueprint", ["survey/hq", "survey/shopper", "survey/auth", "reports/views.py"])
def test_no_blueprint_imports_the_command_line(blueprint):
    paths = [ROOT / blueprint] if blueprint.endswith(".py") else modules(blueprint)
    names = {name for path in paths for name in imports(path)}
    assert not {n for n in names if n.startswith(("survey.cli", "reports.cli"))}


def test_the_shoppers_form_layer_does_not_import_the_storage():
    assert [name for name in imports(ROOT / "survey/shopper/forms.py") if name.startswith("survey.submissions")] == []


def test_scoring_knows_nothing_of_flask():
    assert not {n for n in imports(ROOT / "survey/scoring.py") if n.startswith(("flask", "survey.extensions"))}


def test_reports_never_write():
    """Report code only reads: no session writes, no INSERT/UPDATE/DELETE statements (STYLE.md, point 7)."""
    for path in modules("reports"):
        source = path.read_text(encoding="utf-8")
        for word in ("session.add(", "session.commit(", "session.delete(", "session.flush("):
            assert word not in source, f"{path.relative_to(ROOT)} writes ({word})"
        assert not {n for n in imports(path) if n in ("sqlalchemy.insert", "sqlalchemy.update", "sqlalchemy.delete")}


def test_a_cache_keeps_at_most_its_bound_dropping_the_least_recently_used():
    cache: Bounded[int] = Bounded("test", 3)
    made = []

    def make(n):
        made.append(n)
        return n * 10

    for n in (1, 2, 3):
        cache.get(n, lambda n=n: make(n))
    cache.get(1, lambda: make(1))       # used again: now the most recent
    cache.get(4, lambda: make(4))       # drops 2, the least recently used
    assert len(cache) == 3
    cache.get(1, lambda: make(1))
    cache.get(2, lambda: make(2))       # made again
    assert made == [1, 2, 3, 4, 2]
