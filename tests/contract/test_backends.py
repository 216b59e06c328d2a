"""The contract suite, run against every built-in backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from idfkit.simulation import LocalFileSystem, MemoryFileSystem
from idfkit.simulation.fs.fsspec import FsspecFileSystem
from idfkit.simulation.fs.s3 import S3FileSystem
from idfkit.simulation.testing import LocalS3Server
from tests.conftest import S3rver, unique_bucket
from tests.contract.contract import Contracts


class TestLocalFileSystem(Contracts):
    @pytest.fixture
    def fs(self, tmp_path: Path) -> LocalFileSystem:
        return LocalFileSystem(tmp_path / "root")


class TestMemoryFileSystem(Contracts):
    @pytest.fixture
    def fs(self) -> MemoryFileSystem:
        return MemoryFileSystem()


class TestS3OnMotoInProcess(Contracts):
    @pytest.fixture
    def fs(self) -> Iterator[S3FileSystem]:
        with mock_aws():
            bucket = unique_bucket()
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
            yield S3FileSystem(bucket, prefix="batch-42/", region_name="us-east-1")

    def test_pickles_and_still_works(self, fs: S3FileSystem) -> None:
        # mock_aws intercepts this process only, so the clone is checked here too.
        super().test_pickles_and_still_works(fs)


class TestS3OnMotoServer(Contracts):
    @pytest.fixture
    def fs(self, moto_server: LocalS3Server) -> S3FileSystem:
        return moto_server.filesystem(unique_bucket(), prefix="project-x/batch-42/", max_attempts=2)


class TestS3OnS3rver(Contracts):
    @pytest.fixture
    def fs(self, s3rver: S3rver) -> S3FileSystem:
        return s3rver.filesystem(unique_bucket(), prefix="study-001/", max_attempts=2)


class TestFsspecMemory(Contracts):
    @pytest.fixture
    def fs(self) -> FsspecFileSystem:
        pytest.importorskip("fsspec")
        return FsspecFileSystem.from_url(f"memory://contract-{uuid.uuid4().hex}")
