"""Every read is verified: local hashes, strict manifests, a cache that shows only checked bytes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from idfkit.simulation import S3FileSystem, SimulationResult
from idfkit.simulation.exceptions import IncompleteResultError
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.fs.memory import MemoryFileSystem
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    PublishingMarker,
    RunManifest,
    hash_file,
    read_manifest,
)
from idfkit.simulation.testing import ACCESS_KEY, SECRET_KEY, LocalS3Server
from idfkit.simulation.testing.contract import NineMethodsOnly
from tests.conftest import unique_bucket
from tests.faults import FaultProxy, Request
from tests.helpers import made_manifest

ERR_TEXT = (
    "Program Version,EnergyPlus\n"
    "   ************* EnergyPlus Completed Successfully-- 0 Warning; 0 Severe Errors\n"
)


def _write_run(folder: Path, files: dict[str, bytes]) -> RunManifest:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = made_manifest(files)
    (folder / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _tamper_same_size(path: Path) -> None:
    """Change a byte in place, keeping the size and the modification time."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


# -- local reads are hash-checked --------------------------------------


FILES = {
    "eplusout.err": ERR_TEXT.encode(),
    "eplusout.sql": b"SQLite format 3\x00" + bytes(4000),
    "eplustbl.csv": b"a,b\n1,2\n",
}


@pytest.mark.parametrize("rooted", [True, False], ids=["rooted-fs", "plain-path"])
def test_tampered_local_file_of_same_size_is_refused(tmp_path: Path, rooted: bool) -> None:
    run = tmp_path / "run"
    _write_run(run, FILES)

    def result() -> SimulationResult:
        if rooted:
            return SimulationResult.from_directory("run", fs=LocalFileSystem(tmp_path))
        return SimulationResult.from_directory(run)

    assert result().read_text("eplusout.err") == ERR_TEXT  # a clean read first (memoised)
    result().verify(deep=True)
    _tamper_same_size(run / "eplusout.err")
    _tamper_same_size(run / "eplusout.sql")

    with pytest.raises(IncompleteResultError, match=r"eplusout\.err"):
        result().read_text("eplusout.err")
    with pytest.raises(IncompleteResultError, match="sha256"):
        result().local_path("eplusout.err")
    with pytest.raises(IncompleteResultError, match=r"eplusout\.sql"):
        _ = result().sql
    with pytest.raises(IncompleteResultError) as caught:
        result().verify(deep=True)
    assert "eplusout.err" in str(caught.value) and "eplusout.sql" in str(caught.value)
    assert "eplustbl.csv" not in str(caught.value)
    result().verify()  # the shallow check compares sizes only, and they match


def test_repeated_local_reads_hash_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    _write_run(run, FILES)
    calls: list[object] = []
    real = hashlib.file_digest

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "file_digest", counting)
    for _ in range(20):
        SimulationResult.from_directory(run).read_text("eplustbl.csv")
    assert len(calls) == 1
    (run / "eplustbl.csv").write_bytes(b"a,b\n1,3\n")  # same size, new content
    with pytest.raises(IncompleteResultError):
        SimulationResult.from_directory(run).read_text("eplustbl.csv")
    assert len(calls) == 2


def test_memo_is_safe_across_threads(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _write_run(run, FILES)
    with ThreadPoolExecutor(16) as pool:
        texts = list(
            pool.map(
                lambda _: SimulationResult.from_directory(run).read_text("eplusout.err"), range(200)
            )
        )
    assert set(texts) == {ERR_TEXT}


def test_hash_file_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "x.bin").write_bytes(data)
    assert hash_file(tmp_path / "x.bin") == (len(data), hashlib.sha256(data).hexdigest())


# -- manifests are validated strictly ----------------------------------


def _good_json() -> dict[str, object]:
    return json.loads(made_manifest({"eplusout.err": ERR_TEXT.encode()}).to_json())  # type: ignore[no-any-return]


def _with_file(**entry: object) -> dict[str, object]:
    data = _good_json()
    files = data["files"]
    assert isinstance(files, list)
    files[0].update(entry)
    return data


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({**_good_json(), "success": "yes"}, "success"),
        ({**_good_json(), "success": 1}, "success"),
        ({**_good_json(), "exit_code": "0"}, "exit_code"),
        ({**_good_json(), "exit_code": 0.0}, "exit_code"),
        ({**_good_json(), "output_prefix": "../x"}, "output_prefix"),
        (_with_file(sha256="A" * 64), "sha256"),
        (_with_file(sha256="a" * 63), "sha256"),
        (_with_file(sha256="/etc/passwd"), "sha256"),
        (_with_file(sha256="../" * 20 + "a" * 4), "sha256"),
        (_with_file(name="../eplusout.err"), "name"),
        (_with_file(name="sub/eplusout.err"), "name"),
        (_with_file(name="sub\\eplusout.err"), "name"),
        (_with_file(name=".."), "name"),
        (_with_file(name=""), "name"),
        (_with_file(name="a\x00b"), "name"),
        (_with_file(size=-1), "size"),
        (_with_file(size="12"), "size"),
        ({**_good_json(), "files": _good_json()["files"] * 2}, "twice"),  # type: ignore[operator]
        ({**_good_json(), "model": {"name": "in.idf", "sha256": "x"}}, "sha256"),
        ({"state": "publishing", "run_id": 7, "started_at": "2024-01-01T00:00:00Z"}, "run_id"),
        ({"state": "publishing", "run_id": "x", "started_at": "yesterday"}, "started_at"),
    ],
)
def test_invalid_manifests_are_refused(data: dict[str, object], words: str) -> None:
    with pytest.raises(IncompleteResultError, match=words) as caught:
        read_manifest(json.dumps(data), where="s3://b/run/idfkit-manifest.json")
    assert "s3://b/run/idfkit-manifest.json" in str(caught.value)


def test_a_valid_manifest_round_trips() -> None:
    manifest = made_manifest({"eplusout.err": ERR_TEXT.encode()})
    assert read_manifest(manifest.to_json()) == manifest


def test_a_newer_schema_is_refused_naming_version_and_file() -> None:
    data = {**_good_json(), "schema_version": 7, "files": "a future shape"}
    with pytest.raises(IncompleteResultError, match=r"schema_version 7.*upgrade") as caught:
        read_manifest(json.dumps(data), where="run-9/idfkit-manifest.json")
    assert "run-9/idfkit-manifest.json" in str(caught.value)


def test_the_folder_of_an_invalid_manifest_reads_as_incomplete(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _write_run(run, FILES)
    data = json.loads((run / MANIFEST_NAME).read_text())
    data["success"] = "yes"
    (run / MANIFEST_NAME).write_text(json.dumps(data))
    with pytest.raises(IncompleteResultError, match="success"):
        _ = SimulationResult.from_directory(run).success


@pytest.mark.parametrize("kind", ["absolute", "dotdot"])
def test_a_malicious_digest_names_no_local_file(tmp_path: Path, kind: str) -> None:
    """A digest that is a path must neither escape the cache nor return a file as verified."""
    secret = tmp_path / "secret.sql"
    secret.write_bytes(b"not the run's file")
    cache = Path(os.environ["IDFKIT_CACHE_DIR"])
    if kind == "absolute":
        digest = str(secret.with_suffix(""))
    else:  # the cache joins objects / digest[:2] / digest, and digest[:2] is ".."
        digest = os.path.relpath(secret.with_suffix(""), cache)
        assert digest.startswith("../")
    fs = MemoryFileSystem()
    fs.write_bytes("run/eplusout.sql", b"the run's bytes")
    data = json.loads(made_manifest({"eplusout.sql": b"the run's bytes"}).to_json())
    data["files"][0].update(sha256=digest, size=secret.stat().st_size)
    fs.write_text(f"run/{MANIFEST_NAME}", json.dumps(data))
    result = SimulationResult.from_directory("run", fs=fs)
    with pytest.raises(IncompleteResultError, match="sha256"):
        result.local_path("eplusout.sql")
    assert secret.read_bytes() == b"not the run's file"
    assert not any(p.is_file() for p in cache.rglob("*"))


# -- the download cache shows a file only once it is verified -----------


def test_concurrent_reads_without_manifest_through_nine_methods() -> None:
    inner = MemoryFileSystem()
    inner.write_bytes("run/eplusout.err", ERR_TEXT.encode())
    fs = NineMethodsOnly(inner)

    def read(_: int) -> str:
        return SimulationResult.from_directory("run", fs=fs).read_text("eplusout.err")  # type: ignore[arg-type]

    with ThreadPoolExecutor(24) as pool:
        texts = list(pool.map(read, range(240)))
    assert texts == [ERR_TEXT] * 240


BIG = 96 * 1024 * 1024


def _content(good: bool) -> bytes:
    block = (b"G" if good else b"B") * (1024 * 1024)
    return block * (BIG // len(block))


def _child_reads_tampered(cache: str, ready: multiprocessing.synchronize.Event) -> None:
    os.environ["IDFKIT_CACHE_DIR"] = cache
    fs = MemoryFileSystem()
    fs.write_bytes("run/eplusout.sql", _content(good=False))  # same size, other bytes
    fs.write_text(
        f"run/{MANIFEST_NAME}", made_manifest({"eplusout.sql": _content(good=True)}).to_json()
    )
    ready.set()
    with contextlib.suppress(IncompleteResultError):
        SimulationResult.from_directory("run", fs=fs).local_path("eplusout.sql")


@pytest.mark.slow
def test_no_reader_sees_unverified_bytes_and_a_kill_poisons_nothing() -> None:
    """A reader fetching a corrupt copy is killed; its bytes never show under the trusted name."""
    cache = Path(os.environ["IDFKIT_CACHE_DIR"])
    good = _content(good=True)
    digest = hashlib.sha256(good).hexdigest()
    trusted = cache / "objects" / digest[:2] / f"{digest}.sql"
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_child_reads_tampered, args=(str(cache), ready))
    child.start()
    try:
        assert ready.wait(60)
        seen_unverified = False
        deadline = time.monotonic() + 60
        while child.is_alive() and time.monotonic() < deadline:
            if trusted.exists():
                seen_unverified = True  # anything there now came from the corrupt download
                os.kill(child.pid, 9)  # type: ignore[arg-type]
                break
            time.sleep(0.0005)
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()
    assert not seen_unverified, "the corrupt download was visible under its trusted name"

    fs = MemoryFileSystem()
    fs.write_bytes("run/eplusout.sql", good)
    fs.write_text(f"run/{MANIFEST_NAME}", made_manifest({"eplusout.sql": good}).to_json())
    local = SimulationResult.from_directory("run", fs=fs).local_path("eplusout.sql")
    assert hash_file(local) == (len(good), digest)


def test_a_corrupt_cache_entry_is_replaced(tmp_path: Path) -> None:
    data = b"the run's bytes" * 100
    fs = MemoryFileSystem()
    fs.write_bytes("run/eplusout.sql", data)
    fs.write_text(f"run/{MANIFEST_NAME}", made_manifest({"eplusout.sql": data}).to_json())
    local = SimulationResult.from_directory("run", fs=fs).local_path("eplusout.sql")
    _tamper_same_size(local)
    again = SimulationResult.from_directory("run", fs=fs).local_path("eplusout.sql")
    assert again.read_bytes() == data


def test_concurrent_verified_downloads_agree() -> None:
    data = os.urandom(2 * 1024 * 1024)
    fs = MemoryFileSystem()
    fs.write_bytes("run/eplusout.sql", data)
    fs.write_text(f"run/{MANIFEST_NAME}", made_manifest({"eplusout.sql": data}).to_json())
    barrier = threading.Barrier(12)

    def read(_: int) -> bytes:
        barrier.wait()
        return SimulationResult.from_directory("run", fs=fs).local_path("eplusout.sql").read_bytes()

    with ThreadPoolExecutor(12) as pool:
        assert set(pool.map(read, range(12))) == {data}
    staging = Path(os.environ["IDFKIT_CACHE_DIR"]) / "objects" / "staging"
    assert not list(staging.glob("*"))


def test_the_public_cache_module_is_idfkits() -> None:
    """`idfkit.simulation.cache` holds idfkit's `SimulationCache`; downloads live privately."""
    import idfkit.simulation
    from idfkit.simulation._cache_dirs import cache_root
    from idfkit.simulation.cache import CacheKey, SimulationCache, default_simulation_cache_dir

    assert SimulationCache is idfkit.simulation.SimulationCache
    assert CacheKey is idfkit.simulation.CacheKey
    assert cache_root() == Path(os.environ["IDFKIT_CACHE_DIR"])
    assert default_simulation_cache_dir() == cache_root() / "simulation"


# -- issue 21: a cold read fetches the manifest and its file at once --------------


class _ManifestWaitsForTheFile(MemoryFileSystem):
    """Answers the manifest only once the file's download has begun (or after 10 s)."""

    def __init__(self) -> None:
        super().__init__()
        self.file_asked = threading.Event()
        self.overlapped: list[bool] = []
        self.reads: list[str] = []

    def read_bytes(self, path: str | Path) -> bytes:
        self.reads.append(str(path))
        if str(path).endswith(MANIFEST_NAME):
            self.overlapped.append(self.file_asked.wait(10))
        else:
            self.file_asked.set()
        return super().read_bytes(path)


def _cold_store(files: dict[str, bytes], listed: dict[str, bytes] | None = None) -> Any:
    fs = _ManifestWaitsForTheFile()
    for name, data in files.items():
        fs.write_bytes(f"run/{name}", data)
    manifest = made_manifest(files if listed is None else listed)
    fs.write_text(f"run/{MANIFEST_NAME}", manifest.to_json())
    return fs


def _nothing_staged() -> bool:
    objects = Path(os.environ["IDFKIT_CACHE_DIR"]) / "objects"
    return not [p for p in objects.rglob("*") if p.is_file() and "staging" in p.parts]


@pytest.mark.parametrize("read", ["sql_path", "errors", "local_path"])
def test_a_cold_read_fetches_the_manifest_and_its_file_at_once(read: str) -> None:
    files = {"eplus.sql": FILES["eplusout.sql"], "eplus.err": FILES["eplusout.err"]}
    fs = _cold_store(files)
    result = SimulationResult.from_directory("run", fs=fs)
    if read == "sql_path":
        path = result.sql_path
        assert path is not None and path.read_bytes() == files["eplus.sql"]
    elif read == "errors":
        assert result.errors.completed_successfully
    else:
        assert result.local_path("eplus.sql").read_bytes() == files["eplus.sql"]
    assert fs.overlapped == [True], "the file's download waited for the manifest"
    assert _nothing_staged()


def test_a_cold_read_of_a_cached_file_downloads_only_the_manifest() -> None:
    files = {"eplus.sql": FILES["eplusout.sql"]}
    fs = _cold_store(files)
    SimulationResult.from_directory("run", fs=fs).local_path("eplus.sql")
    fs.reads.clear()
    again = SimulationResult.from_directory("run", fs=fs).local_path("eplus.sql")
    assert again.read_bytes() == files["eplus.sql"]
    assert fs.reads == [f"run/{MANIFEST_NAME}"]


def test_a_prefetched_file_is_checked_like_any_download() -> None:
    """Bytes fetched beside the manifest are refused when they differ from its entry."""
    good = FILES["eplusout.sql"]
    bad = bytes([good[0] ^ 1]) + good[1:]  # the same size
    fs = _cold_store({"eplus.sql": bad}, listed={"eplus.sql": good})
    with pytest.raises(IncompleteResultError, match="differs from its manifest entry"):
        SimulationResult.from_directory("run", fs=fs).sql_path  # noqa: B018
    assert fs.overlapped == [True]
    cache = Path(os.environ["IDFKIT_CACHE_DIR"])
    assert not [p for p in (cache / "objects").rglob("*") if p.is_file()]


def test_a_prefetch_under_a_marker_or_an_unlisted_name_leaves_nothing() -> None:
    fs = _ManifestWaitsForTheFile()
    fs.write_bytes("run/eplus.sql", FILES["eplusout.sql"])
    marker = PublishingMarker(run_id="d" * 32, started_at=datetime.now(UTC))
    fs.write_text(f"run/{MANIFEST_NAME}", marker.to_json())
    with pytest.raises(IncompleteResultError, match="never finished publishing"):
        SimulationResult.from_directory("run", fs=fs).local_path("eplus.sql")
    assert _nothing_staged()

    listed = _cold_store({"eplus.sql": FILES["eplusout.sql"]}, listed={"eplus.err": b"x"})
    with pytest.raises(FileNotFoundError, match="not among the run's files"):
        SimulationResult.from_directory("run", fs=listed).local_path("eplus.sql")
    assert listed.overlapped == [True]
    assert _nothing_staged()


def test_a_cold_s3_read_costs_one_round_trip(moto_server: LocalS3Server) -> None:
    """On a real S3 server: the file's GET is sent before the manifest's GET is answered."""
    bucket = unique_bucket()
    data = FILES["eplusout.sql"]
    direct = moto_server.filesystem(bucket)
    direct.write_bytes("run/eplus.sql", data)
    direct.write_text(f"run/{MANIFEST_NAME}", made_manifest({"eplus.sql": data}).to_json())
    file_asked = threading.Event()
    overlapped: list[bool] = []

    def rule(request: Request) -> None:
        if request.method == "GET" and request.path.split("?")[0].endswith("/run/eplus.sql"):
            file_asked.set()
        elif request.method == "GET" and MANIFEST_NAME in request.path:
            overlapped.append(file_asked.wait(10))
        return None

    with FaultProxy(moto_server.endpoint_url, rule=rule) as proxy:
        fs = S3FileSystem(
            bucket,
            endpoint_url=proxy.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        sql = SimulationResult.from_directory("run", fs=fs).sql_path
    assert sql is not None and sql.read_bytes() == data
    assert overlapped == [True]
