"""Start-up and simulate() overhead, side by side with idfkit 1.1.1 (issues 2 and 21).

(1) Import time: ``import idfkit, idfkit.simulation`` and ``import idfkit;
    from idfkit.simulation import simulate``, each timed inside a fresh
    interpreter, best of ``--imports`` alternating runs of this tree, of an
    earlier one (``--baseline SRC``) and of idfkit 1.1.1 (``--idfkit-python``,
    a Python whose site-packages holds it).
    Goal (issue 21): no slower than idfkit 1.1.1.
(2) simulate() on the annual box model against a bare ``energyplus``
    command: runs are interleaved (bare, this tree, baseline, idfkit 1.1.1,
    bare, ...) so that machine noise hits all alike; each tree's simulate
    runs in a child process of its own Python, timed there. The time outside
    EnergyPlus is a runner's median (and min) less the bare command's; the
    runner's own CPU time per simulate() (its process's, not EnergyPlus's)
    is the steadier figure on a loaded machine.
    Goals: ratio of medians <= 1.05 (issue 2); outside EnergyPlus <= 0.005 s
    (issue 21).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _table import print_table

from idfkit import load_idf
from idfkit.simulation import find_energyplus
from idfkit.simulation.examples import example_model

IMPORTS = {
    "import idfkit, idfkit.simulation": "import idfkit, idfkit.simulation",
    "import idfkit; from idfkit.simulation import simulate": (
        "import idfkit\nfrom idfkit.simulation import simulate"
    ),
}


@dataclass(frozen=True)
class Tree:
    """One idfkit to measure: a Python and the environment that finds it."""

    name: str
    python: str
    env: dict[str, str]


#: Run in each tree's Python: one simulate() per line read, its wall time printed.
SERVE = """
import sys, time
from pathlib import Path
from idfkit import load_idf
from idfkit.simulation import simulate
model, weather = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    doc = load_idf(model)
    started, cpu = time.perf_counter(), time.process_time()
    result = simulate(doc, weather, output_dir=line.strip())
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result.success
    print(took, cpu, flush=True)
"""


def import_ms(python: str, statement: str, env: dict[str, str]) -> float:
    """The statement's wall time in ms inside a fresh interpreter (its own start-up excluded)."""
    code = f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    out = subprocess.run(
        [python, "-c", code], check=True, capture_output=True, text=True, env=env
    ).stdout
    return float(out.strip()) * 1000


def bench_imports(trees: list[Tree], count: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for label, statement in IMPORTS.items():
        times: list[list[float]] = [[] for _ in trees]
        for _ in range(count):  # alternating, so that load hits every tree alike
            for tree, seen in zip(trees, times, strict=True):
                seen.append(import_ms(tree.python, statement, tree.env))
        for tree, seen in zip(trees, times, strict=True):
            rows.append([label, tree.name, min(seen), statistics.median(seen)])
    return rows


def bench_simulate(trees: list[Tree], runs: int) -> tuple[list[list[object]], list[list[object]]]:
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    bare: list[float] = []
    times: list[list[float]] = [[] for _ in trees]
    cpus: list[list[float]] = [[] for _ in trees]
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "box.idf"
        load_idf(example_model("box")).write(model)
        # Every tree runs the same EnergyPlus: the one this tree finds.
        engine = {"ENERGYPLUS_DIR": str(config.install_dir)}
        servers = [
            subprocess.Popen(
                [tree.python, "-c", SERVE, str(model), str(weather)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**tree.env, **engine},
            )
            for tree in trees
        ]

        def run(server: subprocess.Popen[str], out: Path) -> tuple[float, float]:
            """The wall time of one simulate() and the CPU time its own process spent."""
            assert server.stdin is not None and server.stdout is not None
            server.stdin.write(f"{out}\n")
            server.stdin.flush()
            wall, cpu = server.stdout.readline().split()
            return float(wall), float(cpu)

        try:
            for n, server in enumerate(servers):
                run(server, Path(tmp) / f"warm-{n}")  # imports and caches warm
            for i in range(runs):
                out = Path(tmp) / f"bare-{i}"
                started = time.perf_counter()
                subprocess.run(
                    [str(config.executable), "-w", str(weather), "-d", str(out), str(model)],
                    check=True,
                    capture_output=True,
                )
                bare.append(time.perf_counter() - started)
                for n, server in enumerate(servers):
                    wall, cpu = run(server, Path(tmp) / f"sim-{n}-{i}")
                    times[n].append(wall)
                    cpus[n].append(cpu)
        finally:
            for server in servers:
                assert server.stdin is not None
                server.stdin.close()
                server.wait(timeout=60)
    table = [["bare energyplus", statistics.median(bare), min(bare), max(bare)]]
    table += [
        [f"simulate(), {tree.name}", statistics.median(t), min(t), max(t)]
        for tree, t in zip(trees, times, strict=True)
    ]
    outside = [
        [
            tree.name,
            (statistics.median(t) - statistics.median(bare)) * 1000,
            (min(t) - min(bare)) * 1000,
            statistics.median(c) * 1000,
            statistics.median(t) / statistics.median(bare),
        ]
        for tree, t, c in zip(trees, times, cpus, strict=True)
    ]
    return table, outside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9, help="simulations of each runner")
    parser.add_argument("--imports", type=int, default=15, help="interpreters of each tree")
    parser.add_argument("--idfkit-python", default="", help="a Python with idfkit 1.1.1")
    parser.add_argument(
        "--baseline", default="", help="also an earlier tree: its src folder (e.g. git archive)"
    )
    args = parser.parse_args()
    ours = os.pathsep.join(p for p in sys.path if p)  # this process's path: src first
    plain = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    trees = [Tree("this tree", sys.executable, {**plain, "PYTHONPATH": ours})]
    if args.baseline:
        trees.append(Tree("baseline", sys.executable, {**plain, "PYTHONPATH": args.baseline}))
    if args.idfkit_python:
        trees.append(Tree("idfkit 1.1.1", args.idfkit_python, plain))
    print_table(
        f"(1) import time ms, best and median of {args.imports} fresh interpreters each",
        ["statement", "tree", "min ms", "median ms"],
        bench_imports(trees, args.imports),
    )
    table, outside = bench_simulate(trees, args.runs)
    print_table(
        f"(2) simulate() on the annual box model ({args.runs} interleaved runs each)",
        ["runner", "median s", "min s", "max s"],
        table,
    )
    print_table(
        "    time outside EnergyPlus (goal <= 5 ms) and ratio of medians (goal <= 1.05)",
        ["runner", "median - bare ms", "min - bare ms", "own CPU ms (median)", "ratio"],
        outside,
    )


if __name__ == "__main__":
    main()
