"""Sequential round trips of publishing a run and of a result's first read (issue 21).

Every S3 request goes through a loopback proxy that holds it ``--delay``
seconds (20 ms, a far region's latency) before passing it to moto's server.
The proxy notes when each request began and ended; the number of sequential
round trips is the largest set of requests of which none overlaps another
(one after the other, each waiting on the one before). It depends far less
on the machine's load than the wall time, printed beside it, but it counts
a request that starts after another of the same wave has already ended (the
client hashing and signing 15 uploads one after another) as one more.

Goals: publishing adds at most 3 round trips to the run (its marker goes
out beside EnergyPlus; then the check that the run still holds its folder,
the files in parallel, the manifest); a first read at most 1 (manifest and
file fetched together). The check (a listing of the folder) starts as
EnergyPlus ends, beside the run's last local work; ``--show`` prints every
request's span to see which one waits on which.

The count of sequential requests also counts those that overlap EnergyPlus
(the folder's marker is sent beside the run), which cost the run nothing.
What a publish adds to the run's wall time is measured apart, with
``--critical-delay`` (200 ms, far above the client's own work) added to each
request: counted, the sequential requests that ended before EnergyPlus
started plus those that began after it ended; timed, the run's time outside
EnergyPlus with that delay less that without (``--pairs`` runs of each, in
turn, medians), over the delay.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _table import print_table

from idfkit.simulation import SimulationResult, find_energyplus, simulate
from idfkit.simulation.examples import example_model
from idfkit.simulation.testing import ACCESS_KEY, REGION, SECRET_KEY, LocalS3Server

BUCKET = "roundtrips"
WEATHER = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"


class DelayingProxy:
    """An HTTP proxy on loopback that delays every request and records its span."""

    def __init__(self, upstream: str, delay: float) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.delay = delay  # may be changed between requests
        self.spans: list[tuple[float, float, str]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def _serve(self) -> None:
                began = time.perf_counter()
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else None
                time.sleep(proxy.delay)
                upstream = http.client.HTTPConnection(host, int(port), timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                with proxy.lock:
                    proxy.spans.append(
                        (began, time.perf_counter(), f"{self.command} {self.path[:60]}")
                    )

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> list[tuple[float, float, str]]:
        with self.lock:
            spans, self.spans = self.spans, []
        return spans

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sequential(spans: list[tuple[float, float, str]]) -> int:
    """The most requests of which none overlaps another (earliest end first)."""
    count, free_from = 0, float("-inf")
    for began, ended, _ in sorted(spans, key=lambda s: s[1]):
        if began >= free_from:
            count, free_from = count + 1, ended
    return count


def kinds(spans: list[tuple[float, float, str]]) -> str:
    counted: dict[str, int] = {}
    for _, _, method in spans:
        counted[method.split()[0]] = counted.get(method.split()[0], 0) + 1
    return ", ".join(f"{n} {m}" for m, n in sorted(counted.items()))


def show(title: str, spans: list[tuple[float, float, str]]) -> None:
    """Each request's start and end in ms from the first start, in order of start."""
    print(title)
    first = min((began for began, _, _ in spans), default=0.0)
    for began, ended, request in sorted(spans):
        print(f"  {1000 * (began - first):8.1f} {1000 * (ended - first):8.1f}  {request}")


@contextmanager
def energyplus_spans() -> Iterator[list[tuple[float, float]]]:
    """Note when each program the runner starts (EnergyPlus) began and ended."""
    from idfkit.simulation import runner

    spans: list[tuple[float, float]] = []
    real = runner.run_process  # type: ignore[attr-defined]

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spans.append((began, time.perf_counter()))

    runner.run_process = timed  # type: ignore[attr-defined]
    try:
        yield spans
    finally:
        runner.run_process = real  # type: ignore[attr-defined]


def critical_path(
    proxy: DelayingProxy, make_fs: Any, weather: Path, delay: float, pairs: int
) -> tuple[float, float, float, float]:
    """Round trips a publish adds to the run's wall time, counted and timed.

    Counted: the sequential requests that ended before EnergyPlus started
    (the run waited for them) plus those that began after it ended; one that
    overlaps EnergyPlus costs the run nothing. Timed: the run's time outside
    EnergyPlus with ``delay`` added to each request, less that without, over
    the delay (medians of ``pairs`` runs each, taken in turn).

    Returns:
        The median count, the timed figure, and the two median times outside.
    """
    outside: dict[float, list[float]] = {delay: [], 0.0: []}
    counted: list[int] = []
    before = proxy.delay
    try:
        for pair in range(pairs):
            for added in (delay, 0.0) if pair % 2 == 0 else (0.0, delay):
                fs = make_fs(f"critical-{pair}-{int(added * 1000)}")
                proxy.delay = 0.0
                fs.exists("warm")  # the client's first request is not the run's
                proxy.take()
                proxy.delay = added
                with energyplus_spans() as programs:
                    started = time.perf_counter()
                    result = simulate(example_model("box"), weather, output_dir="out", fs=fs)
                    wall = time.perf_counter() - started
                assert result.success and programs
                ran_from, ran_to = programs[0][0], programs[-1][1]
                outside[added].append(wall - (ran_to - ran_from))
                spans = proxy.take()
                if added:
                    waited = [span for span in spans if span[1] <= ran_from]
                    after = [span for span in spans if span[0] >= ran_to]
                    counted.append(sequential(waited) + sequential(after))
    finally:
        proxy.delay = before
        proxy.take()
    slow, fast = statistics.median(outside[delay]), statistics.median(outside[0.0])
    return statistics.median(counted), (slow - fast) / delay, slow, fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds added per request")
    parser.add_argument("--runs", type=int, default=3, help="runs published and read")
    parser.add_argument("--show", action="store_true", help="print each request's span (ms)")
    parser.add_argument(
        "--critical-delay", type=float, default=0.2, help="seconds added per request (wall time)"
    )
    parser.add_argument("--pairs", type=int, default=5, help="runs with and without it (0: none)")
    args = parser.parse_args()
    from idfkit.simulation import S3FileSystem

    weather = find_energyplus().weather_dir / WEATHER
    rows: list[list[object]] = []
    with LocalS3Server() as server:
        server.filesystem(BUCKET)  # makes the bucket
        proxy = DelayingProxy(server.endpoint_url, args.delay)
        try:

            def make_fs(prefix: str) -> S3FileSystem:
                return S3FileSystem(
                    BUCKET,
                    prefix,
                    endpoint_url=proxy.endpoint_url,
                    region_name=REGION,
                    aws_access_key_id=ACCESS_KEY,
                    aws_secret_access_key=SECRET_KEY,
                )

            for run in range(args.runs):
                fs = make_fs(f"run-{run}")
                fs.exists("warm")  # the client's first request is not the run's
                proxy.take()
                started = time.perf_counter()
                result = simulate(example_model("box"), weather, output_dir="out", fs=fs)
                wall = time.perf_counter() - started
                published = proxy.take()
                assert result.success
                with tempfile.TemporaryDirectory() as cache:
                    import os

                    os.environ["IDFKIT_CACHE_DIR"] = cache
                    started = time.perf_counter()
                    fresh = SimulationResult.from_directory("out", fs=fs)
                    fresh.sql.get_tabular_data("AnnualBuildingUtilityPerformanceSummary")
                    read_wall = time.perf_counter() - started
                    read = proxy.take()
                if args.show:
                    show(f"run {run}: publish", published)
                    show(f"run {run}: first read", read)
                rows.append(
                    [
                        run,
                        sequential(published),
                        kinds(published),
                        round(wall, 2),
                        sequential(read),
                        kinds(read),
                        round(read_wall, 3),
                    ]
                )
            if args.pairs:
                waited, added, slow, fast = critical_path(
                    proxy, make_fs, weather, args.critical_delay, args.pairs
                )
        finally:
            proxy.stop()
    print_table(
        f"sequential round trips at +{args.delay * 1000:g} ms per request (goals: publish <= 3, "
        "first read <= 1)",
        [
            "run",
            "publish",
            "publish requests",
            "simulate s",
            "first read",
            "read requests",
            "read s",
        ],
        rows,
    )

    if args.pairs:
        print_table(
            f"round trips a publish adds to the run's wall time, at +{args.critical_delay * 1000:g}"
            f" ms per request (median of {args.pairs} runs each; goal <= 3)",
            ["requests waited for", "by time", "outside EnergyPlus s (delayed)", "(no delay)"],
            [[waited, round(added, 2), round(slow, 3), round(fast, 3)]],
        )


if __name__ == "__main__":
    main()
