"""A loopback HTTP proxy in front of an S3 server that injects faults on chosen requests.

Every request is forwarded to the upstream server unless a rule picks it;
a rule can answer 500 or 503 SlowDown, reset the connection halfway through
the response body, delay the answer, or hold the request until released.
The proxy counts what it saw and what it did, so tests can report figures.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
FAULTS = ("500", "503", "reset", "delay")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Rule = Callable[[Request], str | None]  # returns a fault name, "hold", or None to pass


@dataclass
class FaultProxy:
    upstream: str
    rule: Rule | None = None
    delay_seconds: float = 0.3
    forward_held: bool = True
    counts: Counter[str] = field(default_factory=Counter)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        proxy = self
        target = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                body = self._read_body()
                request = Request(self.command, self.path, dict(self.headers), body)
                action = proxy.rule(request) if proxy.rule else None
                with proxy.lock:
                    proxy.counts["requests"] += 1
                    if action:
                        proxy.counts[action] += 1
                if action == "hold":
                    proxy.held.set()
                    proxy.release.wait(60)
                    if not proxy.forward_held:  # the request dies with its client
                        self.close_connection = True
                        return
                if action in ("500", "501", "503"):
                    self._error(int(action))
                    return
                if action == "delay":
                    time.sleep(proxy.delay_seconds)
                status, headers, payload = self._forward(
                    request, target.hostname or "", target.port or 80
                )
                if action == "hold-after":  # stored upstream, but the client never hears back
                    proxy.held.set()
                    proxy.release.wait(60)
                if action == "reset":
                    self._reset(status, headers, payload)
                    return
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _forward(
                self, request: Request, host: str, port: int
            ) -> tuple[int, list[tuple[str, str]], bytes]:
                conn = http.client.HTTPConnection(host, port, timeout=60)
                headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Content-Length"] = str(len(request.body))
                conn.request(request.method, request.path, body=request.body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                conn.close()
                return response.status, response.getheaders(), payload

            def _error(self, status: int) -> None:
                code = {500: "InternalError", 501: "NotImplemented"}.get(status, "SlowDown")
                payload = (
                    f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                    f"<Message>injected fault</Message></Error>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _reset(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
                # Promise the whole body, send half, then reset the connection (RST, not FIN).
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(max(len(payload), 2)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                self.close_connection = True
                self.connection.close()

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients resetting connections is what these tests are about

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def random_faults(rate: float, seed: int = 1234) -> Rule:
    """A rule that picks one of the faults for a share ``rate`` of the requests."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def rule(_: Request) -> str | None:
        with lock:
            if rng.random() < rate:
                return rng.choice(FAULTS)
        return None

    return rule
