"""Format readers of the data catalog, registered in one table.

``READERS`` maps the ``format:`` name used in the catalog to the :class:`Reader` subclass that reads it.
Add a format with :func:`register_reader`.
"""

from __future__ import annotations

from ..errors import UnknownFormatError
from ._base import DESCRIBE_KEYS, Reader
from .csv import CsvReader
from .filegdb import FileGDBReader
from .geojson import GeoJSONReader
from .geoparquet import GeoParquetReader
from .geotiff import GeoTiffReader
from .gpkg import GeoPackageReader
from .netcdf import NetCDFReader
from .parquet import ParquetReader
from .postgis import PostGISReader
from .shapefile import ShapefileReader
from .xlsx import XlsxReader

__all__ = ["READERS", "Reader", "DESCRIBE_KEYS", "register_reader", "get_reader", "list_formats"]

#: Format name -> reader class. The single registry consulted by :class:`cimlib.catalog.Catalog`.
READERS: dict[str, type[Reader]] = {
    "geoparquet": GeoParquetReader,
    "parquet": ParquetReader,
    "gpkg": GeoPackageReader,
    "shapefile": ShapefileReader,
    "csv": CsvReader,
    "xlsx": XlsxReader,
    "netcdf": NetCDFReader,
    "geotiff": GeoTiffReader,
    "postgis": PostGISReader,
    "filegdb": FileGDBReader,
    "gdb": FileGDBReader,  # the same format under the name of its folder suffix
    "geojson": GeoJSONReader,
}


def register_reader(name: str, cls: type[Reader], *, replace: bool = False) -> None:
    """Register a reader class for a format name.

    Parameters
    ----------
    name : str
        Format name as written in the catalog (``format:``).
    cls : type of Reader
        Reader class.
    replace : bool, default False
        Allow replacing an existing registration.

    Raises
    ------
    TypeError
        If ``cls`` is not a :class:`Reader` subclass.
    ValueError
        If ``name`` is already registered and ``replace`` is false.
    """
    if not (isinstance(cls, type) and issubclass(cls, Reader)):
        raise TypeError(f"读取器必须是 Reader 的子类：{cls!r}")
    if name in READERS and READERS[name] is not cls and not replace:
        raise ValueError(f"格式 '{name}' 已注册为 {READERS[name].__name__}；如需替换请传 replace=True")
    READERS[name] = cls


def get_reader(name: str) -> type[Reader]:
    """Look up the reader class of a format.

    Parameters
    ----------
    name : str
        Format name.

    Returns
    -------
    type of Reader
        Registered reader class.

    Raises
    ------
    UnknownFormatError
        If no reader is registered under ``name``.
    """
    try:
        return READERS[name]
    except (KeyError, TypeError):
        raise UnknownFormatError(f"未知的数据格式 {name!r}；可用格式：{'、'.join(READERS)}") from None


def list_formats() -> list[str]:
    """Names of the registered formats.

    Returns
    -------
    list of str
        Format names in registration order.
    """
    return list(READERS)
