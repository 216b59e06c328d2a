"""Which outputs a model can report, and adding them to a model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from idfkit.simulation.exceptions import ResultNotFoundError
from idfkit.simulation.parsers.rdd import (
    OutputMeter,
    OutputVariable,
    parse_mdd_file,
    parse_rdd_file,
)

__all__ = ["OutputMeter", "OutputVariable", "OutputVariableIndex"]


class _HasDictionaries(Protocol):
    @property
    def rdd_path(self) -> Path | None: ...

    @property
    def mdd_path(self) -> Path | None: ...


@dataclass(frozen=True)
class OutputVariableIndex:
    """The variables (`.rdd`) and meters (`.mdd`) a run reported as available.

    Search them, then add the ones you want to a model for the next run.
    """

    variables: tuple[OutputVariable, ...]
    meters: tuple[OutputMeter, ...] = ()

    @classmethod
    def from_files(
        cls, rdd_path: str | Path, mdd_path: str | Path | None = None
    ) -> OutputVariableIndex:
        """Read an `.rdd` file and, optionally, an `.mdd` file.

        Args:
            rdd_path: The `.rdd` file (the variables).
            mdd_path: The `.mdd` file (the meters); None for no meters.
        """
        meters = parse_mdd_file(mdd_path) if mdd_path is not None else ()
        return cls(parse_rdd_file(rdd_path), meters)

    @classmethod
    def from_simulation(cls, result: _HasDictionaries) -> OutputVariableIndex:
        """Read the `.rdd` and `.mdd` files of a simulation result.

        Args:
            result: A `SimulationResult`.

        Raises:
            FileNotFoundError: the run wrote no `.rdd` file; a `ResultNotFoundError`
                (naming the folder) when there is no result at all. Either
                message starts `No .rdd file`, as idfkit's does.
        """
        try:
            rdd = result.rdd_path
        except ResultNotFoundError as exc:
            raise ResultNotFoundError(f"No .rdd file: {exc}") from exc
        if rdd is None:
            raise FileNotFoundError(
                "No .rdd file: the run wrote none (add Output:VariableDictionary to the model)"
            )
        return cls.from_files(rdd, result.mdd_path)

    def __len__(self) -> int:
        return len(self.variables) + len(self.meters)

    def _all(self) -> list[OutputVariable | OutputMeter]:
        return [*self.variables, *self.meters]

    def search(self, pattern: str) -> list[OutputVariable | OutputMeter]:
        """Variables, then meters, whose name matches a regular expression (case-insensitive).

        Args:
            pattern: The regular expression, searched anywhere in the name.
        """
        regex = re.compile(pattern, re.IGNORECASE)
        return [item for item in self._all() if regex.search(item.name)]

    def filter_by_units(self, units: str) -> list[OutputVariable | OutputMeter]:
        """Variables, then meters, reported in `units` (case-insensitive).

        Args:
            units: The units, e.g. `"C"` or `"J"`.
        """
        wanted = units.lower()
        return [item for item in self._all() if item.units.lower() == wanted]

    def add_all_to_model(
        self, model: Any, *, frequency: str = "Timestep", filter_pattern: str | None = None
    ) -> int:
        """Add an `Output:Variable` (key `*`) or `Output:Meter` for each output to `model`.

        Args:
            model: The document to add to, with idfkit's `add(type, **fields)`.
            frequency: The reporting frequency of the new objects.
            filter_pattern: Only outputs whose name matches this regular expression.

        Returns:
            How many objects were added.
        """
        chosen = self.search(filter_pattern) if filter_pattern is not None else self._all()
        for item in chosen:
            if isinstance(item, OutputVariable):
                model.add(
                    "Output:Variable",
                    key_value=item.key,
                    variable_name=item.name,
                    reporting_frequency=frequency,
                )
            else:
                model.add("Output:Meter", key_name=item.name, reporting_frequency=frequency)
        return len(chosen)
