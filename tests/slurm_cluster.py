"""A real single-node Slurm cluster for the tests: munged, slurmctld and slurmd, run as root.

Everything lives in one temporary folder: the munge key and socket, a
``slurm.conf`` written here, the daemons' state, spool and logs. The daemons
run in the foreground as child processes and are stopped by their process
ids. Debian's ``slurm-wlm`` and ``munge`` packages provide them (``.ci/run``
installs them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from idfkit.simulation.testing import free_port, stop_process

DAEMONS = ("munged", "slurmctld", "slurmd")
SBIN = ("/usr/sbin", "/usr/bin", "/sbin")


def _which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((f"{d}/{name}" for d in SBIN if os.access(f"{d}/{name}", os.X_OK)), None)


def why_slurm_cannot_start() -> str | None:
    """Why no cluster can start on this machine, or None when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the Slurm daemons are started as root, and this is not root"
    missing = [name for name in (*DAEMONS, "sbatch", "squeue", "scancel") if _which(name) is None]
    if missing:
        return (
            f"{', '.join(missing)} not installed: apt-get install -y slurm-wlm munge (.ci/run does)"
        )
    return None


class SlurmCluster:
    """One node (this machine, named as ``hostname -s`` says) in one partition."""

    def __init__(self, workdir: Path, *, cpus: int = 2) -> None:
        self.dir = workdir
        self.node = socket.gethostname().split(".")[0]
        self.procs: list[subprocess.Popen[Any]] = []
        for sub in ("state", "spool", "munge"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(workdir / "munge", 0o700)
        self.munge_socket = workdir / "munge" / "munge.socket"
        key = workdir / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o600)
        self.conf = workdir / "slurm.conf"
        memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=idfkit-test",
                    f"SlurmctldHost={self.node}(127.0.0.1)",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    f"SlurmctldPort={free_port()}",
                    f"SlurmdPort={free_port()}",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={self.munge_socket}",
                    f"StateSaveLocation={workdir / 'state'}",
                    f"SlurmdSpoolDir={workdir / 'spool'}",
                    f"SlurmctldPidFile={workdir / 'slurmctld.pid'}",
                    f"SlurmdPidFile={workdir / 'slurmd.pid'}",
                    f"SlurmctldLogFile={workdir / 'slurmctld.log'}",
                    f"SlurmdLogFile={workdir / 'slurmd.log'}",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "SchedulerType=sched/backfill",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core",
                    "MpiDefault=none",
                    "ReturnToService=2",
                    "SlurmctldTimeout=30",
                    "SlurmdTimeout=30",
                    "KillWait=5",
                    "MinJobAge=300",
                    f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={cpus} "
                    f"RealMemory={max(1, memory_mb // 2)} State=UNKNOWN",
                    "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _daemon(self, *argv: str) -> None:
        with (self.dir / f"{Path(argv[0]).name}.out").open("ab") as log:  # the child keeps its own
            self.procs.append(
                subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
            )

    def _start(self) -> None:
        munge = self.dir / "munge"
        self._daemon(
            str(_which("munged")),
            "--foreground",
            "--force",
            f"--key-file={munge / 'munge.key'}",
            f"--socket={self.munge_socket}",
            f"--pid-file={munge / 'munged.pid'}",
            f"--log-file={munge / 'munged.log'}",
            f"--seed-file={munge / 'munged.seed'}",
        )
        self._wait(lambda: self.munge_socket.exists(), "munged did not create its socket")
        self._daemon(str(_which("slurmctld")), "-D", "-i", "-f", str(self.conf))
        self._daemon(str(_which("slurmd")), "-D", "-f", str(self.conf), "-N", self.node)
        self._wait(self._node_ready, "the Slurm node did not come up")

    def _node_ready(self) -> bool:
        done = self.run("sinfo", "-h", "-N", "-o", "%T", check=False)
        return done.returncode == 0 and done.stdout.strip().rstrip("*") in ("idle", "mixed")

    def _wait(self, ready: Any, message: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [p.args[0] for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{message}: {', '.join(map(str, dead))} exited\n{self.logs()}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{message} within {timeout:g} s\n{self.logs()}")

    def logs(self) -> str:
        """The daemons' logs, for a failure message."""
        parts = []
        for log in sorted(self.dir.rglob("*.log")) + sorted(self.dir.glob("*.out")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A Slurm command (``sbatch``, ``squeue``, ...) against this cluster."""
        done = subprocess.run(
            [str(_which(argv[0]) or argv[0]), *argv[1:]],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr}\n{self.logs()}")
        return done

    def sbatch(self, script: Path, *options: str) -> str:
        """Submit ``script``; the job id."""
        done = self.run("sbatch", "--parsable", *options, str(script))
        return done.stdout.strip().split(";")[0]

    def states(self, job: str) -> dict[str, str]:
        """Array task id -> state of the job's tasks still known to slurmctld."""
        done = self.run("squeue", "-h", "-r", "-j", job, "-t", "all", "-o", "%K %T", check=False)
        found: dict[str, str] = {}
        for line in done.stdout.splitlines():
            task, _, state = line.strip().partition(" ")
            found[task] = state
        return found

    def wait_done(self, job: str, timeout: float = 900) -> None:
        """Until no task of ``job`` is pending or running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.run(
                "squeue", "-h", "-r", "-j", job, "-t", "PD,R,CG", "-o", "%K", check=False
            )
            if done.returncode == 0 and not done.stdout.strip():
                return
            time.sleep(0.5)
        raise TimeoutError(f"job {job} did not finish within {timeout:g} s\n{self.logs()}")

    def stop(self) -> None:
        """Stop the daemons, last started first, by process id."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                stop_process(proc)
        self.procs.clear()
