"""The plotly backend: each chart is a new `plotly.graph_objects.Figure`.

plotly is not a dependency of idfkit; this backend works when it is installed
and is imported here, when a backend is created, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from idfkit.simulation._optional import optional_import

__all__ = ["PlotlyBackend"]


def _graph_objects() -> Any:
    return optional_import("plotly.graph_objects", "the plotly backend")


class PlotlyBackend:
    """Draws each chart as a new plotly figure (a `PlotBackend`).

    Raises:
        ImportError: plotly is not installed.
    """

    def __init__(self) -> None:
        self._go = _graph_objects()

    def _figure(
        self,
        traces: list[Any],
        title: str | None,
        xlabel: str | None,
        ylabel: str | None,
        **layout: Any,
    ) -> Any:
        """A new figure holding `traces`, laid out in one `update_layout` call.

        Only `Figure()`, `add_trace` and `update_layout` are used, the calls
        idfkit 1.1.1's backend makes, so a stand-in for plotly that records
        them sees each trace and every layout setting.
        """
        figure = self._go.Figure()
        for trace in traces:
            figure.add_trace(trace)
        figure.update_layout(title=title, xaxis_title=xlabel, yaxis_title=ylabel, **layout)
        return figure

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
        """One line trace; the legend shows only when `label` is given."""
        trace = self._go.Scatter(x=list(x), y=list(y), mode="lines", name=label or "")
        return self._figure([trace], title, xlabel, ylabel, showlegend=label is not None)

    def multi_line(
        self,
        x: Sequence[Any],
        y_series: dict[str, Sequence[float]],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
    ) -> Any:
        """One line trace per series over the shared x values, with a legend when any."""
        traces = [
            self._go.Scatter(x=list(x), y=list(y), mode="lines", name=name)
            for name, y in y_series.items()
        ]
        return self._figure(traces, title, xlabel, ylabel, showlegend=bool(y_series))

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
        """Per series a filled band (low to high) and its middle line."""
        xs = list(x)
        traces = []
        for name, (low, middle, high) in series.items():
            edge = {"width": 0}
            traces.append(
                self._go.Scatter(x=xs, y=list(high), mode="lines", line=edge, showlegend=False)
            )
            traces.append(
                self._go.Scatter(
                    x=xs, y=list(low), mode="lines", line=edge, fill="tonexty", showlegend=False
                )
            )
            traces.append(self._go.Scatter(x=xs, y=list(middle), mode="lines", name=name))
        month_ticks = {"xaxis": {"tickformat": "%b", "dtick": "M1"}} if months else {}
        return self._figure(traces, title, xlabel, ylabel, **month_ticks)

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
        """A heatmap trace, row 0 at the top as in the matplotlib backend.

        Args:
            data: The cell values, one sequence per row.
            x_labels: One name per column.
            y_labels: One name per row.
            title: The figure title.
            colorbar_label: The colour scale's label.
            value_range: The colour scale's ends (0 to 100 for percentages);
                None takes them from the data.
        """
        low, high = value_range if value_range is not None else (None, None)
        trace = self._go.Heatmap(
            zmin=low,
            zmax=high,
            z=[list(row) for row in data],
            x=list(x_labels) if x_labels is not None else None,
            y=list(y_labels) if y_labels is not None else None,
            colorscale="Viridis",
            colorbar={"title": {"text": colorbar_label}},
        )
        return self._figure([trace], title, None, None, yaxis={"autorange": "reversed"})

    def bar(
        self,
        categories: Sequence[str],
        values: Sequence[float],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
    ) -> Any:
        """One bar trace."""
        trace = self._go.Bar(x=list(categories), y=list(values))
        return self._figure([trace], title, xlabel, ylabel)

    def stacked_bar(
        self,
        categories: Sequence[str],
        series: dict[str, Sequence[float]],
        *,
        title: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
    ) -> Any:
        """One bar trace per series, stacked."""
        traces = [
            self._go.Bar(x=list(categories), y=list(values), name=name)
            for name, values in series.items()
        ]
        return self._figure(traces, title, xlabel, ylabel, barmode="stack")
