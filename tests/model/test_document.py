from __future__ import annotations

import json
from pathlib import Path

import pytest

from idfkit import IDFDocument, IdfKitError, IdfParseError, load_idf

#: This project's own model layer (the transplant runs idfkit's instead).
pytestmark = pytest.mark.standalone_model

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
        "Output:Variable",  # the schema's spelling
        "SimulationControl",
    ]
    [material] = doc["MATERIAL"]
    assert material.fields == ["Wall Insulation", "MediumRough", "0.1", "0.04"]
    assert material._comments == ["Name", "Roughness", "Thickness {m}", "Conductivity {W/m-K}"]
    assert material.name == "Wall Insulation"
    assert doc["SimulationControl"][0].fields == ["No", "No", "No", "No", "Yes"]
    assert "Output:Variable" in doc
    assert "Output:SQLite" not in doc
    assert doc.version == (25, 2, 0)
    assert "! A header comment" in doc.to_idf()


def test_round_trip_reads_back_the_same_objects(box_model: Path) -> None:
    for text in (SAMPLE, box_model.read_text()):
        doc = load_idf(text)
        again = load_idf(doc.to_idf())
        assert again.to_idf() == doc.to_idf()
        assert [(o.obj_type, o.fields) for o in again.objects] == [
            (o.obj_type, o.fields) for o in doc.objects
        ]


def test_add_remove_and_copy_do_not_touch_the_original() -> None:
    doc = load_idf(SAMPLE)
    twin = doc.copy()
    added = twin.add("Output:SQLite", "SimpleAndTabular")
    assert "Output:SQLite" in twin and "Output:SQLite" not in doc
    twin.remove(added)
    assert twin != doc and twin.to_idf() == doc.to_idf()  # equal text, two documents
    twin["Material"][0].fields[2] = "0.2"
    assert doc["Material"][0].fields[2] == "0.1"
    with pytest.raises(ValueError, match="not in this document"):
        twin.remove(added)


def test_add_rejects_fields_that_would_break_the_file() -> None:
    doc = IDFDocument()
    with pytest.raises(ValueError, match="name"):
        doc.add("Zone", "bad;name")
    with pytest.raises(ValueError, match="x_origin"):
        doc.add("Zone", "ok", x_origin="1,2")
    with pytest.raises(ValueError, match="invalid object type"):
        doc.add("Bad Type!")
    zone = doc.add("Zone", "fine")
    with pytest.raises(ValueError, match="carry"):
        zone.x_origin = "0;"


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
    assert load_idf(str(path)).to_idf() == load_idf(SAMPLE).to_idf()
    with pytest.raises(FileNotFoundError, match=r"nothere.idf"):
        load_idf(tmp_path / "nothere.idf")


def test_epjson_parse_write_and_edit_without_a_schema(tmp_path: Path) -> None:
    data = {
        "Version": {"Version 1": {"version_identifier": "25.2"}},
        "Zone": {"ZONE 1": {"x_origin": 0, "multiplier": 1}},
    }
    path = tmp_path / "m.epJSON"
    path.write_text(json.dumps(data))
    doc = load_idf(path, schema=None)
    doc = IDFDocument.from_epjson_text(path.read_text(), source=path)  # no schema
    assert doc.format == "epjson" and doc.suffix == ".epJSON"
    assert doc.version == (25, 2, 0)
    assert doc["zone"][0].name == "ZONE 1"
    doc.add("Output:SQLite", option_type="SimpleAndTabular")
    written = json.loads(doc.to_epjson())
    assert written["Output:SQLite"] == {"Output:SQLite 1": {"option_type": "SimpleAndTabular"}}
    assert written["Zone"] == data["Zone"]
    with pytest.raises(IdfKitError, match="schema"):
        doc.to_idf()


def test_epjson_errors_are_parse_errors() -> None:
    with pytest.raises(IdfParseError, match="line 2"):
        IDFDocument.from_epjson_text('{\n "Zone": }')
    with pytest.raises(IdfParseError):
        IDFDocument.from_epjson_text('["not", "an", "object"]')
    with pytest.raises(IdfParseError, match="Zone"):
        IDFDocument.from_epjson_text('{"Zone": {"A": 3}}')
    with pytest.raises(IdfParseError, match="did you mean 'x_origin'"):
        load_idf_epjson_text('{"Zone": {"A": {"x_orign": 3}}}')


def load_idf_epjson_text(text: str) -> IDFDocument:
    from idfkit import get_schema

    return IDFDocument.from_epjson_text(text, schema=get_schema())


def test_parse_error_pickles() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(IdfParseError("bad", 7)))
    assert isinstance(err, IdfParseError) and err.line == 7 and str(err) == "line 7: bad"
