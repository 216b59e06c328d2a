"""Awaitable storage: the ``FileSystem`` contract behind ``async`` methods.

`AsyncFileSystem` is the async twin of `FileSystem`: the same nine methods,
the same path rules, errors and listing semantics (see
`idfkit.simulation.fs.base`), each one awaited. The built-in classes wrap a
synchronous backend and run every call in a worker thread
(`asyncio.to_thread`), so the event loop never waits on disk or network I/O.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from idfkit.simulation.fs.base import FileSystem
from idfkit.simulation.fs.local import LocalFileSystem

if TYPE_CHECKING:
    from idfkit.simulation.fs.s3 import S3FileSystem

__all__ = [
    "AsyncFileSystem",
    "AsyncFileSystemAdapter",
    "AsyncLocalFileSystem",
    "AsyncS3FileSystem",
]


@runtime_checkable
class AsyncFileSystem(Protocol):
    """Where results are kept, for code that runs on an event loop.

    Each method behaves exactly as its namesake on `FileSystem` and is
    awaited. A custom backend may implement these directly (with an async
    client) or wrap a synchronous backend in `AsyncFileSystemAdapter`.
    """

    async def read_bytes(self, path: str | Path) -> bytes:
        """The whole content of a file. `FileNotFoundError` if absent.

        Args:
            path: The file, relative to the backend's root.
        """
        ...

    async def write_bytes(self, path: str | Path, data: bytes) -> None:
        """Create or replace a file; readers see the old content or the new one.

        Args:
            path: The file, relative to the backend's root.
            data: The new content.
        """
        ...

    async def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        """`read_bytes` decoded with `encoding`.

        Args:
            path: The file, relative to the backend's root.
            encoding: The text encoding of the file.
        """
        ...

    async def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        """`write_bytes` of `text` encoded with `encoding`.

        Args:
            path: The file, relative to the backend's root.
            text: The new content.
            encoding: The text encoding to write it in.
        """
        ...

    async def exists(self, path: str | Path) -> bool:
        """True for an existing file or non-empty directory; False only for not found.

        Args:
            path: A file or directory, relative to the backend's root.
        """
        ...

    async def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        """Prepare a directory. `FileExistsError` if it exists and not `exist_ok`.

        Args:
            path: The directory, relative to the backend's root.
            exist_ok: Accept a directory that already exists.
        """
        ...

    async def copy(self, src: str | Path, dst: str | Path) -> None:
        """Copy one file within this backend. `FileNotFoundError` names `src`.

        Args:
            src: The file to copy.
            dst: The copy's path; a file there is replaced.
        """
        ...

    async def glob(self, path: str | Path, pattern: str) -> list[str]:
        """Sorted paths of the names directly inside `path` that match `pattern`.

        Args:
            path: The directory to look in ("" for the root).
            pattern: A shell-style pattern (`*.sql`) matched against each name.
        """
        ...

    async def remove(self, path: str | Path) -> None:
        """Delete one file. `FileNotFoundError` if it does not exist.

        Args:
            path: The file, relative to the backend's root.
        """
        ...


class AsyncFileSystemAdapter:
    """Any synchronous `FileSystem` made awaitable: each call runs in a worker thread.

    The wrapped backend stays reachable as `sync`, so code that runs in a
    thread anyway (a simulation, a batch worker) uses it directly.

    Args:
        fs: The synchronous backend to wrap.
    """

    def __init__(self, fs: FileSystem) -> None:
        self.sync = fs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sync!r})"

    async def __aenter__(self) -> AsyncFileSystemAdapter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def read_bytes(self, path: str | Path) -> bytes:
        return await asyncio.to_thread(self.sync.read_bytes, path)

    async def write_bytes(self, path: str | Path, data: bytes) -> None:
        await asyncio.to_thread(self.sync.write_bytes, path, data)

    async def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return await asyncio.to_thread(self.sync.read_text, path, encoding)

    async def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        await asyncio.to_thread(self.sync.write_text, path, text, encoding)

    async def exists(self, path: str | Path) -> bool:
        return await asyncio.to_thread(self.sync.exists, path)

    async def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        await asyncio.to_thread(self.sync.makedirs, path, exist_ok=exist_ok)

    async def copy(self, src: str | Path, dst: str | Path) -> None:
        await asyncio.to_thread(self.sync.copy, src, dst)

    async def glob(self, path: str | Path, pattern: str) -> list[str]:
        return await asyncio.to_thread(self.sync.glob, path, pattern)

    async def remove(self, path: str | Path) -> None:
        await asyncio.to_thread(self.sync.remove, path)


class AsyncLocalFileSystem(AsyncFileSystemAdapter):
    """Local disk without blocking the event loop: a `LocalFileSystem` in worker threads.

    Args:
        root: Optional folder that confines every path, as for `LocalFileSystem`.
    """

    sync: LocalFileSystem

    def __init__(self, root: str | Path | None = None) -> None:
        super().__init__(LocalFileSystem(root))


class AsyncS3FileSystem(AsyncFileSystemAdapter):
    """S3 without blocking the event loop: an `S3FileSystem` in worker threads.

    It needs no async S3 client: boto3 calls run in threads, with the same
    retries, checksums and error mapping as `S3FileSystem`. `async with` is
    accepted (and optional), as in idfkit.

    Args:
        bucket: The bucket name.
        prefix: Key prefix below which every path lives (`"project-x/batch-42/"`).
        **boto_kwargs: Passed to `S3FileSystem` (`endpoint_url`, `region_name`,
            credentials, `retry_mode`, or any `boto3.client` keyword).
    """

    sync: S3FileSystem

    def __init__(self, bucket: str, prefix: str = "", **boto_kwargs: Any) -> None:
        from idfkit.simulation.fs.s3 import S3FileSystem

        super().__init__(S3FileSystem(bucket, prefix, **boto_kwargs))
