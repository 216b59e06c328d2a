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

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from idfkit.simulation.fs.azure import AzureBlobFileSystem
    from idfkit.simulation.fs.gcs import GCSFileSystem
    from idfkit.simulation.fs.s3 import S3FileSystem

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


def __getattr__(name: str) -> Any:
    from idfkit.simulation import fs

    if name in fs.LAZY_BACKENDS:
        return getattr(fs, name)
    raise AttributeError(f"module 'idfkit.simulation' has no attribute {name!r}")
