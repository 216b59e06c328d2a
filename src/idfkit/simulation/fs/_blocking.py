"""An `AsyncFileSystem` read from worker threads as a `FileSystem`, for `SimulationResult`.

A result given only ``async_fs`` reads through it from its ``async_*``
readers: the reader runs in a worker thread, as every reader does, and each
storage call is sent back to the event loop that awaits the reader
(`asyncio.run_coroutine_threadsafe`). Outside such a reader there is no loop
to send it to, so a synchronous read raises and says to use the async ones.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

    from idfkit.simulation.fs.async_ import AsyncFileSystem

__all__ = ["BlockingFileSystem", "serving_loop"]

T = TypeVar("T")
_LOOP: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "idfkit_async_fs_loop", default=None
)


@contextmanager
def serving_loop(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """While open, calls made from worker threads started here run on `loop`."""
    token = _LOOP.set(loop)
    try:
        yield
    finally:
        _LOOP.reset(token)


class BlockingFileSystem:
    """The nine `FileSystem` methods over an `AsyncFileSystem`, from a reader's worker thread.

    Args:
        afs: The async backend to read through.
    """

    def __init__(self, afs: AsyncFileSystem) -> None:
        self.afs = afs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.afs!r})"

    def _run(self, call: Callable[[], Awaitable[T]]) -> T:
        loop = _LOOP.get()
        if loop is None:
            raise RuntimeError(
                f"this result reads through an async file system ({self.afs!r}); use its "
                "async accessors (await result.async_sql(), async_errors(), async_csv(), ...)"
            )

        import asyncio  # only an async reader gets here: a synchronous run never loads it

        async def call_it() -> T:
            return await call()

        return asyncio.run_coroutine_threadsafe(call_it(), loop).result()

    def read_bytes(self, path: str | Path) -> bytes:
        return self._run(lambda: self.afs.read_bytes(path))

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        self._run(lambda: self.afs.write_bytes(path, data))

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return self._run(lambda: self.afs.read_text(path, encoding))

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self._run(lambda: self.afs.write_text(path, text, encoding))

    def exists(self, path: str | Path) -> bool:
        return self._run(lambda: self.afs.exists(path))

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        self._run(lambda: self.afs.makedirs(path, exist_ok=exist_ok))

    def copy(self, src: str | Path, dst: str | Path) -> None:
        self._run(lambda: self.afs.copy(src, dst))

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        found: Any = self._run(lambda: self.afs.glob(path, pattern))
        return list(found)

    def remove(self, path: str | Path) -> None:
        self._run(lambda: self.afs.remove(path))
