"""A run's inputs, checked before anything is written: model, weather, output folder.

Every check here happens before a run touches storage, so a run that is
refused never replaces an earlier good run's manifest with its marker, and
never overwrites a file it did not write.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any

from idfkit.document import IDFDocument
from idfkit.simulation._model import load_model
from idfkit.simulation.exceptions import IncompleteResultError, WeatherFileNotFoundError
from idfkit.simulation.fs.base import FileSystem, download_file, join, normalize_path
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.manifest import MANIFEST_NAME, PublishingMarker, read_manifest

__all__ = [
    "ModelInput",
    "local_output_dir",
    "local_weather",
    "prep_outputs",
    "prepare_model",
    "refuse_foreign_file",
    "remote_output_dir",
    "stage_weather",
]

ModelInput = IDFDocument | str | PurePath


def prepare_model(model: ModelInput) -> IDFDocument:
    """The run's own copy of the model, with `Output:SQLite` added when missing."""
    if isinstance(model, IDFDocument):
        doc = model.copy()
    elif isinstance(model, str | PurePath):
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        doc = load_model(path)
    else:
        raise TypeError(f"model must be an IDFDocument or a path, not {type(model).__name__}")
    _add_missing(doc, _SQL_OUTPUT)
    return doc


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


def local_weather(weather: str | PurePath | None) -> Path | None:
    """The weather file as an absolute path (EnergyPlus runs in the run folder)."""
    if weather is None:
        return None
    path = Path(weather)
    if not path.is_file():
        raise WeatherFileNotFoundError(f"Weather file not found: {path.absolute()}")
    return path.absolute()


def stage_weather(weather: str | PurePath | None, fs: FileSystem, tmp: Path) -> Path | None:
    """A local weather file: the path itself if it is local, else a download from `fs`."""
    if weather is None:
        return None
    local = Path(weather)
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


def refuse_foreign_file(fs: FileSystem, folder: str, name: str, model: ModelInput) -> None:
    """Refuse a run whose model copy would replace a file that no earlier run wrote.

    A run never modifies or deletes a file it did not create: if `folder`
    already holds `name` (the user's own model, say), the run stops here.

    Raises:
        FileExistsError: `folder` holds `name`, and no run of this package wrote it.
    """
    target = join(folder, name)
    if not fs.exists(target) or _written_by_a_run(fs, folder, name):
        return
    same = (
        isinstance(model, str | PurePath)
        and isinstance(fs, LocalFileSystem)
        and fs.root is not None
        and _same_file(Path(model), fs.root / target)
    )
    raise FileExistsError(
        f"the output folder already holds {name}"
        + (" (the model file itself)" if same else "")
        + ", which the run would overwrite with its copy of the model. No earlier run "
        "wrote that file, so it is left alone: choose another output_dir."
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _written_by_a_run(fs: FileSystem, folder: str, name: str) -> bool:
    """Whether `name` in `folder` belongs to a run of this package (per its manifest)."""
    try:
        found = read_manifest(fs.read_bytes(join(folder, MANIFEST_NAME)))
    except (FileNotFoundError, IncompleteResultError):
        return False
    if isinstance(found, PublishingMarker):
        return True  # a run that stopped before publishing: the folder is a run folder
    return found.file(name) is not None
