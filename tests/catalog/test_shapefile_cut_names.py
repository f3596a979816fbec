"""A UTF-8 shapefile whose Chinese field names were cut at the dBASE 10-byte limit inside a character.

GDAL, ArcGIS and QGIS cut a field name by bytes: ``建筑物编号`` is 15 bytes in UTF-8 and is stored as ``建筑物`` plus
the first byte of ``编``. pyogrio then raised ``UnicodeDecodeError`` (with or without ``.cpg``) and ``cim catalog
init`` skipped the file. It is read now with the whole characters that fit (``建筑物``), names equal after cutting told
apart with ``_2``, values decoded as UTF-8, and a :class:`CatalogWarning` (SYS-007) naming the cut names.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
import shapely
from catalog_helpers import entry

from cimlib.catalog import Catalog, CatalogWarning
from cimlib.catalog.readers.shapefile import cut_field_names, dbf_field_names, detect_dbf_encoding

IDS = ["B001", "B002", "B003"]
NAMES = ["曾都区人民医院", None, "涢水大道"]
HEIGHTS = [12.5, 30.0, 6.0]
#: The delivered names, cut by GDAL: 建筑物编号 -> 建筑物 (9 bytes + 1), 建筑物名称 -> 建筑物 too (-> 建筑物_2),
#: 建筑高度 -> 建筑高; 层数 (6 bytes) and code fit.
DELIVERED = {"建筑物编号": IDS, "建筑物名称": NAMES, "建筑高度": HEIGHTS, "层数": [4, 10, 2], "code": ["001", "002", "010"]}
READ_AS = ["建筑物", "建筑物_2", "建筑高", "层数", "code"]
MAPPING = {"建筑物": "building_id", "建筑物_2": "name", "建筑高": "height", "层数": "floors"}


def _write(folder, values: dict | None = None, *, cpg: bool = True):
    """Building footprints written by GDAL in UTF-8 (long names cut by GDAL itself, its warnings silenced)."""
    import pyogrio

    folder.mkdir(parents=True, exist_ok=True)
    values = values or DELIVERED
    n = len(next(iter(values.values())))
    boxes = [shapely.box(113.37 + i * 0.001, 31.69, 113.3705 + i * 0.001, 31.6905) for i in range(n)]
    frame = gpd.GeoDataFrame(values, geometry=boxes, crs="EPSG:4490")
    shp = folder / "建筑物.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's "Normalized/laundered field name"
        pyogrio.write_dataframe(frame, shp, encoding="UTF-8")
    if not cpg:
        shp.with_suffix(".cpg").unlink()
    return shp


def _read(catalog_path, name="buildings", **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = Catalog.load(catalog_path).read(name, **kwargs)
    return frame, [str(w.message) for w in caught if issubclass(w.category, CatalogWarning)]


def test_the_file_has_names_cut_inside_a_character(tmp_path):
    import pyogrio

    shp = _write(tmp_path / "shp")
    raw = dbf_field_names(shp.with_suffix(".dbf"))
    assert raw[0] == "建筑物编号".encode()[:10] == "建筑物".encode() + b"\xe7"
    assert raw[1] == "建筑物名称".encode()[:10] and raw[2] == "建筑高度".encode()[:10]
    assert shp.with_suffix(".cpg").read_text().strip() == "UTF-8"
    with pytest.raises(UnicodeDecodeError):  # what pyogrio does with such a file
        pyogrio.read_dataframe(shp, encoding="UTF-8")
    fields = cut_field_names(shp, "UTF-8")
    assert fields.names == READ_AS and fields.cut == ["建筑物", "建筑物_2", "建筑高"]
    assert cut_field_names(shp, "GB18030") is None  # only UTF-8 names are taken for cut ones


@pytest.mark.parametrize("cpg", [True, False], ids=["cpg", "no-cpg"])
def test_read_with_a_mapping_on_the_cut_names(tmp_path, write_catalog, cpg):
    shp = _write(tmp_path / "shp", cpg=cpg)
    assert detect_dbf_encoding(shp) == "UTF-8"
    path = write_catalog([entry("buildings", "shapefile", "shp/建筑物.shp", schema="buildings",
                                id_column="building_id", columns=MAPPING)])
    frame, warned = _read(path)
    assert list(frame.columns) == ["building_id", "name", "height", "floors", "code", "geometry"]
    assert frame["building_id"].tolist() == IDS and frame["height"].tolist() == HEIGHTS
    assert frame["name"].iloc[0] == NAMES[0] and frame["name"].iloc[2] == NAMES[2] and frame["name"].isna().iloc[1]
    assert frame["code"].tolist() == ["001", "002", "010"] and frame["floors"].tolist() == [4, 10, 2]
    (warning,) = [w for w in warned if "10 字节" in w]
    assert "建筑物.shp" in warning and "建筑物、建筑物_2、建筑高" in warning and "columns" in warning
    subset, _ = _read(path, columns=["building_id", "height"])
    assert list(subset.columns) == ["building_id", "height", "geometry"] and subset["building_id"].tolist() == IDS
    info = Catalog.load(path).describe("buildings")
    assert info["columns"] == READ_AS and info["rows"] == 3


def test_the_warning_is_a_sys007_finding(tmp_path, write_catalog):
    from standards_checks import run_checks

    _write(tmp_path / "shp")
    path = write_catalog([entry("buildings", "shapefile", "shp/建筑物.shp", schema="buildings",
                                id_column="building_id", columns=MAPPING)])
    findings = run_checks(Catalog.load(path), datasets=["buildings"]).findings
    sys = findings[(findings["dataset"] == "buildings") & (findings["rule_id"] == "SYS-007")]["message"].tolist()
    assert any("10 字节" in m and "建筑物_2" in m for m in sys), sys
    assert not (findings["rule_id"] == "SYS-001").any()


def test_gdal_made_unique_names_and_whole_names_keep_theirs(tmp_path):
    # GDAL writes 建筑物编码 after 建筑物编号 as 建筑 + two bytes of 物 + "_1"; the whole name 建筑物 keeps its name
    values = {"建筑物编号": IDS, "建筑物编码": ["1", "2", "3"], "建筑物": ["甲", "乙", "丙"]}
    shp = _write(tmp_path / "shp", values)
    raw = dbf_field_names(shp.with_suffix(".dbf"))
    assert raw[1] == "建筑".encode() + "物".encode()[:2] + b"_1" and raw[2] == "建筑物".encode()
    fields = cut_field_names(shp, "UTF-8")
    assert fields.names == ["建筑物_2", "建筑_1", "建筑物"] and fields.cut == ["建筑物_2", "建筑_1"]


@pytest.mark.parametrize("cpg", [True, False], ids=["cpg", "no-cpg"])
def test_catalog_init_discovers_the_file(tmp_path, cpg):
    from cimlib.catalog.onboard import scaffold_catalog, write_scaffold
    from cimlib.catalog.onboard._discover import discover

    _write(tmp_path / "交付" / "市自然资源和规划局", cpg=cpg)
    sources, skipped = discover(tmp_path / "交付")
    assert not skipped
    (source,) = sources
    assert source.format == "shapefile" and source.columns == READ_AS and source.encoding == "UTF-8"
    assert source.sample["建筑物_2"].iloc[0] == NAMES[0] and any("建筑物_2" in n for n in source.notes)
    scaffold = scaffold_catalog(tmp_path / "交付", city="421303")
    assert not scaffold.skipped and not scaffold.unrecognised
    (proposed,) = scaffold.entries
    assert proposed.schema == "buildings" and "encoding" not in proposed.options
    out = write_scaffold(scaffold, tmp_path / "data_catalog.yaml")
    mapping = Catalog.load(out).entries[proposed.name].columns
    assert mapping["建筑物"] == "building_id" and mapping["建筑高"] == "height"
    frame, warned = _read(out, proposed.name)
    assert frame["building_id"].tolist() == IDS and frame["height"].tolist() == HEIGHTS
    assert any("10 字节" in w for w in warned)
