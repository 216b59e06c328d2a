"""What a run reads while EnergyPlus shuts down, each read kept only if its file stood still.

EnergyPlus writes its closing words on standard error some 40 ms before its
process ends (it frees its memory meanwhile), after its reports. From that
line, a thread of the run's own reads what the manifest needs from the run
folder, instead of waiting for the exit:

- the fields from the SQLite output (`manifest_extras`: the key metrics and
  the user's hook). After the exit they are kept only if the file is as it
  was when the read began: the same file (name, inode, size, modification
  time), the same change counter (SQLite adds one at every committed write,
  in bytes 24-27 of its header) and no journal or write-ahead log beside
  it. Otherwise they are read again, now that nothing writes.
- the SHA-256 of the run's files (up to `EARLY_HASH_BYTES` in all), each
  kept with the file's identity as it was hashed: device, inode, size,
  modification and change times. Publishing takes such a digest only if the
  file's identity is the same after the exit (`EarlyHash.matches`); any
  other file is hashed then. The change time is what makes a stat enough:
  every write sets it, to no earlier than the kernel's coarse real-time
  clock, and nothing can set it back. A file is hashed early only once
  that clock has moved past its change time (the hashing waits a tick for
  it), so a later write cannot leave the same time behind. That holds
  where the kernel itself stamps the times, on the local file systems of
  `KERNEL_STAMPED` (a network file system takes its server's clock, and its
  client may cache what a stat says); elsewhere, and off Linux, nothing is
  hashed early.

A run that never says it is closing does both after its exit.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from idfkit.simulation._job_context import manifest_extras
from idfkit.simulation._publish import Snapshot, changed_files
from idfkit.simulation.metrics import sql_output

__all__ = [
    "EARLY_HASH_BYTES",
    "KERNEL_STAMPED",
    "ClosingReads",
    "EarlyHash",
    "FileIdentity",
    "identity",
    "sql_state",
]

#: The most bytes a run keeps of its files hashed early (larger ones are hashed after the exit).
EARLY_HASH_BYTES = 16 * 2**20

#: Linux's coarse real-time clock, which stamps file changes (``CLOCK_REALTIME_COARSE``).
_COARSE_CLOCK = 5

_MICROSECOND = 1000

#: How long the early hashing waits for that clock to pass the files' last change.
_SETTLE_SECONDS = 0.05


#: Local file systems whose times the kernel stamps from that clock (never later changed).
KERNEL_STAMPED = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "tmpfs"})

#: The file system type of each device seen (``major:minor``), from /proc/self/mountinfo.
_FS_TYPES: dict[str, str] = {}


def _change_clock(folder: Path) -> Callable[[], int] | None:
    """The clock the kernel stamps changes to files in ``folder`` with; None where unknown."""
    if sys.platform != "linux":
        return None
    try:
        device = os.stat(folder).st_dev
        time.clock_gettime_ns(_COARSE_CLOCK)
    except OSError:
        return None
    if _fs_type(f"{os.major(device)}:{os.minor(device)}") not in KERNEL_STAMPED:
        return None
    return lambda: time.clock_gettime_ns(_COARSE_CLOCK)


def _fs_type(device: str) -> str:
    """The type of the file system on ``device`` (``major:minor``), or "" when not found."""
    if device not in _FS_TYPES:
        try:
            lines = Path("/proc/self/mountinfo").read_text().splitlines()
        except OSError:
            return ""
        for line in lines:
            # ID parent major:minor root mount-point options [optional...] - type source ...
            fields = line.split()
            if len(fields) > 3 and "-" in fields:
                _FS_TYPES.setdefault(fields[2], fields[fields.index("-") + 1])
    return _FS_TYPES.get(device, "")


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


@dataclass(frozen=True)
class _Read:
    """The SQLite fields read (or the error met), the file's state as the read began, and when."""

    fields: dict[str, object]
    error: Exception | None
    state: SqlState
    after_exit: bool  # the process had ended: nothing wrote the file meanwhile


FileIdentity = tuple[int, int, int, int, int]


def identity(info: os.stat_result) -> FileIdentity:
    """What any write to a file changes: device, inode, size, modification and change times."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@dataclass(frozen=True)
class EarlyHash:
    """A file's size and SHA-256, taken while EnergyPlus shut down, and its identity then."""

    identity: FileIdentity
    size: int
    sha256: str

    def matches(self, path: Path) -> bool:
        """Whether ``path`` is still the file hashed, unwritten since (then the digest is its own).

        Args:
            path: The file.
        """
        try:
            return identity(os.stat(path)) == self.identity
        except OSError:
            return False


class ClosingReads:
    """A run's reads of its own folder, started as early as it is safe.

    `start` may be called from any thread (the process's reader calls it on
    EnergyPlus's closing line); the read sees the context of the caller that
    made this object (its job). `exited` says the process has ended, then
    `extras` and `known` give what was read; `close` waits for the reads to
    end, before the folder may go.

    Args:
        run_dir: The local run folder.
        output_prefix: The run's output prefix, which names its SQLite file.
        before: The folder before EnergyPlus, to tell its files from older ones.
        hash_files: Hash the run's files early too (they are published where
            they lie; an upload hashes what it sends).
    """

    def __init__(
        self, run_dir: Path, output_prefix: str, before: Snapshot, *, hash_files: bool
    ) -> None:
        self._run_dir = run_dir
        self._prefix = output_prefix
        self._before = before
        self._hash_files = hash_files
        self._context = contextvars.copy_context()
        self._ended = threading.Event()
        self._hashed = threading.Event()  # the early hashing is over (or never began)
        self._hashes: dict[str, EarlyHash] = {}
        self._lock = threading.Lock()
        self._future: Future[_Read] | None = None

    def start(self) -> None:
        """Begin reading, if not begun."""
        with self._lock:
            if self._future is None:
                pool = ThreadPoolExecutor(1, thread_name_prefix="idfkit-closing")
                self._future = pool.submit(self._context.run, self._read)
                pool.shutdown(wait=False)  # the thread ends with its reads

    def exited(self) -> None:
        """The process has ended (the reads begin now, beside what follows, if they had not)."""
        self.start()
        self._ended.set()

    def extras(self) -> dict[str, object]:
        """The SQLite fields as the exit left them; call after `exited`.

        A read made before the exit stands if the file is as it was when the
        read began; else it is made again, now. The check runs on the
        caller's thread, so no handoff to the reading thread waits on it.
        """
        assert self._future is not None
        read = self._future.result()
        if not read.after_exit and sql_state(self._run_dir, self._prefix) != read.state:
            # What the exit left, read in the context the first read saw (its job's).
            return self._context.run(manifest_extras, self._run_dir, self._prefix)
        if read.error is not None:
            raise read.error
        return read.fields

    def known(self, path: Path) -> tuple[int, str] | None:
        """Size and SHA-256 of a run file hashed before the exit, if it still holds those bytes.

        Call after `exited`; it waits for the early hashing to stop.

        Args:
            path: A file of the run folder.
        """
        self._hashed.wait()
        early = self._hashes.get(path.name)
        if early is None or path.parent != self._run_dir or not early.matches(path):
            return None
        return early.size, early.sha256

    def close(self) -> None:
        """Let the reads under way end, and wait for them: the run folder may go next."""
        self._ended.set()
        with self._lock:
            future = self._future
        if future is not None:
            wait([future])

    def _read(self) -> _Read:
        after_exit = self._ended.is_set()
        try:
            state = sql_state(self._run_dir, self._prefix)
            try:
                fields, error = manifest_extras(self._run_dir, self._prefix), None
            except Exception as exc:  # noqa: BLE001 - raised by `extras` if the read stands
                fields, error = {}, exc
            if self._hash_files and not self._ended.is_set():
                self._hash_early()
        finally:
            self._hashed.set()
        return _Read(fields, error, state, after_exit)

    def _hash_early(self) -> None:
        """Hash the settled run files, largest first, until the process ends or the budget does."""
        clock = _change_clock(self._run_dir)
        if clock is None:
            return
        budget = EARLY_HASH_BYTES
        files = changed_files(self._run_dir, self._before)
        seen = [(path, info) for path in files if (info := _stat(path)) is not None]
        self._settle(clock, max((info.st_ctime_ns for _, info in seen), default=0))
        for path, _ in sorted(seen, key=lambda entry: entry[1].st_size, reverse=True):
            if self._ended.is_set():
                return
            now = clock()
            try:
                with open(path, "rb") as fh:
                    info = os.fstat(fh.fileno())
                    if not _settled(info, now) or info.st_size > budget:
                        continue
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
                    size = fh.tell()
            except OSError:
                continue
            if size != info.st_size:  # written meanwhile (its identity after the exit says so too)
                continue
            budget -= size
            self._hashes[path.name] = EarlyHash(identity(info), size, digest)

    def _settle(self, clock: Callable[[], int], latest: int) -> None:
        """Wait (a clock tick or so) until the change clock has passed ``latest``, a change time."""
        deadline = time.monotonic() + _SETTLE_SECONDS
        while clock() - latest < _MICROSECOND and time.monotonic() < deadline:
            if self._ended.is_set():
                return
            time.sleep(0.001)


def _settled(info: os.stat_result, now: int) -> bool:
    """Whether any later write must leave the file a new change time.

    Its change time is not a whole microsecond, so the file system keeps
    times finer than that (one that rounds to seconds could give a later
    write the same time), and the change clock, read before the stat, is at
    least a microsecond past it, so a later write's time, even rounded, is
    after it. A true nanosecond time is a whole microsecond once in a
    thousand files: such a file is hashed after the exit instead.
    """
    return info.st_ctime_ns % _MICROSECOND != 0 and now - info.st_ctime_ns >= _MICROSECOND


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None
