"""ProgressParser and tqdm_progress over EnergyPlus's standard-output lines."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from idfkit.simulation import ProgressParser, SimulationProgress, tqdm_progress

LINES = [
    "EnergyPlus Starting",
    "Initializing New Environment Parameters",
    "Warming up {1}",
    "Starting Simulation at 07/21 for SUMMER DESIGN DAY",
    "Starting Simulation at 01/01/2024 for RUN PERIOD 1",
    "Continuing Simulation at 12/31/2024 for RUN PERIOD 1",
    "Writing final SQL reports",
    "EnergyPlus Completed Successfully.",
]


def test_each_line_becomes_a_phase_with_its_numbers() -> None:
    parser = ProgressParser()
    events = [parser.parse_line(line) for line in LINES]
    assert events[0] is None
    assert [e.phase for e in events[1:] if e is not None] == [
        "initializing",
        "warmup",
        "simulating",
        "simulating",
        "simulating",
        "postprocessing",
        "complete",
    ]
    warmup, design, start, end = events[2:6]
    assert warmup == SimulationProgress("warmup", "Warming up {1}", warmup_day=1)
    assert design is not None and (design.environment, design.sim_day, design.percent) == (
        "SUMMER DESIGN DAY",
        202,
        None,
    )
    # A dated run period gives a percentage of its year (2024 is a leap year).
    assert start is not None and (start.sim_day, start.sim_total_days, start.percent) == (
        1,
        366,
        0.0,
    )
    assert end is not None and (end.sim_day, end.percent) == (366, 99.7)
    done = events[-1]
    assert done is not None and done.percent == 100.0 and done.environment == "RUN PERIOD 1"


def test_job_context_tags_later_events() -> None:
    parser = ProgressParser()
    assert parser.parse_line("Warming up {2}") == SimulationProgress(
        "warmup", "Warming up {2}", warmup_day=2
    )
    parser.set_job_context(4, "case-4")
    event = parser.parse_line("  Warming up {3}  ")
    assert event is not None and (event.job_index, event.job_label, event.warmup_day) == (
        4,
        "case-4",
        3,
    )


def test_tqdm_progress_moves_one_bar_to_100() -> None:
    pytest.importorskip("tqdm")
    out = io.StringIO()
    parser = ProgressParser()
    with tqdm_progress(desc="Box", file=out, mininterval=0) as on_progress:
        for line in LINES:
            if (event := parser.parse_line(line)) is not None:
                on_progress(event)
    assert "Box: 100%" in out.getvalue() and "100/100%" in out.getvalue()
    # The environment is the bar's postfix, shown by formats that include it.
    out = io.StringIO()
    with tqdm_progress(bar_format="{desc} {n:.0f}%{postfix}", file=out, mininterval=0) as bar:
        bar(SimulationProgress("simulating", "...", 50.0, "RUN PERIOD 1"))
    assert "Simulating 50%, RUN PERIOD 1" in out.getvalue()


def test_closing_lines_on_standard_error_come_after_standard_output(tmp_path: Path) -> None:
    """EnergyPlus ends on standard error; its last standard-output lines still come first."""
    from idfkit.simulation._process import run_process

    script = (
        "import sys, time\n"
        "print('EnergyPlus Completed Successfully.', file=sys.stderr, flush=True)\n"
        "time.sleep(0.3)\n"
        "print('Writing final SQL reports', flush=True)\n"
    )
    seen: list[str] = []
    outcome = run_process(
        [sys.executable, "-c", script], cwd=tmp_path, timeout=60, on_progress=seen.append
    )
    assert outcome.exit_code == 0
    assert seen == ["Writing final SQL reports", "EnergyPlus Completed Successfully."]
