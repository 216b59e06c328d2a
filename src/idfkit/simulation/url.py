"""Naming a storage location in one string: a cloud URL, ``file://``, or a path.

Clouds: ``s3://bucket/prefix``, ``az://container/prefix``, ``gs://bucket/prefix``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from idfkit.simulation.fs.base import FileSystem
from idfkit.simulation.fs.local import LocalFileSystem

__all__ = ["filesystem_from_url"]


def filesystem_from_url(url: str | Path, **options: Any) -> FileSystem:
    """A FileSystem rooted at ``url``.

    ``s3://bucket/prefix`` gives an `S3FileSystem` (``options`` go to its
    constructor, e.g. ``endpoint_url``; boto3 also honours
    ``AWS_ENDPOINT_URL``). ``az://container/prefix`` gives an
    `AzureBlobFileSystem` (credentials from ``AZURE_STORAGE_CONNECTION_STRING``
    or ``AZURE_STORAGE_ACCOUNT``, or ``options``), ``gs://bucket/prefix`` a
    `GCSFileSystem` (Google's credential chain; ``STORAGE_EMULATOR_HOST``
    points it at an emulator). The prefix is taken verbatim, as the clouds'
    CLIs do: ``s3://bucket/exp#2`` is rooted at ``exp#2/`` and ``%2F`` stays
    three characters. ``file:///path`` and plain paths give a
    `LocalFileSystem` rooted there. Other schemes go through fsspec when it
    is installed (``memory://``, ``abfs://``, ...).

    Args:
        url: The URL, or a local path.
        **options: Passed to the backend's constructor (for fsspec, its
            storage options).

    Raises:
        ValueError: A cloud URL without a bucket (container), or with an
            invalid bucket name or prefix.
        ImportError: The cloud's client library is missing; the message
            names the extra to install.
    """
    text = str(url)
    scheme = text[:5].lower()
    if scheme in _CLOUDS or text.lower() in ("s3:", "s3:/", "az:", "az:/", "gs:", "gs:/"):
        return _cloud(text, options)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return LocalFileSystem(root=unquote(parsed.path), **options)
    if len(parsed.scheme) <= 1:  # a plain path (or a Windows drive letter)
        return LocalFileSystem(root=text, **options)
    from idfkit.simulation.fs.fsspec import FsspecFileSystem

    return FsspecFileSystem.from_url(text, **options)


_CLOUDS = {"s3://": "S3FileSystem", "az://": "AzureBlobFileSystem", "gs://": "GCSFileSystem"}


def _cloud(text: str, options: dict[str, Any]) -> FileSystem:
    scheme = text[:2].lower()
    bucket, _, prefix = text[5:].partition("/")
    if not bucket:
        where = "container" if scheme == "az" else "bucket"
        raise ValueError(f"{text!r} names no {where}; write {scheme}://{where}/prefix")
    import idfkit.simulation.fs as backends

    backend: type[FileSystem] = getattr(backends, _CLOUDS[f"{scheme}://"])
    return backend(bucket, prefix, **options)  # type: ignore[call-arg]
