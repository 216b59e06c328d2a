"""CPU time of the output readers, against idfkit 1.1.1 on the same files.

Simulates the annual box model once (with timestep outputs, CSV, HTML and ESO
files), then times each reader in a fresh interpreter per implementation:
this package, this package's SQL reader at an earlier git revision
(`--before REV`), and idfkit 1.1.1 when `--idfkit-python` names a Python
that has it installed. Figures are the median of `--repeat` calls, in ms.
Goal (issue 12): `get_timeseries` no slower than idfkit 1.1.1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _table import print_table

from idfkit.simulation import find_energyplus, simulate
from idfkit.simulation.examples import example_model

OUTPUTS = """
OutputControl:Table:Style, CommaAndHTML;
OutputControl:Files, Yes;
Output:Variable, *, Site Outdoor Air Drybulb Temperature, Timestep;
"""

# Runs in the interpreter under test; only API that every implementation shares.
TIMER = r"""
import json, statistics, sys, time
from pathlib import Path
run, repeat, before = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def find(*names):
    return next(run / n for n in names if (run / n).is_file())
if before:
    import importlib.util
    spec = importlib.util.spec_from_file_location("sql_before", before)
    module = sys.modules["sql_before"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    SQLResult = module.SQLResult
    def series(sql, name, key, freq):
        return sql.get_timeseries(name, key, frequency=freq)
else:
    from idfkit.simulation.parsers.sql import SQLResult
    def series(sql, name, key, freq):
        return sql.get_timeseries(name, key, freq)
OUTDOOR = "Site Outdoor Air Drybulb Temperature"
def median_ms(call):
    times = []
    for _ in range(repeat):
        start = time.process_time(); call(); times.append(time.process_time() - start)
    return 1000 * statistics.median(times)
path = find("eplus.sql", "eplusout.sql")
warm = SQLResult(path)
figures = {
    "get_timeseries hourly, new SQLResult": median_ms(
        lambda: series(SQLResult(path), "Zone Mean Air Temperature", "ZONE 1", "Hourly")),
    "get_timeseries hourly, open SQLResult": median_ms(
        lambda: series(warm, "Zone Mean Air Temperature", "ZONE 1", "Hourly")),
    "get_timeseries timestep (35,040 rows)": median_ms(
        lambda: series(warm, OUTDOOR, "Environment", "Zone Timestep")),
}
if not before:
    from idfkit.simulation.parsers.csv import CSVResult
    from idfkit.simulation.parsers.eso import ESOResult
    from idfkit.simulation.parsers.html import HTMLResult
    eso, csv = find("eplus.eso", "eplusout.eso"), find("eplus.csv", "eplusout.csv")
    html = find("eplusTable.htm", "eplustbl.htm")
    figures["ESOResult.from_file, eager"] = median_ms(lambda: ESOResult.from_file(eso, eager=True))
    figures["CSVResult.from_file"] = median_ms(lambda: CSVResult.from_file(csv))
    figures["HTMLResult.from_file"] = median_ms(lambda: HTMLResult.from_file(html))
print(json.dumps(figures))
"""


def measure(
    python: str, run: Path, repeat: int, before: str = "", src: str = ""
) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=src) if src else dict(os.environ)
    if not src:
        env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [python, "-c", TIMER, str(run), str(repeat), before],
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{python} failed:\n{out.stderr}")
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def old_sql_module(revision: str, folder: Path) -> str:
    """The SQL reader as it was at `revision`, as a file (empty when git cannot show it)."""
    repo = Path(__file__).resolve().parents[1]
    shown = subprocess.run(
        ["git", "-C", str(repo), "show", f"{revision}:src/idfkit/simulation/parsers/sql.py"],
        capture_output=True,
        text=True,
    )
    if shown.returncode != 0:
        return ""
    path = folder / "sql_before.py"
    path.write_text(shown.stdout)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--before", default="", help="git revision of the reader to compare")
    parser.add_argument("--idfkit-python", default="", help="a Python with idfkit 1.1.1")
    args = parser.parse_args()
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    src = str(Path(__file__).resolve().parents[1] / "src")
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "box.idf"
        model.write_text(example_model("box").read_text() + OUTPUTS)
        result = simulate(model, weather, output_dir=Path(tmp) / "run", energyplus=config)
        assert result.success, result.errors.summary()
        run = Path(result.run_dir)
        columns = {"this package": measure(sys.executable, run, args.repeat, src=src)}
        if args.before and (before := old_sql_module(args.before, Path(tmp))):
            columns[f"at {args.before}"] = measure(
                sys.executable, run, args.repeat, before=before, src=src
            )
        if args.idfkit_python:
            columns["idfkit 1.1.1"] = measure(args.idfkit_python, run, args.repeat)
    names = list(columns)
    rows = [
        [task, *(columns[n].get(task, float("nan")) for n in names)]
        for task in columns["this package"]
    ]
    print_table(
        f"Reader CPU time, ms (median of {args.repeat}; annual box, 8760 hourly rows)",
        ["task", *names],
        rows,
    )


if __name__ == "__main__":
    main()
