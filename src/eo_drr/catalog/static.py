"""A static STAC catalogue on disk (``catalog.json`` and its children): the demo scene, a
folder a user downloaded, or a catalogue written by a previous eo-drr run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

import pystac

from eo_drr.catalog.base import SearchQuery, matches, sort_items
from eo_drr.errors import CorruptInputError, InputError
from eo_drr.i18n import gettext as _

#: catalogue path -> its parsed items, while :func:`reuse_parsed_catalogs` is active
_SHARED: ContextVar[dict[str, list[pystac.Item]] | None] = ContextVar(
    "eo_drr_static_catalogs", default=None
)


@contextlib.contextmanager
def reuse_parsed_catalogs() -> Iterator[None]:
    """Within the block, every :class:`StaticCatalog` of the same ``catalog.json`` shares
    one parsed copy of its items (read-only use). A tiled job plans hundreds of tiles, each
    with its own searches; parsing the catalogue once instead of once per search makes
    planning cheap. Outside the block each catalogue object parses its files itself, so a
    long-lived process sees items added to the catalogue later."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


class StaticCatalog:
    """Search a static STAC catalogue by walking its items once (cached in memory)."""

    def __init__(self, path: str | Path, name: str | None = None):
        path = Path(path)
        if path.is_dir():
            path = path / "catalog.json"
        if not path.exists():
            raise InputError(_("no STAC catalogue at {path}").format(path=path))
        self.path = path
        self.name = name or str(path)
        self._items: list[pystac.Item] | None = None

    def _all_items(self) -> list[pystac.Item]:
        shared = _SHARED.get()
        key = str(self.path.resolve())
        if self._items is None and shared is not None and key in shared:
            self._items = shared[key]
        if self._items is None:
            try:
                root = pystac.read_file(str(self.path))
            except Exception as exc:  # pystac raises many types for bad JSON/STAC
                raise CorruptInputError(
                    _("{path}: not a readable STAC catalogue ({exc})").format(
                        path=self.path, exc=exc
                    )
                ) from exc
            if isinstance(root, pystac.Item):
                items = [root]
            elif isinstance(root, pystac.Catalog):
                items = _walk(root, self.path)
            else:
                raise CorruptInputError(
                    _("{path}: expected a STAC Catalog or Collection").format(path=self.path)
                )
            for item in items:  # make every asset href absolute for the readers
                item.make_asset_hrefs_absolute()
            self._items = items
            if shared is not None:
                shared[key] = items
        return self._items

    def collections(self) -> list[str]:
        """Collection ids present in the catalogue."""
        return sorted({it.collection_id for it in self._all_items() if it.collection_id})

    def search(self, query: SearchQuery) -> list[pystac.Item]:
        have = set(self.collections())
        unknown = [c for c in query.collections if c not in have]
        if unknown:  # a typo must not read as "no data"
            raise InputError(
                _("collection {unknown} is not in the catalogue {path} (it has: {have})").format(
                    unknown=", ".join(unknown),
                    path=self.path,
                    have=", ".join(sorted(have)) or _("no collection"),
                )
            )
        found = [it for it in self._all_items() if matches(it, query)]
        found = sort_items(found)
        return found[: query.limit] if query.limit else found


def _walk(root: pystac.Catalog, path: Path) -> list[pystac.Item]:
    """Every item under ``root``, refusing a damaged catalogue in one line: a link that does
    not resolve, a catalogue that links back to itself (a loop), an item that does not parse."""
    items: list[pystac.Item] = []
    seen: set[str] = set()
    todo = [root]
    try:
        while todo:
            cat = todo.pop()
            href = cat.get_self_href() or str(id(cat))
            if href in seen:
                raise CorruptInputError(
                    _("{path}: the catalogue links back to {href} (a loop)").format(
                        path=path, href=href
                    )
                )
            seen.add(href)
            items.extend(cat.get_items(recursive=False))
            todo.extend(cat.get_children())
    except CorruptInputError:
        raise
    except (pystac.STACError, RecursionError, ValueError, KeyError, TypeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise CorruptInputError(
            _("{path}: a damaged STAC catalogue ({kind}: {first})").format(
                path=path, kind=type(exc).__name__, first=first
            )
        ) from None
    for it in items:
        if it.bbox is not None and len(it.bbox) not in (4, 6):
            raise CorruptInputError(
                _(
                    "{path}: item {item} has a bbox of {n_bbox} numbers (STAC: 4, or 6 in 3-D)"
                ).format(path=path, item=it.id, n_bbox=len(it.bbox))
            )
    return items
