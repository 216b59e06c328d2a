"""Naming a storage location in one string: ``s3://bucket/prefix``, ``file://``, or a path."""

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
    ``AWS_ENDPOINT_URL``). The key prefix is taken verbatim, as the AWS CLI
    does: ``s3://bucket/exp#2`` is rooted at ``exp#2/`` and ``%2F`` stays
    three characters. ``file:///path`` and plain paths give a
    `LocalFileSystem` rooted there. Other schemes go through fsspec when it
    is installed (``gs://``, ``az://``, ``memory://``, ...).

    Raises:
        ValueError: An ``s3://`` URL without a bucket, or with an invalid
            bucket name or prefix.
    """
    text = str(url)
    if text[:5].lower() == "s3://" or text.lower() in ("s3:", "s3:/"):
        return _s3(text, options)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return LocalFileSystem(root=unquote(parsed.path), **options)
    if len(parsed.scheme) <= 1:  # a plain path (or a Windows drive letter)
        return LocalFileSystem(root=text, **options)
    from idfkit.simulation.fs.fsspec import FsspecFileSystem

    return FsspecFileSystem.from_url(text, **options)


def _s3(text: str, options: dict[str, Any]) -> FileSystem:
    bucket, _, prefix = text[5:].partition("/")
    if not bucket:
        raise ValueError(f"{text!r} names no bucket; write s3://bucket/prefix")
    from idfkit.simulation.fs.s3 import S3FileSystem

    return S3FileSystem(bucket, prefix, **options)
