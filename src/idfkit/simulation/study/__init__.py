"""Studies: many jobs prepared on one machine, run by many workers, collected anywhere.

A study is a folder on a FileSystem::

    <study>/idfkit-study.json           the job index (written last by write_study)
    <study>/inputs/models/<sha256>.idf  each distinct model, stored once
    <study>/inputs/weather/<sha256>.epw each distinct weather file, stored once
    <study>/<output_dir>/...            one run's outputs and its manifest

Workers (AWS Batch array jobs, Kubernetes Indexed Jobs, Dask) each run one
job by index (`run_study_job`); `collect_results` tells succeeded, failed,
stale, missing and incomplete apart from the manifests alone, and gives the
study's table: each job's parameters next to its key metrics. Each run's
manifest records the job it was made for; a result made for another job (an
earlier study written to the same place) reads as stale and is run again.
`collect_timeseries` gathers one output variable of every run into a
long-format Parquet file; `grid_jobs` builds the jobs of a parameter grid.
"""

from __future__ import annotations

from idfkit.simulation.study.collect import CollectedRow, Collection, collect_results
from idfkit.simulation.study.grid import grid_jobs, parse_grid_option, resolve_edit
from idfkit.simulation.study.index import STUDY_INDEX, JobSpec, StudyIndex, load_study, write_study
from idfkit.simulation.study.timeseries import TimeseriesReport, collect_timeseries
from idfkit.simulation.study.worker import WorkerOutcome, run_study_job

__all__ = [
    "STUDY_INDEX",
    "CollectedRow",
    "Collection",
    "JobSpec",
    "StudyIndex",
    "TimeseriesReport",
    "WorkerOutcome",
    "collect_results",
    "collect_timeseries",
    "grid_jobs",
    "load_study",
    "parse_grid_option",
    "resolve_edit",
    "run_study_job",
    "write_study",
]
