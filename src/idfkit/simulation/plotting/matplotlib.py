"""The matplotlib backend: each chart is a new pyplot figure.

matplotlib is imported here, when a backend is created, and nowhere else in
idfkit; without it the error names the extra to install.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from idfkit.simulation._optional import optional_import

__all__ = ["MatplotlibBackend", "draw_line"]


def _pyplot() -> Any:
    return optional_import("matplotlib.pyplot", "plotting")


def _label(ax: Any, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    if title is not None:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)


def draw_line(
    ax: Any,
    x: Sequence[Any],
    y: Sequence[float],
    *,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    label: str | None = None,
    **kwargs: Any,
) -> Any:
    """Draw one line on an existing matplotlib Axes and return its figure.

    Args:
        ax: The Axes to draw on.
        x: The x values.
        y: One y value per x.
        title: The Axes title.
        xlabel: The x-axis label.
        ylabel: The y-axis label.
        label: The line's legend name.
        **kwargs: Passed to `Axes.plot` (colour, line style...).

    Returns:
        The matplotlib Figure that holds `ax`.
    """
    ax.plot(list(x), list(y), label=label, **kwargs)
    _label(ax, title, xlabel, ylabel)
    return ax.figure


class MatplotlibBackend:
    """Draws each chart on a new matplotlib figure (a `PlotBackend`).

    Raises:
        ImportError: matplotlib is not installed.
    """

    def __init__(self) -> None:
        self._plt = _pyplot()

    def new_axes(self, size: tuple[float, float] = (10, 4)) -> tuple[Any, Any]:
        """A new figure with one Axes, as `(figure, axes)`.

        Args:
            size: The figure's width and height in inches.
        """
        figure, ax = self._plt.subplots(figsize=size, layout="constrained")
        return figure, ax

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
        """One line; a legend when it has a label."""
        figure, ax = self.new_axes()
        draw_line(ax, x, y, title=title, xlabel=xlabel, ylabel=ylabel, label=label)
        if label is not None:
            ax.legend()
        return figure

    def multi_line(
        self,
        x: Sequence[Any],
        y_series: dict[str, Sequence[float]],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
    ) -> Any:
        """One line per series over the shared x values, with a legend."""
        figure, ax = self.new_axes()
        for name, y in y_series.items():
            ax.plot(list(x), list(y), label=name)
        _label(ax, title, xlabel, ylabel)
        if y_series:
            ax.legend()
        return figure

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
        """Per series a shaded band (low to high) and its middle line, in one colour."""
        figure, ax = self.new_axes()
        for name, (low, middle, high) in series.items():
            (line,) = ax.plot(list(x), list(middle), label=name, linewidth=1.2)
            ax.fill_between(list(x), list(low), list(high), color=line.get_color(), alpha=0.2)
        if months:
            dates = optional_import("matplotlib.dates", "plotting")
            ax.xaxis.set_major_locator(dates.MonthLocator())
            ax.xaxis.set_major_formatter(dates.DateFormatter("%b"))
        ax.margins(x=0)
        ax.grid(True, alpha=0.3)
        _label(ax, title, xlabel, ylabel)
        if series:
            ax.legend()
        return figure

    def heatmap(
        self,
        data: Sequence[Sequence[float]],
        *,
        x_labels: Sequence[str] | None = None,
        y_labels: Sequence[str] | None = None,
        title: str | None = None,
        colorbar_label: str | None = None,
        value_range: tuple[float, float] | None = None,
    ) -> Any:
        """Coloured cells (row 0 at the top) with a colour bar; a small grid shows its values.

        Args:
            data: The cell values, one sequence per row.
            x_labels: One name per column.
            y_labels: One name per row.
            title: The figure title.
            colorbar_label: The colour scale's label.
            value_range: The colour scale's ends (0 to 100 for percentages);
                None takes them from the data.
        """
        rows = [list(row) for row in data]
        figure, ax = self.new_axes((10, max(2.0, 0.5 * len(rows) + 1.5)))
        low, high = value_range if value_range is not None else (None, None)
        image = ax.imshow(
            rows if rows else [[]], aspect="auto", cmap="viridis", vmin=low, vmax=high
        )
        if rows and len(rows) * len(rows[0]) <= 240:  # a value per cell still reads
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    shade = image.norm(value)
                    colour = "black" if shade > 0.6 else "white"
                    ax.text(j, i, f"{value:.0f}", ha="center", va="center", color=colour)
        if x_labels is not None:
            ax.set_xticks(range(len(x_labels)), list(x_labels))
        if y_labels is not None:
            ax.set_yticks(range(len(y_labels)), list(y_labels))
        colorbar = figure.colorbar(image, ax=ax)
        if colorbar_label is not None:
            colorbar.set_label(colorbar_label)
        _label(ax, title, None, None)
        return figure

    def bar(
        self,
        categories: Sequence[str],
        values: Sequence[float],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
    ) -> Any:
        """One bar per category, the names slanted to fit."""
        figure, ax = self.new_axes()
        ax.bar(list(categories), list(values))
        ax.tick_params(axis="x", labelrotation=45)
        _label(ax, title, xlabel, ylabel)
        return figure

    def stacked_bar(
        self,
        categories: Sequence[str],
        series: dict[str, Sequence[float]],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
    ) -> Any:
        """Bars stacked series by series, in the mapping's order, with a legend."""
        figure, ax = self.new_axes()
        base = [0.0] * len(categories)
        for name, values in series.items():
            heights = [float(v) for v in values]
            ax.bar(list(categories), heights, bottom=base, label=name)
            base = [b + h for b, h in zip(base, heights, strict=True)]
        ax.tick_params(axis="x", labelrotation=45)
        _label(ax, title, xlabel, ylabel)
        if series:
            ax.legend()
        return figure
