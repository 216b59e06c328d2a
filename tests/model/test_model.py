"""The schema-backed model: names, errors, validation, references, conversion, no schema."""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

import idfkit.schema
from idfkit import (
    DuplicateObjectError,
    IDFDocument,
    IDFParseError,
    InvalidFieldError,
    RangeError,
    SchemaNotFoundError,
    UnknownObjectTypeError,
    ValidationFailedError,
    get_schema,
    load_epjson,
    load_idf,
    new_document,
    validate_document,
    write_epjson,
    write_idf,
)
from idfkit.simulation import EnergyPlusConfig

#: This project's own model layer (the transplant runs idfkit's instead).
pytestmark = pytest.mark.standalone_model

TINY_SCHEMA = {
    "properties": {
        "Zone": {
            "name": {"type": "string", "reference": ["ZoneNames"]},
            "patternProperties": {
                ".*": {"properties": {"x_origin": {"type": "number", "units": "m"}}}
            },
            "legacy_idd": {
                "field_info": {
                    "name": {"field_name": "Name", "field_type": "a"},
                    "x_origin": {"field_name": "X Origin", "field_type": "n"},
                },
                "fields": ["name", "x_origin"],
            },
        }
    }
}


def test_unknown_type_and_field_name_the_closest_matches(box_model: Path) -> None:
    doc = load_idf(box_model)
    with pytest.raises(UnknownObjectTypeError, match="did you mean 'Zone'"):
        _ = doc["Zonee"]
    with pytest.raises(KeyError):  # idfkit's UnknownObjectTypeError is a KeyError
        doc.add("Matrial", "x")
    zone = doc["Zone"]["ZONE 1"]
    with pytest.raises(InvalidFieldError, match="did you mean 'x_origin'") as info:
        _ = zone.x_orign
    assert isinstance(info.value, AttributeError)
    with pytest.raises(InvalidFieldError, match="x_origin"):
        zone.x_orign = 3
    with pytest.raises(KeyError, match="did you mean 'ZONE 1'"):
        doc["Zone"]["ZONE 2"]
    assert not hasattr(zone, "no_such_field")
    assert "Zonee" not in doc


def test_fields_by_attribute_name_and_position_are_one_value(box_model: Path) -> None:
    doc = load_idf(box_model)
    material = doc["Material"]["Wall Insulation"]
    assert material.thickness == material["Thickness"] == material["thickness"] == 0.1
    assert material[2] == 0.1 and material.fields[2] in ("0.1", 0.1)
    material["Thickness"] = 0.25
    assert material.thickness == 0.25 and material.fields[2] == 0.25
    assert material.roughness == "MediumRough"
    assert material.thermal_absorptance is None  # not given in the file
    zone = doc["Zone"].first()
    assert zone.ceiling_height == "autocalculate"
    assert zone.multiplier == 1 and isinstance(zone.multiplier, int)
    surface = doc["BuildingSurface:Detailed"]["South Wall"]
    assert surface.vertices[1] == {
        "vertex_x_coordinate": 0.0,
        "vertex_y_coordinate": 0.0,
        "vertex_z_coordinate": 0.0,
    }
    assert surface.vertex_x_coordinate_3 == 10.0
    assert material.fieldnames[:3] == ["Name", "roughness", "thickness"]
    assert material.data["conductivity"] == 0.04


def test_validate_refuses_wrong_types_and_ranges(box_model: Path) -> None:
    doc = load_idf(box_model)
    fields = {"roughness": "Smooth", "conductivity": 1, "density": 1, "specific_heat": 900}
    with pytest.raises(RangeError, match="greater than 0") as info:
        doc.add("Material", "Thin", thickness=-1, **fields)
    assert isinstance(info.value, ValidationFailedError)
    with pytest.raises(RangeError, match="Expected number"):
        doc.add("Material", "Words", thickness="thick", **fields)
    with pytest.raises(RangeError, match="not one of"):
        doc.add("Material", "Bumpy", thickness=0.1, **{**fields, "roughness": "Bumpy"})
    with pytest.raises(InvalidFieldError):
        doc.add("Material", "Typo", thicknes=0.1, **fields)
    assert "Thin" not in doc["Material"]
    doc.add("Material", "Odd", thickness=-1, validate=False, **fields)
    assert [e.field_name for e in validate_document(doc)] == ["thickness"]
    with pytest.raises(DuplicateObjectError):
        doc.add("Zone", "zone 1")
    with pytest.raises(DuplicateObjectError):
        doc.add("Output:SQLite", option_type="Simple")  # a unique object type


def test_strict_parsing_false_keeps_going_and_reports(tmp_path: Path) -> None:
    path = tmp_path / "bad.idf"
    path.write_text("Version,25.2;\nZone, A, 0,0,0;\nBogusType, x;\nZone, B, 1, 2\n")
    with pytest.raises(IDFParseError) as info:
        load_idf(path)
    codes = {d.code for d in info.value.diagnostics}
    assert codes == {"UnknownObjectType", "UnterminatedObject"}
    doc = load_idf(path, strict_parsing=False)
    assert doc.keys() == ["Version", "Zone"] and len(doc) == 2
    assert {d.line for d in doc.diagnostics} == {None, 4}
    assert any("BogusType" in d.message for d in doc.diagnostics)


def test_references_rename_and_copies(box_model: Path) -> None:
    doc = load_idf(box_model)
    wall = doc["BuildingSurface:Detailed"]["South Wall"]
    assert doc.get_references(wall) == {"WALL", "ZONE 1"}
    doc.rename("Zone", "ZONE 1", "Core")
    assert wall.zone_name == "Core"
    assert doc["ZoneControl:Thermostat"].first().zone_or_zonelist_name == "Core"
    assert wall.get_referenced_object("zone_name") is doc["Zone"]["core"]
    doc["Material"]["Wall Insulation"].name = "Mineral Wool"
    assert doc["Construction"]["Wall"].outside_layer == "Mineral Wool"
    twin = doc.copyidfobject(doc["Zone"]["Core"], "Annex")
    assert twin.x_origin == 0.0 and doc.getobject("zone", "ANNEX") is twin
    assert doc.copyidfobject(twin).name == "Annex 1"
    made = doc.newidfobject("Zone", Name="Eppy Style", x_origin=5)
    assert doc.idfobjects["ZONE"]["Eppy Style"].x_origin == 5
    doc.removeidfobject(made)
    assert "Eppy Style" not in doc["Zone"]


def test_unedited_round_trip_keeps_objects_and_comments(box_model: Path) -> None:
    doc = load_idf(box_model)
    again = load_idf(write_idf(doc))  # objects grouped by type, as idfkit writes them
    assert len(again) == len(doc)
    for obj_type, objects in doc.items():
        assert [o.fields for o in again[obj_type]] == [o.fields for o in objects]
    in_order = load_idf(doc.to_idf())  # in the order read
    assert [o.fields for o in in_order.objects] == [o.fields for o in doc.objects]
    text = doc.to_idf()
    assert text.startswith("! One-zone box")
    assert "!- Thickness {m}" in text  # the file's own field comment
    assert "!- Outside Layer" in text  # the schema's name where the file had none


def test_idf_to_epjson_and_back(box_model: Path, tmp_path: Path) -> None:
    doc = load_idf(box_model)
    data = json.loads(write_epjson(doc))
    assert data["Version"] == {"Version 1": {"version_identifier": "25.2"}}
    assert data["Material"]["Wall Insulation"]["thickness"] == 0.1
    surface = data["BuildingSurface:Detailed"]["South Wall"]
    assert surface["vertices"][0] == {
        "vertex_x_coordinate": 0.0,
        "vertex_y_coordinate": 0.0,
        "vertex_z_coordinate": 3.0,
    }
    assert data["Output:SQLite"]["Output:SQLite 1"] == {"option_type": "SimpleAndTabular"}
    path = tmp_path / "box.epJSON"
    path.write_text(json.dumps(data))
    back = load_epjson(path)
    assert back.format == "epjson" and len(back) == len(doc)
    idf_again = load_idf(write_idf(back))
    assert idf_again["Material"]["Wall Insulation"].thickness == 0.1
    wall, original = (d["BuildingSurface:Detailed"]["South Wall"] for d in (idf_again, doc))
    assert wall.vertices == original.vertices
    assert wall.view_factor_to_ground == "Autocalculate"  # epJSON's spelling of the choice
    assert {t: [o.name for o in c] for t, c in idf_again.items()} == {
        t: [o.name for o in c] for t, c in doc.items()
    }


def test_epjson_read_with_preserve_formatting_is_written_back_verbatim_until_edited(
    box_model: Path, tmp_path: Path
) -> None:
    # As idfkit does: the file's own text (its spacing, key order, no final newline)
    # comes back while the model is unchanged; any edit, addition or removal writes anew.
    data = json.loads(write_epjson(load_idf(box_model)))
    path = tmp_path / "box.epJSON"
    original = json.dumps(dict(reversed(data.items())), indent=5)
    path.write_text(original, encoding="utf-8")
    kept = load_epjson(path, preserve_formatting=True)
    assert write_epjson(kept) == original
    assert write_epjson(kept, preserve_formatting=True) == original
    assert write_epjson(kept, preserve_formatting=False) != original
    kept.savecopy(tmp_path / "copy.epJSON")
    assert (tmp_path / "copy.epJSON").read_text(encoding="utf-8") == original
    assert write_epjson(load_epjson(path)) != original  # not asked to keep it
    assert write_epjson(load_idf(path, preserve_formatting=True)) == original

    def move_a_vertex(doc: IDFDocument) -> None:
        wall = doc["BuildingSurface:Detailed"]["South Wall"]
        vertices = wall.vertices
        vertices[0]["vertex_x_coordinate"] = 9.0
        wall.vertices = vertices

    edits: dict[str, Callable[[IDFDocument], object]] = {
        "field": lambda doc: setattr(doc["Material"]["Wall Insulation"], "thickness", 0.3),
        "vertex": move_a_vertex,
        "added": lambda doc: doc.add("Zone", "Attic"),
        "removed": lambda doc: doc.removeidfobject(doc["Material"]["Wall Insulation"]),
    }
    for what, edit in edits.items():
        doc = load_epjson(path, preserve_formatting=True)
        edit(doc)
        written = write_epjson(doc)
        assert written != original, what
        assert json.loads(written) == json.loads(write_epjson(doc, preserve_formatting=False)), what


def test_without_a_schema_positions_work_and_names_explain(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    doc = IDFDocument.from_idf_text("Version, 25.2;\nZone, A, 0, 1, 2;\n", schema=missing)
    zone = doc["Zone"][0]
    assert zone.fields == ["A", "0", "1", "2"] and zone.name == "A"
    zone.fields[1] = "5"
    assert "5" in doc.text()
    with pytest.raises(SchemaNotFoundError, match="IDFKIT_SCHEMA") as info:
        _ = zone.x_origin
    message = str(info.value)
    assert "ENERGYPLUS_DIR" in message and "find_energyplus" in message
    with pytest.raises(SchemaNotFoundError):
        load_idf("Version, 25.2;\n", schema=missing)


def test_schema_from_the_environment_is_cached_by_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema_file = tmp_path / "Energy+.schema.epJSON"
    schema_file.write_text(json.dumps(TINY_SCHEMA))
    monkeypatch.setenv("IDFKIT_SCHEMA", str(schema_file))
    monkeypatch.setenv("IDFKIT_CACHE_DIR", str(tmp_path / "cache"))
    schema = get_schema()
    assert schema.path == schema_file.resolve() and schema.object_types == ["Zone"]
    digest = hashlib.sha256(schema_file.read_bytes()).hexdigest()
    [cached] = (tmp_path / "cache" / "schema").glob(f"{digest}.*.pickle")
    _, raw = pickle.loads(cached.read_bytes())
    assert list(raw) == ["zone"]
    idfkit.schema._loaded.clear()
    assert get_schema().object_types == ["Zone"]  # from the cache file this time
    doc = IDFDocument.from_idf_text("Zone, A, 3;\n")
    assert doc["Zone"]["A"].x_origin == 3.0
    idfkit.schema._loaded.clear()


def test_new_document_has_the_starting_objects() -> None:
    doc = new_document()
    assert doc.keys() == ["Version", "Building", "GlobalGeometryRules", "SimulationControl"]
    assert doc.version == get_schema().version == (25, 2, 0)


def test_the_schema_ships_next_to_the_engine(energyplus: EnergyPlusConfig) -> None:
    assert energyplus.schema_path is not None
    assert energyplus.schema_path.parent == energyplus.executable.parent
    assert get_schema(energyplus.install_dir).path == energyplus.schema_path.resolve()
    assert get_schema().version == (25, 2, 0)


def test_documents_and_objects_pickle_without_the_schema(box_model: Path) -> None:
    doc = load_idf(box_model)
    doc["Material"]["Wall Insulation"].thickness = 0.2
    payload = pickle.dumps(doc)
    assert len(payload) < 50_000  # the schema is found again, not carried along
    clone = pickle.loads(payload)
    assert clone["Material"]["Wall Insulation"].thickness == 0.2
    assert clone.to_idf() == doc.to_idf()
    clone["Zone"]["ZONE 1"].x_origin = 7
    assert doc["Zone"]["ZONE 1"].x_origin == 0.0
    zone = pickle.loads(pickle.dumps(doc["Zone"]["ZONE 1"]))
    assert zone.name == "ZONE 1" and zone.x_origin == 0.0 and zone.theidf is None
