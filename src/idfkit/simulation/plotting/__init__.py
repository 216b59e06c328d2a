"""Charts of simulation results, drawn by a pluggable backend (matplotlib or plotly).

The chart helpers (`plot_temperature_profile`, `plot_energy_balance`,
`plot_comfort_hours`) compute their numbers from a `SQLResult` and hand them
to a `PlotBackend`, which turns them into a figure. Any object with the
protocol's methods is a backend; `MatplotlibBackend` and `PlotlyBackend` ship
here. Neither library is imported until a figure is drawn.
"""

from __future__ import annotations

from idfkit.simulation.plotting.backend import BandBackend, PlotBackend, get_default_backend
from idfkit.simulation.plotting.matplotlib import MatplotlibBackend
from idfkit.simulation.plotting.plotly import PlotlyBackend
from idfkit.simulation.plotting.visualizations import (
    plot_comfort_hours,
    plot_energy_balance,
    plot_temperature_profile,
)

__all__ = [
    "BandBackend",
    "MatplotlibBackend",
    "PlotBackend",
    "PlotlyBackend",
    "get_default_backend",
    "plot_comfort_hours",
    "plot_energy_balance",
    "plot_temperature_profile",
]
