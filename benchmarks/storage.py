"""Storage figures for issue 3, measured against moto's S3 server in a child process.

(a) peak RSS growth of a reader whose ``.sql`` fetches a large object
    (goal: under 64 MB, independent of the size);
(b) S3 requests from a fresh ``from_directory`` to the first
    ``get_timeseries`` (goal: at most 2) and on a second access (goal: 0);
(c) upload time of a 20-file result directory, parallel against one by one;
(d) the cost of one run (issue 12): S3 requests per run of the box model by
    kind (goal: at most files + 3), bytes read from local disk while
    publishing (goal: each output once), ``import idfkit.simulation`` time
    and whether it pulls boto3 in, the time to build an ``S3FileSystem``
    with its client, the first ``from_directory(...).sql.get_timeseries``
    from S3 in a fresh process, and Python CPU per S3 run.

(e) S3, Azure Blob and Cloud Storage side by side on their emulators
    (moto, Azurite, fake-gcs-server): requests and MiB per box run, client
    CPU per request against boto3's, first-read round trips (see ``_clouds``).

``--only d`` runs (d) alone. Run it with ``PYTHONPATH`` pointing at another
checkout's ``src`` to measure that code (before/after tables).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _table import print_table

from idfkit.simulation import (
    S3FileSystem,
    SimulationResult,
    _publish,
    find_energyplus,
    simulate,
)
from idfkit.simulation.examples import example_model
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    InputRecord,
    ManifestFile,
    RunManifest,
    hash_file,
)
from idfkit.simulation.testing import LocalS3Server

MiB = 1024 * 1024
CREDENTIALS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def count_requests(fs: S3FileSystem) -> Counter[str]:
    counts: Counter[str] = Counter()

    def on_send(event_name: str, **_: Any) -> None:
        counts[event_name.rsplit(".", 1)[-1]] += 1
        counts["total"] += 1

    fs.client.meta.events.register("before-send.s3", on_send)
    return counts


def fake_manifest(files: tuple[ManifestFile, ...]) -> RunManifest:
    now = datetime.now(UTC)
    return RunManifest(
        run_id="bench",
        success=True,
        exit_code=0,
        runtime_seconds=0.0,
        energyplus_version="25.2.0",
        output_prefix="eplus",
        files=files,
        model=InputRecord(name="in.idf", sha256="0" * 64),
        weather=None,
        started_at=now,
        finished_at=now,
        idfkit_version="bench",
    )


def write_big_file(path: Path, size: int) -> None:
    block = os.urandom(MiB)
    with path.open("wb") as fh:
        for i in range(size // MiB):
            fh.write(block[i % 7 :] + block[: i % 7])  # not one repeated block


def child_read(endpoint: str, bucket: str, cache: str) -> None:
    """Run in a fresh process: report peak RSS before and after `.sql` downloads."""
    os.environ["IDFKIT_CACHE_DIR"] = cache
    fs = S3FileSystem(bucket, endpoint_url=endpoint, **CREDENTIALS)
    fs.client  # noqa: B018 - make the client before the baseline
    result = SimulationResult.from_directory("big", fs=fs)
    _ = result.manifest
    before = peak_rss_mib()
    started = time.perf_counter()
    sql = result.sql
    elapsed = time.perf_counter() - started
    assert sql is not None
    fetched = sql.path.stat().st_size / MiB
    current = int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024
    print(
        json.dumps(
            {
                "before": before,
                "after": peak_rss_mib(),
                "current": current,
                "fetched": fetched,
                "seconds": elapsed,
            }
        )
    )


def bench_rss(server: LocalS3Server, sizes_mib: list[int]) -> None:
    rows = []
    for size_mib in sizes_mib:
        bucket = f"rss-{size_mib}"
        fs = server.filesystem(bucket)
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "eplusout.sql"
            write_big_file(big, size_mib * MiB)
            size, digest = hash_file(big)
            fs.put_file(big, "big/eplusout.sql")
            fs.write_text(
                f"big/{MANIFEST_NAME}",
                fake_manifest(
                    (ManifestFile(name="eplusout.sql", size=size, sha256=digest),)
                ).to_json(),
            )
            big.unlink()
            out = subprocess.run(
                [sys.executable, __file__, "--child", server.endpoint_url, bucket, tmp],
                capture_output=True,
                text=True,
            )
            if out.returncode:
                raise SystemExit(f"reader process failed:\n{out.stderr}")
        data = json.loads(out.stdout.strip().splitlines()[-1])
        growth = data["after"] - data["before"]
        rows.append(
            [
                f"{size_mib} MiB",
                data["fetched"],
                data["before"],
                data["after"],
                data["current"],
                growth,
                data["seconds"],
            ]
        )
    print_table(
        "(a) peak RSS of a reader while .sql downloads and verifies one object"
        " (goal: growth < 64 MiB)",
        [
            "object",
            "fetched MiB",
            "peak before MiB",
            "peak after MiB",
            "RSS after MiB",
            "peak growth MiB",
            "seconds",
        ],
        rows,
    )


def bench_requests(server: LocalS3Server) -> None:
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    writer = server.filesystem("requests")
    simulate(example_model("box"), weather, output_dir="run-001", fs=writer, energyplus=config)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["IDFKIT_CACHE_DIR"] = cache
        reader = S3FileSystem("requests", endpoint_url=server.endpoint_url, **CREDENTIALS)
        sent = count_requests(reader)
        result = SimulationResult.from_directory("run-001", fs=reader)
        after_construct = sent["total"]
        result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")  # type: ignore[union-attr]
        first = sent["total"]
        result.sql.get_timeseries("Zone Ideal Loads Zone Total Heating Energy")  # type: ignore[union-attr]
        second = sent["total"] - first
        fresh = SimulationResult.from_directory("run-001", fs=reader)
        before_fresh = sent["total"]
        fresh.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")  # type: ignore[union-attr]
        fresh_requests = sent["total"] - before_fresh
        del os.environ["IDFKIT_CACHE_DIR"]
    print_table(
        "(b) S3 requests on the way to a time series (goals: first <= 2, second = 0)",
        ["step", "requests"],
        [
            ["from_directory()", after_construct],
            ["first get_timeseries (manifest + SQLite)", first],
            ["second get_timeseries, same result", second],
            ["new SimulationResult, same process (manifest only)", fresh_requests],
        ],
    )


def bench_upload(server: LocalS3Server, file_mib: int) -> None:
    fs = server.filesystem("upload")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = []
        for i in range(20):
            path = folder / f"eplusout-{i:02d}.bin"
            write_big_file(path, file_mib * MiB)
            files.append(path)
        timings = {}
        for threads in (1, _publish.MAX_UPLOAD_THREADS):
            _publish.MAX_UPLOAD_THREADS = threads
            started = time.perf_counter()
            _publish.publish(fs, f"run-{threads}", files, fake_manifest)
            timings[threads] = time.perf_counter() - started
    serial, parallel = timings[1], timings[max(timings)]
    print_table(
        f"(c) publishing a 20-file result directory ({file_mib} MiB each, hashing included)",
        ["mode", "seconds", "MiB/s"],
        [
            ["one by one", serial, 20 * file_mib / serial],
            [f"parallel ({max(timings)} threads)", parallel, 20 * file_mib / parallel],
        ],
    )
    print(f"\n  parallel speed-up: {serial / parallel:.2f}x")


def box_run(server: LocalS3Server, bucket: str, runs: int) -> dict[str, Any]:
    """Requests by kind and Python CPU of ``runs`` S3 runs of the box model."""
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    fs = server.filesystem(bucket)
    sent = count_requests(fs)
    cpu: list[float] = []
    files = 0
    for i in range(runs):
        sent.clear()
        started = time.process_time()
        result = simulate(
            example_model("box"), weather, output_dir=f"run-{i}", fs=fs, energyplus=config
        )
        cpu.append(time.process_time() - started)
        assert result.manifest is not None
        files = len(result.manifest.files)
    return {"requests": dict(sent), "files": files, "cpu": min(cpu)}


def local_outputs() -> tuple[Path, list[Path]]:
    """A real result folder of the box model, made once."""
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    folder = Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    simulate(example_model("box"), weather, output_dir=folder / "run", energyplus=config)
    files = sorted(p for p in (folder / "run").iterdir() if p.name != MANIFEST_NAME)
    return folder, files


def bytes_read_publishing(fs: Any, files: list[Path]) -> float:
    """Bytes this process read (read syscalls) while publishing, per byte of output."""
    total = sum(p.stat().st_size for p in files)

    def rchar() -> int:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
        raise RuntimeError("no rchar in /proc/self/io")

    before = rchar()
    _publish.publish(fs, f"pub-{time.monotonic_ns()}", files, fake_manifest)
    return (rchar() - before) / total


def import_time() -> tuple[float, bool]:
    """Best of 5: seconds for ``import idfkit.simulation``, and whether boto3 came along."""
    best = float("inf")
    pulled = False
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import idfkit.simulation"],
            capture_output=True,
            text=True,
            check=True,
        )
        lines = [ln.split("|") for ln in out.stderr.splitlines() if ln.startswith("import time:")]
        total = next(int(c) for _, c, name in lines if name.strip() == "idfkit.simulation")
        pulled = pulled or any(name.strip().startswith("boto3") for _, _, name in lines)
        best = min(best, total / 1e6)
    return best, pulled


CHILD_BUILD = """
import sys, time, json
from idfkit.simulation.fs.s3 import S3FileSystem
opts = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing")
times = []
for i in range(6):
    t = time.perf_counter()
    S3FileSystem("timing", **opts).client
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""

CHILD_FIRST_READ = """
import time
t0 = time.perf_counter()
import os, sys, json
from idfkit.simulation import S3FileSystem, SimulationResult
fs = S3FileSystem(sys.argv[2], endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
t1 = time.perf_counter()
ts = SimulationResult.from_directory("run-0", fs=fs).sql.get_timeseries(
    "Zone Mean Air Temperature", "ZONE 1")
t2 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, time.process_time(), len(ts.values)]))
"""


def child(code: str, *args: str) -> Any:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_run_cost(server: LocalS3Server) -> None:
    run = box_run(server, "runcost", runs=3)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(run["requests"].items()) if k != "total")
    folder, files = local_outputs()
    try:
        local_reads = bytes_read_publishing(_local_fs(Path(tempfile.mkdtemp(dir=folder))), files)
        s3_reads = bytes_read_publishing(server.filesystem("readcount"), files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    seconds, pulled = import_time()
    build = child(CHILD_BUILD, server.endpoint_url)
    reads = []
    with tempfile.TemporaryDirectory() as cache:
        env_cache = os.environ.get("IDFKIT_CACHE_DIR")
        os.environ["IDFKIT_CACHE_DIR"] = cache
        for _ in range(3):
            for leftover in Path(cache).iterdir():
                shutil.rmtree(leftover, ignore_errors=True)
            reads.append(child(CHILD_FIRST_READ, server.endpoint_url, "runcost"))
        if env_cache is None:
            del os.environ["IDFKIT_CACHE_DIR"]
        else:
            os.environ["IDFKIT_CACHE_DIR"] = env_cache
    first = min(reads, key=lambda r: r[0] + r[1])
    print_table(
        "(d) the cost of one run (issue 12)",
        ["figure", "value"],
        [
            [f"S3 requests per box run ({run['files']} files)", run["requests"]["total"]],
            ["  by kind", kinds],
            ["bytes read per output byte, publishing to local disk", local_reads],
            ["bytes read per output byte, publishing to S3", s3_reads],
            ["import idfkit.simulation, s (best of 5)", seconds],
            ["  boto3 imported", pulled],
            ["S3FileSystem + client, first in a process, s", build[0]],
            ["S3FileSystem + client, later ones, s (median)", sorted(build[1:])[2]],
            ["fresh process: imports + S3FileSystem, s", first[0]],
            ["fresh process: from_directory + first get_timeseries, s", first[1]],
            ["fresh process: Python CPU in all, s", first[2]],
            ["Python CPU per S3 run (best of 3), s", run["cpu"]],
        ],
    )


def _local_fs(root: Path) -> Any:
    from idfkit.simulation import LocalFileSystem

    return LocalFileSystem(root)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_read(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,500", help="object sizes in MiB for (a)")
    parser.add_argument("--file-mib", type=int, default=4, help="file size for (c)")
    parser.add_argument("--only", choices=["a", "b", "c", "d", "e"], help="run one part only")
    args = parser.parse_args()
    with LocalS3Server(process=True) as server:
        if args.only in (None, "a"):
            bench_rss(server, [int(s) for s in args.sizes.split(",")])
        if args.only in (None, "b"):
            bench_requests(server)
        if args.only in (None, "c"):
            bench_upload(server, args.file_mib)
        if args.only in (None, "d"):
            bench_run_cost(server)
        if args.only in (None, "e"):
            from _clouds import bench_clouds

            bench_clouds(server)


if __name__ == "__main__":
    main()
