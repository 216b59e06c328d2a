"""The files a model reads besides itself and its weather, for the cache key.

EnergyPlus reads some inputs from files named in the model (schedules,
lookup tables, window data, FMUs, ASHRAE 205 representations). A cached run
stands for a model only if the key covers those files' bytes; a model whose
inputs no key can cover (a Python plugin, co-simulation) is not cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from idfkit.simulation._model import object_types
from idfkit.simulation.fs.base import sha256_file

if TYPE_CHECKING:
    from idfkit.document import IDFDocument

__all__ = ["EXTERNAL_FILE_FIELDS", "UNCACHEABLE_TYPES", "external_files"]

#: Object types that read a file named in a field, by that field: the key covers its bytes.
EXTERNAL_FILE_FIELDS: dict[str, str] = {
    "Schedule:File": "file_name",
    "Schedule:File:Shading": "file_name",
    "Construction:WindowDataFile": "file_name",
    "Table:IndependentVariable": "external_file_name",
    "Table:Lookup": "external_file_name",
    "ExternalInterface:FunctionalMockupUnitImport": "fmu_file_name",
    "Coil:DX:ASHRAE205:Performance": "representation_file_name",
    "Chiller:Electric:ASHRAE205": "representation_file_name",
}
#: Object types whose run depends on what no key can cover, and why.
UNCACHEABLE_TYPES: dict[str, str] = {
    "PythonPlugin:Instance": "Python plugin modules, found on a search path at run time",
    "ExternalInterface": "co-simulation with another program (ExternalInterface)",
    "ExternalInterface:FunctionalMockupUnitExport:From:Variable": "an exported FMU's co-simulation",
    "ExternalInterface:FunctionalMockupUnitExport:To:Schedule": "an exported FMU's co-simulation",
    "ExternalInterface:FunctionalMockupUnitExport:To:Actuator": "an exported FMU's co-simulation",
    "ExternalInterface:FunctionalMockupUnitExport:To:Variable": "an exported FMU's co-simulation",
}


def external_files(doc: IDFDocument) -> tuple[list[list[str]], str | None]:
    """The external files a model reads, each with its SHA-256, or why they cannot be keyed.

    EnergyPlus runs in a scratch folder, so a file named by a relative path
    is not the caller's file: only absolute paths to existing files are
    keyed, by their bytes.

    Args:
        doc: The model as it will run.

    Returns:
        ``[object type, object name, path, sha256]`` for each file, sorted,
        and None; or the files found so far and the reason the model cannot
        be cached.
    """
    present = object_types(doc)
    for obj_type, why in UNCACHEABLE_TYPES.items():
        if obj_type in present:
            return [], f"it uses {why}, which the cache key cannot cover"
    found: list[list[str]] = []
    for obj_type, field in EXTERNAL_FILE_FIELDS.items():
        if obj_type not in present:
            continue
        for obj in doc[obj_type]:
            value = str(getattr(obj, field, "") or "").strip()
            if not value:
                continue
            path = Path(value)
            what = f"{obj_type} {obj.name!r} reads {value!r}"
            if not path.is_absolute():
                return [], f"{what}, a relative path (EnergyPlus runs in a scratch folder)"
            if not path.is_file():
                return [], f"{what}, which does not exist"
            found.append([obj_type, str(obj.name), value, sha256_file(path)])
    return sorted(found), None
