"""The simulation part's own errors: storage, results, studies and outputs.

They sit under idfkit's roots (`IdfKitError`, `SimulationError`), so the part
drops into an installed idfkit unchanged, and each also derives from the
builtin that names the same kind of failure, so ``except FileNotFoundError``
catches a missing result on every storage backend::

    IdfKitError
    ├── SimulationError
    │   └── WeatherFileNotFoundError (FileNotFoundError) no weather file for the run
    ├── UnknownVariableError         (KeyError)     no such output variable / key
    ├── ResultNotFoundError          (FileNotFoundError) no result at that path
    ├── IncompleteResultError        (RuntimeError) manifest and files disagree
    ├── StudyError                   (ValueError)   a job bundle that cannot be used
    └── StorageError                 (OSError)      a backend failure we could not map
        ├── BucketNotFoundError      (FileNotFoundError) the bucket does not exist
        ├── ConcurrentRunError       (FileExistsError) another run took the output folder
        └── StorageConnectionError   (ConnectionError) the endpoint cannot be reached

Errors keep only picklable state (their constructor arguments), so they
survive process-pool and Dask worker boundaries unchanged.
"""

from __future__ import annotations

from idfkit.exceptions import IdfKitError, SimulationError

__all__ = [
    "BucketNotFoundError",
    "ConcurrentRunError",
    "IncompleteResultError",
    "ResultNotFoundError",
    "StorageConnectionError",
    "StorageError",
    "StudyError",
    "UnknownVariableError",
    "WeatherFileNotFoundError",
]


class WeatherFileNotFoundError(SimulationError, FileNotFoundError):
    """The weather file of a run does not exist (or a run needs one and has none).

    A `SimulationError`, as idfkit raises it, and a `FileNotFoundError`.
    """


class UnknownVariableError(IdfKitError, KeyError):
    """An output variable or key value that the output file does not hold.

    A `KeyError`, as in idfkit, so `except KeyError` catches it; its message
    starts with `Variable not found:` and names the closest matches.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ResultNotFoundError(IdfKitError, FileNotFoundError):
    """No simulation result exists at the given directory."""


class IncompleteResultError(IdfKitError, RuntimeError):
    """A result whose manifest lists files that are missing or differ."""


class StudyError(IdfKitError, ValueError):
    """A study (job bundle) that is missing, corrupt, or asked for a bad index."""


class StorageError(IdfKitError, OSError):
    """A storage backend failure that has no more specific builtin meaning."""


class BucketNotFoundError(StorageError, FileNotFoundError):
    """The S3 bucket named in the message does not exist."""


class StorageConnectionError(StorageError, ConnectionError):
    """The storage endpoint named in the message could not be reached."""


class ConcurrentRunError(StorageError, FileExistsError):
    """Another run took this run's output folder before this run could commit.

    The folder now belongs to the run named by ``other_run_id`` (started at
    ``other_started_at`` on ``other_host``, as far as its marker or manifest
    says); this run's result was not published.

    Args:
        message: What happened, naming the folder.
        other_run_id: The run that holds the folder now ("" if unknown).
        other_started_at: When that run started ("" if unknown).
        other_host: The host it ran on ("" if unknown).
    """

    def __init__(
        self,
        message: str,
        other_run_id: str = "",
        other_started_at: str = "",
        other_host: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.other_run_id = other_run_id
        self.other_started_at = other_started_at
        self.other_host = other_host

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[ConcurrentRunError], tuple[str, str, str, str]]:
        return (
            type(self),
            (self.message, self.other_run_id, self.other_started_at, self.other_host),
        )
