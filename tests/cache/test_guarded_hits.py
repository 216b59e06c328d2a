"""Cache hits, readers and study inputs, guarded as a run is.

Most tests build their folders by hand (a manifest and files on a real
backend) so that no EnergyPlus run is needed; the ones marked `energyplus`
run the real engine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from idfkit import load_idf, write_idf
from idfkit.simulation import SimulationCache, SimulationJob, SimulationResult, simulate
from idfkit.simulation._job_context import JobContext, job_context
from idfkit.simulation._publish import mark_publishing, publish_placed
from idfkit.simulation.energyplus import EnergyPlusConfig
from idfkit.simulation.exceptions import (
    ConcurrentRunError,
    IncompleteResultError,
    StorageError,
    StudyError,
    WeatherFileNotFoundError,
)
from idfkit.simulation.fs.base import FileInfo, join
from idfkit.simulation.fs.fsspec import FsspecFileSystem
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.fs.memory import MemoryFileSystem
from idfkit.simulation.fs.s3 import S3FileSystem
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    MAX_JSON_DEPTH,
    JobBinding,
    PublishingMarker,
    RunManifest,
    read_manifest,
)
from idfkit.simulation.metrics import METRIC_REPORTS
from idfkit.simulation.study import collect_results, load_study, run_study_job, write_study
from idfkit.simulation.study.collect import CollectedRow, Collection
from idfkit.simulation.study.index import JobSpec
from idfkit.simulation.testing import ACCESS_KEY, SECRET_KEY
from idfkit.simulation.testing.contract import CapabilityContract
from tests.faults import FaultProxy, Request
from tests.helpers import made_manifest

OK_ERR = (
    b"Program Version,EnergyPlus\n"
    b"   ************* EnergyPlus Completed Successfully-- 0 Warning; 0 Severe Errors\n"
)
FATAL_ERR = (
    b"Program Version,EnergyPlus\n"
    b"   **  Fatal  ** the model was rejected\n"
    b"   ************* EnergyPlus Terminated--Fatal Error Detected. 0 Warning; 1 Severe Errors\n"
)
WIDTH = max(len(OK_ERR), len(FATAL_ERR))
OK_ERR, FATAL_ERR = OK_ERR.ljust(WIDTH), FATAL_ERR.ljust(WIDTH)  # one size: only content differs


def _stored_run(fs: Any, folder: str, files: dict[str, bytes], **overrides: Any) -> RunManifest:
    manifest = made_manifest(files, **overrides)
    for name, data in files.items():
        fs.write_bytes(join(folder, name), data)
    fs.write_text(join(folder, MANIFEST_NAME), manifest.to_json())
    return manifest


CACHED_FILES = {"model.idf": b"! the cached run's model\n", "eplus.err": OK_ERR}


def _filled_cache(cache: SimulationCache, key: Any, **overrides: Any) -> None:
    """An entry for `key`, put from a run folder made by hand (no EnergyPlus)."""
    source = MemoryFileSystem()
    _stored_run(source, "run", CACHED_FILES, **overrides)
    cache.put(key, SimulationResult.from_directory("run", fs=source))


# -- 1. the download cache keys by the store -----------------------------------------


def test_two_memory_stores_never_share_a_cached_file() -> None:
    good, bad = MemoryFileSystem(), MemoryFileSystem()
    good.write_bytes("run/eplus.err", OK_ERR)
    bad.write_bytes("run/eplus.err", FATAL_ERR)  # same path, same version token, same count
    assert SimulationResult.from_directory("run", fs=good).success is True
    assert SimulationResult.from_directory("run", fs=bad).success is False


def test_two_zip_archives_never_share_a_cached_file(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    stamp = (2024, 1, 1, 0, 0, 0)
    archives = []
    for name, err in (("good.zip", OK_ERR), ("bad.zip", FATAL_ERR)):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(zipfile.ZipInfo("run/eplus.err", stamp), err)
        archives.append(FsspecFileSystem(fsspec.filesystem("zip", fo=str(path))))
    assert SimulationResult.from_directory("run", fs=archives[0]).success is True
    assert SimulationResult.from_directory("run", fs=archives[1]).success is False


def test_store_identity_names_endpoint_bucket_prefix_and_root(tmp_path: Path) -> None:
    from idfkit.simulation.fs.base import store_identity

    def s3(endpoint: str, bucket: str = "results", prefix: str = "p") -> S3FileSystem:
        return S3FileSystem(bucket, prefix, endpoint_url=endpoint, region_name="us-east-1")

    assert store_identity(s3("http://a:1")) == store_identity(s3("http://a:1"))
    assert store_identity(s3("http://a:1")) != store_identity(s3("http://b:1"))
    assert store_identity(s3("http://a:1")) != store_identity(s3("http://a:1", prefix="q"))
    assert store_identity(s3("http://a:1")) != store_identity(s3("http://a:1", bucket="other"))
    assert store_identity(LocalFileSystem(tmp_path)) == store_identity(LocalFileSystem(tmp_path))
    assert store_identity(LocalFileSystem(tmp_path)) != store_identity(
        LocalFileSystem(tmp_path / "x")
    )
    memory = MemoryFileSystem()
    assert store_identity(memory) != store_identity(MemoryFileSystem())
    assert store_identity(memory) != store_identity(pickle.loads(pickle.dumps(memory)))


def test_s3_store_identity_is_the_endpoint_the_client_talks_to() -> None:
    """Two stores reached through ready clients (or the environment) never share an identity.

    Their identity also ignores how the endpoint was spelled (a trailing slash, case).
    """
    import boto3

    from idfkit.simulation.fs.base import store_identity

    def client(endpoint: str) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    a = S3FileSystem("results", client=client("http://127.0.0.1:9001"))
    b = S3FileSystem("results", client=client("http://127.0.0.1:9002"))
    assert store_identity(a) != store_identity(b)
    spelled = S3FileSystem("results", endpoint_url="HTTP://127.0.0.1:9001/")
    assert store_identity(spelled) == store_identity(a)


def test_an_fsspec_store_without_version_tokens_is_cached_by_content() -> None:
    """A plugin that names its store but gives no etag or mtime (HTTP gives ``ETag``)."""
    memory = pytest.importorskip("fsspec.implementations.memory")

    class Unversioned(memory.MemoryFileSystem):  # type: ignore[misc]
        store: ClassVar[dict[str, Any]] = {}
        pseudo_dirs: ClassVar[list[str]] = [""]
        fsid = "unversioned"

        def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
            found: dict[str, Any] = super().info(path, **kwargs)
            found.pop("created", None)
            return found

    fs = FsspecFileSystem(Unversioned(skip_instance_cache=True), root="/store")
    fs.write_bytes("run/eplus.err", OK_ERR)
    assert SimulationResult.from_directory("run", fs=fs).success is True
    fs.write_bytes("run/eplus.err", FATAL_ERR)  # same size, and nothing else tells them apart
    assert SimulationResult.from_directory("run", fs=fs).success is False


class _ChangesAfterStat(MemoryFileSystem):
    """A store whose version is content-derived (as an S3 ETag is), and whose file
    changes once between the reader's stat and its download."""

    def __init__(self, then: bytes) -> None:
        super().__init__()
        self.then: bytes | None = then

    def stat(self, path: Any) -> FileInfo:
        data = self.read_bytes(path)
        info = FileInfo(size=len(data), version=hashlib.md5(data).hexdigest())
        if self.then is not None:
            self.write_bytes(path, self.then)  # another writer, right after the stat
            self.then = None
        return info


def test_a_file_that_changes_during_its_download_is_not_cached_by_the_old_version() -> None:
    fs = _ChangesAfterStat(then=FATAL_ERR)
    fs.write_bytes("run/eplus.err", OK_ERR)
    assert SimulationResult.from_directory("run", fs=fs).success is False  # read as it is now
    fs.write_bytes("run/eplus.err", OK_ERR)  # back to the content of the first stat
    assert SimulationResult.from_directory("run", fs=fs).success is True


# -- 2 and 3. a cache hit is published as a run is ----------------------------------


def test_a_hit_refuses_to_replace_the_users_file(tmp_path: Path) -> None:
    from idfkit.simulation import CacheKey

    cache = SimulationCache(tmp_path / "cache")
    key = CacheKey("a" * 64)
    _filled_cache(cache, key)
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.idf").write_text("! my own model\n")
    with pytest.raises(FileExistsError, match=r"model\.idf"):
        cache.restore(key, out)
    assert (out / "model.idf").read_text() == "! my own model\n"
    assert not (out / MANIFEST_NAME).exists()  # refused before the folder was marked


def test_a_hit_refuses_what_a_run_refuses_and_no_more(tmp_path: Path) -> None:
    """A run replaces an earlier EnergyPlus output made elsewhere; so does a hit."""
    from idfkit.simulation import CacheKey

    cache = SimulationCache(tmp_path / "cache")
    key = CacheKey("a" * 64)
    _filled_cache(cache, key)
    out = tmp_path / "out"
    out.mkdir()
    (out / "eplus.err").write_bytes(FATAL_ERR)  # left by a plain EnergyPlus run, no manifest
    placed = cache.restore(key, out)
    assert placed is not None and placed.success is True
    placed.verify(deep=True)


@pytest.mark.energyplus
def test_simulate_with_a_cache_refuses_as_without_one(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    cache = SimulationCache(tmp_path / "cache")
    key = cache.compute_key(box_model, weather, energyplus_version=energyplus.version)
    _filled_cache(cache, key)
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.idf").write_text("! my own model\n")
    with pytest.raises(FileExistsError, match=r"model\.idf"):
        simulate(box_model, weather, output_dir=out, energyplus=energyplus, cache=cache)
    assert (out / "model.idf").read_text() == "! my own model\n"


class _TakenOverOnCopy(MemoryFileSystem):
    """A real memory store on which another run takes `out` over and commits mid-copy."""

    def __init__(self) -> None:
        super().__init__()
        self.other: RunManifest | None = None

    def copy(self, src: Any, dst: Any) -> None:
        if self.other is None and str(dst).startswith("out/"):
            marker = PublishingMarker(run_id="o" * 32, started_at=datetime.now(UTC))
            claim = mark_publishing(self, "out", marker)
            self.other = made_manifest({}, run_id="o" * 32, label="the other run")
            publish_placed(self, "out", lambda: (), lambda _: self.other, claim=claim)  # type: ignore[arg-type, return-value]
        super().copy(src, dst)


def test_a_hit_commits_only_on_its_own_marker() -> None:
    from idfkit.simulation import CacheKey

    store = _TakenOverOnCopy()
    cache = SimulationCache(fs=store, prefix="cache")
    key = CacheKey("b" * 64)
    _filled_cache(cache, key)
    with pytest.raises(ConcurrentRunError, match="o" * 12):
        cache.restore(key, "out", fs=store, label="hit")
    stored = read_manifest(store.read_bytes(f"out/{MANIFEST_NAME}"))
    assert isinstance(stored, RunManifest) and stored.run_id == "o" * 32  # never the hit's


# -- 4. the reader gets local paths from the backend only ---------------------------


def test_the_reader_never_follows_a_link_out_of_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "secret.err"
    outside.write_bytes(OK_ERR)
    listed = tmp_path / "listed"
    listed.mkdir()
    manifest = made_manifest({"eplus.err": OK_ERR})  # the outside file's very bytes
    (listed / MANIFEST_NAME).write_text(manifest.to_json())
    (listed / "eplus.err").symlink_to(outside)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "eplus.err").symlink_to(outside)
    for folder in (listed, plain):
        result = SimulationResult.from_directory(folder)
        with pytest.raises(ValueError, match="outside the root"):
            result.read_text("eplus.err")
        with pytest.raises(ValueError, match="outside the root"):
            _ = SimulationResult.from_directory(folder).errors
    with pytest.raises(ValueError, match="outside the root"):
        LocalFileSystem(listed).read_bytes("eplus.err")  # the backend's own rule, shared


@pytest.mark.parametrize("linked", ["eplus.err", "entry", "fill"])
def test_a_cache_entry_with_a_link_out_of_its_root_is_a_miss(tmp_path: Path, linked: str) -> None:
    """The cache's own folder follows the backend's rules too: a link out is a corrupt entry."""
    from idfkit.simulation import CacheKey
    from idfkit.simulation.cache import ENTRY_NAME

    cache = SimulationCache(tmp_path / "cache")
    key = CacheKey("f" * 64)
    _filled_cache(cache, key)
    (err,) = (tmp_path / "cache").rglob("eplus.err")
    inside = {"entry": err.parent.parent / ENTRY_NAME, "fill": err.parent}.get(linked, err)
    outside = tmp_path / f"outside-{inside.name}"
    inside.rename(outside)  # the same bytes: only the link is wrong
    inside.symlink_to(outside)
    assert cache.get(key) is None
    assert cache.restore(key, tmp_path / "out") is None
    assert outside.exists()  # left alone


def test_sql_path_follows_the_backend_rules(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.sql"
    outside.write_bytes(b"not yours")
    run = tmp_path / "run"
    run.mkdir()
    (run / MANIFEST_NAME).write_text(made_manifest({"eplus.sql": b"not yours"}).to_json())
    (run / "eplus.sql").symlink_to(outside)
    with pytest.raises(ValueError, match="outside the root"):
        _ = SimulationResult.from_directory(run).sql_path


# -- 5. study inputs are checked by their digest -----------------------------------


def _study(fs: Any, box_model: Path, weather: Path, **kwargs: Any) -> JobSpec:
    """A one-job study in ``s`` on ``fs``; its job's spec as stored."""
    write_study([SimulationJob(box_model, weather, label="only")], fs, "s", **kwargs)
    return load_study(fs, "s").jobs[0]


def test_write_study_replaces_a_wrong_file_under_a_digest_name(
    box_model: Path, weather: Path
) -> None:
    fs = MemoryFileSystem()
    spec = _study(fs, box_model, weather)
    fs.write_bytes(join("s", spec.model), b"Version, 1.0; ! not the model\n")
    _study(fs, box_model, weather, overwrite=True)
    stored = fs.read_bytes(join("s", spec.model))
    assert hashlib.sha256(stored).hexdigest() == Path(spec.model).name.split(".")[0]
    assert stored == box_model.read_bytes()


def test_the_worker_refuses_an_input_that_is_not_its_digest(box_model: Path, weather: Path) -> None:
    fs = MemoryFileSystem()
    spec = _study(fs, box_model, weather)
    fs.write_bytes(join("s", spec.weather), weather.read_bytes()[:-10])
    with pytest.raises(StudyError, match=spec.weather.replace(".", r"\.")):
        run_study_job(fs, 0, "s")
    assert not fs.exists(f"s/only/{MANIFEST_NAME}")  # nothing ran, nothing was marked


# -- 6. the cache key covers the files the model reads ------------------------------


def _with_schedule_file(box_model: Path, csv: str, tmp_path: Path) -> Path:
    doc = load_idf(box_model)
    doc.add(
        "Schedule:File",
        "From CSV",
        fields={
            "file_name": csv,
            "column_number": 1,
            "rows_to_skip_at_top": 0,
        },
    )
    path = tmp_path / f"with-{abs(hash(csv))}.idf"
    path.write_text(write_idf(doc))
    return path


def test_the_key_covers_a_schedule_file(box_model: Path, weather: Path, tmp_path: Path) -> None:
    csv = tmp_path / "schedule.csv"
    csv.write_text("1\n" * 8760)
    model = _with_schedule_file(box_model, str(csv), tmp_path)
    cache = SimulationCache(tmp_path / "cache")
    before = cache.compute_key(model, weather, energyplus_version="25.2.0")
    csv.write_text("0\n" * 8760)
    after = cache.compute_key(model, weather, energyplus_version="25.2.0")
    assert before != after


def test_a_model_whose_files_cannot_be_keyed_is_not_cached(
    box_model: Path, weather: Path, tmp_path: Path
) -> None:
    cache = SimulationCache(tmp_path / "cache")
    relative = _with_schedule_file(box_model, "schedule.csv", tmp_path)
    with pytest.raises(ValueError, match=r"cannot be cached.*Schedule:File.*relative path"):
        cache.compute_key(relative, weather, energyplus_version="25.2.0")
    doc = load_idf(box_model)
    doc.add(
        "PythonPlugin:Instance",
        "p",
        fields={"python_module_name": "mine", "plugin_class_name": "Mine"},
    )
    with pytest.raises(ValueError, match="Python plugin"):
        cache.compute_key(doc, weather, energyplus_version="25.2.0")


# -- 7. a deep check reads the store, not the local copy ---------------------------


def test_verify_deep_reads_the_stored_objects() -> None:
    fs = MemoryFileSystem()
    _stored_run(fs, "run", {"eplus.err": OK_ERR})
    result = SimulationResult.from_directory("run", fs=fs)
    result.read_text("eplus.err")  # a checked copy now sits in the local cache
    result.verify(deep=True)
    fs.write_bytes("run/eplus.err", OK_ERR.replace(b"0 Warning", b"9 Warning"))  # same size
    with pytest.raises(IncompleteResultError, match=r"eplus\.err"):
        SimulationResult.from_directory("run", fs=fs).verify(deep=True)


# -- 8. stored JSON is bounded in size and depth ------------------------------------


def test_a_deeply_nested_manifest_is_incomplete_everywhere(box_model: Path, weather: Path) -> None:
    fs = MemoryFileSystem()
    write_study([SimulationJob(box_model, weather, label=n) for n in ("a", "b")], fs, "s")
    _stored_run(fs, "s/a", {"eplus.err": OK_ERR}, job=load_study(fs, "s").jobs[0].binding())
    fs.write_bytes(f"s/b/{MANIFEST_NAME}", b"[" * 200_000)
    with pytest.raises(IncompleteResultError, match=rf"s/b/{MANIFEST_NAME}.*deeper"):
        _ = SimulationResult.from_directory("s/b", fs=fs).manifest
    collection = collect_results(fs, "s")
    assert [r.status for r in collection.rows] == ["succeeded", "incomplete"]
    assert "deeper" in collection.rows[1].error
    from idfkit.simulation.study.worker import _succeeded  # the worker's skip check

    assert not _succeeded(
        SimulationResult.from_directory("s/b", fs=fs), load_study(fs, "s").jobs[1].binding()
    )
    big = b'{"a": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    fs.write_bytes(f"s/b/{MANIFEST_NAME}", big)
    with pytest.raises(IncompleteResultError, match="bytes"):
        _ = SimulationResult.from_directory("s/b", fs=fs).manifest
    fs.write_bytes("s/idfkit-study.json", b"{" * 100_000)
    with pytest.raises(StudyError, match="deeper"):
        load_study(fs, "s")


@pytest.mark.parametrize("piece", [1, 2, 3, 7, None])
def test_the_depth_check_skips_strings_wherever_its_pieces_end(
    monkeypatch: pytest.MonkeyPatch, piece: int | None
) -> None:
    """Depth is counted a piece of the document at a time (a study index runs to
    60 MB): brackets, quotes and escapes inside strings never count, however the
    pieces cut them. ``None`` keeps the real piece size, which the document exceeds."""
    from idfkit.simulation import manifest

    if piece is not None:
        monkeypatch.setattr(manifest, "_PIECE", piece)
    text = '"[[{{\\a' * (15 if piece else 150_000)  # a quote, brackets, a backslash, escaped

    def nested(levels: int) -> str:
        inner: object = 0
        for _ in range(levels - 1):  # the object holding it is one level
            inner = [inner]
        return json.dumps({"s": text, "t": inner, "u": text})

    within = manifest.within_json_bounds
    assert within(nested(MAX_JSON_DEPTH), where="x", max_bytes=2**30, max_depth=MAX_JSON_DEPTH)
    with pytest.raises(IncompleteResultError, match="x nests deeper than 64 levels"):
        within(nested(MAX_JSON_DEPTH + 1), where="x", max_bytes=2**30, max_depth=MAX_JSON_DEPTH)
    if piece is None:
        assert len(nested(1)) > 2 * manifest._PIECE


# -- 9. a hit's manifest describes the job that asked --------------------------------


def test_a_hit_records_the_asking_jobs_parameters_and_label() -> None:
    from idfkit.simulation import CacheKey

    store = MemoryFileSystem()
    cache = SimulationCache(fs=store, prefix="cache")
    key = CacheKey("d" * 64)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    _filled_cache(
        cache,
        key,
        label="the cached run",
        parameters={"insulation_m": 0.3},
        started_at=yesterday,
        finished_at=yesterday + timedelta(seconds=2),
    )
    with job_context(JobContext(parameters={"glazing": "triple"})):
        placed = cache.restore(key, "out", fs=store)
    assert placed is not None and placed.manifest is not None
    assert placed.manifest.parameters == {"glazing": "triple"}
    assert placed.manifest.label == ""
    again = SimulationResult.from_directory("out", fs=store).manifest
    assert again is not None and again.parameters == {"glazing": "triple"}
    unbound = cache.restore(key, "out2", fs=store, label="mine")
    assert unbound is not None and unbound.manifest is not None
    assert unbound.manifest.parameters == {} and unbound.manifest.label == "mine"
    # The hit's own times: it started when it marked the folder and finished after.
    assert placed.manifest.started_at <= placed.manifest.finished_at
    assert placed.manifest.started_at > datetime.now(UTC) - timedelta(minutes=5)


# -- 10. conditional_writes=False is honoured; a refusing store is named ------------


def _refuses_conditions(request: Request) -> str | None:
    headers = {k.lower() for k in request.headers}
    return "501" if {"if-match", "if-none-match"} & headers else None


def _behind_proxy(proxy: FaultProxy, bucket: str, **kwargs: Any) -> S3FileSystem:
    return S3FileSystem(
        bucket,
        endpoint_url=proxy.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        max_attempts=2,
        **kwargs,
    )


def test_a_store_that_refuses_conditional_writes(moto_server_fs: S3FileSystem) -> None:
    upstream = str(moto_server_fs.endpoint_url)
    with FaultProxy(upstream, rule=_refuses_conditions) as proxy:
        plain = _behind_proxy(proxy, moto_server_fs.bucket, conditional_writes=False)
        marker = PublishingMarker(run_id="p" * 32, started_at=datetime.now(UTC))
        claim = mark_publishing(plain, "run", marker)
        manifest = made_manifest({}, run_id="p" * 32)
        publish_placed(plain, "run", lambda: (), lambda _: manifest, claim=claim)
        assert proxy.counts["501"] == 0  # no conditional request was sent
        stored = SimulationResult.from_directory("run", fs=plain).manifest
        assert stored is not None and stored.run_id == manifest.run_id

        strict = _behind_proxy(proxy, moto_server_fs.bucket)
        marker = PublishingMarker(run_id="q" * 32, started_at=datetime.now(UTC))
        with pytest.raises(StorageError, match=r"conditional_writes=False"):
            mark_publishing(strict, "run-2", marker)  # said when marking, before any run


# -- 11. the fsspec adapter maps errors as the contract says -----------------------


def _unreliable_fsspec() -> Any:
    memory = pytest.importorskip("fsspec.implementations.memory")

    class Unreliable(memory.MemoryFileSystem):  # type: ignore[misc, name-defined]
        """fsspec's memory store, answering 403 under ``denied/``, unreachable under ``down/``."""

        refusing = True

        def info(self, path: str, **kwargs: Any) -> Any:
            if self.refusing and "/denied" in path:
                raise PermissionError(403, "Forbidden", path)
            if "/down" in path:
                raise ConnectionError(f"connection refused: {path}")
            return super().info(path, **kwargs)

    return Unreliable()


def test_fsspec_denied_and_outage_are_not_missing(box_model: Path, weather: Path) -> None:
    raw = _unreliable_fsspec()
    fs = FsspecFileSystem(raw, root=f"/trust-{os.getpid()}-{id(object())}")
    with pytest.raises(PermissionError):
        fs.read_bytes("denied/idfkit-manifest.json")
    with pytest.raises(PermissionError):
        fs.exists("denied/x")
    with pytest.raises(ConnectionError):
        fs.read_bytes("down/x")
    with pytest.raises(ConnectionError):
        fs.glob("down", "*")
    with pytest.raises(FileNotFoundError):
        fs.read_bytes("absent/x")
    write_study([SimulationJob(box_model, weather, label="denied")], fs, "")
    raw.refusing = False
    _stored_run(fs, "denied", {"eplus.err": OK_ERR})
    raw.refusing = True
    with pytest.raises(PermissionError):  # never listed as missing
        collect_results(fs, "")


# -- 12. the reader takes the output prefix from the manifest -----------------------


def test_a_result_read_back_uses_its_manifests_prefix() -> None:
    fs = MemoryFileSystem()
    files = {"case7.err": FATAL_ERR, "case7.sql": b"sqlite bytes"}
    _stored_run(fs, "run", files, success=False, exit_code=1, output_prefix="case7")
    result = SimulationResult.from_directory("run", fs=fs)
    assert result.errors.fatal
    assert result.sql_path is not None and result.sql_path.read_bytes() == b"sqlite bytes"


# -- 13. one odd job folder costs only that job --------------------------------------


def test_a_stray_object_below_a_manifest_path_costs_one_job(box_model: Path, weather: Path) -> None:
    fs = MemoryFileSystem()
    write_study([SimulationJob(box_model, weather, label=n) for n in ("a", "b")], fs, "s")
    fs.write_bytes(f"s/b/{MANIFEST_NAME}/stray", b"put there by another tool")
    rows = collect_results(fs, "s").rows
    assert [r.status for r in rows] == ["missing", "incomplete"]
    assert MANIFEST_NAME in rows[1].error


def test_a_job_folder_linked_out_of_the_study_costs_one_job(
    box_model: Path, weather: Path, tmp_path: Path
) -> None:
    fs = LocalFileSystem(tmp_path / "study")
    write_study([SimulationJob(box_model, weather, label=n) for n in ("a", "b")], fs, "s")
    elsewhere = tmp_path / "elsewhere"
    _stored_run(LocalFileSystem(elsewhere), "", {"eplus.err": OK_ERR})
    (tmp_path / "study" / "s" / "b").symlink_to(elsewhere)
    rows = collect_results(fs, "s").rows
    assert [r.status for r in rows] == ["missing", "incomplete"]
    assert "outside" in rows[1].error


@pytest.mark.parametrize("label", ["idfkit-study.json", "inputs", f"x/{MANIFEST_NAME}"])
def test_labels_that_collide_with_the_studys_names_are_refused(
    box_model: Path, weather: Path, label: str
) -> None:
    with pytest.raises(StudyError, match="study's own names"):
        write_study([SimulationJob(box_model, weather, label=label)], MemoryFileSystem(), "s")


# -- 14. any JSON integer goes to Parquet ---------------------------------------------


def test_a_huge_integer_parameter_goes_to_parquet(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [
        CollectedRow(0, "a", "a", "missing", parameters={"seed": 2**64 - 1, "n": 1}),
        CollectedRow(1, "b", "b", "missing", parameters={"seed": 3, "n": 2}),
    ]
    collection = Collection(rows, parameters=["seed", "n"])
    table = pq.read_table(collection.to_parquet(tmp_path / "t.parquet"))
    assert table.column("seed").to_pylist() == [str(2**64 - 1), "3"]
    assert table.column("n").to_pylist() == [1, 2]


# -- 15. the shipped contract checks what the package relies on ---------------------


class _ConstantVersion(MemoryFileSystem):
    def stat(self, path: Any) -> FileInfo:
        info = super().stat(path)
        return FileInfo(size=info.size, version="always-1", sha256=info.sha256)


class _WrongDigest(MemoryFileSystem):
    def stat(self, path: Any) -> FileInfo:
        info = super().stat(path)
        return FileInfo(size=info.size, version=info.version, sha256="0" * 64)


def test_the_contract_fails_a_version_or_digest_that_is_not_the_contents(
    tmp_path: Path,
) -> None:
    contract = CapabilityContract()
    contract.test_stat_version_follows_the_content(MemoryFileSystem())
    contract.test_stat_sha256_is_the_contents(MemoryFileSystem(), tmp_path)
    with pytest.raises(AssertionError, match="version"):
        contract.test_stat_version_follows_the_content(_ConstantVersion())
    with pytest.raises(AssertionError):
        contract.test_stat_sha256_is_the_contents(_WrongDigest(), tmp_path)


# -- 16. the CLI never prints stored control sequences -------------------------------


def test_collect_escapes_terminal_controls(
    box_model: Path, weather: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from idfkit.simulation.cli import main as cli

    fs = LocalFileSystem(tmp_path / "study")
    write_study([SimulationJob(box_model, weather, label="evil")], fs, "")
    binding = load_study(fs, "").jobs[0].binding()
    crafted = "\x1b]0;owned\x07\x1b[2J\x9b31m boom"
    _stored_run(
        fs,
        "evil",
        {"eplus.err": FATAL_ERR},
        success=False,
        exit_code=1,
        job=binding,
        error_summary=crafted,
    )
    assert cli(["collect", str(tmp_path / "study")]) == 1
    out = capsys.readouterr().out
    assert "boom" in out and "\\x1b" in out
    assert not any(ch in out for ch in "\x1b\x07\x9b")


# -- 17. study metrics never vanish silently -----------------------------------------


def test_the_table_says_why_a_run_has_no_metrics(box_model: Path, weather: Path) -> None:
    fs = MemoryFileSystem()
    write_study([SimulationJob(box_model, weather, label="a")], fs, "s")
    binding: JobBinding = load_study(fs, "s").jobs[0].binding()
    note = "no metrics: the run wrote no SQLite output"
    _stored_run(fs, "s/a", {"eplus.err": OK_ERR}, job=binding, metrics_note=note)
    (row,) = collect_results(fs, "s").rows
    assert row.status == "succeeded" and row.error == note


def test_a_study_jobs_cache_hit_says_why_it_has_no_metrics() -> None:
    """The note describes the job that asked, as a hit's label and parameters do (item 9)."""
    from idfkit.simulation import CacheKey

    store = MemoryFileSystem()
    cache = SimulationCache(fs=store, prefix="cache")
    key = CacheKey("e" * 64)
    _filled_cache(cache, key)  # cached outside a study: no note, and no SQLite output
    binding = JobBinding(model_sha256="1" * 64, weather_sha256="2" * 64, options_sha256="3" * 64)
    with job_context(JobContext(binding=binding)):
        placed = cache.restore(key, "out", fs=store)
    assert placed is not None and placed.manifest is not None
    assert placed.manifest.metrics_note == "no metrics: the run wrote no SQLite output"
    unbound = cache.restore(key, "out2", fs=store)
    assert unbound is not None and unbound.manifest is not None
    assert unbound.manifest.metrics_note == ""


@pytest.mark.energyplus
def test_a_study_run_adds_the_outputs_its_metrics_need(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    doc = load_idf(box_model)
    doc.removeidfobject(doc["Output:Table:SummaryReports"][0])
    doc["Output:SQLite"][0].option_type = "Simple"
    model = tmp_path / "bare.idf"
    model.write_text(write_idf(doc))
    original = model.read_bytes()
    fs = LocalFileSystem(tmp_path / "study")
    write_study([SimulationJob(model, weather, label="bare")], fs, "")
    outcome = run_study_job(fs, 0, energyplus=energyplus)
    assert outcome.success
    manifest = outcome.result.manifest
    assert manifest is not None
    assert any("SimpleAndTabular" in line for line in manifest.added_outputs)
    assert any(all(r in line for r in METRIC_REPORTS) for line in manifest.added_outputs)
    assert "site_energy_kwh" in manifest.metrics and manifest.metrics_note == ""
    assert model.read_bytes() == original  # the user's file is never changed
    (row,) = collect_results(fs, "").rows
    assert row.metrics["site_energy_kwh"] > 0 and row.error == ""


def test_runs_outside_a_study_are_left_as_asked(box_model: Path) -> None:
    from idfkit.simulation._staging import prepare_run_model

    doc = load_idf(box_model)
    doc.removeidfobject(doc["Output:Table:SummaryReports"][0])
    copy, added = prepare_run_model(doc)
    assert added == [] and "Output:Table:SummaryReports" not in copy
    binding = JobBinding(model_sha256="1" * 64, weather_sha256="2" * 64, options_sha256="3" * 64)
    with job_context(JobContext(binding=binding)):
        copy, added = prepare_run_model(doc)
    assert added and "Output:Table:SummaryReports" in copy
    assert "Output:Table:SummaryReports" not in doc  # the caller's model is untouched
    logging.getLogger(__name__).debug("added: %s", json.dumps(added))


def test_ls_escapes_stored_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from idfkit.simulation.cli import main as cli

    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "case\x1b[2J\x07.txt").write_bytes(b"x")
    assert cli(["ls", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "case\\x1b[2J\\x07.txt" in out and "\x1b" not in out and "\x07" not in out


# -- a stored index is untrusted: its paths stay inside the study ---------------------


@pytest.mark.parametrize(
    ("field", "stored"),
    [
        ("output_dir", "../theirs/run-7"),
        ("output_dir", "a/../../theirs"),
        ("output_dir", ""),
        ("output_dir", "inputs"),
        ("output_dir", f"run/{MANIFEST_NAME}"),
        ("model", "../../elsewhere/model.idf"),
        ("weather", "inputs/weather/not-a-digest.epw"),
    ],
)
def test_a_stored_index_naming_a_path_outside_its_place_is_corrupt(
    box_model: Path, weather: Path, field: str, stored: str
) -> None:
    fs = MemoryFileSystem()
    _study(fs, box_model, weather)
    index = json.loads(fs.read_bytes("s/idfkit-study.json"))
    index["jobs"][0][field] = stored
    fs.write_bytes("s/idfkit-study.json", json.dumps(index).encode())
    with pytest.raises(StudyError, match=f"(?s)the study index of .* is corrupt: .*{field}"):
        load_study(fs, "s")
    with pytest.raises(StudyError, match="corrupt"):
        run_study_job(fs, 0, "s")
    stored_names = fs.glob("", "**/*")
    assert all(name.startswith("s/") for name in stored_names), stored_names
    assert not any("theirs" in name or MANIFEST_NAME in name for name in stored_names)


@pytest.mark.usefixtures("energyplus")  # runs the engine it finds
def test_a_missing_weather_file_is_the_same_error_with_a_cache(
    box_model: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.epw"
    with pytest.raises(WeatherFileNotFoundError) as plain:
        simulate(box_model, missing, output_dir=tmp_path / "a")
    with pytest.raises(WeatherFileNotFoundError) as cached:
        simulate(
            box_model, missing, output_dir=tmp_path / "b", cache=SimulationCache(tmp_path / "c")
        )
    assert str(cached.value) == str(plain.value) == f"Weather file not found: {missing}"


class _TamperedOnMark(MemoryFileSystem):
    """A real memory store; as a hit marks its folder here, the cached copy is changed."""

    def __init__(self, cached_file: Path) -> None:
        super().__init__()
        self.cached_file = cached_file

    def write_bytes_if(self, path: Any, data: bytes, **conditions: Any) -> Any:
        if self.cached_file.exists():
            self.cached_file.write_bytes(b"! not the cached run's model\n")
        return super().write_bytes_if(path, data, **conditions)


def test_a_hit_whose_cached_file_changes_while_it_is_placed_is_a_miss(tmp_path: Path) -> None:
    """Each copied file's digest is checked against the entry: a changed one is never a success."""
    from idfkit.simulation import CacheKey

    cache = SimulationCache(tmp_path / "cache")
    key = CacheKey("c" * 64)
    _filled_cache(cache, key)
    [cached_model] = (tmp_path / "cache").rglob("model.idf")
    store = _TamperedOnMark(cached_model)
    assert cache.restore(key, "out", fs=store) is None
    assert not store.exists("out/model.idf")
    marker = read_manifest(store.read_bytes(f"out/{MANIFEST_NAME}"))
    assert not isinstance(marker, RunManifest)  # never committed as a run
