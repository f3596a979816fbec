"""Reader for netCDF files through xarray (engine netcdf4, else h5netcdf)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ReadError
from ._base import Reader

__all__ = ["NetCDFReader", "open_netcdf"]

_ENGINES = ("netcdf4", "h5netcdf")


def open_netcdf(path: Path):
    """Open a netCDF file lazily with the first engine that can read it.

    ``decode_coords="all"`` keeps CF grid-mapping variables as coordinates so that rioxarray finds the CRS.

    Parameters
    ----------
    path : pathlib.Path
        netCDF-3 or netCDF-4/HDF5 file.

    Returns
    -------
    xarray.Dataset
        Lazily loaded dataset.

    Raises
    ------
    Exception
        The error of the last engine tried when none can read the file.
    """
    import xarray as xr

    errors: list[Exception] = []
    for engine in _ENGINES:
        try:
            return xr.open_dataset(path, engine=engine, decode_coords="all")
        except (ImportError, OSError, ValueError) as exc:  # ImportError: engine not installed (h5netcdf without h5py)
            errors.append(exc)
    parse_errors = [e for e in errors if not isinstance(e, ImportError)]
    raise (parse_errors or errors)[0]


def _dataset_crs(dataset) -> Any:
    """CRS recorded in the dataset (CF grid mapping / ``spatial_ref``), ``None`` if absent."""
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    try:
        return dataset.rio.crs
    except Exception:  # rioxarray raises on inconsistent grid mappings; treat as absent
        return None


class NetCDFReader(Reader):
    """netCDF gridded data; option ``variable`` returns one DataArray. The CRS (if recorded) is checked."""

    name = "netcdf"
    spatial = True
    tabular = False
    suffixes = (".nc", ".nc4", ".netcdf")
    options = {"variable": str}

    def open(self, entry, path: Path, columns: Sequence[str] | None = None) -> Any:
        """Open the dataset lazily.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            netCDF file.
        columns : sequence of str, optional
            Data variables to keep.

        Returns
        -------
        xarray.Dataset or xarray.DataArray
            The dataset, or the ``options.variable`` DataArray.

        Raises
        ------
        CRSMismatchError
            If the recorded CRS differs from the declared one.
        ReadError
            If a requested variable does not exist.
        """
        dataset = open_netcdf(path)
        names = list(dataset.data_vars)
        variable = entry.options.get("variable")
        wanted = [variable] if variable else list(columns) if columns is not None else []
        missing = [v for v in wanted if v not in dataset.variables]
        if missing:
            dataset.close()
            raise ReadError(f"变量不存在：{'、'.join(missing)}；文件中的变量：{'、'.join(names)}", entry=entry.name, path=path)
        dataset = self.with_declared_crs(entry, path, dataset, _dataset_crs(dataset),
                                         lambda d, crs: d.rio.write_crs(crs.to_wkt()), on_error=dataset.close)
        if variable:
            return dataset[variable]
        if columns is not None:
            return dataset[list(columns)]
        return dataset

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """Dimensions, data variables, CRS and bounds from the lazily opened file.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            netCDF file.

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`; ``columns`` lists data variables, ``dims`` the dimension sizes.
        """
        dataset = open_netcdf(path)
        try:
            crs = _dataset_crs(dataset)
            try:
                bounds = dataset.rio.bounds()
            except Exception:  # no recognisable x/y dimensions
                bounds = None
            return self.summary(
                entry,
                path,
                columns=[str(v) for v in dataset.data_vars if v != "spatial_ref"],
                crs=crs,
                bounds=bounds,
                dims={str(k): int(v) for k, v in dataset.sizes.items()},
            )
        finally:
            dataset.close()
