"""What a run records about the job that asked for it: set by the caller, read by the runner.

A study worker (or a batch job) wraps its call to ``simulate`` in
`job_context`; the runner asks `manifest_extras` for the fields
to add to the manifest it writes last: the job binding, the parameters, and
the key metrics read from the run's SQLite output. A context variable
carries them, so ``simulate``'s signature stays idfkit's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idfkit.simulation.manifest import JobBinding, Metric
from idfkit.simulation.metrics import MetricsHook, metrics_gap, read_metrics, sql_output
from idfkit.simulation.parsers.sql import SQLResult

__all__ = ["JobContext", "job_context", "job_fields", "manifest_extras", "wants_key_metrics"]


@dataclass(frozen=True)
class JobContext:
    """The job a run is made for: its study binding, its parameters, the user's metrics hook."""

    binding: JobBinding | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    metrics: MetricsHook | None = None


_CURRENT: ContextVar[JobContext | None] = ContextVar("idfkit_job_context", default=None)


@contextmanager
def job_context(context: JobContext) -> Iterator[None]:
    """Runs started inside this block record ``context`` in their manifests."""
    token = _CURRENT.set(context)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def wants_key_metrics() -> bool:
    """Whether the run being prepared is a study job's, which always carries the key metrics."""
    context = _CURRENT.get()
    return context is not None and context.binding is not None


def job_fields(*, wrote_sql: bool, metrics: Mapping[str, Metric]) -> dict[str, object]:
    """The manifest fields that describe the job asking for a run.

    Its binding, its parameters and, for a study job, why the run has no
    key metrics. A run and a cache hit both take them from here, so a
    manifest always describes the job that asked, never the one a cached
    run was made for.

    Args:
        wrote_sql: Whether the run wrote its SQLite output.
        metrics: The metrics read from it.
    """
    context = _CURRENT.get() or JobContext()
    note = metrics_gap(wrote_sql, metrics) if context.binding is not None else ""
    return {"job": context.binding, "parameters": dict(context.parameters), "metrics_note": note}


def manifest_extras(run_dir: Path, output_prefix: str) -> dict[str, object]:
    """The manifest fields that come from the job and the run's SQLite output in ``run_dir``.

    Args:
        run_dir: The local folder EnergyPlus ran in.
        output_prefix: The run's output prefix, which names its SQLite file.
    """
    context = _CURRENT.get() or JobContext()
    path = sql_output(run_dir, output_prefix)
    metrics: dict[str, Metric] = {}
    if path is not None:
        with SQLResult(path) as sql:
            metrics = read_metrics(sql, context.metrics)
    return {"metrics": metrics, **job_fields(wrote_sql=path is not None, metrics=metrics)}
