"""Deterministic writers: the same data gives the same bytes, run after run (no clock reaches a file).

Where a format stores a date (GeoPackage, the ``.dbf`` header, Excel properties and zip entries) the writers put a
fixed ``stamp``: :data:`FIXED_DATE` (the reference timeline's last day) unless the city's own last day is given."""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import xarray as xr

FIXED_DATE = "2024-09-30"
"""The date files are stamped with on the reference timeline."""


def write_geoparquet(gdf: gpd.GeoDataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    gdf.to_parquet(path, index=False, compression="zstd", schema_version="1.0.0", write_covering_bbox=False)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False, compression="zstd")


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str, stamp: str = FIXED_DATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{stamp}T00:00:00Z"})
    try:
        pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG", append=False)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_shapefile(gdf: gpd.GeoDataFrame, path: Path, encoding: str = "GBK", keep_cpg: bool = False,
                    stamp: str = FIXED_DATE) -> None:
    """Write a Shapefile whose ``.dbf`` is in ``encoding``; without ``.cpg`` by default, as departments send them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding=encoding,
                            layer_options={"DBF_DATE_LAST_UPDATE": stamp})
    cpg = path.with_suffix(".cpg")
    if not keep_cpg and cpg.exists():
        cpg.unlink()


def write_csv(df: pd.DataFrame, path: Path, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding=encoding, lineterminator="\n")


def write_xlsx(df: pd.DataFrame, path: Path, sheet: str, stamp: str = FIXED_DATE) -> None:
    """Write an Excel workbook, then rewrite its zip with fixed member dates and document properties."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        df.to_excel(xw, sheet_name=sheet, index=False)
        props = xw.book.properties
        props.created = props.modified = pd.Timestamp(stamp).to_pydatetime()
        props.creator = props.lastModifiedBy = "cim demo"
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            member = zipfile.ZipInfo(info.filename, date_time=zip_date_time(stamp))
            member.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the clock on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp.encode() + rb"T00:00:00Z\2", data)
            dst.writestr(member, data)


def zip_date_time(stamp: str = FIXED_DATE) -> tuple:
    """``(Y, M, D, 0, 0, 0)`` of a ``YYYY-MM-DD`` stamp, for zip members."""
    y, m, d = (int(p) for p in stamp.split("-"))
    return (y, m, d, 0, 0, 0)


def write_geotiff(da: xr.DataArray, path: Path, crs: str, nodata: float) -> None:
    import rasterio
    from rasterio.transform import from_origin

    path.parent.mkdir(parents=True, exist_ok=True)
    x, y = da["x"].to_numpy(), da["y"].to_numpy()
    dx, dy = float(x[1] - x[0]), float(y[0] - y[1])
    transform = from_origin(float(x[0]) - dx / 2, float(y[0]) + dy / 2, dx, dy)
    with rasterio.open(path, "w", driver="GTiff", height=da.shape[0], width=da.shape[1], count=1, dtype=str(da.dtype),
                       crs=crs, transform=transform, nodata=nodata, compress="deflate", tiled=True) as dst:
        dst.write(da.to_numpy(), 1)
        dst.update_tags(units="m")


def swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by the finished folder ``tmp`` with renames, so ``out`` is never half-written."""
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old)
