"""docs/caching-and-async.md: its ``python`` blocks, executed top to bottom."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import idfkit.simulation.runner
from idfkit import load_idf
from tests.docs.test_docs import python_blocks


@pytest.mark.energyplus
def test_caching_and_async_page_runs(
    box_model: Path,
    weather: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs: list[Any] = []
    real = idfkit.simulation.runner.run_process

    def counting(*args: Any, **kwargs: Any) -> Any:
        runs.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(idfkit.simulation.runner, "run_process", counting)
    namespace: dict[str, Any] = {
        "model": load_idf(box_model),
        "weather": weather,
        "cache_dir": tmp_path / "cache",
        "batch_dir": tmp_path / "batch",
        **{f"run_{c}": tmp_path / f"run-{c}" for c in "abcd"},
    }
    blocks = python_blocks("caching-and-async.md")
    assert len(blocks) == 4
    for block in blocks:
        exec(compile(block, "docs/caching-and-async.md", "exec"), namespace)
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["True True", "True"]
    assert out[2] == "True"  # async_simulate (no cache: EnergyPlus runs)
    assert [line[:6] for line in out[3:]] == ["[1/2] ", "[2/2] "]
    assert {line[6:] for line in out[3:]} == {"case-0: True", "case-1: True"}
    # EnergyPlus ran for the first simulate and for async_simulate; the rest were hits.
    assert len(runs) == 2
