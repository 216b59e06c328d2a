"""Progress of a running simulation, read from the lines EnergyPlus prints.

`ProgressParser` turns each standard-output line into a `SimulationProgress`
(or None for lines that say nothing about progress); `tqdm_progress` draws
them as a progress bar. Pure parsing: the process itself lives elsewhere.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from idfkit.simulation._optional import optional_import

__all__ = ["Phase", "ProgressParser", "SimulationProgress", "tqdm_progress"]

Phase = Literal[
    "preprocessing", "initializing", "warmup", "simulating", "postprocessing", "complete"
]

_SIMULATING = re.compile(
    r"^(?:Starting|Continuing) Simulation at (\d{1,2})/(\d{1,2})(?:/(\d{4}))? for (.+?)\s*$"
)
_WARMUP = re.compile(r"^Warming up \{(\d+)\}")
_POSTPROCESSING = (
    "Writing tabular output file",
    "Writing final SQL reports",
    "Computing Life Cycle",
)
_PREPROCESSING = (
    "ExpandObjects Started",
    "Running ExpandObjects",
    "Running Slab",
    "Running Basement",
)
_INITIALIZING = ("Initializing New Environment Parameters", "Initializing Simulation")
_COMPLETE = "EnergyPlus Completed Successfully"
_UNDATED_YEAR = 2017  # design days print no year


@dataclass(frozen=True)
class SimulationProgress:
    """One step of a simulation's progress.

    `percent` is known for run periods dated with a year (the day of the
    year over the days in that year) and is 100 at completion; otherwise None.
    `sim_day` is the day of the year being simulated.
    """

    phase: Phase
    message: str
    percent: float | None = None
    environment: str | None = None
    warmup_day: int | None = None
    sim_day: int | None = None
    sim_total_days: int | None = None
    job_index: int | None = None
    job_label: str | None = None


class ProgressParser:
    """Reads EnergyPlus's standard output line by line; remembers the environment."""

    def __init__(self) -> None:
        self._environment: str | None = None
        self._job_index: int | None = None
        self._job_label: str | None = None

    def set_job_context(self, index: int, label: str) -> None:
        """Tag every later event with a batch job's index and label.

        Args:
            index: The job's position in the batch.
            label: The job's label.
        """
        self._job_index, self._job_label = index, label

    def parse_line(self, line: str) -> SimulationProgress | None:
        """The progress one line reports, or None.

        Args:
            line: One line of EnergyPlus's standard output.
        """
        text = line.strip()
        event = self._event(text)
        if event is None:
            return None
        return replace(
            event,
            environment=event.environment or self._environment,
            job_index=self._job_index,
            job_label=self._job_label,
        )

    def _event(self, text: str) -> SimulationProgress | None:
        if (m := _WARMUP.match(text)) is not None:
            return SimulationProgress("warmup", text, warmup_day=int(m[1]))
        if (m := _SIMULATING.match(text)) is not None:
            month, day, year, environment = int(m[1]), int(m[2]), m[3], m[4]
            self._environment = environment
            when = date(int(year) if year else _UNDATED_YEAR, month, day)
            day_of_year = when.timetuple().tm_yday
            if year is None:
                return SimulationProgress("simulating", text, None, environment, None, day_of_year)
            total = 366 if calendar.isleap(when.year) else 365
            percent = round(100.0 * (day_of_year - 1) / total, 1)
            return SimulationProgress(
                "simulating", text, percent, environment, sim_day=day_of_year, sim_total_days=total
            )
        if text.startswith(_INITIALIZING):
            return SimulationProgress("initializing", text)
        if text.startswith(_POSTPROCESSING):
            return SimulationProgress("postprocessing", text)
        if text.startswith(_PREPROCESSING):
            return SimulationProgress("preprocessing", text)
        if text.startswith(_COMPLETE):
            return SimulationProgress("complete", text, 100.0)
        return None


@contextmanager
def tqdm_progress(
    *,
    desc: str = "Simulating",
    bar_format: str = "{l_bar}{bar}| {n:.0f}/{total_fmt}% [{elapsed}<{remaining}]",
    leave: bool = True,
    position: int | None = None,
    file: Any = None,
    **tqdm_kwargs: Any,
) -> Iterator[Callable[[SimulationProgress], None]]:
    """A tqdm bar from 0 to 100 % and the callback that moves it.

    ```python
    with tqdm_progress(desc="Box") as on_progress:
        simulate(model, weather, on_progress=on_progress)
    ```

    Args:
        desc: The bar's label.
        bar_format: tqdm's `bar_format`.
        leave: Keep the bar on screen when done.
        position: The bar's line (for several bars at once).
        file: Where to draw (standard error by default).
        **tqdm_kwargs: Passed to `tqdm.tqdm`.

    Raises:
        ImportError: tqdm is not installed.
    """
    tqdm = optional_import("tqdm.auto", "tqdm_progress()").tqdm
    bar = tqdm(
        total=100,
        desc=desc,
        bar_format=bar_format,
        leave=leave,
        position=position,
        file=file,
        **tqdm_kwargs,
    )

    def update(progress: SimulationProgress) -> None:
        if progress.percent is not None and progress.percent > bar.n:
            bar.update(progress.percent - bar.n)
        bar.set_postfix_str(progress.environment or progress.phase, refresh=True)

    try:
        yield update
    finally:
        bar.close()
