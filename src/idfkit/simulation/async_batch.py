"""Many simulations from an event loop: bounded, cancellable, reported as they finish."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idfkit.simulation.async_runner import progress_on_loop, run_cancellable, sync_filesystem
from idfkit.simulation.batch import (
    BatchResult,
    SimulationJob,
    _job_progress,
    check_batch,
    prepare_jobs,
    run_job,
)
from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus
from idfkit.simulation.result import SimulationResult

if TYPE_CHECKING:
    from idfkit.simulation.cache import SimulationCache
    from idfkit.simulation.fs.async_ import AsyncFileSystem
    from idfkit.simulation.fs.base import FileSystem

__all__ = ["SimulationEvent", "async_simulate_batch", "async_simulate_batch_stream"]


@dataclass(frozen=True)
class SimulationEvent:
    """One finished job of a streamed batch.

    Args:
        index: The job's position in the list given.
        label: The job's label.
        result: Its result (a failed one when the job could not run).
        completed: How many jobs have finished, this one included.
        total: How many jobs the batch has.
    """

    index: int
    label: str
    result: SimulationResult
    completed: int
    total: int


async def async_simulate_batch(
    jobs: Sequence[SimulationJob],
    *,
    energyplus: EnergyPlusConfig | str | Path | None = None,
    max_concurrent: int | None = None,
    cache: SimulationCache | None = None,
    fs: FileSystem | AsyncFileSystem | None = None,
    on_progress: Callable[[Any], Any] | None = None,
) -> BatchResult:
    """Run `jobs` at most `max_concurrent` at a time and return them in the order given.

    The awaitable twin of `simulate_batch`: one job's failure never stops the
    others, and cancelling the awaiting task kills every running EnergyPlus.

    Args:
        jobs: The jobs to run.
        energyplus: The engine for jobs that name none (found automatically when None).
        max_concurrent: Most jobs running at once (default: `min(len(jobs), os.cpu_count())`).
        cache: A `SimulationCache` every job consults first.
        fs: The backend for jobs that name none (an `AsyncFileSystem` is accepted).
        on_progress: Called on the event loop with each progress event of
            every job; plain or `async`.

    Returns:
        A `BatchResult` in the order of `jobs`.

    Raises:
        ValueError: If `jobs` is empty or `max_concurrent` is below 1.
    """
    started = time.perf_counter()
    outcomes: dict[int, tuple[SimulationResult, str]] = {}
    stream = _stream(jobs, energyplus, max_concurrent, cache, fs, on_progress)
    async for index, outcome, _ in stream:
        outcomes[index] = outcome
    return BatchResult(
        [outcomes[i][0] for i in range(len(jobs))],
        time.perf_counter() - started,
        labels=[job.label for job in jobs],
        errors=[outcomes[i][1] for i in range(len(jobs))],
    )


async def async_simulate_batch_stream(
    jobs: Sequence[SimulationJob],
    *,
    energyplus: EnergyPlusConfig | str | Path | None = None,
    max_concurrent: int | None = None,
    cache: SimulationCache | None = None,
    fs: FileSystem | AsyncFileSystem | None = None,
    on_progress: Callable[[Any], Any] | None = None,
) -> AsyncIterator[SimulationEvent]:
    """Run `jobs` like `async_simulate_batch`, yielding a `SimulationEvent` as each finishes.

        async for event in async_simulate_batch_stream(jobs, max_concurrent=4):
            print(f"[{event.completed}/{event.total}] {event.label}: {event.result.success}")

    Leaving the loop early (or cancelling it) stops the jobs still running.

    Args:
        jobs: The jobs to run.
        energyplus: The engine for jobs that name none.
        max_concurrent: Most jobs running at once (default: `min(len(jobs), os.cpu_count())`).
        cache: A `SimulationCache` every job consults first.
        fs: The backend for jobs that name none.
        on_progress: Called on the event loop with each progress event.

    Yields:
        One `SimulationEvent` per job, in the order they finish.

    Raises:
        ValueError: If `jobs` is empty or `max_concurrent` is below 1.
    """
    stream = _stream(jobs, energyplus, max_concurrent, cache, fs, on_progress)
    async for index, (result, _), completed in stream:
        label = jobs[index].label or f"job-{index}"
        yield SimulationEvent(index, label, result, completed, len(jobs))


async def _stream(
    jobs: Sequence[SimulationJob],
    energyplus: EnergyPlusConfig | str | Path | None,
    max_concurrent: int | None,
    cache: SimulationCache | None,
    fs: FileSystem | AsyncFileSystem | None,
    on_progress: Callable[[Any], Any] | None,
) -> AsyncIterator[tuple[int, tuple[SimulationResult, str], int]]:
    """(index, outcome, completed) per job as each finishes; pending jobs stop on exit."""
    check_batch(jobs, on_progress)
    limit = max_concurrent if max_concurrent is not None else min(len(jobs), os.cpu_count() or 1)
    if limit < 1:
        raise ValueError(f"max_concurrent must be at least 1, not {max_concurrent}")
    loop = asyncio.get_running_loop()
    config = (
        energyplus
        if isinstance(energyplus, EnergyPlusConfig)
        else await asyncio.to_thread(partial(find_energyplus, path=energyplus))
    )
    shared_fs = sync_filesystem(fs, loop)
    prepared = prepare_jobs(jobs, shared_fs, config)
    progress = progress_on_loop(on_progress, loop)
    gate = asyncio.Semaphore(limit)

    async def one(index: int, job: SimulationJob) -> tuple[int, tuple[SimulationResult, str]]:
        async with gate:
            marked = _job_progress(progress if callable(progress) else None, index, job)
            return index, await run_cancellable(run_job, job, index, cache, marked)

    tasks = [asyncio.ensure_future(one(i, job)) for i, job in enumerate(prepared)]
    try:
        for completed, next_done in enumerate(asyncio.as_completed(tasks), start=1):
            index, outcome = await next_done
            yield index, outcome, completed
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
