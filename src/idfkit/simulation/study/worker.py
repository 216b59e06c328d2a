"""A study's worker: run one job by its index and publish the results into the study."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, Literal

from idfkit.simulation._job_context import JobContext, job_context
from idfkit.simulation.energyplus import EnergyPlusConfig
from idfkit.simulation.exceptions import IncompleteResultError, StudyError
from idfkit.simulation.fs.base import FileSystem, download_file, join, normalize_path
from idfkit.simulation.manifest import JobBinding
from idfkit.simulation.metrics import MetricsHook
from idfkit.simulation.progress import SimulationProgress
from idfkit.simulation.result import SimulationResult
from idfkit.simulation.runner import simulate
from idfkit.simulation.study.index import (
    JobSpec,
    input_digest_problem,
    load_study,
    study_location,
)

__all__ = ["WorkerOutcome", "run_study_job"]


@dataclass(frozen=True)
class WorkerOutcome:
    """What a worker did with its job."""

    spec: JobSpec
    action: Literal["ran", "skipped"]
    result: SimulationResult

    @property
    def success(self) -> bool:
        return self.result.success


def run_study_job(
    fs: FileSystem,
    index: int,
    study: str | PurePath = "",
    *,
    force: bool = False,
    energyplus: EnergyPlusConfig | str | Path | None = None,
    metrics: MetricsHook | None = None,
    on_progress: Callable[[SimulationProgress], Any] | None = None,
) -> WorkerOutcome:
    """Run job ``index`` of a study and publish its results into the study.

    A job whose successful manifest is already there, made for this very
    job, is skipped unless ``force``, so a resubmitted array does no work
    twice; a result made for another job (stale) is replaced.

    Args:
        fs: The backend that holds the study.
        index: The job's index in the study.
        study: The study's folder on ``fs``.
        force: Run even if the job already succeeded.
        energyplus: The engine (found automatically when None).
        metrics: A hook that adds the user's own metrics to the manifest
            (see `idfkit.simulation.metrics`).
        on_progress: A callable given each `SimulationProgress` of the run.

    Returns:
        What the worker did, and the job's result.

    Raises:
        StudyError: The study cannot be read or ``index`` is out of range.
    """
    root = normalize_path(study)
    plan = load_study(fs, root)
    if not 0 <= index < len(plan.jobs):
        raise StudyError(
            f"job index {index} is out of range: the study at {study_location(fs, root)} has "
            f"{len(plan.jobs)} jobs (0 to {len(plan.jobs) - 1})"
        )
    spec = plan.jobs[index]
    out = join(root, spec.output_dir)
    binding = spec.binding()
    if not force:
        prefix = spec.options.output_prefix
        existing = SimulationResult.from_directory(out, fs=fs, output_prefix=prefix)
        if _succeeded(existing, binding):
            return WorkerOutcome(spec, "skipped", existing)
    with tempfile.TemporaryDirectory(prefix="idfkit-worker-") as tmp:
        model = Path(tmp) / PurePosixPath(spec.model).name
        weather = Path(tmp) / PurePosixPath(spec.weather).name
        for stored, local in ((spec.model, model), (spec.weather, weather)):
            download_file(fs, join(root, stored), local)
            problem = input_digest_problem(local, stored)
            if problem is not None:  # checked after the download, right before the run
                raise StudyError(f"job {index}: {problem}; write the study again")
        context = JobContext(binding=binding, parameters=spec.parameters, metrics=metrics)
        with job_context(context):
            result = simulate(
                model,
                weather,
                output_dir=out,
                fs=fs,
                energyplus=energyplus,
                label=spec.label,
                options=spec.options,
                on_progress=on_progress,
            )
    return WorkerOutcome(spec, "ran", result)


def _succeeded(result: SimulationResult, binding: JobBinding) -> bool:
    try:
        manifest = result.manifest
    except (FileNotFoundError, IncompleteResultError):
        return False
    return manifest is not None and manifest.success and manifest.job == binding
