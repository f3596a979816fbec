"""Base class of the format readers and the shared CRS check."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyproj

from ..errors import CRSMismatchError
from ._util import catalog_warn, crs_equal, crs_label, list_files, parse_crs

if TYPE_CHECKING:
    from .._model import CatalogEntry

__all__ = ["Reader", "DESCRIBE_KEYS"]

#: Keys of the dictionary returned by :meth:`Reader.describe` (always all present; ``None`` when not applicable).
DESCRIBE_KEYS = (
    "name",
    "title_zh",
    "layer",
    "format",
    "path",
    "period",
    "periods",
    "files",
    "size_bytes",
    "rows",
    "columns",
    "crs",
    "crs_declared",
    "crs_matches",
    "geometry_type",
    "bounds",
    "dims",
)


class Reader:
    """Base class of a catalog format reader.

    Subclasses set the class attributes and implement :meth:`open` and :meth:`describe`. Readers are
    stateless; the catalog instantiates one per call.

    Attributes
    ----------
    name : str
        Format name used in the catalog (``format:`` key).
    spatial : bool
        The file carries its own CRS: the entry must declare ``crs`` and the file CRS is checked against it.
    tabular : bool
        Records have an identifier: the entry must declare ``id_column``.
    accepts_folder : bool
        ``path`` may be a folder of parts.
    suffixes : tuple of str
        File name suffixes of the format (lower case), used to find files in snapshot folders.
    row_ranges : bool
        :meth:`open` of a file takes ``rows=(start, stop)`` and reads only those rows (the partitions of
        :meth:`cimlib.catalog.Catalog.read_rows`).
    options : dict of str to type or tuple of types
        Options accepted under ``options:`` and the Python types allowed for each.
    """

    name: ClassVar[str] = ""
    spatial: ClassVar[bool] = False
    tabular: ClassVar[bool] = True
    accepts_folder: ClassVar[bool] = False
    row_ranges: ClassVar[bool] = False
    suffixes: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[Mapping[str, type | tuple[type, ...]]] = {}

    # ------------------------------------------------------------------ interface

    def open(self, entry: CatalogEntry, path: Path, columns: Sequence[str] | None = None) -> Any:
        """Read the dataset at ``path`` for ``entry``.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry (options, declared CRS, identifier column).
        path : pathlib.Path
            Existing file or folder (the entry's file, or a snapshot).
        columns : sequence of str, optional
            Subset of columns (data variables for netCDF); geometry is always kept.

        Returns
        -------
        object
            DataFrame, GeoDataFrame, Dask collection, xarray Dataset or DataArray depending on the format.

        Raises
        ------
        CRSMismatchError
            If the file CRS differs from the declared one.
        ReadError
            If the file cannot be parsed.
        """
        raise NotImplementedError

    def describe(self, entry: CatalogEntry, path: Path) -> dict[str, Any]:
        """Cheap metadata of the dataset at ``path`` without loading all data.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Existing file or folder.

        Returns
        -------
        dict
            Keys of :data:`DESCRIBE_KEYS`.
        """
        raise NotImplementedError

    def files(self, path: Path) -> list[Path]:
        """Files making up the dataset at ``path`` (sidecar files included).

        Parameters
        ----------
        path : pathlib.Path
            File or folder.

        Returns
        -------
        list of pathlib.Path
            Existing files.
        """
        return list_files(path)

    # ------------------------------------------------------------------ shared helpers

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Check option names and value types.

        Parameters
        ----------
        options : mapping
            The entry's ``options``.

        Returns
        -------
        list of (str, str)
            ``(option, problem)`` pairs, empty when valid.
        """
        problems: list[tuple[str, str]] = []
        for key, value in options.items():
            if key not in cls.options:
                allowed = "、".join(cls.options) or "（无）"
                problems.append((key, f"格式 {cls.name} 不支持该选项；可用选项：{allowed}"))
                continue
            types = cls.options[key]
            types = types if isinstance(types, tuple) else (types,)
            if isinstance(value, bool) and bool not in types or not isinstance(value, types):
                names = "/".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
                problems.append((key, f"取值 {value!r} 类型不对，应为{names}"))
            elif isinstance(value, list) and not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
                problems.append((key, f"取值 {value!r} 的元素应为字符串或整数"))
        return problems

    def check_crs(self, entry: CatalogEntry, path: Path, found: object | None) -> pyproj.CRS | None:
        """Compare the CRS found in the file with the declared one.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry (declared ``crs``).
        path : pathlib.Path
            File, for messages.
        found : object or None
            CRS read from the file (pyproj, rasterio, WKT...), ``None`` if the file has none.

        Returns
        -------
        pyproj.CRS or None
            The declared CRS when the file has none (the caller assigns it; a :class:`CatalogWarning` is
            emitted), ``None`` when the file CRS matches.

        Raises
        ------
        CRSMismatchError
            If the file CRS differs from the declared one.
        """
        if entry.crs is None:
            return None
        declared = parse_crs(entry.crs)
        if found is None:
            catalog_warn(f"文件没有坐标参考系信息，按目录声明的 {entry.crs} 处理", entry.name, path)
            return declared
        if not crs_equal(found, declared):
            raise CRSMismatchError(
                f"坐标参考系不一致：声明 {entry.crs}，文件为 {crs_label(found)}", entry=entry.name, path=path
            )
        return None

    def with_declared_crs(self, entry: CatalogEntry, path: Path, obj: Any, found: object | None,
                          assign: Callable[[Any, pyproj.CRS], Any], on_error: Callable[[], Any] | None = None) -> Any:
        """Check the file's CRS with :meth:`check_crs` and, when the file has none, assign the declared one.

        Parameters
        ----------
        entry, path
            As for :meth:`check_crs`.
        obj : object
            What was read (a GeoDataFrame, DataArray or Dataset).
        found : object or None
            The CRS found in the file.
        assign : callable
            ``assign(obj, crs) -> obj`` with the declared CRS set.
        on_error : callable, optional
            Called before a mismatch is raised (to close an open file).

        Returns
        -------
        object
            ``obj``, with the declared CRS where the file had none.
        """
        try:
            assumed = self.check_crs(entry, path, found)
        except Exception:
            if on_error is not None:
                on_error()
            raise
        return obj if assumed is None else assign(obj, assumed)

    def crs_matches(self, entry: CatalogEntry, found: object | None) -> bool | None:
        """Whether the file CRS matches the declared one, ``None`` when either is missing.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        found : object or None
            CRS read from the file.

        Returns
        -------
        bool or None
            Comparison result.
        """
        if found is None or entry.crs is None:
            return None
        return crs_equal(found, parse_crs(entry.crs))

    def summary(self, entry: CatalogEntry, path: Path, **fields: Any) -> dict[str, Any]:
        """Build a :meth:`describe` result with every key of :data:`DESCRIBE_KEYS`.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            File or folder described.
        **fields
            Format-specific values (``rows``, ``columns``, ``crs`` as found in the file, ...).

        Returns
        -------
        dict
            Description; ``crs`` is rendered as a label (``EPSG:4490``) and ``crs_matches`` computed.
        """
        files = self.files(path)
        found = fields.pop("crs", None)
        result: dict[str, Any] = dict.fromkeys(DESCRIBE_KEYS)
        result.update(
            name=entry.name,
            title_zh=entry.title_zh,
            layer=entry.layer,
            format=entry.format,
            path=str(path),
            files=[str(f) for f in files],
            size_bytes=sum(f.stat().st_size for f in files),
            crs=crs_label(found),
            crs_declared=entry.crs,
            crs_matches=self.crs_matches(entry, found),
        )
        result.update(fields)
        if result["bounds"] is not None:
            result["bounds"] = tuple(float(v) for v in result["bounds"])
        return result


_TYPE_NAMES = {str: "字符串", int: "整数", list: "列表", dict: "映射", bool: "布尔值", float: "数值"}
