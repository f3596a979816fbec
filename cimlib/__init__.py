"""cimlib: the reusable core of the CIM acceptance workbench (城市信息模型验收工作台).

Public namespace, kept short: the data catalog and the sample city. Subpackages: ``cimlib.catalog`` (readers by
format), ``cimlib.codes`` (identification codes and division codes), ``cimlib.geo`` (CRS and datum helpers),
``cimlib.demo`` (the embedded sample city).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cim-workbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from cimlib.catalog import Catalog  # noqa: E402
from cimlib.demo import build_sample_city  # noqa: E402

__all__ = ["Catalog", "build_sample_city", "__version__"]
