"""Nothing is lost, and nothing partial reads as a success: faults, crashes, concurrency.

Figures are printed (run with ``-s`` to see them); docs/reliability.md quotes them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from idfkit import load_idf
from idfkit.simulation import (
    ConcurrentRunError,
    IncompleteResultError,
    LocalFileSystem,
    MemoryFileSystem,
    ResultNotFoundError,
    S3FileSystem,
    SimulationJob,
    SimulationResult,
    simulate,
)
from idfkit.simulation.fs.base import FileSystem
from idfkit.simulation.manifest import MANIFEST_NAME
from idfkit.simulation.study import collect_results, run_study_job, write_study
from idfkit.simulation.testing import ACCESS_KEY, SECRET_KEY, LocalS3Server
from idfkit.writers import save_idf, write_idf
from tests.conftest import unique_bucket
from tests.faults import FaultProxy, Request, random_faults


def through(proxy: FaultProxy, bucket: str, prefix: str = "", **options: Any) -> S3FileSystem:
    return S3FileSystem(
        bucket,
        prefix,
        endpoint_url=proxy.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        **options,
    )


def outcome_of(fs: FileSystem, path: str) -> str:
    """What a reader would conclude about a result folder."""
    try:
        return "succeeded" if SimulationResult.from_directory(path, fs=fs).success else "failed"
    except ResultNotFoundError:
        return "missing"
    except IncompleteResultError:
        return "incomplete"


def variants(box_model: Path, count: int) -> list[Any]:
    base = load_idf(box_model)
    out = []
    for i in range(count):
        variant = base.copy()
        variant["Material"][0].thickness = float(f"{0.04 + 0.02 * i:.2f}")
        out.append(variant)
    return out


# -- faults on the wire -----------------------------------------------------------------


def test_ten_percent_faults_lose_nothing(
    moto_server: LocalS3Server, box_model: Path, weather: Path
) -> None:
    direct = moto_server.filesystem(unique_bucket(), prefix="faulty-study/")
    seed = int(os.environ.get("IDFKIT_FAULT_SEED", "1234"))
    rule = random_faults(0.10, seed=seed)
    with FaultProxy(moto_server.endpoint_url, rule=rule, delay_seconds=0.2) as proxy:
        fs = through(proxy, direct.bucket, "faulty-study/", max_attempts=10)
        jobs = [
            SimulationJob(v, weather, label=f"case-{i}")
            for i, v in enumerate(variants(box_model, 6))
        ]
        write_study(jobs, fs)
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(lambda i: run_study_job(fs, i), range(len(jobs))))
        assert all(o.success for o in outcomes)
        collection = collect_results(fs)
        verified = 0
        for row in collection.rows:
            result = SimulationResult.from_directory(row.output_dir, fs=fs)
            result.verify(deep=True)  # downloads every file through the faults, checks sha256
            verified += len(result.files())
    faults = {k: v for k, v in proxy.counts.items() if k != "requests"}
    assert collection.all_succeeded
    assert sum(faults.values()) >= 10  # the faults really happened
    lost = len(collection.rows) - collection.counts()["succeeded"]
    print(
        f"\n10% faults: {proxy.counts['requests']} requests, faults injected {dict(faults)}, "
        f"{verified} files uploaded and verified by sha256, results lost: {lost}"
    )
    assert lost == 0


def test_all_requests_failing_gives_a_clear_error_and_no_manifest(
    moto_server: LocalS3Server, box_model: Path, weather: Path
) -> None:
    direct = moto_server.filesystem(unique_bucket())
    with FaultProxy(moto_server.endpoint_url, rule=lambda _: "503") as proxy:
        fs = through(proxy, direct.bucket, max_attempts=3)
        started = time.monotonic()
        with pytest.raises(OSError, match=r"run-001") as info:
            simulate(box_model, weather, output_dir="run-001", fs=fs)
        elapsed = time.monotonic() - started
        with pytest.raises(OSError, match="SlowDown"):
            fs.read_bytes("anything")
    print(f"\n100% faults: {type(info.value).__name__} after {elapsed:.1f} s: {info.value}")
    assert elapsed < 30
    assert proxy.counts["503"] >= 3
    assert direct.glob("", "*") == []  # no marker, no manifest, no files
    assert outcome_of(direct, "run-001") == "missing"


def test_connection_resets_mid_body_are_retried(moto_server: LocalS3Server, tmp_path: Path) -> None:
    direct = moto_server.filesystem(unique_bucket())
    payload = bytes(range(256)) * 8192  # 2 MiB
    direct.write_bytes("big.bin", payload)
    resets = Counter[str]()

    def reset_first_two_reads(request: Request) -> str | None:
        if request.method == "GET" and "big.bin" in request.path and resets["n"] < 2:
            resets["n"] += 1
            return "reset"
        return None

    with FaultProxy(moto_server.endpoint_url, rule=reset_first_two_reads) as proxy:
        fs = through(proxy, direct.bucket, max_attempts=4)
        fs.get_file("big.bin", tmp_path / "big.bin")
        assert (tmp_path / "big.bin").read_bytes() == payload
        resets["n"] = 0
        assert fs.read_bytes("big.bin") == payload
    assert proxy.counts["reset"] == 4


# -- crashes ------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from idfkit.simulation import S3FileSystem, simulate
    endpoint, bucket, model, weather = sys.argv[1:5]
    fs = S3FileSystem(bucket, endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    simulate(model, weather, output_dir="crash", fs=fs,
             on_progress=lambda line: print("progress", line, flush=True))
    print("done", flush=True)
    """
)


def crash_rule(point: str) -> Any:
    puts = Counter[str]()

    def rule(request: Request) -> str | None:
        headers = {name.lower() for name in request.headers}
        if request.method != "PUT" or "if-none-match" in headers:
            return None  # (a marker's create-only attempt: refused here, the folder has a run)
        is_manifest = MANIFEST_NAME in request.path
        puts["manifest" if is_manifest else "file"] += 1
        if point == "before anything is stored" and is_manifest and puts["manifest"] == 1:
            return "hold"
        if point == "while EnergyPlus runs" and is_manifest and puts["manifest"] == 1:
            # The marker goes out beside EnergyPlus: stored, its answer held, the run goes on.
            return "hold-after"
        if point == "during the upload" and not is_manifest and puts["file"] == 3:
            return "hold"
        if (
            point == "after the files, before the manifest"
            and is_manifest
            and puts["manifest"] == 2
        ):
            return "hold"
        if point == "after the manifest is stored" and is_manifest and puts["manifest"] == 2:
            return "hold-after"
        return None

    return rule


CRASH_POINTS = [
    "before anything is stored",
    "while EnergyPlus runs",
    "during the upload",
    "after the files, before the manifest",
    "after the manifest is stored",
]
EXPECTED_AFTER_CRASH = {
    "before anything is stored": "succeeded (the earlier run, untouched)",
    "while EnergyPlus runs": "incomplete",
    "during the upload": "incomplete",
    "after the files, before the manifest": "incomplete",
    "after the manifest is stored": "succeeded",
}


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_crash_at_any_point_then_rerun(
    point: str, moto_server: LocalS3Server, box_model: Path, weather: Path, tmp_path: Path
) -> None:
    direct = moto_server.filesystem(unique_bucket())
    # An earlier, complete run of another variant holds the folder: its files are stale
    # for the new run and must never be taken for the new run's.
    earlier_model, new_model = variants(box_model, 2)
    earlier = simulate(earlier_model, weather, output_dir="crash", fs=direct)
    assert earlier.manifest is not None
    model_path = tmp_path / "model.idf"
    save_idf(new_model, model_path)
    with FaultProxy(moto_server.endpoint_url, rule=crash_rule(point), forward_held=False) as proxy:
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                proxy.endpoint_url,
                direct.bucket,
                str(model_path),
                str(weather),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        if point == "while EnergyPlus runs":
            line = child.stdout.readline()
            assert line.startswith("progress"), line
            assert proxy.held.wait(60), f"the marker never went out: {proxy.counts}"
        else:
            assert proxy.held.wait(60), f"never reached the crash point: {proxy.counts}"
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
        proxy.release.set()
    after_crash = outcome_of(direct, "crash")
    if after_crash == "succeeded":
        survivor = SimulationResult.from_directory("crash", fs=direct).manifest
        assert survivor is not None
        if survivor.run_id == earlier.manifest.run_id:
            after_crash = "succeeded (the earlier run, untouched)"
    rerun = simulate(new_model, weather, output_dir="crash", fs=direct)
    after_rerun = outcome_of(direct, "crash")
    reread = SimulationResult.from_directory("crash", fs=direct)
    reread.verify(deep=True)
    print(f"\ncrash point {point!r}: after crash {after_crash}, after re-run {after_rerun}")
    assert child.returncode == -signal.SIGKILL
    assert after_crash == EXPECTED_AFTER_CRASH[point]
    assert rerun.success
    assert after_rerun == "succeeded"
    assert reread.manifest is not None and rerun.manifest is not None
    assert reread.manifest.run_id == rerun.manifest.run_id
    # The SQLite file under the new manifest is the new variant's, not the earlier one's.
    stored_model = load_idf(reread.local_path("model.idf"))
    assert stored_model["Material"][0].thickness == new_model["Material"][0].thickness


# -- concurrency --------------------------------------------------------------------------


@pytest.fixture(params=[pytest.param("s3", marks=pytest.mark.server), "local", "memory"])
def shared_fs(request: pytest.FixtureRequest, tmp_path: Path) -> FileSystem:
    if request.param == "s3":
        server: LocalS3Server = request.getfixturevalue("moto_server")
        return server.filesystem(unique_bucket(), prefix="concurrent/", max_concurrency=4)
    if request.param == "memory":
        return MemoryFileSystem()
    return LocalFileSystem(tmp_path / "results")


def test_32_threads_lose_nothing(shared_fs: FileSystem, box_model: Path, weather: Path) -> None:
    if isinstance(shared_fs, MemoryFileSystem):
        pytest.skip("the S3 and local cases cover it")
    base = load_idf(box_model)

    def one(i: int) -> float:
        variant = base.copy()
        variant["Material"][0].thickness = float(f"{0.02 + 0.005 * i:.3f}")
        result = simulate(variant, weather, output_dir=f"case-{i:02d}", fs=shared_fs)
        assert result.success
        again = SimulationResult.from_directory(f"case-{i:02d}", fs=shared_fs)
        again.verify(deep=True)
        return sum(again.sql.get_timeseries("Zone Ideal Loads Zone Total Heating Energy").values)  # type: ignore[union-attr]

    with ThreadPoolExecutor(32) as pool:
        heating = list(pool.map(one, range(32)))
    assert len(shared_fs.glob("", "case-*")) == 32
    # Each folder holds its own variant: more insulation, less heating, in order.
    assert heating == sorted(heating, reverse=True)
    assert len(set(heating)) == 32


TWO_WRITER_TRIALS = int(os.environ.get("IDFKIT_TWO_WRITER_TRIALS", "20"))


def test_two_writers_to_one_folder_never_both_succeed(
    shared_fs: FileSystem, box_model: Path, weather: Path
) -> None:
    thin, thick = variants(box_model, 2)
    thick["Material"][0].thickness = 0.30
    for model in (thin, thick):  # a week, not a year: the race is in publishing
        model["RunPeriod"][0].end_month = 1
        model["RunPeriod"][0].end_day_of_month = 7
    by_hash = {hashlib.sha256(write_idf(m).encode()).hexdigest(): m for m in (thin, thick)}
    tally = Counter[str]()
    for trial in range(TWO_WRITER_TRIALS):
        out = f"shared-{trial}"
        barrier = threading.Barrier(2)

        def write(
            model: Any, out: str = out, barrier: threading.Barrier = barrier
        ) -> SimulationResult | ConcurrentRunError:
            barrier.wait()
            try:
                return simulate(model, weather, output_dir=out, fs=shared_fs)
            except ConcurrentRunError as exc:
                return exc

        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(write, [thin, thick]))
        won = [o for o in outcomes if isinstance(o, SimulationResult)]
        lost = [o for o in outcomes if isinstance(o, ConcurrentRunError)]
        assert len(won) == 1 and len(lost) == 1, outcomes  # never both
        [winner], [loser] = won, lost
        assert winner.manifest is not None
        assert loser.other_run_id == winner.manifest.run_id  # the error names the other run
        assert loser.other_host and loser.other_started_at
        # What a reader sees: the winner's complete run, deep-verified, or incomplete.
        seen = outcome_of(shared_fs, out)
        if seen == "succeeded":
            stored = SimulationResult.from_directory(out, fs=shared_fs)
            try:
                stored.verify(deep=True)
            except IncompleteResultError:
                seen = "incomplete (files of the losing run)"
            else:
                assert stored.manifest is not None
                assert stored.manifest.run_id == winner.manifest.run_id
                model = by_hash[stored.manifest.model.sha256]
                stored_model = load_idf(stored.local_path("model.idf"))
                assert stored_model["Material"][0].thickness == model["Material"][0].thickness
        tally[seen] += 1
    print(f"\ntwo writers x {TWO_WRITER_TRIALS} on {shared_fs!r}: one success each; {dict(tally)}")
    assert set(tally) <= {"succeeded", "incomplete (files of the losing run)"}


# -- secrets ------------------------------------------------------------------------------


def test_secrets_stay_out_of_debug_logs_and_errors(
    moto_server: LocalS3Server, caplog: pytest.LogCaptureFixture
) -> None:
    secret, token = "very-secret-key-value-42", "very-secret-session-token-42"
    moto_server.filesystem("secrets-bucket")
    fs = S3FileSystem(
        "secrets-bucket",
        endpoint_url=moto_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIATESTINGKEYID",
        aws_secret_access_key=secret,
        aws_session_token=token,
    )
    with caplog.at_level(logging.DEBUG):
        fs.write_bytes("a.txt", b"1")
        fs.read_bytes("a.txt")
        messages = []
        for action in (lambda: fs.read_bytes("missing.txt"), lambda: fs.remove("missing")):
            with pytest.raises(FileNotFoundError, match="missing") as info:
                action()
            messages.append(str(info.value))
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "s3://secrets-bucket/a.txt" in logged
    for text in (logged, *messages, repr(fs)):
        assert secret not in text
        assert token not in text


def test_refreshed_credentials_stay_out_of_debug_logs(
    moto_server: LocalS3Server, caplog: pytest.LogCaptureFixture
) -> None:
    """Role credentials (Batch, ECS, AssumeRole, SSO) change under a live client."""
    from datetime import UTC, datetime, timedelta

    import boto3
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    moto_server.filesystem("refreshing-bucket")
    handed_out: list[str] = []

    def refresh() -> dict[str, str]:
        n = len(handed_out)
        handed_out.append(f"FwoGZXIvYXdzEJr-refreshed-token-{n:04d}-Zm9vYmFy")
        handed_out.append(f"wJalrXUtnFEMI-refreshed-secret-{n:04d}-EXAMPLEKEY")
        # Expiring within the mandatory refresh window: every request refreshes.
        expiry = datetime.now(UTC) + timedelta(seconds=60)
        return {
            "access_key": f"ASIAREFRESHED{n:04d}",
            "secret_key": handed_out[-1],
            "token": handed_out[-2],
            "expiry_time": expiry.isoformat(),
        }

    core = botocore.session.get_session()
    core._credentials = RefreshableCredentials.create_from_metadata(
        refresh(), refresh_using=refresh, method="sts-assume-role"
    )
    fs = S3FileSystem(
        "refreshing-bucket",
        endpoint_url=moto_server.endpoint_url,
        region_name="us-east-1",
        session=boto3.Session(botocore_session=core),
    )
    with caplog.at_level(logging.DEBUG):
        fs.write_bytes("a.txt", b"1")
        assert fs.read_bytes("a.txt") == b"1"
        fs.glob("", "*")
        with pytest.raises(FileNotFoundError):
            fs.read_bytes("missing.txt")
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert len(handed_out) >= 8  # several refreshes happened after the client was built
    assert "x-amz-security-token" in logged.lower()  # the header was logged, blanked
    for secret in handed_out:
        assert secret not in logged
    assert "Signature=***" in logged


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("<SessionToken>IQoJb3JpZ2luX2Vj/abc+def==</SessionToken>", "IQoJb3JpZ2luX2Vj/abc+def=="),
        ('{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"}', "wJalrXUtnFEMI/K7MDENG"),
        ("'SessionToken': 'FwoGZXIvYXdzEJr'", "FwoGZXIvYXdzEJr"),
        ("GET /b/k?X-Amz-Security-Token=abc%2Fdef&X-Amz-Signature=0123456789abcdef00", "abc%2Fdef"),
        ("Signature:\n9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86d0"),
        ("{'SSECustomerKey': 'c2VjcmV0LWtleS0zMi1ieXRlcw=='}", "c2VjcmV0LWtleS0zMi1ieXRlcw=="),
    ],
)
def test_secret_fields_are_blanked_by_name(line: str, secret: str) -> None:
    from idfkit.simulation.fs._redact import Redactor

    record = logging.LogRecord("botocore.parsers", logging.DEBUG, __file__, 1, "%s", (line,), None)
    Redactor().filter(record)
    assert secret not in record.getMessage()
    assert "***" in record.getMessage()
