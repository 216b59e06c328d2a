"""A lean request path for many small S3 reads and listings (a study's manifests).

Reading one small object through boto3 costs about 1.3 ms of client CPU
(request serialisation, event hooks, response parsing), several times what
the read itself needs. At 100,000 runs that is minutes of one core. This
module signs GETs with AWS Signature Version 4 itself (the signing key
derived once a day; a test holds every signature to botocore's
`S3SigV4Auth` and to the specification), sends reads as plain HTTP/1.1 over
a pool of keep-alive sockets (a read's answer is a status line, a few
headers and a body of known length: ``http.client``'s header parser alone
cost more than the rest of a read), sends listings through ``http.client``
(their answers may come in chunks) and parses them with the standard
library's XML parser.

It handles only the plain answers: 200 for a read or a listing page, of a
bounded size. Anything else (a 404, a 403, a redirect to another region,
throttling, a server error, a broken connection, a TLS failure, an expired
credential, an oversized or malformed body) is handed back to the caller,
which repeats that one request through the boto3 client, so retries and error
mapping stay in one place (`S3FileSystem._translate`: 404 -> not found, 403 ->
PermissionError, 5xx retried, then StorageError).

The path is used only when what it sends is what boto3 would send: a client
that signs with SigV4, whose credentials the file system can reach through
public API (its own boto3 session or explicit keys; never a ready client's
internals), through no proxy and with no client certificate. The endpoint,
addressing style and region are the client's own (from a presigned URL and
``client.meta``); TLS verification follows ``verify`` (and ``AWS_CA_BUNDLE``).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import re
import socket
import ssl
import threading
import time
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

_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_UNRESERVED = "-_.~"
_MAX_IDLE = 64  # connections kept open between requests
#: The largest object the lean path reads (a manifest is at most 4 MiB); larger
#: ones go through boto3, whose caller bounds them in turn.
MAX_OBJECT_BYTES = 4 * 1024 * 1024
#: The largest listing page it parses: 1,000 keys of up to 1 KiB each, and their details.
MAX_PAGE_BYTES = 8 * 1024 * 1024
_PLAIN_ETAG = re.compile(r'"([0-9a-f]{32})"\Z')
#: The most a read's status line and headers may take (S3 sends about 1 KiB).
MAX_HEAD_BYTES = 64 * 1024
#: The SHA-256 of an empty body: what a GET signs as its payload, as botocore's signer does.
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class Fallback(Exception):
    """This request needs the full boto3 path (an answer the lean path does not handle)."""


def _quote_key(key: str) -> str:
    """An object key as S3 (and botocore) put it in a URL path: UTF-8, percent-encoded.

    Everything but letters, digits, ``/`` and ``-_.~`` is encoded, so a space is
    ``%20``, ``+`` is ``%2B`` and ``%`` is ``%25``.
    """
    return urllib.parse.quote(key, safe="/" + _UNRESERVED)


def _quote_param(value: str) -> str:
    return urllib.parse.quote(value, safe=_UNRESERVED)


class DirectS3:
    """Signed GETs of one bucket over a pool of keep-alive connections.

    Args:
        client: The boto3 S3 client whose endpoint, addressing style and region it uses.
        bucket: The bucket name.
        credentials: The botocore credentials the client signs with (a
            `Credentials` or `RefreshableCredentials`: each request signs with
            ``get_frozen_credentials()``, which refreshes them as botocore does).
        timeout: Seconds to wait for a connection or an answer.
        verify: As boto3's ``verify``: True, False or a CA bundle path.

    Raises:
        Fallback: The client's URLs have a layout this path does not know.
    """

    def __init__(
        self, client: Any, bucket: str, *, credentials: Any, timeout: float, verify: Any
    ) -> None:
        try:
            url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
        except Exception as exc:  # noqa: BLE001 - no credentials, a bad endpoint: boto3's path
            raise Fallback(f"no presigned URL: {type(exc).__name__}") from None
        probe = urllib.parse.urlsplit(url)
        if not probe.path.endswith("/k") or probe.scheme not in ("http", "https"):
            raise Fallback(f"unexpected S3 URL layout {probe.scheme}://{probe.netloc}")
        if probe.username is not None or probe.password is not None or not probe.hostname:
            raise Fallback("an S3 URL with user information or no host")
        self.scheme = probe.scheme
        self.netloc = probe.netloc  # host[:port], as connected to
        self.base_path = probe.path[:-1]  # "/bucket/" (path style) or "/" (virtual host)
        self.region = client.meta.region_name or "us-east-1"
        self._credentials = credentials
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
        self._idle_sockets: list[socket.socket] = []  # reads' connections, kept alive too
        self._idle_lock = threading.Lock()
        self._closed = False
        self._address = (probe.hostname, probe.port or (443 if self.scheme == "https" else 80))
        self._host = _host_header(url)
        #: ((secret key, day), signing key): derived once a day, not once a request.
        self._signing_key: tuple[tuple[str, str], bytes] | None = None

    @staticmethod
    def usable(client: Any, bucket: str = "") -> bool:
        """Whether this client's requests can take the lean path.

        Not when it signs otherwise than SigV4 (or not at all), sends through a
        proxy, presents a client certificate, signs for the global pseudo-region,
        or the bucket is an S3 Express directory bucket (another signer).
        """
        config = client.meta.config
        if config.signature_version not in (None, "s3v4", "v4"):
            return False
        if config.proxies or _env_proxy() or getattr(config, "client_cert", None):
            return False
        return client.meta.region_name != "aws-global" and not bucket.endswith("--x-s3")

    # -- requests ----------------------------------------------------------
    def get(self, key: str) -> tuple[bytes, str | None]:
        """The body and ETag of ``key`` (None when the answer carries no ETag).

        Raises:
            Fallback: Any answer but 200 (a 404 too: boto3 then tells a missing
                key from a folder or a missing bucket), a body over
                `MAX_OBJECT_BYTES` or one whose plain MD5 ETag it does not
                match, or the connection failed.
        """
        status, headers, body = self._read(self.base_path + _quote_key(key))
        if status != 200:
            raise Fallback(f"GET answered {status}")
        etag = headers.get("etag") or None
        plain = _PLAIN_ETAG.match(etag or "")
        # A single-part upload without KMS or customer keys has its MD5 as ETag:
        # a body that does not match it is not the object (a cut or a rewritten answer).
        if (
            plain is not None
            and not headers.get("x-amz-server-side-encryption", "").startswith("aws:kms")
            and "x-amz-server-side-encryption-customer-algorithm" not in headers
            and hashlib.md5(body, usedforsecurity=False).hexdigest() != plain.group(1)
        ):
            raise Fallback("the body does not match its ETag")
        return body, etag

    def list_page(
        self, prefix: str, *, start_after: str = "", token: str = ""
    ) -> tuple[list[tuple[str, str]], str]:
        """One ListObjectsV2 page: (key, ETag) pairs, and the next page's token ("" at the end).

        Raises:
            Fallback: Any answer but 200, or one over `MAX_PAGE_BYTES`, with a
                document type declaration, or that is not a listing.
        """
        params = {"list-type": "2", "prefix": prefix}
        if start_after:
            params["start-after"] = start_after
        if token:
            params["continuation-token"] = token
        query = "&".join(f"{_quote_param(k)}={_quote_param(v)}" for k, v in sorted(params.items()))
        status, _, body = self._send(self.base_path, query, MAX_PAGE_BYTES)
        if status != 200:
            raise Fallback(f"LIST answered {status}")
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:  # S3 sends none: no entity tricks
            raise Fallback("a listing page declares a document type")
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise Fallback(f"a listing page did not parse: {exc}") from None
        if root.tag != f"{_S3_NS}ListBucketResult":
            raise Fallback(f"a listing page is a {root.tag[:80]!r}, not a ListBucketResult")
        entries: list[tuple[str, str]] = []
        for item in root.iterfind(f"{_S3_NS}Contents"):
            entries.append((item.findtext(f"{_S3_NS}Key", ""), item.findtext(f"{_S3_NS}ETag", "")))
        truncated = root.findtext(f"{_S3_NS}IsTruncated", "false") == "true"
        following = root.findtext(f"{_S3_NS}NextContinuationToken", "") if truncated else ""
        if truncated and not following:
            raise Fallback("a truncated listing page gave no continuation token")
        return entries, following

    def _send(self, path: str, query: str, limit: int) -> tuple[int, dict[str, str], bytes]:
        """GET ``path?query`` signed; the status, headers (lower-case names) and body.

        Raises:
            Fallback: The connection failed twice, or the body is over ``limit`` bytes.
        """
        headers = self.sign(path, query)
        target = f"{path}?{query}" if query else path
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more
            conn = self._checkout() if attempt == 1 else self._connect()
            try:
                conn.request("GET", target, headers=headers)
                response = conn.getresponse()
                if response.status != 200:
                    body = b""  # not read: the answer goes through boto3
                else:
                    size = response.getheader("content-length")
                    if size is not None and (not size.isdigit() or int(size) > limit):
                        conn.close()
                        raise Fallback(f"an answer of {size[:20]} bytes, over {limit:,}")
                    body = response.read(limit + 1)
                    if len(body) > limit:
                        conn.close()
                        raise Fallback(f"an answer over {limit:,} bytes")
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if attempt == 2 or isinstance(exc, ssl.SSLError):
                    raise Fallback(f"connection failed: {type(exc).__name__}") from None
                continue
            if response.isclosed() and not response.will_close:
                self._checkin(conn)  # the answer was read to its end: the connection is clean
            else:
                conn.close()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        raise AssertionError("unreachable")

    def _read(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """GET ``path`` signed, as plain HTTP/1.1 on a kept-alive socket; status, headers, body.

        Raises:
            Fallback: The connection failed twice, or the answer is not a plain
                HTTP/1.x answer with a body of known length up to `MAX_OBJECT_BYTES`.
        """
        lines = [f"GET {path} HTTP/1.1"]
        lines.extend(f"{name}: {value}" for name, value in self.sign(path, "").items())
        head = "\r\n".join(lines)
        if head.count("\n") != len(lines) - 1 or "\r" in head.replace("\r\n", ""):
            raise Fallback("a header value holds a line break")  # never sent as a header
        try:
            request = (head + "\r\n\r\n").encode("ascii")
        except UnicodeEncodeError:
            raise Fallback("a header value is not ASCII") from None
        for attempt in (1, 2):  # a kept-alive socket the server closed meanwhile: once more
            sock: socket.socket | None = None
            try:
                sock = self._checkout_socket() if attempt == 1 else self._connect_socket()
                sock.sendall(request)
                status, headers, body, reusable = _answer(sock, MAX_OBJECT_BYTES)
            except Fallback:
                if sock is not None:
                    sock.close()
                raise
            except OSError as exc:
                if sock is not None:
                    sock.close()
                if attempt == 2 or isinstance(exc, ssl.SSLError):
                    raise Fallback(f"connection failed: {type(exc).__name__}") from None
                continue
            if reusable:
                self._checkin_socket(sock)
            else:
                sock.close()
            return status, headers, body
        raise AssertionError("unreachable")

    def _connect_socket(self) -> socket.socket:
        sock = socket.create_connection(self._address, timeout=self.timeout)
        if self._context is None:
            return sock
        try:
            return self._context.wrap_socket(sock, server_hostname=self._address[0])
        except BaseException:
            sock.close()
            raise

    def _checkout_socket(self) -> socket.socket:
        with self._idle_lock:
            if self._idle_sockets:
                return self._idle_sockets.pop()
        return self._connect_socket()

    def _checkin_socket(self, sock: socket.socket) -> None:
        with self._idle_lock:
            if not self._closed and len(self._idle_sockets) < _MAX_IDLE:
                self._idle_sockets.append(sock)
                return
        sock.close()

    def _connect(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(
                self.netloc, timeout=self.timeout, context=self._context
            )
        return http.client.HTTPConnection(self.netloc, timeout=self.timeout)

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
            sockets, self._idle_sockets = self._idle_sockets, []
        for conn in idle:
            conn.close()
        for sock in sockets:
            sock.close()

    # -- AWS Signature Version 4 -------------------------------------------
    def sign(self, path: str, query: str, *, stamp: str = "") -> dict[str, str]:
        """The headers of a signed GET of ``path?query`` (already URI-encoded).

        The headers, canonical request and signature botocore's `S3SigV4Auth`
        makes for the same request: host, payload digest (of the empty body)
        and date are signed, and the session token when there is one.

        Args:
            path: The URI-encoded path.
            query: The URI-encoded query, without ``?`` ("" for none).
            stamp: The signing time as ``YYYYMMDDTHHMMSSZ``; now when empty.

        Raises:
            Fallback: The credentials are gone (expired and not refreshable).
        """
        frozen = self._credentials.get_frozen_credentials()  # refreshed when due
        if not frozen.access_key or not frozen.secret_key:
            raise Fallback("no credentials to sign with")
        stamp = stamp or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        day = stamp[:8]
        signed = {"host": self._host, "x-amz-content-sha256": _EMPTY_SHA256, "x-amz-date": stamp}
        if frozen.token:
            signed["x-amz-security-token"] = frozen.token
        names = ";".join(signed)  # already in sorted order
        pairs = sorted(pair.partition("=")[::2] for pair in query.split("&")) if query else []
        canonical = "\n".join(
            [
                "GET",
                path,  # S3: the path as sent, not normalised
                "&".join(f"{k}={v}" for k, v in pairs),
                *(f"{name}:{' '.join(value.split())}" for name, value in signed.items()),
                "",
                names,
                _EMPTY_SHA256,
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = (
            f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n"
            + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        )
        signature = hmac.new(
            self._key_for(frozen.secret_key, day), to_sign.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        headers = {
            "Host": self._host,
            "X-Amz-Date": stamp,
            "X-Amz-Content-SHA256": _EMPTY_SHA256,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{scope}, "
            f"SignedHeaders={names}, Signature={signature}",
        }
        if frozen.token:
            headers["X-Amz-Security-Token"] = frozen.token
        return headers

    def _key_for(self, secret: str, day: str) -> bytes:
        """The SigV4 signing key of ``secret`` on ``day`` in this region, derived once."""
        known = self._signing_key
        if known is not None and known[0] == (secret, day):
            return known[1]
        key = f"AWS4{secret}".encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
        self._signing_key = ((secret, day), key)
        return key


def _answer(sock: socket.socket, limit: int) -> tuple[int, dict[str, str], bytes, bool]:
    """Read one HTTP/1.x answer: status, headers (lower-case names), body, and whether the
    socket may carry another request. Only a 200's body is read (up to ``limit`` bytes).

    Raises:
        Fallback: The answer is not HTTP/1.x, its head is over `MAX_HEAD_BYTES`,
            or a 200 has no plain ``Content-Length`` (chunked) or one over ``limit``.
        OSError: The connection closed or failed before the answer's end.
    """
    data = b""
    while (end := data.find(b"\r\n\r\n")) < 0:
        if len(data) > MAX_HEAD_BYTES:
            raise Fallback(f"an answer's head over {MAX_HEAD_BYTES:,} bytes")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("the connection closed before an answer")
        data += chunk
    lines = data[:end].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if version not in ("HTTP/1.1", "HTTP/1.0") or not code.isdigit() or rest[3:4] not in ("", " "):
        raise Fallback(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise Fallback(f"a malformed header line {line[:80]!r}")
        name, value = name.lower(), value.strip()
        if name in headers:
            if name == "content-length" and headers[name] != value:
                raise Fallback("two different Content-Length headers")
            value = f"{headers[name]}, {value}"
        headers[name] = value
    if int(code) != 200:
        return int(code), headers, b"", False  # not read: the answer goes through boto3
    size = headers.get("content-length", "").partition(",")[0].strip()
    if "transfer-encoding" in headers or not size.isdigit():
        raise Fallback("an answer without a plain Content-Length")
    if int(size) > limit:
        raise Fallback(f"an answer of {size[:20]} bytes, over {limit:,}")
    wanted = int(size)
    parts = [data[end + 4 :]]
    got = len(parts[0])
    while got < wanted:
        chunk = sock.recv(min(wanted - got, 1 << 20))
        if not chunk:
            raise ConnectionResetError("the connection closed inside an answer")
        parts.append(chunk)
        got += len(chunk)
    if got != wanted:
        raise Fallback("an answer longer than its Content-Length")
    keep = headers.get("connection", "").lower()
    reusable = "close" not in keep and (version == "HTTP/1.1" or "keep-alive" in keep)
    return 200, headers, b"".join(parts), reusable


def _host_header(url: str) -> str:
    """The Host header of ``url``: its host, with its port unless it is the scheme's default."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{host}:{parts.port}" if parts.port and parts.port != default else host


def _default_ca_bundle() -> str | None:
    """The CA bundle botocore verifies with when ``verify`` is not given."""
    bundle = os.environ.get("AWS_CA_BUNDLE")
    if bundle:
        return bundle
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
        credentials = fs.signing_credentials() if DirectS3.usable(client, fs.bucket) else None
        if credentials is not None:
            verify = fs._boto_kwargs.get("verify")
            try:
                direct = DirectS3(
                    client,
                    fs.bucket,
                    credentials=credentials,
                    timeout=max(fs.connect_timeout, fs.read_timeout),
                    verify=True if verify is None else verify,
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
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError) as exc:
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
