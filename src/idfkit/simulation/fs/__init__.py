"""Storage backends behind one small protocol; the contract is in ``base``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from idfkit.simulation.fs.base import (
    FileInfo,
    FileSystem,
    SupportsConditionalWrite,
    SupportsLocalTransfer,
    SupportsStat,
    download_file,
    file_info,
    join,
    matching_paths,
    normalize_path,
    upload_file,
)
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.fs.memory import MemoryFileSystem

if TYPE_CHECKING:
    from idfkit.simulation.fs.async_ import (
        AsyncFileSystem,
        AsyncFileSystemAdapter,
        AsyncLocalFileSystem,
        AsyncS3FileSystem,
    )
    from idfkit.simulation.fs.azure import AzureBlobFileSystem
    from idfkit.simulation.fs.gcs import GCSFileSystem
    from idfkit.simulation.fs.s3 import S3FileSystem

__all__ = [
    "AsyncFileSystem",
    "AsyncFileSystemAdapter",
    "AsyncLocalFileSystem",
    "AsyncS3FileSystem",
    "AzureBlobFileSystem",
    "FileInfo",
    "FileSystem",
    "GCSFileSystem",
    "LocalFileSystem",
    "MemoryFileSystem",
    "S3FileSystem",
    "SupportsConditionalWrite",
    "SupportsLocalTransfer",
    "SupportsStat",
    "download_file",
    "file_info",
    "join",
    "matching_paths",
    "normalize_path",
    "upload_file",
]


#: The cloud backends, each imported on first use from here and nowhere else (the
#: package, URLs, the demo and the test server ask this module): their modules are
#: light, as each client library loads on first use, but `import idfkit.simulation`
#: stays minimal.
LAZY_BACKENDS = {"S3FileSystem": "s3", "AzureBlobFileSystem": "azure", "GCSFileSystem": "gcs"}

#: The asyncio façades, loaded on first use too: a synchronous run never needs asyncio.
_LAZY_ASYNC = dict.fromkeys(
    ("AsyncFileSystem", "AsyncFileSystemAdapter", "AsyncLocalFileSystem", "AsyncS3FileSystem"),
    "async_",
)


def __getattr__(name: str) -> Any:
    module = LAZY_BACKENDS.get(name) or _LAZY_ASYNC.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
