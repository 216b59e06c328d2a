"""Errors raised by idfkit.

Every error derives from :class:`IdfkitError`, and each one also derives from
the builtin that names the same kind of failure, so ``except
FileNotFoundError`` catches a missing result on every storage backend::

    IdfkitError
    ├── IdfParseError                (ValueError)   text that is not IDF or epJSON
    ├── EnergyPlusNotFoundError      (FileNotFoundError) no engine where we looked
    ├── SimulationError              (RuntimeError) the run could not be carried out
    ├── UnknownVariableError         (KeyError)     no such output variable / key
    ├── ResultNotFoundError          (FileNotFoundError) no result at that path
    ├── IncompleteResultError        (RuntimeError) manifest and files disagree
    ├── StudyError                   (ValueError)   a job bundle that cannot be used
    └── StorageError                 (OSError)      a backend failure we could not map
        ├── BucketNotFoundError      (FileNotFoundError) the bucket does not exist
        └── StorageConnectionError   (ConnectionError) the endpoint cannot be reached

Errors keep only picklable state (a message and plain attributes), so they
survive process-pool and Dask worker boundaries unchanged.
"""

from __future__ import annotations

__all__ = [
    "BucketNotFoundError",
    "EnergyPlusNotFoundError",
    "IdfParseError",
    "IdfkitError",
    "IncompleteResultError",
    "ResultNotFoundError",
    "SimulationError",
    "StorageConnectionError",
    "StorageError",
    "StudyError",
    "UnknownVariableError",
]


class IdfkitError(Exception):
    """Root of every error idfkit raises on purpose."""


class IdfParseError(IdfkitError, ValueError):
    """Model text that cannot be parsed; ``line`` is 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message, line)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class EnergyPlusNotFoundError(IdfkitError, FileNotFoundError):
    """No EnergyPlus installation was found in any of the places searched."""


class SimulationError(IdfkitError, RuntimeError):
    """A simulation could not be carried out (timeout, engine crash, bad setup).

    ``stderr`` holds what EnergyPlus had written to standard error so far.
    """

    def __init__(self, message: str, stderr: str = "", exit_code: int | None = None) -> None:
        super().__init__(message, stderr, exit_code)
        self.message = message
        self.stderr = stderr
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class UnknownVariableError(IdfkitError, KeyError):
    """An output variable or key value that the output file does not hold.

    A `KeyError`, as in idfkit, so `except KeyError` catches it; its message
    starts with `Variable not found:` and names the closest matches.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ResultNotFoundError(IdfkitError, FileNotFoundError):
    """No simulation result exists at the given directory."""


class IncompleteResultError(IdfkitError, RuntimeError):
    """A result whose manifest lists files that are missing or differ."""


class StudyError(IdfkitError, ValueError):
    """A study (job bundle) that is missing, corrupt, or asked for a bad index."""


class StorageError(IdfkitError, OSError):
    """A storage backend failure that has no more specific builtin meaning."""


class BucketNotFoundError(StorageError, FileNotFoundError):
    """The S3 bucket named in the message does not exist."""


class StorageConnectionError(StorageError, ConnectionError):
    """The storage endpoint named in the message could not be reached."""
