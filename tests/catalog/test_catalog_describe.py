"""``Catalog.describe``: cheap metadata for an inventory, and the reader registry."""

from __future__ import annotations

import pandas as pd
import pytest
from catalog_helpers import entry, write_geotiff, write_netcdf

from cimlib.catalog import (
    DESCRIBE_KEYS,
    READERS,
    Catalog,
    Reader,
    UnknownFormatError,
    get_reader,
    list_formats,
    register_reader,
)


@pytest.fixture
def no_full_reads(monkeypatch):
    """Make every full-data read entry point fail, so describe must use metadata only."""
    import dask.dataframe
    import geopandas
    import pyogrio

    def forbidden(*args, **kwargs):
        raise AssertionError("describe must not load the data")

    monkeypatch.setattr(geopandas, "read_parquet", forbidden)
    monkeypatch.setattr(geopandas, "read_file", forbidden)
    monkeypatch.setattr(pyogrio, "read_dataframe", forbidden)
    monkeypatch.setattr(pd, "read_parquet", forbidden)
    monkeypatch.setattr(dask.dataframe, "read_parquet", forbidden)


def _check_common(info, name, path, fmt):
    assert tuple(info) == DESCRIBE_KEYS
    assert info["name"] == name and info["format"] == fmt
    assert info["path"] == str(path)
    assert info["size_bytes"] == sum(p.stat().st_size for p in map(type(path), info["files"]))
    assert info["size_bytes"] > 0


@pytest.mark.parametrize("fmt", ["geoparquet", "gpkg", "shapefile"])
def test_describe_vector_from_metadata(tmp_path, write_catalog, gdf, fmt, no_full_reads):
    filename = {"geoparquet": "b.parquet", "gpkg": "b.gpkg", "shapefile": "b.shp"}[fmt]
    if fmt == "geoparquet":
        gdf.to_parquet(tmp_path / filename)
    else:
        gdf.to_file(tmp_path / filename, encoding="UTF-8") if fmt == "shapefile" else gdf.to_file(tmp_path / filename)
    catalog = Catalog.load(write_catalog([entry("buildings", fmt, filename)]))
    info = catalog.describe("buildings")
    _check_common(info, "buildings", tmp_path / filename, fmt)
    assert info["rows"] == 3
    assert {"code", "name"} <= set(info["columns"])
    assert info["crs"] == "EPSG:4490" and info["crs_declared"] == "EPSG:4490" and info["crs_matches"] is True
    assert info["geometry_type"] == "Polygon"
    assert info["bounds"] == pytest.approx(tuple(gdf.total_bounds))
    if fmt == "shapefile":
        assert {p.rsplit(".", 1)[1] for p in info["files"]} >= {"shp", "shx", "dbf", "prj"}


def test_describe_reports_crs_mismatch_without_raising(tmp_path, write_catalog, gdf, no_full_reads):
    gdf.to_crs("EPSG:4326").to_parquet(tmp_path / "b.parquet")
    info = Catalog.load(write_catalog([entry("buildings", "geoparquet", "b.parquet")])).describe("buildings")
    assert info["crs"] == "EPSG:4326" and info["crs_matches"] is False


def test_describe_partitioned_parquet_folder(tmp_path, write_catalog, frame, no_full_reads):
    for day, part in (("2024-09-01", frame.iloc[:2]), ("2024-09-02", frame.iloc[2:])):
        folder = tmp_path / "sensors" / f"date={day}"
        folder.mkdir(parents=True)
        part.to_parquet(folder / "part-0.parquet", index=False)
    info = Catalog.load(write_catalog([entry("sensors", "parquet", "sensors")])).describe("sensors")
    _check_common(info, "sensors", tmp_path / "sensors", "parquet")
    assert info["rows"] == 3 and len(info["files"]) == 2
    assert info["columns"] == ["code", "name", "lon", "lat", "date"]
    assert info["crs"] is None and info["geometry_type"] is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_describe_tables(tmp_path, write_catalog, frame, fmt):
    filename = f"t.{fmt}"
    if fmt == "csv":
        frame.to_csv(tmp_path / filename, index=False, encoding="gbk")
    elif fmt == "xlsx":
        frame.to_excel(tmp_path / filename, index=False)
    else:
        frame.to_parquet(tmp_path / filename)
    options = {"x": "lon", "y": "lat"}
    catalog = Catalog.load(write_catalog([entry("sites", fmt, filename, crs="EPSG:4490", options=options)]))
    info = catalog.describe("sites")
    _check_common(info, "sites", tmp_path / filename, fmt)
    assert info["rows"] == 3
    assert info["columns"][:4] == ["code", "name", "lon", "lat"]
    assert info["geometry_type"] == "Point"


def test_describe_geotiff(tmp_path, write_catalog):
    write_geotiff(tmp_path / "dem.tif")
    info = Catalog.load(write_catalog([entry("dem", "geotiff", "dem.tif")])).describe("dem")
    _check_common(info, "dem", tmp_path / "dem.tif", "geotiff")
    assert info["dims"] == {"band": 2, "y": 3, "x": 4}
    assert info["crs"] == "EPSG:4490" and info["crs_matches"] is True
    assert info["bounds"] == pytest.approx((113.3, 31.77, 113.34, 31.8))
    assert info["rows"] is None and info["columns"] is None


def test_describe_netcdf(tmp_path, write_catalog):
    write_netcdf(tmp_path / "g.nc")
    info = Catalog.load(write_catalog([entry("grid", "netcdf", "g.nc")])).describe("grid")
    _check_common(info, "grid", tmp_path / "g.nc", "netcdf")
    assert info["columns"] == ["rain", "temp"]
    assert info["dims"] == {"y": 2, "x": 3}
    assert info["crs"] == "EPSG:4490"


def test_describe_snapshot_period(tmp_path, write_catalog, gdf, no_full_reads):
    gdf.to_parquet(tmp_path / "b.parquet")
    folder = tmp_path / "snap" / "period=2024-05"
    folder.mkdir(parents=True)
    gdf.iloc[:1].to_parquet(folder / "part-0.parquet")
    snapshots = {"path": "snap", "periods": ["2024-05"]}
    catalog = Catalog.load(write_catalog([entry("buildings", "geoparquet", "b.parquet", snapshots=snapshots)]))
    assert catalog.describe("buildings")["rows"] == 3
    info = catalog.describe("buildings", period="2024-05")
    assert info["rows"] == 1 and info["period"] == "2024-05" and info["periods"] == ["2024-05"]
    assert info["path"] == str(folder / "part-0.parquet")


# --------------------------------------------------------------------------- registry


def test_registry_has_one_reader_per_documented_format():
    assert list_formats() == ["geoparquet", "parquet", "gpkg", "shapefile", "csv", "xlsx", "netcdf", "geotiff",
                              "postgis", "filegdb", "gdb", "geojson"]
    aliases = {"gdb": "filegdb"}
    assert all(issubclass(cls, Reader) and cls.name == aliases.get(name, name) for name, cls in READERS.items())


def test_get_reader_unknown_format():
    with pytest.raises(UnknownFormatError, match="kml"):
        get_reader("kml")


def test_register_reader_makes_format_usable(tmp_path, write_catalog, monkeypatch):

    class TextLines(Reader):
        name = "lines"
        options = {"strip": bool}

        def open(self, entry, path, columns=None):
            lines = path.read_text(encoding="utf-8").splitlines()
            return pd.DataFrame({"code": [str(i) for i in range(len(lines))], "line": lines})

        def describe(self, entry, path):
            return self.summary(entry, path, rows=len(path.read_text(encoding="utf-8").splitlines()))

    register_reader("lines", TextLines)
    try:
        with pytest.raises(ValueError):
            register_reader("lines", type("Other", (Reader,), {}))
        with pytest.raises(TypeError):
            register_reader("bad", dict)  # type: ignore[arg-type]
        (tmp_path / "notes.txt").write_text("甲\n乙\n", encoding="utf-8")
        catalog = Catalog.load(write_catalog([entry("notes", "lines", "notes.txt", options={"strip": True})]))
        assert catalog.read("notes")["line"].tolist() == ["甲", "乙"]
        assert catalog.describe("notes")["rows"] == 2
    finally:
        READERS.pop("lines", None)
