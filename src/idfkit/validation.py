"""Checking field values against the schema: type, range and choices."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from idfkit.exceptions import RangeError, ValidationFailedError
from idfkit.schema import ObjectType

if TYPE_CHECKING:
    from idfkit.document import IDFDocument
    from idfkit.objects import IDFObject

__all__ = [
    "ValidationError",
    "ValidationResult",
    "field_problem",
    "validate_document",
    "validate_object",
]


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

    Args:
        info: The object type.
        key: The field's key, e.g. ``x_origin``.
        value: The value to check.
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
    """Raise `RangeError` (one problem) or `ValidationFailedError` (several).

    Args:
        obj: The object whose field values are checked against the schema.
    """
    problems = object_problems(obj)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ValidationFailedError(problems)


@dataclass(frozen=True)
class ValidationError:
    """One problem `validate_document` found: where it is and what is wrong.

    ``severity`` is ``"error"``, ``"warning"`` or ``"info"``; ``code`` names
    the kind of check (``"E006"`` a value out of range or of the wrong type).
    """

    severity: str
    obj_type: str
    obj_name: str
    field: str | None
    message: str
    code: str

    @property
    def field_name(self) -> str | None:
        """The field (as `RangeError.field_name` names it)."""
        return self.field

    def __str__(self) -> str:
        where = f"{self.obj_type}:{self.obj_name!r}" + (f".{self.field}" if self.field else "")
        return f"[{self.severity.upper()}] {where}: {self.message}"


@dataclass(frozen=True)
class ValidationResult:
    """What `validate_document` found, by severity.

    Iterating it gives the errors (as the list this function used to return).
    """

    errors: list[ValidationError] = field(default_factory=list)
    warnings: list[ValidationError] = field(default_factory=list)
    info: list[ValidationError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        """True when there is no error (warnings and notes allowed)."""
        return not self.errors

    @property
    def total_issues(self) -> int:
        """Errors, warnings and notes together."""
        return len(self.errors) + len(self.warnings) + len(self.info)

    def __iter__(self) -> Iterator[ValidationError]:
        return iter(self.errors)

    def __str__(self) -> str:
        lines = [f"Validation: {len(self.errors)} errors, {len(self.warnings)} warnings"]
        lines += [f"  {problem}" for problem in (*self.errors, *self.warnings, *self.info)]
        return "\n".join(lines)


def validate_document(
    doc: IDFDocument,
    schema: Any = None,
    check_references: bool = True,
    check_required: bool = True,
    check_types: bool = True,
    check_ranges: bool = True,
    check_singletons: bool = True,
    object_types: Iterable[str] | None = None,
) -> ValidationResult:
    """Check every field value of the document against the schema.

    This package checks each value's type, range and choices (code
    ``"E006"``); the other flags are accepted, as idfkit takes them, and
    check nothing more here.

    Args:
        doc: The document to check.
        schema: Kept for idfkit's signature (the document's own schema is used).
        check_references: Kept for idfkit's signature.
        check_required: Kept for idfkit's signature.
        check_types: Check value types and choices.
        check_ranges: Check numeric ranges.
        check_singletons: Kept for idfkit's signature.
        object_types: Only these object types (case-insensitive); None for all.

    Returns:
        The problems found, by severity.
    """
    if not (check_types or check_ranges):
        return ValidationResult()
    doc.bind_schema()
    wanted = None if object_types is None else {t.lower() for t in object_types}
    errors = [
        ValidationError("error", p.obj_type, p.obj_name, p.field_name, p.message, "E006")
        for obj in doc.all_objects
        if wanted is None or obj.obj_type.lower() in wanted
        for p in object_problems(obj)
    ]
    return ValidationResult(errors=errors)
