from __future__ import annotations

import json
from pathlib import Path

import pytest

from idfkit import IDFDocument, IdfParseError, load_idf
from idfkit.exceptions import IdfkitError

SAMPLE = """\
! A header comment
Version, 25.2;

Material,
  Wall Insulation,         !- Name
  MediumRough,             !- Roughness
  0.1,                     !- Thickness {m}
  0.04;                    !- Conductivity {W/m-K}

Schedule:Constant, Heating Setpoint, Temperature, 20;  ! one-line object
output:variable, *, Zone Mean Air Temperature, Hourly;
SimulationControl,
  No,No,
  No, ! a plain comment, not a field name
  No,Yes;
"""


def test_parses_objects_fields_and_comments() -> None:
    doc = load_idf(SAMPLE)
    assert doc.types() == [
        "Version",
        "Material",
        "Schedule:Constant",
        "output:variable",
        "SimulationControl",
    ]
    [material] = doc["MATERIAL"]
    assert material.fields == ["Wall Insulation", "MediumRough", "0.1", "0.04"]
    assert material.field_names == ["Name", "Roughness", "Thickness {m}", "Conductivity {W/m-K}"]
    assert material.name == "Wall Insulation"
    assert doc["SimulationControl"][0].fields == ["No", "No", "No", "No", "Yes"]
    assert "Output:Variable" in doc
    assert "Output:SQLite" not in doc
    assert doc.version == (25, 2)


def test_round_trip_reads_back_the_same_objects(box_model: Path) -> None:
    for text in (SAMPLE, box_model.read_text()):
        doc = load_idf(text)
        again = load_idf(doc.to_idf())
        assert again == doc
        assert [o.fields for o in again] == [o.fields for o in doc]


def test_add_remove_and_copy_do_not_touch_the_original() -> None:
    doc = load_idf(SAMPLE)
    twin = doc.copy()
    added = twin.add("Output:SQLite", "SimpleAndTabular")
    assert "Output:SQLite" in twin and "Output:SQLite" not in doc
    twin.remove(added)
    assert twin == doc
    twin["Material"][0].fields[2] = "0.2"
    assert doc["Material"][0].fields[2] == "0.1"
    with pytest.raises(ValueError, match="not in this document"):
        twin.remove(added)


def test_add_rejects_fields_that_would_break_the_file() -> None:
    doc = IDFDocument()
    with pytest.raises(ValueError, match="field 2"):
        doc.add("Zone", "ok", "bad;name")
    with pytest.raises(ValueError, match="invalid object type"):
        doc.add("Bad Type!")
    with pytest.raises(TypeError):
        doc.add("Zone", name="x")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Version, 25.2;\nZone, A,\n  0, 0", 2),
        ("Version, 25.2;\n\n, no type;\n", 3),
        ("Version, 25.2;\nBad Type With Spaces, 1;\n", 2),
        ("Version 25.2\n", 1),
    ],
)
def test_parse_errors_carry_the_line(text: str, line: int) -> None:
    with pytest.raises(IdfParseError) as info:
        load_idf(text)
    assert info.value.line == line
    assert f"line {line}" in str(info.value)


def test_load_idf_from_path_and_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "m.idf"
    path.write_text(SAMPLE)
    assert load_idf(path).source == path
    assert load_idf(str(path)) == load_idf(SAMPLE)
    with pytest.raises(FileNotFoundError, match=r"nothere.idf"):
        load_idf(tmp_path / "nothere.idf")


def test_epjson_parse_write_and_edit(tmp_path: Path) -> None:
    data = {
        "Version": {"Version 1": {"version_identifier": "25.2"}},
        "Zone": {"ZONE 1": {"x_origin": 0, "multiplier": 1}},
    }
    path = tmp_path / "m.epJSON"
    path.write_text(json.dumps(data))
    doc = load_idf(path)
    assert doc.format == "epjson" and doc.suffix == ".epJSON"
    assert doc.version == (25, 2)
    assert doc["zone"][0].name == "ZONE 1"
    doc.add("Output:SQLite", option_type="SimpleAndTabular")
    written = json.loads(doc.to_epjson())
    assert written["Output:SQLite"] == {"Output:SQLite 1": {"option_type": "SimpleAndTabular"}}
    assert written["Zone"] == data["Zone"]
    with pytest.raises(IdfkitError, match="schema"):
        doc.to_idf()


def test_epjson_errors_are_parse_errors() -> None:
    with pytest.raises(IdfParseError, match="line 2"):
        IDFDocument.from_epjson_text('{\n "Zone": }')
    with pytest.raises(IdfParseError):
        IDFDocument.from_epjson_text('["not", "an", "object"]')
    with pytest.raises(IdfParseError, match="Zone"):
        IDFDocument.from_epjson_text('{"Zone": {"A": 3}}')


def test_parse_error_pickles() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(IdfParseError("bad", 7)))
    assert isinstance(err, IdfParseError) and err.line == 7 and str(err) == "line 7: bad"
