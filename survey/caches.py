"""The process's caches, all here, each with a bound.

They hold what never changes once made: a published checklist version (versions are
immutable, so the key ``(version id, content hash)`` can never go stale), what is built
from one (its shopper form class, its blank page per language), and a few prepared SQL
statements. Each exists because a measured request needed it: ``bench/README.md`` gives
the figures (the shopper's GET and POST budgets, and the reports' parse of versions).
Entries beyond a cache's bound are dropped oldest first; a dropped entry is simply made again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from .checklist.loader import load_checklist_data
from .checklist.schema import Checklist

V = TypeVar("V")


class Bounded(Generic[V]):
    """A least-recently-used mapping of at most ``size`` entries, safe under threads."""

    def __init__(self, name: str, size: int):
        self.name, self.size = name, size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """Return the entry for ``key``, made by ``make()`` the first time."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: making may take a while, and a double make is harmless
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def find(self, key: Hashable) -> V | None:
        """Return the entry for ``key`` if there is one (a use, as ``get``), else None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<Bounded {self.name} {len(self)}/{self.size}>"


#: Parsed checklist versions: a shopper's every request and every report needs one.
parsed_versions: Bounded[Checklist] = Bounded("parsed versions", 256)
#: The shopper's form class per version (building one binds thirty-odd WTForms fields).
form_classes: Bounded[Any] = Bounded("form classes", 128)
#: The blank form per version, language and upload limit, with markers for each link's values.
blank_pages: Bounded[list[str]] = Bounded("blank pages", 64)
#: The field names a shopper's draft keeps, per version.
draft_fields: Bounded[frozenset[str]] = Bounded("draft fields", 128)
#: The shopper's script and stylesheet, minified, by file name and modification time (``assets``).
lean_assets: Bounded[bytes] = Bounded("lean assets", 8)
#: Prepared statements: the UPDATEs of a link's columns, by the columns they set, and the reports'
#: selects, by name and kind of scope (reports/queries.py; bench/branch_page.py: building a report's
#: select cost more than running it), the rollups' upserts (survey/rollups.py), and the region and
#: network averages by the shape of their period (a few each).
statements: Bounded[Any] = Bounded("statements", 128)
#: The median fill time of a version's latest visits (``fast`` flag), per version and minute:
#: reading the last hundred took a tenth of the shopper's POST (bench/README.md). Only a full
#: window is kept; a version with fewer visits is read each time, so its median is exact.
fill_medians: Bounded[tuple[float | None, int]] = Bounded("fill medians", 256)


def checklist_of(version: Any) -> Checklist:
    """Return a version's checklist, parsed once per process (versions never change)."""
    return parsed_versions.get((version.id, version.content_hash), lambda: load_checklist_data(version.content))


def parsed_checklist(version_id: int, content_hash: str) -> Checklist | None:
    """Return a version's checklist if this process has parsed it already, else None (read its
    content and call ``checklist_of``): the branch's page names its versions without their content."""
    return parsed_versions.find((version_id, content_hash))
