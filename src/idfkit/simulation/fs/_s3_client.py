"""The boto3 S3 clients of a process: checked endpoints and one shared session.

boto3 is imported here (and by the modules of the S3 backend) on first use
only, so ``idfkit.simulation`` imports without it.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from idfkit.simulation._arguments import NAME, argument_error
from idfkit.simulation.fs._redact import REDACTOR

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from mypy_boto3_s3 import S3Client

    from idfkit.simulation.fs.s3 import S3FileSystem

__all__ = [
    "check_endpoint",
    "freeze_session",
    "make_client",
    "shared_client",
    "signing_credentials",
    "transfer_config",
]

_SHARED: dict[str, Any] = {"pid": -1, "session": None}
_SHARED_LOCK = threading.Lock()


def check_endpoint(endpoint_url: str | None) -> None:
    """Refuse an endpoint without a scheme (boto3 says only "Invalid endpoint").

    Args:
        endpoint_url: The endpoint given, or None to check botocore's environment variables.
    """
    if endpoint_url is not None and "://" not in endpoint_url:
        raise argument_error(
            ValueError,
            f"{NAME} {endpoint_url!r} has no scheme",
            parameter="endpoint_url",
            advice=f"pass endpoint_url='http://{endpoint_url}' (or https://)",
        )
    for variable in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        value = os.environ.get(variable)
        if endpoint_url is None and value and "://" not in value:
            raise ValueError(
                f"{variable}={value!r} has no scheme; set it to http://{value} (or https://)"
            )


def make_client(fs: S3FileSystem) -> S3Client:
    """A client for ``fs``: its botocore settings, from its session or the shared one.

    Args:
        fs: The backend (its retry, time-out, pool and checksum settings, its
            credentials or session, and any other boto3 keyword it was given).
    """
    from botocore.config import Config

    config = Config(
        retries={"mode": fs.retry_mode, "total_max_attempts": fs.max_attempts},
        connect_timeout=fs.connect_timeout,
        read_timeout=fs.read_timeout,
        max_pool_connections=max(10, fs.max_concurrency * 2),
        request_checksum_calculation=fs.checksum,
        response_checksum_validation=fs.checksum,
    )
    extra = dict(fs._boto_kwargs)
    if extra.get("config") is not None:
        config = config.merge(extra["config"])
    extra["config"] = config
    REDACTOR.install()
    if fs._user_session is not None:
        client: S3Client = fs._user_session.client(
            "s3", endpoint_url=fs.endpoint_url, region_name=fs.region_name, **extra
        )
        return client
    return shared_client(
        endpoint_url=fs.endpoint_url,
        region_name=fs.region_name,
        aws_access_key_id=_reveal(fs._access_key),
        aws_secret_access_key=_reveal(fs._secret_key),
        aws_session_token=_reveal(fs._session_token),
        **extra,
    )


def signing_credentials(fs: S3FileSystem) -> Any:
    """The botocore credentials ``fs``'s client signs with, or None (see the method).

    Args:
        fs: The backend.
    """
    if fs._user_client is not None:
        return None
    fs.client  # noqa: B018 - made first: the shared session is then this process's
    if fs._user_session is not None:
        return fs._user_session.get_credentials()
    if fs._access_key is not None or fs._secret_key is not None:
        if fs._access_key is None or fs._secret_key is None:
            return None
        from botocore.credentials import Credentials

        return Credentials(
            fs._access_key.get_secret_value(),
            fs._secret_key.get_secret_value(),
            _reveal(fs._session_token),
        )
    with _SHARED_LOCK:
        session = _SHARED["session"] if _SHARED["pid"] == os.getpid() else None
    return session.get_credentials() if session is not None else None


def freeze_session(state: dict[str, Any]) -> None:
    """Replace a boto3 session in a pickled backend's ``state`` by its present credentials.

    A session does not pickle; its keys (and its region, unless one was
    given) travel instead, kept as secrets.

    Args:
        state: A copy of the backend's ``__dict__``, changed in place.
    """
    session = state.pop("_user_session")
    if session is not None:
        creds = session.get_credentials()
        if creds is not None:
            frozen = creds.get_frozen_credentials()
            state["_access_key"] = SecretStr(frozen.access_key)
            state["_secret_key"] = SecretStr(frozen.secret_key)
            state["_session_token"] = SecretStr(frozen.token) if frozen.token else None
        state["region_name"] = state["region_name"] or session.region_name
    state["_user_session"] = None


def transfer_config(fs: S3FileSystem) -> TransferConfig:
    """The managed-transfer settings (part size, threshold, threads) of ``fs``.

    Args:
        fs: The backend.
    """
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(
        multipart_threshold=fs.multipart_threshold,
        multipart_chunksize=fs.multipart_chunksize,
        max_concurrency=fs.max_concurrency,
        use_threads=True,
    )


def shared_client(**options: Any) -> S3Client:
    """A client from this process's one boto3 session.

    The session holds the loaded service description and endpoint data, so
    every S3FileSystem after the first builds its client in milliseconds.
    Sessions are not thread-safe, so clients are made under a lock; a forked
    child makes its own session.

    Args:
        **options: Keywords of ``Session.client("s3", ...)``.
    """
    import boto3.session

    with _SHARED_LOCK:
        if _SHARED["pid"] != os.getpid() or _SHARED["session"] is None:
            _SHARED["session"] = boto3.session.Session()
            _SHARED["pid"] = os.getpid()
        client: S3Client = _SHARED["session"].client("s3", **options)
        return client


def _reveal(secret: SecretStr | None) -> str | None:
    """The value of a kept secret, None for none."""
    return secret.get_secret_value() if secret is not None else None
