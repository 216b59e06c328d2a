"""Collecting a study: one row per planned job, from the manifests alone."""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from idfkit.simulation._display import rows_to_html
from idfkit.simulation._optional import optional_import
from idfkit.simulation.exceptions import IncompleteResultError
from idfkit.simulation.fs._bulk import ReadOutcome, read_each, versions_of
from idfkit.simulation.fs.base import FileSystem, join, normalize_path
from idfkit.simulation.manifest import MANIFEST_NAME, JobBinding, RunManifest, read_manifest
from idfkit.simulation.parsers.err import first_cause
from idfkit.simulation.study import table
from idfkit.simulation.study.index import JobSpec, load_study

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CollectedRow", "Collection", "collect_results", "job_state"]

Status = Literal["succeeded", "failed", "stale", "missing", "incomplete"]
STATUSES: tuple[Status, ...] = ("succeeded", "failed", "stale", "incomplete", "missing")


@dataclass(frozen=True)
class CollectedRow:
    """One job of a study as collected: its status, parameters and metrics."""

    index: int
    label: str
    output_dir: str
    status: Status
    runtime_seconds: float | None = None
    exit_code: int | None = None
    error: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The row's fixed columns, then its parameters and metrics."""
        return {
            "index": self.index,
            "label": self.label,
            "status": self.status,
            **self.parameters,
            **self.metrics,
            "runtime_seconds": self.runtime_seconds,
            "exit_code": self.exit_code,
            "error": self.error,
        }


class Collection:
    """One row per planned job, in index order, and what to do next.

    The rows form the study's table: index, label, status, one column per
    parameter, one numeric column per metric (named with its unit, such as
    ``heating_kwh``), runtime_seconds, exit_code and error.

    `collect_results` makes one; it is rarely built by hand.

    Args:
        rows: One row per job, in index order.
        parameters: The study's parameter names, one column each.
        units: The unit of each metric column, by column name.
    """

    def __init__(
        self,
        rows: Sequence[CollectedRow],
        *,
        parameters: Sequence[str] = (),
        units: Mapping[str, str] | None = None,
    ) -> None:
        self.rows = list(rows)
        self.parameters = list(parameters)
        #: The unit of each metric column.
        self.units = dict(units or {})
        # Job index -> (fingerprint of its index entry, version of the manifest read):
        # what a later collect_results(previous=self) needs to skip unchanged runs.
        self._sources: dict[int, tuple[bytes, str]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def metrics(self) -> list[str]:
        """The metric columns: every metric any row has, sorted by name."""
        return sorted({name for row in self.rows for name in row.metrics})

    @property
    def columns(self) -> list[str]:
        """The table's columns, in order."""
        return [
            "index",
            "label",
            "status",
            *self.parameters,
            *self.metrics,
            "runtime_seconds",
            "exit_code",
            "error",
        ]

    def records(self) -> list[dict[str, Any]]:
        """The table as one dict per job, every column in every dict (None when absent)."""
        columns = self.columns
        records = []
        for row in self.rows:
            values = row.as_dict()
            records.append({c: values.get(c) for c in columns})
        return records

    def counts(self) -> dict[str, int]:
        """How many jobs have each status, every status named (zero included)."""
        counted: Counter[str] = Counter(r.status for r in self.rows)
        return {s: counted[s] for s in STATUSES}

    @property
    def all_succeeded(self) -> bool:
        return all(r.status == "succeeded" for r in self.rows)

    @property
    def to_resubmit(self) -> list[int]:
        """Indices without a finished result of their own (stale, missing, incomplete)."""
        return [r.index for r in self.rows if r.status in ("stale", "missing", "incomplete")]

    @property
    def failed(self) -> list[int]:
        """Indices that EnergyPlus ran and rejected: fix the model, not the worker."""
        return [r.index for r in self.rows if r.status == "failed"]

    def to_dataframe(self) -> pd.DataFrame:
        """The table as a DataFrame indexed by job index (needs pandas)."""
        pandas = optional_import("pandas", "to_dataframe()")
        frame: pd.DataFrame = pandas.DataFrame(self.records(), columns=self.columns)
        frame = frame.set_index("index")
        for name in self.metrics:
            frame[name] = frame[name].astype("float64")
        return frame

    def to_parquet(self, path: str | Path) -> Path:
        """Write the table to a Parquet file (needs pyarrow); metric units go in its metadata.

        Args:
            path: The local file to write.
        """
        return table.write_parquet(self, Path(path))

    def to_csv(self, path: str | Path) -> Path:
        """Write the table to a CSV file (a header row, then one row per job).

        Args:
            path: The local file to write.
        """
        return table.write_csv(self, Path(path))

    def to_json(self, path: str | Path) -> Path:
        """Write counts, indices to resubmit, metric units and the rows to a JSON file.

        Args:
            path: The local file to write.
        """
        return table.write_json(self, Path(path))

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
        return f"<Collection of {len(self.rows)} jobs: {counts or 'empty'}>"

    def display_records(self) -> list[dict[str, Any]]:
        """The table for a screen: fuel breakdowns and metrics zero in every row left out."""
        return table.display_records(self)

    def _repr_html_(self) -> str:
        return rows_to_html(self.display_records(), caption=repr(self)[1:-1])


def collect_results(
    fs: FileSystem,
    study: str | PurePath = "",
    *,
    max_workers: int = 32,
    previous: Collection | None = None,
) -> Collection:
    """The status, parameters and key metrics of every planned job, from the manifests alone.

    Costs one read of the index, about one listing request per 1,000 job
    folders, and one small read per folder that exists. No result file is
    downloaded. A result made for another job (the study was rewritten) reads
    as stale and contributes no metrics.

    Given the ``previous`` collection of the same study, it reads again only
    the manifests whose version changed since (on S3, from a recursive
    listing: about one request per 1,000 objects of the study, instead of one
    per run); a job whose manifest and entry in the index are both unchanged
    keeps its previous row. Backends that cannot tell versions without a read
    read every manifest again.

    Args:
        fs: The backend that holds the study.
        study: The study's folder on ``fs``.
        max_workers: Reads in flight at once.
        previous: An earlier collection of this study on this backend.

    Returns:
        One row per job, in index order.

    Raises:
        StudyError: The study's index is missing or corrupt.
    """
    root = normalize_path(study)
    plan = load_study(fs, root)
    parameters = plan.parameter_names()
    jobs = [_Job.of(spec) for spec in plan.jobs]
    del plan  # its JobSpecs weigh ~0.7 KB each: 70 MB at 100,000 jobs
    outputs = {job.index: join(root, job.output_dir) for job in jobs}
    present: set[str] = set()
    for parent in sorted({str(PurePosixPath(p).parent) for p in outputs.values()}):
        present.update(fs.glob("" if parent == "." else parent, "*"))
    units: dict[str, str] = {}
    sources: dict[int, tuple[bytes, str]] = {}
    rows: list[CollectedRow | None] = [None] * len(jobs)
    todo = [(i, job) for i, job in enumerate(jobs) if outputs[job.index] in present]
    for i, job in enumerate(jobs):
        if outputs[job.index] not in present:
            rows[i] = CollectedRow(
                job.index, job.label, job.output_dir, "missing", parameters=job.parameters
            )
    if previous is not None and previous._sources and todo:
        todo = _reuse(fs, previous, todo, outputs, rows, sources, units)

    def row(k: int, data: ReadOutcome, version: str | None) -> None:
        i, spec = todo[k]
        binding = spec.job_binding()  # made here, not kept: 100,000 of them weigh ~100 MB
        status, found, error = judge_manifest(data, outputs[spec.index], binding)
        if version is not None and isinstance(data, bytes):
            sources[spec.index] = (_fingerprint(spec), version)
        if found is None or status == "stale":
            status = "incomplete" if status == "missing" else status
            rows[i] = CollectedRow(
                spec.index,
                spec.label,
                spec.output_dir,
                status,
                error=error,
                parameters=spec.parameters,
            )
            return
        metrics: dict[str, float] = {}
        for name, metric in found.metrics.items():
            name = sys.intern(name)
            units.setdefault(name, metric.units)
            metrics[name] = metric.value
        rows[i] = CollectedRow(
            spec.index,
            spec.label,
            spec.output_dir,
            status,
            runtime_seconds=found.runtime_seconds,
            exit_code=found.exit_code,
            error=error,
            parameters=spec.parameters,
            metrics=metrics,
        )

    paths = [join(outputs[spec.index], MANIFEST_NAME) for _, spec in todo]
    read_each(fs, paths, row, max_workers=max(1, max_workers))
    collection = Collection([r for r in rows if r is not None], parameters=parameters, units=units)
    collection._sources = sources
    return collection


@dataclass(frozen=True, slots=True)
class _Job:
    """What collecting needs of a job: a third of its `JobSpec`'s weight (~0.25 KB)."""

    index: int
    label: str
    output_dir: str
    parameters: Mapping[str, Any]
    #: The job's `JobBinding` fields: model, weather and options digests.
    digests: tuple[str, str, str]

    @classmethod
    def of(cls, spec: JobSpec) -> _Job:
        binding = spec.binding()
        digests = (
            sys.intern(binding.model_sha256),  # one string for all jobs of one model
            sys.intern(binding.weather_sha256),
            binding.options_sha256,
        )
        return cls(spec.index, spec.label, spec.output_dir, spec.parameters, digests)

    def job_binding(self) -> JobBinding:
        model, weather, options = self.digests
        return JobBinding(model_sha256=model, weather_sha256=weather, options_sha256=options)


def _reuse(
    fs: FileSystem,
    previous: Collection,
    todo: list[tuple[int, _Job]],
    outputs: Mapping[int, str],
    rows: list[CollectedRow | None],
    sources: dict[int, tuple[bytes, str]],
    units: dict[str, str],
) -> list[tuple[int, _Job]]:
    """Keep the previous rows of jobs whose index entry and manifest version are unchanged.

    Returns the jobs still to read.
    """
    paths = {spec.index: join(outputs[spec.index], MANIFEST_NAME) for _, spec in todo}
    current = versions_of(fs, list(paths.values()))
    if current is None:
        return todo
    earlier = {r.index: r for r in previous.rows}
    left: list[tuple[int, _Job]] = []
    for i, spec in todo:
        known = previous._sources.get(spec.index)
        version = current.get(paths[spec.index])
        old = earlier.get(spec.index)
        if (
            known is None
            or old is None
            or version is None
            or known != (_fingerprint(spec), version)
        ):
            left.append((i, spec))
            continue
        rows[i] = old
        sources[spec.index] = known
        for name in old.metrics:
            if name in previous.units:
                units.setdefault(name, previous.units[name])
    return left


def _fingerprint(job: _Job) -> bytes:
    """What a row depends on besides its manifest: the job's entry in the index."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (job.label, job.output_dir, *job.digests):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.digest()


def job_state(fs: FileSystem, out: str, spec: JobSpec) -> tuple[Status, RunManifest | None, str]:
    """A job's status from the manifest in its folder ``out``: one small read.

    Returns the status, the manifest when it is the job's own (succeeded or
    failed), and a one-line reason for anything but success.

    Args:
        fs: The study's backend.
        out: The job's output folder on ``fs``.
        spec: The job, as the study index lists it.
    """
    data: ReadOutcome
    try:
        data = fs.read_bytes(join(out, MANIFEST_NAME))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError) as exc:
        data = exc
    return judge_manifest(data, out, spec.binding())


def judge_manifest(
    data: ReadOutcome, out: str, binding: JobBinding
) -> tuple[Status, RunManifest | None, str]:
    """`job_state` from what reading the manifest gave (its bytes, or why there are none)."""
    if isinstance(data, FileNotFoundError):
        return "missing", None, "no manifest"
    if isinstance(data, OSError | ValueError):
        # A stray object below the manifest's path, a file where the job's folder
        # should be, or a folder the backend refuses to name (a link out of its root):
        # this job's folder is not a run, and only this job says so.
        where = join(out, MANIFEST_NAME)
        return "incomplete", None, f"{where} is not a manifest file: {data}"[:300]
    try:
        found = read_manifest(data, where=out)
    except IncompleteResultError as exc:
        return "incomplete", None, str(exc)[:300]
    if not isinstance(found, RunManifest):
        return "incomplete", None, "publishing never finished"
    if found.job != binding:
        return "stale", None, _stale_reason(found, binding)
    if found.success:
        return "succeeded", found, found.metrics_note  # why it has no metrics, if it has none
    return "failed", found, first_cause(found.error_summary)


def _stale_reason(found: RunManifest, wanted: JobBinding) -> str:
    if found.job is None:
        return "the result there records no study job (made before this study)"
    changed = [
        what
        for what, old, new in (
            ("model", found.job.model_sha256, wanted.model_sha256),
            ("weather", found.job.weather_sha256, wanted.weather_sha256),
            ("run options or parameters", found.job.options_sha256, wanted.options_sha256),
        )
        if old != new
    ]
    return f"the result there was made for another job ({', '.join(changed)} changed)"
