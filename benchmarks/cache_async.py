"""Cache and async figures for issue 11.

(1) a cache hit against a full run of the annual box model, on local disk and
    on moto's S3 server in a child process (cache and results in one bucket),
    with the hit's S3 requests by kind;
(2) an async batch of 8 annual box jobs (async_simulate_batch) against
    simulate_batch of the same 8, and how long the event loop ever stalled.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _table import print_table

from idfkit import load_idf
from idfkit.simulation import (
    SimulationCache,
    SimulationJob,
    async_simulate_batch,
    find_energyplus,
    simulate,
    simulate_batch,
)
from idfkit.simulation.examples import example_model
from idfkit.simulation.fs.s3 import S3FileSystem
from idfkit.simulation.testing import LocalS3Server


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of `repeat` calls, and the last call's value."""
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def _count(fs: S3FileSystem) -> tuple[Counter[str], Callable[[], None]]:
    counts: Counter[str] = Counter()

    def on_send(event_name: str, **_: Any) -> None:
        counts[event_name.rsplit(".", 1)[-1]] += 1
        counts["total"] += 1

    fs.client.meta.events.register("before-send.s3", on_send)
    return counts, lambda: fs.client.meta.events.unregister("before-send.s3", on_send)


def bench_cache(repeat: int) -> None:
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    model = example_model("box")
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cache = SimulationCache(root / "cache")
        key = cache.compute_key(model, weather, energyplus_version=config.version)
        full, result = _timed(
            lambda: simulate(model, weather, output_dir=root / "full", energyplus=config), 1
        )
        cache.put(key, result)
        counter = iter(range(10**6))

        def local_hit() -> Any:
            hit_key = cache.compute_key(model, weather, energyplus_version=config.version)
            placed = cache.restore(hit_key, root / f"hit-{next(counter)}")
            assert placed is not None and placed.success
            return placed

        hit, _ = _timed(local_hit, repeat)
        rows.append(["local disk", full, hit, full / hit, "-"])

        with LocalS3Server(process=True) as server:
            fs = server.filesystem("bench-cache")
            s3_cache = SimulationCache(fs=fs, prefix="cache")
            s3_full, remote = _timed(
                lambda: simulate(model, weather, output_dir="runs/full", fs=fs, energyplus=config),
                1,
            )
            s3_cache.put(key, remote)

            def s3_hit() -> Any:
                hit_key = s3_cache.compute_key(model, weather, energyplus_version=config.version)
                placed = s3_cache.restore(hit_key, f"runs/hit-{next(counter)}", fs=fs)
                assert placed is not None and placed.success
                return placed

            counts, stop = _count(fs)
            s3_hit()
            stop()
            s3_hit_time, _ = _timed(s3_hit, repeat)
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "total")
            rows.append(
                ["S3 (moto server)", s3_full, s3_hit_time, s3_full / s3_hit_time, counts["total"]]
            )
    print_table(
        f"(1) annual box model: full run against a cache hit (median of {repeat} hits)",
        ["where", "full run s", "hit s", "speed-up", "hit requests"],
        rows,
    )
    print(f"\n  S3 hit requests by kind: {kinds}")


def _jobs(root: Path, weather: Path, n: int, tag: str) -> list[SimulationJob]:
    base = load_idf(example_model("box"))
    jobs = []
    for i in range(n):
        variant = base.copy()
        variant["Material"][0].fields[2] = f"{0.02 + 0.01 * i:.2f}"
        jobs.append(
            SimulationJob(variant, weather, label=f"{tag}-{i}", output_dir=root / f"{tag}-{i}")
        )
    return jobs


def bench_async(jobs_count: int) -> None:
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        batch = simulate_batch(_jobs(root, weather, jobs_count, "sync"), energyplus=config)
        sync_time = time.perf_counter() - started
        assert batch.all_succeeded

        async def main() -> tuple[float, float, int]:
            gaps: list[float] = []
            done = asyncio.Event()

            async def ticker() -> None:
                last = time.perf_counter()
                while not done.is_set():
                    await asyncio.sleep(0.01)
                    now = time.perf_counter()
                    gaps.append(now - last - 0.01)
                    last = now

            ticking = asyncio.create_task(ticker())
            began = time.perf_counter()
            result = await async_simulate_batch(
                _jobs(root, weather, jobs_count, "async"), energyplus=config
            )
            elapsed = time.perf_counter() - began
            done.set()
            await ticking
            assert result.all_succeeded
            return elapsed, max(gaps), len(gaps)

        async_time, worst_stall, ticks = asyncio.run(main())
    print_table(
        f"(2) {jobs_count} annual box jobs on {cores} cores, {cores} at a time",
        ["mode", "seconds", "simulations per minute"],
        [
            ["simulate_batch (thread pool)", sync_time, 60 * jobs_count / sync_time],
            ["async_simulate_batch", async_time, 60 * jobs_count / async_time],
        ],
    )
    print(
        f"\n  event loop during the async batch: {ticks} ticks of 10 ms, "
        f"worst extra delay {1000 * worst_stall:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="cache hits to time")
    parser.add_argument("--jobs", type=int, default=8, help="jobs in the batch comparison")
    args = parser.parse_args()
    bench_cache(args.repeat)
    bench_async(args.jobs)


if __name__ == "__main__":
    main()
