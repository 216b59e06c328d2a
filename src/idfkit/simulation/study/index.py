"""The job index of a study: written once by `write_study`, read by every worker."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, TypeVar, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

import idfkit
from idfkit.document import IDFDocument
from idfkit.simulation._arguments import argument_error
from idfkit.simulation._model import load_model, model_text
from idfkit.simulation.batch import SimulationJob
from idfkit.simulation.exceptions import IncompleteResultError, StudyError
from idfkit.simulation.fs.base import FileSystem, join, normalize_path
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    MAX_JSON_DEPTH,
    JobBinding,
    bounded_json,
    hash_file,
    within_json_bounds,
)
from idfkit.simulation.options import RunOptions

__all__ = [
    "STUDY_INDEX",
    "STUDY_SCHEMA_VERSION",
    "JobSpec",
    "StudyIndex",
    "load_study",
    "write_study",
]

STUDY_INDEX = "idfkit-study.json"

#: The version of the index format this package writes and reads. Version 2 keeps
#: a job's run options as one `options` object (version 1 had them loose).
STUDY_SCHEMA_VERSION = 2

#: Names at the top of a study that no job folder may take.
RESERVED_FOLDERS = ("inputs", STUDY_INDEX)

#: The largest study index read back (about a million jobs).
MAX_INDEX_BYTES = 1024 * 1024 * 1024

#: Where a study keeps its inputs: by kind, named by the SHA-256 of their content.
_STORED_INPUT = re.compile(r"inputs/(?:models|weather)/[0-9a-f]{64}\.[A-Za-z0-9]{1,12}")

#: Column names of a study's table that parameters may not take.
RESERVED_COLUMNS = ("index", "label", "status", "runtime_seconds", "exit_code", "error")


class JobSpec(BaseModel):
    """One job of a study, as a worker reads it. Paths are relative to the study."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    index: int
    label: str
    output_dir: str
    model: str
    weather: str
    options: RunOptions = RunOptions()
    parameters: dict[str, JsonValue] = Field(default_factory=dict)

    @field_validator("output_dir")
    @classmethod
    def _a_folder_of_its_own(cls, value: str) -> str:
        """A stored index is untrusted: its job folder must stay inside the study, off its names."""
        if normalize_path(value) != value:  # ValueError for a path that leaves the study
            raise ValueError(f"output_dir {value!r} is not a plain folder path inside the study")
        if problem := output_dir_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("model", "weather")
    @classmethod
    def _a_stored_input(cls, value: str, info: ValidationInfo) -> str:
        """The inputs a worker downloads are the study's own, named by their digest."""
        if _STORED_INPUT.fullmatch(value) is None:
            raise ValueError(
                f"{value!r} is not a study input (inputs/models/ or inputs/weather/<sha256>.<ext>)"
            )
        return _one_of(info, value)

    @field_validator("options")
    @classmethod
    def _options_once(cls, value: RunOptions, info: ValidationInfo) -> RunOptions:
        return _one_of(info, value)

    @model_validator(mode="after")
    def _fields_set_once(self, info: ValidationInfo) -> JobSpec:
        # pydantic gives every model its own set of the fields given (728 bytes for
        # seven); a job read back has them all, and a frozen model never adds to it.
        shared = _shared(info)
        if shared is not None and len(self.__pydantic_fields_set__) == len(_JOB_FIELDS):
            given = shared.setdefault(_JOB_FIELDS, self.__pydantic_fields_set__)
            object.__setattr__(self, "__pydantic_fields_set__", given)
        return self

    def binding(self) -> JobBinding:
        """What a run made for this job records in its manifest.

        The model and weather digests are those in the stored inputs' names
        (the study stores them content-addressed); the options digest covers
        every run option and the parameters, so changing any of them makes an
        earlier result stale.
        """
        options: dict[str, Any] = self.options.as_dict()
        options["parameters"] = self.parameters
        digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()
        return JobBinding(
            model_sha256=_stem(self.model),
            weather_sha256=_stem(self.weather),
            options_sha256=digest,
        )


_JOB_FIELDS = frozenset(JobSpec.model_fields)

#: The validation context's key under which `load_study` keeps one of each equal
#: value its jobs repeat: input paths, run options, the set of fields given (the
#: set is shared as it is, a plain set: a copy of a job copies it).
_SHARED = "idfkit-shared"
_Value = TypeVar("_Value", str, RunOptions)


def _shared(info: ValidationInfo) -> dict[Any, Any] | None:
    """Where `load_study` keeps one of each equal value of the index it reads, or None."""
    return info.context.get(_SHARED) if isinstance(info.context, dict) else None


def _one_of(info: ValidationInfo, value: _Value) -> _Value:
    """The first equal (immutable) ``value`` met while reading this index, else itself."""
    shared = _shared(info)
    return value if shared is None else cast(_Value, shared.setdefault(value, value))


class StudyIndex(BaseModel):
    """The job index of a study."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    schema_version: int = STUDY_SCHEMA_VERSION
    created_at: datetime
    idfkit_version: str
    jobs: tuple[JobSpec, ...]

    def parameter_names(self) -> list[str]:
        """Every parameter name of the study's jobs, in order of first appearance."""
        return list(dict.fromkeys(name for job in self.jobs for name in job.parameters))


def write_study(
    jobs: Sequence[SimulationJob],
    fs: FileSystem,
    study: str | PurePath = "",
    *,
    overwrite: bool = False,
    max_workers: int = 8,
) -> StudyIndex:
    """Store ``jobs`` as a study on ``fs``: inputs once each, then the job index.

    Each job's ``output_dir`` (or its label, or ``job-<index>``) names its
    results folder inside the study; a job's own ``fs`` is not used, since the
    study's backend holds inputs and results alike. A job's ``parameters``
    (JSON values) are kept in the index and become columns of the study's
    table. An existing study is refused unless ``overwrite`` is True.

    Args:
        jobs: The jobs, in index order.
        fs: The backend that holds the study.
        study: The study's folder on ``fs``.
        overwrite: Replace an existing study's index (results made for jobs
            that changed then read as stale).
        max_workers: Threads that upload the inputs.

    Returns:
        The index as written.

    Raises:
        StudyError: A study exists already, there are no jobs, two jobs share
            an output folder, or a parameter is not JSON or names a fixed column.
        FileNotFoundError: A model or weather file is missing.
    """
    root = normalize_path(study)
    index_path = join(root, STUDY_INDEX)
    if fs.exists(index_path) and not overwrite:
        raise argument_error(
            StudyError,
            f"a study already exists at {study_location(fs, root)}",
            parameter="overwrite",
            advice="pass overwrite=True to replace it",
        )
    if not jobs:
        raise StudyError("a study needs at least one job")
    uploads: dict[str, bytes] = {}
    known: dict[object, str] = {}  # a path read once per call, however many jobs name it
    specs: list[JobSpec] = []
    seen_dirs: dict[str, int] = {}
    for i, job in enumerate(jobs):
        output_dir = normalize_path(job.output_dir or job.label or f"job-{i:05d}")
        _check_output_dir(i, output_dir)
        if output_dir in seen_dirs:
            raise StudyError(
                f"jobs {seen_dirs[output_dir]} and {i} share output_dir {output_dir!r}"
            )
        seen_dirs[output_dir] = i
        if job.weather is None:
            raise StudyError(f"job {i} has no weather file; a study job needs one")
        model_path = _stored(
            job.model, known, uploads, "inputs/models", partial(_model_bytes, job.model)
        )
        weather_path = _stored(
            job.weather, known, uploads, "inputs/weather", partial(_weather, job.weather, fs, root)
        )
        specs.append(
            JobSpec(
                index=i,
                label=job.label or output_dir,
                output_dir=output_dir,
                model=model_path,
                weather=weather_path,
                parameters=_parameters(i, job.parameters),
                options=job.options,
            )
        )

    def store(item: tuple[str, bytes]) -> None:
        path = join(root, item[0])
        if not _holds_input(fs, path):  # a file already there is kept only if its digest is right
            fs.write_bytes(path, item[1])

    with ThreadPoolExecutor(max(1, min(max_workers, len(uploads)))) as pool:
        list(pool.map(store, uploads.items()))
    index = StudyIndex(
        created_at=datetime.now(UTC), idfkit_version=idfkit.__version__, jobs=tuple(specs)
    )
    fs.write_text(index_path, index.model_dump_json(indent=1))
    return index


def load_study(fs: FileSystem, study: str | PurePath = "") -> StudyIndex:
    """Read a study's job index.

    Args:
        fs: The backend the study is on.
        study: The study's folder on ``fs`` ("" for the backend's root).

    Raises:
        StudyError: The index is missing, of another format version, or
            corrupt (a field of the wrong type, or one it does not have).
    """
    path = join(study, STUDY_INDEX)
    where = study_location(fs, normalize_path(study))
    try:
        text = fs.read_bytes(path)
    except FileNotFoundError as exc:
        # The file alone missing needs no errno text; a missing bucket says so.
        reason = "" if type(exc) is FileNotFoundError else f": {exc}"
        raise StudyError(f"no study at {where} (it holds no {STUDY_INDEX}){reason}") from exc
    try:
        text = within_json_bounds(
            text, where=repr(path), max_bytes=MAX_INDEX_BYTES, max_depth=MAX_JSON_DEPTH
        )
    except IncompleteResultError as exc:
        raise StudyError(f"the study index at {path!r} is corrupt: {exc}") from None
    # Parsed once when valid (json.loads of 100,000 jobs first would cost ~130 MB more);
    # what fails is parsed again to say why.
    try:
        index = _validated(text)
    except ValidationError as exc:
        try:
            raw = bounded_json(text, where=repr(path), max_bytes=MAX_INDEX_BYTES)
        except IncompleteResultError as error:
            raise StudyError(f"the study index at {path!r} is corrupt: {error}") from None
        version = raw.get("schema_version") if isinstance(raw, dict) else None
        if isinstance(version, int) and version != STUDY_SCHEMA_VERSION:
            raise _other_version(where, version) from None
        raise StudyError(f"the study index of {where} is corrupt: {exc}") from None
    if index.schema_version != STUDY_SCHEMA_VERSION:
        raise _other_version(where, index.schema_version)
    return index


#: Where an index names its jobs; for them to be read one at a time, the list must
#: be the index's last member (as `write_study` writes it).
_JOBS_KEY = re.compile(rb'"jobs"[ \t\n\r]*:[ \t\n\r]*\[')
_JOBS_END = re.compile(rb"\][ \t\n\r]*\}[ \t\n\r]*\Z")
#: Where one job of the list may end and the next begin.
_BETWEEN_JOBS = re.compile(rb"\}[ \t\n\r]*,[ \t\n\r]*\{")


def _validated(text: bytes) -> StudyIndex:
    """The index in ``text``: its jobs one at a time where the layout allows, else whole.

    Validated whole, pydantic holds the parse of every job at once beside the
    models it makes (~120 MB more at 100,000 jobs). An index that is invalid, or
    laid out otherwise than `write_study` lays it out, is validated whole, so
    its errors name the job and field (``jobs.3.model``) as they always did.

    Raises:
        ValidationError: The index is not a valid `StudyIndex`.
    """
    try:
        index = _validated_by_job(text)
    except ValidationError:
        index = None  # the jobs read so far go before the index is read again
    if index is None:
        index = StudyIndex.model_validate_json(text, context={_SHARED: {}})
    return index


def _validated_by_job(text: bytes) -> StudyIndex | None:
    """The index in ``text`` with its jobs validated one at a time; None for another layout.

    The rest of the index is validated with an empty list in place of its jobs,
    then the list is cut at each comma between a ``}`` and a ``{`` and every
    piece is validated as one job. This reads as the whole document reads:
    the rest, ending in ``[]}``, is valid only if that ``[]`` is the value of
    its last member (for a name given twice, the last counts, whole or not);
    and pieces that are each one whole JSON object are exactly the list's items,
    since a cut inside a string or a nested value leaves a piece with a string
    or a bracket open, which fails.

    Raises:
        ValidationError: The index is not valid read this way.
    """
    key = _JOBS_KEY.search(text)
    end = _JOBS_END.search(text, max(0, len(text) - 4096))
    if key is None or end is None or key.end() >= end.start():
        return None
    context: dict[str, Any] = {_SHARED: {}}
    rest = StudyIndex.model_validate_json(text[: key.end()] + b"]}", context=context)
    validate = JobSpec.__pydantic_validator__.validate_json  # model_validate_json, less a call
    jobs = []
    start = key.end()
    for cut in _BETWEEN_JOBS.finditer(text, start, end.start()):
        jobs.append(validate(text[start : cut.start() + 1], context=context))
        start = cut.end() - 1
    jobs.append(validate(text[start : end.start()], context=context))
    return rest.model_copy(update={"jobs": tuple(jobs)})


def _other_version(where: str, version: int) -> StudyError:
    return argument_error(
        StudyError,
        f"the study index of {where} has schema_version {version}, and this idfkit "
        f"reads version {STUDY_SCHEMA_VERSION}",
        parameter="study",
        advice="write the study again with the idfkit that will run it "
        "(write_study(..., overwrite=True))",
    )


def study_location(fs: FileSystem, root: str) -> str:
    """A study's place in messages: the backend's repr, and the folder on it if any.

    The command line shows the backend's repr as the location the user typed.
    """
    return f"{root!r} on {fs!r}" if root else repr(fs)


def output_dir_problem(output_dir: str) -> str | None:
    """Why a job folder collides with the study's own names (index, inputs, manifests), or None."""
    parts = PurePosixPath(output_dir).parts
    if not parts or parts[0] in RESERVED_FOLDERS or MANIFEST_NAME in parts:
        return (
            f"output_dir {output_dir!r} is not usable in a study: "
            f"{', '.join(repr(n) for n in (*RESERVED_FOLDERS, MANIFEST_NAME))} are the study's "
            "own names"
        )
    return None


def _check_output_dir(index: int, output_dir: str) -> None:
    """Refuse a job folder that collides with the study's own names (index, inputs, manifests)."""
    if problem := output_dir_problem(output_dir):
        raise StudyError(f"job {index}: {problem}; give the job another label or output_dir")


def input_digest_problem(data_path: Path, stored: str) -> str | None:
    """Why a downloaded study input is not the file its digest name promises, or None.

    Args:
        data_path: The local copy.
        stored: Its path in the study (``inputs/models/<sha256>.idf``).
    """
    _, digest = hash_file(data_path)
    expected = _stem(stored)
    if digest == expected:
        return None
    return (
        f"study input {stored!r} holds content with sha256 {digest}, "
        f"not the {expected} its name promises"
    )


def _holds_input(fs: FileSystem, path: str) -> bool:
    """Whether the study input at ``path`` exists with the content its digest name promises."""
    try:
        data = fs.read_bytes(path)
    except FileNotFoundError:
        return False
    return hashlib.sha256(data).hexdigest() == _stem(path)


def _stem(path: str) -> str:
    """``"inputs/models/<sha256>.idf"`` -> ``"<sha256>"`` (the study stores inputs by digest)."""
    return path.rpartition("/")[2].partition(".")[0]


def _parameters(index: int, given: Mapping[str, Any]) -> dict[str, JsonValue]:
    """A job's parameters as plain JSON values; refused when not JSON or a fixed column's name."""
    try:
        plain: dict[str, JsonValue] = json.loads(json.dumps(dict(given), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise StudyError(f"job {index}: parameters must be JSON values: {exc}") from None
    for name in plain:
        if name in RESERVED_COLUMNS or not name:
            raise StudyError(f"job {index}: {name!r} cannot name a parameter (a fixed column)")
    return plain


def _model_bytes(model: IDFDocument | str | PurePath) -> tuple[bytes, str]:
    if isinstance(model, IDFDocument):
        return model_text(model).encode("utf-8"), ".idf"
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    load_model(path)  # refuse unparseable models now, not on a worker later
    return path.read_bytes(), ".epJSON" if path.suffix.lower() == ".epjson" else ".idf"


def _weather(weather: str | PurePath, fs: FileSystem, root: str) -> tuple[bytes, str]:
    local = Path(weather)
    if local.is_file():
        return local.read_bytes(), ".epw"
    try:
        return fs.read_bytes(join(root, weather)), ".epw"
    except (FileNotFoundError, ValueError):
        raise FileNotFoundError(
            f"weather file not found: {local} is not a local file nor in the study on {fs!r}"
        ) from None


def _stored(
    source: object,
    known: dict[object, str],
    uploads: dict[str, bytes],
    folder: str,
    read: Callable[[], tuple[bytes, str]],
) -> str:
    """The content-addressed study path of a model or weather file, read once per path."""
    key = source if isinstance(source, str | PurePath) else id(source)
    if key not in known:
        data, suffix = read()
        path = f"{folder}/{hashlib.sha256(data).hexdigest()}{suffix}"
        uploads[path] = data
        known[key] = path
    return known[key]
