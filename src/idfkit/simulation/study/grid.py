"""Studies from a parameter grid: every combination of the values, one job each."""

from __future__ import annotations

import importlib
import itertools
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from idfkit.document import IDFDocument
from idfkit.exceptions import RangeError
from idfkit.simulation._arguments import argument_error
from idfkit.simulation._model import load_model
from idfkit.simulation._staging import check_model_path, check_weather_path
from idfkit.simulation.batch import SimulationJob
from idfkit.simulation.exceptions import StudyError

__all__ = ["Edit", "grid_jobs", "parse_grid_option", "resolve_edit", "set_field"]

#: Edits a copy of the base model for one combination of parameter values.
Edit = Callable[[IDFDocument, Mapping[str, Any]], None]


def grid_jobs(
    model: IDFDocument | str | PurePath,
    weather: str | PurePath,
    grid: Mapping[str, Sequence[Any]],
    *,
    edit: Edit | None = None,
    label: str = "job-{index:05d}",
    **options: Any,
) -> list[SimulationJob]:
    """One job per combination of the grid's values (the full factorial), in order.

    Each parameter sets one field by name: ``"Material:Insulation:thickness"``
    is the ``thickness`` field of the ``Material`` named ``Insulation``
    (object types may contain colons: the longest type the model holds wins).
    Setting fields by name needs the model layer's named fields; ``edit``, a
    callable ``edit(model_copy, parameters)``, makes the change itself instead
    and lets the parameters have any names (``{"insulation_m": [...]}``).

    Args:
        model: The base model (never modified).
        weather: The weather file of every job.
        grid: Each parameter's values; JSON values, since they are kept in
            the study index.
        edit: Makes one variant from a copy of the model; when None, every
            parameter names a field as above.
        label: Each job's label and folder: a format string given ``index``.
        **options: Run options for every job (``annual``, ``design_day``, ...).

    Returns:
        The jobs, each with its ``parameters``.

    Raises:
        StudyError: The grid is empty, a parameter has no values, or a field
            cannot be set by name.
    """
    check_weather_path(weather)
    base = model.copy() if isinstance(model, IDFDocument) else load_model(check_model_path(model))
    if not grid:
        raise StudyError("the grid names no parameter")
    for name, values in grid.items():
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
            raise StudyError(f"parameter {name!r} needs a list of values, not {values!r}")
    names = list(grid)
    jobs = []
    for index, combination in enumerate(itertools.product(*(grid[n] for n in names))):
        parameters = dict(zip(names, combination, strict=True))
        variant = base.copy()
        if edit is not None:
            edit(variant, parameters)
        else:
            for name, value in parameters.items():
                set_field(variant, name, value)
        try:
            text = label.format(index=index)
        except (KeyError, IndexError, ValueError) as exc:
            raise StudyError(f"label {label!r} cannot be formatted: {exc}") from None
        jobs.append(
            SimulationJob(
                variant, weather, label=text, output_dir=text, parameters=parameters, **options
            )
        )
    return jobs


def set_field(doc: IDFDocument, path: str, value: Any) -> None:
    """Set ``"ObjectType:Name:field"`` in ``doc`` by the field's name, checked against the schema.

    Args:
        doc: The model to edit.
        path: The object type, the object's name and the field, joined by ``:``.
        value: The field's new value.

    Raises:
        StudyError: No such object or field (with the closest field names),
            or a value of the wrong type or out of the field's range.
    """
    head, _, field = path.rpartition(":")
    parts = head.split(":")
    for cut in range(len(parts) - 1, 0, -1):
        obj_type, name = ":".join(parts[:cut]), ":".join(parts[cut:])
        if obj_type in doc:
            break
    else:
        raise argument_error(
            StudyError,
            f"parameter {path!r} does not name a field as ObjectType:Name:field of this model",
            parameter="edit",
            advice=_EDIT_ADVICE,
        )
    matches = [o for o in doc[obj_type] if o.name.lower() == name.lower()]
    if not matches:
        names = ", ".join(o.name for o in doc[obj_type])
        raise StudyError(f"parameter {path!r}: no {obj_type} named {name!r} (there are: {names})")
    obj = matches[0]
    try:
        getattr(obj, field)
    except AttributeError as exc:  # InvalidFieldError, with the closest names, is one
        raise argument_error(
            StudyError,
            f"parameter {path!r}: {str(exc).splitlines()[0]}",
            parameter="edit",
            advice=_EDIT_ADVICE,
        ) from None
    spec = obj.getfieldidd(field) or {}
    if not _fits(value, spec):  # checked here: idfkit's checkrange passes any text
        raise StudyError(f"parameter {path!r}: {value!r} {_outside(obj, field, value, spec)}")
    try:
        setattr(obj, field, value)
    except (RangeError, ValueError, TypeError) as exc:  # a model layer that checks on set
        raise StudyError(f"parameter {path!r}: {exc}") from None


#: How a study sets parameters that are not fields (or not fields of the model).
_EDIT_ADVICE = "or pass edit= (a function that edits the model) to set it yourself"


#: A schema bound's name -> how a message writes it, and the test a number must pass.
_BOUNDS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "minimum": (">=", operator.ge),
    "exclusiveMinimum": (">", operator.gt),
    "maximum": ("<=", operator.le),
    "exclusiveMaximum": ("<", operator.lt),
}


def _fits(value: Any, spec: Mapping[str, Any]) -> bool:
    """Whether `value` is allowed by a field's schema entry (type, choices, bounds).

    The check the study makes itself, on the schema entry both model layers
    give (`getfieldidd`), so a study is refused alike on either.
    """
    alternatives = spec.get("anyOf")
    if alternatives:  # a number or a keyword ("Autocalculate"): bounds apply to the number
        bounds = {k: v for k, v in spec.items() if k in _BOUNDS}
        return any(_fits(value, {**bounds, **alt}) for alt in alternatives)
    kind = spec.get("type")
    if kind in ("number", "integer"):
        number = _number(value)
        if number is None or (kind == "integer" and not number.is_integer()):
            return False
        return all(test(number, spec[k]) for k, (_, test) in _BOUNDS.items() if k in spec)
    choices = spec.get("enum")
    if choices is not None:
        return str(value).lower() in {str(c).lower() for c in choices}
    return True


def _outside(obj: Any, field: str, value: Any, spec: Mapping[str, Any]) -> str:
    """Why a value that `_fits` refused does not fit: the field's bounds, its type or choices."""
    bounds = {**spec, **{k: v for alt in spec.get("anyOf", ()) for k, v in alt.items()}}
    shown = " and ".join(
        f"{words} {bounds[k]:g}" for k, (words, _) in _BOUNDS.items() if k in bounds
    )
    if shown and _number(value) is not None:
        return f"is out of range for {obj.obj_type} {field} (must be {shown})"
    numeric = [spec, *spec.get("anyOf", ())]
    if shown or any(alt.get("type") in ("number", "integer") for alt in numeric):
        need = f" (must be {shown})" if shown else ""
        return f"is not a number, as {obj.obj_type} {field} needs{need}"
    choices = [str(c) for c in bounds.get("enum", ()) if c != ""]
    if choices:
        return f"is not one of {obj.obj_type} {field}'s choices: {', '.join(choices)}"
    return f"does not fit {obj.obj_type} {field} (see its allowed values in the schema)"


def _number(value: Any) -> float | None:
    """``value`` as a float when it reads as a number (booleans do not), else None."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_grid_option(text: str) -> tuple[str, list[Any]]:
    """``"NAME=0.05,0.1"`` -> ``("NAME", [0.05, 0.1])``: values read as JSON, else as strings.

    Args:
        text: One ``--param`` option's value.

    Raises:
        ValueError: No ``=``, no name or no value.
    """
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise ValueError(f"--param {text!r} must look like NAME=VALUE1,VALUE2,...")
    return name.strip(), [_value(v.strip()) for v in values.split(",")]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def resolve_edit(reference: str) -> Edit:
    """The function named ``"package.module:function"``.

    Args:
        reference: The module's dotted name and the function's, joined by ``:``.

    Raises:
        ValueError: The reference is malformed or names nothing callable.
    """
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"--edit {reference!r} must look like package.module:function")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"--edit {reference!r}: {exc}") from None
    if not callable(target):
        raise ValueError(f"--edit {reference!r} is not a function")
    edit: Edit = target
    return edit
