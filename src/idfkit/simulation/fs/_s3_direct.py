"""A lean request path for many small S3 reads and listings (a study's manifests).

Reading one small object through boto3 costs about 1.3 ms of client CPU
(request serialisation, event hooks, signing through botocore's auth
classes, response parsing), several times what the read itself needs. At
100,000 runs that is minutes of one core. This module sends the same signed
requests (AWS Signature Version 4, headers form) straight over a pool of keep-alive
``http.client`` connections, and parses listings with the
standard library's XML parser.

It handles only the plain answers: 200 for a read or a listing page, 404 for
a read. Anything else (a redirect to another region, throttling, a server
error, a broken connection, an expired credential) is handed back to the
caller, which repeats that one request through the boto3 client, so retries
and error mapping stay in one place (`S3FileSystem._translate`). The path is
used only when the client signs with SigV4 from plain credentials and sends
no proxy; otherwise every request goes through boto3.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import os
import ssl
import threading
import urllib.parse
import urllib.request
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from idfkit.simulation.fs._bulk import ReadOutcome, run_each
from idfkit.simulation.fs.base import normalize_path

if TYPE_CHECKING:
    from idfkit.simulation.fs.s3 import S3FileSystem

T = TypeVar("T")

_EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_UNRESERVED = "-_.~"
_MAX_IDLE = 64  # connections kept open between requests


class Fallback(Exception):
    """This request needs the full boto3 path (an answer the lean path does not handle)."""


def _quote_key(key: str) -> str:
    return urllib.parse.quote(key, safe="/" + _UNRESERVED)


def _quote_param(value: str) -> str:
    return urllib.parse.quote(value, safe=_UNRESERVED)


class DirectS3:
    """Signed GETs of one bucket over a pool of keep-alive connections.

    Args:
        client: The boto3 S3 client whose endpoint, region and credentials it uses.
        bucket: The bucket name.
        timeout: Seconds to wait for a connection or an answer.
        verify: As boto3's ``verify``: True, False or a CA bundle path.
    """

    def __init__(self, client: Any, bucket: str, *, timeout: float, verify: Any) -> None:
        probe = urllib.parse.urlsplit(
            client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
        )
        if not probe.path.endswith("/k") or probe.scheme not in ("http", "https"):
            raise Fallback(f"unexpected S3 URL layout {probe.scheme}://{probe.netloc}")
        self.scheme = probe.scheme
        self.host = probe.netloc  # host[:port], as signed and sent
        self.base_path = probe.path[:-1]  # "/bucket/" (path style) or "/" (virtual host)
        self.region = client.meta.region_name or "us-east-1"
        self._credentials = client._request_signer._credentials  # refreshes itself
        self.timeout = timeout
        self._context: ssl.SSLContext | None = None
        if self.scheme == "https":
            if verify is False:  # as boto3's verify=False: the user asked for it
                self._context = ssl.create_default_context()
                self._context.check_hostname = False
                self._context.verify_mode = ssl.CERT_NONE
            else:
                cafile = verify if isinstance(verify, str) else _default_ca_bundle()
                self._context = ssl.create_default_context(cafile=cafile)
        self._idle: list[http.client.HTTPConnection] = []  # kept alive between requests
        self._idle_lock = threading.Lock()
        self._closed = False
        self._keys: dict[tuple[str, str], bytes] = {}
        self._keys_lock = threading.Lock()

    @staticmethod
    def usable(client: Any) -> bool:
        """Whether this client's requests can take the lean path (SigV4, no proxy)."""
        config = client.meta.config
        if config.signature_version not in (None, "s3v4", "v4"):
            return False
        if config.proxies or _env_proxy():
            return False
        signer = getattr(client, "_request_signer", None)
        return getattr(signer, "_credentials", None) is not None

    # -- requests ----------------------------------------------------------
    def get(self, key: str) -> tuple[bytes, str]:
        """The body and ETag of ``key``.

        Raises:
            Fallback: Any answer but 200 (a 404 too: boto3 then tells a missing
                key from a folder or a missing bucket), or the connection failed.
        """
        status, headers, body = self._send(self.base_path + _quote_key(key), "")
        if status != 200:
            raise Fallback(f"GET answered {status}")
        return body, headers.get("etag", "")

    def list_page(
        self, prefix: str, *, start_after: str = "", token: str = ""
    ) -> tuple[list[tuple[str, str]], str]:
        """One ListObjectsV2 page: (key, ETag) pairs, and the next page's token ("" at the end).

        Raises:
            Fallback: Any answer but 200, or one that does not parse.
        """
        params = {"list-type": "2", "prefix": prefix}
        if start_after:
            params["start-after"] = start_after
        if token:
            params["continuation-token"] = token
        query = "&".join(f"{_quote_param(k)}={_quote_param(v)}" for k, v in sorted(params.items()))
        status, _, body = self._send(self.base_path, query)
        if status != 200:
            raise Fallback(f"LIST answered {status}")
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise Fallback(f"a listing page did not parse: {exc}") from None
        entries: list[tuple[str, str]] = []
        for item in root.iterfind(f"{_S3_NS}Contents"):
            entries.append((item.findtext(f"{_S3_NS}Key", ""), item.findtext(f"{_S3_NS}ETag", "")))
        truncated = root.findtext(f"{_S3_NS}IsTruncated", "false") == "true"
        following = root.findtext(f"{_S3_NS}NextContinuationToken", "") if truncated else ""
        if truncated and not following:
            raise Fallback("a truncated listing page gave no continuation token")
        return entries, following

    def _send(self, path: str, query: str) -> tuple[int, dict[str, str], bytes]:
        headers = self.sign(path, query, dt.datetime.now(dt.UTC))
        target = f"{path}?{query}" if query else path
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more
            conn = self._checkout() if attempt == 1 else self._connect()
            try:
                conn.request("GET", target, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if attempt == 2:
                    raise Fallback(f"connection failed: {type(exc).__name__}") from None
                continue
            if response.will_close:
                conn.close()
            else:
                self._checkin(conn)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(
                self.host, timeout=self.timeout, context=self._context
            )
        return http.client.HTTPConnection(self.host, timeout=self.timeout)

    def _checkout(self) -> http.client.HTTPConnection:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _checkin(self, conn: http.client.HTTPConnection) -> None:
        with self._idle_lock:
            if not self._closed and len(self._idle) < _MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections (those in use close when their request ends)."""
        with self._idle_lock:
            idle, self._idle, self._closed = self._idle, [], True
        for conn in idle:
            conn.close()

    # -- AWS Signature Version 4 --------------------------------------------
    def sign(self, path: str, query: str, now: dt.datetime) -> dict[str, str]:
        """The headers of a signed GET of ``path?query`` (already URI-encoded) at ``now``."""
        creds = self._credentials.get_frozen_credentials()
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        headers = {
            "host": self.host,
            "x-amz-content-sha256": _EMPTY_SHA256,
            "x-amz-date": stamp,
        }
        if creds.token:
            headers["x-amz-security-token"] = creds.token
        names = ";".join(headers)  # already sorted
        canonical = "\n".join(
            [
                "GET",
                path,
                query,
                *(f"{name}:{value}" for name, value in headers.items()),
                "",
                names,
                _EMPTY_SHA256,
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        signature = hmac.new(
            self._signing_key(creds.secret_key, day), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, "
            f"SignedHeaders={names}, Signature={signature}"
        )
        return headers

    def _signing_key(self, secret: str, day: str) -> bytes:
        cached = (secret, day)
        key = self._keys.get(cached)
        if key is None:
            key = f"AWS4{secret}".encode()
            for part in (day, self.region, "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            with self._keys_lock:
                self._keys = {cached: key}  # one day's key per secret in use
        return key


def _default_ca_bundle() -> str | None:
    from botocore.httpsession import get_cert_path

    path = get_cert_path(True)
    return path if isinstance(path, str) else None


def _env_proxy() -> bool:
    proxies = urllib.request.getproxies()
    return bool(proxies.get("http") or proxies.get("https"))


# -- what S3FileSystem.read_each and .versions_of do --------------------------------

_DIRECT: weakref.WeakKeyDictionary[S3FileSystem, tuple[int, DirectS3 | None]] = (
    weakref.WeakKeyDictionary()
)
_DIRECT_LOCK = threading.Lock()


def direct_for(fs: S3FileSystem) -> DirectS3 | None:
    """The lean path of ``fs`` in this process, or None when its client needs boto3's."""
    with _DIRECT_LOCK:
        known = _DIRECT.get(fs)
        if known is not None and known[0] == os.getpid():
            return known[1]
        client = fs.client
        direct: DirectS3 | None = None
        if DirectS3.usable(client):
            try:
                direct = DirectS3(
                    client,
                    fs.bucket,
                    timeout=max(fs.connect_timeout, fs.read_timeout),
                    verify=fs._boto_kwargs.get("verify", True),
                )
            except Fallback:
                direct = None
        if direct is not None:
            weakref.finalize(fs, direct.close)  # no socket outlives its file system
        _DIRECT[fs] = (os.getpid(), direct)
        return direct


def read_each(
    fs: S3FileSystem,
    paths: Sequence[str],
    handle: Callable[[int, ReadOutcome, str | None], T],
    *,
    max_workers: int,
) -> list[T]:
    """One signed GET per path on the lean path; any other answer goes through boto3."""
    direct = direct_for(fs)

    def one(i: int) -> T:
        path = paths[i]
        if direct is not None:
            rel = normalize_path(path)
            if rel:
                try:
                    body, etag = direct.get(fs.prefix + rel)
                except Fallback:
                    pass
                else:
                    return handle(i, body, etag)
        try:
            data: ReadOutcome = fs.read_bytes(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            data = exc
        return handle(i, data, None)

    return run_each(len(paths), one, max_workers=max_workers)


def versions_of(fs: S3FileSystem, paths: Sequence[str], *, max_workers: int) -> dict[str, str]:
    """The ETags of ``paths`` from recursive listings of their common folder.

    The wanted keys, sorted, are cut into up to ``max_workers`` ranges, each
    listed from just after the previous range's last key until past its own
    last key, so the ranges are listed in parallel and no page is read twice.
    """
    by_key = {fs.prefix + normalize_path(p): p for p in paths}
    keys = sorted(k for k in by_key if k != fs.prefix)
    if not keys:
        return {}
    common = _common_folder(keys[0], keys[-1], fs.prefix)  # sorted: the ends bound the rest
    parts = max(1, min(max_workers, len(keys) // 200))
    bounds = [keys[(len(keys) * j) // parts : (len(keys) * (j + 1)) // parts] for j in range(parts)]
    direct = direct_for(fs)
    found: dict[str, str] = {}
    lock = threading.Lock()

    def one(j: int) -> None:
        start = bounds[j - 1][-1] if j else ""
        last = bounds[j][-1]
        seen = _list_range(fs, direct, common, start, last, by_key)
        with lock:
            found.update(seen)

    run_each(parts, one, max_workers=parts)
    return found


def _list_range(
    fs: S3FileSystem,
    direct: DirectS3 | None,
    prefix: str,
    start: str,
    last: str,
    wanted: dict[str, str],
) -> dict[str, str]:
    """The ETags of the ``wanted`` keys in (``start``, ``last``]; lean pages, else boto3's."""
    seen: dict[str, str] = {}
    after, token = start, ""
    while True:
        entries: list[tuple[str, str]]
        if direct is not None:
            try:
                entries, token = direct.list_page(
                    prefix, start_after="" if token else after, token=token
                )
            except Fallback:
                direct, token = None, ""  # go on from the last key seen, through boto3
                continue
        else:
            entries, token = _boto_page(fs, prefix, after, token)
        for key, etag in entries:
            if key > last:
                return seen
            if key in wanted:
                seen[wanted[key]] = etag
            after = key
        if not token:
            return seen


def _common_folder(first: str, last: str, prefix: str) -> str:
    """The longest folder key (ending in ``/``) above both keys, at least ``prefix``."""
    size = 0
    for a, b in zip(first, last, strict=False):
        if a != b:
            break
        size += 1
    common = first[:size]
    common = common[: common.rfind("/") + 1]
    return common if common.startswith(prefix) else prefix


def _boto_page(
    fs: S3FileSystem, prefix: str, after: str, token: str
) -> tuple[list[tuple[str, str]], str]:
    options: dict[str, Any] = {"Bucket": fs.bucket, "Prefix": prefix}
    if token:
        options["ContinuationToken"] = token
    elif after:
        options["StartAfter"] = after
    with fs._translate("list", prefix[len(fs.prefix) :]):
        page = fs.client.list_objects_v2(**options)
    entries = [(str(o["Key"]), str(o.get("ETag", ""))) for o in page.get("Contents", [])]
    return entries, str(page.get("NextContinuationToken", "")) if page.get("IsTruncated") else ""
