"""Every code sample of spec/cloud-storage.md, run as written against S3 on loopback.

The samples name no endpoint, so boto3 is pointed at moto's HTTP server
through ``AWS_ENDPOINT_URL``, exactly as a user would point it at MinIO.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import boto3
import pytest

from idfkit import IDFDocument, SimulationError, load_idf
from idfkit.simulation import (
    EnergyPlusConfig,
    FileSystem,
    LocalFileSystem,
    S3FileSystem,
    SimulationJob,
    SimulationResult,
    simulate,
    simulate_batch,
)
from idfkit.simulation.testing import LocalS3Server
from tests.helpers import count_requests


@pytest.fixture
def endpoint(moto_server: LocalS3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty moto server that boto3 reaches by default, with the page's buckets."""
    request = urllib.request.Request(f"{moto_server.endpoint_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in ["my-simulations", "simulations", "my-bucket", "local-bucket", "test-bucket"]:
        s3.create_bucket(Bucket=bucket)
    return moto_server.endpoint_url


@pytest.fixture
def model(box_model: Path) -> IDFDocument:
    return load_idf(box_model)


def keys(bucket: str, prefix: str = "") -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_local_filesystem_is_the_default(model: IDFDocument, weather: Path) -> None:
    fs = LocalFileSystem()  # This is the default
    result = simulate(model, weather)  # Implicitly uses LocalFileSystem
    assert isinstance(fs, FileSystem)
    assert result.success
    assert isinstance(result.run_dir, Path)
    assert (result.run_dir / "eplus.sql").is_file()


def test_s3_filesystem_sample(endpoint: str, model: IDFDocument, weather: Path) -> None:
    fs = S3FileSystem(
        bucket="my-simulations",
        prefix="batch-42/",
    )

    result = simulate(model, weather, output_dir="run-001", fs=fs)

    assert result.success
    stored = keys("my-simulations")
    assert "batch-42/run-001/eplus.sql" in stored
    assert "batch-42/run-001/idfkit-manifest.json" in stored
    assert all(k.startswith("batch-42/run-001/") for k in stored)
    assert not any(k.endswith(".epw") for k in stored)  # weather is not copied per case


def test_cloud_workflow_three_steps(endpoint: str, model: IDFDocument, weather: Path) -> None:
    variants = []
    for thickness in ["0.05", "0.10", "0.20"]:
        variant = model.copy()
        variant["Material"][0].thickness = float(thickness)
        variants.append(variant)

    # 1. Local preparation
    fs = S3FileSystem(bucket="simulations", prefix="study-001/")
    fs.write_bytes("weather.epw", weather.read_bytes())  # a weather path on the backend

    jobs = [
        SimulationJob(
            model=variant,
            weather="weather.epw",
            label=f"case-{i}",
            output_dir=f"case-{i}",
            fs=fs,
        )
        for i, variant in enumerate(variants)
    ]
    batch = simulate_batch(jobs, max_workers=2)
    assert batch.all_succeeded, batch.summary()

    # 2. Cloud execution (one worker's view)
    fs = S3FileSystem(bucket="simulations", prefix="study-001/")
    result = simulate(model, weather, output_dir="case-42", fs=fs)
    assert result.success

    # 3. Result collection, from a fresh object as on another machine
    fs = S3FileSystem(bucket="simulations", prefix="study-001/")

    # Reconstruct result from S3
    result = SimulationResult.from_directory("case-42", fs=fs)

    # Query data (transparently reads from S3)
    ts = result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")  # type: ignore[union-attr]
    assert len(ts) == 8760

    # Thicker insulation needs less heating: the variants really differ.
    heating = [
        sum(
            SimulationResult.from_directory(f"case-{i}", fs=fs)
            .sql.get_timeseries("Zone Ideal Loads Zone Total Heating Energy")  # type: ignore[union-attr]
            .values
        )
        for i in range(3)
    ]
    assert heating[0] > heating[1] > heating[2]


def test_authentication_samples(endpoint: str) -> None:
    # IAM role (recommended for cloud): here, the environment's credentials
    fs = S3FileSystem(bucket="my-bucket")
    fs.write_text("hello.txt", "hi")
    assert fs.read_text("hello.txt") == "hi"

    # Explicit credentials (for testing)
    fs = S3FileSystem(
        bucket="my-bucket",
        aws_access_key_id="AKIA...",
        aws_secret_access_key="...",
    )
    assert fs.read_text("hello.txt") == "hi"


def test_s3_compatible_service_samples(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    # MinIO (the page's localhost:9000 is this loopback server)
    fs = S3FileSystem(
        bucket="local-bucket",
        endpoint_url=endpoint,
        aws_access_key_id="minioadmin",
        aws_secret_access_key="minioadmin",
    )
    fs.write_bytes("a.bin", b"minio")
    assert fs.read_bytes("a.bin") == b"minio"

    # LocalStack (the page's localhost:4566 is this loopback server)
    fs = S3FileSystem(
        bucket="test-bucket",
        endpoint_url=endpoint,
        region_name="us-east-1",
    )
    fs.write_bytes("b.bin", b"localstack")
    assert fs.glob("", "*.bin") == ["b.bin"]


def test_key_prefix_sample(endpoint: str, model: IDFDocument, weather: Path) -> None:
    # All files stored under "project-x/batch-42/"
    fs = S3FileSystem(
        bucket="simulations",
        prefix="project-x/batch-42/",
    )
    simulate(model, weather, output_dir="run-001", fs=fs)
    # output_dir="run-001" → s3://simulations/project-x/batch-42/run-001/
    stored = keys("simulations")
    assert stored
    assert all(k.startswith("project-x/batch-42/run-001/") for k in stored)
    assert fs.url("run-001") == "s3://simulations/project-x/batch-42/run-001"


def test_lazy_loading_sample(endpoint: str, model: IDFDocument, weather: Path) -> None:
    s3_fs = S3FileSystem(bucket="simulations")
    simulate(model, weather, output_dir="run-001", fs=s3_fs)

    reader = S3FileSystem(bucket="simulations")
    with count_requests(reader) as sent:
        result = SimulationResult.from_directory("run-001", fs=reader)
        # Nothing downloaded yet
        assert sent["total"] == 0
        # Downloads only the SQLite file (and the small manifest that vouches for it)
        ts = result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")  # type: ignore[union-attr]
        assert len(ts) == 8760
        assert sent["total"] == 2
        assert sent["GetObject"] == 2
        result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")  # type: ignore[union-attr]
        assert sent["total"] == 2

        # A new result in the same process reads the manifest, not the SQLite file again.
        again = SimulationResult.from_directory("run-001", fs=reader)
        assert len(again.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 8760  # type: ignore[union-attr]
        assert sent["total"] == 3


def test_local_caching_sample(endpoint: str, model: IDFDocument, weather: Path) -> None:
    import shutil  # noqa: F401 - imported by the page's sample
    import tempfile

    s3_fs = S3FileSystem(bucket="simulations")
    simulate(model, weather, output_dir="run-001", fs=s3_fs)

    # Download entire result directory
    with tempfile.TemporaryDirectory() as tmp:
        # Copy from S3 to local
        for path in s3_fs.glob("run-001", "*"):
            data = s3_fs.read_bytes(path)
            local_path = Path(tmp) / Path(path).name
            local_path.write_bytes(data)

        # Use local result
        result = SimulationResult.from_directory(tmp)
        # Multiple queries without network calls
        assert result.success
        assert len(result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 8760  # type: ignore[union-attr]
        result.close()


def test_energyplus_runs_locally_and_temp_dirs_are_removed(
    endpoint: str,
    model: IDFDocument,
    weather: Path,
    rejected_model: Path,
    energyplus: EnergyPlusConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    fs = S3FileSystem(bucket="simulations")
    assert simulate(model, weather, output_dir="ok", fs=fs).success
    assert not simulate(rejected_model, weather, output_dir="bad", fs=fs).success
    with pytest.raises(Exception, match="did not finish"):
        simulate(model, weather, output_dir="slow", fs=fs, timeout=0.1)
    with pytest.raises(SimulationError, match="progress callback raised") as failed:
        simulate(model, weather, output_dir="boom", fs=fs, on_progress=lambda line: 1 / 0)
    assert isinstance(failed.value.__cause__, ZeroDivisionError)
    assert list(scratch.iterdir()) == []
