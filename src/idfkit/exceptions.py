"""Errors raised by idfkit.

Every error derives from `IdfKitError` (also spelt `IdfkitError`), and most
also derive from the builtin that names the same kind of failure, so ``except
FileNotFoundError`` catches a missing result on every storage backend, and
``except AttributeError`` catches a misspelt field name::

    IdfKitError
    ├── IDFParseError                (ValueError)   text that is not IDF or epJSON
    ├── SchemaNotFoundError          (LookupError)  no Energy+.schema.epJSON to name fields
    ├── UnknownObjectTypeError       (KeyError)     an object type the schema does not know
    ├── InvalidFieldError            (AttributeError) a field the object type does not have
    ├── ValidationFailedError        (ValueError)   values the schema refuses
    │   └── RangeError                              one value of the wrong type or range
    ├── DuplicateObjectError         (ValueError)   a second object with the same name
    ├── DanglingReferenceError                      a name that no object answers to
    ├── VersionMismatchError / VersionNotFoundError / UnsupportedVersionError
    ├── MigrationError, NoDesignDaysError, ExpandObjectsError, ParseError
    ├── EnergyPlusNotFoundError      (FileNotFoundError) no engine where we looked
    ├── SimulationError              (RuntimeError) the run could not be carried out
    └── ... the simulation part's own errors (storage, results, studies), drawn in
        `idfkit.simulation.exceptions` and importable from here as well

Errors keep only picklable state (their constructor arguments), so they
survive process-pool and Dask worker boundaries unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from idfkit import _suggest

if TYPE_CHECKING:
    from idfkit.simulation.exceptions import (
        BucketNotFoundError,
        ConcurrentRunError,
        IncompleteResultError,
        ResultNotFoundError,
        StorageConnectionError,
        StorageError,
        StudyError,
        UnknownVariableError,
        WeatherFileNotFoundError,
    )

__all__ = [
    "BucketNotFoundError",
    "ConcurrentRunError",
    "DanglingReferenceError",
    "DuplicateObjectError",
    "EnergyPlusNotFoundError",
    "ExpandObjectsError",
    "IDFParseError",
    "IdfKitError",
    "IdfParseError",
    "IdfkitError",
    "IncompleteResultError",
    "InvalidFieldError",
    "MigrationError",
    "NoDesignDaysError",
    "ParseDiagnostic",
    "ParseError",
    "RangeError",
    "ResultNotFoundError",
    "SchemaNotFoundError",
    "SimulationError",
    "StorageConnectionError",
    "StorageError",
    "StudyError",
    "UnknownObjectTypeError",
    "UnknownVariableError",
    "UnsupportedVersionError",
    "ValidationFailedError",
    "VersionMismatchError",
    "VersionNotFoundError",
    "WeatherFileNotFoundError",
]


def _did_you_mean(matches: Sequence[str]) -> str:
    return f"; did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""


class IdfKitError(Exception):
    """Root of every error idfkit raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # One recipe for every error here: rebuild without calling ``__init__``
        # (several take keyword-only or reshaped arguments), then restore the
        # arguments and attributes. tblib (under Dask) calls the same function.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[IdfKitError], args: tuple[Any, ...], state: dict[str, Any]) -> IdfKitError:
    # Blank instance from the builtin that lays the object out (``__base__``
    # follows it: OSError's layout is larger than RuntimeError's).
    layout: Any = cls
    while layout.__module__ != "builtins":
        layout = layout.__base__
    error: IdfKitError = layout.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


IdfkitError = IdfKitError
"""The name this package used before it took idfkit's spelling; same class."""


@dataclass(frozen=True)
class ParseDiagnostic:
    """One problem found while parsing a model, with where it was found."""

    message: str
    filepath: str | None = None
    obj_type: str | None = None
    obj_name: str | None = None
    line: int | None = None
    column: int | None = None
    code: str = "ParseError"

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.filepath, self.line, self.column) if p)
        return f"{self.message} ({where})" if where else self.message


class IDFParseError(IdfKitError, ValueError):
    """Model text that cannot be parsed; ``diagnostics`` says what and where.

    ``line`` is the 1-based line of the first problem (0 when unknown).

    Args:
        message: What is wrong.
        diagnostics: Each problem with where it was found; a line number
            alone (the older ``(message, line)`` form) is also taken.
    """

    def __init__(
        self, message: str, diagnostics: Sequence[ParseDiagnostic] | int | None = None
    ) -> None:
        super().__init__(message, diagnostics)
        self.message = message
        if isinstance(diagnostics, int):  # the older (message, line) form
            diagnostics = [ParseDiagnostic(message, line=diagnostics)] if diagnostics else []
        self.diagnostics: tuple[ParseDiagnostic, ...] = tuple(diagnostics or ())
        self.line = next((d.line for d in self.diagnostics if d.line), 0)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


IdfParseError = IDFParseError
"""The name this package used before it took idfkit's spelling; same class."""


class ParseError(IdfKitError):
    """A low-level parse failure (kept for scripts written for idfkit)."""


class SchemaNotFoundError(IdfKitError, LookupError):
    """No EnergyPlus schema (``Energy+.schema.epJSON``) could be found.

    Fields are known by position only until one is found; the message says
    how to point to one.

    Args:
        version: The EnergyPlus version a schema was wanted for, if known.
        searched_paths: The places looked at, listed in the message.
    """

    def __init__(
        self, version: tuple[int, ...] | None = None, searched_paths: list[str] | None = None
    ) -> None:
        super().__init__(version, searched_paths)
        self.version = version
        self.searched_paths = list(searched_paths or [])

    def __str__(self) -> str:
        wanted = f" for EnergyPlus {'.'.join(map(str, self.version))}" if self.version else ""
        looked = f" Looked at: {'; '.join(self.searched_paths)}." if self.searched_paths else ""
        return (
            f"no EnergyPlus schema (Energy+.schema.epJSON){wanted} was found, so fields "
            "are known by position only (obj.fields[i]).{looked} Point to one with "
            "IDFDocument(schema=path) or load_idf(..., schema=path), the IDFKIT_SCHEMA "
            "environment variable (the file), ENERGYPLUS_DIR (the install folder), or "
            "install EnergyPlus where find_energyplus() finds it "
            "(pip install idfkit[energyplus])."
        ).replace("{looked}", looked)


class UnknownObjectTypeError(IdfKitError, KeyError):
    """An object type that the EnergyPlus schema does not define.

    Args:
        obj_type: The type asked for.
        version: The schema's EnergyPlus version, if known.
        suggestions: Close type names, offered in the message.
    """

    def __init__(
        self, obj_type: str, version: tuple[int, ...] | None = None, suggestions: Sequence[str] = ()
    ) -> None:
        super().__init__(obj_type, version, tuple(suggestions))
        self.obj_type = obj_type
        self.version = version
        self.suggestions = tuple(suggestions)

    def __str__(self) -> str:
        return f"Unknown object type: {self.obj_type!r}{_did_you_mean(self.suggestions)}"


class InvalidFieldError(IdfKitError, AttributeError):
    """A field name that the object type does not have.

    Args:
        obj_type: The object type.
        field_name: The name asked for.
        available_fields: The type's field names; the closest are offered.
        version: The schema's EnergyPlus version, if known.
        extensible_fields: The type's extensible field keys, if any.
    """

    def __init__(
        self,
        obj_type: str,
        field_name: str,
        available_fields: list[str] | None = None,
        version: tuple[int, ...] | None = None,
        extensible_fields: frozenset[str] | None = None,
    ) -> None:
        super().__init__(obj_type, field_name, available_fields, version, extensible_fields)
        self.obj_type = obj_type
        self.field_name = field_name
        self.available_fields = list(available_fields or [])
        self.version = version
        self.extensible_fields = extensible_fields

    def __str__(self) -> str:
        matches = _suggest.closest(self.field_name, self.available_fields)
        text = f"Invalid field {self.field_name!r} for object type {self.obj_type!r}"
        text += _did_you_mean(matches)
        if self.available_fields:
            shown = ", ".join(self.available_fields[:12])
            more = len(self.available_fields) - 12
            text += f"\nAvailable fields: {shown}" + (f" ... and {more} more" if more > 0 else "")
        return text


class ValidationFailedError(IdfKitError, ValueError):
    """Values that the schema refuses; ``errors`` lists each one.

    Args:
        errors: The problems (usually `RangeError`s), one line each in the message.
    """

    def __init__(self, errors: Sequence[object]) -> None:
        super().__init__(list(errors))
        self.errors = list(errors)

    def __str__(self) -> str:
        lines = [f"Validation failed with {len(self.errors)} error(s):"]
        lines += [f"  {i}. {e}" for i, e in enumerate(self.errors, start=1)]
        return "\n".join(lines)


class RangeError(ValidationFailedError):
    """One field value of the wrong type, out of range, or not among its choices.

    Args:
        obj_type: The object's type.
        obj_name: The object's name.
        field_name: The field refused.
        message: Why the value does not fit.
    """

    def __init__(self, obj_type: str, obj_name: str, field_name: str, message: str) -> None:
        IdfKitError.__init__(self, obj_type, obj_name, field_name, message)
        self.obj_type = obj_type
        self.obj_name = obj_name
        self.field_name = field_name
        self.message = message

    @property
    def errors(self) -> list[object]:  # type: ignore[override]
        """This error alone (as `ValidationFailedError.errors` lists several)."""
        return [self]

    def __str__(self) -> str:
        return f"{self.obj_type} {self.obj_name!r}.{self.field_name}: {self.message}"


class DuplicateObjectError(IdfKitError, ValueError):
    """A second object with a name (or of a unique type) the document already holds.

    Args:
        obj_type: The object type.
        name: The name taken twice.
    """

    def __init__(self, obj_type: str, name: str) -> None:
        super().__init__(obj_type, name)
        self.obj_type = obj_type
        self.name = name

    def __str__(self) -> str:
        return f"Duplicate {self.obj_type} object with name {self.name!r}"


class DanglingReferenceError(IdfKitError):
    """A field that names an object the document does not hold.

    Args:
        source: The object with the reference.
        field: Its reference field.
        target: The name no object answers to.
    """

    def __init__(self, source: Any, field: str, target: str) -> None:
        super().__init__(source, field, target)
        self.source = source
        self.field = field
        self.target = target

    def __str__(self) -> str:
        return f"{self.source!r}.{self.field} refers to {self.target!r}, which does not exist"


def _version_text(version: Sequence[int] | None) -> str:
    return ".".join(map(str, version)) if version else "?"


class VersionMismatchError(IdfKitError):
    """A model's version differs from the one asked for.

    Args:
        current: The model's version.
        target: The version asked for.
        migration_chain: The transitions (from, to) that lead from one to
            the other, if known.
    """

    def __init__(
        self,
        *,
        current: tuple[int, int, int],
        target: tuple[int, int, int],
        migration_chain: Sequence[tuple[tuple[int, int, int], tuple[int, int, int]]] = (),
    ) -> None:
        super().__init__(current, target, tuple(migration_chain))
        self.current = current
        self.target = target
        self.migration_chain = tuple(migration_chain)

    def __str__(self) -> str:
        return (
            f"model version {_version_text(self.current)} differs from {_version_text(self.target)}"
        )


class VersionNotFoundError(IdfKitError):
    """A model file with no ``Version`` object.

    Args:
        filepath: The model file.
    """

    def __init__(self, filepath: str) -> None:
        super().__init__(filepath)
        self.filepath = filepath

    def __str__(self) -> str:
        return f"no Version object in {self.filepath}"


class UnsupportedVersionError(IdfKitError):
    """A model version this installation has no schema for.

    Args:
        version: The model's version.
        supported_versions: The versions there are schemas for.
    """

    def __init__(
        self, version: tuple[int, int, int], supported_versions: Sequence[tuple[int, int, int]]
    ) -> None:
        super().__init__(version, tuple(supported_versions))
        self.version = version
        self.supported_versions = tuple(supported_versions)

    def __str__(self) -> str:
        known = ", ".join(_version_text(v) for v in self.supported_versions) or "none"
        return f"EnergyPlus version {_version_text(self.version)} is not supported ({known})"


class MigrationError(IdfKitError):
    """A version migration (IDFVersionUpdater transition) that failed.

    Args:
        message: What failed.
        **details: As in idfkit: ``from_version``, ``to_version``,
            ``exit_code``, ``stderr`` and ``completed_steps``, each kept as
            an attribute of that name (others are ignored).
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.from_version = details.get("from_version")
        self.to_version = details.get("to_version")
        self.exit_code = details.get("exit_code")
        self.stderr = details.get("stderr")
        self.completed_steps = tuple(details.get("completed_steps", ()))

    def __str__(self) -> str:
        return self.message


def _with_process_output(message: str, exit_code: int | None, stderr: str | None) -> str:
    """``message (exit code N)`` and, when there is any, the end of standard error."""
    text = message if exit_code is None else f"{message} (exit code {exit_code})"
    said = (stderr or "").strip()
    return f"{text}\nstderr: {said[-500:]}" if said else text


class NoDesignDaysError(IdfKitError):
    """A weather station with no design days to add to a model.

    Args:
        station_name: The station, named in the message.
        ddy_path: The design-day file, named when no station is.
        nearby_suggestions: Stations nearby that may have design days (the
            first five are listed).
    """

    def __init__(
        self,
        station_name: str | None = None,
        ddy_path: str | None = None,
        nearby_suggestions: list[str] | None = None,
    ) -> None:
        super().__init__(station_name, ddy_path, nearby_suggestions)
        self.station_name = station_name
        self.ddy_path = ddy_path
        self.nearby_suggestions = list(nearby_suggestions or [])

    def __str__(self) -> str:
        if self.station_name:
            which = f"DDY file for '{self.station_name}'"
        elif self.ddy_path:
            which = f"DDY file '{self.ddy_path}'"
        else:
            which = "DDY file"
        text = (
            f"{which} contains no SizingPeriod:DesignDay objects.\n"
            "This station may lack ASHRAE design conditions data."
        )
        if self.nearby_suggestions:
            text += "\n\nNearby stations that may have design days:"
            text += "".join(f"\n  - {name}" for name in self.nearby_suggestions[:5])
        return text


class ExpandObjectsError(IdfKitError):
    """An ExpandObjects (or Slab/Basement) preprocessor run that failed.

    As in idfkit, the text adds the exit code and the end of standard error:
    ``failed (exit code 3)\nstderr: boom``.

    Args:
        message: What failed.
        preprocessor: The program that ran (``"ExpandObjects"``, ...).
        exit_code: Its exit code, if it ended.
        stderr: What it wrote to standard error.
    """

    def __init__(
        self,
        message: str,
        *,
        preprocessor: str | None = None,
        exit_code: int | None = None,
        stderr: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.preprocessor = preprocessor
        self.exit_code = exit_code
        self.stderr = stderr

    def __str__(self) -> str:
        return _with_process_output(self.message, self.exit_code, self.stderr)


class EnergyPlusNotFoundError(IdfKitError, FileNotFoundError):
    """No EnergyPlus installation was found in any of the places searched.

    The message lists ``searched_locations`` and the ways to point to an
    installation, as idfkit words them.

    Args:
        searched_locations: The places looked at; a string instead is the
            whole message (an older form, kept for scripts).
    """

    def __init__(self, searched_locations: list[str] | str | None = None) -> None:
        if isinstance(searched_locations, str):  # a message of its own (older form)
            self.searched_locations: list[str] = []
            text = searched_locations
        else:
            self.searched_locations = list(searched_locations or [])
            text = "Could not find an EnergyPlus installation."
            if self.searched_locations:
                text += "\nSearched in:\n" + "".join(
                    f"  - {place}\n" for place in self.searched_locations
                )
            text += (
                "\nTo fix this, either:\n"
                "  1. Set the ENERGYPLUS_DIR environment variable to the install folder\n"
                "  2. Give the folder explicitly: find_energyplus(path='/path/to/EnergyPlus')\n"
                "  3. Put 'energyplus' on your PATH"
            )
        super().__init__(text)
        self._text = text

    def __str__(self) -> str:
        return self._text


class SimulationError(IdfKitError, RuntimeError):
    """A simulation could not be carried out (timeout, engine crash, bad setup).

    ``stderr`` holds what EnergyPlus had written to standard error so far; as
    in idfkit, the text of the error adds the exit code and that output.

    Args:
        message: What went wrong.
        stderr: EnergyPlus's standard error so far.
        exit_code: EnergyPlus's exit code, if it ended.
    """

    def __init__(self, message: str, stderr: str = "", exit_code: int | None = None) -> None:
        super().__init__(message, stderr, exit_code)
        self.message = message
        self.stderr = stderr
        self.exit_code = exit_code

    def __str__(self) -> str:
        text = self.message
        if self.exit_code is not None:
            text += f" (exit code {self.exit_code})"
        if self.stderr and self.stderr.strip():
            text += f"\nstderr: {self.stderr.strip()[-2000:]}"
        return text


#: The simulation part's own errors, defined in `idfkit.simulation.exceptions`
#: and offered here too (imported on first use, so `import idfkit` loads none
#: of the part).
_PART_ERRORS = frozenset(
    {
        "BucketNotFoundError",
        "ConcurrentRunError",
        "IncompleteResultError",
        "ResultNotFoundError",
        "StorageConnectionError",
        "StorageError",
        "StudyError",
        "UnknownVariableError",
        "WeatherFileNotFoundError",
    }
)


def __getattr__(name: str) -> Any:
    if name in _PART_ERRORS:
        return getattr(importlib.import_module("idfkit.simulation.exceptions"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
