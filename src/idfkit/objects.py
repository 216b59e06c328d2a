"""Objects and the collections a document keeps them in.

An object keeps its fields by position, as IDF writes them (``obj.fields``,
the name first for a named type). The schema maps a field's name to its
position, so ``zone.x_origin``, ``zone["X Origin"]`` and ``zone.fields[2]``
are one value. Numbers read back as numbers; a value read once is kept in
its converted form.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from idfkit import _suggest
from idfkit.exceptions import (
    InvalidFieldError,
    SchemaNotFoundError,
    UnknownObjectTypeError,
)
from idfkit.schema import ObjectType

if TYPE_CHECKING:
    from idfkit.document import IDFDocument

__all__ = ["IDFCollection", "IDFObject"]

_FORBIDDEN = re.compile(r"[,;!\n\r]")
_set = object.__setattr__


def check_value(obj_type: str, field: str, value: Any) -> Any:
    """Refuse text that IDF cannot carry in a field (a separator or a comment mark)."""
    if value.__class__ is str and _FORBIDDEN.search(value):
        raise ValueError(f"{obj_type} field {field} holds a character IDF cannot carry: {value!r}")
    return value


def to_number(text: str, integer: bool) -> Any:
    """A field's text as a number when it is one (else the text; None when empty)."""
    if not text:
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _reader(position: int, number: bool, integer: bool) -> property:
    """A property that reads one fixed field (numbers converted once, then kept)."""
    if not number:

        def read_text(self: IDFObject) -> Any:
            values = self._values
            return values[position] if position < len(values) else None

        return property(read_text)

    def read_number(self: IDFObject) -> Any:
        values = self._values
        if position >= len(values):
            return None
        value = values[position]
        if value.__class__ is str:
            value = values[position] = to_number(value, integer)
        return value

    return property(read_number)


def bind(obj: IDFObject, info: ObjectType) -> None:
    """Give ``obj`` its type's description, and the class that reads its fields fast."""
    _set(obj, "_type", info.name)
    _set(obj, "_info", info)
    obj.__class__ = class_for(info)


def class_for(info: ObjectType) -> type[IDFObject]:
    """The `IDFObject` subclass of one object type: a property per fixed field.

    Reading ``zone.x_origin`` then costs one property call rather than a failed
    attribute lookup and ``__getattr__``. Made on first use and kept on the type.
    """
    made: type[IDFObject] | None = info.__dict__.get("_class")
    if made is None:
        namespace: dict[str, Any] = {"__slots__": (), "__reduce__": IDFObject.__reduce__}
        taken = set(dir(IDFObject))
        for position, key in enumerate(info.fields):
            if key not in taken and key.isidentifier():
                number = key in info.numeric
                namespace[key] = _reader(position, number, key in info.integer)
        made = type(IDFObject.__name__, (IDFObject,), namespace)
        made.__qualname__ = IDFObject.__qualname__
        info.__dict__["_class"] = made
    return made


def _restore(
    obj_type: str,
    values: list[Any],
    comments: list[str | None] | None,
    leading: list[str] | None,
    bound: bool,
) -> IDFObject:
    obj = IDFObject._make(obj_type, values, comments, leading, None)
    if bound:
        from idfkit.schema import get_schema

        info = get_schema().get(obj_type)
        if info is not None:
            bind(obj, info)
    return obj


class IDFObject:
    """One EnergyPlus object: its type and its field values.

    Fields read and write as attributes in snake_case (``zone.x_origin``), by
    name (``zone["X Origin"]``) or by position (``zone.fields[2]``).

    Objects are usually made by `IDFDocument.add`; one made here belongs to
    ``document`` without being in it (`IDFDocument.addidfobject` adds it).

    Args:
        obj_type: The object type, e.g. ``"Zone"``.
        name: The name (for a type that has one).
        data: Field values by name.
        schema: The type's `ObjectType` from the schema; None leaves the
            object without one until it is added to a document.
        document: The document the object belongs to.
        **_ignored: idfkit's other constructor keywords (``field_order``,
            ``ref_fields``, ``source_text``, ``extensibles``, ``wrapper_key``,
            ``ext_inner_names``), accepted only for its signature and ignored:
            the schema supplies what they describe.
    """

    __slots__ = ("_comments", "_doc", "_info", "_leading", "_seq", "_type", "_values")
    _comments: list[str | None] | None
    _doc: IDFDocument | None
    _info: ObjectType | None
    _leading: list[str] | None
    _seq: int
    _type: str
    _values: list[Any]

    def __init__(
        self,
        obj_type: str,
        name: str = "",
        data: dict[str, Any] | None = None,
        schema: ObjectType | None = None,
        document: IDFDocument | None = None,
        **_ignored: Any,
    ) -> None:
        _set(self, "_type", obj_type)
        _set(self, "_values", [name] if (schema is None or schema.has_name) else [])
        _set(self, "_comments", None)
        _set(self, "_leading", None)
        _set(self, "_doc", document)
        _set(self, "_info", None)
        _set(self, "_seq", 0)
        if schema is not None:
            bind(self, schema)
        for key, value in (data or {}).items():
            setattr(self, key, value)

    @classmethod
    def _make(
        cls,
        obj_type: str,
        values: list[Any],
        comments: list[str | None] | None,
        leading: list[str] | None,
        info: ObjectType | None,
    ) -> IDFObject:
        obj = cls.__new__(cls)
        _set(obj, "_type", obj_type)
        _set(obj, "_values", values)
        _set(obj, "_comments", comments)
        _set(obj, "_leading", leading)
        _set(obj, "_doc", None)
        _set(obj, "_info", None)
        _set(obj, "_seq", 0)
        if info is not None:
            bind(obj, info)
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        # The schema is not carried along; it is found again where it is unpickled.
        state = (self._type, self._values, self._comments, self._leading, self._info is not None)
        return (_restore, state)

    # -- identity ---------------------------------------------------------
    @property
    def obj_type(self) -> str:
        """The object type, as the schema spells it (``"Zone"``)."""
        return self._type

    @property
    def key(self) -> str:
        """The object type (eppy's name for it)."""
        return self._type

    @property
    def fields(self) -> list[Any]:
        """The field values by position (the name first for a named type); editable."""
        return self._values

    @property
    def name(self) -> str:
        """The object's name ("" for a type without one, such as ``Output:SQLite``)."""
        info = self._info
        if info is not None and not info.has_name:
            return ""
        return str(self._values[0]) if self._values else ""

    @name.setter
    def name(self, new_name: str) -> None:
        info = self._info_or_raise()
        if not info.has_name:
            raise InvalidFieldError(self._type, "name", info.field_names())
        self._rename(str(new_name))

    Name = name

    @property
    def theidf(self) -> IDFDocument | None:
        """The document that holds this object, if any."""
        return self._doc

    @property
    def schema_dict(self) -> ObjectType | None:
        """The schema's description of this object type (None without a schema)."""
        return self._info

    @property
    def source_text(self) -> str | None:
        """Comments written before this object in its source file, if any."""
        return "\n".join(self._leading) if self._leading else None

    def _rename(self, new_name: str) -> None:
        check_value(self._type, "name", new_name)
        old = self.name
        if self._doc is not None:
            self._doc.notify_name_change(self, old, new_name)
        if self._values:
            self._values[0] = new_name
        else:
            self._values.append(new_name)

    # -- schema -----------------------------------------------------------
    def _info_or_raise(self) -> ObjectType:
        info = self._info
        if info is not None:
            return info
        if self._doc is None:
            raise SchemaNotFoundError(None, ["this object belongs to no document"])
        self._doc.bind_schema()
        info = self._info
        if info is None:
            schema = self._doc.schema
            assert schema is not None
            raise UnknownObjectTypeError(
                self._type, schema.version, _suggest.closest(self._type, schema.object_types)
            )
        return info

    def _position(self, name: str) -> int:
        info = self._info_or_raise()
        position = info.index.get(name)
        if position is None:
            position = info.position_of(name)
            if position is None:
                raise InvalidFieldError(self._type, name, info.field_names())
        return position

    def _read(self, position: int) -> Any:
        values = self._values
        if position >= len(values):
            return None
        value = values[position]
        if value.__class__ is str:
            info = self._info
            assert info is not None
            key = info.key_at(position)
            if key in info.numeric:
                converted = to_number(value, key in info.integer)
                if converted is not value:
                    values[position] = converted
                return converted
        return value

    def _write(self, position: int, value: Any) -> None:
        info = self._info
        assert info is not None
        if position == 0 and info.has_name:
            self._rename("" if value is None else str(value))
            return
        check_value(self._type, info.key_at(position), value)
        values = self._values
        missing = position - len(values)
        if missing >= 0:
            values.extend([""] * missing)
            values.append(value)
        else:
            values[position] = value

    # -- field access -----------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name[0] == "_":
            raise AttributeError(name)
        info = self._info
        if info is None:
            info = self._info_or_raise()
        position = info.index.get(name)
        if position is None:
            if name == info.extensible_wrapper:
                return self.extensible_items()
            position = self._position(name)
        return self._read(position)

    def __setattr__(self, name: str, value: Any) -> None:
        if name[0] == "_" or name in ("name", "Name"):
            _set(self, name, value)
            return
        info = self._info
        if info is None:
            info = self._info_or_raise()
        position = info.index.get(name)
        if position is None:
            if name == info.extensible_wrapper:
                self._set_extensibles(value)
                return
            position = self._position(name)
        self._write(position, value)

    def __getitem__(self, key: int | str) -> Any:
        """A field by position (``obj[2]``) or by name (``obj["X Origin"]``, ``"x_origin"``)."""
        if isinstance(key, int):
            if self._info is None:
                return self._values[key]
            return self._read(key if key >= 0 else len(self._values) + key)
        if key in ("name", "Name") and (self._info is None or self._info.has_name):
            return self.name
        return self._read(self._position(key))

    def __setitem__(self, key: int | str, value: Any) -> None:
        if isinstance(key, int):
            if self._info is None:
                self._values[key] = value
            else:
                self._write(key if key >= 0 else len(self._values) + key, value)
            return
        self._write(self._position(key), value)

    def get(self, key: str, default: Any = None) -> Any:
        """A field's value by name, or ``default`` when it is unset or unknown.

        Args:
            key: The field's name, in any spelling ``obj[key]`` takes.
            default: The value for an empty or unknown field.
        """
        try:
            value = self[key]
        except (InvalidFieldError, IndexError):
            return default
        return default if value is None or value == "" else value

    @property
    def fieldnames(self) -> list[str]:
        """``Name`` (for a named type), then the field keys in IDF order."""
        info = self._info_or_raise()
        names = list(info.fields)
        if info.has_name:
            names[0] = "Name"
        return names

    @property
    def fieldvalues(self) -> list[Any]:
        """The values of `fieldnames`, None where unset."""
        info = self._info_or_raise()
        return [self._read(i) for i in range(len(info.fields))]

    @property
    def data(self) -> dict[str, Any]:
        """The set fields (not the name) as an epJSON-style dict; a copy."""
        info = self._info_or_raise()
        out: dict[str, Any] = {}
        start = 1 if info.has_name else 0
        for i in range(start, min(len(info.fields), len(self._values))):
            value = self._read(i)
            if value is not None:
                out[info.fields[i]] = value
        if info.extensible_wrapper and len(self._values) > len(info.fields):
            out[info.extensible_wrapper] = self.extensible_items()
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., **data}`` for a named type, else `data`."""
        info = self._info_or_raise()
        return {"name": self.name, **self.data} if info.has_name else self.data

    def extensible_items(self, wrapper_key: str | None = None) -> list[dict[str, Any]]:
        """The extensible groups (for example a surface's vertices) as dicts; a copy.

        Args:
            wrapper_key: Kept for idfkit's signature: a type has one list of
                extensible groups, and that one is returned.
        """
        info = self._info_or_raise()
        size = len(info.extensible)
        groups: list[dict[str, Any]] = []
        if not size:
            return groups
        for start in range(len(info.fields), len(self._values), size):
            group = {
                key: self._read(start + k)
                for k, key in enumerate(info.extensible)
                if start + k < len(self._values)
            }
            groups.append({k: v for k, v in group.items() if v is not None and v != ""})
        return groups

    def _set_extensibles(self, groups: list[dict[str, Any]]) -> None:
        info = self._info_or_raise()
        del self._values[len(info.fields) :]
        self._values.extend([""] * (len(info.fields) - len(self._values)))
        for group in groups:
            unknown = set(group) - set(info.extensible)
            if unknown:
                raise InvalidFieldError(self._type, sorted(unknown)[0], list(info.extensible))
            self._values.extend(group.get(key, "") for key in info.extensible)

    def getfieldidd(self, field_name: str) -> dict[str, Any] | None:
        """The schema's description of one field (type, range, units, ...).

        Args:
            field_name: The field's name.
        """
        info = self._info_or_raise()
        return info.props.get(info.key_at(self._position(field_name)))

    get_field_idd = getfieldidd

    def getfieldidd_item(self, field_name: str, item: str) -> Any:
        """One item of `getfieldidd` (for example ``"units"``), or None.

        Args:
            field_name: The field's name.
            item: The key in the field's description.
        """
        return (self.getfieldidd(field_name) or {}).get(item)

    def getrange(self, field_name: str) -> dict[str, Any]:
        """The numeric bounds the schema sets on a field.

        Args:
            field_name: The field's name.

        Returns:
            The bounds it has among ``minimum``, ``maximum``,
            ``exclusiveMinimum`` and ``exclusiveMaximum``.
        """
        spec = self.getfieldidd(field_name) or {}
        bounds = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        return {k: spec[k] for k in bounds if k in spec}

    def checkrange(self, field_name: str) -> bool:
        """Whether the field's value is of the right type and within its range.

        Args:
            field_name: The field's name.
        """
        from idfkit.validation import field_problem

        info = self._info_or_raise()
        key = info.key_at(self._position(field_name))
        return field_problem(info, key, self[field_name]) is None

    def get_referenced_object(self, field_name: str) -> IDFObject | None:
        """The object a reference field names, or None.

        Args:
            field_name: The reference field's name.
        """
        value = self[field_name]
        if self._doc is None or not value:
            return None
        return self._doc.find_by_reference(self, field_name, str(value))

    def get_referring_objects(
        self, iddgroups: list[str] | None = None, fields: list[str] | None = None
    ) -> list[IDFObject]:
        """The objects whose reference fields name this one.

        Args:
            iddgroups: Kept for idfkit's signature; every group is searched.
            fields: Kept for idfkit's signature; every reference field is searched.
        """
        if self._doc is None or not self.name:
            return []
        return [o for o in self._doc.get_referencing(self.name) if o is not self]

    getreferingobjs = get_referring_objects

    # -- copy and display ---------------------------------------------------
    def copy(self) -> IDFObject:
        """A copy that belongs to no document."""
        return IDFObject._make(
            self._type, list(self._values), self._comments, self._leading, self._info
        )

    def __repr__(self) -> str:
        return f"{self._type}({self.name!r})"

    def __str__(self) -> str:
        return f"{self._type}: {self.name}"

    def __dir__(self) -> list[str]:
        extra = self._info.field_names() if self._info is not None else []
        return sorted({*super().__dir__(), *extra})


# Collections hold objects; they live in their own module and are re-exported here.
from idfkit.collection import IDFCollection  # noqa: E402
