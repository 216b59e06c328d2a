"""An EnergyPlus model: objects by type, fields by name, references by the schema.

Field names, types and references come from EnergyPlus's own
``Energy+.schema.epJSON`` (see `idfkit.schema`). A document finds its schema
the first time a named access needs it; without one, fields are still there
by position (``obj.fields[2]``) and the model reads and writes in its own
format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from idfkit import _references, _suggest
from idfkit._idf_text import TYPE_RE, parse_idf_text
from idfkit._simulation_mixin import SimulationMixin
from idfkit.exceptions import (
    DuplicateObjectError,
    IDFParseError,
    ParseDiagnostic,
    SchemaNotFoundError,
    UnknownObjectTypeError,
)
from idfkit.objects import IDFCollection, IDFObject, bind, check_value
from idfkit.schema import EpJSONSchema, get_schema

__all__ = ["IDFDocument"]  # the loaders are in _loading.py (and offered here on use)

Format = Literal["idf", "epjson"]
_UNSET: Any = object()


class IDFDocument(SimulationMixin):
    """A model: a collection of objects per type, in IDF or epJSON form.

    Args:
        version: The EnergyPlus version, e.g. ``(25, 2, 0)``; read from the
            ``Version`` object when the document has one.
        schema: An `EpJSONSchema`, or the path of an ``Energy+.schema.epJSON``
            (or of an EnergyPlus folder). None finds one when first needed.
        filepath: Where the model was read from (the default for `save`).
        strict: Kept for idfkit's signature: unknown field names always raise.
        format: ``"idf"`` or ``"epjson"``: the form the model was read in,
            which `write` and `text` keep.
    """

    def __init__(
        self,
        version: tuple[int, int, int] | None = None,
        schema: EpJSONSchema | str | Path | None = None,
        filepath: Path | str | None = None,
        *,
        strict: bool = True,
        format: Format = "idf",
    ) -> None:
        self._version = version
        self._schema: EpJSONSchema | None = schema if isinstance(schema, EpJSONSchema) else None
        self._schema_path = None if isinstance(schema, EpJSONSchema) else schema
        self._bound = False
        self._collections: dict[str, IDFCollection] = {}
        self._seq = 0
        self._strict = strict
        self.format: Format = format
        self.filepath: Path | None = Path(filepath) if filepath is not None else None
        self.diagnostics: list[ParseDiagnostic] = []
        # load_epjson(preserve_formatting=True): the text read and the epJSON it made then,
        # so that write_epjson gives the text back while the model still makes that epJSON.
        self._epjson_source: tuple[str, str] | None = None
        if self._schema is not None:
            self._bound = True

    # -- construction -------------------------------------------------------
    @classmethod
    def from_idf_text(
        cls,
        text: str,
        *,
        source: Path | None = None,
        strict_parsing: bool = True,
        schema: EpJSONSchema | str | Path | None = None,
    ) -> IDFDocument:
        """Parse IDF text (positional; the schema is found when first needed).

        Args:
            text: The IDF text.
            source: The file it came from, named in parse errors and kept as
                ``filepath``.
            strict_parsing: Raise `IDFParseError` on the first problem; False
                skips bad objects and keeps the problems in ``diagnostics``.
            schema: An `EpJSONSchema` or a schema path; None finds one when
                first needed.
        """
        records, problems = parse_idf_text(text, str(source) if source else None)
        doc = cls(schema=schema, filepath=source)
        _raise_or_keep(doc, problems, strict_parsing)
        for r in records:
            doc._append(IDFObject._make(r.obj_type, r.values, r.comments, r.leading, None))
        return doc

    @classmethod
    def from_epjson_text(
        cls,
        text: str,
        *,
        source: Path | None = None,
        schema: EpJSONSchema | None = None,
        strict_parsing: bool = True,
    ) -> IDFDocument:
        """Parse epJSON text; with a schema, objects get their fields by position.

        Args:
            text: The epJSON text.
            source: The file it came from, named in parse errors and kept as
                ``filepath``.
            schema: The schema to lay the fields out by; None keeps the fields
                the text names.
            strict_parsing: Raise `IDFParseError` on the first problem; False
                skips bad objects and keeps the problems in ``diagnostics``.

        Raises:
            IDFParseError: Text that is not JSON, or not an object of object types.
        """
        from idfkit._epjson import objects_from_epjson

        where = str(source) if source else None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IDFParseError(
                f"not valid JSON: {exc.msg}", [ParseDiagnostic(exc.msg, where, line=exc.lineno)]
            ) from exc
        if not isinstance(data, dict):
            raise IDFParseError("epJSON must be an object of object types")
        objects, problems = objects_from_epjson(data, schema, where)
        doc = cls(schema=schema, filepath=source, format="epjson")
        _raise_or_keep(doc, problems, strict_parsing)
        for obj in objects:
            doc._append(obj)
        return doc

    # -- schema -------------------------------------------------------------
    @property
    def schema(self) -> EpJSONSchema | None:
        """The schema in use, found on first use; None when none can be found."""
        try:
            self.bind_schema()
        except SchemaNotFoundError:
            return None
        return self._schema

    @property
    def strict(self) -> bool:
        """Whether unknown field names raise (always, here)."""
        return self._strict

    def bind_schema(self) -> EpJSONSchema:
        """Find the schema (once) and give every object its field names.

        Raises:
            SchemaNotFoundError: No schema was found; the message says how to
                point to one.
        """
        if self._schema is None:
            self._schema = get_schema(self._schema_path)
        if not self._bound:
            self._bound = True
            self._attach(self._schema)
        return self._schema

    def _attach(self, schema: EpJSONSchema) -> list[IDFObject]:
        """Give each object its type's description; return the unknown ones."""
        unknown: list[IDFObject] = []
        merged: dict[str, IDFCollection] = {}
        for lower, coll in self._collections.items():
            info = schema.get(lower)
            if info is None:
                unknown += coll._objects
                merged[lower] = coll
                continue
            coll.obj_type = info.name
            for obj in coll._objects:
                if obj._info is None and obj._comments and obj._comments[0] == "name":
                    continue  # epJSON kept by key, without a schema
                bind(obj, info)
            merged[lower] = coll
        self._collections = merged
        return unknown

    def _info_for(self, obj_type: str) -> Any:
        schema = self.bind_schema()
        info = schema.get(obj_type)
        if info is None:
            raise UnknownObjectTypeError(
                obj_type, schema.version, _suggest.closest(obj_type, schema.object_types)
            )
        return info

    # -- query --------------------------------------------------------------
    def __len__(self) -> int:
        return sum(len(c) for c in self._collections.values())

    def __iter__(self) -> Iterator[str]:
        """The object types present (as `keys`)."""
        return iter(self.keys())

    def __contains__(self, obj_type: object) -> bool:
        if isinstance(obj_type, IDFObject):
            return obj_type._doc is self
        if not isinstance(obj_type, str):
            return False
        coll = self._collections.get(obj_type.lower())
        return coll is not None and len(coll) > 0

    def __getitem__(self, obj_type: str) -> IDFCollection:
        """The objects of a type (case-insensitive); empty when there are none.

        Args:
            obj_type: The object type, e.g. ``"Zone"``.

        Raises:
            UnknownObjectTypeError: With a schema, a type it does not define;
                the message names the closest types.
        """
        coll = self._collections.get(obj_type.lower())
        if coll is not None:
            return coll
        if self._schema is not None or self._bound:
            return self._collection(self._info_for(obj_type).name)
        schema = self.schema
        if schema is not None:
            return self._collection(self._info_for(obj_type).name)
        return self._collection(obj_type)

    get_collection = __getitem__

    def _collection(self, obj_type: str) -> IDFCollection:
        lower = obj_type.lower()
        coll = self._collections.get(lower)
        if coll is None:
            coll = self._collections[lower] = IDFCollection(obj_type)
        return coll

    def keys(self) -> list[str]:
        """The object types present, in order of first appearance."""
        return [c.obj_type for c in self._collections.values() if c]

    types = keys

    def values(self) -> list[IDFCollection]:
        """The non-empty collections."""
        return [c for c in self._collections.values() if c]

    def items(self) -> list[tuple[str, IDFCollection]]:
        """``(type, collection)`` for each type present."""
        return [(c.obj_type, c) for c in self._collections.values() if c]

    def objects_by_type(self) -> Iterator[tuple[str, IDFCollection]]:
        """`items`, as an iterator."""
        return iter(self.items())

    @property
    def collections(self) -> dict[str, IDFCollection]:
        """The collections by type name."""
        return dict(self.items())

    @property
    def idfobjects(self) -> _ObjectsView:
        """eppy's view: ``doc.idfobjects["ZONE"]`` is ``doc["Zone"]``."""
        return _ObjectsView(self)

    @property
    def all_objects(self) -> Iterator[IDFObject]:
        """Every object, type by type."""
        return (o for c in list(self._collections.values()) for o in c._objects)

    @property
    def objects(self) -> list[IDFObject]:
        """Every object in the order it was read or added."""
        return sorted(self.all_objects, key=lambda o: o._seq)

    def getobject(self, obj_type: str, name: str) -> IDFObject | None:
        """The object of a type with a name (both case-insensitive), or None.

        Args:
            obj_type: The object type, e.g. ``"Zone"``.
            name: The object's name.
        """
        coll = self._collections.get(obj_type.lower())
        return coll.get(name) if coll is not None else None

    @property
    def version(self) -> tuple[int, int, int]:
        """The EnergyPlus version, e.g. ``(25, 2, 0)``, from the ``Version`` object.

        Falls back to the version given to the constructor, then the schema's.
        """
        found = self._collections.get("version")
        if found:
            obj = found._objects[0]
            position = (
                1 if obj._info is None and obj._comments and obj._comments[0] == "name" else 0
            )
            if len(obj.fields) > position:
                parts = [int(p) for p in re.findall(r"\d+", str(obj.fields[position]))][:3]
                if parts:
                    major, minor, patch = [*parts, 0, 0][:3]
                    return major, minor, patch
        if self._version is not None:
            return self._version
        schema = self.schema
        return schema.version if schema is not None else (0, 0, 0)

    # -- editing ------------------------------------------------------------
    def _append(self, obj: IDFObject) -> IDFObject:
        self._seq += 1
        object.__setattr__(obj, "_seq", self._seq)
        object.__setattr__(obj, "_doc", self)
        if self._bound and obj._info is None and self._schema is not None:
            info = self._schema.get(obj._type)
            if info is not None:
                bind(obj, info)
        self._collection(obj._type)._append(obj)
        return obj

    def add(
        self,
        obj_type: str,
        name: str = "",
        fields: dict[str, Any] | Sequence[Any] | None = None,
        *,
        validate: bool = True,
        **kwargs: Any,
    ) -> IDFObject:
        """Add an object and return it.

        Args:
            obj_type: The object type, e.g. ``"Zone"`` (any case).
            name: The name; for a type without one (``Output:SQLite``), the
                first field's value.
            fields: Field values by name (a dict), or the remaining fields by
                position (a list).
            validate: Check every given value against the schema.
            **kwargs: Field values by name, e.g. ``x_origin=0``.

        Raises:
            UnknownObjectTypeError: The schema has no such type.
            InvalidFieldError: A field name the type does not have.
            RangeError: A value of the wrong type or out of range (with
                ``validate``).
            DuplicateObjectError: A second object with the same name, or a
                second object of a unique type.
        """
        if not TYPE_RE.match(obj_type):
            raise ValueError(f"invalid object type {obj_type!r}")
        named = dict(fields) if isinstance(fields, dict) else {}
        named.update(kwargs)
        positional = list(fields) if isinstance(fields, (list, tuple)) else []
        try:
            info = self._info_for(obj_type)
        except SchemaNotFoundError:
            if named and self.format == "idf":
                raise
            return self._add_schemaless(obj_type, name, positional, named)
        values: list[Any] = [str(name)] if info.has_name else ([name] if name != "" else [])
        values += positional
        obj = IDFObject._make(
            info.name,
            [check_value(info.name, str(i), v) for i, v in enumerate(values)],
            None,
            None,
            info,
        )
        for key, value in named.items():
            if key in ("name", "Name") and info.has_name:
                obj._values[0] = check_value(info.name, "name", str(value))
                continue
            if key == info.extensible_wrapper and isinstance(value, list):
                # idfkit's form for repeated groups: reports=[{"report_name": ...}, ...]
                for number, group in enumerate(value, start=1):
                    for item_key, item in dict(group).items():
                        obj[f"{item_key}_{number}"] = item
                continue
            obj[key] = value
        self._check_duplicate(obj)
        if validate:
            from idfkit.validation import validate_object

            validate_object(obj)
        return self._append(obj)

    def _add_schemaless(
        self, obj_type: str, name: str, positional: list[Any], named: dict[str, Any]
    ) -> IDFObject:
        if self.format == "epjson":
            label = name or f"{obj_type} {len(self._collection(obj_type)) + 1}"
            values = [label, *named.values()]
            return self._append(IDFObject._make(obj_type, values, ["name", *named], None, None))
        values = ([name] if name != "" else []) + positional
        values = [check_value(obj_type, str(i + 1), str(v).strip()) for i, v in enumerate(values)]
        return self._append(IDFObject._make(obj_type, values, None, None, None))

    def _check_duplicate(self, obj: IDFObject) -> None:
        info = obj._info
        coll = self._collections.get(obj._type.lower())
        if info is None or not coll:
            return
        if info.unique:
            raise DuplicateObjectError(obj._type, obj._type)
        if info.has_name and obj.name and obj.name in coll:
            raise DuplicateObjectError(obj._type, obj.name)

    def newidfobject(self, obj_type: str, **kwargs: Any) -> IDFObject:
        """eppy's spelling of `add`: fields as keywords (``Name=`` included).

        Values are not checked against the schema (as in eppy).

        Args:
            obj_type: The object type, e.g. ``"Zone"``.
            **kwargs: Field values by name; ``Name`` (or ``name``) is the name.
        """
        name = kwargs.pop("Name", kwargs.pop("name", ""))
        return self.add(obj_type, name, validate=False, **kwargs)

    def addidfobject(self, obj: IDFObject) -> IDFObject:
        """Add an object made elsewhere (a copy if it belongs to another document).

        Args:
            obj: The object.

        Returns:
            The object added: ``obj`` itself, or its copy.
        """
        if obj._doc is not None:
            obj = obj.copy()
        self._check_duplicate(obj)
        return self._append(obj)

    def addidfobjects(self, objects: list[IDFObject]) -> list[IDFObject]:
        """`addidfobject` for each object.

        Args:
            objects: The objects, added in order.
        """
        return [self.addidfobject(o) for o in objects]

    def removeidfobject(self, obj: IDFObject) -> None:
        """Remove one object (by identity); ValueError if it is not here.

        Args:
            obj: The object.
        """
        coll = self._collections.get(obj._type.lower())
        if coll is None:
            raise ValueError(f"{obj!r} is not in this document")
        coll._remove(obj)
        object.__setattr__(obj, "_doc", None)

    remove = removeidfobject

    def removeidfobjects(self, objects: Sequence[IDFObject]) -> None:
        """Remove each object.

        Args:
            objects: The objects, each of which must be in this document.
        """
        for obj in list(objects):
            self.removeidfobject(obj)

    def removeallidfobjects(self, obj_type: str) -> None:
        """Remove every object of a type.

        Args:
            obj_type: The object type, e.g. ``"Zone"`` (any case).
        """
        self.removeidfobjects(list(self._collections.get(obj_type.lower(), ())))

    def popidfobject(self, obj_type: str, index: int) -> IDFObject:
        """Remove and return the object of a type at a position.

        Args:
            obj_type: The object type, e.g. ``"Zone"``.
            index: The object's position among those of its type.
        """
        obj: IDFObject = self[obj_type][index]
        self.removeidfobject(obj)
        return obj

    def copyidfobject(self, obj: IDFObject, new_name: str | None = None) -> IDFObject:
        """Add a copy of an object, under ``new_name`` (or a free name made from its own).

        Args:
            obj: The object to copy (from this document or another).
            new_name: The copy's name; None takes ``obj``'s name, numbered
                (``"Zone 1 1"``) if this document has it already.
        """
        twin = obj.copy()
        info = twin._info
        if info is not None and info.has_name:
            coll = self._collections.get(twin._type.lower())
            name = new_name if new_name is not None else obj.name
            if new_name is None and coll is not None and name in coll:
                n = 1
                while f"{obj.name} {n}" in coll:
                    n += 1
                name = f"{obj.name} {n}"
            twin._values[0] = name
        return self.addidfobject(twin)

    def rename(self, obj_type: str, old_name: str, new_name: str) -> None:
        """Rename an object and every reference to it.

        Args:
            obj_type: The object's type.
            old_name: Its name now (any case).
            new_name: The new name.

        Raises:
            KeyError: No object of that type has that name.
        """
        obj = self.getobject(obj_type, old_name)
        if obj is None:
            raise KeyError(f"No {obj_type} with name {old_name!r}")
        obj.name = new_name

    def notify_name_change(self, obj: IDFObject, old_name: str, new_name: str) -> None:
        """Point every reference to ``old_name`` at ``new_name`` (called by ``obj.name = ...``).

        Args:
            obj: The object renamed.
            old_name: Its former name.
            new_name: Its new name.
        """
        coll = self._collections.get(obj._type.lower())
        if coll is not None:
            coll._by_name = None
        if obj._info is not None and old_name:
            _references.rename(self, obj._info.name_references, old_name, new_name)

    def notify_reference_change(
        self, obj: IDFObject, field_name: str, old_value: Any, new_value: Any
    ) -> None:
        """Nothing to do: references are found by looking, not kept in a graph.

        The method and all its parameters exist only for idfkit's signature.

        Args:
            obj: Kept for idfkit's signature: the object changed.
            field_name: Kept for idfkit's signature: the field changed.
            old_value: Kept for idfkit's signature: the field's former value.
            new_value: Kept for idfkit's signature: the field's new value.
        """

    def get_referencing(self, name: str) -> set[IDFObject]:
        """The objects with a reference field that names ``name`` (case-insensitive).

        Args:
            name: The name referred to.
        """
        return _references.referencing(self, name)

    def get_references(self, obj: IDFObject) -> set[str]:
        """The names (upper case) that ``obj``'s reference fields point to.

        Args:
            obj: An object of this document.
        """
        return _references.names_in(self, obj)

    def get_used_schedules(self) -> set[str]:
        """The names (upper case) of the schedules that some object refers to."""
        return _references.used_schedules(self)

    def update(self, updates: dict[str, Any]) -> None:
        """Set fields by `"ObjectType.ObjectName.field_name"` keys, as eppy's `updateidf` does.

        ```python
        doc.update({"Material.Wall Insulation.thickness": 0.1})
        ```

        Names that hold a dot cannot be reached this way; set such fields on
        the object itself.

        Args:
            updates: The new values, by `"Type.Name.field"` key.

        Raises:
            KeyError: A key that is not of that form, or no such object.
            InvalidFieldError: The object type has no such field.
        """
        for key, value in updates.items():
            parts = key.split(".") if isinstance(key, str) else []
            if len(parts) != 3 or not all(parts):
                raise KeyError(f"Expected 'ObjectType.ObjectName.field_name', got {key!r}")
            obj_type, name, field_name = parts
            obj = self.getobject(obj_type, name)
            if obj is None:
                raise KeyError(f"No {obj_type} named {name!r}")
            setattr(obj, field_name, value)

    def find_by_reference(self, obj: IDFObject, field_name: str, value: str) -> IDFObject | None:
        """The object whose name answers a reference field of ``obj``.

        Args:
            obj: The object that refers.
            field_name: Its reference field.
            value: The name in that field.

        Returns:
            The object referred to, or None when no object of the kinds the
            field may name has that name.
        """
        return _references.target(self, obj, field_name, value)

    # -- conveniences idfkit has ----------------------------------------------
    def getsurfaces(self, surface_type: str | None = None) -> list[IDFObject]:
        """Building surfaces, optionally of one type (``"wall"``, ``"roof"``, ...).

        Args:
            surface_type: A ``BuildingSurface:Detailed`` surface type (any
                case); None for every surface.
        """
        found = list(self._collections.get("buildingsurface:detailed", ()))
        if surface_type is None:
            return found
        return [s for s in found if str(s.surface_type).lower() == surface_type.lower()]

    def get_zone_surfaces(self, zone_name: str) -> list[IDFObject]:
        """The building surfaces of one zone.

        Args:
            zone_name: The zone's name (any case).
        """
        wanted = zone_name.upper()
        return [s for s in self.getsurfaces() if str(s.zone_name).upper() == wanted]

    def getiddgroupdict(self) -> dict[str, list[str]]:
        """The schema's groups, each with its object types."""
        schema = self.bind_schema()
        groups: dict[str, list[str]] = {}
        for name in schema.object_types:
            info = schema[name]
            groups.setdefault(info.group, []).append(name)
        return groups

    @property
    def schedules_dict(self) -> dict[str, IDFObject]:
        """Every ``Schedule:*`` object by upper-case name."""
        return {
            o.name.upper(): o
            for c in self._collections.values()
            if c.obj_type.lower().startswith("schedule:")
            for o in c._objects
        }

    def get_schedule(self, name: str) -> IDFObject | None:
        """The schedule with this name, or None.

        Args:
            name: The schedule's name (any case).
        """
        return self.schedules_dict.get(name.upper())

    # -- copy and write -------------------------------------------------------
    def copy(self) -> IDFDocument:
        """A deep copy: editing it never changes this document."""
        twin = IDFDocument(
            self._version,
            self._schema or self._schema_path,
            self.filepath,
            strict=self._strict,
            format=self.format,
        )
        twin._bound = self._bound
        for obj in self.objects:
            twin._append(obj.copy())
        return twin

    @property
    def suffix(self) -> str:
        """The file suffix of this document's own format."""
        return ".idf" if self.format == "idf" else ".epJSON"

    def to_idf(self) -> str:
        """IDF text, objects in the order read or added, comments kept."""
        from idfkit.writers import write_idf

        return write_idf(self, ordering="original")

    def to_epjson(self) -> str:
        """epJSON text."""
        from idfkit.writers import write_epjson

        return write_epjson(self)

    def text(self) -> str:
        """The document in its own format."""
        return self.to_idf() if self.format == "idf" else self.to_epjson()

    def write(self, path: str | Path) -> Path:
        """Write the document to a local file in its own format.

        Args:
            path: The file to write (UTF-8).

        Returns:
            The path written.
        """
        target = Path(path)
        target.write_text(self.text(), encoding="utf-8")
        return target

    def save(
        self,
        filepath: str | Path | None = None,
        encoding: str = "latin-1",
        output_type: str = "standard",
    ) -> None:
        """Write to ``filepath`` (or where it was read from); the suffix picks IDF or epJSON.

        Args:
            filepath: The file to write and remember as this document's file;
                None writes to ``filepath`` as it is.
            encoding: An IDF file's text encoding (epJSON is always UTF-8).
            output_type: ``"standard"``, ``"nocomment"`` or ``"compressed"``
                for an IDF file, as for `write_idf`; an epJSON file ignores it.

        Raises:
            ValueError: No path given and none known.
        """
        target = Path(filepath) if filepath is not None else self.filepath
        if target is None:
            raise ValueError("no file path: give one, or use saveas(path)")
        self.savecopy(target, encoding, output_type)
        self.filepath = target

    def saveas(
        self, filepath: str | Path, encoding: str = "latin-1", output_type: str = "standard"
    ) -> None:
        """Write to ``filepath`` and remember it as this document's file.

        Args:
            filepath: The file to write; ``.epJSON`` writes epJSON, any other
                suffix IDF.
            encoding: As for `save`.
            output_type: As for `save`.
        """
        self.save(filepath, encoding, output_type)

    def savecopy(
        self, filepath: str | Path, encoding: str = "latin-1", output_type: str = "standard"
    ) -> None:
        """Write to ``filepath`` without changing this document's file.

        Args:
            filepath: The file to write; ``.epJSON`` writes epJSON, any other
                suffix IDF.
            encoding: As for `save`.
            output_type: As for `save`.
        """
        from idfkit.writers import save_epjson, save_idf

        if Path(filepath).suffix.lower() == ".epjson":
            save_epjson(self, filepath)
        else:
            save_idf(self, filepath, encoding, output_type)

    def __reduce__(self) -> tuple[Any, ...]:
        # Objects travel as plain values; the schema is found again on the other side.
        schema_path = self._schema.path if self._schema is not None else self._schema_path
        objects = [(o._type, o._values, o._comments, o._leading) for o in self.objects]
        state = (self._version, schema_path, self.filepath, self._strict, self.format)
        return (_rebuild, (state, objects, self._bound, self.diagnostics))

    @property
    def source(self) -> Path | None:
        """Where the model was read from (same as `filepath`)."""
        return self.filepath

    def __repr__(self) -> str:
        where = f" from {self.filepath}" if self.filepath else ""
        return f"<IDFDocument {self.format} with {len(self)} objects{where}>"


def _rebuild(
    state: tuple[Any, ...],
    objects: list[tuple[Any, ...]],
    bound: bool,
    diagnostics: list[ParseDiagnostic],
) -> IDFDocument:
    version, schema_path, filepath, strict, fmt = state
    doc = IDFDocument(version, schema_path, filepath, strict=strict, format=fmt)
    doc.diagnostics = list(diagnostics)
    for obj_type, values, comments, leading in objects:
        doc._append(IDFObject._make(obj_type, values, comments, leading, None))
    if bound:
        doc.bind_schema()
    return doc


class _ObjectsView:
    """Upper-case type lookup, as eppy's ``idfobjects`` offers it."""

    def __init__(self, doc: IDFDocument) -> None:
        self._doc = doc

    def __getitem__(self, obj_type: str) -> IDFCollection:
        return self._doc[obj_type]

    def __contains__(self, obj_type: object) -> bool:
        return obj_type in self._doc

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc.keys())


def _raise_or_keep(doc: IDFDocument, problems: list[ParseDiagnostic], strict: bool) -> None:
    """Keep problems in ``doc.diagnostics``; in strict mode raise them all."""
    doc.diagnostics.extend(problems)
    if doc.diagnostics and strict:
        found = sorted(doc.diagnostics, key=lambda d: d.line or 0)
        raise IDFParseError(f"Failed to parse: {found[0]}", found)


def __getattr__(name: str) -> Any:
    # The loaders live in `idfkit._loading`, which imports this module; they are
    # offered here on first use, so neither module imports the other at load time.
    if name in {"load_epjson", "load_idf", "new_document"}:
        from idfkit import _loading

        return getattr(_loading, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
