"""Shapefile attribute encoding without ``.cpg``: the field names count as well as the records.

A register of codes and numbers has plain ASCII records while its field names are Chinese in GBK (``建筑物编号``);
decided from the records alone, the ``.dbf`` was read as UTF-8 and the field names came out garbled.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from catalog_helpers import entry

from cimlib.catalog import Catalog
from cimlib.catalog.readers.shapefile import dbf_field_names, detect_dbf_encoding

NAMES = ["建筑物编号", "建筑高度", "层数", "code"]


def _write(folder, encoding: str, values: dict | None = None):
    """A point shapefile written by GDAL with ``encoding``, ASCII-only values, its ``.cpg`` removed."""
    import pyogrio

    folder.mkdir(exist_ok=True)
    values = values or {"建筑物编号": ["B001", "B002"], "建筑高度": [3.5, 6.0], "层数": [1, 2], "code": ["001", "010"]}
    frame = gpd.GeoDataFrame(values, geometry=[shapely.Point(113.37, 31.69), shapely.Point(113.38, 31.70)],
                             crs="EPSG:4490")
    shp = folder / "b.shp"
    pyogrio.write_dataframe(frame, shp, encoding=encoding)
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    return shp


def test_gbk_field_names_over_ascii_values(tmp_path, write_catalog):
    shp = _write(tmp_path / "shp", "GBK")
    dbf = shp.with_suffix(".dbf").read_bytes()
    assert dbf[29] == 0  # no language driver: the bytes decide
    names = dbf_field_names(shp.with_suffix(".dbf"))
    assert names[0] == "建筑物编号".encode("gbk") and names[-1] == b"code"
    assert detect_dbf_encoding(shp) == "GB18030"
    frame = Catalog.load(write_catalog([entry("t", "shapefile", "shp/b.shp")])).read("t")
    assert list(frame.columns) == [*NAMES, "geometry"]
    assert frame["建筑物编号"].tolist() == ["B001", "B002"] and frame["code"].tolist() == ["001", "010"]


@pytest.mark.parametrize("encoding", ["UTF-8", "GBK"])
def test_chinese_values_still_decide(tmp_path, encoding):
    values = {"名称": ["曾都区建筑", "涢水大道"], "code": ["001", "010"]}
    shp = _write(tmp_path / "shp", encoding, values)
    assert detect_dbf_encoding(shp) == ("UTF-8" if encoding == "UTF-8" else "GB18030")


def test_ascii_names_and_values_are_utf8(tmp_path):
    shp = _write(tmp_path / "shp", "GBK", {"code": ["001", "010"], "height": [3.5, 6.0]})
    assert detect_dbf_encoding(shp) == "UTF-8"


def test_utf8_chinese_field_names_are_utf8(tmp_path, write_catalog):
    # names of at most three characters: GDAL cuts a longer UTF-8 name inside a character at 10 bytes
    shp = _write(tmp_path / "shp", "UTF-8", {"编号": ["B001", "B002"], "层数": [1, 2], "code": ["001", "010"]})
    assert detect_dbf_encoding(shp) == "UTF-8"
    frame = Catalog.load(write_catalog([entry("t", "shapefile", "shp/b.shp")])).read("t")
    assert list(frame.columns) == ["编号", "层数", "code", "geometry"]


def test_gbk_name_cut_inside_a_character_is_still_gbk(tmp_path):
    shp = _write(tmp_path / "shp", "GBK", {"code": ["001", "010"], "x": [1, 2]})
    dbf = shp.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    cut = "建筑物编号".encode("gbk")[:9] + b"\xbd"  # a lead byte without its trail byte
    data[32:43] = cut + b"\0"
    dbf.write_bytes(bytes(data))
    assert dbf_field_names(dbf)[0] == cut
    assert detect_dbf_encoding(shp) == "GB18030"
