"""Publishing as a commit: one request per file, each file read once, a lost race raised."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from idfkit.simulation import (
    ConcurrentRunError,
    LocalFileSystem,
    MemoryFileSystem,
    S3FileSystem,
    SimulationResult,
    StorageError,
    _publish,
    simulate,
)
from idfkit.simulation._process import RunCancelled, cancel_event
from idfkit.simulation._staging import refuse_foreign_files
from idfkit.simulation.fs.base import FileSystem
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    InputRecord,
    ManifestFile,
    PublishingMarker,
    RunManifest,
    read_manifest,
)
from idfkit.simulation.progress import SimulationProgress
from idfkit.simulation.testing import ACCESS_KEY, SECRET_KEY, LocalS3Server, NineMethodsOnly
from tests.conftest import unique_bucket
from tests.faults import FaultProxy, Request
from tests.helpers import count_requests, energyplus_children


def marker(run_id: str) -> PublishingMarker:
    return PublishingMarker(run_id=run_id, started_at=datetime.now(UTC))


def maker(run_id: str) -> Any:
    def make(files: tuple[ManifestFile, ...]) -> RunManifest:
        now = datetime.now(UTC)
        return RunManifest(
            run_id=run_id,
            success=True,
            exit_code=0,
            runtime_seconds=1.0,
            energyplus_version="25.2.0",
            output_prefix="eplus",
            files=files,
            model=InputRecord(name="in.idf", sha256="0" * 64),
            weather=None,
            started_at=now,
            finished_at=now,
            idfkit_version="test",
        )

    return make


def outputs(folder: Path, tag: str, count: int = 3, size: int = 300_000) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        path = folder / f"eplusout-{i}.bin"
        path.write_bytes((tag.encode() * (size // len(tag) + 1))[:size])
        files.append(path)
    return files


@pytest.fixture(params=[pytest.param("s3", marks=pytest.mark.server), "local", "memory"])
def cfs(request: pytest.FixtureRequest, tmp_path: Path) -> FileSystem:
    if request.param == "s3":
        server: LocalS3Server = request.getfixturevalue("moto_server")
        return server.filesystem(unique_bucket(), prefix="pub/")
    if request.param == "memory":
        return MemoryFileSystem()
    return LocalFileSystem(tmp_path / "store")


def test_an_overtaken_run_raises_naming_the_other(cfs: FileSystem, tmp_path: Path) -> None:
    first = _publish.mark_publishing(cfs, "run", marker("first"))
    _publish.mark_publishing(cfs, "run", marker("second"))  # a later run takes the folder
    with pytest.raises(ConcurrentRunError, match="second") as info:
        _publish.publish(cfs, "run", outputs(tmp_path / "a", "a"), maker("first"), claim=first)
    assert info.value.other_run_id == "second"
    assert info.value.other_host  # the marker names its machine
    assert isinstance(info.value, FileExistsError)
    # Nothing of the overtaken run was uploaded: it stopped before its files.
    assert cfs.glob("run", "*") == [f"run/{MANIFEST_NAME}"]


def test_a_run_overtaken_during_its_upload_never_commits(cfs: FileSystem, tmp_path: Path) -> None:
    first = _publish.mark_publishing(cfs, "run", marker("first"))
    files = outputs(tmp_path / "a", "a")
    real_make = maker("first")

    def make_after_takeover(entries: tuple[ManifestFile, ...]) -> RunManifest:
        _publish.mark_publishing(cfs, "run", marker("second"))  # between files and manifest
        return real_make(entries)

    with pytest.raises(ConcurrentRunError, match="at commit") as info:
        _publish.publish(cfs, "run", files, make_after_takeover, claim=first)
    assert info.value.other_run_id == "second"
    stored = read_manifest(cfs.read_bytes(f"run/{MANIFEST_NAME}"))
    assert isinstance(stored, PublishingMarker) and stored.run_id == "second"


def test_a_commit_whose_first_attempt_landed_is_not_a_lost_race(
    cfs: FileSystem, tmp_path: Path
) -> None:
    """A retried manifest write finds its own manifest standing: that is a success."""
    claim = _publish.mark_publishing(cfs, "run", marker("mine"))
    real_make = maker("mine")

    def make_and_land(entries: tuple[ManifestFile, ...]) -> RunManifest:
        manifest = real_make(entries)
        # As if the commit's first attempt was stored but its answer was lost.
        cfs.write_bytes(f"run/{MANIFEST_NAME}", manifest.to_json().encode())
        return manifest

    manifest = _publish.publish(
        cfs, "run", outputs(tmp_path / "a", "a"), make_and_land, claim=claim
    )
    stored = read_manifest(cfs.read_bytes(f"run/{MANIFEST_NAME}"))
    assert isinstance(stored, RunManifest) and stored.run_id == manifest.run_id == "mine"


def test_a_later_run_takes_over_at_once(cfs: FileSystem, tmp_path: Path) -> None:
    """A killed worker's marker never blocks its retry."""
    _publish.mark_publishing(cfs, "run", marker("killed"))
    retry = _publish.mark_publishing(cfs, "run", marker("retry"))
    manifest = _publish.publish(
        cfs, "run", outputs(tmp_path / "r", "r"), maker("retry"), claim=retry
    )
    stored = read_manifest(cfs.read_bytes(f"run/{MANIFEST_NAME}"))
    assert isinstance(stored, RunManifest) and stored.run_id == manifest.run_id == "retry"


def test_without_the_capability_publishing_is_single_writer(tmp_path: Path) -> None:
    fs = NineMethodsOnly(MemoryFileSystem())
    claim = _publish.mark_publishing(fs, "run", marker("only"))  # type: ignore[arg-type]
    assert claim.version is None
    files = outputs(tmp_path / "a", "a")
    manifest = _publish.publish(fs, "run", files, maker("only"), claim=claim)  # type: ignore[arg-type]
    assert {f.name for f in manifest.files} == {p.name for p in files}


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("kind", ["local", "memory", "nine-methods"])
def test_each_output_is_read_once_while_publishing(kind: str, tmp_path: Path) -> None:
    files = outputs(tmp_path / "out", "x", count=4, size=2_000_000)
    fs: Any = {
        "local": LocalFileSystem(tmp_path / "store"),
        "memory": MemoryFileSystem(),
        "nine-methods": NineMethodsOnly(MemoryFileSystem()),
    }[kind]
    total = sum(p.stat().st_size for p in files)

    def rchar() -> int:
        line = next(ln for ln in Path("/proc/self/io").read_text().splitlines() if "rchar" in ln)
        return int(line.split()[1])

    before = rchar()
    manifest = _publish.publish(fs, "run", files, maker("once"))
    read = rchar() - before
    assert [f.size for f in manifest.files] == [p.stat().st_size for p in files]
    assert total <= read < total * 1.2, f"read {read / total:.2f} bytes per output byte"


def _through(proxy: FaultProxy, bucket: str, **options: Any) -> S3FileSystem:
    """The bucket on moto's server, reached through ``proxy``."""
    return S3FileSystem(
        bucket,
        endpoint_url=proxy.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        **options,
    )


def test_s3_run_costs_one_request_per_file_plus_three(
    moto_server: LocalS3Server, box_model: Path, weather: Path
) -> None:
    fs = moto_server.filesystem(unique_bucket(), prefix="budget/")
    with count_requests(fs) as sent:
        result = simulate(box_model, weather, output_dir="run-001", fs=fs)
    assert result.manifest is not None
    files = len(result.manifest.files)
    print(f"\nS3 requests for a {files}-file run: {dict(sent)}")
    assert sent["total"] <= files + 3
    assert sent["PutObject"] == files + 2  # marker, files, manifest
    SimulationResult.from_directory("run-001", fs=fs).verify(deep=True)


def test_s3_uploads_carry_the_manifest_digest_as_checksum(
    moto_server: LocalS3Server, box_model: Path, weather: Path
) -> None:
    """What goes on the wire: each file once, with the digest the manifest lists."""
    direct = moto_server.filesystem(unique_bucket())
    seen: list[Request] = []

    def record(request: Request) -> None:
        seen.append(request)

    with FaultProxy(moto_server.endpoint_url, rule=record) as proxy:  # type: ignore[arg-type]
        fs = _through(proxy, direct.bucket)
        result = simulate(box_model, weather, output_dir="run", fs=fs)
    assert result.manifest is not None
    puts = {
        r.path.rsplit("/", 1)[-1]: r
        for r in seen
        if r.method == "PUT" and MANIFEST_NAME not in r.path
    }
    assert sorted(puts) == sorted(f.name for f in result.manifest.files)
    for entry in result.manifest.files:
        headers = {k.lower(): v for k, v in puts[entry.name].headers.items()}
        assert base64.b64decode(headers["x-amz-checksum-sha256"]).hex() == entry.sha256
        assert len(puts[entry.name].body) == entry.size


def test_building_s3_filesystems_is_cheap_after_the_first() -> None:
    code = (
        "import time\n"
        "from idfkit.simulation.fs.s3 import S3FileSystem\n"
        "S3FileSystem('first-bucket', region_name='us-east-1').client\n"
        "t = time.perf_counter()\n"
        "for i in range(10):\n"
        "    S3FileSystem(f'bucket-{i:02d}', region_name='us-east-1').client\n"
        "print((time.perf_counter() - t) / 10)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    per_instance = float(out.stdout.strip())
    print(f"\nS3FileSystem + client after the first: {per_instance * 1000:.1f} ms")
    assert per_instance < 0.1  # a new boto3 session each time costs 0.15 s or more


def test_clients_are_made_once_per_process_and_thread_safely() -> None:
    fs = S3FileSystem("threads-bucket", region_name="us-east-1")
    seen: list[int] = []
    barrier = threading.Barrier(8)

    def grab() -> None:
        barrier.wait()
        seen.append(id(fs.client))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1
    if hasattr(os, "fork"):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child makes its own client
            os.write(write, b"1" if id(fs.client) != seen[0] else b"0")
            os._exit(0)
        os.waitpid(pid, 0)
        assert os.read(read, 1) == b"1"


def test_importing_the_package_leaves_boto3_out() -> None:
    code = "import sys, idfkit.simulation; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_run_overtaken_while_energyplus_runs_uploads_nothing(
    cfs: FileSystem, box_model: Path, weather: Path
) -> None:
    """The check made as EnergyPlus ends still stops an overtaken run before its files."""
    taken: list[bool] = []

    def take_over(_: object) -> None:
        if not taken:
            taken.append(True)
            _publish.mark_publishing(cfs, "run", marker("intruder"))

    with pytest.raises(ConcurrentRunError, match="intruder") as info:
        simulate(box_model, weather, output_dir="run", fs=cfs, on_progress=take_over)
    assert taken and "before placing its files" in str(info.value)
    assert cfs.glob("run", "*") == [f"run/{MANIFEST_NAME}"]


def test_the_claim_check_overlaps_the_runs_last_local_work(
    moto_server: LocalS3Server, box_model: Path, weather: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder's listing is sent while the run still reads its key metrics, not after."""
    from idfkit.simulation._job_context import manifest_extras as real_extras

    direct = moto_server.filesystem(unique_bucket())
    listed = threading.Event()
    overlapped: list[bool] = []

    def record(request: Request) -> None:
        if request.method == "GET" and "list-type=2" in request.path:
            listed.set()

    def extras_after_the_listing(run_dir: Path, prefix: str) -> dict[str, object]:
        overlapped.append(listed.wait(10))
        return real_extras(run_dir, prefix)

    monkeypatch.setattr("idfkit.simulation._closing.manifest_extras", extras_after_the_listing)
    with FaultProxy(moto_server.endpoint_url, rule=record) as proxy:
        fs = _through(proxy, direct.bucket)
        result = simulate(box_model, weather, output_dir="run", fs=fs)
    assert result.success and overlapped == [True]
    SimulationResult.from_directory("run", fs=direct).verify(deep=True)


# -- the folder's checks and marker go out beside EnergyPlus, not before it ---------------


class SlowToLook(LocalFileSystem):
    """A folder whose look for the model's name answers only once EnergyPlus is running."""

    def __init__(self, root: Path, running: threading.Event) -> None:
        super().__init__(root)
        self.running = running
        self.answered = 0.0

    def exists(self, path: str | Path) -> bool:
        if str(path).endswith("model.idf"):
            assert self.running.wait(30), "EnergyPlus never started"
            time.sleep(0.3)  # well into the run
            self.answered = time.perf_counter()
        return super().exists(path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_foreign_file_stops_a_running_energyplus_at_once(
    box_model: Path, weather: Path, tmp_path: Path
) -> None:
    """The check runs beside EnergyPlus; when it refuses, EnergyPlus is killed, its error raised."""
    store = tmp_path / "store"
    (store / "run").mkdir(parents=True)
    (store / "run" / "model.idf").write_text("the user's own file")
    with pytest.raises(FileExistsError) as expected:
        refuse_foreign_files(LocalFileSystem(store), "run", ["model.idf"])
    running = threading.Event()
    said: list[SimulationProgress] = []
    fs = SlowToLook(store, running)

    def progress(report: SimulationProgress) -> None:
        said.append(report)
        running.set()

    with pytest.raises(FileExistsError) as info:
        simulate(
            box_model,
            weather,
            output_dir="run",
            fs=fs,
            annual=True,  # a year of EnergyPlus: the refusal must not wait for its end
            on_progress=progress,
        )
    stopped = time.perf_counter() - fs.answered
    assert type(info.value) is type(expected.value)
    assert str(info.value) == str(expected.value)
    assert said and {"postprocessing", "complete"}.isdisjoint(r.phase for r in said), "it finished"
    assert stopped < 1.0, f"EnergyPlus ran on for {stopped:.1f} s after the refusal"
    assert energyplus_children() == []
    assert sorted(p.name for p in (store / "run").iterdir()) == ["model.idf"]  # no marker


def test_a_store_refusing_conditional_writes_is_said_and_nothing_is_sent(
    moto_server_fs: S3FileSystem, box_model: Path, weather: Path
) -> None:
    def refuses_conditions(request: Request) -> str | None:
        headers = {k.lower() for k in request.headers}
        return "501" if {"if-match", "if-none-match"} & headers else None

    with FaultProxy(str(moto_server_fs.endpoint_url), rule=refuses_conditions) as proxy:
        strict = _through(proxy, moto_server_fs.bucket, max_attempts=2)
        with pytest.raises(StorageError) as expected:
            _publish.mark_publishing(strict, "run", marker("direct"))
        with pytest.raises(StorageError) as info:
            simulate(box_model, weather, output_dir="run", fs=strict)
    assert type(info.value) is type(expected.value)
    assert str(info.value) == str(expected.value)
    assert "conditional_writes=False" in str(info.value)
    assert moto_server_fs.glob("run", "*") == []  # nothing uploaded, no marker


class MarksOnceRunning(MemoryFileSystem):
    """A store whose conditional writes wait until EnergyPlus has said its first line."""

    def __init__(self, running: threading.Event) -> None:
        super().__init__()
        self.running = running
        self.waited: list[bool] = []

    def write_bytes_if(
        self,
        path: str | Path,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        if b'"publishing"' in data:  # the marker, not the manifest
            self.waited.append(self.running.wait(30))
        return super().write_bytes_if(path, data, if_match=if_match, if_none_match=if_none_match)


def test_the_marker_is_written_while_energyplus_runs(box_model: Path, weather: Path) -> None:
    """The marker's request overlaps the engine's run: it is answered after EnergyPlus started."""
    running = threading.Event()
    fs = MarksOnceRunning(running)
    result = simulate(
        box_model, weather, output_dir="run", fs=fs, on_progress=lambda _: running.set()
    )
    assert result.success and fs.waited == [True]
    SimulationResult.from_directory("run", fs=fs).verify(deep=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_callers_cancel_event_still_stops_a_published_run(box_model: Path, weather: Path) -> None:
    """The run's own stop is set by either: its folder's requests failing, or the caller."""
    cancel = threading.Event()
    token = cancel_event.set(cancel)
    try:
        with pytest.raises(RunCancelled):
            simulate(
                box_model,
                weather,
                output_dir="run",
                fs=MemoryFileSystem(),
                annual=True,
                on_progress=lambda _: cancel.set(),
            )
    finally:
        cancel_event.reset(token)
    assert energyplus_children() == []


@pytest.mark.parametrize(
    ("threaded", "two_lanes"),
    [(2**40, 2**40), (2**40, 1), (1, 1)],
    ids=["this thread", "two lanes", "threads"],
)
def test_in_place_files_keep_their_early_digests_and_the_rest_are_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threaded: int, two_lanes: int
) -> None:
    monkeypatch.setattr(_publish, "THREADED_HASH_BYTES", threaded)
    monkeypatch.setattr(_publish, "TWO_LANE_HASH_BYTES", two_lanes)
    files = outputs(tmp_path, "in place", count=5, size=50_000)
    early = files[1]
    hashed: list[Path] = []
    real_hash = _publish.hash_file
    monkeypatch.setattr(_publish, "hash_file", lambda p: hashed.append(p) or real_hash(p))

    def known(path: Path) -> tuple[int, str] | None:
        return real_hash(path) if path == early else None

    manifest = _publish.publish(
        LocalFileSystem(tmp_path), "", files, maker("here"), upload=False, known=known
    )
    assert [(f.name, f.size, f.sha256) for f in manifest.files] == [
        (p.name, *real_hash(p)) for p in files
    ]
    assert sorted(hashed) == sorted(p for p in files if p != early)
