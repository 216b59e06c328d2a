"""The model layer side by side with idfkit 1.1.1: schema load, a 20,000-object model, fields.

idfkit 1.1.1 cannot share a virtual environment with this package (same
import name), so it runs from its own: ``--other /path/to/venv/bin/python``
(default ``/work/idfkit111/bin/python``; create it with
``python -m venv DIR && DIR/bin/pip install idfkit==1.1.1``). Each figure is
measured in a fresh process by this same script (``--measure``), which uses
only the API both packages share, so the two columns run the same code.

Figures: the first schema load in a process (this package: with an empty
cache, and with the cache a previous process left), loading, editing and
writing a generated model of 2,000 zones with their surfaces (about 20,000
objects), and attribute reads and writes per second. Goals (issue 10): no
slower than idfkit 1.1.1 on each; first schema load at most 0.5 s, and cached
after that. A second table times ``import idfkit.simulation`` against this
package at an earlier git revision (``--before REV``, default ``HEAD~1``):
the goal there is no slower than before.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve()
SRC = SCRIPT.parent.parent / "src"


def generate(zones: int = 2000) -> str:
    """An IDF model: per zone, a zone, six surfaces, a window, lights and infiltration."""
    out = [
        "Version, 25.2;",
        "Building, Big, 0, Suburbs, 0.04, 0.4, FullExterior, 25, 6;",
        "Material, Insulation, MediumRough, 0.1, 0.04, 30, 1400;",
        "Construction, Wall, Insulation;",
        "WindowMaterial:SimpleGlazingSystem, Glazing, 2.8, 0.6;",
        "Construction, Window, Glazing;",
        "Schedule:Constant, Always On, , 1;",
    ]
    for i in range(zones):
        x, y, z = (i % 50) * 10, (i // 50) * 10, f"Zone {i}"
        out.append(
            f"Zone,\n  {z},  !- Name\n  0,  !- Direction of Relative North {{deg}}\n"
            f"  {x},  !- X Origin {{m}}\n  {y},  !- Y Origin {{m}}\n  0;  !- Z Origin {{m}}"
        )
        walls = {
            "S": f"{x},{y},3, {x},{y},0, {x + 10},{y},0, {x + 10},{y},3",
            "E": f"{x + 10},{y},3, {x + 10},{y},0, {x + 10},{y + 10},0, {x + 10},{y + 10},3",
            "N": f"{x + 10},{y + 10},3, {x + 10},{y + 10},0, {x},{y + 10},0, {x},{y + 10},3",
            "W": f"{x},{y + 10},3, {x},{y + 10},0, {x},{y},0, {x},{y},3",
            "Roof": f"{x},{y + 10},3, {x},{y},3, {x + 10},{y},3, {x + 10},{y + 10},3",
            "Floor": f"{x},{y},0, {x},{y + 10},0, {x + 10},{y + 10},0, {x + 10},{y},0",
        }
        for side, vertices in walls.items():
            kind = {"Roof": "Roof", "Floor": "Floor"}.get(side, "Wall")
            outside = (
                "Ground, , NoSun, NoWind"
                if side == "Floor"
                else "Outdoors, , SunExposed, WindExposed"
            )
            out.append(
                f"BuildingSurface:Detailed, {z} {side}, {kind}, Wall, {z}, , {outside}, "
                f"autocalculate, 4,\n  {vertices};"
            )
        out.append(
            f"FenestrationSurface:Detailed, {z} Window, Window, Window, {z} S, , autocalculate, "
            f", 1, 4,\n  {x + 2},{y},2.5, {x + 2},{y},0.5, {x + 8},{y},0.5, {x + 8},{y},2.5;"
        )
        out.append(
            f"Lights, {z} Lights, {z}, Always On, Watts/Area, , 10, , 0, 0.7, 0.2, 0, General;"
        )
        out.append(
            f"ZoneInfiltration:DesignFlowRate, {z} Infiltration, {z}, Always On, "
            "AirChanges/Hour, , , , 0.5, 1, 0, 0, 0;"
        )
    return "\n\n".join(out) + "\n"


# -- run inside each interpreter -------------------------------------------
def measure(what: str, model: str) -> dict[str, float]:
    """One figure set, in this process; printed as JSON by ``--measure``."""
    out: dict[str, float] = {}
    if what == "import":
        start = time.perf_counter()
        import idfkit.simulation

        out["import_simulation_s"] = time.perf_counter() - start
        return out
    import idfkit

    if what == "schema":
        start = time.perf_counter()
        if "path" in inspect.signature(idfkit.get_schema).parameters:
            idfkit.get_schema()  # this package: the schema found next to the engine
        else:
            idfkit.get_schema((25, 2, 0))  # idfkit 1.1.1: the schema it bundles
        out["schema_s"] = time.perf_counter() - start
        return out
    from idfkit import load_idf, write_idf

    start = time.perf_counter()
    doc = load_idf(model)
    out["load_s"] = time.perf_counter() - start
    start = time.perf_counter()
    for zone in doc["Zone"]:
        zone.x_origin = zone.x_origin + 1
    doc["Material"]["Insulation"].thickness = 0.2
    out["edit_s"] = time.perf_counter() - start
    start = time.perf_counter()
    text = write_idf(doc)
    out["write_s"] = time.perf_counter() - start
    out["total_s"] = out["load_s"] + out["edit_s"] + out["write_s"]
    out["objects"] = len(doc)
    out["written_chars"] = len(text)
    zone = doc["Zone"].first()
    n = 200_000
    start = time.perf_counter()
    for _ in range(n):
        zone.x_origin  # noqa: B018
    out["reads_per_s"] = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(n):
        zone.x_origin = i
    out["writes_per_s"] = n / (time.perf_counter() - start)
    return out


# -- the driver ----------------------------------------------------------------
def _run(python: str, what: str, model: Path, env: dict[str, str]) -> dict[str, float]:
    command = [python, str(SCRIPT), "--measure", what, "--model", str(model)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{python} --measure {what} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--other", default="/work/idfkit111/bin/python")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--zones", type=int, default=2000)
    parser.add_argument("--before", default="HEAD~1", help="git revision for the import figure")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.model)))
        return

    sys.path.insert(0, str(SCRIPT.parent))
    from _table import print_table

    if not Path(args.other).exists():
        raise SystemExit(f"no idfkit 1.1.1 interpreter at {args.other}; see --help")
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "big.idf"
        model.write_text(generate(args.zones))
        # Bytecode is cached (in a folder of its own), as it is for an installed package.
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        ours = {**base, "PYTHONPATH": str(SRC), "IDFKIT_CACHE_DIR": str(Path(tmp) / "cache")}
        theirs = {k: v for k, v in base.items() if k not in ("PYTHONPATH", "IDFKIT_CACHE_DIR")}
        before_src = _checkout(args.before, Path(tmp) / "before")
        earlier = {**ours, "PYTHONPATH": str(before_src)}
        for python, env in (
            (sys.executable, ours),
            (args.other, theirs),
            (sys.executable, earlier),
        ):
            _run(python, "import", model, env)  # writes the bytecode caches
        cold = _run(sys.executable, "schema", model, ours)["schema_s"]  # empty cache
        rows: list[list[object]] = []
        ours_runs: dict[str, list[dict[str, float]]] = {"schema": [], "import": [], "model": []}
        theirs_runs: dict[str, list[dict[str, float]]] = {"schema": [], "import": [], "model": []}
        imports_before: list[dict[str, float]] = []
        for _ in range(args.repeat):  # interleaved, so machine noise hits all alike
            for what in ours_runs:
                ours_runs[what].append(_run(sys.executable, what, model, ours))
                theirs_runs[what].append(_run(args.other, what, model, theirs))
            imports_before.append(_run(sys.executable, "import", model, earlier))

    def row(label: str, what: str, key: str, higher_is_better: bool = False) -> None:
        mine, other = _median(ours_runs[what], key), _median(theirs_runs[what], key)
        ratio = (other / mine) if higher_is_better else (mine / other)
        rows.append([label, mine, other, ratio, "yes" if ratio <= 1.0 else "NO"])

    theirs_schema = _median(theirs_runs["schema"], "schema_s")
    rows.append(
        [
            "first schema load, empty cache (s)",
            cold,
            theirs_schema,
            cold / theirs_schema,
            "yes" if cold <= 0.5 else "NO",
        ]
    )
    row("first schema load, cached (s)", "schema", "schema_s")
    row("load 20k-object model (s)", "model", "load_s")
    row("edit 2,000 zones (s)", "model", "edit_s")
    row("write_idf (s)", "model", "write_s")
    row("load + edit + write (s)", "model", "total_s")
    row("attribute reads per s", "model", "reads_per_s", higher_is_better=True)
    row("attribute writes per s", "model", "writes_per_s", higher_is_better=True)
    objects = int(_median(ours_runs["model"], "objects"))
    print_table(
        f"Model layer vs idfkit 1.1.1 ({objects} objects; median of {args.repeat} fresh processes; "
        "ratio = cost relative to idfkit, below 1 is better)",
        ["figure", "this package", "idfkit 1.1.1", "ratio", "goal met"],
        rows,
    )
    now, then = (_median(r, "import_simulation_s") for r in (ours_runs["import"], imports_before))
    print_table(
        f"import idfkit.simulation, this package now and at {args.before} (s)",
        ["figure", "now", args.before, "ratio"],
        [["import idfkit.simulation (s)", now, then, now / then]],
    )


def _checkout(revision: str, folder: Path) -> Path:
    """This package's ``src`` folder as it was at ``revision``."""
    repo = SCRIPT.parent.parent
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", revision, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


if __name__ == "__main__":
    main()
