"""Collection at scale (issue 21): the lean S3 read path and incremental re-collection."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.server
import threading
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from botocore.credentials import Credentials

from idfkit.simulation import LocalFileSystem, MemoryFileSystem
from idfkit.simulation.fs._bulk import read_each, versions_of
from idfkit.simulation.fs._s3_direct import MAX_OBJECT_BYTES, DirectS3, Fallback, direct_for
from idfkit.simulation.fs.base import FileSystem, join
from idfkit.simulation.fs.s3 import S3FileSystem
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


@pytest.fixture(params=["memory", "local", pytest.param("moto", marks=pytest.mark.server)])
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


ODD_KEYS = ["a b/ü+=&/x~y.json", "100%/plus+sign/ünï cødé.json", "semi;colon,comma@at!.json"]


def _sent(fs: S3FileSystem) -> Counter[str]:
    sent: Counter[str] = Counter()
    fs.client.meta.events.register(
        "before-send.s3", lambda event_name, **_: sent.update([event_name.rsplit(".", 1)[-1]])
    )
    return sent


@pytest.mark.parametrize(
    "server",
    [
        pytest.param("moto_server", marks=pytest.mark.server),
        pytest.param("s3rver", marks=[pytest.mark.server, pytest.mark.s3rver]),
    ],
)
def test_lean_reads_of_odd_keys_are_signed_and_quoted_as_botocore_does(
    server: str, request: pytest.FixtureRequest
) -> None:
    # Two servers written apart decode the keys: a read that never reached boto3
    # found the object under the key quoted right (signatures: the next test).
    fs: S3FileSystem = request.getfixturevalue(f"{server}_fs")
    for n, key in enumerate(ODD_KEYS):
        fs.write_bytes(key, f"content {n}".encode())
    sent = _sent(fs)
    assert direct_for(fs) is not None
    got = read_each(fs, ODD_KEYS, lambda i, data, version: (data, version), max_workers=2)
    assert sent["GetObject"] == 0
    assert [g[0] for g in got] == [f"content {n}".encode() for n in range(len(ODD_KEYS))]
    assert [g[1] for g in got] == [fs.stat(k).version for k in ODD_KEYS]
    assert versions_of(fs, ODD_KEYS) == {k: fs.stat(k).version for k in ODD_KEYS}


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with 200 and a fixed body (its MD5 as ETag); keeps what it was sent."""

    seen: ClassVar[list[tuple[str, dict[str, str]]]] = []
    body = b'{"ok": true}'

    def do_GET(self) -> None:
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(200)
        self.send_header("ETag", f'"{hashlib.md5(self.body).hexdigest()}"')
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def _sigv4_expected(path: str, headers: dict[str, str], secret: str, region: str) -> str:
    """The signature of a GET as the SigV4 spec defines it for S3, from the request as sent."""
    raw_path, _, query = path.partition("?")
    credential, signed, _ = headers["authorization"].split(", ")
    names = signed.removeprefix("SignedHeaders=").split(";")
    canonical = "\n".join(
        [
            "GET",
            raw_path,  # S3: the path as sent, encoded once
            "&".join(sorted(query.split("&"))) if query else "",
            *(f"{n}:{' '.join(headers[n].split())}" for n in names),
            "",
            ";".join(names),
            headers["x-amz-content-sha256"],
        ]
    )
    stamp = headers["x-amz-date"]
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    assert credential.endswith(f"/{scope}")
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in (stamp[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("token", [None, "session-token-value"])
def test_lean_requests_carry_a_valid_signature_over_the_path_sent(token: str | None) -> None:
    # moto and s3rver accept any SigV4 signature, so a recording server checks it here,
    # recomputed by the spec from the request line and headers that went over the wire.
    import boto3

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.seen.clear()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="eu-west-3",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key=SECRET,
            aws_session_token=token,
        )
        direct = DirectS3(
            client,
            "my-bucket",
            credentials=Credentials("AKIDEXAMPLE", SECRET, token),
            timeout=5,
            verify=True,
        )
        for key in ODD_KEYS:
            body, etag = direct.get(key)
            assert body == _Recorder.body and etag is not None
        with pytest.raises(Fallback, match="did not parse"):  # its answer is no listing
            direct.list_page("a b/", token="a/b=")
    finally:
        server.shutdown()
        server.server_close()
        direct.close()
    assert len(_Recorder.seen) == len(ODD_KEYS) + 1
    for (path, headers), key in zip(_Recorder.seen, [*ODD_KEYS, None], strict=True):
        if key is not None:
            assert urllib.parse.unquote(path) == f"/my-bucket/{key}"
            assert " " not in path and "+" not in path  # both encoded (%20, %2B)
        assert headers["host"] == endpoint.removeprefix("http://")
        assert ("x-amz-security-token" in headers) == (token is not None)
        expected = _sigv4_expected(path, headers, SECRET, "eu-west-3")
        assert headers["authorization"].endswith(f"Signature={expected}")


@pytest.mark.parametrize("token", [None, "session-token-value"])
@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/my-bucket/a%20b/%C3%BC%2B%3D%26/x~y.json", ""),
        ("/my-bucket/", "continuation-token=a%2Fb%3D&list-type=2&prefix=a%20b%2F"),
        ("/my-bucket/", "list-type=2&prefix=runs%2F&start-after=runs%2Fr0001%2Fm.json"),
    ],
)
def test_lean_signatures_are_botocores(token: str | None, path: str, query: str) -> None:
    # The lean path signs by itself (botocore's request objects cost more than the read):
    # every header it sends is the one botocore's own S3 signer makes for that request.
    import boto3
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    endpoint = "http://127.0.0.1:9"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-3",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET,
    )
    credentials = Credentials("AKIDEXAMPLE", SECRET, token)
    direct = DirectS3(client, "my-bucket", credentials=credentials, timeout=5, verify=True)
    url = f"{endpoint}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method="GET", url=url, headers={"Host": "127.0.0.1:9"})
    S3SigV4Auth(credentials.get_frozen_credentials(), "s3", "eu-west-3").add_auth(request)
    theirs = {k: str(v) for k, v in request.headers.items()}
    for _ in range(2):  # the second signature reuses the day's signing key
        assert direct.sign(path, query, stamp=theirs["X-Amz-Date"]) == theirs


class _Odd(http.server.BaseHTTPRequestHandler):
    """Answers a read in ways the lean path leaves to boto3, by the key's name."""

    protocol_version = "HTTP/1.1"
    served: ClassVar[int] = 0

    def do_GET(self) -> None:
        type(self).served += 1
        body = b'{"ok": true}'
        kind = self.path.rsplit("/", 1)[-1]
        if kind == "bad-header":  # a header line without a colon
            head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nno colon here\r\n\r\n"
            self.wfile.write(head % len(body) + body)
            return
        self.send_response(200)
        if kind == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_lean_reads_leave_answers_they_do_not_know_to_boto3() -> None:
    import boto3

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Odd)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET,
    )
    direct = DirectS3(
        client, "b", credentials=Credentials("AKIDEXAMPLE", SECRET), timeout=5, verify=True
    )
    try:
        _Odd.served = 0
        assert direct.get("plain")[0] == b'{"ok": true}'
        assert direct.get("plain")[0] == b'{"ok": true}'  # on the kept-alive socket
        assert _Odd.served == 2 and len(direct._idle_sockets) == 1
        for kind, reason in [
            ("chunked", "without a plain Content-Length"),
            ("bad-header", "malformed header"),
        ]:
            with pytest.raises(Fallback, match=reason):
                direct.get(kind)
        with pytest.raises(Fallback, match="line break"):
            DirectS3(
                client,
                "b",
                credentials=Credentials("AKIDEXAMPLE", SECRET, "tok\r\nX-Injected: 1"),
                timeout=5,
                verify=True,
            ).get("plain")
    finally:
        server.shutdown()
        server.server_close()
        direct.close()


def test_a_body_over_the_bound_is_read_through_boto3(moto_server_fs: S3FileSystem) -> None:
    big = b"x" * (MAX_OBJECT_BYTES + 1)
    moto_server_fs.write_bytes("big.json", big)
    moto_server_fs.write_bytes("small.json", b"{}")
    sent = _sent(moto_server_fs)
    got = read_each(moto_server_fs, ["big.json", "small.json"], lambda i, d, v: (d, v))
    assert sent["GetObject"] == 1  # the big one only
    assert got[0] == (big, None) and got[1][0] == b"{}"


def test_credentials_come_from_public_api_only(moto_server: LocalS3Server) -> None:
    import boto3

    fs = moto_server.filesystem(f"t-{uuid.uuid4().hex[:12]}")
    frozen = fs.signing_credentials().get_frozen_credentials()
    assert frozen.access_key and frozen.secret_key
    session = boto3.session.Session(
        aws_access_key_id="AKIDSESSION", aws_secret_access_key=SECRET, region_name="us-east-1"
    )
    from_session = S3FileSystem(fs.bucket, endpoint_url=fs.endpoint_url, session=session)
    assert from_session.signing_credentials().get_frozen_credentials().access_key == "AKIDSESSION"
    ready = S3FileSystem(fs.bucket, client=fs.client)
    assert ready.signing_credentials() is None  # only the client's internals know them
    assert direct_for(ready) is None


def test_unusable_clients_take_boto3s_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    anonymous = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )
    assert not DirectS3.usable(anonymous, "b")
    proxied = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=Config(proxies={"http": "http://127.0.0.1:1"}),
    )
    assert not DirectS3.usable(proxied, "b")
    plain = boto3.client("s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1")
    assert DirectS3.usable(plain, "b")
    assert not DirectS3.usable(plain, "b--use1-az4--x-s3")  # S3 Express signs otherwise
    certified = boto3.client(
        "s3",
        endpoint_url="https://127.0.0.1:9",
        region_name="us-east-1",
        config=Config(client_cert="/nonexistent/cert.pem"),
    )
    assert not DirectS3.usable(certified, "b")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    assert not DirectS3.usable(plain, "b")


@pytest.mark.parametrize(
    ("endpoint", "style", "netloc", "base"),
    [
        ("http://s3.example.test:9", "virtual", "my-bucket.s3.example.test:9", "/"),
        ("http://s3.example.test:9", "path", "s3.example.test:9", "/my-bucket/"),
        (
            "https://gateway.example.test/storage",
            "path",
            "gateway.example.test",
            "/storage/my-bucket/",
        ),
    ],
)
def test_lean_requests_go_where_the_clients_go(
    endpoint: str, style: str, netloc: str, base: str
) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-3",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET,
        config=Config(s3={"addressing_style": style}),
    )
    credentials = Credentials("AKIDEXAMPLE", SECRET)
    direct = DirectS3(client, "my-bucket", credentials=credentials, timeout=5, verify=True)
    assert (direct.scheme, direct.netloc, direct.base_path) == (
        endpoint[:5].rstrip(":"),
        netloc,
        base,
    )
    assert direct.region == "eu-west-3"
    assert direct.sign(base + "k", "")["Host"] == netloc.removesuffix(":443")
