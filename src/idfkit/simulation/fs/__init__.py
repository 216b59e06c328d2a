"""Storage backends behind one small protocol; the contract is in ``base``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idfkit.simulation.fs.async_ import (
    AsyncFileSystem,
    AsyncFileSystemAdapter,
    AsyncLocalFileSystem,
    AsyncS3FileSystem,
)
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


def __getattr__(name: str) -> Any:
    # S3FileSystem's module is light (boto3 is imported on first use), but
    # importing it lazily keeps `import idfkit.simulation` minimal.
    if name == "S3FileSystem":
        from idfkit.simulation.fs.s3 import S3FileSystem

        return S3FileSystem
    if name == "AzureBlobFileSystem":
        from idfkit.simulation.fs.azure import AzureBlobFileSystem

        return AzureBlobFileSystem
    if name == "GCSFileSystem":
        from idfkit.simulation.fs.gcs import GCSFileSystem

        return GCSFileSystem
    raise AttributeError(name)
