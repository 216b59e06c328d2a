"""The async façade: awaitable storage, async_simulate and the async batches."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from idfkit.simulation import (
    EnergyPlusConfig,
    MemoryFileSystem,
    SimulationJob,
    SimulationProgress,
)
from idfkit.simulation.async_batch import (
    SimulationEvent,
    async_simulate_batch,
    async_simulate_batch_stream,
)
from idfkit.simulation.async_runner import async_simulate
from idfkit.simulation.fs import (
    AsyncFileSystem,
    AsyncFileSystemAdapter,
    AsyncLocalFileSystem,
    AsyncS3FileSystem,
    FileSystem,
)
from idfkit.simulation.testing import LocalS3Server
from idfkit.simulation.testing.contract import (
    CopyRemoveContract,
    ExistsContract,
    GlobContract,
    NotFoundContract,
    PathSafetyContract,
    ReadWriteContract,
    RootIsNotAFileContract,
)
from tests.conftest import unique_bucket
from tests.helpers import energyplus_children

# -- AsyncFileSystem: the FileSystem contract, awaited -------------------------


class Blocking:
    """A FileSystem view of an AsyncFileSystem, so the shared contract suite can drive it."""

    def __init__(self, afs: AsyncFileSystem) -> None:
        self.afs = afs

    def _run(self, call: Any) -> Any:
        return asyncio.run(_await(call))

    def read_bytes(self, path: str | Path) -> bytes:
        return self._run(self.afs.read_bytes(path))  # type: ignore[no-any-return]

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        self._run(self.afs.write_bytes(path, data))

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return self._run(self.afs.read_text(path, encoding))  # type: ignore[no-any-return]

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self._run(self.afs.write_text(path, text, encoding))

    def exists(self, path: str | Path) -> bool:
        return self._run(self.afs.exists(path))  # type: ignore[no-any-return]

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        self._run(self.afs.makedirs(path, exist_ok=exist_ok))

    def copy(self, src: str | Path, dst: str | Path) -> None:
        self._run(self.afs.copy(src, dst))

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        return self._run(self.afs.glob(path, pattern))  # type: ignore[no-any-return]

    def remove(self, path: str | Path) -> None:
        self._run(self.afs.remove(path))


async def _await(call: Any) -> Any:
    return await call


class AsyncContracts(
    ReadWriteContract,
    NotFoundContract,
    ExistsContract,
    CopyRemoveContract,
    GlobContract,
    PathSafetyContract,
    RootIsNotAFileContract,
):
    pass


class TestAsyncLocalFileSystem(AsyncContracts):
    @pytest.fixture
    def fs(self, tmp_path: Path) -> Blocking:
        return Blocking(AsyncLocalFileSystem(tmp_path / "root"))


class TestAsyncS3FileSystemOnMotoServer(AsyncContracts):
    @pytest.fixture
    def fs(self, moto_server: LocalS3Server) -> Blocking:
        bucket = unique_bucket()
        moto_server.filesystem(bucket)  # creates the bucket
        afs = AsyncS3FileSystem(
            bucket,
            "async/",
            endpoint_url=moto_server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        return Blocking(afs)


class RecordingMemory(MemoryFileSystem):
    """The memory backend, noting the thread of every read."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def read_bytes(self, path: str | Path) -> bytes:
        self.threads.append(threading.current_thread().name)
        return super().read_bytes(path)


def test_async_classes_satisfy_the_protocol_and_wrap_any_backend() -> None:
    memory = RecordingMemory()
    afs = AsyncFileSystemAdapter(memory)
    assert isinstance(afs, AsyncFileSystem)
    assert isinstance(AsyncLocalFileSystem(), AsyncFileSystem)

    async def main() -> bytes:
        async with afs:
            await afs.write_bytes("a/b.txt", b"data")
            return await afs.read_bytes("a/b.txt")

    assert asyncio.run(main()) == b"data"
    # The read ran on a worker thread, never on the event loop's thread.
    assert memory.threads and threading.main_thread().name not in memory.threads


def test_async_s3_filesystem_accepts_idfkits_async_with(moto_server: LocalS3Server) -> None:
    sync = moto_server.filesystem(unique_bucket())

    async def main() -> list[str]:
        async with AsyncS3FileSystem(
            sync.bucket,
            prefix="sims/",
            endpoint_url=moto_server.endpoint_url,
            region_name="us-east-1",
        ) as fs:
            await fs.write_text("run-001/notes.txt", "hello")
            assert await fs.exists("run-001")
            return await fs.glob("run-001", "*.txt")

    assert asyncio.run(main()) == ["run-001/notes.txt"]
    assert sync.read_text("sims/run-001/notes.txt") == "hello"


# -- async_simulate ----------------------------------------------------------------


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary folders of this test only, so leftovers can be counted."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.energyplus
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_cancelling_kills_energyplus_and_leaves_no_temporary_folder(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, private_tmp: Path
) -> None:
    started = threading.Event()

    async def main() -> None:
        task = asyncio.create_task(
            async_simulate(
                box_model,
                weather,
                annual=True,
                energyplus=energyplus,
                on_progress=lambda line: started.set(),
            )
        )
        while not started.is_set():
            await asyncio.sleep(0.02)
        assert energyplus_children(), "EnergyPlus should be running"
        assert [p.name for p in private_tmp.iterdir() if p.name.startswith("idfkit-")]
        cancelled_at = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Killed, not finished: an annual box run takes seconds.
        assert time.perf_counter() - cancelled_at < 2.0

    asyncio.run(main())
    assert energyplus_children() == []
    assert [p.name for p in private_tmp.iterdir() if p.name.startswith("idfkit-")] == []


@pytest.mark.energyplus
def test_event_loop_keeps_ticking_during_a_run(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    async def main() -> tuple[list[float], bool]:
        gaps: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticking = asyncio.create_task(ticker())
        started = time.perf_counter()
        result = await async_simulate(
            box_model, weather, output_dir=tmp_path / "run", energyplus=energyplus
        )
        wall.append(time.perf_counter() - started)
        stop.set()
        await ticking
        return gaps, result.success

    wall: list[float] = []
    gaps, success = asyncio.run(main())
    assert success
    # The loop ticked all along: its ticks cover the run's wall time, however short the run.
    assert len(gaps) >= 10
    assert sum(gaps) >= 0.9 * wall[0]
    assert max(gaps) < 0.25, f"the event loop stalled for {max(gaps):.3f} s"


@pytest.mark.energyplus
def test_async_progress_callback_runs_on_the_loop(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    seen: list[tuple[Any, str]] = []

    async def main() -> None:
        async def on_progress(event: Any) -> None:
            seen.append((event, threading.current_thread().name))

        result = await async_simulate(
            box_model,
            weather,
            output_dir=tmp_path / "run",
            energyplus=energyplus,
            on_progress=on_progress,
        )
        assert result.success

    asyncio.run(main())
    assert len(seen) > 5
    assert {name for _, name in seen} == {threading.main_thread().name}


# -- async batches -------------------------------------------------------------------


def _jobs(model: Path, weather: Path, root: Path, n: int) -> list[SimulationJob]:
    return [
        SimulationJob(model, weather, label=f"case-{i}", output_dir=root / f"case-{i}")
        for i in range(n)
    ]


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = most = 0
    for _, step in points:
        running += step
        most = max(most, running)
    return most


@pytest.mark.energyplus
def test_batch_stream_is_bounded_and_yields_events_as_jobs_finish(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    jobs = _jobs(box_model, weather, tmp_path, 3)

    async def main() -> list[SimulationEvent]:
        return [
            event
            async for event in async_simulate_batch_stream(
                jobs, energyplus=energyplus, max_concurrent=1
            )
        ]

    events = asyncio.run(main())
    assert [e.completed for e in events] == [1, 2, 3]
    assert {e.total for e in events} == {3}
    assert sorted(e.index for e in events) == [0, 1, 2]
    assert {e.label for e in events} == {"case-0", "case-1", "case-2"}
    assert all(e.result.success for e in events)
    intervals = []
    for event in events:
        manifest = event.result.manifest
        assert manifest is not None
        intervals.append((manifest.started_at.timestamp(), manifest.finished_at.timestamp()))
    assert _most_at_once(intervals) == 1


@pytest.mark.energyplus
def test_batch_returns_results_in_job_order(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    jobs = _jobs(box_model, weather, tmp_path, 2)
    jobs.append(SimulationJob(box_model, tmp_path / "missing.epw", label="broken"))
    batch = asyncio.run(async_simulate_batch(jobs, energyplus=energyplus, max_concurrent=2))
    assert len(batch) == 3
    assert [row["label"] for row in batch.summary()] == ["case-0", "case-1", "broken"]
    assert [item.success for item in batch] == [True, True, False]
    with pytest.raises(ValueError, match="must not be empty"):
        asyncio.run(async_simulate_batch([]))
    shared = [
        SimulationJob(box_model, weather, label=n, output_dir=tmp_path / "same") for n in "ab"
    ]
    with pytest.raises(ValueError, match=r"jobs 0 \('a'\) and 1 \('b'\) share the output folder"):
        asyncio.run(async_simulate_batch(shared, energyplus=energyplus))
    with pytest.raises(ValueError, match="max_concurrent"):
        asyncio.run(async_simulate_batch(jobs, max_concurrent=0))


@pytest.mark.energyplus
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_leaving_the_stream_early_stops_the_other_jobs(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    jobs = _jobs(box_model, weather, tmp_path, 4)

    async def main() -> SimulationEvent:
        stream = async_simulate_batch_stream(jobs, energyplus=energyplus, max_concurrent=2)
        async for event in stream:
            await stream.aclose()  # type: ignore[attr-defined]
            return event
        raise AssertionError("no event")

    first = asyncio.run(main())
    assert first.completed == 1
    assert energyplus_children() == []
    finished = [p for p in tmp_path.iterdir() if (p / "eplus.sql").exists()]
    assert len(finished) < 4


def test_a_custom_async_backend_is_driven_from_the_worker_thread() -> None:
    from idfkit.simulation.async_runner import sync_filesystem

    memory = MemoryFileSystem()

    class NativeAsync:
        """An async backend written directly (not through the adapter)."""

        async def read_bytes(self, path: str | Path) -> bytes:
            return memory.read_bytes(path)

        async def write_bytes(self, path: str | Path, data: bytes) -> None:
            memory.write_bytes(path, data)

    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        bridge: Any = sync_filesystem(NativeAsync(), loop)  # type: ignore[arg-type]

        def in_thread() -> bytes:
            bridge.write_bytes("x.bin", b"123")
            return bridge.read_bytes("x.bin")  # type: ignore[no-any-return]

        data = await asyncio.to_thread(in_thread)
        with pytest.raises(RuntimeError, match="await its methods"):
            bridge.read_bytes("x.bin")  # on the loop's thread it would deadlock
        return data

    assert asyncio.run(main()) == b"123"
    adapter = AsyncLocalFileSystem()
    assert isinstance(adapter.sync, FileSystem)


@pytest.mark.energyplus
def test_async_batch_consults_the_cache(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    from idfkit.simulation import SimulationCache

    cache = SimulationCache(tmp_path / "cache")
    jobs = _jobs(box_model, weather, tmp_path, 3)
    events: list[SimulationProgress] = []
    batch = asyncio.run(
        async_simulate_batch(
            jobs, energyplus=energyplus, max_concurrent=1, cache=cache, on_progress=events.append
        )
    )
    assert [item.success for item in batch] == [True, True, True]
    # One EnergyPlus run printed progress; the other two were cache hits.
    # (each event names its job, as in simulate_batch)
    assert {(event.job_index, event.job_label) for event in events} == {(0, jobs[0].label)}
