"""Reader for GeoPackage layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._ogr import OgrReader, choose_layer

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
            If the named layer does not exist, or no ``layer`` option is given and the file holds several spatial
            layers (or none); the message lists the layers.
        """
        return choose_layer(entry, path)
