"""Common bases of the readers backed by GDAL/OGR through pyogrio (GeoPackage, Shapefile, FileGDB, GeoJSON)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ReadError
from ._base import Reader
from ._util import as_str_columns, string_columns

__all__ = ["OgrReader", "LayeredOgrReader", "choose_layer"]


def choose_layer(entry, path: Path, source: Any = None, *, container: str = "文件") -> dict[str, Any]:
    """The ``layer`` keyword for pyogrio: ``options.layer`` (name or index) checked, otherwise the only spatial layer.

    Parameters
    ----------
    entry : CatalogEntry
        Catalog entry (``options.layer``).
    path : pathlib.Path
        The data source, for messages.
    source : object, optional
        What pyogrio opens (defaults to ``path``).
    container : str, default "文件"
        How messages call the data source (``文件``, ``文件地理数据库``).

    Returns
    -------
    dict
        ``{"layer": name_or_index}``.

    Raises
    ------
    ReadError
        If the named layer does not exist, the index is out of range, or no ``layer`` option is given and the
        source holds several spatial layers (or none); the message lists the layers.
    """
    import pyogrio

    layers = pyogrio.list_layers(path if source is None else source)
    names = [str(name) for name, _ in layers]
    listed = "、".join(f"{name}（{'表格' if kind is None else kind}）" for name, kind in zip(names, layers[:, 1])) or "（无）"
    layer = entry.options.get("layer")
    if isinstance(layer, str):
        if layer in names:
            return {"layer": layer}
        folded = [n for n in names if n.casefold() == layer.casefold()]
        if len(folded) == 1:  # Esri layer names are case-insensitive
            return {"layer": folded[0]}
        raise ReadError(f"图层 '{layer}' 不存在；{container}中的图层：{listed}", entry=entry.name, path=path)
    if isinstance(layer, int):
        if not 0 <= layer < len(names):
            raise ReadError(f"图层序号 {layer} 超出范围（共 {len(names)} 个图层，从 0 起算）；{container}中的图层：{listed}",
                            entry=entry.name, path=path)
        return {"layer": layer}
    spatial = [str(name) for name, geometry_type in layers if geometry_type is not None]
    candidates = spatial or names
    if len(candidates) != 1:
        raise ReadError(f"{container}包含多个或零个图层（{listed}），请在 options.layer 中指定", entry=entry.name, path=path)
    return {"layer": candidates[0]}


class OgrReader(Reader):
    """Vector layer read with :func:`pyogrio.read_dataframe`; subclasses choose layer and encoding."""

    spatial = True

    def ogr_kwargs(self, entry, path: Path) -> dict[str, Any]:
        """Extra keyword arguments for pyogrio (``layer``, ``encoding``).

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Data file.

        Returns
        -------
        dict
            Keyword arguments passed to ``read_dataframe`` and ``read_info``.
        """
        return {}

    def source(self, entry, path: Path, stack: contextlib.ExitStack) -> Any:
        """What pyogrio opens for ``path``: the path itself here; subclasses may give a temporary copy or a buffer.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Data file or folder.
        stack : contextlib.ExitStack
            Receives what must be cleaned up after the read (a temporary folder).

        Returns
        -------
        object
            A path or a file-like object, valid until ``stack`` closes.
        """
        return path

    def ogr_read(self, entry, path: Path, source: Any, columns: Sequence[str] | None = None, **kwargs: Any) -> Any:
        """Read ``source`` with :func:`pyogrio.read_dataframe`; a subclass may read some files another way.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry (for warnings).
        path : pathlib.Path
            The data file as delivered (for messages).
        source : object
            What :meth:`source` gave for it.
        columns : sequence of str, optional
            Attribute columns to read (all when ``None``).
        **kwargs
            Keyword arguments of :meth:`ogr_kwargs`.

        Returns
        -------
        geopandas.GeoDataFrame or pandas.DataFrame
            The layer in source column names.
        """
        import pyogrio

        return pyogrio.read_dataframe(source, columns=list(columns) if columns is not None else None, **kwargs)

    def ogr_info(self, entry, path: Path, source: Any, **kwargs: Any) -> dict[str, Any]:
        """Describe ``source`` with :func:`pyogrio.read_info`; a subclass may describe some files another way.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            The data file as delivered.
        source : object
            What :meth:`source` gave for it.
        **kwargs
            Keyword arguments of :meth:`ogr_kwargs`.

        Returns
        -------
        dict
            As :func:`pyogrio.read_info` (``features``, ``fields``, ``crs``, ``geometry_type``, ``total_bounds``).
        """
        import pyogrio

        return pyogrio.read_info(source, **kwargs)

    def read_layer(self, entry, path: Path, columns: Sequence[str] | None = None, **kwargs: Any) -> Any:
        """Read the layer from :meth:`source` with :meth:`ogr_read`, identifier and ``options.dtype`` columns as
        strings, the CRS left as the file gives it.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Data file.
        columns : sequence of str, optional
            Attribute columns to read (geometry always read).
        **kwargs
            Further keyword arguments for pyogrio (``layer``, ``encoding``).

        Returns
        -------
        geopandas.GeoDataFrame or pandas.DataFrame
            The layer in source column names.
        """
        with contextlib.ExitStack() as stack:
            frame = self.ogr_read(entry, path, self.source(entry, path, stack), columns, **kwargs)
        return as_str_columns(frame, string_columns(entry))

    def open(self, entry, path: Path, columns: Sequence[str] | None = None) -> Any:
        """Read the layer as a GeoDataFrame in the declared CRS.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Data file.
        columns : sequence of str, optional
            Attribute columns to read (geometry always read).

        Returns
        -------
        geopandas.GeoDataFrame or pandas.DataFrame
            Layer; identifier and ``options.dtype`` columns as strings. A layer without geometry (an attribute
            table of a GeoPackage or File Geodatabase) is a plain DataFrame.

        Raises
        ------
        CRSMismatchError
            If the file CRS differs from the declared one.
        """
        import geopandas as gpd

        frame = self.read_layer(entry, path, columns, **self.ogr_kwargs(entry, path))
        if not isinstance(frame, gpd.GeoDataFrame):  # an attribute table: no CRS to check
            return frame
        return self.with_declared_crs(entry, path, frame, frame.crs, lambda f, crs: f.set_crs(crs, allow_override=True))

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """Feature count, fields, CRS, geometry type and (cheap) bounds from :func:`pyogrio.read_info`.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Data file.

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`.
        """
        with contextlib.ExitStack() as stack:
            info = self.ogr_info(entry, path, self.source(entry, path, stack), **self.ogr_kwargs(entry, path))
        rows = info.get("features")
        bounds = info.get("total_bounds")
        geometry_type = info.get("geometry_type")
        return self.summary(
            entry,
            path,
            rows=int(rows) if rows is not None and rows >= 0 else None,
            columns=[str(c) for c in info.get("fields", [])],
            crs=info.get("crs"),
            geometry_type=geometry_type if geometry_type not in (None, "Unknown") else None,
            bounds=bounds if bounds is not None and all(map(_finite, bounds)) else None,
        )


class LayeredOgrReader(OgrReader):
    """A data source holding several layers (GeoPackage, File Geodatabase): option ``layer`` (name or index), else
    the only spatial layer."""

    options = {"layer": (str, int), "dtype": (list, str)}
    #: How messages call the data source (``文件``, ``文件地理数据库``).
    container: ClassVar[str] = "文件"

    def ogr_kwargs(self, entry, path: Path) -> dict[str, Any]:
        """The layer to read, chosen by :func:`choose_layer`: ``options.layer``, otherwise the single layer having
        geometry.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            The data source (GeoPackage file, ``.gdb`` folder).

        Returns
        -------
        dict
            ``{"layer": ...}``.

        Raises
        ------
        ReadError
            If the named layer does not exist, or no ``layer`` option is given and the source holds several spatial
            layers (or none); the message lists every layer with its geometry type (``表格`` for tables).
        """
        return choose_layer(entry, path, container=self.container)


def _finite(value: float) -> bool:
    """Whether a bound is a finite number."""
    return value is not None and value == value and abs(value) != float("inf")
