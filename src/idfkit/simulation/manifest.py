"""The run manifest: written last, trusted by every reader."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError

from idfkit.exceptions import IncompleteResultError

__all__ = [
    "MANIFEST_NAME",
    "InputRecord",
    "JobBinding",
    "ManifestFile",
    "Metric",
    "PublishingMarker",
    "RunManifest",
    "hash_file",
    "read_manifest",
]

MANIFEST_NAME = "idfkit-manifest.json"
_CHUNK = 1024 * 1024


class ManifestFile(BaseModel):
    """One output file as it was uploaded."""

    model_config = ConfigDict(frozen=True)

    name: str
    size: int
    sha256: str


class InputRecord(BaseModel):
    """A model or weather file the run used (its bytes may live elsewhere)."""

    model_config = ConfigDict(frozen=True)

    name: str
    sha256: str


class JobBinding(BaseModel):
    """The study job a run was made for, so a stale result never reads as a new job's success.

    ``model_sha256`` and ``weather_sha256`` are the digests of the job's
    stored inputs; ``options_sha256`` digests its run options and parameters.
    """

    model_config = ConfigDict(frozen=True, strict=True)

    model_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    weather_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    options_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Metric(BaseModel):
    """One key metric of a run: a finite number and its unit."""

    model_config = ConfigDict(frozen=True, strict=True)

    value: Annotated[float, Field(allow_inf_nan=False)]
    units: str


class RunManifest(BaseModel):
    """What a finished run produced. No manifest means the run is not finished."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    state: Literal["complete"] = "complete"
    schema_version: int = 1
    run_id: str
    label: str = ""
    success: bool
    exit_code: int
    runtime_seconds: float
    energyplus_version: str
    output_prefix: str
    files: tuple[ManifestFile, ...]
    model: InputRecord
    weather: InputRecord | None
    started_at: datetime
    finished_at: datetime
    idfkit_version: str
    error_summary: str = ""
    job: JobBinding | None = None
    host: str = ""  # the machine that published the run
    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    metrics: dict[str, Metric] = Field(default_factory=dict)

    def file(self, name: str) -> ManifestFile | None:
        return next((f for f in self.files if f.name == name), None)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


class PublishingMarker(BaseModel):
    """Stands in the manifest's place from the start of a run until its manifest is written.

    A run that dies before publishing its manifest leaves this behind, so its
    directory reads as incomplete, never as a plain EnergyPlus folder.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    state: Literal["publishing"] = "publishing"
    run_id: str
    label: str = ""
    started_at: datetime
    host: str = ""  # the machine running it, named when another run is refused

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


_MANIFEST_ADAPTER: TypeAdapter[RunManifest | PublishingMarker] = TypeAdapter(
    Annotated[RunManifest | PublishingMarker, Field(discriminator="state")]
)


def read_manifest(text: str | bytes, *, where: str = "") -> RunManifest | PublishingMarker:
    """Parse what stands at a manifest path; a corrupt one means the result is incomplete."""
    try:
        return _MANIFEST_ADAPTER.validate_json(text)
    except ValidationError as exc:
        raise IncompleteResultError(f"manifest {where} is unreadable: {exc}") from None


def hash_file(path: Path) -> tuple[int, str]:
    """Size and sha256 of a local file, read in pieces."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
