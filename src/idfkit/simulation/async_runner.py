"""`async_simulate`: `simulate` on a worker thread, awaited without blocking the event loop.

The whole synchronous run (staging, EnergyPlus, publishing) happens on a
thread of its own, so no file or network I/O ever runs on the loop.
Cancelling the awaiting task kills EnergyPlus's process group, lets the run
remove its temporary folder, and only then lets `CancelledError` through.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from idfkit.simulation._process import cancel_event
from idfkit.simulation.fs.async_ import AsyncFileSystem, AsyncFileSystemAdapter
from idfkit.simulation.fs.base import FileSystem

if TYPE_CHECKING:
    from idfkit.document import IDFDocument
    from idfkit.simulation.cache import SimulationCache
    from idfkit.simulation.energyplus import EnergyPlusConfig
    from idfkit.simulation.options import RunOptions
    from idfkit.simulation.result import SimulationResult

__all__ = ["async_simulate"]

T = TypeVar("T")


async def async_simulate(
    model: IDFDocument | str | PurePath,
    weather: str | PurePath | None = None,
    *,
    output_dir: str | PurePath | None = None,
    energyplus: EnergyPlusConfig | str | Path | None = None,
    expand_objects: bool = True,
    annual: bool = False,
    design_day: bool = False,
    output_prefix: str = "eplus",
    output_suffix: Literal["C", "L", "D"] = "C",
    readvars: bool = False,
    timeout: float = 3600.0,
    preprocessor_timeout: float | None = None,
    extra_args: list[str] | tuple[str, ...] | None = None,
    cache: SimulationCache | None = None,
    fs: FileSystem | AsyncFileSystem | None = None,
    on_progress: Callable[[Any], Any] | Literal["tqdm"] | None = None,
    auto_migrate: bool = False,
    label: str = "",
    options: RunOptions | None = None,
) -> SimulationResult:
    """Run one simulation without blocking the event loop; the awaitable twin of `simulate`.

    Every argument means what it means for `simulate`. Besides:

    - `fs` may also be an `AsyncFileSystem`; the run talks to its
      synchronous backend from the worker thread (a custom async backend is
      called back on the event loop).
    - `on_progress` may be a plain or an `async` callable; either is called
      on the event loop, in order.
    - Cancelling the task kills EnergyPlus and removes the run's temporary
      folder before `asyncio.CancelledError` reaches the caller.

    Args:
        model: The model, or the path of an .idf/.epJSON file.
        weather: A weather file (local, or a path on `fs`), or None for design days only.
        output_dir: Where the run goes (a temporary folder when None; required with `fs`).
        energyplus: The engine (found automatically when None).
        expand_objects: Run ExpandObjects when the model needs it.
        annual: Force an annual run (`-a`).
        design_day: Run the design days only (`-D`).
        output_prefix: Prefix of every output file.
        output_suffix: EnergyPlus's output naming style (`"C"`, `"L"` or `"D"`).
        readvars: Run ReadVarsESO afterwards (`-r`).
        timeout: Seconds EnergyPlus may run.
        preprocessor_timeout: Seconds each preprocessor may run.
        extra_args: Further EnergyPlus arguments.
        cache: A `SimulationCache`: a hit places the cached run without EnergyPlus.
        fs: The backend for the results.
        on_progress: Called with each progress event, or `"tqdm"` for a bar.
        auto_migrate: As for `simulate`: a model of another version raises
            `MigrationError` saying how to migrate it.
        label: A name for the run, recorded in its manifest.
        options: All the run options as one `RunOptions`, instead of the
            keywords `expand_objects` to `extra_args`.

    Returns:
        The run's `SimulationResult`.

    Raises:
        asyncio.CancelledError: When the task is cancelled (EnergyPlus is gone by then).
    """
    from idfkit.simulation.runner import simulate

    loop = asyncio.get_running_loop()
    return await run_cancellable(
        simulate,
        model,
        weather,
        output_dir=output_dir,
        energyplus=energyplus,
        expand_objects=expand_objects,
        annual=annual,
        design_day=design_day,
        output_prefix=output_prefix,
        output_suffix=output_suffix,
        readvars=readvars,
        timeout=timeout,
        preprocessor_timeout=preprocessor_timeout,
        extra_args=extra_args,
        cache=cache,
        fs=sync_filesystem(fs, loop),
        on_progress=progress_on_loop(on_progress, loop),
        auto_migrate=auto_migrate,
        label=label,
        options=options,
    )


async def run_cancellable(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on a new thread, awaited; cancelling stops its EnergyPlus run.

    On cancellation the thread's `cancel_event` is set (EnergyPlus's process
    group is killed at once), the thread is awaited to the end of its
    clean-up, and only then is `CancelledError` re-raised.
    """
    loop = asyncio.get_running_loop()
    cancel = threading.Event()
    context = contextvars.copy_context()
    context.run(cancel_event.set, cancel)
    done: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not done.done():
            outcome()

    def work() -> None:
        try:
            value = context.run(fn, *args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
            loop.call_soon_threadsafe(settle, lambda: done.set_exception(error))
        else:
            loop.call_soon_threadsafe(settle, lambda: done.set_result(value))

    threading.Thread(target=work, name="idfkit-simulate", daemon=True).start()
    try:
        return await asyncio.shield(done)
    except asyncio.CancelledError:
        cancel.set()
        while not done.done():
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                continue  # cancelled again: still wait for the clean-up
            except BaseException:  # noqa: BLE001 - the run's own end; we are cancelling
                break
        raise


def sync_filesystem(
    fs: FileSystem | AsyncFileSystem | None, loop: asyncio.AbstractEventLoop
) -> FileSystem | None:
    """The synchronous backend a worker thread uses for `fs`."""
    if fs is None:
        return None
    if isinstance(fs, AsyncFileSystemAdapter):
        return fs.sync
    if inspect.iscoroutinefunction(getattr(type(fs), "read_bytes", None)):
        return _LoopBridge(fs, loop)  # type: ignore[arg-type]
    return fs  # type: ignore[return-value]


class _LoopBridge:
    """A custom `AsyncFileSystem` seen as a `FileSystem` from worker threads.

    Each call is scheduled on the event loop and waited for; calling it from
    the loop's own thread would deadlock, so that raises instead.
    """

    def __init__(self, fs: AsyncFileSystem, loop: asyncio.AbstractEventLoop) -> None:
        self.fs = fs
        self.loop = loop

    def __repr__(self) -> str:
        return repr(self.fs)

    def _call(self, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            raise RuntimeError(
                f"{self.fs!r} is an async backend: on the event loop, await its methods"
            )
        return asyncio.run_coroutine_threadsafe(
            _awaited(method(*args, **kwargs)), self.loop
        ).result()

    def read_bytes(self, path: str | Path) -> bytes:
        return self._call(self.fs.read_bytes, path)

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        self._call(self.fs.write_bytes, path, data)

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return self._call(self.fs.read_text, path, encoding)

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self._call(self.fs.write_text, path, text, encoding)

    def exists(self, path: str | Path) -> bool:
        return self._call(self.fs.exists, path)

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        self._call(self.fs.makedirs, path, exist_ok=exist_ok)

    def copy(self, src: str | Path, dst: str | Path) -> None:
        self._call(self.fs.copy, src, dst)

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        return self._call(self.fs.glob, path, pattern)

    def remove(self, path: str | Path) -> None:
        self._call(self.fs.remove, path)


async def _awaited(call: Awaitable[T]) -> T:
    return await call


def progress_on_loop(
    callback: Callable[[Any], Any] | str | None, loop: asyncio.AbstractEventLoop
) -> Callable[[Any], None] | str | None:
    """A progress callback for the worker thread that runs `callback` on the loop.

    Plain and `async` callables both work; the worker waits for each call, so
    events arrive in order and an error in the callback stops the run.
    """
    if callback is None or isinstance(callback, str):
        return callback
    user = callback

    async def deliver(event: Any) -> None:
        outcome = user(event)
        if inspect.isawaitable(outcome):
            await outcome

    def on_progress(event: Any) -> None:
        asyncio.run_coroutine_threadsafe(deliver(event), loop).result()

    return on_progress
