"""Studies: preparation, workers, collection; the CLI; Dask; a worker killed mid-upload."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from idfkit import load_idf
from idfkit.simulation import (
    MemoryFileSystem,
    S3FileSystem,
    SimulationJob,
    SimulationResult,
    StudyError,
    simulate_batch,
)
from idfkit.simulation.cli import main as cli
from idfkit.simulation.fs.base import join
from idfkit.simulation.manifest import MANIFEST_NAME
from idfkit.simulation.options import RunOptions
from idfkit.simulation.study import (
    STUDY_INDEX,
    JobSpec,
    StudyIndex,
    collect_results,
    load_study,
    run_study_job,
    write_study,
)
from idfkit.simulation.study.index import _validated_by_job
from idfkit.simulation.testing import ACCESS_KEY, SECRET_KEY, LocalS3Server
from tests.conftest import unique_bucket
from tests.faults import FaultProxy, Request


def box_jobs(box_model: Path, weather: Path, count: int) -> list[SimulationJob]:
    base = load_idf(box_model)
    jobs = []
    for i in range(count):
        variant = base.copy()
        variant["Material"][0].thickness = float(
            f"{0.05 + 0.01 * (i % 3):.2f}"
        )  # only 3 distinct models
        jobs.append(SimulationJob(variant, weather, label=f"case-{i}", output_dir=f"case-{i}"))
    return jobs


def test_study_lifecycle_in_memory(box_model: Path, weather: Path, rejected_model: Path) -> None:
    fs = MemoryFileSystem()
    jobs = [
        *box_jobs(box_model, weather, 4),
        SimulationJob(rejected_model, weather, label="broken"),
    ]
    plan = write_study(jobs, fs, "study-001")
    assert [j.output_dir for j in plan.jobs] == ["case-0", "case-1", "case-2", "case-3", "broken"]
    assert len(fs.glob("study-001/inputs/models", "*")) == 4  # 3 variants + the broken model
    assert len(fs.glob("study-001/inputs/weather", "*.epw")) == 1  # one weather file, stored once
    assert load_study(fs, "study-001") == plan

    before = collect_results(fs, "study-001")
    assert before.counts() == {
        "succeeded": 0,
        "failed": 0,
        "stale": 0,
        "incomplete": 0,
        "missing": 5,
    }
    assert before.to_resubmit == [0, 1, 2, 3, 4]

    for i in range(5):
        outcome = run_study_job(fs, i, "study-001")
        assert outcome.action == "ran"
    again = run_study_job(fs, 0, "study-001")
    assert again.action == "skipped"
    assert again.success
    assert run_study_job(fs, 0, "study-001", force=True).action == "ran"

    after = collect_results(fs, "study-001")
    assert after.counts() == {
        "succeeded": 4,
        "failed": 1,
        "stale": 0,
        "incomplete": 0,
        "missing": 0,
    }
    assert after.failed == [4]
    assert after.to_resubmit == []
    broken = after.rows[4]
    assert broken.status == "failed"
    # The error column names the cause (issue 19, item 8), not the counts.
    assert broken.error.startswith('Severe: BuildingSurface:Detailed="ONLY WALL"'), broken.error
    assert all(r.runtime_seconds for r in after.rows)
    result = SimulationResult.from_directory("study-001/case-2", fs=fs)
    assert len(result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 8760  # type: ignore[union-attr]


def test_bad_studies_are_refused(box_model: Path, weather: Path) -> None:
    fs = MemoryFileSystem()
    jobs = box_jobs(box_model, weather, 2)
    write_study(jobs, fs)
    with pytest.raises(StudyError, match="already exists"):
        write_study(jobs, fs)
    write_study(jobs, fs, overwrite=True)
    with pytest.raises(StudyError, match=r"out of range.*2 jobs"):
        run_study_job(fs, 2)
    with pytest.raises(StudyError, match="out of range"):
        run_study_job(fs, -1)
    with pytest.raises(StudyError, match="share output_dir"):
        write_study([jobs[0], jobs[0]], MemoryFileSystem())
    with pytest.raises(StudyError, match=r"no study at .* \(it holds no idfkit-study\.json\)"):
        load_study(MemoryFileSystem())
    fs.write_text(STUDY_INDEX, '{"jobs": "truncated')
    with pytest.raises(StudyError, match="corrupt"):
        collect_results(fs)
    with pytest.raises(FileNotFoundError, match=r"nope\.epw"):
        write_study([SimulationJob(box_model, "nope.epw")], MemoryFileSystem())


def test_an_index_read_back_is_checked_field_by_field(box_model: Path, weather: Path) -> None:
    """The index is untrusted input: another format, a loose type or an unknown field is refused."""
    fs = MemoryFileSystem()
    write_study(box_jobs(box_model, weather, 1), fs)
    good = json.loads(fs.read_text(STUDY_INDEX))
    assert good["schema_version"] == 2 and load_study(fs).jobs[0].options.timeout == 3600.0

    def stored(change: Any) -> None:
        index = json.loads(json.dumps(good))
        change(index, index["jobs"][0])
        fs.write_text(STUDY_INDEX, json.dumps(index))

    def version_one(index: dict[str, Any], job: dict[str, Any]) -> None:
        index["schema_version"] = 1  # run options loose on the job, as version 1 kept them
        job.update(job.pop("options"), annual=True, timeout=60)

    stored(version_one)
    with pytest.raises(StudyError, match="schema_version 1, and this idfkit reads version 2"):
        load_study(fs)
    for field, value in (("annual", "yes"), ("timeout", "5"), ("extra_args", "-x")):
        stored(lambda index, job, f=field, v=value: job["options"].update({f: v}))
        with pytest.raises(StudyError, match=rf"(?s)corrupt.*options\.{field}"):
            load_study(fs)
    stored(lambda index, job: job.update(annual=True))  # a field a job does not have
    with pytest.raises(StudyError, match=r"(?s)corrupt.*jobs\.0\.annual"):
        load_study(fs)


def big_index(count: int) -> StudyIndex:
    """An index of ``count`` jobs (two models, two sets of run options), as written."""
    models = [f"inputs/models/{c * 64}.idf" for c in "ab"]
    weather = "inputs/weather/" + "c" * 64 + ".epw"
    jobs = [
        JobSpec(
            index=i,
            label=f"case {i}",
            output_dir=f"runs/case-{i:05d}",
            model=models[i % 2],
            weather=weather,
            options=RunOptions(timeout=60.0 if i % 3 else 3600.0, extra_args=("-r",)),
            parameters={"thickness": 0.01 * i, "name": f"wall {i}"},
        )
        for i in range(count)
    ]
    return StudyIndex(created_at=datetime.now(UTC), idfkit_version="test", jobs=tuple(jobs))


def test_a_corrupt_job_deep_in_a_big_index_is_named() -> None:
    """Jobs are read one at a time (issue 21: the peak RSS of a 100,000-job index);
    what is wrong in any one of them is still named by its place in the index."""
    fs = MemoryFileSystem()
    written = big_index(3000)
    text = written.model_dump_json(indent=1)  # as write_study stores it
    fs.write_text(STUDY_INDEX, text)
    assert _validated_by_job(text.encode()) == written  # the lean path, not the fallback
    loaded = load_study(fs)
    whole = StudyIndex.model_validate_json(text)
    assert loaded == written == whole and loaded.model_fields_set == whole.model_fields_set
    good = json.loads(text)

    def stored(change: Any) -> None:
        index = json.loads(json.dumps(good))
        change(index)
        fs.write_text(STUDY_INDEX, json.dumps(index, indent=1))

    cases: list[tuple[Any, str]] = [
        (lambda ix: ix["jobs"][1234].update(output_dir="../elsewhere"), r"jobs\.1234\.output_dir"),
        (lambda ix: ix["jobs"][2999].update(model="inputs/models/x.idf"), r"jobs\.2999\.model"),
        (
            lambda ix: ix["jobs"][1500]["options"].update(timeout="60"),
            r"jobs\.1500\.options\.timeout",
        ),
        (lambda ix: ix["jobs"][700].update(annual=True), r"jobs\.700\.annual"),
        (lambda ix: ix["jobs"].insert(2000, 5), r"jobs\.2000\n"),
        (lambda ix: ix.update(created_at="yesterday"), r"created_at"),
    ]
    for change, location in cases:
        stored(change)
        with pytest.raises(StudyError, match=rf"(?s)study index of .* is corrupt: .*{location}"):
            load_study(fs)
    stored(lambda ix: ix.update(schema_version=3))
    with pytest.raises(StudyError, match="schema_version 3, and this idfkit reads version 2"):
        load_study(fs)


def test_an_index_laid_out_otherwise_reads_as_it_did() -> None:
    """Job by job or whole, an index reads as pydantic reads the whole document."""
    written = big_index(40)
    as_written = written.model_dump_json(indent=1)
    tricky = big_index(3).model_copy(
        update={"jobs": (big_index(1).jobs[0].model_copy(update={"label": 'a"},{"b'}),)}
    )
    layouts = {
        "compact": (written.model_dump_json(), True),
        "a label holding the cut": (tricky.model_dump_json(indent=1), False),
        "jobs first": (
            json.dumps(
                {
                    "jobs": json.loads(as_written)["jobs"],
                    **{k: v for k, v in json.loads(as_written).items() if k != "jobs"},
                }
            ),
            False,
        ),
        "jobs given twice": (as_written.replace('"jobs": [', '"jobs": [], "jobs": [', 1), False),
        "jobs given twice, the list last": (as_written.replace("{", '{"jobs": null,', 1), True),
        "a job's nested value holding the cut": (
            big_index(4)
            .model_copy(
                update={
                    "jobs": tuple(
                        j.model_copy(update={"parameters": {"layers": [{"a": 1}, {"b": 2}]}})
                        for j in big_index(4).jobs
                    )
                }
            )
            .model_dump_json(indent=1),
            False,
        ),
    }
    for name, (text, lean) in layouts.items():
        fs = MemoryFileSystem()
        fs.write_text(STUDY_INDEX, text)
        assert load_study(fs) == StudyIndex.model_validate_json(text), name
        try:
            by_job = _validated_by_job(text.encode())
        except ValidationError:
            by_job = None
        assert (by_job is not None) is lean, name
        assert by_job is None or by_job == load_study(fs), name


def test_jobs_read_back_share_what_they_repeat() -> None:
    """A study's jobs repeat their inputs and run options: read back, they are held once."""
    fs = MemoryFileSystem()
    written = big_index(6)
    fs.write_text(STUDY_INDEX, written.model_dump_json(indent=1))
    jobs = load_study(fs).jobs
    assert jobs[0].model is jobs[2].model and jobs[1].model is jobs[3].model
    assert jobs[0].model != jobs[1].model and jobs[0].weather is jobs[1].weather
    assert jobs[1].options is jobs[2].options and jobs[0].options is jobs[3].options
    assert jobs[0].options != jobs[1].options and jobs[0].options.timeout == 3600.0
    assert [j.binding() for j in jobs] == [j.binding() for j in written.jobs]
    assert jobs[0].model_fields_set == set(JobSpec.model_fields)
    assert jobs[0].model_fields_set is jobs[5].model_fields_set
    copy = jobs[0].model_copy(update={"label": "other"})
    assert copy.model_fields_set is not jobs[0].model_fields_set
    assert jobs[1].model_fields_set == set(JobSpec.model_fields)
    again = load_study(fs).jobs  # a second read shares nothing with the first
    assert again[0].options is not jobs[0].options and again == jobs
    direct = JobSpec(
        index=0, label="a", output_dir="a", model=jobs[0].model, weather=jobs[0].weather
    )
    assert direct.model_fields_set == set(JobSpec.model_fields) - {"options", "parameters"}


def test_incomplete_runs_are_told_apart(box_model: Path, weather: Path) -> None:
    fs = MemoryFileSystem()
    write_study(box_jobs(box_model, weather, 3), fs)
    run_study_job(fs, 0)
    run_study_job(fs, 1)
    fs.write_bytes("case-2/eplusout.err", b"left by a worker that died before publishing")
    fs.write_text(join("case-1", MANIFEST_NAME), "{not json")
    rows = collect_results(fs).rows
    assert [r.status for r in rows] == ["succeeded", "incomplete", "incomplete"]
    assert collect_results(fs).to_resubmit == [1, 2]


def test_a_rewritten_study_never_reads_old_results_as_its_own(
    box_model: Path, weather: Path
) -> None:
    """After write_study(overwrite=True), changed jobs read as stale."""
    fs = MemoryFileSystem()
    first = box_jobs(box_model, weather, 3)
    write_study(first, fs)
    for i in range(3):
        assert run_study_job(fs, i).success
    old_runs = [SimulationResult.from_directory(f"case-{i}", fs=fs).manifest for i in range(3)]

    # Job 0 gets another model, job 1 another run option, job 2 is unchanged.
    changed_model = load_idf(box_model)
    changed_model["Material"][0].thickness = 0.30
    second = [
        SimulationJob(changed_model, weather, label="case-0", output_dir="case-0"),
        replace(first[1], extra_args=("--convert-only",)),
        first[2],
    ]
    write_study(second, fs, overwrite=True)
    rows = collect_results(fs).rows
    assert [r.status for r in rows] == ["stale", "stale", "succeeded"]
    assert "model changed" in rows[0].error
    assert "run options or parameters changed" in rows[1].error
    assert collect_results(fs).to_resubmit == [0, 1]

    outcomes = [run_study_job(fs, i) for i in range(3)]
    assert [o.action for o in outcomes] == ["ran", "ran", "skipped"]
    new_runs = [o.result.manifest for o in outcomes]
    assert new_runs[0] is not None and old_runs[0] is not None
    assert new_runs[0].run_id != old_runs[0].run_id
    assert new_runs[0].job == load_study(fs).jobs[0].binding()
    assert collect_results(fs).rows[0].status == "succeeded"


def test_results_without_a_job_record_are_stale(box_model: Path, weather: Path) -> None:
    """A run published outside the study (or by an older version) is never taken as the job's."""
    fs = MemoryFileSystem()
    write_study(box_jobs(box_model, weather, 1), fs)
    simulate_batch([SimulationJob(box_model, weather, output_dir="case-0")], fs=fs)
    row = collect_results(fs).rows[0]
    assert row.status == "stale"
    assert "no study job" in row.error
    assert run_study_job(fs, 0).action == "ran"
    assert collect_results(fs).all_succeeded


def test_cli_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli([]) == 2
    with pytest.raises(SystemExit) as info:
        cli(["run", "--help"])
    assert info.value.code == 0
    assert "--output" in capsys.readouterr().out
    assert cli(["collect", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert f"no study at {tmp_path / 'nowhere'} (it holds no idfkit-study.json)" in err
    assert cli(["worker", "--study", str(tmp_path)]) == 2
    assert "AWS_BATCH_JOB_ARRAY_INDEX" in capsys.readouterr().err
    # A missing model is a bad argument (docs/cli.md).
    assert cli(["run", str(tmp_path / "m.idf"), "w.epw", "--output", str(tmp_path / "o")]) == 2
    assert "m.idf" in capsys.readouterr().err


def test_cli_run_to_s3_and_ls(
    moto_server: LocalS3Server, box_model: Path, weather: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fs = moto_server.filesystem(unique_bucket())
    url = f"s3://{fs.bucket}/batch-1/run-001"
    args = ["--endpoint-url", moto_server.endpoint_url]
    assert cli(["run", str(box_model), str(weather), "--output", url, *args]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert cli(["ls", f"s3://{fs.bucket}/batch-1/run-001", "--pattern", "*.sql", *args]) == 0
    assert capsys.readouterr().out.split() == ["eplus.sql"]
    assert SimulationResult.from_directory("batch-1/run-001", fs=fs).success


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dask_local_cluster_runs_a_batch_to_s3(
    moto_server: LocalS3Server, box_model: Path, weather: Path, dask_client: Any
) -> None:
    fs = moto_server.filesystem(unique_bucket(), prefix="dask-study/")
    jobs = box_jobs(box_model, weather, 4)
    worker_pids = set(dask_client.run(os.getpid).values())
    batch = simulate_batch(jobs, executor=dask_client.get_executor(), fs=fs)
    assert batch.all_succeeded, batch.summary()
    assert [row["label"] for row in batch.summary()] == [f"case-{i}" for i in range(4)]
    assert os.getpid() not in worker_pids
    for result in batch:
        ts = result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")  # type: ignore[union-attr]
        assert len(ts) == 8760
    assert fs.exists("case-3/eplus.sql")


def _worker_env(index: int, variable: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_BATCH", "JOB_COMPLETION"))}
    env.update(
        {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, variable: str(index)}
    )
    return env


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "idfkit.simulation", *args],
        capture_output=True,
        text=True,
        env=env or _worker_env(0, "UNUSED"),
        timeout=300,
    )


def test_six_workers_one_killed_mid_upload_then_resubmitted(
    moto_server: LocalS3Server, box_model: Path, weather: Path
) -> None:
    fs: S3FileSystem = moto_server.filesystem(unique_bucket(), prefix="study-001/")
    write_study(box_jobs(box_model, weather, 6), fs)
    study_url = f"s3://{fs.bucket}/study-001"
    victim = 3

    def hold_victim_upload(request: Request) -> str | None:
        uploading = request.method == "PUT" and f"/case-{victim}/" in request.path
        return "hold" if uploading and MANIFEST_NAME not in request.path else None

    with FaultProxy(moto_server.endpoint_url, rule=hold_victim_upload) as proxy:
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "idfkit.simulation",
                    "worker",
                    "--study",
                    study_url,
                    "--endpoint-url",
                    proxy.endpoint_url,
                ],
                env=_worker_env(
                    i, "AWS_BATCH_JOB_ARRAY_INDEX" if i % 2 else "JOB_COMPLETION_INDEX"
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(6)
        ]
        assert proxy.held.wait(120), "the victim never started uploading"
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait(30)
        proxy.release.set()
        outputs: list[Any] = [w.communicate(timeout=300) for w in workers]
    codes = [w.returncode for w in workers]
    assert codes == [0, 0, 0, -signal.SIGKILL, 0, 0], outputs

    first = _cli("collect", study_url, "--json", "--endpoint-url", moto_server.endpoint_url)
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)
    assert report["counts"]["succeeded"] == 5
    assert report["rows"][victim]["status"] in ("incomplete", "missing")
    assert report["to_resubmit"] == [victim]

    for index in report["to_resubmit"]:
        rerun = _cli(
            "worker",
            "--study",
            study_url,
            "--index",
            str(index),
            "--endpoint-url",
            moto_server.endpoint_url,
        )
        assert rerun.returncode == 0, rerun.stderr
    skipped = _cli(
        "worker", "--study", study_url, "--index", "0", "--endpoint-url", moto_server.endpoint_url
    )
    assert skipped.returncode == 0
    assert "skipped" in skipped.stdout

    final = _cli("collect", study_url, "--endpoint-url", moto_server.endpoint_url)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "6 succeeded, 0 failed, 0 stale, 0 incomplete, 0 missing" in final.stdout
    bad_index = _cli(
        "worker", "--study", study_url, "--index", "6", "--endpoint-url", moto_server.endpoint_url
    )
    assert bad_index.returncode == 2
    assert "out of range" in bad_index.stderr
