"""`simulate()`: stage the inputs, run EnergyPlus locally, publish the outputs."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal

import idfkit
from idfkit.document import IDFDocument
from idfkit.exceptions import MigrationError
from idfkit.simulation._closing import ClosingReads
from idfkit.simulation._external_files import external_files
from idfkit.simulation._model import model_text, object_types
from idfkit.simulation._process import RunCancelled, cancel_event, run_process
from idfkit.simulation._publish import (
    Claim,
    Snapshot,
    changed_files,
    mark_publishing,
    publish,
    snapshot,
    start_claim_check,
)
from idfkit.simulation._staging import (
    ModelInput,
    local_output_dir,
    local_weather,
    prepare_run_model,
    refuse_foreign_files,
    remote_output_dir,
    stage_weather,
)
from idfkit.simulation._tools import (
    expand_model_text,
    needs_expansion,
    readvars_program,
    run_readvars,
)
from idfkit.simulation.cache import SimulationCache
from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus
from idfkit.simulation.exceptions import WeatherFileNotFoundError
from idfkit.simulation.filenames import output_name
from idfkit.simulation.fs.base import FileSystem, sha256_file
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.manifest import InputRecord, ManifestFile, PublishingMarker, RunManifest
from idfkit.simulation.options import OutputSuffix, RunOptions
from idfkit.simulation.parsers.err import ErrorReport
from idfkit.simulation.result import SimulationResult

if TYPE_CHECKING:
    from idfkit.simulation.progress import SimulationProgress

__all__ = ["ProgressCallback", "check_on_progress", "simulate"]

log = logging.getLogger(__name__)

#: What `on_progress` takes: a callable given each `SimulationProgress`, or `"tqdm"`.
ProgressCallback = Callable[["SimulationProgress"], Any] | Literal["tqdm"]


def simulate(
    model: ModelInput,
    weather: str | PurePath | None = None,
    *,
    output_dir: str | PurePath | None = None,
    energyplus: EnergyPlusConfig | str | Path | None = None,
    expand_objects: bool = True,
    annual: bool = False,
    design_day: bool = False,
    output_prefix: str = "eplus",
    output_suffix: OutputSuffix = "C",
    readvars: bool = False,
    timeout: float = 3600.0,
    preprocessor_timeout: float | None = None,
    extra_args: Sequence[str] | None = None,
    cache: Any = None,
    fs: FileSystem | None = None,
    on_progress: ProgressCallback | None = None,
    auto_migrate: bool = False,
    label: str = "",
    options: RunOptions | None = None,
) -> SimulationResult:
    """Run one EnergyPlus simulation and return its result.

    Without `fs` the run happens in `output_dir` (a new temporary folder when
    None). With `fs`, `output_dir` is required: EnergyPlus runs in a local
    temporary folder, every output is uploaded to `output_dir` on `fs` and a
    manifest is written last; the temporary folder is always removed.
    Relative paths are taken from the caller's working directory. Every
    argument is checked before anything is written, and a run never
    overwrites a file that no run wrote.

    Args:
        model: An `IDFDocument` (never modified) or the path of an .idf or
            .epJSON file. The run's copy gets `Output:SQLite` when missing.
        weather: A local .epw file or, with `fs`, a path on it; None for a
            run of design days only.
        output_dir: Where the run's files go (a local folder, or a folder on `fs`).
        energyplus: The installation to use, or its path; found when None.
        expand_objects: Run ExpandObjects first when the model needs it.
        annual: Force a run of the weather file's run period (`-a`).
        design_day: Simulate the design days only (`-D`).
        output_prefix: The output file prefix (`-p`).
        output_suffix: The output naming style (`-s`): `"C"` gives `eplus.sql`, ...
        readvars: Convert the .eso and .mtr outputs to CSV with ReadVarsESO.
        timeout: Seconds EnergyPlus may run before it is stopped.
        preprocessor_timeout: Seconds each preprocessor may run (default `timeout`).
        extra_args: More EnergyPlus command-line arguments.
        cache: A `SimulationCache` (anything with `compute_key`, `get` and
            `put`): a hit is returned without running EnergyPlus, and a
            successful run is stored. A model that reads files the key
            cannot cover (a Python plugin, co-simulation, an external file
            by a relative path) runs uncached, and a warning says why.
        fs: The storage backend for the outputs; None for local disk.
        on_progress: A callable given each `SimulationProgress`, or `"tqdm"`
            for a progress bar.
        auto_migrate: idfkit's request to migrate a model of another
            EnergyPlus version first. This package does not run the
            IDFVersionUpdater transition programs: such a model raises
            `MigrationError` saying how to migrate it, before anything runs.
            Without it the model goes to EnergyPlus as it is.
        label: A name for the run, kept in its manifest.
        options: All the run options as one `RunOptions`, instead of the
            keywords `expand_objects` to `extra_args`.

    Returns:
        The run's result. A run that EnergyPlus rejects has `success` False.

    Raises:
        SimulationError: EnergyPlus did not finish within `timeout`, or the
            `on_progress` callback raised (EnergyPlus is stopped).
        WeatherFileNotFoundError: The weather file does not exist, or none
            was given for a run that is not of design days only (a
            `SimulationError` and a `FileNotFoundError`).
        FileNotFoundError: The model file does not exist.
        FileExistsError: `output_dir` holds a file the run would overwrite that no run wrote.
        ValueError: An option EnergyPlus cannot use.
        MigrationError: The model is of another version and cannot be migrated.
    """
    run_options = _one_options(
        options,
        expand_objects=expand_objects,
        annual=annual,
        design_day=design_day,
        output_prefix=output_prefix,
        output_suffix=output_suffix,
        readvars=readvars,
        timeout=timeout,
        preprocessor_timeout=preprocessor_timeout,
        extra_args=extra_args,
    )
    if not isinstance(label, str) or "\x00" in label:
        raise ValueError(f"label {label!r} must be text without NUL bytes")
    if weather is None and not run_options.design_day:  # (RunOptions refuses annual with it)
        raise WeatherFileNotFoundError(
            "a weather file is required unless the run is of design days only "
            "(design_day=True); pass the path of an .epw file as weather"
        )
    check_on_progress(on_progress, tqdm=True)
    doc, added_outputs = prepare_run_model(model)
    config = _engine(energyplus)
    _check_version(doc, config, auto_migrate)
    if run_options.readvars:
        readvars_program(config)  # a missing ReadVarsESO is said before anything runs
    key = _cache_key(cache, doc, weather, run_options, config, fs)
    if key is not None:
        hit = _cached(cache, key, output_dir, fs, label)
        if hit is not None:
            return hit
    run = _Run(doc, config, run_options, label, "model.idf", tuple(added_outputs))
    with _progress_lines(on_progress) as lines:
        if fs is None:
            result = _simulate_local(run, model, weather, output_dir, lines)
        else:
            result = _simulate_on(run, fs, model, weather, output_dir, lines)
    if key is not None and result.success:
        if isinstance(cache, SimulationCache):
            cache.store(key, result)  # a failure to store only logs: the run stands
        else:
            cache.put(key, result)
    return result


def _one_options(options: RunOptions | None, **given: Any) -> RunOptions:
    """`options`, or the keywords as a `RunOptions`; never both."""
    if options is None:
        return RunOptions(**given)
    if not isinstance(options, RunOptions):
        raise TypeError(f"options must be a RunOptions, not {type(options).__name__}")
    defaults = RunOptions().as_dict()
    given["extra_args"] = tuple(given["extra_args"] or ())
    changed = sorted(name for name, value in given.items() if value != defaults[name])
    if changed:
        raise TypeError(f"pass run options as options= or as keywords, not both ({changed})")
    return options


def _cache_key(
    cache: Any,
    doc: IDFDocument,
    weather: str | PurePath | None,
    options: RunOptions,
    config: EnergyPlusConfig,
    fs: FileSystem | None,
) -> Any:
    """The run's cache key, or None without a cache.

    This package's `SimulationCache` keys on every option, the engine and the
    backend; any other object with idfkit's `compute_key`, `get` and `put`
    is asked with idfkit's options.
    """
    if cache is None:
        return None
    _, uncacheable = external_files(doc)
    if uncacheable is not None:
        log.warning("the run is not cached: %s", uncacheable)
        return None
    idfkit_options = {
        name: getattr(options, name)
        for name in ("expand_objects", "annual", "design_day", "output_suffix", "readvars")
    }
    idfkit_options["extra_args"] = options.extra_args
    if not isinstance(cache, SimulationCache):
        return cache.compute_key(doc, weather, **idfkit_options)
    return cache.compute_key(
        doc,
        weather,
        **idfkit_options,
        output_prefix=options.output_prefix,
        energyplus_version=config.version,
        fs=fs,
    )


def _cached(
    cache: Any, key: Any, output_dir: str | PurePath | None, fs: FileSystem | None, label: str
) -> SimulationResult | None:
    """A cached run: placed in `output_dir` by this package's cache, else as the cache keeps it."""
    if isinstance(cache, SimulationCache):
        return cache.restore(key, output_dir, fs=fs, label=label)
    return cache.get(key)  # type: ignore[no-any-return]


def _engine(energyplus: EnergyPlusConfig | str | Path | None) -> EnergyPlusConfig:
    if isinstance(energyplus, EnergyPlusConfig):
        return energyplus
    return find_energyplus(path=energyplus)


def _check_version(doc: IDFDocument, config: EnergyPlusConfig, auto_migrate: bool) -> None:
    """With `auto_migrate`, a model of another version is refused, saying how to migrate it."""
    given = tuple(getattr(doc, "version", ()) or ())
    full = (*given, 0, 0, 0)[:3]
    version = full[:2]
    if not given or version == config.version[:2] or not auto_migrate:
        return
    found = ".".join(map(str, version))
    if version > config.version[:2]:
        raise MigrationError(
            f"the model is for EnergyPlus {found}, newer than {config.version_string}; "
            "models cannot be migrated to an older version",
            from_version=full,
            to_version=config.version,
        )
    updater = config.version_updater_dir
    where = (
        f"its transition programs are in {updater}"
        if updater is not None
        else f"the installation at {config.install_dir} has no IDFVersionUpdater"
    )
    raise MigrationError(
        f"cannot migrate the model from EnergyPlus {found} to {config.version_string}: "
        f"this package does not run IDFVersionUpdater's transition programs ({where}). "
        "Migrate it with EnergyPlus's IDFVersionUpdater, or run it with a matching "
        f"EnergyPlus (find_energyplus(version={found!r}))",
        from_version=full,
        to_version=config.version,
    )


# -- progress ---------------------------------------------------------------------------
def check_on_progress(on_progress: object, *, tqdm: bool) -> None:
    """Refuse an `on_progress` that is neither None nor a callable (nor `"tqdm"`, if allowed).

    Args:
        on_progress: What the caller gave.
        tqdm: Whether the name `"tqdm"` is accepted (by `simulate`; a batch
            draws its bar with `progress=True` instead).

    Raises:
        ValueError: Another name, as idfkit raises it.
        TypeError: Neither a name nor a callable.
    """
    wanted = "a callable or 'tqdm'" if tqdm else "a callable (a batch's bar is progress=True)"
    if on_progress == "tqdm" and not tqdm:
        raise ValueError(
            f"on_progress='tqdm' is not supported for batch runs: on_progress must be {wanted}"
        )
    if isinstance(on_progress, str):
        if not (tqdm and on_progress == "tqdm"):
            raise ValueError(f"on_progress must be {wanted}, not {on_progress!r}")
    elif on_progress is not None and not callable(on_progress):
        raise TypeError(f"on_progress must be {wanted}, not {on_progress!r}")


@contextmanager
def _progress_lines(on_progress: ProgressCallback | None) -> Iterator[Callable[[str], None] | None]:
    """A callback for EnergyPlus's output lines that reports `SimulationProgress`."""
    if on_progress is None:
        yield None
        return
    from idfkit.simulation.progress import ProgressParser, tqdm_progress

    parser = ProgressParser()

    def feed(report: Callable[[SimulationProgress], Any]) -> Callable[[str], None]:
        def line(text: str) -> None:
            progress = parser.parse_line(text)
            if progress is not None:
                report(progress)

        return line

    if on_progress == "tqdm":
        with tqdm_progress() as bar:
            yield feed(bar)
    else:
        assert callable(on_progress)
        yield feed(on_progress)


# -- one run ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Run:
    """Everything fixed about a run before its folder is touched."""

    doc: IDFDocument
    config: EnergyPlusConfig
    options: RunOptions
    label: str
    model_name: str
    added_outputs: tuple[str, ...] = ()  # what the run added to its copy for the key metrics

    def name(self, kind: Any) -> str:
        return output_name(kind, self.options.output_prefix, self.options.output_suffix)

    def result(self, where: str | Path, fs: FileSystem | None, **known: Any) -> SimulationResult:
        return SimulationResult(
            where,
            fs=fs,
            output_prefix=self.options.output_prefix,
            output_suffix=self.options.output_suffix,
            **known,
        )


def _simulate_local(
    run: _Run,
    model: ModelInput,
    weather: str | PurePath | None,
    output_dir: str | PurePath | None,
    lines: Callable[[str], None] | None,
) -> SimulationResult:
    weather_path = local_weather(weather)
    chosen = local_output_dir(output_dir)
    local = None if chosen is None else LocalFileSystem(root=chosen)
    if local is not None:
        refuse_foreign_files(local, "", [run.model_name], model)
    text = _model_text(run, weather_path)  # preprocessors fail before the folder is touched
    run_dir = Path(tempfile.mkdtemp(prefix="idfkit-")) if chosen is None else chosen
    run_dir.mkdir(parents=True, exist_ok=True)
    if local is None:
        local = LocalFileSystem(root=run_dir)
    try:
        marker = _marker(run.label)
        claim = mark_publishing(local, "", marker)
        outcome = _execute(run, text, weather_path, run_dir, lines, marker, in_place=True)
    except BaseException:
        if chosen is None:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    try:
        files = changed_files(run_dir, outcome.before)
        manifest = publish(
            local,
            "",
            files,
            outcome.manifest_maker,
            upload=False,
            claim=claim,
            known=outcome.known,
        )
    finally:
        outcome.manifest_maker.settle()
    return run.result(
        run_dir, None, manifest=manifest, stdout=outcome.stdout, stderr=outcome.stderr
    )


def _simulate_on(
    run: _Run,
    fs: FileSystem,
    model: ModelInput,
    weather: str | PurePath | None,
    output_dir: str | PurePath | None,
    lines: Callable[[str], None] | None,
) -> SimulationResult:
    remote_dir = remote_output_dir(output_dir)
    with tempfile.TemporaryDirectory(prefix="idfkit-") as tmp:
        weather_path = stage_weather(weather, fs, Path(tmp))
        folder = _FolderClaim(fs, remote_dir, [run.model_name], model)
        standing: list[Future[str | None] | None] = []
        cancellable = cancel_event.set(folder.stop)
        try:
            text = _model_text(run, weather_path)  # preprocessors fail before the folder is marked
            run_dir = Path(tmp) / "run"
            run_dir.mkdir()
            marker = _marker(run.label)
            folder.mark(marker)
            outcome = _execute(
                run,
                text,
                weather_path,
                run_dir,
                lines,
                marker,
                after_run=lambda: standing.append(folder.start_check()),
            )
        except BaseException as error:
            folder.abandon(error)
            raise
        finally:
            cancel_event.reset(cancellable)
        try:
            claim = folder.claim()
            files = changed_files(run_dir, {})
            manifest = publish(
                fs,
                remote_dir,
                files,
                outcome.manifest_maker,
                claim=claim,
                standing=standing[0] if standing else None,
            )
        finally:
            outcome.manifest_maker.settle()
    return run.result(
        remote_dir, fs, manifest=manifest, stdout=outcome.stdout, stderr=outcome.stderr
    )


class _EitherSet(threading.Event):
    """An event that also reads as set once the caller's own `cancel_event` is."""

    def __init__(self, caller: threading.Event | None) -> None:
        super().__init__()
        self.caller = caller

    def is_set(self) -> bool:
        return super().is_set() or (self.caller is not None and self.caller.is_set())


class _FolderClaim:
    """A run folder's checks and marker, sent on a thread while the run goes on.

    The requests that must precede the uploads (refuse foreign files, then
    mark the folder) go out beside the preprocessors and EnergyPlus, so their
    round trips hide behind the run instead of delaying it. The marker waits
    for `mark` (the model text is ready, so a failing preprocessor still
    fails before anything is marked). Should a request fail, `stop` is set:
    the program under way is killed (it runs under `cancel_event`), and the
    run raises that request's error, as it would have raised it before
    EnergyPlus started; nothing is uploaded.
    """

    def __init__(self, fs: FileSystem, folder: str, names: list[str], model: ModelInput) -> None:
        self.fs = fs
        self.stop = _EitherSet(cancel_event.get())
        self._marker: PublishingMarker | None = None
        self._go = threading.Event()
        self._abandoned = False
        pool = ThreadPoolExecutor(1, thread_name_prefix="idfkit-mark")
        self._claim = pool.submit(self._claim_folder, folder, names, model)
        pool.shutdown(wait=False)  # the thread ends with its requests
        self._claim.add_done_callback(self._stop_on_failure)

    def _stop_on_failure(self, done: Future[Claim | None]) -> None:
        if done.exception() is not None:
            self.stop.set()

    def _claim_folder(self, folder: str, names: list[str], model: ModelInput) -> Claim | None:
        refuse_foreign_files(self.fs, folder, names, model)
        self._go.wait()
        if self._marker is None or self._abandoned:  # the run failed first: nothing to mark
            return None
        return mark_publishing(self.fs, folder, self._marker)

    def mark(self, marker: PublishingMarker) -> None:
        """Mark the folder with `marker` once its check is done."""
        self._marker = marker
        self._go.set()

    def start_check(self) -> Future[str | None] | None:
        """At the run's end, `start_claim_check` if the marker stands (else `publish` checks)."""
        if not self._claim.done() or self._claim.exception() is not None:
            return None
        claim = self._claim.result()
        return None if claim is None else start_claim_check(self.fs, claim)

    def claim(self) -> Claim:
        """The run's hold on its folder; the error of its requests, if they failed."""
        claim = self._claim.result()
        assert claim is not None  # `mark` came first
        return claim

    def abandon(self, error: BaseException) -> None:
        """The run failed: mark nothing more, and wait for the requests under way.

        Their own error is raised instead of the run's when it came first (as
        it would have before the run) or is why the run was stopped; a
        caller's Ctrl-C or cancellation stands.
        """
        self._abandoned = True
        self._go.set()
        wait([self._claim])
        failure = self._claim.exception()
        if failure is None:
            return
        caller = self.stop.caller
        if isinstance(error, Exception) or (
            isinstance(error, RunCancelled) and not (caller is not None and caller.is_set())
        ):
            raise failure from None


@dataclass(frozen=True)
class _Outcome:
    stdout: str
    stderr: str
    before: Snapshot  # the run folder before EnergyPlus, to tell its files from older ones
    manifest_maker: _ManifestMaker
    known: Callable[[Path], tuple[int, str] | None]  # files hashed while EnergyPlus shut down


class _ManifestMaker:
    """Everything the manifest needs except the file list, which comes last.

    The fields read from the run's SQLite output (its key metrics) are read
    on a thread of their own (`ClosingReads`), mostly while EnergyPlus shuts
    down; the manifest waits for them.
    """

    def __init__(self, closing: ClosingReads, **fields: object) -> None:
        self.closing = closing
        self.fields = fields

    def __call__(self, files: tuple[ManifestFile, ...]) -> RunManifest:
        return RunManifest.model_validate({**self.fields, **self.closing.extras(), "files": files})

    def settle(self) -> None:
        """Wait until the SQLite output is no longer read (before its folder goes)."""
        self.closing.close()


def _model_text(run: _Run, weather: Path | None) -> str:
    """The model as IDF text, run through ExpandObjects (and Slab/Basement) when it needs them.

    The model is expanded here, with its own time limit, so a failing
    preprocessor raises before any output folder is marked, and EnergyPlus
    never needs its own `-x`.
    """
    text = model_text(run.doc)
    if run.options.expand_objects and needs_expansion(object_types(run.doc)):
        text = expand_model_text(
            text, run.config, timeout=run.options.preprocessor_seconds, weather=weather
        )
    return text


def _execute(
    run: _Run,
    text: str,
    weather: Path | None,
    run_dir: Path,
    lines: Callable[[str], None] | None,
    marker: PublishingMarker,
    after_run: Callable[[], None] | None = None,
    *,
    in_place: bool = False,
) -> _Outcome:
    """Run EnergyPlus in ``run_dir``; what its manifest needs, and its output.

    Args:
        run: The run.
        text: The model as IDF text.
        weather: The local weather file.
        run_dir: The local folder to run in.
        lines: Given each line EnergyPlus prints.
        marker: The run's marker, for its id and start.
        after_run: Called once the programs are done.
        in_place: The files are published where they lie (a local run), so
            they are worth hashing while EnergyPlus shuts down.
    """
    options, config = run.options, run.config
    before = snapshot(run_dir)
    model_path = run_dir / run.model_name
    model_path.write_text(text, encoding="utf-8")
    command = [
        str(config.executable),
        *options.energyplus_args(output_dir=run_dir, weather=weather),
        str(model_path),
    ]
    # Uploads hash what they send: only files published in place are worth hashing early.
    closing = ClosingReads(run_dir, options.output_prefix, before, hash_files=in_place)
    try:
        outcome = run_process(
            command,
            cwd=run_dir,
            timeout=options.timeout,
            on_progress=lines,
            on_closing=closing.start,
        )
    except BaseException:
        closing.close()
        raise
    closing.exited()  # read while EnergyPlus shut down, or now beside what follows
    try:
        err_file = run_dir / run.name("err")
        report = ErrorReport.from_file(err_file) if err_file.is_file() else None
        success = outcome.exit_code == 0 and (report is None or _completed(report))
        if success and options.readvars:
            pairs = [(run.name("eso"), run.name("csv")), (run.name("mtr"), run.name("meter_csv"))]
            run_readvars(config, run_dir, pairs, timeout=options.preprocessor_seconds)
        if after_run is not None:  # the programs are done: what follows is local bookkeeping
            after_run()
        finished = datetime.now(UTC)
        summary = _error_summary(report, outcome.stdout, outcome.stderr)
        if outcome.exit_code < 0:
            summary = f"EnergyPlus was killed by signal {-outcome.exit_code}. {summary}"
        digest = hashlib.sha256(text.encode()).hexdigest()
        maker = _ManifestMaker(
            closing,
            run_id=marker.run_id,
            label=run.label,
            success=success,
            exit_code=outcome.exit_code,
            runtime_seconds=outcome.runtime_seconds,
            energyplus_version=config.version_string,
            output_prefix=options.output_prefix,
            output_suffix=options.output_suffix,
            model=InputRecord(name=model_path.name, sha256=digest),
            weather=_weather_record(weather),
            started_at=marker.started_at,
            finished_at=finished,
            idfkit_version=idfkit.__version__,
            error_summary="" if success else summary,
            added_outputs=run.added_outputs,
        )
        return _Outcome(outcome.stdout, outcome.stderr, before, maker, closing.known)
    except BaseException:
        closing.close()  # the caller may delete the folder it reads
        raise


def _completed(report: ErrorReport) -> bool:
    return bool(report.simulation_complete) and not report.fatal


def _weather_record(weather: Path | None) -> InputRecord | None:
    if weather is None:
        return None
    # A weather file serves many runs: hash it again only when its stat says it changed
    # (ctime moves on every write and cannot be set back).
    info = weather.stat()
    seen = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    digest = _WEATHER_DIGESTS.get(seen)
    if digest is None:
        if len(_WEATHER_DIGESTS) >= 64:
            _WEATHER_DIGESTS.clear()
        digest = _WEATHER_DIGESTS[seen] = sha256_file(weather)
    return InputRecord(name=weather.name, sha256=digest)


_WEATHER_DIGESTS: dict[tuple[int, int, int, int, int], str] = {}


def _error_summary(report: ErrorReport | None, stdout: str, stderr: str) -> str:
    """Why a run failed: the .err counts and first serious messages, else EnergyPlus's words."""
    lines = [] if report is None else [report.describe(max_messages=3)]
    if report is None or not (report.fatal or report.severe):
        tail = _tail(stderr) or _tail(stdout)
        if tail:
            lines += ["EnergyPlus said:", tail] if lines else [tail]
    return "\n".join(lines) or "EnergyPlus wrote no error file and no output"


def _tail(text: str, lines: int = 8, chars: int = 800) -> str:
    kept = [line.rstrip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(kept)[-chars:]


def _marker(label: str) -> PublishingMarker:
    return PublishingMarker(run_id=uuid.uuid4().hex, label=label, started_at=datetime.now(UTC))
