"""A run's key metrics, read while EnergyPlus shuts down, kept only if its SQLite file stood still.

EnergyPlus writes its closing words on standard error some 40 ms before its
process ends (it frees its memory meanwhile), after its reports. The runner
starts reading the manifest's fields from the SQLite output then
(`manifest_extras`: the key metrics and the user's hook), on a thread of its
own, instead of after the exit. Once the process has ended, that read is
kept only if the file is as it was when the read began: the same file (name,
inode, size, modification time), the same change counter (SQLite adds one at
every committed write, in bytes 24-27 of its header) and no journal or
write-ahead log beside it. Otherwise it is read again, now that nothing
writes. A run that never says it is closing is read after its exit.
"""

from __future__ import annotations

import contextvars
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from idfkit.simulation._job_context import manifest_extras
from idfkit.simulation.metrics import sql_output

__all__ = ["EarlyExtras", "sql_state"]

#: Where SQLite keeps its change counter: bytes 24-27 of the database header.
_COUNTER = slice(24, 28)

SqlState = tuple[str, int, int, int, bytes, bool, bool] | None


def sql_state(run_dir: Path, output_prefix: str) -> SqlState:
    """What tells one state of the run's SQLite file from another (None: there is none yet).

    Args:
        run_dir: The local run folder.
        output_prefix: The run's output prefix (``-p``).
    """
    path = sql_output(run_dir, output_prefix)
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            counter = fh.read(100)[_COUNTER]
    except OSError:
        return None
    sidecars = (Path(f"{path}-journal").exists(), Path(f"{path}-wal").exists())
    return (path.name, info.st_ino, info.st_size, info.st_mtime_ns, counter, *sidecars)


class EarlyExtras:
    """The manifest fields read from a run's SQLite output, started as early as it is safe.

    `start` may be called from any thread (the process's reader calls it on
    EnergyPlus's closing line); the caller's context (its job) is the one
    the read sees. `exited` says the process has ended and gives the fields
    to come; `abandon` is for a run that failed.

    Args:
        run_dir: The local run folder.
        output_prefix: The run's output prefix, which names its SQLite file.
    """

    def __init__(self, run_dir: Path, output_prefix: str) -> None:
        self._run_dir = run_dir
        self._prefix = output_prefix
        self._context = contextvars.copy_context()
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._future: Future[dict[str, object]] | None = None

    def start(self) -> None:
        """Begin reading, if not begun."""
        with self._lock:
            if self._future is None:
                pool = ThreadPoolExecutor(1, thread_name_prefix="idfkit-metrics")
                self._future = pool.submit(self._context.run, self._read)
                pool.shutdown(wait=False)  # the thread ends with its read

    def exited(self) -> Future[dict[str, object]]:
        """The process has ended: the fields, final once the future is done."""
        self.start()
        self._ended.set()
        assert self._future is not None
        return self._future

    def abandon(self) -> None:
        """The run failed: let a read under way end, and wait for it (its folder may go)."""
        self._ended.set()
        with self._lock:
            future = self._future
        if future is not None:
            wait([future])

    def _read(self) -> dict[str, object]:
        while True:
            ended = self._ended.is_set()
            before = sql_state(self._run_dir, self._prefix)
            try:
                fields, error = manifest_extras(self._run_dir, self._prefix), None
            except Exception as exc:  # noqa: BLE001 - raised below if the read stands
                fields, error = {}, exc
            self._ended.wait()
            if ended or sql_state(self._run_dir, self._prefix) == before:
                if error is not None:
                    raise error
                return fields
