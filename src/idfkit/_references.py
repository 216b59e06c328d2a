"""References between objects, found by looking at the fields the schema marks.

A field whose schema entry has an ``object_list`` names another object: it
draws from lists (``ZoneNames``) that object types put their names into
(``Zone``'s ``reference``). Nothing is kept between calls, so an edit made
by position or by name is always seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from idfkit.document import IDFDocument
    from idfkit.objects import IDFObject

__all__ = ["names_in", "referencing", "rename", "target", "used_schedules"]


def fields(doc: IDFDocument) -> Iterator[tuple[IDFObject, int, tuple[str, ...]]]:
    """Every filled field that names another object, with the lists it draws from."""
    doc.bind_schema()
    for coll in doc._collections.values():
        for obj in coll._objects:
            info = obj._info
            if info is None:
                continue
            values = obj._values
            for position, lists in info.reference_positions.items():
                if position < len(values) and values[position] not in ("", None):
                    yield obj, position, lists
            ext = info.extensible_references
            if ext and len(values) > len(info.fields):
                size = len(info.extensible)
                for position in range(len(info.fields), len(values)):
                    drawn = ext.get((position - len(info.fields)) % size)
                    if drawn and values[position] not in ("", None):
                        yield obj, position, drawn


def referencing(doc: IDFDocument, name: str) -> set[IDFObject]:
    """The objects with a reference field that names ``name`` (case-insensitive)."""
    wanted = name.upper()
    return {o for o, p, _ in fields(doc) if str(o._values[p]).upper() == wanted}


def names_in(doc: IDFDocument, obj: IDFObject) -> set[str]:
    """The names (upper case) that ``obj``'s reference fields point to."""
    return {str(o._values[p]).upper() for o, p, _ in fields(doc) if o is obj}


def used_schedules(doc: IDFDocument) -> set[str]:
    """The names (upper case) of the `Schedule:*` objects that some schedule field refers to.

    Only fields that draw from a schedule list count, so a zone or a
    `ScheduleTypeLimits` that shares a schedule's name does not mark it used.
    """
    named = {
        str(o._values[p]).upper()
        for o, p, lists in fields(doc)
        if any(_is_schedule_list(name) for name in lists)
    }
    schedules = {
        obj.name.upper()
        for key, coll in doc._collections.items()
        if key.startswith("schedule:")
        for obj in coll._objects
    }
    return named & schedules


def _is_schedule_list(name: str) -> bool:
    lowered = name.lower()
    return "schedule" in lowered and "scheduletypelimits" not in lowered


def rename(doc: IDFDocument, lists: tuple[str, ...], old_name: str, new_name: str) -> None:
    """Point the references to ``old_name`` that draw from ``lists`` at ``new_name``."""
    wanted, old = set(lists), old_name.upper()
    for obj, position, drawn_from in fields(doc):
        if wanted & set(drawn_from) and str(obj._values[position]).upper() == old:
            obj._values[position] = new_name


def target(doc: IDFDocument, obj: IDFObject, field_name: str, value: str) -> IDFObject | None:
    """The object whose name answers ``obj``'s reference field ``field_name``."""
    spec = obj.getfieldidd(field_name) or {}
    lists = set(spec.get("object_list", ()))
    schema = doc.bind_schema()
    for coll in doc._collections.values():
        info = schema.get(coll.obj_type)
        if info is not None and lists & set(info.name_references):
            found = coll.get(value)
            if found is not None:
                return found
    return None
