"""Many simulations on one machine, or on any ``concurrent.futures.Executor``."""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import KW_ONLY, dataclass, field, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, overload

from idfkit.document import IDFDocument
from idfkit.simulation._job_context import JobContext, job_context
from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus
from idfkit.simulation.fs.base import FileSystem, normalize_path
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.result import SimulationResult
from idfkit.simulation.runner import simulate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BatchResult", "JobOutcome", "SimulationJob", "simulate_batch"]


@dataclass(frozen=True)
class SimulationJob:
    """One simulation to run: the arguments of `simulate`, kept for later.

    Jobs pickle (models, paths and every built-in FileSystem do), so they
    can be sent to a process pool or a Dask cluster.
    """

    model: IDFDocument | str | PurePath
    weather: str | PurePath
    _: KW_ONLY
    label: str = ""
    output_dir: str | PurePath | None = None
    fs: FileSystem | None = None
    energyplus: EnergyPlusConfig | str | Path | None = None
    annual: bool = False
    design_day: bool = False
    output_prefix: str = "eplus"
    timeout: float = 3600.0
    extra_args: tuple[str, ...] = field(default=())
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def run(self) -> SimulationResult:
        """Run this job now, in this process; its ``parameters`` go into the run's manifest."""
        with job_context(JobContext(parameters=self.parameters)):
            return self._simulate()

    def _simulate(self) -> SimulationResult:
        return simulate(
            self.model,
            self.weather,
            output_dir=self.output_dir,
            energyplus=self.energyplus,
            annual=self.annual,
            design_day=self.design_day,
            output_prefix=self.output_prefix,
            timeout=self.timeout,
            extra_args=self.extra_args,
            fs=self.fs,
            label=self.label,
        )


@dataclass(frozen=True)
class JobOutcome:
    """What became of one job: its result, or the error that stopped it."""

    index: int
    label: str
    result: SimulationResult | None
    error: str = ""
    error_type: str = ""

    @property
    def success(self) -> bool:
        return self.result is not None and self.result.success

    @property
    def status(self) -> str:
        if self.result is None:
            return "error"
        return "succeeded" if self.result.success else "failed"

    @property
    def runtime_seconds(self) -> float | None:
        return self.result.runtime_seconds if self.result is not None else None

    def summary_row(self) -> dict[str, Any]:
        detail = self.error
        if self.result is not None and not self.result.success:
            detail = self.result.errors.summary().splitlines()[0]
        return {
            "index": self.index,
            "label": self.label,
            "status": self.status,
            "runtime_seconds": self.runtime_seconds,
            "error": detail,
        }


class BatchResult(Sequence[JobOutcome]):
    """Outcomes in the order the jobs were given."""

    def __init__(self, outcomes: Sequence[JobOutcome]) -> None:
        self._outcomes = list(outcomes)

    @overload
    def __getitem__(self, index: int) -> JobOutcome: ...
    @overload
    def __getitem__(self, index: slice) -> list[JobOutcome]: ...
    def __getitem__(self, index: int | slice) -> JobOutcome | list[JobOutcome]:
        return self._outcomes[index]

    def __len__(self) -> int:
        return len(self._outcomes)

    def __iter__(self) -> Iterator[JobOutcome]:
        return iter(self._outcomes)

    @property
    def succeeded(self) -> list[JobOutcome]:
        return [o for o in self._outcomes if o.success]

    @property
    def failed(self) -> list[JobOutcome]:
        return [o for o in self._outcomes if not o.success]

    @property
    def all_succeeded(self) -> bool:
        return all(o.success for o in self._outcomes)

    def summary(self) -> list[dict[str, Any]]:
        """One row per job: index, label, status, runtime_seconds, error."""
        return [o.summary_row() for o in self._outcomes]

    def to_dataframe(self) -> pd.DataFrame:
        """The summary as a DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError('to_dataframe() needs pandas: pip install "idfkit[pandas]"') from exc
        return pd.DataFrame(self.summary()).set_index("index")

    def __repr__(self) -> str:
        return f"<BatchResult {len(self.succeeded)}/{len(self)} succeeded>"

    def _repr_html_(self) -> str:
        return rows_to_html(self.summary(), caption=repr(self)[1:-1])


def rows_to_html(rows: Sequence[dict[str, Any]], *, caption: str) -> str:
    """A plain HTML table of uniform dict rows, for Jupyter."""
    if not rows:
        return f"<p>{html.escape(caption)} (empty)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    return f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


Progress = Callable[[int, int, JobOutcome], None]


def simulate_batch(
    jobs: Sequence[SimulationJob],
    *,
    max_workers: int | None = None,
    executor: Executor | None = None,
    fs: FileSystem | None = None,
    energyplus: EnergyPlusConfig | str | Path | None = None,
    progress: Progress | bool | None = None,
) -> BatchResult:
    """Run ``jobs`` concurrently; one job's failure never stops the others.

    By default a thread pool of ``max_workers`` (the number of CPUs) runs
    them; ``executor`` takes any ``concurrent.futures.Executor`` instead (a
    process pool, or Dask's ``Client.get_executor()``). ``fs`` is the backend
    for jobs that name none; such jobs need an ``output_dir``, taken from the
    label when missing. ``progress`` is a callback ``(done, total, outcome)``,
    or True for a tqdm bar (a line per job without tqdm).
    """
    config = energyplus if isinstance(energyplus, EnergyPlusConfig) else find_energyplus(energyplus)
    prepared = [_prepare(job, i, fs, config) for i, job in enumerate(jobs)]
    _refuse_shared_folders(prepared)
    report = _progress_reporter(progress, len(prepared))
    outcomes: list[JobOutcome | None] = [None] * len(prepared)
    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers or os.cpu_count() or 1)
    try:
        futures: dict[Future[JobOutcome], int] = {
            pool.submit(run_job, job, i): i for i, job in enumerate(prepared)
        }
        for done, future in enumerate(as_completed(futures), start=1):
            i = futures[future]
            try:
                outcome = future.result()
            except BaseException as exc:  # noqa: BLE001 - a worker that died, not the job
                outcome = _error_outcome(i, prepared[i].label, exc)
            outcomes[i] = outcome
            report(done, outcome)
    finally:
        if own_pool:
            pool.shutdown(wait=True, cancel_futures=True)
        report.close()
    return BatchResult([o for o in outcomes if o is not None])


def run_job(job: SimulationJob, index: int) -> JobOutcome:
    """Run one job and capture any error as data (a top-level function, so it pickles)."""
    try:
        return JobOutcome(index=index, label=job.label, result=job.run())
    except Exception as exc:  # noqa: BLE001 - recorded in the outcome, by design
        return _error_outcome(index, job.label, exc)


def _error_outcome(index: int, label: str, exc: BaseException) -> JobOutcome:
    return JobOutcome(
        index=index, label=label, result=None, error=str(exc), error_type=type(exc).__name__
    )


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
    if Path(job.weather).is_file():
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
    if fs is None or (isinstance(fs, LocalFileSystem) and fs.root is None):
        return ("local", os.path.realpath(job.output_dir))
    try:
        folder = normalize_path(job.output_dir)
    except ValueError:
        return None  # refused by simulate() itself, with its own message
    if isinstance(fs, LocalFileSystem) and fs.root is not None:
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

    def __call__(self, done: int, outcome: JobOutcome) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{outcome.label or outcome.index}: {outcome.status}")
        if self.callback is not None:
            self.callback(done, self.total, outcome)

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


def _print_line(done: int, total: int, outcome: JobOutcome) -> None:
    print(f"[{done}/{total}] {outcome.label or outcome.index}: {outcome.status}", flush=True)
