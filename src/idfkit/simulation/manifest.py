"""The run manifest: written last, validated strictly by every reader.

What a reader finds at a manifest path is untrusted input. Before any of its
values names a local path or a success, it is validated strictly: digests are
64 lowercase hex digits, file names are plain names inside the run folder,
sizes are never negative, booleans and integers are real JSON booleans and
integers, and a manifest from a newer schema than this code knows is refused.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from idfkit.simulation.exceptions import IncompleteResultError
from idfkit.simulation.filenames import OutputSuffix
from idfkit.simulation.fs.base import hash_file

__all__ = [
    "MANIFEST_NAME",
    "SCHEMA_VERSION",
    "InputRecord",
    "JobBinding",
    "ManifestFile",
    "Metric",
    "PublishingMarker",
    "RunManifest",
    "bounded_json",
    "hash_file",
    "read_manifest",
]

MANIFEST_NAME = "idfkit-manifest.json"
SCHEMA_VERSION = 1
"""The newest manifest schema this code reads (and the one it writes)."""

_HEX = frozenset("0123456789abcdef")

#: The most a manifest (or a cache pointer) may hold: far above any real one.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: The deepest nesting of brackets a stored JSON document may have.
MAX_JSON_DEPTH = 64
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BACKSLASH = ord("\\")
#: How much of a stored JSON document the depth check looks at at once.
_PIECE = 1024 * 1024


def bounded_json(
    text: str | bytes,
    *,
    where: str,
    max_bytes: int = MAX_MANIFEST_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Parse stored JSON only if it is at most `max_bytes` long and `max_depth` deep.

    The one gate through which the package parses JSON read back from
    storage (manifests, cache pointers, study indexes): a crafted document
    can cost neither unbounded memory nor a `RecursionError`.

    Args:
        text: The stored JSON.
        where: The document's location, named in errors.
        max_bytes: The largest size accepted.
        max_depth: The deepest nesting of arrays and objects accepted.

    Returns:
        The parsed value.

    Raises:
        IncompleteResultError: The document is too large, too deep or not JSON.
    """
    data = within_json_bounds(text, where=where, max_bytes=max_bytes, max_depth=max_depth)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise IncompleteResultError(f"{where} is not JSON: {exc}") from None


def within_json_bounds(text: str | bytes, *, where: str, max_bytes: int, max_depth: int) -> bytes:
    """``text`` as bytes, once it is known to be at most `max_bytes` long and `max_depth` deep.

    Raises:
        IncompleteResultError: The document is too large or too deep.
    """
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(data) > max_bytes:
        raise IncompleteResultError(
            f"{where} is {len(data):,} bytes, more than the {max_bytes:,} a stored "
            "JSON document may hold; not read"
        )
    # Brackets outside strings: with every escape pair gone, quotes delimit the strings.
    # A piece at a time: split whole, a 60 MB study index made ~2 million bytes objects
    # (~440 MB at once). Only the last piece may end on a backslash: no escape pair is cut.
    depth = 0
    in_string = False  # whether the piece starts inside a string
    start = 0
    while start < len(data):
        end = start + _PIECE
        while end < len(data) and data[end - 1] == _BACKSLASH:
            end += 1
        piece = data[start:end]
        unescaped = _ESCAPE.sub(b"", piece) if b"\\" in piece else piece
        parts = unescaped.split(b'"')
        outside = b"".join(parts[1 if in_string else 0 :: 2])
        in_string ^= len(parts) % 2 == 0  # an odd count of quotes in the piece
        for char in outside.translate(None, _NOT_BRACKETS):
            depth += 1 if char in b"[{" else -1
            if depth > max_depth:
                raise IncompleteResultError(
                    f"{where} nests deeper than {max_depth} levels; not read"
                )
        start = end
    return data


def _check_sha256(value: str) -> str:
    if len(value) != 64 or not _HEX.issuperset(value):
        raise ValueError("must be 64 lowercase hexadecimal digits")
    return value


def _check_file_name(value: str) -> str:
    if not value.strip() or value in (".", "..") or any(c in value for c in "/\\\x00"):
        raise ValueError(f"{value!r} is not a plain file name")
    return value


def _check_prefix(value: str) -> str:
    if value in (".", "..") or any(c in value for c in "/\\\x00"):
        raise ValueError(f"{value!r} is not a plain file-name prefix")
    return value


Sha256 = Annotated[str, AfterValidator(_check_sha256)]
FileName = Annotated[str, AfterValidator(_check_file_name)]


class ManifestFile(BaseModel):
    """One output file as it was uploaded."""

    model_config = ConfigDict(frozen=True)

    name: FileName
    size: Annotated[int, Field(ge=0)]
    sha256: Sha256


class InputRecord(BaseModel):
    """A model or weather file the run used (its bytes may live elsewhere)."""

    model_config = ConfigDict(frozen=True)

    name: str
    sha256: Sha256


class JobBinding(BaseModel):
    """The study job a run was made for, so a stale result never reads as a new job's success.

    ``model_sha256`` and ``weather_sha256`` are the digests of the job's
    stored inputs; ``options_sha256`` digests its run options and parameters.
    """

    model_config = ConfigDict(frozen=True, strict=True)

    model_sha256: Sha256
    weather_sha256: Sha256
    options_sha256: Sha256


class Metric(BaseModel):
    """One key metric of a run: a finite number and its unit."""

    model_config = ConfigDict(frozen=True, strict=True)

    value: Annotated[float, Field(allow_inf_nan=False)]
    units: str


class RunManifest(BaseModel):
    """What a finished run produced. No manifest means the run is not finished."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    state: Literal["complete"] = "complete"
    schema_version: Annotated[int, Field(ge=1, le=SCHEMA_VERSION)] = SCHEMA_VERSION
    run_id: str
    label: str = ""
    success: bool
    exit_code: int
    runtime_seconds: Annotated[float, Field(ge=0)]
    energyplus_version: str
    output_prefix: Annotated[str, AfterValidator(_check_prefix)]
    output_suffix: OutputSuffix | None = None
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
    #: What the run added to its copy of the model so that the key metrics can be read.
    added_outputs: tuple[str, ...] = ()
    #: Why a study run has no key metrics, when it has none ("" otherwise).
    metrics_note: str = ""

    @model_validator(mode="after")
    def _names_unique(self) -> RunManifest:
        names = [f.name for f in self.files]
        if len(set(names)) != len(names):
            raise ValueError("a file is listed twice")
        return self

    def file(self, name: str) -> ManifestFile | None:
        """The entry of one listed file, or None when the run did not list it.

        Args:
            name: The file's name relative to the run folder.
        """
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
    """Validate what stands at a manifest path, strictly.

    Args:
        text: The stored JSON.
        where: The manifest's location, named in errors.

    Returns:
        The finished run's manifest, or the marker of a run still publishing.

    Raises:
        IncompleteResultError: The text is not a valid manifest (the result
            cannot be trusted, so it reads as incomplete; too large or too
            deeply nested counts as invalid), or it was written
            with a newer `schema_version` than this code reads.
    """
    data = within_json_bounds(
        text, where=f"manifest {where}", max_bytes=MAX_MANIFEST_BYTES, max_depth=MAX_JSON_DEPTH
    )
    try:
        # pydantic's JSON parser refuses all that json.loads refuses (and more), so a
        # valid manifest is parsed once; what fails is parsed again to say why.
        return _MANIFEST_ADAPTER.validate_json(data, strict=True)
    except ValidationError as exc:
        raw: Any = bounded_json(data, where=f"manifest {where}")  # not JSON: it says so
        version = raw.get("schema_version") if isinstance(raw, dict) else None
        if type(version) is int and version > SCHEMA_VERSION:
            import idfkit

            raise IncompleteResultError(
                f"manifest {where} has schema_version {version}, newer than the "
                f"{SCHEMA_VERSION} this idfkit ({idfkit.__version__}) reads; upgrade idfkit "
                "to read this result"
            ) from None
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc'][1:]) or 'manifest'}: {err['msg']}"
            for err in exc.errors()
        )
        raise IncompleteResultError(f"manifest {where} is invalid: {problems}") from None
