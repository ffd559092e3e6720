"""A static STAC catalogue on disk (``catalog.json`` and its children): the demo scene, a
folder a user downloaded, or a catalogue written by a previous eo-drr run."""

from __future__ import annotations

from pathlib import Path

import pystac

from eo_drr.catalog.base import SearchQuery, matches, sort_items
from eo_drr.errors import CorruptInputError, InputError


class StaticCatalog:
    """Search a static STAC catalogue by walking its items once (cached in memory)."""

    def __init__(self, path: str | Path, name: str | None = None):
        path = Path(path)
        if path.is_dir():
            path = path / "catalog.json"
        if not path.exists():
            raise InputError(f"no STAC catalogue at {path}")
        self.path = path
        self.name = name or str(path)
        self._items: list[pystac.Item] | None = None

    def _all_items(self) -> list[pystac.Item]:
        if self._items is None:
            try:
                root = pystac.read_file(str(self.path))
            except Exception as exc:  # pystac raises many types for bad JSON/STAC
                raise CorruptInputError(f"{self.path}: not a readable STAC catalogue ({exc})") from exc
            if isinstance(root, pystac.Item):
                items = [root]
            elif isinstance(root, pystac.Catalog):
                items = list(root.get_items(recursive=True))
            else:
                raise CorruptInputError(f"{self.path}: expected a STAC Catalog or Collection")
            for item in items:  # make every asset href absolute for the readers
                item.make_asset_hrefs_absolute()
            self._items = items
        return self._items

    def collections(self) -> list[str]:
        """Collection ids present in the catalogue."""
        return sorted({it.collection_id for it in self._all_items() if it.collection_id})

    def search(self, query: SearchQuery) -> list[pystac.Item]:
        found = [it for it in self._all_items() if matches(it, query)]
        found = sort_items(found)
        return found[: query.limit] if query.limit else found
