"""``simulate()``: stage the inputs, run EnergyPlus locally, publish the outputs."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import idfkit
from idfkit.document import IDFDocument, load_idf
from idfkit.simulation._job_context import manifest_extras
from idfkit.simulation._process import ProgressCallback, run_process
from idfkit.simulation._publish import (
    Snapshot,
    changed_files,
    mark_publishing,
    publish,
    snapshot,
)
from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus
from idfkit.simulation.fs.base import FileSystem, download_file, normalize_path
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.manifest import (
    InputRecord,
    ManifestFile,
    PublishingMarker,
    RunManifest,
    hash_file,
)
from idfkit.simulation.parsers.err import parse_err
from idfkit.simulation.result import SimulationResult

if TYPE_CHECKING:
    from idfkit.simulation._simulation_cache import SimulationCache

__all__ = ["simulate"]

ModelInput = IDFDocument | str | PurePath


def simulate(
    model: ModelInput,
    weather: str | PurePath,
    *,
    output_dir: str | PurePath | None = None,
    energyplus: EnergyPlusConfig | str | Path | None = None,
    annual: bool = False,
    design_day: bool = False,
    output_prefix: str = "eplus",
    timeout: float = 3600.0,
    extra_args: Sequence[str] | None = None,
    on_progress: ProgressCallback | None = None,
    fs: FileSystem | None = None,
    label: str = "",
    cache: SimulationCache | None = None,
) -> SimulationResult:
    """Run one EnergyPlus simulation and return its result.

    ``model`` is an :class:`~idfkit.IDFDocument` (never modified) or the path
    of an .idf/.epJSON file; ``Output:SQLite`` is added to the run's copy when
    missing. Without ``fs`` the run happens in ``output_dir`` (a new temporary
    folder when None). With ``fs``, ``output_dir`` is required: EnergyPlus runs
    in a local temporary folder, every output is uploaded to ``output_dir`` on
    ``fs`` and a manifest is written last; the temporary folder is always
    removed. ``weather`` is a local path or, with ``fs``, a path on it.

    A run that EnergyPlus rejects returns a result with ``success`` False;
    a timeout raises :class:`~idfkit.exceptions.SimulationError`.

    With a ``cache`` (a ``SimulationCache``), a run of the same model, weather
    and options that is already cached is placed in ``output_dir`` without
    EnergyPlus; a new successful run is added to the cache.
    """
    doc = _prepare_model(model)
    config = energyplus if isinstance(energyplus, EnergyPlusConfig) else find_energyplus(energyplus)
    if cache is not None:
        key = cache.compute_key(
            doc,
            weather,
            annual=annual,
            design_day=design_day,
            output_prefix=output_prefix,
            extra_args=tuple(extra_args or ()),
            energyplus_version=config.version,
            fs=fs,
        )
        hit = cache.restore(key, output_dir, fs=fs, label=label)
        if hit is not None:
            return hit
        result = simulate(
            doc,
            weather,
            output_dir=output_dir,
            energyplus=config,
            annual=annual,
            design_day=design_day,
            output_prefix=output_prefix,
            timeout=timeout,
            extra_args=extra_args,
            on_progress=on_progress,
            fs=fs,
            label=label,
        )
        cache.store(key, result)
        return result
    options = _RunOptions(
        config, annual, design_day, output_prefix, timeout, tuple(extra_args or ()), label
    )
    if fs is None:
        weather_path = _local_weather(weather)
        return _simulate_local(doc, weather_path, output_dir, options, on_progress)
    remote_dir = _require_output_dir(output_dir)
    with tempfile.TemporaryDirectory(prefix="idfkit-") as tmp:
        weather_path = _stage_weather(weather, fs, Path(tmp))
        run_dir = Path(tmp) / "run"
        run_dir.mkdir()
        marker = _marker(label)
        claim = mark_publishing(fs, remote_dir, marker)
        outcome = _run(doc, weather_path, run_dir, options, on_progress, marker)
        files = changed_files(run_dir, {})
        manifest = publish(fs, remote_dir, files, outcome.manifest_maker, claim=claim)
    # None: another run writing the same folder finished last; read what stands there.
    known = {"manifest": manifest} if manifest is not None else {}
    return SimulationResult(
        remote_dir,
        fs=fs,
        output_prefix=output_prefix,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        **known,
    )


@dataclass(frozen=True)
class _RunOptions:
    config: EnergyPlusConfig
    annual: bool
    design_day: bool
    output_prefix: str
    timeout: float
    extra_args: tuple[str, ...]
    label: str

    def __post_init__(self) -> None:
        prefix = self.output_prefix
        if not prefix or "/" in prefix or "\\" in prefix:
            raise ValueError(f"output_prefix {prefix!r} must be a plain file-name prefix")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, not {self.timeout!r}")


@dataclass(frozen=True)
class _Outcome:
    stdout: str
    stderr: str
    before: Snapshot  # the run folder before EnergyPlus, to tell its files from older ones
    manifest_maker: _ManifestMaker


class _ManifestMaker:
    """Everything the manifest needs except the file list, which comes last."""

    def __init__(self, **fields: object) -> None:
        self.fields = fields

    def __call__(self, files: tuple[ManifestFile, ...]) -> RunManifest:
        return RunManifest.model_validate({**self.fields, "files": files})


def _simulate_local(
    doc: IDFDocument,
    weather: Path,
    output_dir: str | PurePath | None,
    options: _RunOptions,
    on_progress: ProgressCallback | None,
) -> SimulationResult:
    made_here = output_dir is None
    if output_dir is not None and not str(output_dir).strip():
        raise ValueError("output_dir is empty; pass a folder or None for a temporary one")
    run_dir = Path(tempfile.mkdtemp(prefix="idfkit-")) if made_here else Path(output_dir)  # type: ignore[arg-type]
    run_dir.mkdir(parents=True, exist_ok=True)
    local = LocalFileSystem(root=run_dir)
    try:
        marker = _marker(options.label)
        claim = mark_publishing(local, "", marker)
        outcome = _run(doc, weather, run_dir, options, on_progress, marker)
    except BaseException:
        if made_here:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    files = changed_files(run_dir, outcome.before)
    manifest = publish(local, "", files, outcome.manifest_maker, upload=False, claim=claim)
    assert manifest is not None  # without uploads there is nothing to settle
    return SimulationResult(
        run_dir,
        output_prefix=options.output_prefix,
        manifest=manifest,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
    )


def _run(
    doc: IDFDocument,
    weather: Path,
    run_dir: Path,
    options: _RunOptions,
    on_progress: ProgressCallback | None,
    marker: PublishingMarker,
) -> _Outcome:
    before = snapshot(run_dir)
    model_path = run_dir / f"in{doc.suffix}"
    model_text = doc.text()
    model_path.write_text(model_text, encoding="utf-8")
    config = options.config
    command = [str(config.executable), "-w", str(weather), "-d", str(run_dir)]
    command += ["-p", options.output_prefix]
    if options.annual:
        command.append("-a")
    if options.design_day:
        command.append("-D")
    if any(t.lower().startswith("hvactemplate:") for t in doc.types()):
        command.append("-x")
    command += [*options.extra_args, str(model_path)]
    outcome = run_process(command, cwd=run_dir, timeout=options.timeout, on_progress=on_progress)
    finished = datetime.now(UTC)
    err_file = run_dir / f"{options.output_prefix}out.err"
    report = parse_err(err_file.read_text(errors="replace")) if err_file.is_file() else None
    success = outcome.exit_code == 0 and (report is None or report.completed_successfully)
    summary = report.summary() if report is not None else outcome.stderr.strip()[-500:]
    if outcome.exit_code < 0:
        summary = f"EnergyPlus was killed by signal {-outcome.exit_code}. {summary}"
    maker = _ManifestMaker(
        run_id=marker.run_id,
        label=options.label,
        success=success,
        exit_code=outcome.exit_code,
        runtime_seconds=outcome.runtime_seconds,
        energyplus_version=config.version,
        output_prefix=options.output_prefix,
        model=InputRecord(
            name=model_path.name, sha256=hashlib.sha256(model_text.encode()).hexdigest()
        ),
        weather=InputRecord(name=weather.name, sha256=hash_file(weather)[1]),
        started_at=marker.started_at,
        finished_at=finished,
        idfkit_version=idfkit.__version__,
        error_summary="" if success else summary,
        **manifest_extras(run_dir, options.output_prefix),
    )
    return _Outcome(outcome.stdout, outcome.stderr, before, maker)


def _marker(label: str) -> PublishingMarker:
    return PublishingMarker(run_id=uuid.uuid4().hex, label=label, started_at=datetime.now(UTC))


def _prepare_model(model: ModelInput) -> IDFDocument:
    if isinstance(model, IDFDocument):
        doc = model.copy()
    elif isinstance(model, (str, PurePath)):
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        doc = load_idf(path)
    else:
        raise TypeError(f"model must be an IDFDocument or a path, not {type(model).__name__}")
    if "Output:SQLite" not in doc:
        if doc.format == "idf":
            doc.add("Output:SQLite", "SimpleAndTabular")
        else:
            doc.add("Output:SQLite", option_type="SimpleAndTabular")
    return doc


def _local_weather(weather: str | PurePath) -> Path:
    path = Path(weather)
    if not path.is_file():
        raise FileNotFoundError(f"weather file not found: {path}")
    return path


def _stage_weather(weather: str | PurePath, fs: FileSystem, tmp: Path) -> Path:
    """A local weather file: the path itself if it is local, else a download from ``fs``."""
    local = Path(weather)
    if local.is_file():
        return local
    try:
        remote = normalize_path(weather)
        on_fs = bool(remote) and fs.exists(remote)
    except ValueError:
        on_fs = False
    if not on_fs:
        raise FileNotFoundError(
            f"weather file not found: {local} is not a local file and {str(weather)!r} "
            f"is not on {fs!r}"
        )
    target = tmp / "weather" / PurePath(remote).name
    target.parent.mkdir()
    download_file(fs, remote, target)
    return target


def _require_output_dir(output_dir: str | PurePath | None) -> str:
    if output_dir is None:
        raise ValueError("output_dir is required when fs is given (where on fs to put the run)")
    normalized = normalize_path(output_dir)
    if not normalized:
        raise ValueError(f"output_dir {str(output_dir)!r} is empty; name a folder on the backend")
    return normalized
