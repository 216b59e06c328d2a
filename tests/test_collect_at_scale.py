"""Collection at scale (issue 21): the lean S3 read path and incremental re-collection."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from idfkit.simulation import LocalFileSystem, MemoryFileSystem
from idfkit.simulation.fs._bulk import read_each, versions_of
from idfkit.simulation.fs._s3_direct import DirectS3, direct_for
from idfkit.simulation.fs.base import FileSystem, join
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    InputRecord,
    JobBinding,
    ManifestFile,
    Metric,
    RunManifest,
)
from idfkit.simulation.study import JobSpec, collect_results, grid_jobs, write_study
from idfkit.simulation.testing import LocalS3Server

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # AWS's documented example key
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def manifest_of(spec: JobSpec, *, runtime: float = 1.0, job: JobBinding | None = None) -> bytes:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return (
        RunManifest(
            run_id=spec.label,
            label=spec.label,
            success=True,
            exit_code=0,
            runtime_seconds=runtime,
            energyplus_version="25.2.0",
            output_prefix="eplus",
            files=(ManifestFile(name="eplusout.sql", size=7, sha256="0" * 64),),
            model=InputRecord(name="in.idf", sha256="0" * 64),
            weather=None,
            started_at=now,
            finished_at=now,
            idfkit_version="test",
            job=job or spec.binding(),
            parameters=spec.parameters,
            metrics={"heating_kwh": Metric(value=100.0 + spec.index, units="kWh")},
        )
        .to_json()
        .encode()
    )


def make_study(fs: FileSystem, box_model: Path, weather: Path, count: int = 6) -> list[JobSpec]:
    """A study of ``count`` jobs: all published but the last, which is missing."""
    jobs = grid_jobs(box_model, weather, {"x": list(range(count))}, edit=lambda doc, p: None)
    plan = write_study(jobs, fs)
    for spec in plan.jobs[:-1]:
        fs.write_bytes(join(spec.output_dir, MANIFEST_NAME), manifest_of(spec))
    return list(plan.jobs)


@pytest.fixture(params=["memory", "local", "moto"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileSystem]:
    if request.param == "memory":
        yield MemoryFileSystem()
    elif request.param == "local":
        yield LocalFileSystem(tmp_path / "store")
    else:
        server: LocalS3Server = request.getfixturevalue("moto_server")
        yield server.filesystem(f"t-{uuid.uuid4().hex[:12]}", "studies/one")


def test_recollect_reads_only_a_replaced_manifest_of_the_same_size(
    store: FileSystem, box_model: Path, weather: Path
) -> None:
    specs = make_study(store, box_model, weather)
    first = collect_results(store)
    assert first.counts()["succeeded"] == 5
    assert first.counts()["missing"] == 1

    again = collect_results(store, previous=first)
    # Nothing changed: every published run's row is the previous one, none read again.
    assert all(a is b for a, b in zip(again.rows[:5], first.rows[:5], strict=True))
    assert again.rows[5] == first.rows[5]  # a missing folder costs no read either
    assert again.units == first.units

    target = join(specs[2].output_dir, MANIFEST_NAME)
    old = store.read_bytes(target)
    new = manifest_of(specs[2], runtime=2.0)
    assert len(new) == len(old) and new != old  # same size, new content
    store.write_bytes(target, new)
    third = collect_results(store, previous=again)
    assert third.rows[2].runtime_seconds == 2.0
    assert third.rows[2] is not again.rows[2]
    kept = [i for i in range(5) if third.rows[i] is again.rows[i]]
    assert kept == [0, 1, 3, 4]
    # A run published meanwhile is read; it was missing before.
    store.write_bytes(join(specs[5].output_dir, MANIFEST_NAME), manifest_of(specs[5]))
    fourth = collect_results(store, previous=third)
    assert fourth.rows[5].status == "succeeded"
    assert fourth.all_succeeded


def test_recollect_after_the_study_changed_reads_stale(
    store: FileSystem, box_model: Path, weather: Path
) -> None:
    make_study(store, box_model, weather, count=3)
    first = collect_results(store)
    jobs = grid_jobs(box_model, weather, {"x": [0, 1, 7]}, edit=lambda doc, p: None)
    write_study(jobs, store, overwrite=True)  # job 2 changes; its manifest does not
    again = collect_results(store, previous=first)
    assert again.rows[0] is first.rows[0]
    assert again.rows[2].status != "succeeded"


def test_a_folder_without_manifest_and_a_corrupt_one_read_as_before(
    store: FileSystem, box_model: Path, weather: Path
) -> None:
    specs = make_study(store, box_model, weather, count=3)
    store.remove(join(specs[0].output_dir, MANIFEST_NAME))
    store.write_bytes(join(specs[0].output_dir, "eplusout.err"), b"crashed")
    store.write_bytes(join(specs[1].output_dir, MANIFEST_NAME), b'{"state": "complete"}')
    rows = collect_results(store).rows
    assert [r.status for r in rows] == ["incomplete", "incomplete", "missing"]
    assert rows[0].error == "no manifest"
    assert "is invalid" in rows[1].error


def test_s3_reads_go_around_boto3_and_carry_etags(
    moto_server: LocalS3Server, box_model: Path, weather: Path
) -> None:
    fs = moto_server.filesystem(f"t-{uuid.uuid4().hex[:12]}", "p")
    specs = make_study(fs, box_model, weather, count=4)
    sent: Counter[str] = Counter()
    fs.client.meta.events.register(
        "before-send.s3", lambda event_name, **_: sent.update([event_name.rsplit(".", 1)[-1]])
    )
    assert direct_for(fs) is not None
    paths = [join(s.output_dir, MANIFEST_NAME) for s in specs]
    got = read_each(fs, paths, lambda i, data, version: (i, data, version), max_workers=3)
    assert [g[0] for g in got] == [0, 1, 2, 3]
    assert sent["GetObject"] == 1  # only the missing one: its 404 goes through boto3, mapped there
    assert isinstance(got[3][1], FileNotFoundError)
    for (_, data, version), path in zip(got[:3], paths[:3], strict=True):
        assert data == fs.read_bytes(path)
        assert version == fs.stat(path).version
    listed = versions_of(fs, paths)
    assert listed == {p: fs.stat(p).version for p in paths[:3]}


def test_s3_listing_in_ranges_over_many_pages(moto_server: LocalS3Server) -> None:
    fs = moto_server.filesystem(f"t-{uuid.uuid4().hex[:12]}")
    wanted = [f"runs/r{i:04d}/{MANIFEST_NAME}" for i in range(1200)]
    for i, path in enumerate(wanted):
        if i % 3:
            fs.write_bytes(path, f"{i}".encode())
        fs.write_bytes(f"runs/r{i:04d}/eplusout.err", b"x")  # pages hold other keys too
    found = versions_of(fs, wanted, max_workers=4)
    assert set(found) == {p for i, p in enumerate(wanted) if i % 3}
    sample = wanted[1]
    assert found[sample] == fs.stat(sample).version


@pytest.mark.parametrize("token", [None, "session-token-value"])
@pytest.mark.parametrize("key", ["study/case-1/idfkit-manifest.json", "a b/ü+=&/x~y.json"])
def test_signature_is_botocores(token: str | None, key: str) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="eu-west-3",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET,
        aws_session_token=token,
    )
    direct = DirectS3(client, "my-bucket", timeout=5, verify=True)
    now = dt.datetime(2026, 12, 5, 8, 30, 15, tzinfo=dt.UTC)
    for path, query in (
        (direct.base_path + key, ""),
        (direct.base_path, "continuation-token=a%2Fb%3D&list-type=2&prefix=a%20b%2F"),
    ):
        ours = direct.sign(path, query, now)
        url = f"http://127.0.0.1:9{path}" + (f"?{query}" if query else "")

        request = AWSRequest(method="GET", url=url, headers={"x-amz-content-sha256": EMPTY})
        credentials = Credentials("AKIDEXAMPLE", SECRET, token)
        auth = S3SigV4Auth(credentials, "s3", "eu-west-3")
        request.context["timestamp"] = now.strftime("%Y%m%dT%H%M%SZ")
        auth._modify_request_before_signing(request)
        canonical = auth.canonical_request(request)
        signature = auth.signature(auth.string_to_sign(request, canonical), request)
        assert ours["authorization"].endswith(f"Signature={signature}"), canonical
        assert ("x-amz-security-token" in ours) == (token is not None)


def test_unusable_clients_take_boto3s_path() -> None:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    anonymous = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )
    assert not DirectS3.usable(anonymous)
    proxied = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=Config(proxies={"http": "http://127.0.0.1:1"}),
    )
    assert not DirectS3.usable(proxied)
