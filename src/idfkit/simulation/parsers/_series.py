"""What every time series shares: a DataFrame view and a plot.

pandas and matplotlib are imported here, lazily, and nowhere else in the
parsers; each fails with a message that names the extra to install.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["plot_series", "series_frame"]


def series_frame(
    column: str, timestamps: Sequence[datetime], values: Sequence[float]
) -> pd.DataFrame:
    """A one-column DataFrame named ``column``, indexed by ``timestamp``."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError('to_dataframe() needs pandas: pip install "idfkit[pandas]"') from exc
    index = pd.DatetimeIndex(list(timestamps), name="timestamp")
    return pd.DataFrame({column: list(values)}, index=index)


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
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError('plot() needs matplotlib: pip install "idfkit[plot]"') from exc
        figure, ax = plt.subplots(figsize=(10, 4))
    else:
        figure = ax.figure
    ax.plot(list(timestamps), list(values), label=kwargs.pop("label", label), **kwargs)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Time")
    if title is not None:
        ax.set_title(title)
    return figure
