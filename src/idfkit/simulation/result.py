"""The outcome of a simulation, read lazily from any storage backend."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from idfkit.simulation import _fetch
from idfkit.simulation.exceptions import IncompleteResultError, ResultNotFoundError, StorageError
from idfkit.simulation.filenames import OutputKind, OutputSuffix, detect_naming, output_name
from idfkit.simulation.fs._blocking import BlockingFileSystem, serving_loop
from idfkit.simulation.fs.base import (
    FileSystem,
    SupportsLocalPath,
    file_info,
    is_plain_local,
    join,
    normalize_path,
)
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    ManifestFile,
    PublishingMarker,
    RunManifest,
    read_manifest,
)
from idfkit.simulation.outputs import OutputVariableIndex
from idfkit.simulation.parsers.err import ErrorReport, parse_err
from idfkit.simulation.parsers.sql import SQLResult

if TYPE_CHECKING:
    from idfkit.simulation.parsers.csv import CSVResult
    from idfkit.simulation.parsers.eso import ESOResult
    from idfkit.simulation.parsers.html import HTMLResult

__all__ = ["SimulationResult"]


class _UnsetMarker:
    """Stands for "not read yet" in a pickle (a bare sentinel would not survive)."""


_UNSET: Any = object()
T = TypeVar("T")
_LAZY = ("_manifest", "_sql", "_naming")


class SimulationResult:
    """One run's outputs in a directory on a FileSystem, read lazily.

    Nothing is read until a property needs it. When the directory holds a run
    manifest, `success`, `exit_code` and `runtime_seconds` come from it and
    every file read is checked against it (size and SHA-256); a plain
    EnergyPlus directory without one (idfkit's, or another tool's) is read
    best-effort, and success is inferred from its .err file.

    Output files are found by EnergyPlus's naming rules
    (`idfkit.simulation.filenames`): `eplus.sql` (idfkit's `-s C` style),
    `eplusout.sql` (legacy) or `eplus-table.htm` (dash style), whichever the
    manifest or the folder shows.

    Args:
        run_dir: The run folder: a local path, or a path on `fs`. Kept as the
            `run_dir` attribute, a `Path` as in idfkit (on a backend, its path
            there: `Path("team/run-1")`).
        success: The run's outcome, when the caller knows it; else it is read.
        exit_code: EnergyPlus's exit code, when known; else from the manifest.
        stdout: What EnergyPlus printed.
        stderr: What EnergyPlus printed to standard error.
        runtime_seconds: The run's wall time, when known; else from the manifest.
        output_prefix: The prefix of the output file names (`-p`).
        fs: The backend holding `run_dir`; None means local disk.
        async_fs: An async backend holding `run_dir`, instead of `fs`: the
            ``async_*`` readers read through it (and the synchronous ones
            raise, saying to use them).
        migration_report: Kept for idfkit compatibility.
        manifest: The run's manifest when the caller already holds it; None
            reads it on first use.
        output_suffix: The suffix style (`"C"`, `"L"`, `"D"`); None detects it.
    """

    def __init__(
        self,
        run_dir: str | Path,
        success: bool | None = None,
        exit_code: int | None = None,
        stdout: str = "",
        stderr: str = "",
        runtime_seconds: float | None = None,
        output_prefix: str = "eplus",
        fs: FileSystem | None = None,
        async_fs: Any = None,
        migration_report: Any = None,
        *,
        manifest: RunManifest | None = None,
        output_suffix: OutputSuffix | None = None,
    ) -> None:
        if fs is not None and async_fs is not None:
            raise ValueError("fs and async_fs are mutually exclusive: give the one holding run_dir")
        self._given_fs = fs
        if async_fs is not None:
            fs = getattr(async_fs, "sync", None) or BlockingFileSystem(async_fs)
        self._fs, self._dir = _locate(run_dir, fs)
        self.run_dir: Path = (
            self._fs.root  # type: ignore[attr-defined]
            if is_plain_local(fs)
            else Path(run_dir)
        )
        self.output_prefix = output_prefix
        self.stdout = stdout
        self.stderr = stderr
        self.async_fs = async_fs
        self.migration_report = migration_report
        self._given = (success, exit_code, runtime_seconds)
        self._manifest = manifest if manifest is not None else _UNSET
        self._naming: Any = (output_prefix, output_suffix) if output_suffix else _UNSET
        self._sql: SQLResult | Any | None = _UNSET
        self._errors: ErrorReport | None = None
        self._readers: dict[str, Any] = {}
        self._prefetched: _fetch.Prefetch | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_directory(
        cls,
        path: str | Path,
        *,
        output_prefix: str = "eplus",
        fs: FileSystem | None = None,
        async_fs: Any = None,
        output_suffix: OutputSuffix | None = None,
    ) -> SimulationResult:
        """A result for an existing run folder; touches no storage until read.

        Reads folders written by this package (with a manifest), by idfkit
        (`eplus.*`, no manifest) and by other tools (`eplusout.*`).

        Args:
            path: The run folder: a local path, or a path on `fs`.
            output_prefix: The prefix of the output file names.
            fs: The backend holding the folder; None means local disk.
            async_fs: An async backend holding the folder, instead of `fs`.
            output_suffix: The suffix style; None detects it from the files.

        Returns:
            The result; nothing has been read yet.
        """
        return cls(
            path, output_prefix=output_prefix, fs=fs, async_fs=async_fs, output_suffix=output_suffix
        )

    def __getstate__(self) -> dict[str, Any]:
        # The SQLite handle and the lock stay behind; the copy reopens on demand.
        state = self.__dict__.copy()
        del state["_lock"]
        state["_sql"] = _UNSET
        state["_readers"] = {}
        state["_prefetched"] = None
        for key in _LAZY:
            if state[key] is _UNSET:
                state[key] = _UnsetMarker()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key in _LAZY:
            if isinstance(state[key], _UnsetMarker):
                state[key] = _UNSET
        state.setdefault("_prefetched", None)
        self.__dict__.update(state)
        self._lock = threading.RLock()

    @property
    def fs(self) -> FileSystem | None:
        """The `FileSystem` given for this result, as idfkit keeps it.

        None when none was given (the folder is on local disk) and when an
        `async_fs` holds the folder instead; the readers use whichever backend
        holds it either way.
        """
        return self._given_fs

    # -- manifest-backed facts -----------------------------------------------
    @property
    def manifest(self) -> RunManifest | None:
        """The run manifest, or None for a plain EnergyPlus directory.

        Raises:
            ResultNotFoundError: The directory holds nothing (unless the result
                was made as a failure, such as a batch job that never ran).
            IncompleteResultError: A run there never finished publishing, or
                its manifest is invalid.
        """
        with self._lock:
            if self._manifest is _UNSET:
                self._manifest = self._load_manifest()
            manifest: RunManifest | None = self._manifest
            return manifest

    def _load_manifest(self) -> RunManifest | None:
        path = self._path(MANIFEST_NAME)
        try:
            text = self._fs.read_bytes(path)
        except FileNotFoundError:
            if self._dir_is_empty() and not self._made_as_failure:
                raise ResultNotFoundError(f"no simulation result at {self._where()}") from None
            return None  # a plain EnergyPlus folder, or a result made as a failure (never ran)
        found = read_manifest(text, where=self._where(MANIFEST_NAME))
        if isinstance(found, PublishingMarker):
            raise IncompleteResultError(
                f"the run at {self._where()} (run {found.run_id[:12]}, started "
                f"{found.started_at:%Y-%m-%d %H:%M:%S}) never finished publishing its results"
            )
        return found

    @property
    def success(self) -> bool:
        """Whether the run succeeded: as given, else from the manifest, else from the .err."""
        if self._given[0] is not None:
            return self._given[0]
        manifest = self.manifest
        if manifest is not None:
            return manifest.success
        return self.errors.completed_successfully

    @property
    def _made_as_failure(self) -> bool:
        """Made with `success=False` (a batch job that never ran): no folder is owed."""
        return self._given[0] is False

    @property
    def exit_code(self) -> int | None:
        """EnergyPlus's exit code: as given, else from the manifest, else inferred from the .err.

        A folder without a manifest (written by idfkit 1.1.1 or by EnergyPlus
        itself) records no exit code: it is `0` when its .err file says
        `EnergyPlus Completed Successfully` with no fatal error, and None
        (unknown) otherwise. A result made with `success` given (a job that
        never ran, say) reads nothing: its exit code is what was given, None
        included.
        """
        if self._given[1] is not None or self._given[0] is not None:
            return self._given[1]
        manifest = self.manifest
        if manifest is not None:
            return manifest.exit_code
        return 0 if self.errors.completed_successfully else None

    @property
    def runtime_seconds(self) -> float:
        """The run's wall time: as given, else from the manifest, else 0.0 (unknown)."""
        if self._given[2] is not None:
            return self._given[2]
        if self._given[0] is not None:
            return 0.0
        manifest = self.manifest
        return manifest.runtime_seconds if manifest is not None else 0.0

    @property
    def output_suffix(self) -> OutputSuffix:
        """The suffix style of the output names: as given, else detected, else `"C"`."""
        return self._resolved_naming()[1]

    def _resolved_naming(self) -> tuple[str, OutputSuffix]:
        """The prefix and style the files are named with (`eplusout` may mean `eplus`, `L`)."""
        with self._lock:
            if self._naming is _UNSET:
                manifest = self.manifest
                # A manifest records how its run named the files; the caller's prefix is a guess.
                prefix = manifest.output_prefix if manifest is not None else self.output_prefix
                declared: OutputSuffix | None = getattr(manifest, "output_suffix", None)
                styles: tuple[OutputSuffix, ...] = (declared,) if declared else ("C", "L", "D")
                found = detect_naming(prefix, self.files(), styles)
                self._naming = found or (prefix, declared or "C")
            naming: tuple[str, OutputSuffix] = self._naming
            return naming

    def files(self) -> list[str]:
        """Names of the run's files: the manifest's list, or what the directory holds."""
        manifest = self.manifest
        if manifest is not None:
            return [f.name for f in manifest.files]
        return self._names_present()

    def verify(self, *, deep: bool = False) -> None:
        """Check that every listed file is there with its size (and, if `deep`, its SHA-256).

        A deep check reads the stored objects themselves: on a remote
        backend each file is downloaded again and hashed, whatever the local
        download cache holds.

        Args:
            deep: Also check each file's SHA-256, reading its content.

        Raises:
            IncompleteResultError: Naming every file that is missing or wrong.
        """
        manifest = self.manifest
        if manifest is None:
            raise IncompleteResultError(f"{self._where()} has no manifest to verify against")
        present = set(self._names_present())
        problems: list[str] = []
        for entry in manifest.files:
            if entry.name not in present:
                problems.append(f"{entry.name}: missing")
            elif deep:
                try:
                    self._checked_path(entry.name, fresh=True)
                except IncompleteResultError as exc:
                    problems.append(f"{entry.name}: {exc}")
            else:
                info = file_info(self._fs, self._path(entry.name))
                if info is not None and info.size != entry.size:
                    problems.append(f"{entry.name}: {info.size} bytes, manifest says {entry.size}")
        if problems:
            raise IncompleteResultError(
                f"result at {self._where()} is incomplete: " + "; ".join(problems)
            )

    # -- files -----------------------------------------------------------
    def output_name(self, kind: OutputKind) -> str:
        """The file name of one output kind (e.g. `"sql"`) in this run's naming style.

        Args:
            kind: Which output, as for `idfkit.simulation.filenames.output_name`.
        """
        return output_name(kind, *self._resolved_naming())

    def _path(self, name: str) -> str:
        return join(self._dir, name)

    def _where(self, name: str = "") -> str:
        url = getattr(self._fs, "url", None)
        target = self._path(name) if name else self._dir
        if callable(url):
            return str(url(target))
        if isinstance(self._fs, SupportsLocalPath) and self._fs.root is not None:
            return str(self._fs.root / target)
        return f"{target!r} on {self._fs!r}"

    def _expected(self, name: str) -> ManifestFile | None:
        manifest = self.manifest
        if manifest is None:
            return None
        entry = manifest.file(name)
        if entry is None:
            raise FileNotFoundError(f"{name} is not among the run's files at {self._where()}")
        return entry

    def local_path(self, name: str) -> Path:
        """A local file with the content of `name`: in place on local disk, else cached.

        When the run has a manifest, the file's size and SHA-256 are checked
        against it first (on local disk too; the digest is remembered while
        the file stays unchanged).

        Args:
            name: The file's name relative to the run folder.

        Raises:
            IncompleteResultError: The file is missing or differs from its
                manifest entry.
            FileNotFoundError: The name is not among the run's files.
        """
        return self._cold_read(name, lambda: self._checked_path(name, fresh=False))

    def _cold_read(self, name: str, read: Callable[[], T]) -> T:
        """``read()``, after the manifest; on a cold remote read, `name` is fetched with it.

        A first read costs two requests, the manifest and then the file it
        vouches for. Here the file's download starts as the manifest is
        read, so they cost one round trip together; its bytes stay unchecked
        until `_checked_path` checks them against the manifest entry (size
        and SHA-256) like any download, and are dropped unused when the
        manifest lists no such file or names the file otherwise.

        Args:
            name: The file the read most likely wants (a guess is fine).
            read: The read itself.
        """
        pending: _fetch.Prefetch | None = None
        with self._lock:
            if self._manifest is _UNSET:
                path = self._path(name)
                if not isinstance(
                    self._fs, SupportsLocalPath | BlockingFileSystem
                ) and _fetch.worth_prefetching(self._fs, path):
                    pending = _fetch.Prefetch(self._fs, path, where=self._where(name))
                try:
                    self._manifest = self._load_manifest()
                except BaseException:
                    if pending is not None:
                        pending.abandon()
                    raise
                self._prefetched = pending
        try:
            return read()
        finally:
            if pending is not None:
                with self._lock:
                    if self._prefetched is pending:
                        self._prefetched = None
                pending.abandon()

    def _take_prefetched(self, path: str) -> Path | None:
        """The staged download of `path` that a cold read started, if there is one."""
        with self._lock:
            pending = self._prefetched
            if pending is None or pending.path != path:
                return None
            self._prefetched = None
        return pending.take()

    def _guessed_name(self, kind: OutputKind) -> str:
        """The name of `kind` before the manifest says how the run named its files."""
        naming = self._naming if self._naming is not _UNSET else (self.output_prefix, "C")
        return output_name(kind, *naming)

    def _checked_path(self, name: str, *, fresh: bool) -> Path:
        """`local_path`; with `fresh`, a remote file is downloaded and checked again."""
        expected = self._expected(name)
        if isinstance(self._fs, SupportsLocalPath):
            # The backend says where its file lies, under its own rules (a link out of
            # its root is refused there); the reader never builds a local path itself.
            local = self._fs.local_path(self._path(name))
            if expected is not None:
                _fetch.check_local(local, expected, where=str(local))
            elif not local.is_file():
                raise FileNotFoundError(f"no such file: {local}")
            return local
        path = self._path(name)
        staged = self._take_prefetched(path) if expected is not None and not fresh else None
        return _fetch.fetch(
            self._fs, path, expected, where=self._where(name), fresh=fresh, staged=staged
        )

    def read_text(self, name: str) -> str:
        """A small output file (e.g. the .err) as text, checked against the manifest.

        Args:
            name: The file's name relative to the run folder.
        """
        return self.local_path(name).read_text(encoding="utf-8", errors="replace")

    def _output_path(self, *kinds: OutputKind) -> Path | None:
        """The verified local path of the first of `kinds` the run has, else None."""
        if self._manifest is _UNSET:
            return self._cold_read(self._guessed_name(kinds[0]), lambda: self._output_path(*kinds))
        for kind in kinds:
            try:
                return self.local_path(self.output_name(kind))
            except FileNotFoundError as exc:
                if isinstance(exc, ResultNotFoundError | StorageError):
                    raise
        return None

    @property
    def sql_path(self) -> Path | None:
        """The SQLite output as a local file (downloaded and verified if remote), or None."""
        return self._output_path("sql")

    @property
    def err_path(self) -> Path | None:
        """The .err file as a local file (any ``*.err`` when the named one is absent), or None."""
        return self._output_path("err") or self._any_with_suffix(".err")

    @property
    def eso_path(self) -> Path | None:
        """The .eso file as a local file, or None."""
        return self._output_path("eso")

    @property
    def mtr_path(self) -> Path | None:
        """The .mtr (meters) file as a local file, or None."""
        return self._output_path("mtr")

    @property
    def rdd_path(self) -> Path | None:
        """The .rdd (available variables) file as a local file, or None."""
        return self._output_path("rdd")

    @property
    def mdd_path(self) -> Path | None:
        """The .mdd (available meters) file as a local file, or None."""
        return self._output_path("mdd")

    @property
    def csv_path(self) -> Path | None:
        """The ReadVarsESO time-series CSV (else the meter CSV) as a local file, or None."""
        return self._output_path("csv", "meter_csv")

    @property
    def html_path(self) -> Path | None:
        """The HTML tabular report as a local file, or None.

        Tried in turn, as idfkit does: the run's own table report name
        (``eplusTable.htm``), the same ending ``.html``, then any ``*.htm``, then
        any ``*.html`` in the folder (``eplustbl.htm`` included).
        """
        found = self._output_path("table_htm")
        if found is None and not self._has_manifest():
            named = self.output_name("table_htm")
            found = (
                self._present(named.removesuffix(".htm") + ".html")
                or self._any_with_suffix(".htm")
                or self._any_with_suffix(".html")
            )
        return found

    def _has_manifest(self) -> bool:
        return self.manifest is not None

    def _present(self, name: str) -> Path | None:
        """`name` in the run folder as a local file, or None when absent."""
        try:
            return self.local_path(name)
        except FileNotFoundError as exc:
            if isinstance(exc, ResultNotFoundError | StorageError):
                raise
            return None

    def _any_with_suffix(self, suffix: str) -> Path | None:
        """The first file (by name) directly in a folder without a manifest ending in `suffix`."""
        if self._has_manifest():
            return None
        names = sorted(n for n in self._names_present() if n.lower().endswith(suffix))
        return self._present(names[0]) if names else None

    # -- parsed outputs ----------------------------------------------------
    @property
    def sql(self) -> SQLResult | None:
        """The SQLite output (fetched once, then cached), or None if the run made none."""
        with self._lock:
            if self._sql is _UNSET:
                path = self.sql_path
                self._sql = SQLResult(path) if path is not None else None
            sql: SQLResult | None = self._sql
            return sql

    @property
    def errors(self) -> ErrorReport:
        """The parsed .err file (an empty report when there is none).

        Raises:
            ResultNotFoundError: Nothing is at the result's location (unless
                the result was made as a failure, such as a batch job that
                never ran: its report is empty).
        """
        with self._lock:
            if self._errors is None:
                try:
                    self._errors = self._cold_read(
                        self._guessed_name("err"),
                        lambda: parse_err(self.read_text(self.output_name("err"))),
                    )
                except FileNotFoundError as exc:
                    if not self._made_as_failure and (
                        isinstance(exc, ResultNotFoundError) or self._dir_is_empty()
                    ):
                        raise ResultNotFoundError(
                            f"no simulation result at {self._where()}"
                        ) from exc
                    self._errors = parse_err("")
            return self._errors

    def _reader(
        self, key: str, locate: Callable[[], Path | None], parse: Callable[[Path], T]
    ) -> T | None:
        """Parse the file `locate` finds, once; None when the run has no such file."""
        with self._lock:
            if key not in self._readers:
                path = locate()
                self._readers[key] = parse(path) if path is not None else None
            found: T | None = self._readers[key]
            return found

    @property
    def variables(self) -> OutputVariableIndex | None:
        """The variables and meters the run could report (.rdd/.mdd), or None without an .rdd."""
        return self._reader(
            "variables",
            lambda: self.rdd_path,
            lambda rdd: OutputVariableIndex.from_files(rdd, self.mdd_path),
        )

    @property
    def csv(self) -> CSVResult | None:
        """The time-series CSV (see `csv_path`), parsed once, or None."""
        from idfkit.simulation.parsers.csv import CSVResult  # each reader loads on first use

        return self._reader("csv", lambda: self.csv_path, CSVResult.from_file)

    @property
    def html(self) -> HTMLResult | None:
        """The HTML tabular report, parsed once, or None."""
        from idfkit.simulation.parsers.html import HTMLResult

        return self._reader("html", lambda: self.html_path, HTMLResult.from_file)

    @property
    def eso(self) -> ESOResult | None:
        """The .eso output variables, parsed once, or None."""
        from idfkit.simulation.parsers.eso import ESOResult

        return self._reader("eso", lambda: self.eso_path, ESOResult.from_file)

    @property
    def mtr(self) -> ESOResult | None:
        """The .mtr meters, parsed once, or None."""
        from idfkit.simulation.parsers.eso import ESOResult

        return self._reader("mtr", lambda: self.mtr_path, ESOResult.from_file)

    # -- the same readers for asyncio: the event loop never waits on a read ----
    async def async_sql(self) -> SQLResult | None:
        """`sql`, read in a worker thread."""
        return await self._off_loop(lambda: self.sql)

    async def async_errors(self) -> ErrorReport:
        """`errors`, read in a worker thread."""
        return await self._off_loop(lambda: self.errors)

    async def async_variables(self) -> OutputVariableIndex | None:
        """`variables`, read in a worker thread."""
        return await self._off_loop(lambda: self.variables)

    async def async_csv(self) -> CSVResult | None:
        """`csv`, read in a worker thread."""
        return await self._off_loop(lambda: self.csv)

    async def async_html(self) -> HTMLResult | None:
        """`html`, read in a worker thread."""
        return await self._off_loop(lambda: self.html)

    async def async_eso(self) -> ESOResult | None:
        """`eso`, read in a worker thread."""
        return await self._off_loop(lambda: self.eso)

    async def async_mtr(self) -> ESOResult | None:
        """`mtr`, read in a worker thread."""
        return await self._off_loop(lambda: self.mtr)

    async def _off_loop(self, read: Callable[[], T]) -> T:
        """`read` in a worker thread; an async-only backend is called back on this loop."""
        import asyncio  # only the async accessors need it: a synchronous caller never loads it

        if isinstance(self._fs, BlockingFileSystem):
            with serving_loop(asyncio.get_running_loop()):
                return await asyncio.to_thread(read)
        return await asyncio.to_thread(read)

    def _names_present(self) -> list[str]:
        """Names stored directly in the run folder (one listing)."""
        return [p.rsplit("/", 1)[-1] for p in self._fs.glob(self._dir, "*")]

    def _dir_is_empty(self) -> bool:
        return not self._names_present()

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        """Close open readers; the result stays usable and reopens them on the next read."""
        with self._lock:
            if isinstance(self._sql, SQLResult):
                self._sql.close()
            self._sql = _UNSET

    def __enter__(self) -> SimulationResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "not read" if self._manifest is _UNSET else _status_word(self._manifest)
        return f"<SimulationResult {self._where()} ({state})>"

    def _repr_html_(self) -> str:
        manifest = self.manifest
        rows = [("location", self._where())]
        if manifest is not None:
            rows += [
                ("status", "succeeded" if manifest.success else "failed"),
                ("exit code", str(manifest.exit_code)),
                ("runtime", f"{manifest.runtime_seconds:.2f} s"),
                ("EnergyPlus", manifest.energyplus_version),
                ("files", str(len(manifest.files))),
            ]
            if manifest.error_summary:
                rows.append(("errors", manifest.error_summary))
        else:
            rows.append(("status", "no manifest (plain EnergyPlus directory)"))
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v).replace(chr(10), '<br>')}</td></tr>"
            for k, v in rows
        )
        return f"<table><caption>SimulationResult</caption>{body}</table>"


def _status_word(manifest: RunManifest | None) -> str:
    if manifest is None:
        return "no manifest"
    return "succeeded" if manifest.success else "failed"


def _locate(run_dir: str | Path, fs: FileSystem | None) -> tuple[FileSystem, str]:
    """The backend and the directory on it; plain local paths become a rooted view."""
    if is_plain_local(fs):
        return LocalFileSystem(root=Path(run_dir)), ""
    assert fs is not None
    return fs, normalize_path(run_dir)
