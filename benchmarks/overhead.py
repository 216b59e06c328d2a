"""Wall time of simulate() against a bare `energyplus` command on the same box model.

Runs are interleaved (bare, simulate, bare, ...) so that machine noise hits
both alike; the figure is the ratio of the medians from this one run.
Goal (issue 2): ratio <= 1.05.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _table import print_table

from idfkit import load_idf
from idfkit.simulation import find_energyplus, simulate
from idfkit.simulation.examples import example_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    doc = load_idf(example_model("box"))
    bare: list[float] = []
    wrapped: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "box.idf"
        doc.write(model)
        simulate(doc, weather, output_dir=Path(tmp) / "warm", energyplus=config)  # warm caches
        for i in range(args.runs):
            out = Path(tmp) / f"bare-{i}"
            started = time.perf_counter()
            subprocess.run(
                [str(config.executable), "-w", str(weather), "-d", str(out), str(model)],
                check=True,
                capture_output=True,
            )
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = simulate(doc, weather, output_dir=Path(tmp) / f"sim-{i}", energyplus=config)
            wrapped.append(time.perf_counter() - started)
            assert result.success
    ratio = statistics.median(wrapped) / statistics.median(bare)
    print_table(
        f"simulate() overhead on the annual box model ({args.runs} interleaved runs each)",
        ["runner", "median s", "min s", "max s"],
        [
            ["bare energyplus", statistics.median(bare), min(bare), max(bare)],
            ["simulate()", statistics.median(wrapped), min(wrapped), max(wrapped)],
        ],
    )
    print(f"\n  ratio of medians: {ratio:.3f}  (goal <= 1.05)")


if __name__ == "__main__":
    main()
