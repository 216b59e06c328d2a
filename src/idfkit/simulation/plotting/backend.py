"""The plotting-backend contract, and the choice of a backend when none is given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from idfkit.simulation._optional import install_hint
from idfkit.simulation.plotting.matplotlib import MatplotlibBackend
from idfkit.simulation.plotting.plotly import PlotlyBackend

__all__ = ["BandBackend", "PlotBackend", "get_default_backend"]


@runtime_checkable
class PlotBackend(Protocol):
    """What a plotting backend offers: five chart types, each returning a figure.

    Every method builds a new figure and returns it in the backend's own type
    (a matplotlib `Figure`, a plotly `Figure`, or anything a custom backend
    chooses). Labels left as None are not drawn.
    """

    def line(
        self,
        x: Sequence[Any],
        y: Sequence[float],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
        label: str | None = None,
    ) -> Any:
        """Draw one line.

        Args:
            x: The x values (timestamps, numbers...).
            y: One y value per x.
            title: The figure title.
            xlabel: The x-axis label.
            ylabel: The y-axis label.
            label: The line's name in the legend.

        Returns:
            The backend's figure.
        """
        ...

    def multi_line(
        self,
        x: Sequence[Any],
        y_series: dict[str, Sequence[float]],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
    ) -> Any:
        """Draw several lines over the same x values, with a legend.

        Args:
            x: The shared x values.
            y_series: One entry per line: its legend name and its y values.
            title: The figure title.
            xlabel: The x-axis label.
            ylabel: The y-axis label.

        Returns:
            The backend's figure.
        """
        ...

    def heatmap(
        self,
        data: Sequence[Sequence[float]],
        *,
        x_labels: Sequence[str] | None = None,
        y_labels: Sequence[str] | None = None,
        title: str | None = None,
        colorbar_label: str | None = None,
    ) -> Any:
        """Draw a grid of coloured cells.

        Args:
            data: The cell values, one sequence per row.
            x_labels: One name per column.
            y_labels: One name per row.
            title: The figure title.
            colorbar_label: The colour scale's label.

        Returns:
            The backend's figure.
        """
        ...

    def bar(
        self,
        categories: Sequence[str],
        values: Sequence[float],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
    ) -> Any:
        """Draw one bar per category.

        Args:
            categories: The bar names.
            values: One height per category.
            title: The figure title.
            xlabel: The category-axis label.
            ylabel: The value-axis label.

        Returns:
            The backend's figure.
        """
        ...

    def stacked_bar(
        self,
        categories: Sequence[str],
        series: dict[str, Sequence[float]],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
    ) -> Any:
        """Draw one bar per category, each stacked from several series.

        Args:
            categories: The bar names.
            series: One entry per layer: its legend name and one value per category.
            title: The figure title.
            xlabel: The category-axis label.
            ylabel: The value-axis label.

        Returns:
            The backend's figure.
        """
        ...


@runtime_checkable
class BandBackend(Protocol):
    """An optional capability: draw each series as a band (low to high) around a line.

    `plot_temperature_profile` uses it, when the backend has it, to draw a
    long series as daily minimum, mean and maximum; a backend without it is
    given the plain lines (`PlotBackend.multi_line`).
    """

    def bands(
        self,
        x: Sequence[Any],
        series: dict[str, tuple[Sequence[float], Sequence[float], Sequence[float]]],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
        months: bool = False,
    ) -> Any:
        """Draw, per series, a shaded band from low to high and a line through the middle.

        Args:
            x: The shared x values (dates).
            series: One entry per series: its legend name and its (low, middle,
                high) values, one of each per x.
            title: The figure title.
            xlabel: The x-axis label.
            ylabel: The y-axis label.
            months: Label the x axis with month names only (a typical year,
                whose calendar year means nothing).

        Returns:
            The backend's figure.
        """
        ...


def get_default_backend() -> PlotBackend:
    """The first plotting library installed: matplotlib, else plotly.

    Returns:
        A `MatplotlibBackend` or a `PlotlyBackend`.

    Raises:
        ImportError: neither matplotlib nor plotly can be imported; the message
            names the extra that installs matplotlib.
    """
    try:
        return MatplotlibBackend()
    except ImportError:
        pass
    try:
        return PlotlyBackend()
    except ImportError:
        pass
    raise ImportError(
        f"No plotting backend available: install matplotlib ({install_hint('matplotlib')}) "
        f"or plotly ({install_hint('plotly')})"
    )
