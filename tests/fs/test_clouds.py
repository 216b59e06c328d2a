"""Azure Blob and Cloud Storage wherever S3 works: URLs, the CLI, studies, Dask, missing extras."""

from __future__ import annotations

import base64
import os
import pickle
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from idfkit.simulation import AzureBlobFileSystem, GCSFileSystem, SimulationResult
from idfkit.simulation.cli import INDEX_VARIABLES
from idfkit.simulation.cli import main as cli
from idfkit.simulation.study import collect_results, run_study_job, write_study
from idfkit.simulation.testing import free_port
from idfkit.simulation.url import filesystem_from_url
from tests.emulators import AZURITE_ACCOUNT, AZURITE_KEY, Azurite, FakeGcs, unique_container
from tests.study.test_study import box_jobs

#: The two emulated clouds as parameters: each case starts its emulator (Azurite, fake-gcs-server).
CLOUDS = [pytest.param(scheme, marks=pytest.mark.server) for scheme in ("az", "gs")]


@pytest.fixture(params=CLOUDS)
def cloud(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """A fresh container on one emulator, reached as a URL through the cloud's own variables."""
    if request.param == "az":
        azurite: Azurite = request.getfixturevalue("azurite")
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
        fs = azurite.filesystem()
    else:
        fake_gcs: FakeGcs = request.getfixturevalue("fake_gcs")
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs.host)
        fs = fake_gcs.filesystem()
    return f"{request.param}://{fs.container}", fs


def test_urls_name_the_new_clouds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    az = filesystem_from_url("az://results/study-7/")
    assert isinstance(az, AzureBlobFileSystem)
    assert (az.container, az.prefix) == ("results", "study-7/")
    assert az.url("case-1/eplus.sql") == "az://results/study-7/case-1/eplus.sql"
    gs = filesystem_from_url("gs://results/study-7")
    assert isinstance(gs, GCSFileSystem)
    assert (gs.bucket, gs.prefix, gs.endpoint_url) == ("results", "study-7/", "http://127.0.0.1:9")
    for bad, word in (("az://", "container"), ("gs://", "bucket"), ("az:/", "container")):
        with pytest.raises(ValueError, match=word):
            filesystem_from_url(bad)
    with pytest.raises(ValueError, match="container name"):
        filesystem_from_url("az://Bad_Name/x")


def test_cli_run_and_ls_on_each_cloud(
    cloud: tuple[str, Any], box_model: Path, weather: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, fs = cloud
    assert cli(["run", str(box_model), str(weather), "--output", f"{root}/batch-1/run-001"]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert cli(["ls", f"{root}/batch-1/run-001", "--pattern", "*.sql"]) == 0
    assert capsys.readouterr().out.split() == ["eplus.sql"]
    result = SimulationResult.from_directory("batch-1/run-001", fs=fs)
    assert result.success
    assert len(result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 8760  # type: ignore[union-attr]
    # A container that is not there is storage trouble (3), named as typed.
    missing = f"{root[:5]}{unique_container()}/study"
    assert cli(["ls", missing]) == 3
    err = capsys.readouterr().err
    assert "does not exist" in err and "FileSystem(" not in err, err


@pytest.mark.parametrize("variable", ["SLURM_ARRAY_TASK_ID", "CLOUD_RUN_TASK_INDEX"])
def test_worker_takes_its_index_from_slurm_and_cloud_run(
    variable: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert variable in INDEX_VARIABLES
    for name in INDEX_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "7")
    # The index is read before the study: a study that is not there says so after it.
    code = cli(["worker", "--study", "no-such-study"])
    err = capsys.readouterr().err
    assert code == 2 and "no-such-study" in err, err
    monkeypatch.setenv(variable, "seven")
    assert cli(["worker", "--study", "no-such-study"]) == 2
    assert f"{variable}='seven' is not a job index" in capsys.readouterr().err


def test_a_cloud_run_worker_runs_its_job_from_cloud_storage(
    cloud: tuple[str, Any], box_model: Path, weather: Path
) -> None:
    root, fs = cloud
    write_study(box_jobs(box_model, weather, 2), fs, "study")
    env = {k: v for k, v in os.environ.items() if k not in INDEX_VARIABLES}
    env["CLOUD_RUN_TASK_INDEX"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "idfkit.simulation", "worker", "--study", f"{root}/study"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "job 1 (case-1)" in done.stdout
    collected = collect_results(fs, "study")
    assert [row.status for row in collected.rows] == ["missing", "succeeded"]


@pytest.mark.parametrize("scheme", ["az", "gs"])
def test_a_missing_extra_is_one_line_naming_it(scheme: str, tmp_path: Path) -> None:
    blocked = {"az": "azure", "gs": "google"}[scheme]
    script = textwrap.dedent(
        f"""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == {blocked!r} or name.startswith({blocked!r} + "."):
                    raise ModuleNotFoundError(name)
                return None

        sys.meta_path.insert(0, Block())
        from idfkit.simulation.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"}
    done = subprocess.run(
        [sys.executable, "-c", script, "ls", f"{scheme}://results/study"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    package = {"az": "azure-storage-blob", "gs": "google-cloud-storage"}[scheme]
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("idfkit-sim ls: ") and lines[0].endswith(f"pip install {package}")


def _run_job(fs: Any, index: int) -> tuple[int, str, bool]:
    outcome = run_study_job(fs, index, "study")
    return os.getpid(), outcome.action, outcome.success


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dask_local_cluster_runs_a_study_on_each_cloud(
    cloud: tuple[str, Any], box_model: Path, weather: Path, dask_client: Any
) -> None:
    _, fs = cloud
    write_study(box_jobs(box_model, weather, 3), fs, "study")
    # The backend travels pickled to each worker process, which makes its own client.
    done = dask_client.gather(dask_client.map(_run_job, [fs] * 3, range(3), pure=False))
    assert [(action, ok) for _, action, ok in done] == [("ran", True)] * 3
    assert os.getpid() not in {pid for pid, _, _ in done}
    collected = collect_results(fs, "study")
    assert collected.all_succeeded, collected.counts()
    for row in collected.rows:
        result = SimulationResult.from_directory(f"study/{row.output_dir}", fs=fs)
        ts = result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")  # type: ignore[union-attr]
        assert len(ts) == 8760


def test_the_demo_runs_its_study_on_each_cloud(
    cloud: tuple[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, fs = cloud
    plot = tmp_path / "demo.png"
    code = cli(["demo", f"{root}/idfkit-demo", "--variants", "2", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"Study location: {root}/idfkit-demo" in out
    assert "2 succeeded" in out
    assert collect_results(fs, "idfkit-demo").all_succeeded


@pytest.mark.parametrize("scheme", CLOUDS)
def test_large_files_go_in_parallel_pieces_and_come_back_whole(
    scheme: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from idfkit.simulation.fs.base import download_file, file_info, upload_file

    piece = 256 * 1024
    options = {"multipart_threshold": 2 * piece, "block_size": piece, "max_concurrency": 4}
    if scheme == "az":
        fs = request.getfixturevalue("azurite").filesystem(prefix="big/", **options)
    else:
        fs = request.getfixturevalue("fake_gcs").filesystem(prefix="big/", **options)
    source = tmp_path / "eplusout.sql"
    source.write_bytes(os.urandom(9 * piece + 12345))  # ten pieces, the last one short
    digest = upload_file(fs, source, "run/eplusout.sql")
    info = file_info(fs, "run/eplusout.sql")
    assert info is not None
    assert (info.size, info.sha256) == (source.stat().st_size, digest)
    back = tmp_path / "back.sql"
    download_file(fs, "run/eplusout.sql", back)
    assert back.read_bytes() == source.read_bytes()
    assert fs.read_bytes("run/eplusout.sql") == source.read_bytes()
    exact = tmp_path / "exact.bin"  # exactly one piece: the first request reads all of it
    exact.write_bytes(os.urandom(piece))
    upload_file(fs, exact, "run/exact.bin")
    assert fs.read_bytes("run/exact.bin") == exact.read_bytes()


def _on(scheme: str, request: pytest.FixtureRequest, container: str, **options: Any) -> Any:
    """A backend on an emulator's container that may not exist."""
    if scheme == "az":
        azurite: Azurite = request.getfixturevalue("azurite")
        return AzureBlobFileSystem(
            container, connection_string=azurite.connection_string, max_attempts=1, **options
        )
    fake_gcs: FakeGcs = request.getfixturevalue("fake_gcs")
    return GCSFileSystem(container, endpoint_url=fake_gcs.host, retry_timeout=2, **options)


@pytest.mark.parametrize("scheme", CLOUDS)
def test_a_missing_container_is_named_before_energyplus_runs(
    scheme: str, request: pytest.FixtureRequest, box_model: Path, weather: Path
) -> None:
    from idfkit.simulation import simulate
    from idfkit.simulation.exceptions import BucketNotFoundError

    name = unique_container()
    fs = _on(scheme, request, name)
    started = time.monotonic()
    with pytest.raises(BucketNotFoundError, match=name):
        simulate(box_model, weather, output_dir="run", fs=fs)
    assert time.monotonic() - started < 5  # refused before EnergyPlus ran
    for action in (
        lambda: fs.read_bytes("x"),
        lambda: fs.exists("x"),
        lambda: fs.write_bytes("x", b"1"),
        lambda: fs.glob("", "*"),
        lambda: fs.version("x"),
    ):
        with pytest.raises(BucketNotFoundError, match=name):
            action()


def test_wrong_azure_key_is_a_permission_error(azurite: Azurite) -> None:
    good = azurite.filesystem()
    good.write_bytes("f", b"1")
    wrong = azurite.connection_string.replace(AZURITE_KEY, base64.b64encode(b"x" * 64).decode())
    bad = AzureBlobFileSystem(good.container, connection_string=wrong, max_attempts=1)
    for action in (
        lambda: bad.read_bytes("f"),
        lambda: bad.write_bytes("g", b"2"),
        lambda: bad.exists("f"),
    ):
        with pytest.raises(PermissionError, match="access denied"):
            action()


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["az", "gs"])
def test_a_refused_endpoint_fails_fast_and_names_it(scheme: str) -> None:
    from idfkit.simulation.exceptions import StorageConnectionError

    endpoint = f"http://127.0.0.1:{free_port()}"
    if scheme == "az":
        fs: Any = AzureBlobFileSystem(
            "any-container",
            connection_string=(
                f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
                f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint}/{AZURITE_ACCOUNT};"
            ),
            max_attempts=2,
            connect_timeout=1,
        )
    else:
        fs = GCSFileSystem("any-bucket", endpoint_url=endpoint, retry_timeout=3, connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(StorageConnectionError, match=re.escape(endpoint)) as info:
        fs.read_bytes("x")
    assert time.monotonic() - started < 30
    assert isinstance(info.value, ConnectionError)


def test_repr_and_pickle_keep_secrets_out_of_sight() -> None:
    secret = base64.b64encode(b"not-a-real-key-" * 4).decode()
    fs = AzureBlobFileSystem(
        "results",
        "p/",
        connection_string=f"AccountName=acct;AccountKey={secret};EndpointSuffix=core.windows.net",
    )
    for text in (repr(fs), str(fs)):
        assert secret not in text
        assert "acct.blob.core.windows.net" in text
    clone = pickle.loads(pickle.dumps(fs))
    assert (clone.container, clone.prefix) == ("results", "p/")
    assert secret not in repr(clone.__dict__)  # kept as a SecretStr
    gcs = pickle.loads(pickle.dumps(GCSFileSystem("results", "p/", endpoint_url="http://h:1")))
    assert (gcs.bucket, gcs.prefix, gcs.endpoint_url) == ("results", "p/", "http://h:1")
