"""Round-trip reads: write a tiny file per format, point a catalog at it, read it back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from catalog_helpers import ZH, entry, write_geotiff, write_netcdf

from cimlib.catalog import Catalog, CatalogWarning


def _assert_table(result, frame, geo: bool) -> None:
    import geopandas as gpd

    assert isinstance(result, gpd.GeoDataFrame) is geo
    assert len(result) == len(frame)
    assert result["code"].tolist() == ["001", "002", "010"]
    assert result["name"].tolist() == ZH


# --------------------------------------------------------------------------- vector formats


def test_geoparquet_file(tmp_path, write_catalog, gdf):
    gdf.to_parquet(tmp_path / "b.parquet")
    result = Catalog.load(write_catalog([entry("buildings", "geoparquet", "b.parquet")])).read("buildings")
    _assert_table(result, gdf, geo=True)
    assert result.crs.equals("EPSG:4490")
    assert result.geometry.equals(gdf.geometry)


def test_geoparquet_folder_gives_dask_geopandas(tmp_path, write_catalog, gdf):
    import dask_geopandas

    folder = tmp_path / "parts"
    folder.mkdir()
    gdf.iloc[:2].to_parquet(folder / "part-0.parquet")
    gdf.iloc[2:].to_parquet(folder / "part-1.parquet")
    result = Catalog.load(write_catalog([entry("buildings", "geoparquet", "parts")])).read("buildings")
    assert isinstance(result, dask_geopandas.GeoDataFrame)
    assert result.crs.equals("EPSG:4490")
    computed = result.compute()
    assert sorted(computed["code"]) == ["001", "002", "010"]
    assert sorted(computed["name"]) == sorted(ZH)


def test_gpkg(tmp_path, write_catalog, gdf):
    gdf.to_file(tmp_path / "b.gpkg", layer="buildings", driver="GPKG")
    result = Catalog.load(write_catalog([entry("buildings", "gpkg", "b.gpkg")])).read("buildings")
    _assert_table(result, gdf, geo=True)
    assert result.crs.equals("EPSG:4490")


def test_gpkg_layer_option_selects_layer(tmp_path, write_catalog, gdf):
    gdf.iloc[:1].to_file(tmp_path / "b.gpkg", layer="one", driver="GPKG")
    gdf.to_file(tmp_path / "b.gpkg", layer="three", driver="GPKG")
    path = write_catalog([entry("buildings", "gpkg", "b.gpkg", options={"layer": "three"})])
    assert len(Catalog.load(path).read("buildings")) == 3


@pytest.mark.parametrize("encoding", ["UTF-8", "GBK"])
def test_shapefile_with_cpg(tmp_path, write_catalog, gdf, encoding):
    import pyogrio

    pyogrio.write_dataframe(gdf, tmp_path / "b.shp", encoding=encoding)
    assert (tmp_path / "b.cpg").exists()
    result = Catalog.load(write_catalog([entry("buildings", "shapefile", "b.shp")])).read("buildings")
    _assert_table(result, gdf, geo=True)


@pytest.mark.parametrize("language_driver", [0x00, 0x4D, 0x57, 0x7A], ids=["unset", "gbk-4d", "ansi-57", "gbk-7a"])
def test_shapefile_gbk_without_cpg(tmp_path, write_catalog, gdf, language_driver):
    import pyogrio

    pyogrio.write_dataframe(gdf, tmp_path / "b.shp", encoding="GBK")
    (tmp_path / "b.cpg").unlink()
    dbf = tmp_path / "b.dbf"
    data = bytearray(dbf.read_bytes())
    data[29] = language_driver
    dbf.write_bytes(bytes(data))
    result = Catalog.load(write_catalog([entry("buildings", "shapefile", "b.shp")])).read("buildings")
    _assert_table(result, gdf, geo=True)


def test_shapefile_encoding_option_wins(tmp_path, write_catalog, gdf):
    import pyogrio

    pyogrio.write_dataframe(gdf, tmp_path / "b.shp", encoding="GBK")
    (tmp_path / "b.cpg").write_text("UTF-8")  # wrong on purpose
    path = write_catalog([entry("buildings", "shapefile", "b.shp", options={"encoding": "GBK"})])
    assert Catalog.load(path).read("buildings")["name"].tolist() == ZH


def test_shapefile_without_prj_assumes_declared_crs_and_warns(tmp_path, write_catalog, gdf):
    import pyogrio

    pyogrio.write_dataframe(gdf, tmp_path / "b.shp", encoding="UTF-8")
    (tmp_path / "b.prj").unlink()
    catalog = Catalog.load(write_catalog([entry("buildings", "shapefile", "b.shp")]))
    with pytest.warns(CatalogWarning) as record:
        result = catalog.read("buildings")
    assert result.crs.equals("EPSG:4490")
    message = str(record[0].message)
    assert "'buildings'" in message and str(tmp_path / "b.shp") in message


# --------------------------------------------------------------------------- tabular formats


def test_parquet_file(tmp_path, write_catalog, frame):
    frame.to_parquet(tmp_path / "t.parquet")
    result = Catalog.load(write_catalog([entry("table", "parquet", "t.parquet")])).read("table")
    assert type(result) is pd.DataFrame
    _assert_table(result, frame, geo=False)


def test_parquet_integer_id_column_read_as_str(tmp_path, write_catalog):
    pd.DataFrame({"code": [421303, 421302], "v": [1.5, 2.5]}).to_parquet(tmp_path / "t.parquet")
    result = Catalog.load(write_catalog([entry("table", "parquet", "t.parquet")])).read("table")
    assert result["code"].tolist() == ["421303", "421302"]


def test_parquet_xy_gives_points_keeping_missing_rows(tmp_path, write_catalog, frame):
    frame.to_parquet(tmp_path / "t.parquet")
    path = write_catalog([entry("sites", "parquet", "t.parquet", crs="EPSG:4490", options={"x": "lon", "y": "lat"})])
    result = Catalog.load(path).read("sites")
    _assert_table(result, frame, geo=True)
    assert result.crs.equals("EPSG:4490")
    assert result.geometry.iloc[0].x == pytest.approx(113.37)
    assert result.geometry.iloc[2] is None


def test_partitioned_parquet_folder_gives_dask(tmp_path, write_catalog, frame):
    import dask.dataframe as dd

    for day, part in (("2024-09-01", frame.iloc[:2]), ("2024-09-02", frame.iloc[2:])):
        folder = tmp_path / "sensors" / f"date={day}"
        folder.mkdir(parents=True)
        part.to_parquet(folder / "part-0.parquet", index=False)
    result = Catalog.load(write_catalog([entry("sensors", "parquet", "sensors")])).read("sensors")
    assert isinstance(result, dd.DataFrame)
    computed = result.compute()
    assert len(computed) == 3
    assert sorted(computed["code"]) == ["001", "002", "010"]
    assert sorted(computed["date"].astype(str).unique()) == ["2024-09-01", "2024-09-02"]


def test_partitioned_parquet_folder_with_xy_gives_dask_geopandas(tmp_path, write_catalog, frame):
    import dask_geopandas

    folder = tmp_path / "sensors" / "date=2024-09-01"
    folder.mkdir(parents=True)
    frame.to_parquet(folder / "part-0.parquet", index=False)
    path = write_catalog([entry("sensors", "parquet", "sensors", crs="EPSG:4490", options={"x": "lon", "y": "lat"})])
    result = Catalog.load(path).read("sensors")
    assert isinstance(result, dask_geopandas.GeoDataFrame)
    computed = result.compute()
    assert computed.crs.equals("EPSG:4490")
    assert computed.geometry.isna().sum() == 1


@pytest.mark.parametrize(
    ("encoding", "declared"),
    [("utf-8", None), ("utf-8-sig", None), ("gbk", None), ("gb18030", None), ("gbk", "GBK")],
    ids=["utf8", "utf8-bom", "gbk-detected", "gb18030-detected", "gbk-declared"],
)
def test_csv_encodings_round_trip(tmp_path, write_catalog, frame, encoding, declared):
    frame.to_csv(tmp_path / "t.csv", index=False, encoding=encoding)
    options = {"encoding": declared} if declared else {}
    result = Catalog.load(write_catalog([entry("table", "csv", "t.csv", options=options)])).read("table")
    _assert_table(result, frame, geo=False)


def test_csv_sep_dtype_and_points(tmp_path, write_catalog, frame):
    frame.assign(zone=["0421", "0422", None]).to_csv(tmp_path / "t.csv", index=False, sep=";", encoding="gbk")
    options = {"sep": ";", "x": "lon", "y": "lat", "dtype": ["zone"]}
    path = write_catalog([entry("sites", "csv", "t.csv", crs="EPSG:4490", options=options)])
    result = Catalog.load(path).read("sites")
    _assert_table(result, frame, geo=True)
    assert result["zone"].iloc[0] == "0421" and pd.isna(result["zone"].iloc[2])
    assert result.geometry.iloc[2] is None and len(result) == 3


def test_csv_default_crs_from_top_level(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    path = write_catalog([entry("sites", "csv", "t.csv", options={"x": "lon", "y": "lat"})], crs="EPSG:4490")
    catalog = Catalog.load(path)
    assert catalog["sites"].crs == "EPSG:4490"
    assert catalog.read("sites").crs.equals("EPSG:4490")


def test_csv_columns_subset(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    path = write_catalog([entry("sites", "csv", "t.csv", crs="EPSG:4490", options={"x": "lon", "y": "lat"})])
    result = Catalog.load(path).read("sites", columns=["code"])
    assert list(result.columns) == ["code", "geometry"]


def test_csv_neither_utf8_nor_gbk_is_guessed_with_warning(tmp_path, write_catalog):
    # bytes 0x80 and 0xFF are invalid in both UTF-8 and GB18030: charset-normalizer must guess, loudly
    (tmp_path / "t.csv").write_bytes("code,name\n001,Ærøskøbing Ñandú €\n".encode("cp1252") + b"002,\xff\n")
    catalog = Catalog.load(write_catalog([entry("table", "csv", "t.csv")]))
    with pytest.warns(CatalogWarning) as record:
        result = catalog.read("table")
    assert len(result) == 2
    message = str(record[0].message)
    assert "'table'" in message and str(tmp_path / "t.csv") in message and "options.encoding" in message


def test_xlsx(tmp_path, write_catalog, frame):
    frame.to_excel(tmp_path / "t.xlsx", index=False, sheet_name="名录")
    path = write_catalog([entry("table", "xlsx", "t.xlsx", options={"sheet": "名录"})])
    result = Catalog.load(path).read("table")
    assert type(result) is pd.DataFrame
    _assert_table(result, frame, geo=False)


def test_xlsx_numeric_codes_and_points(tmp_path, write_catalog, frame):
    frame.assign(code=[421303, 421302, 421381]).to_excel(tmp_path / "t.xlsx", index=False)
    path = write_catalog([entry("sites", "xlsx", "t.xlsx", crs="EPSG:4490", options={"x": "lon", "y": "lat"})])
    result = Catalog.load(path).read("sites")
    assert result["code"].tolist() == ["421303", "421302", "421381"]
    assert result.crs.equals("EPSG:4490") and result.geometry.iloc[2] is None


def test_xlsx_multirow_header_is_flattened(tmp_path, write_catalog):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["说明：样例台账", None, None])
    sheet.append(["code", "基本信息", None])
    sheet.append([None, "名称", "地址"])
    sheet.append(["001", ZH[0], ZH[2]])
    workbook.save(tmp_path / "t.xlsx")
    path = write_catalog([entry("table", "xlsx", "t.xlsx", options={"header": [1, 2]})])
    result = Catalog.load(path).read("table")
    assert list(result.columns) == ["code", "基本信息_名称", "基本信息_地址"]
    assert result.iloc[0].tolist() == ["001", ZH[0], ZH[2]]


# --------------------------------------------------------------------------- gridded formats


def test_netcdf_dataset_and_variable(tmp_path, write_catalog):
    import xarray as xr

    write_netcdf(tmp_path / "g.nc")
    path = write_catalog(
        [
            entry("grid", "netcdf", "g.nc"),
            entry("rain", "netcdf", "g.nc", options={"variable": "rain"}),
        ]
    )
    catalog = Catalog.load(path)
    dataset = catalog.read("grid")
    assert isinstance(dataset, xr.Dataset)
    assert {"rain", "temp"} <= set(dataset.data_vars)
    rain = catalog.read("rain")
    assert isinstance(rain, xr.DataArray)
    np.testing.assert_array_equal(rain.values, np.arange(6.0).reshape(2, 3))
    assert rain.rio.crs.to_epsg() == 4490


def test_netcdf_without_crs_assumes_declared_and_warns(tmp_path, write_catalog):
    write_netcdf(tmp_path / "g.nc", crs=None)
    catalog = Catalog.load(write_catalog([entry("grid", "netcdf", "g.nc")]))
    with pytest.warns(CatalogWarning, match="'grid'"):
        dataset = catalog.read("grid")
    assert dataset.rio.crs.to_epsg() == 4490


def test_geotiff_and_band(tmp_path, write_catalog):
    import xarray as xr

    data = write_geotiff(tmp_path / "dem.tif")
    path = write_catalog([entry("dem", "geotiff", "dem.tif"), entry("dem_b2", "geotiff", "dem.tif", options={"band": 2})])
    catalog = Catalog.load(path)
    array = catalog.read("dem")
    assert isinstance(array, xr.DataArray)
    assert array.shape == (2, 3, 4)
    np.testing.assert_array_equal(array.values, data)
    assert array.rio.crs.to_epsg() == 4490
    band = catalog.read("dem_b2")
    assert band.shape == (3, 4)
    np.testing.assert_array_equal(band.values, data[1])


# --------------------------------------------------------------------------- snapshots


def test_snapshot_period(tmp_path, write_catalog, gdf):
    gdf.to_parquet(tmp_path / "b.parquet")
    for period, rows in (("2024-01", 1), ("2024-02", 2)):
        folder = tmp_path / "snapshots" / "buildings" / f"period={period}"
        folder.mkdir(parents=True)
        gdf.iloc[:rows].to_parquet(folder / "part-0.parquet")
    snapshots = {"path": "snapshots/buildings", "periods": ["2024-01", "2024-02"]}
    catalog = Catalog.load(write_catalog([entry("buildings", "geoparquet", "b.parquet", snapshots=snapshots)]))
    assert len(catalog.read("buildings")) == 3
    february = catalog.read("buildings", period="2024-02")
    assert len(february) == 2 and february["code"].tolist() == ["001", "002"]
    assert catalog.periods("buildings") == ["2024-01", "2024-02"]


def test_snapshot_csv_entry_reads_csv_part(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.csv", index=False, encoding="gbk")
    folder = tmp_path / "snap" / "period=2024-06"
    folder.mkdir(parents=True)
    frame.iloc[:1].to_csv(folder / "part-0.csv", index=False, encoding="gbk")
    path = write_catalog([entry("table", "csv", "t.csv", snapshots={"path": "snap", "periods": ["2024-06"]})])
    result = Catalog.load(path).read("table", period="2024-06")
    assert result["name"].tolist() == ZH[:1] and result["code"].tolist() == ["001"]
