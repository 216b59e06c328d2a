"""``simulate()``: stage the inputs, run EnergyPlus locally, publish the outputs."""

from __future__ import annotations

import hashlib
import math
import os
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
from idfkit.exceptions import IncompleteResultError
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
from idfkit.simulation.fs.base import FileSystem, download_file, join, normalize_path
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    InputRecord,
    ManifestFile,
    PublishingMarker,
    RunManifest,
    hash_file,
    read_manifest,
)
from idfkit.simulation.parsers.err import ErrorReport, parse_err
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

    Without `fs` the run happens in `output_dir` (a new temporary folder when
    None). With `fs`, EnergyPlus runs in a local temporary folder, every output
    is uploaded to `output_dir` on `fs` and a manifest is written last; the
    temporary folder is always removed. Relative paths are taken from the
    caller's working directory.

    Args:
        model: An `IDFDocument` (never modified) or the path of an .idf or
            .epJSON file. `Output:SQLite` is added to the run's copy when missing.
        weather: A local weather file or, with `fs`, a path on it.
        output_dir: Where the run's files go: a local folder, or a folder on `fs`
            (required with `fs`).
        energyplus: An `EnergyPlusConfig`, an install folder, or None to find one.
        annual: Run the annual simulation (`-a`).
        design_day: Run the design days only (`-D`).
        output_prefix: The prefix of EnergyPlus's output file names.
        timeout: Seconds before EnergyPlus is killed; finite and positive.
        extra_args: Further EnergyPlus command-line arguments.
        on_progress: Called with each line EnergyPlus prints.
        fs: The storage backend for the results; None for local disk.
        label: A name for the run, kept in its manifest.
        cache: A `SimulationCache`: a run of the same model, weather and options
            already cached is placed in `output_dir` without EnergyPlus, and a
            new successful run is added to it.

    Returns:
        The run's `SimulationResult`; `success` is False when EnergyPlus
        rejected the model.

    Raises:
        SimulationError: EnergyPlus timed out or could not be started.
        FileNotFoundError: The model or weather file does not exist.
        ValueError: An argument is unusable (checked before anything is written).
    """
    # Every argument is checked before anything is written: a refused run never
    # replaces the manifest of an earlier good run with its marker.
    checked_args = _check_extra_args(extra_args)
    doc = _prepare_model(model)
    config = energyplus if isinstance(energyplus, EnergyPlusConfig) else find_energyplus(energyplus)
    options = _RunOptions(config, annual, design_day, output_prefix, timeout, checked_args, label)
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
    model_name = f"in{doc.suffix}"
    if fs is None:
        weather_path = _local_weather(weather)
        run_dir = _local_output_dir(output_dir)
        if run_dir is not None:
            _refuse_foreign_file(LocalFileSystem(root=run_dir), "", model_name, model)
        return _simulate_local(doc, weather_path, run_dir, options, on_progress)
    remote_dir = _require_output_dir(output_dir)
    with tempfile.TemporaryDirectory(prefix="idfkit-") as tmp:
        weather_path = _stage_weather(weather, fs, Path(tmp))
        if isinstance(fs, LocalFileSystem):  # where the user's own files live; free to check
            _refuse_foreign_file(fs, remote_dir, model_name, model)
        run_dir = Path(tmp) / "run"
        run_dir.mkdir()
        marker = _marker(label)
        claim = mark_publishing(fs, remote_dir, marker)
        outcome = _run(doc, weather_path, run_dir, options, on_progress, marker)
        files = changed_files(run_dir, {})
        manifest = publish(fs, remote_dir, files, outcome.manifest_maker, claim=claim)
    # None: another run writing the same folder finished last; the result reads what stands there.
    return SimulationResult(
        remote_dir,
        fs=fs,
        output_prefix=output_prefix,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        manifest=manifest,
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
        if (
            not isinstance(prefix, str)
            or not prefix.strip()
            or prefix in (".", "..")
            or any(c in prefix for c in "/\\\x00")
        ):
            raise ValueError(f"output_prefix {prefix!r} must be a plain file-name prefix")
        _check_timeout("timeout", self.timeout)
        if self.annual and self.design_day:
            raise ValueError(
                "annual and design_day cannot both be set: EnergyPlus runs either the "
                "weather-file run periods (annual) or the design days only"
            )
        if "\x00" in self.label:
            raise ValueError(f"label {self.label!r} holds a NUL byte")


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
    output_dir: Path | None,
    options: _RunOptions,
    on_progress: ProgressCallback | None,
) -> SimulationResult:
    made_here = output_dir is None
    run_dir = Path(tempfile.mkdtemp(prefix="idfkit-")) if output_dir is None else output_dir
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
    summary = _error_summary(report, outcome.stdout, outcome.stderr)
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


def _error_summary(report: ErrorReport | None, stdout: str, stderr: str) -> str:
    """The .err summary; when it names no error, EnergyPlus's own last words too."""
    summary = report.summary() if report is not None else ""
    if report is None or not (report.fatal or report.severe):
        tail = _tail(stderr) or _tail(stdout)
        if tail:
            summary = f"{summary}\nEnergyPlus said:\n{tail}" if summary else tail
    return summary or "EnergyPlus wrote no error file and no output"


def _tail(text: str, lines: int = 8, chars: int = 800) -> str:
    kept = [line.rstrip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(kept)[-chars:]


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
    # Absolute: EnergyPlus runs with the run folder as its working directory.
    return path.absolute()


def _local_output_dir(output_dir: str | PurePath | None) -> Path | None:
    """The run folder as an absolute path (relative ones are taken from the caller's cwd)."""
    if output_dir is None:
        return None
    text = os.fspath(output_dir)
    if not text.strip():
        raise ValueError("output_dir is empty; pass a folder or None for a temporary one")
    if "\x00" in text:
        raise ValueError(f"output_dir {text!r} holds a NUL byte")
    return Path(text).absolute()


def _check_extra_args(extra_args: Sequence[str] | None) -> tuple[str, ...]:
    if isinstance(extra_args, str):
        raise TypeError(f"extra_args must be a sequence of strings, not the string {extra_args!r}")
    checked = tuple(extra_args or ())
    for arg in checked:
        if not isinstance(arg, str):
            raise TypeError(f"extra_args holds {arg!r}, not a string")
        if "\x00" in arg:
            raise ValueError(f"extra_args holds {arg!r}, which has a NUL byte")
    return checked


def _check_timeout(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds, not {value!r}")


def _refuse_foreign_file(fs: FileSystem, folder: str, name: str, model: ModelInput) -> None:
    """Refuse a run whose model copy would replace a file that no earlier run wrote.

    A run never modifies or deletes a file it did not create: if ``folder``
    already holds ``name`` (the user's own model, say), the run stops here,
    before anything is written.
    """
    target = join(folder, name)
    if not fs.exists(target) or _written_by_a_run(fs, folder, name):
        return
    same = (
        isinstance(model, str | PurePath)
        and isinstance(fs, LocalFileSystem)
        and fs.root is not None
        and _same_file(Path(model), fs.root / target)
    )
    raise FileExistsError(
        f"the output folder already holds {name}"
        + (" (the model file itself)" if same else "")
        + ", which the run would overwrite with its copy of the model. No earlier run "
        "wrote that file, so it is left alone: choose another output_dir."
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _written_by_a_run(fs: FileSystem, folder: str, name: str) -> bool:
    """Whether ``name`` in ``folder`` belongs to a run of this package (per its manifest)."""
    try:
        found = read_manifest(fs.read_bytes(join(folder, MANIFEST_NAME)))
    except (FileNotFoundError, IncompleteResultError):
        return False
    if isinstance(found, PublishingMarker):
        return True  # a run that stopped before publishing: the folder is a run folder
    return found.file(name) is not None


def _stage_weather(weather: str | PurePath, fs: FileSystem, tmp: Path) -> Path:
    """A local weather file: the path itself if it is local, else a download from ``fs``."""
    local = Path(weather)
    if local.is_file():
        return local.absolute()
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
