"""Run EnergyPlus locally; keep and read the results on any storage backend.

This part drops into an installed idfkit as its ``idfkit.simulation``, so it
stands on idfkit's public API only. From outside itself it imports
`IDFDocument`, `load_idf` (inside functions: idfkit's package imports this
part before it defines it), `write_idf`, and the errors `IdfKitError`,
`SimulationError`, `ExpandObjectsError`, `EnergyPlusNotFoundError` and
`MigrationError`; its own errors are in `idfkit.simulation.exceptions`.

A model handed to it is touched only through calls that idfkit's documents
and this project's answer alike (`idfkit.simulation._model`):

- ``write_idf(doc)``: the model as IDF text (run input, cache keys, study bundles);
- ``doc.copy()``: the run's own copy;
- ``doc.version``: the version a run checks against the engine;
- ``doc.all_objects`` and each object's ``obj_type``: the types a model holds;
- ``obj_type in doc``, ``doc[obj_type]`` and ``doc.add(obj_type, **fields)``
  (a repeated group as a list: ``reports=[{"report_name": ...}]``): output
  objects added where missing;
- ``obj.name``, ``getattr(obj, field)`` and ``setattr(obj, field, value)``: a
  study parameter set by name;
- ``load_idf(path)``: a model file (and ExpandObjects' output) read back.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idfkit.exceptions import EnergyPlusNotFoundError, SimulationError
    from idfkit.simulation._staging import prep_outputs
    from idfkit.simulation.async_batch import (
        SimulationEvent,
        async_simulate_batch,
        async_simulate_batch_stream,
    )
    from idfkit.simulation.async_runner import async_simulate
    from idfkit.simulation.batch import BatchResult, SimulationJob, simulate_batch
    from idfkit.simulation.cache import CacheKey, SimulationCache
    from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus
    from idfkit.simulation.exceptions import (
        BucketNotFoundError,
        ConcurrentRunError,
        IncompleteResultError,
        ResultNotFoundError,
        StorageConnectionError,
        StorageError,
        StudyError,
        UnknownVariableError,
    )
    from idfkit.simulation.expand import (
        expand_objects,
        needs_ground_heat_preprocessing,
        run_basement_preprocessor,
        run_preprocessing,
        run_slab_preprocessor,
    )
    from idfkit.simulation.fs import (
        AsyncFileSystem,
        AsyncFileSystemAdapter,
        AsyncLocalFileSystem,
        AsyncS3FileSystem,
        FileInfo,
        FileSystem,
        LocalFileSystem,
        MemoryFileSystem,
        SupportsConditionalWrite,
        SupportsLocalTransfer,
        SupportsStat,
    )
    from idfkit.simulation.fs.azure import AzureBlobFileSystem
    from idfkit.simulation.fs.gcs import GCSFileSystem
    from idfkit.simulation.fs.s3 import S3FileSystem
    from idfkit.simulation.manifest import RunManifest
    from idfkit.simulation.options import RunOptions
    from idfkit.simulation.outputs import OutputVariableIndex
    from idfkit.simulation.parsers import (
        CSVColumn,
        CSVResult,
        EnvironmentInfo,
        ErrorMessage,
        ErrorReport,
        ESOColumn,
        ESOEnvironment,
        ESOResult,
        ESOVariable,
        HTMLResult,
        HTMLTable,
        OutputMeter,
        OutputVariable,
        SQLResult,
        TabularRow,
        TimeSeriesResult,
        VariableInfo,
    )
    from idfkit.simulation.plotting import (
        PlotBackend,
        get_default_backend,
        plot_comfort_hours,
        plot_energy_balance,
        plot_temperature_profile,
    )
    from idfkit.simulation.progress import ProgressParser, SimulationProgress, tqdm_progress
    from idfkit.simulation.result import SimulationResult
    from idfkit.simulation.runner import simulate

__all__ = [
    "AsyncFileSystem",
    "AsyncFileSystemAdapter",
    "AsyncLocalFileSystem",
    "AsyncS3FileSystem",
    "AzureBlobFileSystem",
    "BatchResult",
    "BucketNotFoundError",
    "CSVColumn",
    "CSVResult",
    "CacheKey",
    "ConcurrentRunError",
    "ESOColumn",
    "ESOEnvironment",
    "ESOResult",
    "ESOVariable",
    "EnergyPlusConfig",
    "EnergyPlusNotFoundError",
    "EnvironmentInfo",
    "ErrorMessage",
    "ErrorReport",
    "FileInfo",
    "FileSystem",
    "GCSFileSystem",
    "HTMLResult",
    "HTMLTable",
    "IncompleteResultError",
    "LocalFileSystem",
    "MemoryFileSystem",
    "OutputMeter",
    "OutputVariable",
    "OutputVariableIndex",
    "PlotBackend",
    "ProgressParser",
    "ResultNotFoundError",
    "RunManifest",
    "RunOptions",
    "S3FileSystem",
    "SQLResult",
    "SimulationCache",
    "SimulationError",
    "SimulationEvent",
    "SimulationJob",
    "SimulationProgress",
    "SimulationResult",
    "StorageConnectionError",
    "StorageError",
    "StudyError",
    "SupportsConditionalWrite",
    "SupportsLocalTransfer",
    "SupportsStat",
    "TabularRow",
    "TimeSeriesResult",
    "UnknownVariableError",
    "VariableInfo",
    "async_simulate",
    "async_simulate_batch",
    "async_simulate_batch_stream",
    "expand_objects",
    "find_energyplus",
    "get_default_backend",
    "needs_ground_heat_preprocessing",
    "plot_comfort_hours",
    "plot_energy_balance",
    "plot_temperature_profile",
    "prep_outputs",
    "run_basement_preprocessor",
    "run_preprocessing",
    "run_slab_preprocessor",
    "simulate",
    "simulate_batch",
    "tqdm_progress",
]


#: Where each public name lives: imported on first use (PEP 562), so that
#: ``import idfkit.simulation`` costs next to nothing and each name loads only
#: what it needs.
_HOMES: dict[str, str] = {
    "async_simulate": "idfkit.simulation.async_runner",
    "async_simulate_batch": "idfkit.simulation.async_batch",
    "async_simulate_batch_stream": "idfkit.simulation.async_batch",
    "AsyncFileSystem": "idfkit.simulation.fs",
    "AsyncFileSystemAdapter": "idfkit.simulation.fs",
    "AsyncLocalFileSystem": "idfkit.simulation.fs",
    "AsyncS3FileSystem": "idfkit.simulation.fs",
    "AzureBlobFileSystem": "idfkit.simulation.fs",
    "BatchResult": "idfkit.simulation.batch",
    "BucketNotFoundError": "idfkit.simulation.exceptions",
    "CacheKey": "idfkit.simulation.cache",
    "ConcurrentRunError": "idfkit.simulation.exceptions",
    "CSVColumn": "idfkit.simulation.parsers",
    "CSVResult": "idfkit.simulation.parsers",
    "EnergyPlusConfig": "idfkit.simulation.energyplus",
    "EnergyPlusNotFoundError": "idfkit.exceptions",
    "EnvironmentInfo": "idfkit.simulation.parsers",
    "ErrorMessage": "idfkit.simulation.parsers",
    "ErrorReport": "idfkit.simulation.parsers",
    "ESOColumn": "idfkit.simulation.parsers",
    "ESOEnvironment": "idfkit.simulation.parsers",
    "ESOResult": "idfkit.simulation.parsers",
    "ESOVariable": "idfkit.simulation.parsers",
    "expand_objects": "idfkit.simulation.expand",
    "FileInfo": "idfkit.simulation.fs",
    "FileSystem": "idfkit.simulation.fs",
    "find_energyplus": "idfkit.simulation.energyplus",
    "GCSFileSystem": "idfkit.simulation.fs",
    "get_default_backend": "idfkit.simulation.plotting",
    "HTMLResult": "idfkit.simulation.parsers",
    "HTMLTable": "idfkit.simulation.parsers",
    "IncompleteResultError": "idfkit.simulation.exceptions",
    "LocalFileSystem": "idfkit.simulation.fs",
    "MemoryFileSystem": "idfkit.simulation.fs",
    "needs_ground_heat_preprocessing": "idfkit.simulation.expand",
    "OutputMeter": "idfkit.simulation.parsers",
    "OutputVariable": "idfkit.simulation.parsers",
    "OutputVariableIndex": "idfkit.simulation.outputs",
    "plot_comfort_hours": "idfkit.simulation.plotting",
    "plot_energy_balance": "idfkit.simulation.plotting",
    "plot_temperature_profile": "idfkit.simulation.plotting",
    "PlotBackend": "idfkit.simulation.plotting",
    "prep_outputs": "idfkit.simulation._staging",
    "ProgressParser": "idfkit.simulation.progress",
    "ResultNotFoundError": "idfkit.simulation.exceptions",
    "run_basement_preprocessor": "idfkit.simulation.expand",
    "run_preprocessing": "idfkit.simulation.expand",
    "run_slab_preprocessor": "idfkit.simulation.expand",
    "RunManifest": "idfkit.simulation.manifest",
    "RunOptions": "idfkit.simulation.options",
    "S3FileSystem": "idfkit.simulation.fs",
    "simulate": "idfkit.simulation.runner",
    "simulate_batch": "idfkit.simulation.batch",
    "SimulationCache": "idfkit.simulation.cache",
    "SimulationError": "idfkit.exceptions",
    "SimulationEvent": "idfkit.simulation.async_batch",
    "SimulationJob": "idfkit.simulation.batch",
    "SimulationProgress": "idfkit.simulation.progress",
    "SimulationResult": "idfkit.simulation.result",
    "SQLResult": "idfkit.simulation.parsers",
    "StorageConnectionError": "idfkit.simulation.exceptions",
    "StorageError": "idfkit.simulation.exceptions",
    "StudyError": "idfkit.simulation.exceptions",
    "SupportsConditionalWrite": "idfkit.simulation.fs",
    "SupportsLocalTransfer": "idfkit.simulation.fs",
    "SupportsStat": "idfkit.simulation.fs",
    "TabularRow": "idfkit.simulation.parsers",
    "TimeSeriesResult": "idfkit.simulation.parsers",
    "tqdm_progress": "idfkit.simulation.progress",
    "UnknownVariableError": "idfkit.simulation.exceptions",
    "VariableInfo": "idfkit.simulation.parsers",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'idfkit.simulation' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next access is a plain attribute read
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
