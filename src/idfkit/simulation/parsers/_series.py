"""What every time series shares: a DataFrame view and a plot.

pandas is imported here, lazily, and nowhere else in the parsers; plots go
through `idfkit.simulation.plotting`, which owns the plotting libraries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from idfkit.simulation._optional import optional_import

if TYPE_CHECKING:
    import pandas as pd

    from idfkit.simulation.plotting.backend import PlotBackend

__all__ = ["plot_series", "series_frame"]


def series_frame(
    column: str, timestamps: Sequence[datetime], values: Sequence[float]
) -> pd.DataFrame:
    """A one-column DataFrame named ``column``, indexed by ``timestamp``."""
    pandas = optional_import("pandas", "to_dataframe()")
    index = pandas.DatetimeIndex(list(timestamps), name="timestamp")
    frame: pd.DataFrame = pandas.DataFrame({column: list(values)}, index=index)
    return frame


def plot_series(
    timestamps: Sequence[datetime],
    values: Sequence[float],
    *,
    label: str,
    ylabel: str,
    title: str | None,
    backend: PlotBackend | None = None,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Draw one series through the plotting module and return the figure.

    `backend.line(...)` draws it when a backend is given, and also when neither
    `ax` nor matplotlib keyword arguments are (then `get_default_backend()`);
    otherwise matplotlib draws it on `ax` (a new figure when `ax` is None).
    """
    from idfkit.simulation.plotting.backend import get_default_backend
    from idfkit.simulation.plotting.matplotlib import MatplotlibBackend, draw_line

    labels: dict[str, Any] = {"title": title, "xlabel": "Time", "ylabel": ylabel}
    if backend is not None or (ax is None and not kwargs):
        chosen = backend if backend is not None else get_default_backend()
        return chosen.line(list(timestamps), list(values), label=label, **labels)
    if ax is None:
        _, ax = MatplotlibBackend().new_axes()
    return draw_line(ax, timestamps, values, label=kwargs.pop("label", label), **labels, **kwargs)
