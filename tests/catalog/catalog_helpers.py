"""Helpers shared by the catalog tests (imported as ``catalog_helpers``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: Chinese text used to check encodings round-trip.
ZH = ["曾都区建筑", "随州市规划局", "涢水大道"]


def entry(name: str, fmt: str, path: str, /, **extra: Any) -> dict[str, Any]:
    """A valid catalog entry dictionary with sensible defaults, overridden by ``extra``."""
    base: dict[str, Any] = {
        "name": name,
        "title_zh": "测试图层",
        "layer": "时空基础",
        "format": fmt,
        "path": path,
        "schema": name,
        "owner": "市自然资源和规划局",
        "classification": "内部",
        "update_cycle": "季度",
    }
    if fmt not in ("netcdf", "geotiff"):
        base["id_column"] = "code"
    if fmt in ("geoparquet", "gpkg", "shapefile", "netcdf", "geotiff"):
        base["crs"] = "EPSG:4490"
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def write_geotiff(path: Path, crs: str | None = "EPSG:4490", bands: int = 2) -> np.ndarray:
    """Write a small ``bands`` x 3 x 4 GeoTIFF; returns the data written."""
    import rasterio
    from rasterio.transform import from_origin

    data = np.arange(bands * 12, dtype="float32").reshape(bands, 3, 4)
    profile = {
        "driver": "GTiff",
        "width": 4,
        "height": 3,
        "count": bands,
        "dtype": "float32",
        "transform": from_origin(113.3, 31.8, 0.01, 0.01),
    }
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return data


def write_netcdf(path: Path, crs: str | None = "EPSG:4490"):
    """Write a small gridded netCDF (variables ``rain`` and ``temp``) with an optional CF grid mapping."""
    import rioxarray  # noqa: F401
    import xarray as xr

    ds = xr.Dataset(
        {
            "rain": (("y", "x"), np.arange(6.0).reshape(2, 3)),
            "temp": (("y", "x"), np.full((2, 3), 20.5)),
        },
        coords={"y": [31.7, 31.6], "x": [113.3, 113.4, 113.5]},
    )
    if crs is not None:
        ds = ds.rio.write_crs(crs)
    ds.to_netcdf(path, engine="netcdf4")
    return ds
