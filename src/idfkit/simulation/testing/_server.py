"""A real S3-compatible server on loopback: moto's server, reached over HTTP."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idfkit.simulation.fs.s3 import S3FileSystem

__all__ = [
    "ACCESS_KEY",
    "REGION",
    "SECRET_KEY",
    "LocalS3Server",
    "atomic_moto_puts",
    "free_port",
    "stop_process",
]

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


_PUT_LOCK = threading.Lock()


def atomic_moto_puts() -> None:
    """Make moto decide each PutObject, its condition and its write, under one lock, as S3 does.

    moto checks ``If-None-Match`` / ``If-Match`` and then stores the object in
    a second step, so two racing conditional writers can both pass the check
    (and the loser's reply then reads a buffer the winner closed). S3 decides
    conditional writes one at a time, and claims and manifests rely on it.
    This applies to moto in this whole process, in-process mocks included;
    calling it again does nothing.
    """
    from moto.s3.responses import S3Response

    with _PUT_LOCK:
        put = S3Response.put_object
        if getattr(put, "_atomic", False):
            return

        def put_object(self: Any) -> Any:
            with _PUT_LOCK:
                return put(self)

        put_object._atomic = True  # type: ignore[attr-defined]
        S3Response.put_object = put_object  # type: ignore[method-assign]


def _serve(argv: list[str]) -> None:
    # The child process of `LocalS3Server(process=True)`.
    import moto.server

    atomic_moto_puts()
    moto.server.main(argv)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago.

    Args:
        host: The address to bind to.
    """
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Ask a server process to stop; kill it if it has not within 10 s.

    Args:
        proc: The server's process.
    """
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class LocalS3Server:
    """moto's S3 server on 127.0.0.1, in a thread or (``process=True``) a child process.

    Its conditional writes are atomic, as S3's are (see `atomic_moto_puts`).
    A child process keeps the stored objects out of this process's memory,
    which matters when measuring it.

    Args:
        host: The address to serve on.
        port: The port; 0 picks a free one.
        process: Run the server in a child process rather than a thread.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, process: bool = False) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.process = process
        self._thread_server: Any = None
        self._proc: subprocess.Popen[Any] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalS3Server:
        try:
            import moto.server
        except ImportError as exc:
            raise ImportError(
                'LocalS3Server needs moto\'s server: pip install "moto[server]"'
            ) from exc
        if self.process:
            env = {
                **os.environ,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            }
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys; from idfkit.simulation.testing._server import _serve; "
                    "_serve(sys.argv[1:])",
                    *("-H", self.host, "-p", str(self.port)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        else:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
            atomic_moto_puts()
            self._thread_server = moto.server.ThreadedMotoServer(
                ip_address=self.host, port=self.port, verbose=False
            )
            self._thread_server.start()
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"moto server exited with code {self._proc.returncode}")
            try:
                urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server on {self.endpoint_url} did not start in {timeout:g} s")

    def stop(self) -> None:
        if self._thread_server is not None:
            self._thread_server.stop()
            self._thread_server = None
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None

    def __enter__(self) -> LocalS3Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def filesystem(
        self, bucket: str, prefix: str = "", *, create: bool = True, **kwargs: Any
    ) -> S3FileSystem:
        """An S3FileSystem on this server (creating the bucket unless ``create`` is False).

        Args:
            bucket: The bucket.
            prefix: The key prefix below which every path lives.
            create: Create the bucket first.
            **kwargs: More `S3FileSystem` keywords (they override the
                server's endpoint and test credentials).
        """
        from idfkit.simulation.fs import S3FileSystem

        options: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": REGION,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            **kwargs,
        }
        fs = S3FileSystem(bucket, prefix, **options)
        if create:
            fs.client.create_bucket(Bucket=bucket)
        return fs
