"""EnergyPlus's preprocessors on a model: ExpandObjects, and the Slab and Basement programs.

`simulate()` runs what a model needs by itself (with `expand_objects=True`);
these functions are for looking at, or editing, the preprocessed model first.
Each returns a new document and leaves the given one unchanged.
"""

from __future__ import annotations

from pathlib import Path

from idfkit.document import IDFDocument
from idfkit.simulation._model import model_from_text, model_text, object_types
from idfkit.simulation._tools import expand_model_text, needs_expansion, needs_ground_heat
from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus

__all__ = [
    "expand_objects",
    "needs_ground_heat_preprocessing",
    "run_basement_preprocessor",
    "run_preprocessing",
    "run_slab_preprocessor",
]


def needs_ground_heat_preprocessing(model: IDFDocument) -> bool:
    """Whether the model holds Slab or Basement ground heat-transfer objects.

    Args:
        model: The model to look at.
    """
    return needs_ground_heat(object_types(model))


def expand_objects(
    model: IDFDocument, *, energyplus: EnergyPlusConfig | None = None, timeout: float = 120.0
) -> IDFDocument:
    """The model with its `HVACTemplate:*` objects expanded by ExpandObjects.

    A model without such objects comes back as a copy, without looking for
    EnergyPlus.

    Args:
        model: The model to expand (not modified).
        energyplus: The installation whose ExpandObjects to run; found when None.
        timeout: Seconds ExpandObjects may run.

    Raises:
        ExpandObjectsError: ExpandObjects failed, or the model also needs a
            ground preprocessor (use `run_preprocessing`).
    """
    return _preprocessed(model, energyplus, None, timeout, ground=())


def run_slab_preprocessor(
    model: IDFDocument,
    *,
    energyplus: EnergyPlusConfig | None = None,
    weather: str | Path | None = None,
    timeout: float = 120.0,
) -> IDFDocument:
    """The model with its slab ground temperatures computed by the Slab program.

    ExpandObjects moves the `GroundHeatTransfer:Slab:*` objects into Slab's
    input; Slab's monthly surface temperatures are added to the expanded model.

    Args:
        model: The model (not modified).
        energyplus: The installation whose programs to run; found when None.
        weather: The weather file Slab reads.
        timeout: Seconds each program may run.

    Raises:
        ExpandObjectsError: A program is missing or failed, or no weather file was given.
    """
    return _preprocessed(model, energyplus, weather, timeout, ground=("Slab",))


def run_basement_preprocessor(
    model: IDFDocument,
    *,
    energyplus: EnergyPlusConfig | None = None,
    weather: str | Path | None = None,
    timeout: float = 120.0,
) -> IDFDocument:
    """The model with its basement ground temperatures computed by the Basement program.

    Args:
        model: The model (not modified).
        energyplus: The installation whose programs to run; found when None.
        weather: The weather file Basement reads.
        timeout: Seconds each program may run.

    Raises:
        ExpandObjectsError: A program is missing or failed, or no weather file was given.
    """
    return _preprocessed(model, energyplus, weather, timeout, ground=("Basement",))


def run_preprocessing(
    model: IDFDocument,
    *,
    energyplus: EnergyPlusConfig | None = None,
    weather: str | Path | None = None,
    timeout: float = 120.0,
) -> IDFDocument:
    """The model as EnergyPlus will run it: templates expanded, ground temperatures computed.

    This is what `simulate()` does before a run when `expand_objects` is True.

    Args:
        model: The model (not modified).
        energyplus: The installation whose programs to run; found when None.
        weather: The weather file the ground preprocessors read (needed
            only when the model has ground heat-transfer objects).
        timeout: Seconds each program may run.

    Raises:
        ExpandObjectsError: A program is missing or failed.
    """
    return _preprocessed(model, energyplus, weather, timeout, ground=("Slab", "Basement"))


def _preprocessed(
    model: IDFDocument,
    energyplus: EnergyPlusConfig | None,
    weather: str | Path | None,
    timeout: float,
    *,
    ground: tuple[str, ...],
) -> IDFDocument:
    if not isinstance(model, IDFDocument):
        raise TypeError(f"model must be an IDFDocument, not {type(model).__name__}")
    if not needs_expansion(object_types(model)):
        return model.copy()
    config = energyplus if energyplus is not None else find_energyplus()
    weather_path = None if weather is None else Path(weather).resolve()
    if weather_path is not None and not weather_path.is_file():
        raise FileNotFoundError(f"weather file not found: {weather_path}")
    text = expand_model_text(
        model_text(model), config, timeout=timeout, weather=weather_path, ground=ground
    )
    expanded = model_from_text(text)
    expanded.filepath = model.filepath
    return expanded
