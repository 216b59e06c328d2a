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
    runs in a child process of its own Python, timed there. The runner's own
    CPU time per simulate() (its process's, not EnergyPlus's) is printed too.
    Goals: ratio of medians <= 1.05 (issue 2); outside EnergyPlus <= 0.005 s
    (issue 21).

Time outside EnergyPlus is measured per simulate() call, paired, so that
EnergyPlus's own run-to-run noise (some 10 ms on a 0.7 s run) cancels: every
tree finds (through ``ENERGYPLUS_DIR``) the same stand-in installation, a
folder of symlinks to each entry of the real one except the ``energyplus``
program, which is a bash script that notes ``$EPOCHREALTIME`` just before and
just after it runs the real program (by its absolute path, so that the
program finds its own IDD and libraries) and logs the two stamps. For each
call, outside = simulate()'s wall time less the time between the stamps,
both read on the same (real-time) clock. Only ``energyplus`` is wrapped:
whatever it starts itself (ReadVarsESO with ``-r``, ExpandObjects with
``-x``) counts as EnergyPlus; a helper the runner starts on its own (none
here: readvars is off) and an ``energyplus --version`` probe count as
outside. So "outside" is the runner's own work: checking arguments and
finding EnergyPlus, writing the model, spawning the process and waiting on
it, reading its output, hashing files, writing the manifest. What a tree
does on a thread of its own while EnergyPlus still runs (this one reads the
key metrics and hashes the files once EnergyPlus prints its closing line,
some 40 ms before it exits) falls between the stamps: it costs the call no
wall time, and shows in the "own CPU" column instead.

The wrapper adds its own part to "outside". A call's wall time through it is
the runner's work + the wrapper's part outside its stamps (the spawn of bash,
its start-up before the first stamp, its exit after the second) + the time
between the stamps (bash spawning EnergyPlus, EnergyPlus running, bash
reaping it: a bare call). That part is measured as the wall time of the
wrapper around ``/bin/true`` less the time between its stamps (median of
runs alternating with ``/bin/true`` alone). It is printed, and the "raw"
columns keep it; "less wrapper" subtracts its median, which makes that
column simulate()'s time beyond a bare ``energyplus`` call, the figure the
goal is about. That assumes the wrapper costs /bin/true and EnergyPlus alike:
bash spawns either a little slower than Python would, the same for both
(EnergyPlus's libraries load after the spawn, between the stamps, as they do
in the bare command), so that difference cancels. The wall times of (2)
include the whole wrapper (some 2 ms: wrapped /bin/true's wall less
/bin/true's alone), so the ratio errs high by that much; the bare command
runs the real program.
Bash is needed (``$EPOCHREALTIME``, bash 5).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
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

#: The environment variable that names the wrapper's log of stamps.
STAMPS_VAR = "OVERHEAD_BENCH_STAMPS"

#: The stand-in program: the real one run in between two stamps (bash builtins, no fork).
WRAPPER = """#!{bash}
# benchmarks/overhead.py: runs {program} and logs when it started and ended.
started=$EPOCHREALTIME
{program} "$@"
code=$?
ended=$EPOCHREALTIME
printf '%s %s %s\\n' "$started" "$ended" "${{1-}}" >> "${{{var}:-/dev/null}}"
exit $code
"""

#: Wrapped and bare runs of /bin/true that measure the wrapper's own cost.
WRAPPER_RUNS = 300


@dataclass(frozen=True)
class Tree:
    """One idfkit to measure: a Python and the environment that finds it."""

    name: str
    python: str
    env: dict[str, str]


@dataclass(frozen=True)
class Stamp:
    """One run of a wrapped program: when it started and ended, and its first argument."""

    started: float
    ended: float
    first_arg: str


@dataclass(frozen=True)
class Call:
    """One simulate() call, timed in the tree's child, with the EnergyPlus run inside it."""

    wall: float
    cpu: float
    outside: float
    before: float
    after: float


#: Run in each tree's Python: one simulate() per line read; its wall time (perf_counter),
#: own CPU time, and its start and end on the clock the wrapper's stamps use, printed.
SERVE = """
import sys, time
from pathlib import Path
from idfkit import load_idf
from idfkit.simulation import simulate
model, weather = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    doc = load_idf(model)
    at = time.time()
    started, cpu = time.perf_counter(), time.process_time()
    result = simulate(doc, weather, output_dir=line.strip())
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    done = time.time()
    assert result.success
    print(took, cpu, at, done, flush=True)
"""


def write_wrapper(path: Path, program: Path) -> None:
    """Write the stamping bash script that runs `program`.

    Args:
        path: Where the script goes (made executable).
        program: The program it runs, by absolute path.
    """
    bash = shutil.which("bash")
    if bash is None:
        raise SystemExit("the paired measure needs bash (for $EPOCHREALTIME)")
    path.write_text(WRAPPER.format(bash=bash, program=shlex.quote(str(program)), var=STAMPS_VAR))
    path.chmod(0o755)


def stand_in(install_dir: Path, executable: Path, folder: Path) -> Path:
    """Build the stand-in installation: the real one's entries, its program wrapped.

    Args:
        install_dir: The real installation.
        executable: Its ``energyplus`` program, which the wrapper runs.
        folder: An empty folder to fill.

    Returns:
        The folder, for ``ENERGYPLUS_DIR``.
    """
    # The wrapper takes the name the trees look for; the program it runs is resolved,
    # so that it finds its IDD and libraries beside it.
    for entry in install_dir.iterdir():
        if entry.name != "energyplus":
            (folder / entry.name).symlink_to(entry)
    write_wrapper(folder / "energyplus", executable.resolve())
    return folder


class StampLog:
    """The wrapper's log, read as it grows (the runs are sequential)."""

    def __init__(self, path: Path) -> None:
        """Start an empty log.

        Args:
            path: The log file (its folder must exist).
        """
        self.path = path
        self.path.write_text("")
        self._read = 0

    def new(self) -> list[Stamp]:
        """The runs logged since the last call."""
        with self.path.open("rb") as fh:
            fh.seek(self._read)
            data = fh.read()
        self._read += len(data)
        stamps = []
        for line in data.decode().splitlines():
            # $EPOCHREALTIME uses the locale's decimal point.
            started, ended, *first = line.split(" ", 2)
            stamps.append(
                Stamp(
                    float(started.replace(",", ".")),
                    float(ended.replace(",", ".")),
                    first[0] if first else "",
                )
            )
        return stamps


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


def wrapper_cost(folder: Path, runs: int) -> dict[str, float]:
    """The wrapper's own cost, from runs of it around ``/bin/true`` and of ``/bin/true`` alone.

    Args:
        folder: A scratch folder for the wrapper and its log.
        runs: Runs of each, alternating.

    Returns:
        Medians in seconds: ``direct`` (/bin/true alone), ``wrapped`` (through
        the wrapper), ``between`` (between its stamps) and ``outside`` (the
        wrapped wall less the time between the stamps, paired: what the
        wrapper adds to a simulate()'s "outside").
    """
    true = Path(shutil.which("true") or "/bin/true")
    wrapper = folder / "true"
    write_wrapper(wrapper, true)
    log = StampLog(folder / "true.log")
    env = {**os.environ, STAMPS_VAR: str(log.path)}
    direct: list[float] = []
    wrapped: list[float] = []
    between: list[float] = []
    outside: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(true)], check=True)
        direct.append(time.perf_counter() - started)
        at = time.time()  # the stamps' clock
        subprocess.run([str(wrapper)], check=True, env=env)
        took = time.time() - at
        (stamp,) = log.new()
        wrapped.append(took)
        between.append(stamp.ended - stamp.started)
        outside.append(took - (stamp.ended - stamp.started))
    return {
        "direct": statistics.median(direct),
        "wrapped": statistics.median(wrapped),
        "between": statistics.median(between),
        "outside": statistics.median(outside),
    }


def paired(
    tree: Tree, wall: float, cpu: float, at: float, done: float, stamps: list[Stamp]
) -> Call:
    """One simulate() call with the EnergyPlus run its stamps show taken out.

    Args:
        tree: The tree that ran it (for messages).
        wall: Its wall time (perf_counter).
        cpu: Its process's CPU time.
        at: Its start on the stamps' clock.
        done: Its end on the stamps' clock.
        stamps: The wrapper's log lines written during the call.
    """
    # A version probe is the runner's own work; the simulation is the one other run.
    runs = [s for s in stamps if s.first_arg != "--version"]
    if len(runs) != 1:
        raise SystemExit(
            f"{tree.name}: {len(runs)} EnergyPlus runs logged by the stand-in in one "
            "simulate() (expected 1: does it use ENERGYPLUS_DIR?)"
        )
    (run,) = runs
    before, after = run.started - at, done - run.ended
    if before < 0 or after < 0:
        raise SystemExit(f"{tree.name}: the stamps fall outside the simulate() call")
    return Call(wall, cpu, (done - at) - (run.ended - run.started), before, after)


def bench_simulate(
    trees: list[Tree], runs: int
) -> tuple[list[list[object]], list[list[object]], dict[str, float]]:
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    bare: list[float] = []
    calls: list[list[Call]] = [[] for _ in trees]
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "box.idf"
        load_idf(example_model("box")).write(model)
        (Path(tmp) / "standin").mkdir()
        (Path(tmp) / "cost").mkdir()
        cost = wrapper_cost(Path(tmp) / "cost", WRAPPER_RUNS)
        # Every tree runs the same EnergyPlus (the one this tree finds), through the stand-in.
        folder = stand_in(config.install_dir, config.executable, Path(tmp) / "standin")
        log = StampLog(Path(tmp) / "stamps.log")
        engine = {"ENERGYPLUS_DIR": str(folder), STAMPS_VAR: str(log.path)}
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

        def run(tree: Tree, server: subprocess.Popen[str], out: Path) -> Call:
            """One simulate(), timed in the child and paired with the stamps it logged."""
            assert server.stdin is not None and server.stdout is not None
            server.stdin.write(f"{out}\n")
            server.stdin.flush()
            wall, cpu, at, done = (float(x) for x in server.stdout.readline().split())
            return paired(tree, wall, cpu, at, done, log.new())

        try:
            for n, (tree, server) in enumerate(zip(trees, servers, strict=True)):
                run(tree, server, Path(tmp) / f"warm-{n}")  # imports and caches warm
            for i in range(runs):
                out = Path(tmp) / f"bare-{i}"
                started = time.perf_counter()
                subprocess.run(
                    [str(config.executable), "-w", str(weather), "-d", str(out), str(model)],
                    check=True,
                    capture_output=True,
                )
                bare.append(time.perf_counter() - started)
                for n, (tree, server) in enumerate(zip(trees, servers, strict=True)):
                    calls[n].append(run(tree, server, Path(tmp) / f"sim-{n}-{i}"))
        finally:
            for server in servers:
                assert server.stdin is not None
                server.stdin.close()
                server.wait(timeout=60)
    table = [["bare energyplus", statistics.median(bare), min(bare), max(bare)]]
    walls = [[c.wall for c in seen] for seen in calls]
    table += [
        [f"simulate(), {tree.name}", statistics.median(w), min(w), max(w)]
        for tree, w in zip(trees, walls, strict=True)
    ]
    outside: list[list[object]] = []
    for tree, seen, w in zip(trees, calls, walls, strict=True):
        raw = [c.outside * 1000 for c in seen]
        outside.append(
            [
                tree.name,
                statistics.median(raw),
                min(raw),
                max(raw),
                statistics.median(raw) - cost["outside"] * 1000,
                statistics.median(c.before * 1000 for c in seen),
                statistics.median(c.after * 1000 for c in seen),
                statistics.median(c.cpu * 1000 for c in seen),
                statistics.median(w) / statistics.median(bare),
            ]
        )
    return table, outside, cost


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
    table, outside, cost = bench_simulate(trees, args.runs)
    print_table(
        f"(2) simulate() on the annual box model ({args.runs} interleaved runs each; "
        "simulate() through the stamping wrapper)",
        ["runner", "median s", "min s", "max s"],
        table,
    )
    print(
        f"\n    wrapper cost, median of {WRAPPER_RUNS} runs around /bin/true: "
        f"{cost['wrapped'] * 1000:.3f} ms wrapped vs {cost['direct'] * 1000:.3f} ms alone; "
        f"{cost['between'] * 1000:.3f} ms between its stamps, "
        f"{cost['outside'] * 1000:.3f} ms outside them (subtracted in 'less wrapper')"
    )
    print_table(
        "    time outside EnergyPlus per call, paired with its stamps (goal <= 5 ms), "
        "and ratio of medians (goal <= 1.05)",
        [
            "runner",
            "raw median ms",
            "raw min ms",
            "raw max ms",
            "less wrapper ms",
            "before EP ms",
            "after EP ms",
            "own CPU ms",
            "ratio",
        ],
        outside,
    )
    print(
        "    raw: simulate() wall less the time between the stamps, wrapper included; "
        "less wrapper: raw median less the wrapper's part;\n"
        "    before/after EP: the raw parts before the first stamp and after the second "
        "(medians); own CPU: the runner process's (median)"
    )


if __name__ == "__main__":
    main()
