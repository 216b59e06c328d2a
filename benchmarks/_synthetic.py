"""Stand-in run manifests, for benchmarks that measure collection rather than EnergyPlus."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from idfkit.simulation.manifest import InputRecord, JobBinding, ManifestFile, Metric, RunManifest


def synthetic_manifest(
    label: str,
    success: bool,
    job: JobBinding,
    *,
    parameters: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Metric] | None = None,
) -> str:
    """The JSON of a manifest for a run that never ran (one tiny file listed)."""
    now = datetime.now(UTC)
    return RunManifest(
        run_id=label,
        label=label,
        success=success,
        exit_code=0 if success else 1,
        runtime_seconds=1.0,
        energyplus_version="25.2.0",
        output_prefix="eplus",
        files=(ManifestFile(name="eplusout.sql", size=7, sha256="0" * 64),),
        model=InputRecord(name="in.idf", sha256="0" * 64),
        weather=None,
        started_at=now,
        finished_at=now,
        idfkit_version="bench",
        error_summary="" if success else "EnergyPlus terminated with a fatal error",
        job=job,
        parameters=dict(parameters or {}),
        metrics=dict(metrics or {}) if success else {},
    ).to_json()
