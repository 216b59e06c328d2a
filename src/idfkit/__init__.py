"""idfkit: EnergyPlus models and simulations, with results on any storage backend."""

from __future__ import annotations

from typing import Any

from idfkit._loading import load_epjson, load_idf, new_document
from idfkit.document import IDFDocument
from idfkit.exceptions import (
    DanglingReferenceError,
    DuplicateObjectError,
    EnergyPlusNotFoundError,
    ExpandObjectsError,
    IdfKitError,
    IdfkitError,
    IDFParseError,
    IdfParseError,
    InvalidFieldError,
    MigrationError,
    NoDesignDaysError,
    ParseError,
    RangeError,
    SchemaNotFoundError,
    SimulationError,
    UnknownObjectTypeError,
    UnsupportedVersionError,
    ValidationFailedError,
    VersionMismatchError,
    VersionNotFoundError,
)
from idfkit.objects import IDFCollection, IDFObject
from idfkit.schema import EpJSONSchema, get_schema
from idfkit.validation import ValidationResult, validate_document, validate_object
from idfkit.versions import (
    ENERGYPLUS_VERSIONS,
    LATEST_VERSION,
    MINIMUM_VERSION,
    find_closest_version,
    is_supported_version,
    version_string,
)
from idfkit.writers import save_epjson, save_idf, write_epjson, write_idf

__version__: str  # set by __getattr__ on first use


def __getattr__(name: str) -> Any:
    # importlib.metadata costs a quarter of `import idfkit`: the version is read on first use.
    if name != "__version__":
        raise AttributeError(f"module 'idfkit' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("idfkit")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        found = "0.0.0"
    globals()["__version__"] = found
    return found


__all__ = [
    "DanglingReferenceError",
    "DuplicateObjectError",
    "ENERGYPLUS_VERSIONS",
    "EnergyPlusNotFoundError",
    "EpJSONSchema",
    "ExpandObjectsError",
    "IDFCollection",
    "IDFDocument",
    "IDFObject",
    "IDFParseError",
    "IdfKitError",
    "IdfParseError",
    "IdfkitError",
    "InvalidFieldError",
    "LATEST_VERSION",
    "MINIMUM_VERSION",
    "MigrationError",
    "NoDesignDaysError",
    "ParseError",
    "RangeError",
    "SchemaNotFoundError",
    "SimulationError",
    "UnknownObjectTypeError",
    "UnsupportedVersionError",
    "ValidationFailedError",
    "ValidationResult",
    "VersionMismatchError",
    "VersionNotFoundError",
    "__version__",
    "find_closest_version",
    "get_schema",
    "is_supported_version",
    "load_epjson",
    "load_idf",
    "new_document",
    "save_epjson",
    "save_idf",
    "validate_document",
    "validate_object",
    "version_string",
    "write_epjson",
    "write_idf",
]
