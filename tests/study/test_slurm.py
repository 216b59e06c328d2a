"""A study run as one Slurm job array on a real single-node cluster, with the docs' script."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from idfkit.simulation import LocalFileSystem, SimulationResult
from idfkit.simulation.cli import INDEX_VARIABLES
from idfkit.simulation.study import load_study, write_study
from tests.emulators import unavailable
from tests.slurm_cluster import SlurmCluster, why_slurm_cannot_start
from tests.study.test_study import box_jobs

DOC = Path(__file__).parents[2] / "docs" / "batch-and-cloud.md"

pytestmark = [pytest.mark.slurm, pytest.mark.energyplus]


def documented_script() -> str:
    """The ``sbatch`` script that docs/batch-and-cloud.md shows, as written there."""
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    [script] = [b for b in blocks if "#SBATCH" in b]
    return str(script)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    reason = why_slurm_cannot_start()
    if reason is not None:
        unavailable(f"no Slurm cluster can start here: {reason}")
    workdir = tmp_path_factory.mktemp("slurm")
    os.chmod(workdir, 0o755)
    cluster = SlurmCluster(workdir)
    yield cluster
    cluster.stop()


def _energyplus_of_task(job: str, task: int) -> list[int]:
    """EnergyPlus processes started by one array task (found by their environment)."""
    wanted = {f"SLURM_ARRAY_JOB_ID={job}".encode(), f"SLURM_ARRAY_TASK_ID={task}".encode()}
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            environ = set(Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"))
        except OSError:
            continue
        if b"energyplus" in cmdline.lower() and wanted <= environ:
            found.append(int(pid))
    return found


def _collect(study: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "idfkit.simulation", "collect", str(study), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_study_as_one_slurm_array_with_a_task_cancelled_then_resubmitted(
    slurm: SlurmCluster, box_model: Path, weather: Path, tmp_path: Path
) -> None:
    study = tmp_path / "study-001"
    fs = LocalFileSystem(study)
    write_study(box_jobs(box_model, weather, 6), fs)
    script = tmp_path / "study.sh"
    script.write_text(documented_script())
    (tmp_path / "logs").mkdir()
    env = {k: v for k, v in slurm.env.items() if k not in INDEX_VARIABLES}
    # The tasks find idfkit-sim on PATH, as a virtual environment's shell would.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["STUDY"] = str(study)
    slurm.env = env
    victim = 1

    job = slurm.sbatch(script, "--array=0-5", f"--chdir={tmp_path}")
    deadline = time.monotonic() + 300
    while not _energyplus_of_task(job, victim):
        assert time.monotonic() < deadline, f"task {victim} never ran EnergyPlus\n{slurm.logs()}"
        assert slurm.states(job).get(str(victim)) in (None, "PENDING", "RUNNING", "CONFIGURING")
        time.sleep(0.05)
    slurm.run("scancel", f"{job}_{victim}")
    slurm.wait_done(job)
    states = slurm.states(job)
    assert states.get(str(victim)) == "CANCELLED", states
    assert [states.get(str(i)) for i in (0, 2, 3, 4, 5)] == ["COMPLETED"] * 5, states
    assert not _energyplus_of_task(job, victim), "the cancelled task left EnergyPlus running"

    first = _collect(study, env)
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)
    assert report["counts"]["succeeded"] == 5, report["counts"]
    assert report["rows"][victim]["status"] in ("incomplete", "missing")
    assert report["to_resubmit"] == [victim]

    again = slurm.sbatch(script, f"--array={victim}", f"--chdir={tmp_path}")
    slurm.wait_done(again)
    assert slurm.states(again).get(str(victim)) == "COMPLETED", slurm.logs()
    log = (tmp_path / "logs" / f"{again}_{victim}.out").read_text()
    assert f"job {victim} (case-{victim}): " in log, log

    final = _collect(study, env)
    assert final.returncode == 0, final.stdout + final.stderr
    assert json.loads(final.stdout)["to_resubmit"] == []
    plan = load_study(fs)
    for spec in plan.jobs:  # every result is there, whole, made for its own job
        result = SimulationResult.from_directory(spec.output_dir, fs=fs)
        assert result.success, spec.label
        assert result.manifest is not None and result.manifest.job == spec.binding()
        ts = result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")  # type: ignore[union-attr]
        assert len(ts) == 8760, spec.label
