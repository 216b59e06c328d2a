"""`SimulationCache`: finished runs kept by content key, on any FileSystem.

idfkit's module name for it, with `CacheKey` and `default_simulation_cache_dir`.

Layout under the cache's prefix, one folder per key::

    <key>/entry.json            the pointer, written last: which fill is the entry
    <key>/<fill>/...            one complete run folder per fill, with its manifest

Every fill writes to a folder of its own (a fresh random name), so two
workers filling the same key at once never mix their files; the pointer,
written last, names one whole fill. A reader trusts nothing it reads back:
the pointer is validated strictly and every file is checked against the
manifest's SHA-256 before a hit is served; a corrupt or incomplete entry
is dropped and reads as a miss, so the next run refills it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from idfkit.simulation._cache_dirs import cache_root
from idfkit.simulation._external_files import external_files
from idfkit.simulation._job_context import job_fields
from idfkit.simulation._publish import _map, mark_publishing, publish_placed
from idfkit.simulation._staging import find_weather
from idfkit.simulation.exceptions import IncompleteResultError
from idfkit.simulation.fs.base import (
    FileSystem,
    SupportsLocalPath,
    download_file,
    file_info,
    join,
    normalize_path,
    same_store,
    sha256_file,
    upload_file,
)
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    ManifestFile,
    PublishingMarker,
    RunManifest,
    bounded_json,
    hash_file,
)
from idfkit.simulation.metrics import sql_names
from idfkit.simulation.result import SimulationResult

if TYPE_CHECKING:
    from idfkit.document import IDFDocument

__all__ = ["CacheKey", "SimulationCache", "default_simulation_cache_dir"]

log = logging.getLogger(__name__)

ENTRY_NAME = "entry.json"
_KEY_FORMAT = 1
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_FillId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
_KeyHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


@dataclass(frozen=True)
class CacheKey:
    """The identity of a simulation: a SHA-256 over its model text, weather bytes and options.

    Args:
        hex_digest: 64 lowercase hexadecimal characters.

    Raises:
        ValueError: If `hex_digest` is not a SHA-256 in lowercase hex.
    """

    hex_digest: str

    def __post_init__(self) -> None:
        if not isinstance(self.hex_digest, str) or not _HEX64.match(self.hex_digest):
            raise ValueError(f"a cache key is 64 lowercase hex characters, not {self.hex_digest!r}")


class _Entry(BaseModel):
    """The pointer file: which fill holds the entry, and that fill's manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    format: Literal[1] = 1
    key: _KeyHex
    fill: _FillId
    manifest: RunManifest


class SimulationCache:
    """Finished simulations kept by content, so an identical run is served without EnergyPlus.

    By default the cache is a local folder (`IDFKIT_CACHE_DIR`, else
    `~/.cache/idfkit`, then `simulation`). Given `fs`, it lives on any
    backend, so a team or a fleet of workers shares one cache in a bucket:

        cache = SimulationCache(fs=S3FileSystem("my-bucket"), prefix="sim-cache")

    Only successful runs are stored. Concurrent fills of one key are safe,
    and an entry whose files do not match its manifest is dropped and refilled.

    Args:
        cache_dir: Local folder for the cache (the default location when None).
        fs: A backend to keep the cache on instead of a local folder.
        prefix: Folder on `fs` under which entries live.

    Raises:
        ValueError: If both `cache_dir` and `fs` are given.
    """

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        *,
        fs: FileSystem | None = None,
        prefix: str = "",
    ) -> None:
        if fs is not None and cache_dir is not None:
            raise ValueError("pass cache_dir (a local folder) or fs (any backend), not both")
        self._local_dir: Path | None = None
        if fs is None:
            folder = Path(cache_dir) if cache_dir is not None else default_simulation_cache_dir()
            self._local_dir = folder.resolve()
            fs = LocalFileSystem(root=self._local_dir)
        self.fs: FileSystem = fs
        self.prefix = normalize_path(prefix)

    def __repr__(self) -> str:
        if self._local_dir is not None and not self.prefix:
            return f"SimulationCache({str(self._local_dir)!r})"
        return f"SimulationCache(fs={self.fs!r}, prefix={self.prefix!r})"

    @property
    def cache_dir(self) -> Path:
        """The local folder that holds the cache.

        Raises:
            TypeError: If the cache lives on a backend other than local disk.
        """
        if isinstance(self.fs, SupportsLocalPath) and self.fs.root is not None:
            return self.fs.root / self.prefix if self.prefix else self.fs.root
        raise TypeError(f"{self!r} is not on local disk; its entries are under fs and prefix")

    # -- keys ----------------------------------------------------------------
    def compute_key(
        self,
        model: IDFDocument | str | PurePath,
        weather: str | PurePath | None,
        *,
        expand_objects: bool = True,
        annual: bool = False,
        design_day: bool = False,
        output_suffix: Literal["C", "L", "D"] = "C",
        readvars: bool = False,
        extra_args: list[str] | tuple[str, ...] | None = None,
        output_prefix: str = "eplus",
        energyplus_version: str | tuple[int, ...] | None = None,
        fs: FileSystem | None = None,
    ) -> CacheKey:
        """The key of a simulation: the same inputs and options give the same key.

        The model is taken as it will run (a copy, with `Output:SQLite`
        added when missing), so a model that differs only by that object has
        the same key. The weather file counts by its bytes, not its path, and
        so does every external file the model reads (`Schedule:File` CSVs,
        `Table:Lookup` data, window data files, FMUs, ASHRAE 205
        representations): a change to one of them is another key.

        Args:
            model: The model, or the path of an .idf/.epJSON file.
            weather: A local weather file, or None for a run without one.
            expand_objects: Whether ExpandObjects runs.
            annual: Whether the run is annual (`-a`).
            design_day: Whether only design days run (`-D`).
            output_suffix: EnergyPlus's output naming style (`"C"`, `"L"` or `"D"`).
            readvars: Whether ReadVarsESO runs (`-r`).
            extra_args: Further EnergyPlus arguments.
            output_prefix: The output file prefix (it names every file).
            energyplus_version: The engine's version, so that another engine
                misses (default: the version of the engine `find_energyplus` finds).
            fs: Where `weather` is, when it is not a local file (as for `simulate`).

        Returns:
            The key, for `get`, `put`, `contains` and `restore`.

        Raises:
            FileNotFoundError: If `weather` or a model path does not exist.
            ValueError: The model reads a file the key cannot cover (a Python
                plugin, co-simulation, or an external file by a relative
                path or one that does not exist); `external_files` says which.
        """
        from idfkit.simulation import _model
        from idfkit.simulation._staging import prepare_model

        doc = prepare_model(model)
        external, reason = external_files(doc)
        if reason is not None:
            raise ValueError(f"this model cannot be cached: {reason}")
        model_text = _model.model_text(doc)
        if energyplus_version is None:
            from idfkit.simulation.energyplus import find_energyplus

            energyplus_version = find_energyplus().version
        if isinstance(energyplus_version, tuple):
            energyplus_version = ".".join(str(part) for part in energyplus_version)
        record = {
            "format": _KEY_FORMAT,
            "model": hashlib.sha256(model_text.encode("utf-8")).hexdigest(),
            "weather": None if weather is None else _weather_sha256(weather, fs),
            "expand_objects": bool(expand_objects),
            "annual": bool(annual),
            "design_day": bool(design_day),
            "output_suffix": output_suffix,
            "readvars": bool(readvars),
            "extra_args": [str(arg) for arg in extra_args or ()],
            "output_prefix": output_prefix,
            "energyplus": energyplus_version,
            "external_files": external,
        }
        text = json.dumps(record, sort_keys=True, separators=(",", ":"))
        return CacheKey(hashlib.sha256(text.encode("utf-8")).hexdigest())

    # -- lookups ---------------------------------------------------------------
    def contains(self, key: CacheKey) -> bool:
        """Whether an entry stands for `key` (one existence check; files are checked by `get`).

        Args:
            key: A key from `compute_key`.
        """
        return self.fs.exists(self._pointer(key))

    def get(self, key: CacheKey) -> SimulationResult | None:
        """The cached run for `key`, read where it is kept, or None on a miss.

        Every file is checked against the entry's manifest first; a corrupt
        or incomplete entry is dropped and reads as a miss.

        Args:
            key: A key from `compute_key`.

        Returns:
            A `SimulationResult` over the entry, or None.
        """
        entry = self._intact_entry(key)
        if entry is None:
            return None
        folder = self._fill_dir(key, entry.fill)
        if self._local_dir is not None:
            return SimulationResult(self._local_dir / folder, manifest=entry.manifest)
        return SimulationResult(folder, fs=self.fs, manifest=entry.manifest)

    def restore(
        self,
        key: CacheKey,
        output_dir: str | PurePath | None = None,
        *,
        fs: FileSystem | None = None,
        label: str = "",
    ) -> SimulationResult | None:
        """Place the cached run for `key` in `output_dir`, as if it had just run there.

        A hit is published exactly as a run is: on local disk it refuses to
        replace a file named as its model copy that no run wrote (the user's
        own model, say), then it marks the folder, places
        the files, and commits its manifest only if its marker still stands
        (a run that took the folder over meanwhile wins, and this raises
        `ConcurrentRunError`). On the cache's own store each file is copied
        server-side; otherwise it is downloaded or uploaded, and checked.
        The new manifest describes the job that asked: its label (even
        empty), its study binding and its parameters, never the cached run's.

        Args:
            key: A key from `compute_key`.
            output_dir: Local folder (a new temporary one when None), or the
                folder on `fs`.
            fs: The backend to place the run on (local disk when None).
            label: The label recorded in the new manifest.

        Returns:
            The placed result, or None on a miss (nothing stands for `key`,
            or the entry was corrupt and has been dropped).

        Raises:
            FileExistsError: The local folder holds a file named as the
                hit's model copy that no run wrote.
            ConcurrentRunError: Another run took the folder over meanwhile.
        """
        from idfkit.simulation._staging import (
            local_output_dir,
            refuse_foreign_files,
            remote_output_dir,
        )

        entry = self._intact_entry(key)
        if entry is None:
            return None
        chosen = local_output_dir(output_dir) if fs is None else None
        if fs is None:
            run_dir = Path(tempfile.mkdtemp(prefix="idfkit-")) if chosen is None else chosen
            dst_fs: FileSystem = LocalFileSystem(root=run_dir)
            dst_dir = ""
        else:
            dst_fs, dst_dir = fs, remote_output_dir(output_dir)
        # The run's own checks and commit, in the run's order: nothing is written before this.
        # A run refuses to replace a file named as its model copy, and so does a hit.
        model_copy = [f.name for f in entry.manifest.files if f.name == entry.manifest.model.name]
        refuse_foreign_files(dst_fs, dst_dir, model_copy)
        if fs is None:
            run_dir.mkdir(parents=True, exist_ok=True)
        marker = PublishingMarker(
            run_id=uuid.uuid4().hex, label=label, started_at=datetime.now(UTC)
        )
        claim = mark_publishing(dst_fs, dst_dir, marker)
        src_dir = self._fill_dir(key, entry.fill)

        def place() -> tuple[ManifestFile, ...]:
            with tempfile.TemporaryDirectory(prefix="idfkit-") as tmp:
                _map(
                    lambda f: _transfer(
                        self.fs, join(src_dir, f.name), dst_fs, join(dst_dir, f.name), f, Path(tmp)
                    ),
                    entry.manifest.files,
                )
            return entry.manifest.files

        def describe(files: tuple[ManifestFile, ...]) -> RunManifest:
            names = sql_names(entry.manifest.output_prefix)
            return entry.manifest.model_copy(
                update={
                    "run_id": marker.run_id,
                    "label": label,
                    "host": "",
                    "started_at": marker.started_at,
                    "finished_at": datetime.now(UTC),  # the hit's own span, never negative
                    "files": files,
                    **job_fields(
                        wrote_sql=any(entry.manifest.file(n) is not None for n in names),
                        metrics=entry.manifest.metrics,
                    ),
                }
            )

        try:
            manifest = publish_placed(dst_fs, dst_dir, place, describe, claim=claim)
        except (FileNotFoundError, IncompleteResultError):
            # The entry changed under us (dropped or refilled by another worker): a miss.
            if chosen is None and fs is None:
                shutil.rmtree(run_dir, ignore_errors=True)
            return None
        if fs is None:
            return SimulationResult(
                run_dir, output_prefix=manifest.output_prefix, manifest=manifest
            )
        return SimulationResult(
            dst_dir, fs=fs, output_prefix=manifest.output_prefix, manifest=manifest
        )

    # -- filling ---------------------------------------------------------------
    def put(self, key: CacheKey, result: SimulationResult) -> None:
        """Store a successful run under `key` (a failed one is not stored).

        The files go to a fill folder of their own, then the fill's manifest,
        then the pointer that makes it the entry, so a reader never sees a
        partial entry and two concurrent fills never mix.

        Args:
            key: A key from `compute_key`.
            result: A finished run, on any backend.

        Raises:
            ValueError: If `result` has no manifest (a folder not written by
                `simulate`).
        """
        if not result.success:
            return
        manifest = result.manifest
        if manifest is None:
            raise ValueError(
                f"{result!r} has no run manifest; only runs made by simulate() are cached"
            )
        fill = uuid.uuid4().hex
        fill_dir = self._fill_dir(key, fill)
        same = same_store(result._fs, self.fs)

        def store(item: ManifestFile) -> None:
            target = join(fill_dir, item.name)
            if same:
                self.fs.copy(result._path(item.name), target)
            else:
                upload_file(self.fs, result.local_path(item.name), target)

        _map(store, manifest.files)
        self.fs.write_text(join(fill_dir, MANIFEST_NAME), manifest.to_json())
        entry = _Entry(key=key.hex_digest, fill=fill, manifest=manifest)
        pointer = self._pointer(key)
        self.fs.write_text(pointer, entry.model_dump_json())
        # Another fill may have published after this one: the pointer names one whole fill
        # either way; the loser's folder is no longer needed.
        current = self._read_entry(key)
        if current is None or current.fill != fill:
            self._remove_fill(key, fill)

    def store(self, key: CacheKey, result: SimulationResult) -> None:
        """`put`, except that a storage failure is logged, not raised.

        `simulate` stores through this: a cache that cannot be written never
        costs the caller a run that succeeded.

        Args:
            key: A key from `compute_key`.
            result: The successful run to keep.
        """
        try:
            self.put(key, result)
        except (OSError, ValueError) as exc:  # ValueError: the backend refuses a path
            log.warning("could not add the run to %r: %s", self, exc)

    def clear(self) -> None:
        """Remove every entry (a local cache folder is removed whole)."""
        if self._local_dir is not None and not self.prefix:
            shutil.rmtree(self._local_dir, ignore_errors=True)
            return
        for key_dir in self.fs.glob(self.prefix, "*"):
            name = key_dir.rsplit("/", 1)[-1]
            if not _HEX64.match(name):
                continue  # not ours
            key = CacheKey(name)
            for item in self.fs.glob(key_dir, "*"):
                leaf = item.rsplit("/", 1)[-1]
                if leaf == ENTRY_NAME:
                    _remove_quietly(self.fs, item)
                elif re.fullmatch(r"[0-9a-f]{32}", leaf):
                    self._remove_fill(key, leaf)

    # -- internals -------------------------------------------------------------
    def _key_dir(self, key: CacheKey) -> str:
        return join(self.prefix, key.hex_digest)

    def _pointer(self, key: CacheKey) -> str:
        return join(self._key_dir(key), ENTRY_NAME)

    def _fill_dir(self, key: CacheKey, fill: str) -> str:
        return join(self._key_dir(key), fill)

    def _read_entry(self, key: CacheKey) -> _Entry | None:
        """The pointer for `key`; None if absent. A malformed pointer is removed."""
        pointer = self._pointer(key)
        try:
            data = self.fs.read_bytes(pointer)
        except (FileNotFoundError, ValueError):  # ValueError: the backend refuses the path
            return None
        try:
            bounded_json(data, where=pointer)
            entry = _Entry.model_validate_json(data)
        except (ValidationError, IncompleteResultError):
            _remove_quietly(self.fs, pointer)
            return None
        if entry.key != key.hex_digest:
            _remove_quietly(self.fs, pointer)
            return None
        return entry

    def _intact_entry(self, key: CacheKey) -> _Entry | None:
        """The entry for `key` if every file matches its manifest; else drop it, None."""
        entry = self._read_entry(key)
        if entry is None:
            return None
        folder = self._fill_dir(key, entry.fill)
        intact = _map(lambda f: _holds(self.fs, join(folder, f.name), f), entry.manifest.files)
        if all(intact):
            return entry
        current = self._read_entry(key)
        if current is not None and current.fill == entry.fill:
            _remove_quietly(self.fs, self._pointer(key))
        self._remove_fill(key, entry.fill)
        return None

    def _remove_fill(self, key: CacheKey, fill: str) -> None:
        """Remove a fill's files and folder, as far as the backend lets them be named."""
        folder = self._fill_dir(key, fill)
        try:
            paths = self.fs.glob(folder, "*")
            local = _local_path(self.fs, folder)
        except ValueError:  # a link out of the cache's root: nothing of it is touched
            return
        for path in paths:
            _remove_quietly(self.fs, path)
        if local is not None:  # object stores have no folders to remove
            with contextlib.suppress(OSError):
                local.rmdir()


def default_simulation_cache_dir() -> Path:
    """The local folder a `SimulationCache` uses when given none.

    ``simulation`` under idfkit's cache folder (`idfkit.simulation._cache_dirs.cache_root`):
    ``$IDFKIT_CACHE_DIR/simulation`` when that variable is set; otherwise the
    platform's cache folder: ``$XDG_CACHE_HOME`` (or ``~/.cache``)
    ``/idfkit/simulation`` on Linux, ``~/Library/Caches/idfkit/simulation`` on
    macOS, ``%LOCALAPPDATA%\\idfkit\\cache\\simulation`` on Windows.
    """
    return cache_root(sys.platform) / "simulation"  # read here: tests written for idfkit patch it


def _weather_sha256(weather: str | PurePath, fs: FileSystem | None) -> str:
    """The weather file's SHA-256: a local file, else (with `fs`) the file on `fs`."""
    found = find_weather(weather, fs)  # the check a run makes, with its error
    if isinstance(found, Path):
        return sha256_file(found)
    assert fs is not None  # a path on a backend is found only with one
    info = file_info(fs, found)
    if info is not None and info.sha256 is not None:
        return info.sha256
    return hashlib.sha256(fs.read_bytes(found)).hexdigest()


def _holds(fs: FileSystem, path: str, expected: ManifestFile) -> bool:
    """Whether `path` holds exactly the content `expected` describes (a deep check).

    A path the backend refuses (a symbolic link out of its root) holds nothing.
    """
    try:
        info = file_info(fs, path)
        if info is not None and info.sha256 is not None:
            return info.size == expected.size and info.sha256 == expected.sha256
        data = fs.read_bytes(path)
    except (FileNotFoundError, ValueError):
        return False
    return len(data) == expected.size and hashlib.sha256(data).hexdigest() == expected.sha256


def _local_path(fs: FileSystem, path: str) -> Path | None:
    """Where `path` on `fs` lies on local disk, if it does (the backend says, under its rules)."""
    return fs.local_path(path) if isinstance(fs, SupportsLocalPath) else None


def _transfer(
    src_fs: FileSystem, src: str, dst_fs: FileSystem, dst: str, expected: ManifestFile, tmp: Path
) -> None:
    """Copy one file between backends by the cheapest route, checking the bytes it moves.

    The digest of what was read (or, for a copy inside one store, of the
    copy where it is on local disk) must be the manifest's; else the placed
    file is removed and the hit becomes a miss (`IncompleteResultError`).
    """
    if same_store(src_fs, dst_fs):
        dst_fs.copy(src, dst)
        dst_local = _local_path(dst_fs, dst)
        if dst_local is not None and hash_file(dst_local) != (expected.size, expected.sha256):
            _remove_quietly(dst_fs, dst)
            raise _changed_in_cache(src)
        return
    src_local = _local_path(src_fs, src)
    if src_local is not None:
        if upload_file(dst_fs, src_local, dst) != expected.sha256:
            _remove_quietly(dst_fs, dst)
            raise _changed_in_cache(src)
        return
    dst_local = _local_path(dst_fs, dst)
    staged = dst_local if dst_local is not None else tmp / uuid.uuid4().hex
    staged.parent.mkdir(parents=True, exist_ok=True)
    download_file(src_fs, src, staged)
    if hash_file(staged) != (expected.size, expected.sha256):
        staged.unlink()
        raise _changed_in_cache(src)
    if dst_local is None:
        upload_file(dst_fs, staged, dst)
        os.unlink(staged)


def _changed_in_cache(src: str) -> IncompleteResultError:
    """The error of a cached file whose bytes are not its entry's: the hit becomes a miss."""
    return IncompleteResultError(f"{src} changed while it was copied out of the cache")


def _remove_quietly(fs: FileSystem, path: str) -> None:
    """Remove ``path`` if it is there and the backend lets it be named (no link out of its root)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        fs.remove(path)
