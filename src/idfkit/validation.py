"""Checking field values against the schema: type, range and choices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idfkit.exceptions import RangeError, ValidationFailedError
from idfkit.schema import ObjectType

if TYPE_CHECKING:
    from idfkit.document import IDFDocument
    from idfkit.objects import IDFObject

__all__ = ["field_problem", "validate_document", "validate_object"]


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _choices(spec: dict[str, Any]) -> list[str]:
    found = list(spec.get("enum", ()))
    for option in spec.get("anyOf", ()):
        found += option.get("enum", ())
    return [str(c) for c in found]


def _is_numeric(spec: dict[str, Any]) -> bool:
    kinds = {spec.get("type")} | {o.get("type") for o in spec.get("anyOf", ())}
    return bool(kinds & {"number", "integer"})


def field_problem(info: ObjectType, key: str, value: Any) -> str | None:
    """Why ``value`` does not fit field ``key`` of ``info``, or None when it fits.

    Empty values always fit (EnergyPlus applies the default).
    """
    if value is None or value == "":
        return None
    spec = info.props.get(key)
    if spec is None:
        return None
    choices = _choices(spec)
    if isinstance(value, str) and value.lower() in {c.lower() for c in choices}:
        return None
    if _is_numeric(spec):
        number = _as_number(value)
        if number is None:
            hint = f" or one of {[c for c in choices if c]}" if any(choices) else ""
            return f"Expected number{hint}, got {type(value).__name__} {value!r}"
        if spec.get("type") == "integer" and not number.is_integer():
            return f"Expected an integer, got {value!r}"
        if "minimum" in spec and number < spec["minimum"]:
            return f"Value {value} must be at least {spec['minimum']}"
        if "exclusiveMinimum" in spec and number <= spec["exclusiveMinimum"]:
            return f"Value {value} must be greater than {spec['exclusiveMinimum']}"
        if "maximum" in spec and number > spec["maximum"]:
            return f"Value {value} must be at most {spec['maximum']}"
        if "exclusiveMaximum" in spec and number >= spec["exclusiveMaximum"]:
            return f"Value {value} must be less than {spec['exclusiveMaximum']}"
        return None
    if choices and any(choices):
        return f"{value!r} is not one of {[c for c in choices if c]}"
    return None


def object_problems(obj: IDFObject) -> list[RangeError]:
    """Every field of ``obj`` whose value does not fit the schema."""
    info = obj.schema_dict
    if info is None:
        return []
    found: list[RangeError] = []
    for position, value in enumerate(obj.fields):
        key = info.key_at(position)
        problem = field_problem(info, key, value)
        if problem is not None:
            found.append(RangeError(obj.obj_type, obj.name, key, problem))
    return found


def validate_object(obj: IDFObject) -> None:
    """Raise `RangeError` (one problem) or `ValidationFailedError` (several)."""
    problems = object_problems(obj)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ValidationFailedError(problems)


def validate_document(doc: IDFDocument) -> list[RangeError]:
    """Every out-of-range or mistyped field in the document (an empty list when none)."""
    doc.bind_schema()
    return [problem for obj in doc.all_objects for problem in object_problems(obj)]
