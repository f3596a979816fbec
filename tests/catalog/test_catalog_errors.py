"""Read-time errors: each names the entry and the file, with the right exception class."""

from __future__ import annotations

import pytest
from catalog_helpers import entry, write_geotiff, write_netcdf

from cimlib.catalog import (
    Catalog,
    CatalogError,
    CatalogWarning,
    CRSMismatchError,
    ReadError,
    SourceNotFoundError,
)


def _assert_names(exc: CatalogError, name: str, path, *parts: str) -> None:
    message = str(exc)
    assert f"'{name}'" in message and str(path) in message, message
    assert exc.entry == name and exc.path == str(path)
    assert f"[{type(exc).__name__}]" in message
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize(
    ("fmt", "filename"),
    [
        ("geoparquet", "b.parquet"),
        ("parquet", "t.parquet"),
        ("gpkg", "b.gpkg"),
        ("shapefile", "b.shp"),
        ("csv", "t.csv"),
        ("xlsx", "t.xlsx"),
        ("netcdf", "g.nc"),
        ("geotiff", "dem.tif"),
    ],
)
@pytest.mark.parametrize("method", ["read", "describe"])
def test_missing_file(tmp_path, write_catalog, fmt, filename, method):
    catalog = Catalog.load(write_catalog([entry("layer1", fmt, f"data/{filename}")]))
    with pytest.raises(SourceNotFoundError) as info:
        getattr(catalog, method)("layer1")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, CatalogError)
    _assert_names(info.value, "layer1", tmp_path / "data" / filename, "不存在")


# --------------------------------------------------------------------------- CRS mismatch


def _vector_file(kind: str, tmp_path, gdf):
    wrong = gdf.to_crs("EPSG:4326")
    if kind == "geoparquet":
        wrong.to_parquet(tmp_path / "b.parquet")
        return "b.parquet"
    if kind == "geoparquet-folder":
        (tmp_path / "parts").mkdir()
        wrong.to_parquet(tmp_path / "parts" / "part-0.parquet")
        return "parts"
    if kind == "gpkg":
        wrong.to_file(tmp_path / "b.gpkg", driver="GPKG")
        return "b.gpkg"
    wrong.to_file(tmp_path / "b.shp", encoding="UTF-8")
    return "b.shp"


@pytest.mark.parametrize("kind", ["geoparquet", "geoparquet-folder", "gpkg", "shapefile"])
def test_crs_mismatch_vector(tmp_path, write_catalog, gdf, kind):
    filename = _vector_file(kind, tmp_path, gdf)
    fmt = kind.split("-")[0]
    catalog = Catalog.load(write_catalog([entry("buildings", fmt, filename)]))
    with pytest.raises(CRSMismatchError) as info:
        catalog.read("buildings")
    _assert_names(info.value, "buildings", tmp_path / filename, "EPSG:4490", "EPSG:4326")


def test_crs_axis_order_is_ignored(tmp_path, write_catalog, gdf):
    gdf.to_crs("EPSG:4326").to_parquet(tmp_path / "b.parquet")
    catalog = Catalog.load(write_catalog([entry("buildings", "geoparquet", "b.parquet", crs="OGC:CRS84")]))
    assert len(catalog.read("buildings")) == 3


def test_crs_mismatch_geotiff(tmp_path, write_catalog):
    write_geotiff(tmp_path / "dem.tif", crs="EPSG:32649")
    catalog = Catalog.load(write_catalog([entry("dem", "geotiff", "dem.tif")]))
    with pytest.raises(CRSMismatchError) as info:
        catalog.read("dem")
    _assert_names(info.value, "dem", tmp_path / "dem.tif", "EPSG:4490", "EPSG:32649")


def test_crs_mismatch_netcdf(tmp_path, write_catalog):
    write_netcdf(tmp_path / "g.nc", crs="EPSG:4326")
    catalog = Catalog.load(write_catalog([entry("grid", "netcdf", "g.nc")]))
    with pytest.raises(CRSMismatchError) as info:
        catalog.read("grid")
    _assert_names(info.value, "grid", tmp_path / "g.nc", "EPSG:4326")


def test_geotiff_without_crs_warns_from_callers_line(tmp_path, write_catalog):
    write_geotiff(tmp_path / "dem.tif", crs=None)
    catalog = Catalog.load(write_catalog([entry("dem", "geotiff", "dem.tif")]))
    with pytest.warns(CatalogWarning) as record:
        array = catalog.read("dem")
    assert array.rio.crs.to_epsg() == 4490
    (warning,) = [w for w in record if issubclass(w.category, CatalogWarning)]
    assert warning.filename == __file__  # attributed to the caller, not to cimlib internals
    assert "'dem'" in str(warning.message) and str(tmp_path / "dem.tif") in str(warning.message)


# --------------------------------------------------------------------------- unreadable files


@pytest.mark.parametrize(
    ("fmt", "filename"),
    [
        ("parquet", "t.parquet"),
        ("geoparquet", "b.parquet"),
        ("xlsx", "t.xlsx"),
        ("gpkg", "b.gpkg"),
        ("shapefile", "b.shp"),
        ("netcdf", "g.nc"),
        ("geotiff", "dem.tif"),
    ],
)
@pytest.mark.parametrize("method", ["read", "describe"])
def test_unreadable_file(tmp_path, write_catalog, fmt, filename, method):
    (tmp_path / filename).write_bytes(b"PAR1 this is not a real file, it was cut short")
    catalog = Catalog.load(write_catalog([entry("layer1", fmt, filename)]))
    with pytest.raises(ReadError) as info:
        getattr(catalog, method)("layer1")
    _assert_names(info.value, "layer1", tmp_path / filename)


def test_truncated_parquet_names_reason(tmp_path, write_catalog, frame):
    frame.to_parquet(tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) // 2])
    catalog = Catalog.load(write_catalog([entry("table", "parquet", "t.parquet")]))
    with pytest.raises(ReadError) as info:
        catalog.read("table")
    _assert_names(info.value, "table", tmp_path / "t.parquet", "无法读取文件")
    assert info.value.__cause__ is not None
    assert "Parquet" in str(info.value) or "parquet" in str(info.value)


def test_plain_parquet_declared_as_geoparquet(tmp_path, write_catalog, frame):
    frame.to_parquet(tmp_path / "t.parquet")
    catalog = Catalog.load(write_catalog([entry("table", "geoparquet", "t.parquet")]))
    with pytest.raises(ReadError) as info:
        catalog.read("table")
    _assert_names(info.value, "table", tmp_path / "t.parquet", "geo")


def test_csv_declared_encoding_that_does_not_decode(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.csv", index=False, encoding="gbk")
    catalog = Catalog.load(write_catalog([entry("table", "csv", "t.csv", options={"encoding": "utf-8"})]))
    with pytest.raises(ReadError) as info:
        catalog.read("table")
    _assert_names(info.value, "table", tmp_path / "t.csv", "utf-8", "options.encoding")


def test_csv_declared_gbk_on_utf8_file_warns(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.csv", index=False, encoding="utf-8")
    catalog = Catalog.load(write_catalog([entry("table", "csv", "t.csv", options={"encoding": "gbk"})]))
    # the Chinese UTF-8 bytes are not valid GBK: warned first, then refused (never mojibake)
    with pytest.warns(CatalogWarning, match="UTF-8"), pytest.raises(ReadError):
        catalog.read("table")


def test_csv_unknown_declared_encoding(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    catalog = Catalog.load(write_catalog([entry("table", "csv", "t.csv", options={"encoding": "klingon"})]))
    with pytest.raises(ReadError) as info:
        catalog.read("table")
    _assert_names(info.value, "table", tmp_path / "t.csv", "klingon")


def test_missing_coordinate_column(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    path = write_catalog([entry("sites", "csv", "t.csv", crs="EPSG:4490", options={"x": "lng", "y": "lat"})])
    with pytest.raises(ReadError) as info:
        Catalog.load(path).read("sites")
    _assert_names(info.value, "sites", tmp_path / "t.csv", "'lng'")


def test_xlsx_missing_sheet(tmp_path, write_catalog, frame):
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    catalog = Catalog.load(write_catalog([entry("table", "xlsx", "t.xlsx", options={"sheet": "台账"})]))
    with pytest.raises(ReadError) as info:
        catalog.read("table")
    _assert_names(info.value, "table", tmp_path / "t.xlsx", "台账")


def test_gpkg_with_several_layers_needs_layer_option(tmp_path, write_catalog, gdf):
    gdf.to_file(tmp_path / "b.gpkg", layer="a", driver="GPKG")
    gdf.to_file(tmp_path / "b.gpkg", layer="b", driver="GPKG")
    catalog = Catalog.load(write_catalog([entry("buildings", "gpkg", "b.gpkg")]))
    with pytest.raises(ReadError) as info:
        catalog.read("buildings")
    _assert_names(info.value, "buildings", tmp_path / "b.gpkg", "options.layer")


def test_netcdf_missing_variable(tmp_path, write_catalog):
    write_netcdf(tmp_path / "g.nc")
    catalog = Catalog.load(write_catalog([entry("grid", "netcdf", "g.nc", options={"variable": "wind"})]))
    with pytest.raises(ReadError) as info:
        catalog.read("grid")
    _assert_names(info.value, "grid", tmp_path / "g.nc", "wind", "rain")


def test_geotiff_missing_band(tmp_path, write_catalog):
    write_geotiff(tmp_path / "dem.tif")
    catalog = Catalog.load(write_catalog([entry("dem", "geotiff", "dem.tif", options={"band": 5})]))
    with pytest.raises(ReadError) as info:
        catalog.read("dem")
    _assert_names(info.value, "dem", tmp_path / "dem.tif", "5")


def test_folder_for_single_file_format(tmp_path, write_catalog):
    (tmp_path / "t.csv").mkdir()
    catalog = Catalog.load(write_catalog([entry("table", "csv", "t.csv")]))
    with pytest.raises(ReadError) as info:
        catalog.read("table")
    _assert_names(info.value, "table", tmp_path / "t.csv", "文件夹")


# --------------------------------------------------------------------------- snapshots


@pytest.fixture
def snapshot_catalog(tmp_path, write_catalog, gdf):
    gdf.to_parquet(tmp_path / "b.parquet")
    for period in ("2024-01", "2024-03"):
        folder = tmp_path / "snap" / f"period={period}"
        folder.mkdir(parents=True)
        gdf.to_parquet(folder / "part-0.parquet")
    snapshots = {"path": "snap", "periods": ["2024-01", "2024-02"]}
    return Catalog.load(
        write_catalog(
            [
                entry("buildings", "geoparquet", "b.parquet", snapshots=snapshots),
                entry("roads", "geoparquet", "b.parquet"),
            ]
        )
    )


def test_missing_snapshot_period_lists_available(tmp_path, snapshot_catalog):
    with pytest.raises(SourceNotFoundError) as info:
        snapshot_catalog.read("buildings", period="2024-06")
    _assert_names(info.value, "buildings", tmp_path / "snap" / "period=2024-06", "2024-06", "2024-01、2024-02、2024-03")


def test_declared_period_without_folder(tmp_path, snapshot_catalog):
    with pytest.raises(SourceNotFoundError) as info:
        snapshot_catalog.read("buildings", period="2024-02")
    _assert_names(info.value, "buildings", tmp_path / "snap" / "period=2024-02")


def test_undeclared_period_present_on_disk_is_read(snapshot_catalog):
    assert len(snapshot_catalog.read("buildings", period="2024-03")) == 3


@pytest.mark.parametrize("period", ["2024-6", "202406", "2024-13"])
def test_malformed_period(snapshot_catalog, period):
    with pytest.raises(CatalogError, match="YYYY-MM") as info:
        snapshot_catalog.read("buildings", period=period)
    assert "'buildings'" in str(info.value)


def test_period_on_entry_without_snapshots(tmp_path, snapshot_catalog):
    with pytest.raises(CatalogError) as info:
        snapshot_catalog.read("roads", period="2024-01")
    _assert_names(info.value, "roads", tmp_path / "data_catalog.yaml", "snapshots")


def test_snapshot_folder_without_data_file(tmp_path, snapshot_catalog):
    folder = tmp_path / "snap" / "period=2024-04"
    folder.mkdir()
    (folder / "readme.txt").write_text("empty")
    with pytest.raises(SourceNotFoundError) as info:
        snapshot_catalog.read("buildings", period="2024-04")
    _assert_names(info.value, "buildings", folder)
