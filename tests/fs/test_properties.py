"""Property-based tests: hostile paths on every backend, random text into the parsers."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from idfkit.simulation import LocalFileSystem, MemoryFileSystem
from idfkit.simulation.fs.base import FileSystem, normalize_path
from idfkit.simulation.fs.s3 import S3FileSystem

# Hypothesis warns when the global `random` state moves while it draws; these strategies draw
# nothing from it, but a thread left by an earlier test's cloud client (retry jitter, request
# ids) may, and did once in CI (3.13, test_idf_parser_raises_only_idf_parse_error).
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")

# Segments built from the characters that make paths dangerous, plus ordinary ones.
segment = st.one_of(
    st.sampled_from(["..", ".", "", " ", "~", "a", "case-1", "C:", "\\..", "..\\..", "%2e%2e"]),
    st.text(alphabet="ab./\\:~ \x00", min_size=1, max_size=6),
)
hostile_path = st.lists(segment, min_size=1, max_size=6).map("/".join) | st.lists(
    segment, min_size=1, max_size=4
).map(lambda parts: "/" + "/".join(parts))

# What a path may legitimately fail with: refused (ValueError), or it names a file where a
# directory is (or the reverse), which the local disk reports as such.
DOCUMENTED = (ValueError, IsADirectoryError, NotADirectoryError, FileExistsError)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check_write(fs: FileSystem, path: str) -> bool:
    try:
        fs.write_bytes(path, b"payload")
    except DOCUMENTED:
        return False
    assert fs.read_bytes(path) == b"payload"
    assert fs.exists(path)
    assert normalize_path(path)  # the root itself is never written
    return True


@PROPERTY_SETTINGS
@given(path=hostile_path)
def test_local_paths_never_escape_the_root(path: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outside = Path(tmp)
        root = outside / "root"
        fs = LocalFileSystem(root)
        check_write(fs, path)
        for dirpath, _, names in os.walk(outside):
            for name in names:
                assert Path(dirpath, name).resolve().is_relative_to(root.resolve())


@PROPERTY_SETTINGS
@given(path=hostile_path)
def test_memory_paths_never_escape_the_root(path: str) -> None:
    fs = MemoryFileSystem()
    if check_write(fs, path):
        [stored] = fs._files  # the store itself is what is checked
        assert ".." not in stored.split("/")
        assert not stored.startswith("/")


@pytest.fixture(scope="module")
def moto_bucket() -> object:
    with mock_aws():
        bucket = f"props-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
        yield bucket


@PROPERTY_SETTINGS
@given(path=hostile_path)
def test_s3_keys_never_escape_the_prefix(moto_bucket: str, path: str) -> None:
    prefix = f"p-{uuid.uuid4().hex[:8]}/inner"
    fs = S3FileSystem(moto_bucket, prefix, region_name="us-east-1")
    if check_write(fs, path):
        keys = [
            o["Key"]
            for o in fs.client.list_objects_v2(Bucket=moto_bucket, Prefix=prefix.split("/")[0])[
                "Contents"
            ]
        ]
        assert keys
        assert all(k.startswith(f"{prefix}/") for k in keys)
        assert all(".." not in k.split("/") for k in keys)


@PROPERTY_SETTINGS
@given(path=hostile_path, pattern=st.sampled_from(["*", "*.sql", "?", "[a-z]*"]))
def test_reads_and_listings_raise_only_documented_errors(path: str, pattern: str) -> None:
    fs = MemoryFileSystem()
    fs.write_bytes("case/eplusout.sql", b"1")
    for call in (
        lambda: fs.read_bytes(path),
        lambda: fs.exists(path),
        lambda: fs.glob(path, pattern),
        lambda: fs.remove(path),
    ):
        try:
            call()
        except (*DOCUMENTED, FileNotFoundError):
            pass


idf_like = st.lists(
    st.sampled_from([*"Zone,;!-\n\r\t :{}()[]0123456789.ABCxyz\"'\\", "Version", "!-", ";\n"]),
    max_size=120,
).map("".join)


@pytest.mark.slow
@pytest.mark.standalone_model
@settings(max_examples=500, deadline=None)
@given(text=idf_like | st.text(max_size=200))
def test_idf_parser_raises_only_idf_parse_error(text: str) -> None:
    from idfkit import IDFDocument, IdfParseError

    try:
        doc = IDFDocument.from_idf_text(text)
    except IdfParseError:
        return
    again = IDFDocument.from_idf_text(doc.to_idf() + "\n")
    # The writer puts Version first (EnergyPlus reads it there); all else keeps its order.
    written = sorted(doc.objects, key=lambda o: o.obj_type.lower() != "version")
    assert [(o.obj_type, o.fields) for o in again.objects] == [
        (o.obj_type, o.fields) for o in written
    ]


@pytest.mark.standalone_model
@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | st.from_regex(r'\{"[A-Za-z:]{1,12}": \{.{0,40}\}\}'))
def test_epjson_parser_raises_only_idf_parse_error(text: str) -> None:
    from idfkit import IDFDocument, IdfParseError

    with contextlib.suppress(IdfParseError):
        IDFDocument.from_epjson_text(text)
