"""Many simulations on one machine, or on any `concurrent.futures.Executor`.

`SimulationJob` is one run to make, `simulate_batch` makes many, and
`BatchResult` holds their results in job order with a summary table.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import KW_ONLY, dataclass, field, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, overload

from idfkit.document import IDFDocument
from idfkit.simulation._display import rows_to_html
from idfkit.simulation._job_context import JobContext, job_context
from idfkit.simulation._optional import optional_import
from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus
from idfkit.simulation.fs.base import FileSystem, SupportsLocalPath, is_plain_local, normalize_path
from idfkit.simulation.options import OutputSuffix, RunOptions
from idfkit.simulation.parsers.err import first_cause
from idfkit.simulation.result import SimulationResult
from idfkit.simulation.runner import check_on_progress, simulate

if TYPE_CHECKING:
    import pandas as pd

    from idfkit.simulation.progress import SimulationProgress

__all__ = ["BatchResult", "SimulationJob", "simulate_batch"]


@dataclass(frozen=True)
class SimulationJob:
    """One simulation to run: the arguments of `simulate`, kept for later.

    The fields after `output_dir` are the run options (see `RunOptions`,
    available as `job.options`); they are checked when the job is made. Jobs
    pickle (models, paths and every built-in FileSystem do), so they can be
    sent to a process pool or a Dask cluster.

    Attributes:
        model: An `IDFDocument` or the path of a model file.
        weather: A weather file (local, or a path on the job's backend); None
            for design days only.
        label: A name for the job in reports and progress.
        output_dir: Where the results go; on a backend, the label (or
            `job-<index>`) when None.
        fs: The backend for the results; the batch's `fs` when None.
        energyplus: The installation to use; the batch's when None.
        parameters: What makes this job a variant (insulation thickness,
            say); kept in the run's manifest and in a study's table.
    """

    model: IDFDocument | str | PurePath
    weather: str | PurePath | None = None
    label: str = ""
    output_dir: str | PurePath | None = None
    expand_objects: bool = True
    annual: bool = False
    design_day: bool = False
    output_prefix: str = "eplus"
    output_suffix: OutputSuffix = "C"
    readvars: bool = False
    timeout: float = 3600.0
    preprocessor_timeout: float | None = None
    extra_args: tuple[str, ...] | None = None
    _: KW_ONLY
    fs: FileSystem | None = None
    energyplus: EnergyPlusConfig | str | Path | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.extra_args is not None and not isinstance(self.extra_args, tuple):
            checked = RunOptions(extra_args=self.extra_args).extra_args
            object.__setattr__(self, "extra_args", checked)
        _ = self.options  # refuse unusable options now, not when the job runs

    @property
    def options(self) -> RunOptions:
        """The job's run options as one value."""
        return RunOptions.from_mapping(self)

    def run(
        self,
        *,
        cache: Any = None,
        on_progress: Callable[[SimulationProgress], Any] | None = None,
    ) -> SimulationResult:
        """Run this job now, in this process; its `parameters` go into the run's manifest.

        Args:
            cache: A `SimulationCache`, as for `simulate`.
            on_progress: A callable given each `SimulationProgress`, as for `simulate`.
        """
        with job_context(JobContext(parameters=self.parameters)):
            return simulate(
                self.model,
                self.weather,
                output_dir=self.output_dir,
                energyplus=self.energyplus,
                fs=self.fs,
                label=self.label,
                cache=cache,
                on_progress=on_progress,
                options=self.options,
            )


#: `progress(completed=, total=, label=, success=)`, called as each job finishes.
Progress = Callable[..., None]


class BatchResult(Sequence[SimulationResult]):
    """One `SimulationResult` per job, in the order the jobs were given.

    A job that could not run at all still has a result: `success` is False,
    `exit_code` None, and `stderr` holds the error.

    Attributes:
        results: The results, in job order.
        total_runtime_seconds: Wall-clock seconds the whole batch took.

    Args:
        results: The results, in job order.
        total_runtime_seconds: Wall-clock seconds the whole batch took.
        labels: Each job's label, for `summary`; None leaves them blank.
        errors: Why each job could not run ("" for a job that ran); None
            when every job ran.
    """

    def __init__(
        self,
        results: Sequence[SimulationResult],
        total_runtime_seconds: float = 0.0,
        *,
        labels: Sequence[str] | None = None,
        errors: Sequence[str] | None = None,
    ) -> None:
        self.results: tuple[SimulationResult, ...] = tuple(results)
        self.total_runtime_seconds = total_runtime_seconds
        self._labels = tuple(labels) if labels is not None else ("",) * len(self.results)
        self._errors = tuple(errors) if errors is not None else ("",) * len(self.results)

    @overload
    def __getitem__(self, index: int) -> SimulationResult: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[SimulationResult, ...]: ...
    def __getitem__(self, index: int | slice) -> SimulationResult | tuple[SimulationResult, ...]:
        return self.results[index]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[SimulationResult]:
        return iter(self.results)

    @property
    def succeeded(self) -> tuple[SimulationResult, ...]:
        """The results of jobs that ran and succeeded."""
        return tuple(r for r, e in zip(self.results, self._errors, strict=True) if _ok(r, e))

    @property
    def failed(self) -> tuple[SimulationResult, ...]:
        """The results of jobs that failed or could not run."""
        return tuple(r for r, e in zip(self.results, self._errors, strict=True) if not _ok(r, e))

    @property
    def all_succeeded(self) -> bool:
        """Whether every job succeeded."""
        return len(self.succeeded) == len(self.results)

    def summary(self) -> list[dict[str, Any]]:
        """One row per job: index, label, status, runtime_seconds, error."""
        rows = []
        for i, (result, label, error) in enumerate(
            zip(self.results, self._labels, self._errors, strict=True)
        ):
            if error:
                status, runtime, detail = "error", None, error
            else:
                status = "succeeded" if result.success else "failed"
                runtime, detail = result.runtime_seconds, "" if result.success else _why(result)
            rows.append(
                {
                    "index": i,
                    "label": label,
                    "status": status,
                    "runtime_seconds": runtime,
                    "error": detail,
                }
            )
        return rows

    def to_dataframe(self) -> pd.DataFrame:
        """The summary as a DataFrame indexed by job (needs pandas)."""
        pandas = optional_import("pandas", "to_dataframe()")
        frame: pd.DataFrame = pandas.DataFrame(self.summary()).set_index("index")
        return frame

    def __repr__(self) -> str:
        return f"<BatchResult {len(self.succeeded)}/{len(self)} succeeded>"

    def _repr_html_(self) -> str:
        return rows_to_html(self.summary(), caption=repr(self)[1:-1])


def _ok(result: SimulationResult, error: str) -> bool:
    return not error and result.success


def _why(result: SimulationResult) -> str:
    """The line of what a failed run's manifest says went wrong that names the cause."""
    manifest = getattr(result, "manifest", None)
    summary = getattr(manifest, "error_summary", "") or result.stderr
    return first_cause(summary)


def simulate_batch(
    jobs: Sequence[SimulationJob],
    *,
    energyplus: EnergyPlusConfig | str | Path | None = None,
    max_workers: int | None = None,
    cache: Any = None,
    progress: Progress | bool | None = None,
    fs: FileSystem | None = None,
    on_progress: Callable[[SimulationProgress], Any] | None = None,
    executor: Executor | None = None,
) -> BatchResult:
    """Run `jobs` concurrently; one job's failure never stops the others.

    Args:
        jobs: The simulations to run.
        energyplus: The installation for jobs that name none.
        max_workers: Threads of the default pool (the number of CPUs).
        cache: A `SimulationCache` given to every job.
        progress: Called as `progress(completed=, total=, label=, success=)`
            when each job ends; True draws a tqdm bar (a line per job without tqdm).
        fs: The backend for jobs that name none; such jobs need an
            `output_dir`, taken from the label (or `job-<index>`) when missing.
        on_progress: Given each job's `SimulationProgress`, with `job_index`
            and `job_label` set.
        executor: Any `concurrent.futures.Executor` to use instead of the
            thread pool (a process pool, Dask's `Client.get_executor()`).

    Returns:
        One result per job, in the order given. A job that could not run
        (a missing file, say) has a result with `success` False and the
        error in `stderr`.

    Raises:
        ValueError: `jobs` is empty, `on_progress` is a name such as
            `"tqdm"`, or two jobs would write the same output folder (nothing runs).
    """
    check_batch(jobs, on_progress)
    started = time.perf_counter()
    prepared = prepare_jobs(jobs, fs, _engine(energyplus))
    report = _progress_reporter(progress, len(prepared))
    results: list[SimulationResult | None] = [None] * len(prepared)
    errors: list[str] = [""] * len(prepared)
    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers or os.cpu_count() or 1)
    try:
        futures: dict[Future[tuple[SimulationResult, str]], int] = {
            pool.submit(run_job, job, i, cache, _job_progress(on_progress, i, job)): i
            for i, job in enumerate(prepared)
        }
        for done, future in enumerate(as_completed(futures), start=1):
            i = futures[future]
            try:
                results[i], errors[i] = future.result()
            except BaseException as exc:  # noqa: BLE001 - a worker that died, not the job
                results[i], errors[i] = failed_result(prepared[i], exc)
            result = results[i]
            assert result is not None
            report(done, prepared[i].label or f"job-{i}", not errors[i] and result.success)
    finally:
        if own_pool:
            pool.shutdown(wait=True, cancel_futures=True)
        report.close()
    return BatchResult(
        tuple(r for r in results if r is not None),
        time.perf_counter() - started,
        labels=[job.label for job in prepared],
        errors=errors,
    )


def run_job(
    job: SimulationJob,
    index: int,
    cache: Any = None,
    on_progress: Callable[[SimulationProgress], Any] | None = None,
) -> tuple[SimulationResult, str]:
    """Run one job; an error becomes a failed result (a top-level function, so it pickles)."""
    try:
        return job.run(cache=cache, on_progress=on_progress), ""
    except Exception as exc:  # noqa: BLE001 - recorded in the result, by design
        return failed_result(job, exc)


def failed_result(job: SimulationJob, exc: BaseException) -> tuple[SimulationResult, str]:
    """A result for a job that could not run: not a success, the error in `stderr`.

    It points at a folder that was never made, so its readers find nothing:
    whatever an earlier run left in the job's `output_dir` is not this job's.
    """
    message = f"{type(exc).__name__}: {exc}"
    never_made = Path(tempfile.gettempdir()) / f"idfkit-not-run-{uuid.uuid4().hex[:12]}"
    result = SimulationResult(
        never_made,
        success=False,
        exit_code=None,
        stdout="",
        stderr=message,
        runtime_seconds=0.0,
        output_prefix=job.output_prefix,
    )
    return result, message


def check_batch(jobs: Sequence[SimulationJob], on_progress: object) -> None:
    """Refuse an empty batch, or an `on_progress` that is not a callable, before anything runs."""
    if not jobs:
        raise ValueError("jobs must not be empty: there is nothing to run")
    check_on_progress(on_progress, tqdm=False)


def prepare_jobs(
    jobs: Sequence[SimulationJob], fs: FileSystem | None, config: EnergyPlusConfig
) -> list[SimulationJob]:
    """The jobs as they will run (engine, backend and folders filled in, paths absolute).

    Raises:
        ValueError: Two jobs would write the same output folder.
    """
    prepared = [_prepare(job, i, fs, config) for i, job in enumerate(jobs)]
    _refuse_shared_folders(prepared)
    return prepared


class _JobProgress:
    """Passes a job's progress on, marked with the job (picklable when the callback is)."""

    def __init__(self, callback: Callable[[SimulationProgress], Any], index: int, label: str):
        self.callback, self.index, self.label = callback, index, label

    def __call__(self, progress: SimulationProgress) -> None:
        self.callback(replace(progress, job_index=self.index, job_label=self.label))


def _job_progress(
    callback: Callable[[SimulationProgress], Any] | None, index: int, job: SimulationJob
) -> _JobProgress | None:
    return None if callback is None else _JobProgress(callback, index, job.label or f"job-{index}")


def _engine(energyplus: EnergyPlusConfig | str | Path | None) -> EnergyPlusConfig:
    if isinstance(energyplus, EnergyPlusConfig):
        return energyplus
    return find_energyplus(path=energyplus)


def _prepare(
    job: SimulationJob, index: int, fs: FileSystem | None, config: EnergyPlusConfig
) -> SimulationJob:
    changes: dict[str, Any] = {}
    if job.energyplus is None:
        changes["energyplus"] = config
    if job.fs is None and fs is not None:
        changes["fs"] = fs
    if (job.fs or fs) is not None and job.output_dir is None:
        changes["output_dir"] = job.label or f"job-{index}"
    # Paths relative to the caller's working directory mean the same on any worker
    # (a process pool or a Dask worker may run elsewhere).
    if isinstance(job.model, str | PurePath):
        changes["model"] = Path(job.model).absolute()
    if job.weather is not None and Path(job.weather).is_file():
        changes["weather"] = Path(job.weather).absolute()
    if (job.fs or fs) is None and job.output_dir is not None and str(job.output_dir).strip():
        changes["output_dir"] = Path(job.output_dir).absolute()
    return replace(job, **changes) if changes else job


def _refuse_shared_folders(jobs: Sequence[SimulationJob]) -> None:
    """Two jobs writing one folder would leave one job's results in the other's place."""
    seen: dict[Hashable, int] = {}
    for i, job in enumerate(jobs):
        where = _folder_identity(job)
        if where is None:
            continue
        if where in seen:
            first = seen[where]
            raise ValueError(
                f"jobs {first} ({_name(jobs[first], first)}) and {i} ({_name(job, i)}) share "
                f"the output folder {str(job.output_dir)!r}; give each job its own output_dir"
            )
        seen[where] = i


def _name(job: SimulationJob, index: int) -> str:
    return repr(job.label) if job.label else f"job-{index}"


def _folder_identity(job: SimulationJob) -> Hashable | None:
    """Where a job's results go, comparable across jobs (None: a fresh temporary folder)."""
    if job.output_dir is None:
        return None
    fs = job.fs
    if is_plain_local(fs):
        return ("local", os.path.realpath(job.output_dir))
    try:
        folder = normalize_path(job.output_dir)
    except ValueError:
        return None  # refused by simulate() itself, with its own message
    if isinstance(fs, SupportsLocalPath) and fs.root is not None:
        return ("local", os.path.realpath(fs.root / folder))
    url = getattr(fs, "url", None)
    if callable(url):
        return (type(fs).__name__, getattr(fs, "endpoint_url", None), str(url(folder)))
    return (id(fs), folder)


class _Reporter:
    def __init__(self, total: int, callback: Progress | None, bar: Any) -> None:
        self.total = total
        self.callback = callback
        self.bar = bar

    def __call__(self, done: int, label: str, success: bool) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{label}: {'succeeded' if success else 'failed'}")
        if self.callback is not None:
            self.callback(completed=done, total=self.total, label=label, success=success)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _progress_reporter(progress: Progress | bool | None, total: int) -> _Reporter:
    if progress is None or progress is False:
        return _Reporter(total, None, None)
    if callable(progress):
        return _Reporter(total, progress, None)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Reporter(total, _print_line, None)
    return _Reporter(total, None, tqdm(total=total, desc="simulations", unit="run"))


def _print_line(*, completed: int, total: int, label: str, success: bool) -> None:
    print(f"[{completed}/{total}] {label}: {'succeeded' if success else 'failed'}", flush=True)
