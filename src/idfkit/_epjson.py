"""epJSON to positional fields and back, through the schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idfkit import _suggest
from idfkit.exceptions import ParseDiagnostic
from idfkit.objects import IDFObject, to_number
from idfkit.schema import EpJSONSchema, ObjectType

if TYPE_CHECKING:
    from idfkit.document import IDFDocument

__all__ = ["epjson_dict", "objects_from_epjson"]


def objects_from_epjson(
    data: dict[str, Any], schema: EpJSONSchema | None, filepath: str | None
) -> tuple[list[IDFObject], list[ParseDiagnostic]]:
    """Objects from a parsed epJSON document; problems are returned, not raised.

    Without a schema, an object keeps its properties in the order given, each
    named by its key (``obj.fields`` then holds the name and the values).
    """
    out: list[IDFObject] = []
    problems: list[ParseDiagnostic] = []
    for obj_type, instances in data.items():
        if not isinstance(instances, dict):
            problems.append(
                ParseDiagnostic(
                    f"{obj_type}: expected an object of named instances", filepath, obj_type
                )
            )
            continue
        info = schema.get(obj_type) if schema is not None else None
        if schema is not None and info is None:
            hint = _suggest.closest(obj_type, schema.object_types)
            extra = f"; did you mean {' or '.join(map(repr, hint))}?" if hint else ""
            problems.append(
                ParseDiagnostic(
                    f"Unknown object type {obj_type!r}{extra}",
                    filepath,
                    obj_type,
                    code="UnknownObjectType",
                )
            )
            continue
        for name, props in instances.items():
            if not isinstance(props, dict):
                problems.append(
                    ParseDiagnostic(
                        f"{obj_type} {name!r}: expected an object of properties",
                        filepath,
                        obj_type,
                        name,
                    )
                )
                continue
            if info is None:
                values = [name, *props.values()]
                out.append(IDFObject._make(obj_type, values, ["name", *props], None, None))
                continue
            values, unknown = _positional(info, name, props)
            for key in unknown:
                hint = _suggest.closest(key, info.field_names())
                extra = f"; did you mean {' or '.join(map(repr, hint))}?" if hint else ""
                problems.append(
                    ParseDiagnostic(
                        f"{info.name} {name!r}: unknown field {key!r}{extra}",
                        filepath,
                        info.name,
                        name,
                        code="UnknownField",
                    )
                )
            out.append(IDFObject._make(info.name, values, None, None, info))
    return out, problems


def _positional(info: ObjectType, name: str, props: dict[str, Any]) -> tuple[list[Any], list[str]]:
    known = set(info.fields)
    unknown = [k for k in props if k not in known and k != info.extensible_wrapper and k != "name"]
    values: list[Any] = [name] if info.has_name else []
    for key in info.fields[1 if info.has_name else 0 :]:
        value = props.get(key)
        values.append("" if value is None else value)
    for group in props.get(info.extensible_wrapper or "") or ():
        values.extend("" if group.get(k) is None else group.get(k) for k in info.extensible)
        unknown += [k for k in group if k not in info.extensible]
    while values and values[-1] == "" and len(values) > (1 if info.has_name else 0):
        values.pop()
    return values, unknown


def _json_value(info: ObjectType, key: str, value: Any) -> Any:
    """A field value as epJSON wants it: numbers as numbers, choices as spelt in the schema."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        spec = info.props.get(key, {})
        if key in info.numeric:
            number = to_number(value, key in info.integer)
            if not isinstance(number, str):
                return number
        choices = [*spec.get("enum", ())]
        for option in spec.get("anyOf", ()):
            choices += option.get("enum", ())
        for choice in choices:
            if isinstance(choice, str) and choice.lower() == value.lower():
                return choice
        return value
    if isinstance(value, float) and key in info.integer and value.is_integer():
        return int(value)
    return value


def epjson_dict(doc: IDFDocument) -> dict[str, dict[str, dict[str, Any]]]:
    """The document as an epJSON mapping (needs the schema unless it came from epJSON)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for obj in doc.all_objects:
        info = obj.schema_dict
        bucket = out.setdefault(obj.obj_type, {})
        if info is None:  # kept from an epJSON file read without a schema
            keys = obj._comments or []
            bucket[str(obj.fields[0])] = {
                str(k): v for k, v in zip(keys[1:], obj.fields[1:], strict=False)
            }
            continue
        values = obj.fields
        props: dict[str, Any] = {}
        first = 1 if info.has_name else 0
        for position in range(first, min(len(info.fields), len(values))):
            key = info.fields[position]
            value = _json_value(info, key, values[position])
            if value is not None:
                props[key] = value
        size = len(info.extensible)
        if size and len(values) > len(info.fields):
            groups = []
            for start in range(len(info.fields), len(values), size):
                group = {}
                for k, key in enumerate(info.extensible):
                    if start + k < len(values):
                        value = _json_value(info, key, values[start + k])
                        if value is not None:
                            group[key] = value
                if group:
                    groups.append(group)
            props[info.extensible_wrapper or "extensions"] = groups
        name = obj.name if info.has_name and obj.name else f"{obj.obj_type} {len(bucket) + 1}"
        bucket[name] = props
    return out
