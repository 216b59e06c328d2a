"""The only place that starts a process: EnergyPlus, with a timeout and progress lines."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from idfkit.exceptions import SimulationError

ProgressCallback = Callable[[str], None]

#: Set by the caller's context (the async façade does) to stop a run early: when
#: the event is set, the process group is killed and `RunCancelled` is raised.
cancel_event: ContextVar[threading.Event | None] = ContextVar("idfkit_cancel_event", default=None)
_POLL_SECONDS = 0.05


class RunCancelled(BaseException):
    """The run was cancelled through `cancel_event`; EnergyPlus has been killed."""


@dataclass(frozen=True)
class ProcessOutcome:
    exit_code: int
    stdout: str
    stderr: str
    runtime_seconds: float


def run_process(
    command: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    on_progress: ProgressCallback | None = None,
    on_closing: Callable[[], None] | None = None,
) -> ProcessOutcome:
    """Run ``command`` to completion, streaming its output lines to ``on_progress``.

    ``on_closing`` is called once, from a reader thread, when the program
    writes its first line on standard error: EnergyPlus writes only its
    closing words there ("EnergyPlus Completed Successfully."), after its
    reports and some 40 ms before its process ends. It must return quickly
    and not raise.

    An exception from ``on_progress`` becomes a `SimulationError` (as in
    idfkit), with the callback's own error as its cause. On timeout, on
    such an exception and on any interruption
    of the caller (KeyboardInterrupt included) the whole process group is
    killed and reaped before this returns or raises, so no EnergyPlus process
    outlives the call.
    """
    cancel = cancel_event.get()
    if cancel is not None and cancel.is_set():
        raise RunCancelled("cancelled before EnergyPlus started")
    started = time.perf_counter()
    held = _hold_ctrl_c()  # a Ctrl-C now waits until EnergyPlus can be stopped with it
    try:
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=sys.platform != "win32",
        )
    except BaseException:
        _release_ctrl_c(held, deliver=False)  # the error at hand is what the caller sees
        raise
    out_lines: list[str] = []
    err_lines: list[str] = []
    callback_errors: list[BaseException] = []

    def pump(
        stream: IO[str],
        sink: list[str],
        callback: ProgressCallback | None,
        first: Callable[[], None] | None = None,
    ) -> None:
        for line in stream:
            sink.append(line)
            if first is not None:
                first()
                first = None
            if callback is None or callback_errors:
                continue
            try:
                callback(line.rstrip("\r\n"))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                callback_errors.append(exc)
                _kill_group(proc)
        stream.close()

    assert proc.stdout is not None
    assert proc.stderr is not None
    readers = [
        threading.Thread(target=pump, args=(proc.stdout, out_lines, on_progress), daemon=True),
        # Standard error reaches the callback once the run is over (below): EnergyPlus writes
        # only its closing lines there ("EnergyPlus Completed Successfully"), and read in
        # turn with standard output they could come before its last lines.
        threading.Thread(target=pump, args=(proc.stderr, err_lines, None, on_closing), daemon=True),
    ]
    try:
        for reader in readers:
            reader.start()
        _release_ctrl_c(held)  # a Ctrl-C that came meanwhile is raised here, then handled
        exit_code = _wait(proc, timeout, cancel)
    except subprocess.TimeoutExpired:
        _stop(proc, readers)
        _release_ctrl_c(held, deliver=False)
        raise SimulationError(
            f"EnergyPlus did not finish within {timeout:g} s and was stopped",
            stderr="".join(err_lines),
        ) from None
    except BaseException:
        _stop(proc, readers)
        _release_ctrl_c(held, deliver=False)  # when the error came before the release
        raise
    _join(readers)
    if on_progress is not None and not callback_errors:
        for line in err_lines:
            try:
                on_progress(line.rstrip("\r\n"))
            except BaseException as exc:  # noqa: BLE001 - raised below, as during the run
                callback_errors.append(exc)
                break
    if callback_errors:
        failure = callback_errors[0]
        if not isinstance(failure, Exception):  # KeyboardInterrupt, SystemExit: as they are
            raise failure
        raise SimulationError(
            f"the progress callback raised {type(failure).__name__}: {failure}; "
            "EnergyPlus was stopped",
            stderr="".join(err_lines),
        ) from failure
    return ProcessOutcome(
        exit_code=exit_code,
        stdout="".join(out_lines),
        stderr="".join(err_lines),
        runtime_seconds=time.perf_counter() - started,
    )


@dataclass
class _HeldCtrlC:
    previous: Callable[[int, FrameType | None], object]
    pending: list[int]


def _hold_ctrl_c() -> _HeldCtrlC | None:
    """Defer Ctrl-C (SIGINT) while EnergyPlus starts; None where it cannot be deferred.

    A KeyboardInterrupt raised inside `Popen()` would lose the child: the
    Popen object never reaches the caller, so nothing could kill it. While
    held, a Ctrl-C is only noted; `_release_ctrl_c` raises it once the
    process can be stopped. Only the main thread receives Python's signal
    handlers, so only there is anything held.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):  # ignored, or the OS default (which ends the process)
        return None
    held = _HeldCtrlC(previous, [])
    signal.signal(signal.SIGINT, lambda signum, frame: held.pending.append(signum))
    return held


def _release_ctrl_c(held: _HeldCtrlC | None, *, deliver: bool = True) -> None:
    """Put the caller's SIGINT handler back; if `deliver`, call it for a held Ctrl-C."""
    if held is None or signal.getsignal(signal.SIGINT) is held.previous:
        return
    signal.signal(signal.SIGINT, held.previous)
    if deliver and held.pending:
        held.previous(signal.SIGINT, None)  # Python's default raises KeyboardInterrupt


def _stop(proc: subprocess.Popen[str], readers: list[threading.Thread]) -> None:
    """Kill and reap the process, let the readers finish, close its pipes."""
    _kill_group(proc)
    proc.wait()
    _join([reader for reader in readers if reader.ident is not None])
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _wait(proc: subprocess.Popen[str], timeout: float, cancel: threading.Event | None) -> int:
    """`proc.wait(timeout)`, waking every few milliseconds to honour `cancel`.

    Where the OS can signal the exit itself (a Linux pidfd), the wait ends the
    moment EnergyPlus does: `Popen.wait` with a timeout polls, sleeping up to
    50 ms between looks, which would add that much to every run.
    """
    deadline = time.monotonic() + timeout
    exited = _exit_waiter(proc)
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise RunCancelled("the run was cancelled")
            remaining = deadline - time.monotonic()
            step = remaining if cancel is None else min(_POLL_SECONDS, remaining)
            if exited(max(0.0, step)):
                return proc.wait()
            if remaining <= step:
                raise subprocess.TimeoutExpired(proc.args, timeout)
    finally:
        exited.close()


class _ExitWaiter:
    """``waiter(seconds)``: True once the process has exited (a pidfd where there is one)."""

    def __init__(self, proc: subprocess.Popen[str], pidfd: int | None) -> None:
        self.proc, self.pidfd = proc, pidfd

    def __call__(self, seconds: float) -> bool:
        if self.pidfd is None:
            try:
                self.proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                return False
            return True
        # At most a day per look: select() refuses a timeout beyond the platform's time_t.
        ready, _, _ = select.select([self.pidfd], [], [], min(seconds, 86_400.0))
        return bool(ready)

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def _exit_waiter(proc: subprocess.Popen[str]) -> _ExitWaiter:
    pidfd_open = getattr(os, "pidfd_open", None)  # Linux 5.3+
    try:
        return _ExitWaiter(proc, pidfd_open(proc.pid) if pidfd_open is not None else None)
    except OSError:  # an older kernel, or a sandbox that refuses it
        return _ExitWaiter(proc, None)


def _join(readers: list[threading.Thread]) -> None:
    for reader in readers:
        reader.join(timeout=10)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill the process and everything it started (EnergyPlus may spawn helpers)."""
    if proc.poll() is not None:
        return
    try:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
