"""The objects of one type in a document: `IDFCollection`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from idfkit import _suggest

if TYPE_CHECKING:
    from idfkit.objects import IDFObject

__all__ = ["IDFCollection"]


class IDFCollection:
    """The objects of one type in a document: iterate, index by position or name.

    A document makes one per type (``doc["Zone"]``).

    Args:
        obj_type: The object type, e.g. ``"Zone"``.
    """

    __slots__ = ("_by_name", "_objects", "obj_type")

    def __init__(self, obj_type: str) -> None:
        self.obj_type = obj_type
        self._objects: list[IDFObject] = []
        self._by_name: dict[str, IDFObject] | None = None

    def __len__(self) -> int:
        return len(self._objects)

    def __iter__(self) -> Iterator[IDFObject]:
        return iter(self._objects)

    def __bool__(self) -> bool:
        return bool(self._objects)

    def _index(self) -> dict[str, IDFObject]:
        found = self._by_name
        if found is None:
            found = {}
            for obj in self._objects:
                found.setdefault(obj.name.upper(), obj)
            self._by_name = found
        return found

    def __getitem__(self, key: int | str) -> Any:
        """An object by position (``[0]``, ``[-1]``, slices) or by name (case-insensitive)."""
        if isinstance(key, str):
            found = self._index().get(key.upper())
            if found is None:
                matches = _suggest.closest(key, [o.name for o in self._objects])
                hint = f"; did you mean {' or '.join(map(repr, matches))}?" if matches else ""
                raise KeyError(f"No {self.obj_type} with name {key!r}{hint}")
            return found
        return self._objects[key]

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item.upper() in self._index()
        return any(o is item for o in self._objects)

    def get(self, name: str, default: IDFObject | None = None) -> IDFObject | None:
        """The object with this name (case-insensitive), or ``default``.

        Args:
            name: The object's name.
            default: What to return when no object has it.
        """
        return self._index().get(name.upper(), default)

    def first(self) -> IDFObject | None:
        """The first object, or None when there is none."""
        return self._objects[0] if self._objects else None

    def to_list(self) -> list[IDFObject]:
        """The objects as a new list."""
        return list(self._objects)

    def _append(self, obj: IDFObject) -> None:
        self._objects.append(obj)
        if self._by_name is not None:
            self._by_name.setdefault(obj.name.upper(), obj)

    def _remove(self, obj: IDFObject) -> None:
        for i, candidate in enumerate(self._objects):
            if candidate is obj:
                del self._objects[i]
                self._by_name = None
                return
        raise ValueError(f"{obj!r} is not in this document")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return self._objects == other
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"IDFCollection({self.obj_type}, count={len(self._objects)})"
