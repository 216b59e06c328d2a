"""simulate() and SimulationResult through S3: integrity, caching and bad input."""

from __future__ import annotations

import pickle
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from idfkit import load_idf
from idfkit.simulation import (
    BucketNotFoundError,
    EnergyPlusConfig,
    IncompleteResultError,
    MemoryFileSystem,
    ResultNotFoundError,
    S3FileSystem,
    SimulationResult,
    StorageConnectionError,
    simulate,
)
from idfkit.simulation.fs.base import join
from idfkit.simulation.manifest import MANIFEST_NAME
from idfkit.simulation.testing import free_port
from tests.conftest import S3rver, unique_bucket
from tests.helpers import count_requests


@pytest.fixture(scope="module")
def published(
    moto_server: Any, box_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> S3FileSystem:
    """One real run published to a bucket on moto's server, under case-1/."""
    fs: S3FileSystem = moto_server.filesystem(unique_bucket(), prefix="study/")
    simulate(box_model, weather, output_dir="case-1", fs=fs, energyplus=energyplus)
    return fs


def copy_run(fs: S3FileSystem, src: str, dst: str) -> None:
    for path in fs.glob(src, "*"):
        fs.copy(path, join(dst, path.rsplit("/", 1)[-1]))


def test_from_directory_reads_manifest_facts(published: S3FileSystem) -> None:
    result = SimulationResult.from_directory("case-1", fs=published)
    assert result.success is True
    assert result.exit_code == 0
    assert result.runtime_seconds is not None and result.runtime_seconds > 0
    manifest = result.manifest
    assert manifest is not None
    assert manifest.energyplus_version.startswith("25.2")
    assert manifest.weather is not None and manifest.weather.name.endswith(".epw")
    assert {f.name for f in manifest.files} >= {"eplus.sql", "eplus.err", "model.idf"}
    result.verify(deep=True)


def test_errors_fetch_only_the_err_file(published: S3FileSystem) -> None:
    reader = pickle.loads(pickle.dumps(published))
    with count_requests(reader) as sent:
        report = SimulationResult.from_directory("case-1", fs=reader).errors
    assert report.completed_successfully
    assert sent["GetObject"] == 2  # the manifest and the .err file
    assert sent["total"] == 2


def test_missing_directory_is_file_not_found(published: S3FileSystem) -> None:
    result = SimulationResult.from_directory("no-such-case", fs=published)
    with pytest.raises(ResultNotFoundError, match="no-such-case"):
        _ = result.success
    with pytest.raises(FileNotFoundError):
        _ = result.sql


def test_corrupted_object_is_detected_never_parsed(published: S3FileSystem) -> None:
    copy_run(published, "case-1", "corrupt")
    published.write_bytes("corrupt/eplus.sql", b"SQLite format 3\x00 but not really")
    result = SimulationResult.from_directory("corrupt", fs=published)
    assert result.success  # the run succeeded; what is stored now does not match it
    with pytest.raises(IncompleteResultError, match="differs from its manifest"):
        _ = result.sql
    with pytest.raises(IncompleteResultError, match=r"eplus\.sql"):
        result.verify()


def test_missing_listed_file_is_incomplete(published: S3FileSystem) -> None:
    copy_run(published, "case-1", "partial")
    published.remove("partial/eplus.sql")
    result = SimulationResult.from_directory("partial", fs=published)
    with pytest.raises(IncompleteResultError, match="missing"):
        _ = result.sql
    with pytest.raises(IncompleteResultError, match=r"eplus\.sql: missing"):
        result.verify()


def test_changed_object_is_downloaded_again(
    published: S3FileSystem, box_model: Path, weather: Path
) -> None:
    copy_run(published, "case-1", "rerun")
    heating = "Zone Ideal Loads Zone Total Heating Energy"
    first = SimulationResult.from_directory("rerun", fs=published)
    before = sum(first.sql.get_timeseries(heating).values)  # type: ignore[union-attr]
    thicker = load_idf(box_model)
    thicker["Material"][0].thickness = 0.3
    assert simulate(thicker, weather, output_dir="rerun", fs=published).success
    with count_requests(published) as sent:
        second = SimulationResult.from_directory("rerun", fs=published)
        after = sum(second.sql.get_timeseries(heating).values)  # type: ignore[union-attr]
    assert after < before * 0.9  # the new run's file, not the cached old one
    assert sent["GetObject"] == 2  # the new manifest and the new SQLite file


def test_plain_energyplus_directory_without_manifest(published: S3FileSystem) -> None:
    copy_run(published, "case-1", "plain")
    published.remove(f"plain/{MANIFEST_NAME}")
    result = SimulationResult.from_directory("plain", fs=published)
    assert result.manifest is None
    assert result.success is True  # inferred from the .err file
    assert result.exit_code == 0  # the .err says it completed (idfkit reports 0 too)
    assert len(result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 8760  # type: ignore[union-attr]


def test_weather_on_the_backend(published: S3FileSystem, box_model: Path, weather: Path) -> None:
    published.write_bytes("inputs/chicago.epw", weather.read_bytes())
    result = simulate(box_model, "inputs/chicago.epw", output_dir="remote-weather", fs=published)
    assert result.success
    assert result.manifest is not None and result.manifest.weather is not None
    assert result.manifest.weather.name == "chicago.epw"
    assert published.glob("remote-weather", "*.epw") == []
    with pytest.raises(FileNotFoundError, match=r"nowhere\.epw.*nor on"):
        simulate(box_model, "nowhere.epw", output_dir="x", fs=published)


@pytest.mark.parametrize("output_dir", [None, "", "   /  ", "../escape", "/abs/path"])
def test_bad_output_dir_is_refused(
    published: S3FileSystem, box_model: Path, weather: Path, output_dir: Any
) -> None:
    with pytest.raises(ValueError, match=r"output_dir|path"):
        simulate(box_model, weather, output_dir=output_dir, fs=published)


def test_missing_bucket_is_named(moto_server: Any, box_model: Path, weather: Path) -> None:
    fs = moto_server.filesystem("no-such-bucket-here", create=False)
    started = time.monotonic()
    with pytest.raises(BucketNotFoundError, match="no-such-bucket-here"):
        simulate(box_model, weather, output_dir="run", fs=fs)
    assert time.monotonic() - started < 5  # refused before EnergyPlus ran
    with pytest.raises(FileNotFoundError, match="no-such-bucket-here"):
        fs.read_bytes("x")


def test_wrong_credentials_are_permission_errors(s3rver: S3rver) -> None:
    good = s3rver.filesystem(unique_bucket())
    good.write_bytes("f", b"1")
    bad = S3FileSystem(
        good.bucket,
        endpoint_url=s3rver.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="NOT-S3RVER",  # s3rver checks the key id (not the signature)
        aws_secret_access_key="not-the-secret",
        max_attempts=1,
    )
    with pytest.raises(PermissionError, match="InvalidAccessKeyId"):
        bad.read_bytes("f")
    with pytest.raises(PermissionError):
        bad.write_bytes("g", b"2")
    with pytest.raises(PermissionError):
        bad.exists("f")


def test_a_managed_upload_error_is_mapped_by_the_client_error_it_wraps(
    moto_server: Any, s3rver: S3rver, tmp_path: Path
) -> None:
    """boto3's upload_file raises S3UploadFailedError while handling the request's
    ClientError (its __context__); that ClientError goes through the one error table."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError

    local = tmp_path / "f.bin"
    local.write_bytes(b"x")
    missing = moto_server.filesystem("no-such-bucket-for-uploads", create=False)
    with pytest.raises(S3UploadFailedError) as raw:
        missing.client.upload_file(str(local), missing.bucket, "f.bin")
    assert isinstance(raw.value.__context__, ClientError)
    with (
        pytest.raises(BucketNotFoundError, match="no-such-bucket-for-uploads") as mapped,
        missing._translate("upload to", "f.bin"),
    ):
        missing.client.upload_file(str(local), missing.bucket, "f.bin")
    assert isinstance(mapped.value.__cause__, S3UploadFailedError)

    bucket = s3rver.filesystem(unique_bucket()).bucket
    bad = S3FileSystem(
        bucket,
        endpoint_url=s3rver.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="NOT-S3RVER",  # s3rver checks the key id (not the signature)
        aws_secret_access_key="not-the-secret",
        max_attempts=1,
    )
    with (
        pytest.raises(PermissionError, match="InvalidAccessKeyId"),
        bad._translate("upload to", "f.bin"),
    ):
        bad.client.upload_file(str(local), bucket, "f.bin")


def test_refused_endpoint_fails_fast_and_names_it() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    fs = S3FileSystem("any-bucket", endpoint_url=endpoint, max_attempts=2, connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(StorageConnectionError, match=endpoint) as info:
        fs.read_bytes("x")
    assert time.monotonic() - started < 20
    assert isinstance(info.value, ConnectionError)


def test_an_endpoint_from_the_environment_is_the_one_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # botocore's own variable
    fs = S3FileSystem("any-bucket", max_attempts=1, connect_timeout=1)
    with pytest.raises(StorageConnectionError, match=f"cannot reach S3 endpoint {endpoint} "):
        fs.read_bytes("x")


class FailingUploads(MemoryFileSystem):
    """A real in-memory backend whose uploads of one name fail."""

    def __init__(self, failing_name: str) -> None:
        super().__init__()
        self.failing_name = failing_name

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        if str(path).endswith(self.failing_name):
            raise PermissionError(f"upload of {path} refused")
        super().write_bytes(path, data)


def test_failed_upload_never_reads_as_success(box_model: Path, weather: Path) -> None:
    fs = FailingUploads("eplus.sql")
    with pytest.raises(PermissionError, match=r"eplus\.sql"):
        simulate(box_model, weather, output_dir="run", fs=fs)
    assert fs.exists("run/eplus.err")  # other files made it
    result = SimulationResult.from_directory("run", fs=fs)
    with pytest.raises(IncompleteResultError, match="never finished publishing"):
        _ = result.success


def test_repr_and_pickle_keep_secrets_safe() -> None:
    fs = S3FileSystem(
        "my-bucket",
        "p/",
        aws_access_key_id="AKIAEXAMPLEKEY",
        aws_secret_access_key="super-secret-value",
        aws_session_token="session-token-value",
    )
    for text in (repr(fs), str(fs)):
        assert "super-secret-value" not in text
        assert "AKIAEXAMPLEKEY" not in text
        assert "session-token-value" not in text
    clone = pickle.loads(pickle.dumps(fs))
    assert clone.bucket == "my-bucket" and clone.prefix == "p/"
    assert clone.client.meta.region_name == fs.client.meta.region_name


def test_built_from_session_pickles_with_its_credentials() -> None:
    session = boto3.session.Session(
        aws_access_key_id="from-session", aws_secret_access_key="s", region_name="eu-west-1"
    )
    clone = pickle.loads(pickle.dumps(S3FileSystem("my-bucket", session=session)))
    assert clone.client.meta.region_name == "eu-west-1"
    creds = clone.client._request_signer._credentials  # checking what was carried
    assert creds.access_key == "from-session"


def test_built_from_client_says_why_it_cannot_pickle() -> None:
    client = boto3.client("s3", region_name="us-east-1")
    fs = S3FileSystem("my-bucket", client=client)
    assert fs.client is client
    with pytest.raises(TypeError, match="boto3 client"):
        pickle.dumps(fs)


def test_invalid_bucket_names_are_refused() -> None:
    for bad in ["", "UPPER", "a", "has_underscore", "-leading", "x" * 64, "two..dots"]:
        with pytest.raises(ValueError, match="bucket"):
            S3FileSystem(bad)
    with pytest.raises(ValueError, match="leaves the backend root"):
        S3FileSystem("ok-bucket", prefix="../up")


def test_retry_configuration() -> None:
    fs = S3FileSystem("my-bucket", retry_mode="adaptive", max_attempts=7)
    assert fs.client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 7}


def test_other_boto3_client_keywords_are_passed_on(moto_server: Any) -> None:
    """idfkit's `**boto_kwargs`: any boto3.client keyword, a Config merged over ours."""
    from botocore.config import Config

    from idfkit.simulation.fs import AsyncS3FileSystem

    bucket = unique_bucket()
    fs = S3FileSystem(
        bucket,
        "p",
        endpoint_url=moto_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        max_attempts=3,
        use_ssl=False,
        config=Config(user_agent_extra="study-42", read_timeout=7),
    )
    config = fs.client.meta.config
    assert (config.user_agent_extra, config.read_timeout) == ("study-42", 7)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    fs.client.create_bucket(Bucket=bucket)
    fs.write_text("a.txt", "hi")
    assert pickle.loads(pickle.dumps(fs)).read_text("a.txt") == "hi"
    assert AsyncS3FileSystem(bucket, "p", verify=False).sync._boto_kwargs == {"verify": False}


@pytest.mark.slow
def test_glob_paginates_past_a_thousand_keys() -> None:
    with mock_aws():
        bucket = unique_bucket()
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=bucket)
        for i in range(1_050):
            s3.put_object(Bucket=bucket, Key=f"pre/many/f{i:05d}.txt", Body=b"")
        fs = S3FileSystem(bucket, prefix="pre/", region_name="us-east-1")
        with count_requests(fs) as sent:
            found = fs.glob("many", "*.txt")
        assert len(found) == 1_050
        assert found[0] == "many/f00000.txt"
        assert sent["ListObjectsV2"] == 2


def test_large_files_use_multipart_upload(moto_server: Any, tmp_path: Path) -> None:
    fs = moto_server.filesystem(
        unique_bucket(), multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x01" * (12 * 1024 * 1024))
    with count_requests(fs) as sent:
        fs.put_file(big, "big.bin")
    assert sent["CreateMultipartUpload"] == 1
    assert sent["UploadPart"] == 3
    assert fs.stat("big.bin").size == 12 * 1024 * 1024
    assert fs.stat("big.bin").version.strip('"').endswith("-3")


@pytest.mark.parametrize(
    ("url", "prefix"),
    [
        ("s3://bucket-x/exp#2", "exp#2/"),
        ("s3://bucket-x/exp?v=2", "exp?v=2/"),
        ("s3://bucket-x/a%2Fb", "a%2Fb/"),
        ("s3://bucket-x/study 1/run", "study 1/run/"),
        ("s3://bucket-x", ""),
        ("s3://bucket-x/", ""),
    ],
)
def test_s3_urls_keep_their_key_verbatim(url: str, prefix: str) -> None:
    from idfkit.simulation.url import filesystem_from_url

    fs = filesystem_from_url(url, region_name="us-east-1")
    assert isinstance(fs, S3FileSystem)
    assert (fs.bucket, fs.prefix) == ("bucket-x", prefix)


@pytest.mark.parametrize("url", ["s3://", "s3:///prefix", "s3:", "s3://Bad_Bucket/x", "s3://b#x/y"])
def test_s3_urls_without_a_usable_bucket_are_refused(url: str) -> None:
    from idfkit.simulation.url import filesystem_from_url

    with pytest.raises(ValueError, match="bucket"):
        filesystem_from_url(url)


def test_keys_with_url_characters_round_trip(moto_server: Any) -> None:
    from idfkit.simulation.url import filesystem_from_url

    bucket = moto_server.filesystem(unique_bucket()).bucket
    fs = filesystem_from_url(f"s3://{bucket}/exp#2?v=%2F", endpoint_url=moto_server.endpoint_url)
    fs.write_bytes("run/out.txt", b"ok")
    raw = moto_server.filesystem(bucket, create=False)
    assert raw.read_bytes("exp#2?v=%2F/run/out.txt") == b"ok"
    assert fs.glob("", "*") == ["run"]


def test_only_the_size_limit_sends_a_copy_to_the_multipart_route(moto_server: Any) -> None:
    """One CopyObject per copy; the part-by-part copy only for S3's answer to a copy over 5 GB."""
    from botocore.exceptions import ClientError

    from idfkit.simulation.fs._s3_errors import too_large_to_copy_at_once

    def error(code: str, message: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, "CopyObject")

    limit = "The specified copy source is larger than the maximum allowable size for a copy source"
    assert too_large_to_copy_at_once(error("InvalidRequest", f"{limit}: 5368709120"))
    assert too_large_to_copy_at_once(error("EntityTooLarge", "too large"))
    assert not too_large_to_copy_at_once(error("InvalidRequest", "copy onto itself"))
    assert not too_large_to_copy_at_once(error("AccessDenied", limit))

    fs = moto_server.filesystem(unique_bucket())
    fs.write_bytes("a/x.bin", b"x" * 1000)
    with count_requests(fs) as seen:
        fs.copy("a/x.bin", "b/x.bin")
    assert fs.read_bytes("b/x.bin") == b"x" * 1000
    assert seen["CopyObject"] == 1 and "UploadPartCopy" not in seen
