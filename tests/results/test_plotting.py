"""idfkit's plotting helpers on a real annual run of the two-zone model."""

from __future__ import annotations

import calendar
import sys
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from idfkit.simulation import (
    EnergyPlusConfig,
    PlotBackend,
    SQLResult,
    UnknownVariableError,
    get_default_backend,
    plot_comfort_hours,
    plot_energy_balance,
    plot_temperature_profile,
    simulate,
)
from idfkit.simulation.plotting.visualizations import comfort_percentages

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

ZMAT = "Zone Mean Air Temperature"
ZONES = ["WEST", "EAST"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@pytest.fixture(scope="module")
def sql(
    tmp_path_factory: pytest.TempPathFactory,
    two_zone_model: Path,
    weather: Path,
    energyplus: EnergyPlusConfig,
) -> Iterator[SQLResult]:
    out = tmp_path_factory.mktemp("plot") / "run"
    result = simulate(two_zone_model, weather, output_dir=out, energyplus=energyplus)
    assert result.success
    with SQLResult(result.sql_path) as opened:
        yield opened


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


class Recorder:
    """A backend of our own: records each call and returns a marker."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _record(self, name: str, *args: Any, **kwargs: Any) -> str:
        self.calls.append((name, args, kwargs))
        return f"figure from {name}"

    def line(self, x: Sequence[Any], y: Sequence[float], **kw: Any) -> Any:
        return self._record("line", x, y, **kw)

    def multi_line(self, x: Sequence[Any], y_series: dict[str, Sequence[float]], **kw: Any) -> Any:
        return self._record("multi_line", x, y_series, **kw)

    def heatmap(self, data: Sequence[Sequence[float]], **kw: Any) -> Any:
        return self._record("heatmap", data, **kw)

    def bar(self, categories: Sequence[str], values: Sequence[float], **kw: Any) -> Any:
        return self._record("bar", categories, values, **kw)

    def stacked_bar(self, categories: Sequence[str], series: dict[str, Any], **kw: Any) -> Any:
        return self._record("stacked_bar", categories, series, **kw)


def hand_count(sql: SQLResult, zone: str, low: float, high: float) -> list[float]:
    """The comfort percentages, counted here from the time series (a millionth of a degree
    either side of the band counts as inside)."""
    ts = sql.get_timeseries(ZMAT, zone)
    counts = {m: [0, 0] for m in range(1, 13)}
    for stamp, value in zip(ts.timestamps, ts.values, strict=True):
        month = (stamp - timedelta(seconds=1)).month
        counts[month][0] += 1
        counts[month][1] += low - 1e-6 <= value <= high + 1e-6
    return [100 * inside / total if total else 0.0 for total, inside in counts.values()]


def daily(sql: SQLResult, zone: str) -> dict[date, list[float]]:
    """Each day's values of a zone's temperature, grouped here."""
    days: dict[date, list[float]] = {}
    for stamp, value in zip(*_series(sql, zone), strict=True):
        days.setdefault((stamp - timedelta(seconds=1)).date(), []).append(value)
    return days


def _series(sql: SQLResult, zone: str) -> tuple[list[datetime], list[float]]:
    ts = sql.get_timeseries(ZMAT, zone)
    return list(ts.timestamps), list(ts.values)


def test_a_year_of_temperatures_reads_as_daily_bands_by_month(sql: SQLResult) -> None:
    figure = plot_temperature_profile(sql, ZONES)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == [
        "WEST: daily mean and range",
        "EAST: daily mean and range",
    ]
    assert len(ax.collections) == 2  # one shaded band (daily minimum to maximum) per zone
    for line, zone in zip(ax.get_lines(), ZONES, strict=True):
        days = daily(sql, zone)
        assert len(line.get_ydata()) == len(days) == 365
        assert list(line.get_ydata()) == pytest.approx([sum(v) / len(v) for v in days.values()])
        band = ax.collections[ZONES.index(zone)].get_paths()[0].vertices[:, 1]
        assert max(band) == pytest.approx(max(max(v) for v in days.values()))
        assert min(band) == pytest.approx(min(min(v) for v in days.values()))
    assert ax.get_ylabel() == "Temperature (°C)"
    figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[:12] == MONTHS and not any("2017" in t for t in ticks)  # a TMY year


def test_a_chosen_period_or_daily_false_draws_every_value(sql: SQLResult) -> None:
    week = plot_temperature_profile(sql, ["EAST"], period=(date(2017, 7, 1), date(2017, 7, 7)))
    stamps, values = _series(sql, "EAST")
    inside = [i for i, s in enumerate(stamps) if datetime(2017, 7, 1) < s <= datetime(2017, 7, 8)]
    (line,) = week.axes[0].get_lines()
    assert len(inside) == 7 * 24
    assert list(line.get_ydata()) == [values[i] for i in inside]
    assert line.get_label() == "EAST"

    figure = plot_temperature_profile(sql, ZONES, daily=False)
    ax = figure.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ZONES
    for line, zone in zip(ax.get_lines(), ZONES, strict=True):
        ts = sql.get_timeseries(ZMAT, zone)
        assert len(ts) == 8760
        assert list(line.get_ydata()) == list(ts.values)
        assert list(line.get_xdata()) == list(ts.timestamps)
    assert ax.get_title() == "Zone Air Temperatures"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Time", "Temperature (°C)")
    assert ax.get_legend() is not None

    one = plot_temperature_profile(sql, ["EAST"], title="East", frequency="Hourly")
    assert len(one.axes[0].get_lines()) == 1 and one.axes[0].get_title() == "East"
    with pytest.raises(UnknownVariableError):
        plot_temperature_profile(sql, ["NOWHERE"])
    with pytest.raises(KeyError):
        plot_temperature_profile(sql, ZONES, frequency="Monthly")
    with pytest.raises(ValueError, match="ends"):
        plot_temperature_profile(sql, ZONES, period=(date(2017, 7, 8), date(2017, 7, 1)))


def test_a_zone_held_at_its_setpoint_is_comfortable(sql: SQLResult) -> None:
    _, values = _series(sql, "WEST")
    # The heating setpoint is 20 C; EnergyPlus reports it a hair below in many hours.
    hair_below = [v for v in values if 20.0 - 1e-6 < v < 20.0]
    assert len(hair_below) > 100
    shares = comfort_percentages(sql, ["WEST"], 20.0, 26.0)[0]
    strictly = sum(20.0 <= v <= 26.0 for v in values)
    assert sum(s * n for s, n in zip(shares, _hours_per_month(), strict=True)) / 100 == (
        pytest.approx(strictly + len(hair_below))
    )


def _hours_per_month() -> list[int]:
    return [24 * calendar.monthrange(2017, m)[1] for m in range(1, 13)]


def test_energy_balance_bars_are_the_end_use_table_summed_over_fuels(sql: SQLResult) -> None:
    def cell(row: str, column: str) -> float:
        value = sql.get_tabular_value(
            "AnnualBuildingUtilityPerformanceSummary", "End Uses", row, column
        )
        return float(value)

    heating = cell("Heating", "District Heating Water")
    cooling = cell("Cooling", "District Cooling")
    assert heating > cooling > 0
    assert cell("Total End Uses", "Electricity") == 0.0  # ideal loads only: no other end use

    figure = plot_energy_balance(sql)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Heating", "Cooling"]
    assert [bar.get_height() for bar in ax.patches] == [heating, cooling]
    assert ax.get_title() == "End-Use Energy by Category"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("End Use", "Energy (GJ)")


def test_comfort_hours_cells_are_the_monthly_share_within_the_band(sql: SQLResult) -> None:
    figure = plot_comfort_hours(sql, ZONES)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    cells = ax.images[0].get_array()
    assert cells.shape == (2, 12)
    for row, zone in zip(cells.tolist(), ZONES, strict=True):
        assert row == pytest.approx(hand_count(sql, zone, 20.0, 26.0))
        assert all(0.0 <= share <= 100.0 for share in row)
    months = [t.get_text() for t in ax.get_xticklabels()]
    assert months == MONTHS
    assert [t.get_text() for t in ax.get_yticklabels()] == ZONES
    assert ax.get_title() == "Comfort Hours by Zone and Month"
    assert figure.axes[1].get_ylabel() == "Comfort Hours (%)"

    # A narrow band that the heating setpoint (20 C) sits below: fewer comfortable hours.
    narrow = plot_comfort_hours(sql, ["WEST"], comfort_min=22.0, comfort_max=24.0)
    row = narrow.axes[0].images[0].get_array().tolist()[0]
    assert row == pytest.approx(hand_count(sql, "WEST", 22.0, 24.0))
    assert sum(row) < sum(cells.tolist()[0])


def test_a_backend_of_our_own_receives_the_calls(sql: SQLResult) -> None:
    backend = Recorder()
    assert isinstance(backend, PlotBackend)
    assert plot_temperature_profile(sql, ZONES, backend=backend) == "figure from multi_line"
    assert plot_energy_balance(sql, backend=backend, title="Uses") == "figure from bar"
    assert plot_comfort_hours(sql, ZONES, backend=backend) == "figure from heatmap"
    ts = sql.get_timeseries(ZMAT, "EAST")
    assert ts.plot(backend=backend, title="East") == "figure from line"

    (name, (x, series), labels), bar, heat, line = backend.calls
    assert name == "multi_line" and list(series) == ZONES and len(x) == 8760
    assert series["EAST"] == ts.values
    assert labels == {
        "title": "Zone Air Temperatures",
        "xlabel": "Time",
        "ylabel": "Temperature (°C)",  # units as a reader writes them (issue 19)
    }
    assert bar[1][0] == ["Heating", "Cooling"] and bar[2]["title"] == "Uses"
    assert heat[1][0][1] == pytest.approx(hand_count(sql, "EAST", 20.0, 26.0))
    assert heat[2]["y_labels"] == ZONES and len(heat[2]["x_labels"]) == 12
    assert line[1] == (list(ts.timestamps), list(ts.values))
    assert line[2]["title"] == "East" and line[2]["label"] == "EAST"


def test_timeseries_plot_defaults_to_matplotlib_and_still_takes_an_axes(sql: SQLResult) -> None:
    ts = sql.get_timeseries(ZMAT, "WEST")
    figure = ts.plot()
    assert isinstance(figure, Figure) and list(figure.axes[0].get_lines()[0].get_ydata()) == list(
        ts.values
    )
    own, ax = plt.subplots()
    assert ts.plot(ax, color="red") is own
    assert ax.get_lines()[0].get_color() == "red"


def test_matplotlib_backend_draws_every_chart_type() -> None:
    backend = get_default_backend()
    assert isinstance(backend, PlotBackend) and type(backend).__name__ == "MatplotlibBackend"
    line = backend.line([1, 2, 3], [4.0, 5.0, 6.0], title="t", label="a")
    assert list(line.axes[0].get_lines()[0].get_ydata()) == [4.0, 5.0, 6.0]
    stacked = backend.stacked_bar(["a", "b"], {"low": [1.0, 2.0], "high": [3.0, 4.0]})
    bars = stacked.axes[0].patches
    assert [b.get_y() for b in bars] == [0.0, 0.0, 1.0, 2.0]
    assert [b.get_height() for b in bars] == [1.0, 2.0, 3.0, 4.0]
    heat = backend.heatmap([[1.0, 2.0], [3.0, 4.0]], x_labels=["x1", "x2"], y_labels=["r1", "r2"])
    assert heat.axes[0].images[0].get_array().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_plotly_backend_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("plotly")
    from idfkit.simulation.plotting import PlotlyBackend

    backend = PlotlyBackend()
    assert isinstance(backend, PlotBackend)
    figure = backend.multi_line([1, 2], {"a": [1.0, 2.0], "b": [3.0, 4.0]}, title="t")
    assert [trace.name for trace in figure.data] == ["a", "b"]
    assert list(figure.data[1].y) == [3.0, 4.0]
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    assert isinstance(get_default_backend(), PlotlyBackend)


def test_default_backend_falls_back_to_plotly_then_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(ImportError, match=r"pip install idfkit\[plot\]"):
        get_default_backend()
    with pytest.raises(ImportError, match="plotly"):
        get_default_backend()
