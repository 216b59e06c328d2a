"""A run's inputs, checked before anything is written: model, weather, output folder.

Every check here happens before a run touches storage, so a run that is
refused never replaces an earlier good run's manifest with its marker, and
never overwrites a file it did not write.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from idfkit.document import IDFDocument
from idfkit.simulation._arguments import argument_error
from idfkit.simulation._job_context import wants_key_metrics
from idfkit.simulation._model import load_model
from idfkit.simulation.exceptions import IncompleteResultError, WeatherFileNotFoundError
from idfkit.simulation.fs.base import (
    FileSystem,
    SupportsLocalPath,
    download_file,
    join,
    normalize_path,
)
from idfkit.simulation.manifest import MANIFEST_NAME, PublishingMarker, read_manifest
from idfkit.simulation.metrics import add_metric_outputs

__all__ = [
    "MODEL_SUFFIXES",
    "WEATHER_SUFFIXES",
    "ModelInput",
    "check_model_path",
    "check_weather_path",
    "local_output_dir",
    "local_weather",
    "prep_outputs",
    "prepare_model",
    "prepare_run_model",
    "refuse_foreign_files",
    "remote_output_dir",
    "stage_weather",
]

ModelInput = IDFDocument | str | PurePath


def prepare_model(model: ModelInput) -> IDFDocument:
    """The run's own copy of the model, with `Output:SQLite` added when missing."""
    return prepare_run_model(model)[0]


def prepare_run_model(model: ModelInput) -> tuple[IDFDocument, list[str]]:
    """The run's own copy of the model, and what was added to it beyond `Output:SQLite`.

    A study job's run also gets the outputs its key metrics read
    (`add_metric_outputs`); the user's model is never changed.

    Args:
        model: The model, or the path of an .idf/.epJSON file.

    Returns:
        The copy, and one line per change made for the key metrics.
    """
    if isinstance(model, IDFDocument):
        doc = model.copy()
    elif isinstance(model, str | PurePath):
        path = check_model_path(model)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        doc = load_model(path)
    else:
        raise TypeError(f"model must be an IDFDocument or a path, not {type(model).__name__}")
    _add_missing(doc, _SQL_OUTPUT)
    return doc, add_metric_outputs(doc) if wants_key_metrics() else []


#: The output objects every run needs (SQL results), and those `prep_outputs` adds.
#: Each is added as ``doc.add(type, **fields)``; a repeated group in idfkit's list form.
_SQL_OUTPUT: tuple[tuple[str, dict[str, Any]], ...] = (
    ("Output:SQLite", {"option_type": "SimpleAndTabular"}),
)
_STANDARD_OUTPUTS = (
    *_SQL_OUTPUT,
    ("Output:Table:SummaryReports", {"reports": [{"report_name": "AllSummary"}]}),
    ("Output:VariableDictionary", {"key_field": "Regular"}),
)


def prep_outputs(model: IDFDocument) -> None:
    """Add the standard output objects the result readers use, where missing.

    `Output:SQLite` (SimpleAndTabular) for `result.sql`,
    `Output:Table:SummaryReports` (AllSummary) for the tabular reports, and
    `Output:VariableDictionary` (Regular) for the .rdd/.mdd files behind
    `result.variables`. `simulate()` adds only `Output:SQLite` by itself.

    Args:
        model: The model to change in place.
    """
    _add_missing(model, _STANDARD_OUTPUTS)


def _add_missing(doc: IDFDocument, outputs: tuple[tuple[str, dict[str, Any]], ...]) -> None:
    for obj_type, fields in outputs:
        if obj_type not in doc:
            doc.add(obj_type, **fields)


#: Suffixes of model files, and of weather files, to tell the two apart when swapped.
MODEL_SUFFIXES = (".idf", ".imf", ".epjson", ".json")
WEATHER_SUFFIXES = (".epw",)
_ORDER = "the model comes first, then the weather file"


def check_model_path(model: str | PurePath) -> Path:
    """``model`` as a Path, refused when it names a weather file (model and weather swapped)."""
    path = Path(model)
    if path.suffix.lower() in WEATHER_SUFFIXES:
        raise argument_error(
            ValueError,
            f"{str(model)!r} is a weather file (.epw), given as the model",
            parameter="model",
            advice=_ORDER,
        )
    return path


def check_weather_path(weather: str | PurePath) -> Path:
    """``weather`` as a Path, refused when it names a model file (model and weather swapped)."""
    path = Path(weather)
    if path.suffix.lower() in MODEL_SUFFIXES:
        raise argument_error(
            ValueError,
            f"{str(weather)!r} is a model ({path.suffix}), given as the weather file",
            parameter="weather",
            advice=_ORDER + " (.epw)",
        )
    return path


def local_weather(weather: str | PurePath | None) -> Path | None:
    """The weather file as an absolute path (EnergyPlus runs in the run folder)."""
    if weather is None:
        return None
    path = check_weather_path(weather)
    if not path.is_file():
        raise WeatherFileNotFoundError(f"Weather file not found: {path.absolute()}")
    return path.absolute()


def stage_weather(weather: str | PurePath | None, fs: FileSystem, tmp: Path) -> Path | None:
    """A local weather file: the path itself if it is local, else a download from `fs`."""
    if weather is None:
        return None
    local = check_weather_path(weather)
    if local.is_file():
        return local.absolute()
    try:
        remote = normalize_path(weather)
        on_fs = bool(remote) and fs.exists(remote)
    except ValueError:
        on_fs = False
    if not on_fs:
        raise WeatherFileNotFoundError(
            f"weather file not found: {local} is neither a local file nor on the output backend"
        )
    target = tmp / "weather" / PurePath(remote).name
    target.parent.mkdir()
    download_file(fs, remote, target)
    return target


def local_output_dir(output_dir: str | PurePath | None) -> Path | None:
    """The run folder as an absolute path (a relative one is taken from the caller's cwd)."""
    if output_dir is None:
        return None
    text = os.fspath(output_dir)
    if not text.strip():
        raise ValueError("output_dir is empty; pass a folder or None for a temporary one")
    if "\x00" in text:
        raise ValueError(f"output_dir {text!r} holds a NUL byte")
    return Path(text).absolute()


def remote_output_dir(output_dir: str | PurePath | None) -> str:
    """The run folder on a backend, in its canonical form."""
    if output_dir is None:
        raise ValueError("output_dir is required when fs is given (where on fs to put the run)")
    normalized = normalize_path(output_dir)
    if not normalized:
        raise ValueError(f"output_dir {str(output_dir)!r} is empty; name a folder on the backend")
    return normalized


def refuse_foreign_files(
    fs: FileSystem, folder: str, names: Sequence[str], model: ModelInput | None = None
) -> None:
    """Refuse to place `names` in `folder` where one would replace a file no run wrote.

    A run never modifies or deletes a file it did not create: if `folder`
    already holds its model copy's name (the user's own model, say), the run
    stops here. Every run and every cache hit asks this before it marks the
    folder. It looks only where files lie on local disk (`SupportsLocalPath`),
    where the user's own files live: on another backend it would cost a
    request per name.

    Args:
        fs: The backend of the folder.
        folder: The run folder on `fs`.
        names: The files about to be written there.
        model: The model being run, to say so when it is the file at stake.

    Raises:
        FileExistsError: `folder` holds one of `names`, and no run of this package wrote it.
    """
    if not isinstance(fs, SupportsLocalPath):
        return
    present = [n for n in names if fs.exists(join(folder, n))]
    ours = _written_by_runs(fs, folder) if present else None
    foreign = [n for n in present if ours is not None and n not in ours]
    if not foreign:
        return
    same = isinstance(model, str | PurePath) and _same_file(
        Path(model), fs.local_path(join(folder, foreign[0]))
    )
    raise argument_error(
        FileExistsError,
        f"the output folder already holds {', '.join(foreign[:5])}"
        + (" (the model file itself)" if same else "")
        + ", which the run would overwrite. No earlier run wrote "
        + ("that file" if len(foreign) == 1 else "those files")
        + ", so it is left alone",
        parameter="output_dir",
        advice="choose another output_dir",
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _written_by_runs(fs: FileSystem, folder: str) -> frozenset[str] | None:
    """The names in `folder` that runs of this package wrote (per its manifest).

    None means every name: a run that stopped before publishing left its
    marker, so the folder is a run folder.
    """
    try:
        found = read_manifest(fs.read_bytes(join(folder, MANIFEST_NAME)))
    except (FileNotFoundError, IncompleteResultError):
        return frozenset()
    if isinstance(found, PublishingMarker):
        return None
    return frozenset(f.name for f in found.files)
