"""Data catalog (``data_catalog.yaml``): the contract between the workbench and the data.

See ``docs/catalog.md``. Typical use::

    from cimlib.catalog import Catalog

    catalog = Catalog.load("data_catalog.yaml")
    buildings = catalog.read("buildings")
    inventory = [catalog.describe(entry.name) for entry in catalog]

Formats are read by the classes registered in :data:`READERS` (one module per format under
:mod:`cimlib.catalog.readers`); add one with :func:`register_reader`.
"""

from ._catalog import Catalog
from ._conform import ColumnMappingError
from ._crs import WORKBENCH_CRS
from ._db import TableSource
from ._load import LoadResult, load_to_postgis
from ._model import CLASSIFICATIONS, LAYERS, CatalogEntry, Snapshots
from .errors import (
    CatalogError,
    CatalogSyntaxError,
    CatalogWarning,
    CRSMismatchError,
    EntryNotFoundError,
    ReadError,
    SourceNotFoundError,
    UnknownFormatError,
)
from .readers import DESCRIBE_KEYS, READERS, Reader, get_reader, list_formats, register_reader

__all__ = [
    "Catalog",
    "TableSource",
    "load_to_postgis",
    "LoadResult",
    "CatalogEntry",
    "Snapshots",
    "LAYERS",
    "CLASSIFICATIONS",
    "READERS",
    "DESCRIBE_KEYS",
    "Reader",
    "register_reader",
    "get_reader",
    "list_formats",
    "CatalogError",
    "CatalogSyntaxError",
    "SourceNotFoundError",
    "UnknownFormatError",
    "CRSMismatchError",
    "ReadError",
    "EntryNotFoundError",
    "CatalogWarning",
    "ColumnMappingError",
    "WORKBENCH_CRS",
]
