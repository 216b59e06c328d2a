"""Studies: many jobs prepared on one machine, run by many workers, collected anywhere.

A study is a folder on a FileSystem::

    <study>/idfkit-study.json          the job index (written last by write_study)
    <study>/inputs/models/<sha256>.idf each distinct model, stored once
    <study>/inputs/weather/<sha256>.epw each distinct weather file, stored once
    <study>/<output_dir>/...           one run's outputs and its manifest

Workers (AWS Batch array jobs, Kubernetes Indexed Jobs, Dask) each run one
job by index; :func:`collect_results` tells succeeded, failed, stale, missing
and incomplete apart from the manifests alone. Each run's manifest records the
job it was made for (:class:`~idfkit.simulation.manifest.JobBinding`); a
result made for another job (an earlier study written to the same place)
reads as stale and is run again.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

import idfkit
from idfkit.document import IDFDocument, load_idf
from idfkit.exceptions import IncompleteResultError, StudyError
from idfkit.simulation._job_context import JobContext, job_context
from idfkit.simulation.batch import SimulationJob, rows_to_html
from idfkit.simulation.energyplus import EnergyPlusConfig
from idfkit.simulation.fs.base import FileSystem, download_file, join, normalize_path
from idfkit.simulation.manifest import MANIFEST_NAME, JobBinding, RunManifest, read_manifest
from idfkit.simulation.result import SimulationResult
from idfkit.simulation.runner import simulate

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "STUDY_INDEX",
    "CollectedRow",
    "Collection",
    "JobSpec",
    "StudyIndex",
    "WorkerOutcome",
    "collect_results",
    "load_study",
    "run_study_job",
    "write_study",
]

STUDY_INDEX = "idfkit-study.json"
Status = Literal["succeeded", "failed", "stale", "missing", "incomplete"]


#: The options of simulate() that a job carries to its worker unchanged.
RUN_OPTIONS = ("annual", "design_day", "output_prefix", "timeout", "extra_args")


class JobSpec(BaseModel):
    """One job of a study, as a worker reads it. Paths are relative to the study."""

    model_config = ConfigDict(frozen=True)

    index: int
    label: str
    output_dir: str
    model: str
    weather: str
    annual: bool = False
    design_day: bool = False
    output_prefix: str = "eplus"
    timeout: float = 3600.0
    extra_args: tuple[str, ...] = ()

    def binding(self) -> JobBinding:
        """What a run made for this job records in its manifest.

        The model and weather digests are those in the stored inputs' names
        (the study stores them content-addressed); the options digest covers
        every run option, so changing any of them makes an earlier result stale.
        """
        options = {name: getattr(self, name) for name in RUN_OPTIONS}
        digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()
        return JobBinding(
            model_sha256=PurePosixPath(self.model).stem,
            weather_sha256=PurePosixPath(self.weather).stem,
            options_sha256=digest,
        )


class StudyIndex(BaseModel):
    """The job index of a study."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = 1
    created_at: datetime
    idfkit_version: str
    jobs: tuple[JobSpec, ...]


def write_study(
    jobs: Sequence[SimulationJob],
    fs: FileSystem,
    study: str | PurePath = "",
    *,
    overwrite: bool = False,
    max_workers: int = 8,
) -> StudyIndex:
    """Store ``jobs`` as a study on ``fs``: inputs once each, then the job index.

    Each job's ``output_dir`` (or its label, or ``job-<index>``) names its
    results folder inside the study; a job's own ``fs`` is not used, since the
    study's backend holds inputs and results alike. An existing study is
    refused unless ``overwrite`` is True.
    """
    root = normalize_path(study)
    index_path = join(root, STUDY_INDEX)
    if fs.exists(index_path) and not overwrite:
        raise StudyError(f"a study already exists at {index_path!r}; pass overwrite=True")
    if not jobs:
        raise StudyError("a study needs at least one job")
    uploads: dict[str, bytes] = {}
    known: dict[object, str] = {}  # a path read once per call, however many jobs name it
    specs: list[JobSpec] = []
    seen_dirs: dict[str, int] = {}
    for i, job in enumerate(jobs):
        output_dir = normalize_path(job.output_dir or job.label or f"job-{i:05d}")
        if not output_dir or PurePosixPath(output_dir).parts[0] == "inputs":
            raise StudyError(f"job {i}: output_dir {output_dir!r} is not usable in a study")
        if output_dir in seen_dirs:
            raise StudyError(
                f"jobs {seen_dirs[output_dir]} and {i} share output_dir {output_dir!r}"
            )
        seen_dirs[output_dir] = i
        model_path = _stored(
            job.model, known, uploads, "inputs/models", partial(_model_bytes, job.model)
        )
        weather_path = _stored(
            job.weather, known, uploads, "inputs/weather", partial(_weather, job.weather, fs, root)
        )
        specs.append(
            JobSpec(
                index=i,
                label=job.label or output_dir,
                output_dir=output_dir,
                model=model_path,
                weather=weather_path,
                **{name: getattr(job, name) for name in RUN_OPTIONS},
            )
        )

    def store(item: tuple[str, bytes]) -> None:
        path = join(root, item[0])
        if not fs.exists(path):  # content-addressed: an existing file is identical
            fs.write_bytes(path, item[1])

    with ThreadPoolExecutor(max(1, min(max_workers, len(uploads)))) as pool:
        list(pool.map(store, uploads.items()))
    index = StudyIndex(
        created_at=datetime.now(UTC), idfkit_version=idfkit.__version__, jobs=tuple(specs)
    )
    fs.write_text(index_path, index.model_dump_json(indent=1))
    return index


def load_study(fs: FileSystem, study: str | PurePath = "") -> StudyIndex:
    """Read a study's job index; ``StudyError`` if it is missing or corrupt."""
    path = join(study, STUDY_INDEX)
    try:
        text = fs.read_bytes(path)
    except FileNotFoundError as exc:
        raise StudyError(f"no study index at {path!r} on {fs!r}: {exc}") from exc
    try:
        return StudyIndex.model_validate_json(text)
    except ValidationError as exc:
        raise StudyError(f"the study index at {path!r} is corrupt: {exc}") from None


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
) -> WorkerOutcome:
    """Run job ``index`` of a study and publish its results into the study.

    A job whose successful manifest is already there, made for this very
    job, is skipped unless ``force``, so a resubmitted array does no work
    twice; a result made for another job (stale) is replaced.
    """
    root = normalize_path(study)
    plan = load_study(fs, root)
    if not 0 <= index < len(plan.jobs):
        raise StudyError(
            f"job index {index} is out of range: the study at {root or '.'!r} has "
            f"{len(plan.jobs)} jobs (0 to {len(plan.jobs) - 1})"
        )
    spec = plan.jobs[index]
    out = join(root, spec.output_dir)
    binding = spec.binding()
    if not force:
        existing = SimulationResult.from_directory(out, fs=fs, output_prefix=spec.output_prefix)
        if _succeeded(existing, binding):
            return WorkerOutcome(spec, "skipped", existing)
    with tempfile.TemporaryDirectory(prefix="idfkit-worker-") as tmp:
        model = Path(tmp) / PurePosixPath(spec.model).name
        weather = Path(tmp) / PurePosixPath(spec.weather).name
        download_file(fs, join(root, spec.model), model)
        download_file(fs, join(root, spec.weather), weather)
        with job_context(JobContext(binding=binding)):
            result = simulate(
                model,
                weather,
                output_dir=out,
                fs=fs,
                energyplus=energyplus,
                label=spec.label,
                **{name: getattr(spec, name) for name in RUN_OPTIONS},
            )
    return WorkerOutcome(spec, "ran", result)


def _succeeded(result: SimulationResult, binding: JobBinding) -> bool:
    try:
        manifest = result.manifest
    except (FileNotFoundError, IncompleteResultError):
        return False
    return manifest is not None and manifest.success and manifest.job == binding


@dataclass(frozen=True)
class CollectedRow:
    index: int
    label: str
    output_dir: str
    status: Status
    runtime_seconds: float | None = None
    exit_code: int | None = None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "label": self.label,
            "status": self.status,
            "runtime_seconds": self.runtime_seconds,
            "exit_code": self.exit_code,
            "error": self.error,
        }


class Collection:
    """One row per planned job, in index order, and what to do next."""

    def __init__(self, rows: Sequence[CollectedRow]) -> None:
        self.rows = list(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def counts(self) -> dict[str, int]:
        """How many jobs have each status, every status named (zero included)."""
        counted: Counter[str] = Counter(r.status for r in self.rows)
        return {s: counted[s] for s in ("succeeded", "failed", "stale", "incomplete", "missing")}

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
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError('to_dataframe() needs pandas: pip install "idfkit[pandas]"') from exc
        return pd.DataFrame([r.as_dict() for r in self.rows]).set_index("index")

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
        return f"<Collection of {len(self.rows)} jobs: {counts or 'empty'}>"

    def _repr_html_(self) -> str:
        return rows_to_html([r.as_dict() for r in self.rows], caption=repr(self)[1:-1])


def collect_results(
    fs: FileSystem,
    study: str | PurePath = "",
    *,
    max_workers: int = 32,
) -> Collection:
    """The status of every planned job, from the study's manifests alone.

    Costs one read of the index, about one listing request per 1,000 job
    folders, and one small read per folder that exists. No result file is
    downloaded.
    """
    root = normalize_path(study)
    plan = load_study(fs, root)
    outputs = {spec.index: join(root, spec.output_dir) for spec in plan.jobs}
    present: set[str] = set()
    for parent in sorted({str(PurePosixPath(p).parent) for p in outputs.values()}):
        present.update(fs.glob("" if parent == "." else parent, "*"))

    def row(spec: JobSpec) -> CollectedRow:
        out = outputs[spec.index]
        missing = CollectedRow(spec.index, spec.label, spec.output_dir, status="missing")
        if out not in present:
            return missing
        try:
            found = read_manifest(fs.read_bytes(join(out, MANIFEST_NAME)), where=out)
        except FileNotFoundError:
            return replace(missing, status="incomplete", error="no manifest")
        except IncompleteResultError as exc:
            return replace(missing, status="incomplete", error=str(exc)[:300])
        if not isinstance(found, RunManifest):
            return replace(missing, status="incomplete", error="publishing never finished")
        if found.job != spec.binding():
            return replace(missing, status="stale", error=_stale_reason(found, spec))
        return replace(
            missing,
            status="succeeded" if found.success else "failed",
            runtime_seconds=found.runtime_seconds,
            exit_code=found.exit_code,
            error=found.error_summary.splitlines()[0] if found.error_summary else "",
        )

    with ThreadPoolExecutor(max(1, min(max_workers, len(plan.jobs)))) as pool:
        return Collection(list(pool.map(row, plan.jobs)))


def _stale_reason(found: RunManifest, spec: JobSpec) -> str:
    if found.job is None:
        return "the result there records no study job (made before this study)"
    wanted = spec.binding()
    changed = [
        what
        for what, old, new in (
            ("model", found.job.model_sha256, wanted.model_sha256),
            ("weather", found.job.weather_sha256, wanted.weather_sha256),
            ("run options", found.job.options_sha256, wanted.options_sha256),
        )
        if old != new
    ]
    return f"the result there was made for another job ({', '.join(changed)} changed)"


def _model_bytes(model: IDFDocument | str | PurePath) -> tuple[bytes, str]:
    if isinstance(model, IDFDocument):
        return model.text().encode("utf-8"), model.suffix
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    load_idf(path)  # refuse unparseable models now, not on a worker later
    return path.read_bytes(), ".epJSON" if path.suffix.lower() == ".epjson" else ".idf"


def _weather(weather: str | PurePath, fs: FileSystem, root: str) -> tuple[bytes, str]:
    local = Path(weather)
    if local.is_file():
        return local.read_bytes(), ".epw"
    try:
        return fs.read_bytes(join(root, weather)), ".epw"
    except (FileNotFoundError, ValueError):
        raise FileNotFoundError(
            f"weather file not found: {local} is not a local file nor in the study on {fs!r}"
        ) from None


def _stored(
    source: object,
    known: dict[object, str],
    uploads: dict[str, bytes],
    folder: str,
    read: Callable[[], tuple[bytes, str]],
) -> str:
    """The content-addressed study path of a model or weather file, read once per path."""
    key = source if isinstance(source, str | PurePath) else id(source)
    if key not in known:
        data, suffix = read()
        path = f"{folder}/{hashlib.sha256(data).hexdigest()}{suffix}"
        uploads[path] = data
        known[key] = path
    return known[key]
