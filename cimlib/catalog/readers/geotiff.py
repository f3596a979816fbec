"""Reader for GeoTIFF rasters through rioxarray."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ReadError
from ._base import Reader

__all__ = ["GeoTiffReader"]


class GeoTiffReader(Reader):
    """GeoTIFF raster as an ``xarray.DataArray``; option ``band`` (1-based) selects one band."""

    name = "geotiff"
    spatial = True
    tabular = False
    suffixes = (".tif", ".tiff")
    options = {"band": int}

    def open(self, entry, path: Path, columns: Sequence[str] | None = None) -> Any:
        """Open the raster lazily.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            GeoTIFF file.
        columns : sequence of str, optional
            Not applicable to rasters; must be ``None``.

        Returns
        -------
        xarray.DataArray
            Dimensions ``(band, y, x)``, or ``(y, x)`` when ``options.band`` is set.

        Raises
        ------
        CRSMismatchError
            If the raster CRS differs from the declared one.
        ReadError
            If ``columns`` is given or the band does not exist.
        """
        import rioxarray

        if columns is not None:
            raise ReadError("栅格数据没有列，不能指定 columns", entry=entry.name, path=path)
        array = rioxarray.open_rasterio(path)
        array = self.with_declared_crs(entry, path, array, array.rio.crs,
                                       lambda a, crs: a.rio.write_crs(crs.to_wkt()), on_error=array.close)
        band = entry.options.get("band")
        if band is not None:
            bands = [int(b) for b in array["band"].values]
            if band not in bands:
                raise ReadError(f"波段 {band} 不存在；文件共有波段 {bands}", entry=entry.name, path=path)
            array = array.sel(band=band)
        return array

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """Size, band count, CRS and bounds from the raster header.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            GeoTIFF file.

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`; ``dims`` is ``{"band", "y", "x"}`` sizes, ``rows``/``columns`` are ``None``.
        """
        import rasterio

        with rasterio.open(path) as source:
            return self.summary(
                entry,
                path,
                crs=source.crs,
                bounds=tuple(source.bounds),
                dims={"band": source.count, "y": source.height, "x": source.width},
            )
