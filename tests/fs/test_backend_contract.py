"""The contract suite, run against every built-in backend."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from idfkit.simulation import LocalFileSystem, MemoryFileSystem
from idfkit.simulation.fs.base import FileSystem
from idfkit.simulation.fs.fsspec import FsspecFileSystem
from idfkit.simulation.fs.s3 import S3FileSystem
from idfkit.simulation.testing import LocalS3Server, atomic_moto_puts
from idfkit.simulation.testing.contract import ConditionalWriteContract, FileSystemContract
from tests.conftest import S3rver, unique_bucket
from tests.emulators import Azurite, FakeGcs


def _local_foreign(fs: FileSystem, name: str) -> None:
    assert isinstance(fs, LocalFileSystem) and fs.root is not None
    target = fs.root / name  # deliberately past the path contract
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"foreign")


def _s3_foreign(fs: FileSystem, name: str) -> None:
    assert isinstance(fs, S3FileSystem)
    fs.client.put_object(Bucket=fs.bucket, Key=fs.prefix + name, Body=b"foreign")


def _fsspec_foreign(fs: FileSystem, name: str) -> None:
    assert isinstance(fs, FsspecFileSystem)
    fs.fs.pipe_file(f"{fs.root}/{name}", b"foreign")


class TestLocalFileSystem(FileSystemContract):
    put_foreign = staticmethod(_local_foreign)

    @pytest.fixture
    def fs(self, tmp_path: Path) -> LocalFileSystem:
        return LocalFileSystem(tmp_path / "root")

    def test_symlinks_out_of_the_root_are_refused(
        self, fs: LocalFileSystem, tmp_path: Path
    ) -> None:
        assert fs.root is not None
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "secret.txt").write_bytes(b"outside")
        fs.write_bytes("inside/ok.txt", b"inside")
        (fs.root / "link").symlink_to(elsewhere, target_is_directory=True)
        (fs.root / "file-link").symlink_to(elsewhere / "secret.txt")
        (fs.root / "inner-link").symlink_to(fs.root / "inside", target_is_directory=True)
        for action in (
            lambda: fs.write_bytes("link/x", b"escaped"),
            lambda: fs.read_bytes("link/secret.txt"),
            lambda: fs.read_bytes("file-link"),
            lambda: fs.write_bytes("file-link", b"escaped"),
            lambda: fs.exists("link/secret.txt"),
            lambda: fs.glob("link", "*"),
            lambda: fs.copy("inside/ok.txt", "link/copy.txt"),
            lambda: fs.remove("link/secret.txt"),
        ):
            with pytest.raises(ValueError, match="outside the root"):
                action()
        assert sorted(p.name for p in elsewhere.iterdir()) == ["secret.txt"]
        assert (elsewhere / "secret.txt").read_bytes() == b"outside"
        assert fs.read_bytes("inner-link/ok.txt") == b"inside"  # a link within the root is fine

    def test_a_root_swapped_for_a_link_after_use_is_refused(
        self, fs: LocalFileSystem, tmp_path: Path
    ) -> None:
        assert fs.root is not None
        fs.write_bytes("run/ok.txt", b"inside")  # the root is made
        fs.write_bytes("run/ok.txt", b"again")  # checked once made: later checks go short
        elsewhere = tmp_path / "elsewhere"
        (elsewhere / "run").mkdir(parents=True)
        fs.root.rename(tmp_path / "moved")
        fs.root.symlink_to(elsewhere, target_is_directory=True)
        with pytest.raises(ValueError, match="outside the root"):
            fs.write_bytes("run/escaped.txt", b"escaped")
        assert list((elsewhere / "run").iterdir()) == []

    def test_a_root_made_again_is_still_the_root(self, fs: LocalFileSystem) -> None:
        assert fs.root is not None
        fs.write_bytes("run/ok.txt", b"first")
        fs.write_bytes("run/ok.txt", b"second")
        shutil.rmtree(fs.root)
        fs.write_bytes("run/ok.txt", b"again")  # a new folder at the same path
        assert fs.read_bytes("run/ok.txt") == b"again"
        (fs.root / "run" / "link").symlink_to(fs.root.parent, target_is_directory=True)
        with pytest.raises(ValueError, match="outside the root"):
            fs.read_bytes("run/link/anything")


class TestMemoryFileSystem(FileSystemContract):
    @pytest.fixture
    def fs(self) -> MemoryFileSystem:
        return MemoryFileSystem()


@pytest.mark.slow  # mock_aws per test: 25 s in all; moto's server runs the same contract
class TestS3OnMotoInProcess(FileSystemContract):
    put_foreign = staticmethod(_s3_foreign)

    @pytest.fixture
    def fs(self) -> Iterator[S3FileSystem]:
        with mock_aws():
            bucket = unique_bucket()
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
            yield S3FileSystem(bucket, prefix="batch-42/", region_name="us-east-1")

    def test_pickles_and_still_works(self, fs: S3FileSystem) -> None:
        # mock_aws intercepts this process only, so the clone is checked here too.
        super().test_pickles_and_still_works(fs)


class TestS3OnMotoServer(FileSystemContract):
    put_foreign = staticmethod(_s3_foreign)

    @pytest.fixture
    def fs(self, moto_server: LocalS3Server) -> S3FileSystem:
        return moto_server.filesystem(unique_bucket(), prefix="project-x/batch-42/", max_attempts=2)


class TestS3OnS3rver(FileSystemContract):
    put_foreign = staticmethod(_s3_foreign)

    @pytest.fixture
    def fs(self, s3rver: S3rver) -> S3FileSystem:
        # s3rver ignores If-Match / If-None-Match: it stands for stores that do.
        return s3rver.filesystem(
            unique_bucket(), prefix="study-001/", max_attempts=2, conditional_writes=False
        )


class TestFsspecMemory(FileSystemContract):
    put_foreign = staticmethod(_fsspec_foreign)

    @pytest.fixture
    def fs(self) -> FsspecFileSystem:
        pytest.importorskip("fsspec")
        return FsspecFileSystem.from_url(f"memory://contract-{uuid.uuid4().hex}")


def _azure_foreign(fs: FileSystem, name: str) -> None:
    from idfkit.simulation.fs.azure import AzureBlobFileSystem

    assert isinstance(fs, AzureBlobFileSystem)
    key = fs.prefix + name
    with fs._translate("write", "study"):
        fs.client.upload_blob(key, b"foreign", overwrite=True)
    stored = [blob.name for blob in fs.client.list_blobs(name_starts_with=fs.prefix + "study/")]
    if key not in stored:  # Azure turns "\\" into "/": the name was not kept
        for other in set(stored) - {fs.prefix + "study/case-1/out.txt"}:
            fs.client.delete_blob(other)
        raise ValueError(f"Azure stored {name!r} under another name")


class TestAzureOnAzurite(FileSystemContract):
    put_foreign = staticmethod(_azure_foreign)

    @pytest.fixture
    def fs(self, azurite: Azurite) -> FileSystem:
        fs: FileSystem = azurite.filesystem(prefix="project-x/batch-42/")
        return fs


def _gcs_foreign(fs: FileSystem, name: str) -> None:
    from idfkit.simulation.fs.gcs import GCSFileSystem

    assert isinstance(fs, GCSFileSystem)
    with fs._translate("write", "study"):
        fs.client.bucket(fs.bucket).blob(fs.prefix + name).upload_from_string(b"foreign")


class TestGCSOnFakeGcsServer(FileSystemContract):
    put_foreign = staticmethod(_gcs_foreign)

    @pytest.fixture
    def fs(self, fake_gcs: FakeGcs) -> FileSystem:
        fs: FileSystem = fake_gcs.filesystem(prefix="project-x/batch-42/")
        return fs


def test_moto_decides_racing_conditional_writes_one_at_a_time() -> None:
    # moto checks a condition and stores in two steps; switching threads every
    # microsecond lets two writers through in most rounds, unless it is made atomic.
    atomic_moto_puts()  # as tests/conftest.py did for the whole session
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with mock_aws():
            for _ in range(30):
                bucket = unique_bucket()
                boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
                fs = S3FileSystem(bucket, region_name="us-east-1")
                ConditionalWriteContract().test_racing_writers_one_wins(fs, "if_none_match")
    finally:
        sys.setswitchinterval(interval)


def test_moto_in_a_child_process_is_atomic_too() -> None:
    with LocalS3Server(process=True) as server:
        for _ in range(10):
            fs = server.filesystem(unique_bucket(), max_attempts=1)
            ConditionalWriteContract().test_racing_writers_one_wins(fs, "if_none_match")
