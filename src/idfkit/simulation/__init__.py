"""Run EnergyPlus locally; keep and read the results on any storage backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idfkit.exceptions import (
    BucketNotFoundError,
    ConcurrentRunError,
    EnergyPlusNotFoundError,
    IncompleteResultError,
    ResultNotFoundError,
    SimulationError,
    StorageConnectionError,
    StorageError,
    StudyError,
    UnknownVariableError,
)
from idfkit.simulation.batch import BatchResult, JobOutcome, SimulationJob, simulate_batch
from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus
from idfkit.simulation.fs import (
    FileInfo,
    FileSystem,
    LocalFileSystem,
    MemoryFileSystem,
    SupportsConditionalWrite,
    SupportsLocalTransfer,
    SupportsStat,
)
from idfkit.simulation.manifest import RunManifest
from idfkit.simulation.parsers import ErrorReport, SQLResult, TimeSeriesResult
from idfkit.simulation.result import SimulationResult
from idfkit.simulation.runner import simulate

if TYPE_CHECKING:
    from idfkit.simulation.fs.s3 import S3FileSystem

__all__ = [
    "BatchResult",
    "BucketNotFoundError",
    "ConcurrentRunError",
    "EnergyPlusConfig",
    "EnergyPlusNotFoundError",
    "ErrorReport",
    "FileInfo",
    "FileSystem",
    "IncompleteResultError",
    "JobOutcome",
    "LocalFileSystem",
    "MemoryFileSystem",
    "ResultNotFoundError",
    "RunManifest",
    "S3FileSystem",
    "SQLResult",
    "SimulationError",
    "SimulationJob",
    "SimulationResult",
    "StorageConnectionError",
    "StorageError",
    "StudyError",
    "SupportsConditionalWrite",
    "SupportsLocalTransfer",
    "SupportsStat",
    "TimeSeriesResult",
    "UnknownVariableError",
    "find_energyplus",
    "simulate",
    "simulate_batch",
]


def __getattr__(name: str) -> Any:
    if name == "S3FileSystem":
        from idfkit.simulation.fs.s3 import S3FileSystem

        return S3FileSystem
    raise AttributeError(f"module 'idfkit.simulation' has no attribute {name!r}")
