"""What every time series shares: a DataFrame view and a plot.

pandas and matplotlib are imported here, lazily, and nowhere else in the
parsers; each fails with a message that names the extra to install.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from idfkit._optional import optional_import

if TYPE_CHECKING:
    import pandas as pd

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
    backend: Any = None,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Draw one series and return the figure.

    ``backend`` is any object with idfkit's plotting method
    ``line(x, y, *, title, xlabel, ylabel, label)``; without one the series is
    drawn with matplotlib, on ``ax`` when given, and the matplotlib Figure is
    returned.
    """
    if backend is not None:
        return backend.line(
            list(timestamps), list(values), title=title, xlabel="Time", ylabel=ylabel, label=label
        )
    if ax is None:
        plt = optional_import("matplotlib.pyplot", "plot()")
        figure, ax = plt.subplots(figsize=(10, 4))
    else:
        figure = ax.figure
    ax.plot(list(timestamps), list(values), label=kwargs.pop("label", label), **kwargs)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Time")
    if title is not None:
        ax.set_title(title)
    return figure
