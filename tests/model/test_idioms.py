"""The 24 model idioms of idfkit 1.1.1 (spec "Model idioms"), run as a user writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idfkit import (
    IDFDocument,
    load_epjson,
    load_idf,
    new_document,
    save_epjson,
    save_idf,
    write_idf,
)
from idfkit.exceptions import IDFParseError
from idfkit.simulation import simulate


@pytest.fixture
def path(tmp_path: Path, box_model: Path) -> Path:
    """The shipped box, with its insulation named as the spec's idioms name it."""
    doc = load_idf(box_model)
    doc.rename("Material", "Wall Insulation", "Insulation")
    for name, month, dry_bulb, day_range, wet_bulb in [
        ("Chicago Heating 99.6%", 1, -20.0, 0.0, -20.0),
        ("Chicago Cooling 0.4%", 7, 33.3, 10.7, 23.7),
    ]:
        doc.add(
            "SizingPeriod:DesignDay",
            name,
            month=month,
            day_of_month=21,
            day_type="WinterDesignDay" if month == 1 else "SummerDesignDay",
            maximum_dry_bulb_temperature=dry_bulb,
            daily_dry_bulb_temperature_range=day_range,
            humidity_condition_type="WetBulb",
            wetbulb_or_dewpoint_at_maximum_dry_bulb=wet_bulb,
            barometric_pressure=98934,
            wind_speed=4.9,
            wind_direction=270,
            solar_model_indicator="ASHRAEClearSky",
            sky_clearness=0.0 if month == 1 else 1.0,
        )
    target = tmp_path / "box.idf"
    save_idf(doc, target)
    return target


def test_reading_idioms(path: Path) -> None:
    doc = load_idf(path)  # 1
    lenient = load_idf(path, strict_parsing=False)  # 2
    assert len(doc) == len(lenient) == 40  # 3
    assert doc.version == (25, 2, 0)  # 4
    assert "Output:Variable" in doc  # 5
    assert [z.name for z in doc["Zone"]] == ["ZONE 1"]  # 6
    assert doc["Zone"]["ZONE 1"] is doc["Zone"]["zone 1"]  # 7, case-insensitive
    assert doc["Zone"].first() is doc["Zone"]["ZONE 1"]  # 8
    assert doc["Zone"]["ZONE 1"].x_origin == 0.0  # 9
    assert isinstance(doc["Zone"]["ZONE 1"].x_origin, float)


@pytest.mark.standalone_model
def test_editing_idioms(path: Path) -> None:
    doc = load_idf(path)
    doc["Material"]["Insulation"].thickness = 0.15  # 10
    c = doc.copy()  # 11
    c["Material"]["Insulation"].thickness = 0.3
    c.add("Zone", "Only In The Copy")
    assert doc["Material"]["Insulation"].thickness == 0.15
    assert "Only In The Copy" not in doc["Zone"]
    meter = doc.add("Output:Meter", key_name="Electricity:Facility", reporting_frequency="Hourly")
    variable = doc.add(
        "Output:Variable",
        key_value="*",
        variable_name="Site Outdoor Air Drybulb Temperature",
        reporting_frequency="Hourly",
    )  # 12, 13
    assert (meter.key_name, variable.variable_name) == (
        "Electricity:Facility",
        "Site Outdoor Air Drybulb Temperature",
    )
    office = doc.add("Zone", "Office", x_origin=0, y_origin=0, z_origin=0)  # 14
    assert doc["Zone"]["office"] is office and office.y_origin == 0
    doc.removeidfobject(office)  # 15
    assert "Office" not in doc["Zone"] and len(doc["Zone"]) == 1
    referencing = doc.get_referencing("ZONE 1")  # 16
    assert {o.obj_type for o in referencing} == {
        "BuildingSurface:Detailed",
        "ZoneControl:Thermostat",
        "ZoneHVAC:EquipmentConnections",
    }
    assert len(referencing) == 8
    text = write_idf(doc)  # 18
    assert isinstance(text, str)
    again = IDFDocument.from_idf_text(text)
    assert again["Material"]["Insulation"].thickness == 0.15


def test_new_document_and_files(tmp_path: Path, path: Path) -> None:
    fresh = new_document(version=(25, 2, 0))  # 17
    assert fresh.version == (25, 2, 0) and "Version" in fresh
    assert "Version," in write_idf(fresh)
    doc = load_idf(path)
    doc["Material"]["Insulation"].thickness = 0.12
    save_idf(doc, tmp_path / "out.idf")  # 19
    save_epjson(doc, tmp_path / "out.epJSON")  # 20
    from_json = load_epjson(tmp_path / "out.epJSON")  # 21
    doc.saveas(tmp_path / "saved.idf")  # 22
    assert doc.filepath == tmp_path / "saved.idf"
    assert load_idf(tmp_path / "out.idf")["Material"]["Insulation"].thickness == 0.12
    assert from_json["Material"]["Insulation"].thickness == 0.12
    assert len(from_json) == len(doc)
    data = json.loads((tmp_path / "out.epJSON").read_text())
    assert data["Zone"]["ZONE 1"]["ceiling_height"] == "Autocalculate"  # schema's spelling
    assert load_idf(tmp_path / "saved.idf")["Material"]["Insulation"].thickness == 0.12


def test_an_edit_survives_simulate(path: Path, weather: Path) -> None:
    doc = load_idf(path)
    doc["Material"]["Insulation"].thickness = 0.15
    result = simulate(doc, weather, design_day=True)  # 23
    assert result.success
    written = load_idf(next(result.run_dir.glob("*.idf")))
    assert written["Material"]["Insulation"].thickness == 0.15


def test_documents_key_dicts_and_caches_as_in_idfkit(path: Path) -> None:
    """idfkit documents compare and hash by identity: usable as dict keys and in lru_cache."""
    from functools import lru_cache

    doc = load_idf(path)
    twin = doc.copy()
    assert doc == doc and doc != twin  # a copy is another document, however alike
    variants = {doc: "base", twin: "copy"}
    assert variants[doc] == "base" and len({doc, twin, doc}) == 2

    @lru_cache
    def zones(model: IDFDocument) -> int:
        return len(model["Zone"])

    assert zones(doc) == zones(doc) == 1 and zones.cache_info().hits == 1


@pytest.mark.standalone_model
def test_a_stray_semicolon_is_an_empty_statement(tmp_path: Path) -> None:
    """idfkit loads `Zone, B;;` and a lone `;`; a field list without a type is still refused."""
    model = tmp_path / "m.idf"
    model.write_text("Version,25.2;\nZone, B;;\n;\nZone, C;;;\n")
    doc = load_idf(model)
    assert [z.name for z in doc["Zone"]] == ["B", "C"] and not doc.diagnostics
    model.write_text("Version,25.2;\n, B;\n")
    with pytest.raises(IDFParseError, match="no type before"):
        load_idf(model)


@pytest.mark.standalone_model
def test_update_by_dotted_keys_and_used_schedules(path: Path) -> None:
    """idfkit's eppy-style `update` and `get_used_schedules`, with its errors."""
    from idfkit.exceptions import InvalidFieldError

    doc = load_idf(path)
    doc.update({"Material.Insulation.thickness": 0.2, "zone.zone 1.x_origin": 3})
    assert doc["Material"]["Insulation"].thickness == 0.2
    assert doc["Zone"]["ZONE 1"].x_origin == 3
    with pytest.raises(KeyError, match="No Material named 'Nope'"):
        doc.update({"Material.Nope.thickness": 1})
    with pytest.raises(InvalidFieldError, match="nofield"):
        doc.update({"Material.Insulation.nofield": 1})
    with pytest.raises(KeyError, match=r"Expected 'ObjectType\.ObjectName\.field_name'"):
        doc.update({"bad": 1})
    used = doc.get_used_schedules()
    assert used == {"HEATING SETPOINT", "COOLING SETPOINT", "DUAL SETPOINT CONTROL"}
    doc.add("Schedule:Constant", "Unused", schedule_type_limits_name="Fraction", hourly_value=1)
    assert doc.get_used_schedules() == used
    # only schedule fields count: a limits object or a zone of the same name marks nothing
    doc.add("Schedule:Constant", "Fraction", hourly_value=1)
    doc.add("Schedule:Constant", "Zone 1", hourly_value=1)
    assert doc.get_used_schedules() == used
