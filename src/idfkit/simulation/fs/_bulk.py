"""Many small reads, and the versions of many files, at the cost a study of 100,000 runs needs.

Two optional capabilities, with fallbacks to the nine methods of `FileSystem`:

`SupportsReadEach`
    Read many small files and hand each to a function as it arrives, with the
    version token of the content read (when the backend knows it from the
    read itself). Memory holds one file per thread, not all of them.

`SupportsVersionListing`
    The version tokens of many files from listings, without reading them, so
    that a collector which kept the versions of what it read last time reads
    again only the files that changed.

Callers go through `read_each` and `versions_of`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from idfkit.simulation.fs.base import FileSystem

__all__ = [
    "ReadOutcome",
    "SupportsReadEach",
    "SupportsVersionListing",
    "read_each",
    "run_each",
    "versions_of",
]

T = TypeVar("T")

#: What a read gives the handler: the content, or why there is none (the file is
#: missing, is a folder, lies below a file, or the backend refuses to name it, as
#: a local folder does a link out of its root). Any other failure is raised.
ReadOutcome = bytes | FileNotFoundError | IsADirectoryError | NotADirectoryError | ValueError


@runtime_checkable
class SupportsReadEach(Protocol):
    """Reads many small files concurrently, cheaper per file than ``read_bytes``."""

    def read_each(
        self,
        paths: Sequence[str],
        handle: Callable[[int, ReadOutcome, str | None], T],
        *,
        max_workers: int = 32,
    ) -> list[T]:
        """``handle(i, outcome, version)`` for each ``paths[i]``, in any order and any thread.

        Args:
            paths: The files to read.
            handle: Called once per path with its index, the content (or the
                ``FileNotFoundError``, ``IsADirectoryError``,
                ``NotADirectoryError`` or ``ValueError`` that reading it raised) and the version
                token of exactly the content read, or None when the backend
                cannot tell it from the read.
            max_workers: Reads in flight at once.

        Returns:
            What ``handle`` returned, in the order of ``paths``.

        Raises:
            OSError: A read failed otherwise (permission, connection, ...);
                the first failure, or the first exception ``handle`` raised,
                stops the remaining reads and is raised here.
        """
        ...


@runtime_checkable
class SupportsVersionListing(Protocol):
    """Tells the versions of many files from listings, reading none of them."""

    def versions_of(self, paths: Sequence[str], *, max_workers: int = 8) -> dict[str, str]:
        """The current version token of each of ``paths`` that exists.

        A token is the one `SupportsReadEach.read_each` reports for the same
        content; it changes whenever the content changes, size kept or not.
        Paths that do not exist are left out.

        Args:
            paths: The files to ask about.
            max_workers: Listings in flight at once.
        """
        ...


def read_each(
    fs: FileSystem,
    paths: Sequence[str],
    handle: Callable[[int, ReadOutcome, str | None], T],
    *,
    max_workers: int = 32,
) -> list[T]:
    """`SupportsReadEach.read_each` on any backend: its own when it has one, else
    ``read_bytes`` in threads, versions from `_cheap_version` (taken before the
    read, so a file replaced meanwhile reads as changed next time, never as unchanged).
    """
    if isinstance(fs, SupportsReadEach):
        return fs.read_each(paths, handle, max_workers=max_workers)
    versioned = _cheap_version(fs)

    def one(i: int) -> T:
        version = versioned(paths[i]) if versioned is not None else None
        try:
            data: ReadOutcome = fs.read_bytes(paths[i])
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError) as exc:
            data, version = exc, None
        return handle(i, data, version)

    return run_each(len(paths), one, max_workers=max_workers)


def versions_of(
    fs: FileSystem, paths: Sequence[str], *, max_workers: int = 8
) -> dict[str, str] | None:
    """`SupportsVersionListing.versions_of` where the backend can answer it cheaply, else None."""
    if isinstance(fs, SupportsVersionListing):
        return fs.versions_of(paths, max_workers=max_workers)
    versioned = _cheap_version(fs)
    if versioned is None:
        return None
    found = {p: versioned(p) for p in paths}
    return {p: v for p, v in found.items() if v is not None}


def _cheap_version(fs: FileSystem) -> Callable[[str], str | None] | None:
    """``fs.version`` when asking costs no request (local disk, memory), else None."""
    from idfkit.simulation.fs.local import LocalFileSystem
    from idfkit.simulation.fs.memory import MemoryFileSystem

    if isinstance(fs, LocalFileSystem | MemoryFileSystem):
        version = fs.version

        def safe(path: str) -> str | None:
            try:
                return version(path)
            except (OSError, ValueError):  # a folder, or a link out: the read names it
                return None

        return safe
    return None


def run_each(count: int, work: Callable[[int], T], *, max_workers: int) -> list[T]:
    """``[work(0), ..., work(count - 1)]`` on up to ``max_workers`` threads.

    Each thread takes the next index until none is left (no future per item);
    the first exception stops the others and is raised.
    """
    results: list[T | None] = [None] * count
    if count == 0:
        return []
    indices = itertools.count()
    lock = threading.Lock()
    failure: list[Exception] = []

    def loop() -> None:
        while not failure:
            with lock:
                i = next(indices)
            if i >= count:
                return
            try:
                results[i] = work(i)
            except Exception as exc:  # noqa: BLE001 - raised in the caller's thread
                failure.append(exc)
                return

    threads = [
        threading.Thread(target=loop, daemon=True) for _ in range(min(max_workers, count) - 1)
    ]
    for thread in threads:
        thread.start()
    loop()
    for thread in threads:
        thread.join()
    if failure:
        raise failure[0]
    return results  # type: ignore[return-value]
