"""Shared fixtures: the real engine, the shipped models, and S3 servers on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Never reach for real AWS credentials or the instance metadata service.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)

# A suite started in the background (`nox ... &` in a script) inherits Ctrl-C ignored, and so
# would every process it starts: the Ctrl-C tests need it as a terminal delivers it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

from idfkit.simulation import EnergyPlusConfig, find_energyplus
from idfkit.simulation.examples import example_model
from idfkit.simulation.fs.s3 import S3FileSystem
from idfkit.simulation.testing import LocalS3Server, atomic_moto_puts, free_port, stop_process

# The in-process mocks (mock_aws) race conditional writes as moto's server would.
atomic_moto_puts()

DATA = Path(__file__).parent / "data"
S3RVER_BIN = Path(__file__).parent / "s3rver" / "node_modules" / ".bin" / "s3rver"


@pytest.fixture(scope="session")
def energyplus() -> EnergyPlusConfig:
    return find_energyplus()


@pytest.fixture(scope="session")
def weather(energyplus: EnergyPlusConfig) -> Path:
    return energyplus.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"


@pytest.fixture(scope="session")
def box_model() -> Path:
    return example_model("box")


@pytest.fixture(scope="session")
def two_zone_model() -> Path:
    return example_model("two_zone")


@pytest.fixture(scope="session")
def rejected_model() -> Path:
    return DATA / "rejected.idf"


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test downloads into its own cache, so no test sees another's files."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("IDFKIT_CACHE_DIR", str(folder))
    return folder


def unique_bucket() -> str:
    return f"test-{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalS3Server]:
    with LocalS3Server() as server:
        yield server


@pytest.fixture
def moto_server_fs(moto_server: LocalS3Server) -> S3FileSystem:
    """A fresh bucket on moto's HTTP server."""
    return moto_server.filesystem(unique_bucket(), max_attempts=2)


class S3rver:
    """The s3rver npm package: an S3 server written apart from moto."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(S3RVER_BIN), "-d", str(data_dir), "-a", "127.0.0.1", "-p", str(self.port), "-s"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.endpoint_url, timeout=2).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"s3rver did not start on {self.endpoint_url}")

    def filesystem(self, bucket: str, prefix: str = "", **kwargs: object) -> S3FileSystem:
        fs = S3FileSystem(
            bucket,
            prefix,
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="S3RVER",
            aws_secret_access_key="S3RVER",
            **kwargs,  # type: ignore[arg-type]
        )
        fs.client.create_bucket(Bucket=bucket)
        return fs

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3rver]:
    if not S3RVER_BIN.exists() or shutil.which("node") is None:
        message = "s3rver is not installed: run `npm ci --prefix tests/s3rver` (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = S3rver(tmp_path_factory.mktemp("s3rver"))
    yield server
    server.stop()


@pytest.fixture
def s3rver_fs(s3rver: S3rver) -> S3FileSystem:
    return s3rver.filesystem(unique_bucket(), max_attempts=2)


@pytest.fixture
def dask_client() -> Iterator[Any]:
    """A Dask client of a two-process `distributed.LocalCluster` on loopback."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: None still takes 8787 here
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


from tests.emulators import azurite, fake_gcs  # noqa: E402,F401  (fixtures for Azure and GCS)

#: Markers given by the fixtures a test uses (directly or through other fixtures), so that a
#: new test is marked by what it needs, not by remembering to: ``-m "not energyplus"`` and
#: ``nox -s tests_fast`` rely on them. A test that asks for one of these at run time
#: (``request.getfixturevalue``) marks that case: ``pytest.param(..., marks=pytest.mark.server)``.
MARKING_FIXTURES: dict[str, tuple[str, ...]] = {
    "energyplus": ("energyplus",),  # also every fixture built on it (weather, runs, ...)
    "moto_server": ("server",),
    "s3rver": ("server", "s3rver"),
    "azurite": ("server",),
    "fake_gcs": ("server",),
    "slurm": ("server", "slurm"),  # tests/study/test_slurm.py's one-node cluster
    "dask_client": ("server",),  # worker processes of a local Dask cluster
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, markers in MARKING_FIXTURES.items():
            if fixture in used:
                for marker in markers:
                    item.add_marker(marker)
