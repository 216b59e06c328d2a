"""What a run records about the job that asked for it: set by the caller, read by the runner.

A study worker (or a batch job) wraps its call to ``simulate`` in
:func:`job_context`; the runner asks :func:`manifest_extras` for the fields
to add to the manifest it writes last. A context variable carries them, so
``simulate``'s signature stays idfkit's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from idfkit.simulation.manifest import JobBinding

__all__ = ["JobContext", "job_context", "manifest_extras"]


@dataclass(frozen=True)
class JobContext:
    """The job a run is made for."""

    binding: JobBinding | None = None


_CURRENT: ContextVar[JobContext | None] = ContextVar("idfkit_job_context", default=None)


@contextmanager
def job_context(context: JobContext) -> Iterator[None]:
    """Runs started inside this block record ``context`` in their manifests."""
    token = _CURRENT.set(context)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def manifest_extras(run_dir: Path, output_prefix: str) -> dict[str, object]:
    """The manifest fields that come from the job, for a run whose outputs are in ``run_dir``."""
    context = _CURRENT.get()
    extras: dict[str, object] = {}
    if context is not None and context.binding is not None:
        extras["job"] = context.binding
    return extras
