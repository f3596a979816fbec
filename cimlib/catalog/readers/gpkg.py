"""Reader for GeoPackage layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ReadError
from ._ogr import OgrReader

__all__ = ["GeoPackageReader"]


class GeoPackageReader(OgrReader):
    """GeoPackage vector layer; option ``layer`` (name or index), else the only spatial layer."""

    name = "gpkg"
    suffixes = (".gpkg",)
    options = {"layer": (str, int), "dtype": (list, str)}

    def ogr_kwargs(self, entry, path: Path) -> dict[str, Any]:
        """Choose the layer: ``options.layer``, otherwise the single layer having geometry.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            GeoPackage file.

        Returns
        -------
        dict
            ``{"layer": ...}``.

        Raises
        ------
        ReadError
            If no ``layer`` option is given and the file holds several spatial layers (or none).
        """
        import pyogrio

        layer = entry.options.get("layer")
        layers = pyogrio.list_layers(path)
        names = [str(name) for name, _ in layers]
        if layer is not None:
            if isinstance(layer, str) and layer not in names:
                raise ReadError(f"图层 '{layer}' 不存在；文件中的图层：{'、'.join(names)}", entry=entry.name, path=path)
            return {"layer": layer}
        spatial = [str(name) for name, geometry_type in layers if geometry_type is not None]
        candidates = spatial or names
        if len(candidates) != 1:
            listed = "、".join(candidates) or "（无）"
            raise ReadError(f"文件包含多个或零个图层（{listed}），请在 options.layer 中指定", entry=entry.name, path=path)
        return {"layer": candidates[0]}
