"""Reader for GeoJSON (``.geojson``/``.json``) through GDAL's GeoJSON driver.

CRS. A GeoJSON file written to RFC 7946 has no ``crs`` member: its coordinates are WGS 84 longitude/latitude by
definition, and GDAL reports EPSG:4326 for it. CGCS2000 (EPSG:4490) and WGS 84 agree within decimetres, far below
what a department's GeoJSON carries, so such a file declared in EPSG:4490 or EPSG:4326 matches, silently. Declared
in any other CRS (a Gauss-Krüger zone, a city's local system: older exports put projected coordinates in GeoJSON
without saying so), the declared CRS is assumed with a :class:`CatalogWarning`; coordinates that cannot belong to it
are findings of the checks (GEO-004). A file that does carry a ``crs`` member (the 2008 GeoJSON specification, as
GDAL and QGIS still write it) is checked against the declared CRS like any other format.

Encoding. GeoJSON is UTF-8 by specification; a file in GBK (some Chinese tools write it) is detected (or named in
``options.encoding``) and decoded in memory, never rewritten.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyproj

from ._ogr import OgrReader
from ._util import catalog_warn, crs_label, detect_text_encoding, is_utf8, normalize_encoding, parse_crs

__all__ = ["GeoJSONReader", "has_crs_member"]

_CRS_MEMBER = re.compile(rb'"crs"\s*:\s*\{')
#: Datums on which an RFC 7946 file (WGS 84) is taken as it is: WGS 84 and CGCS2000 agree within decimetres.
_RFC7946_DATUMS = ("WGS 84", "World Geodetic System 1984", "China 2000", "China Geodetic Coordinate System 2000")


def has_crs_member(path: Path, head: int = 1 << 16, tail: int = 1 << 12) -> bool:
    """Whether a GeoJSON file names its CRS (a top-level ``crs`` member, before or after the features).

    Parameters
    ----------
    path : pathlib.Path
        GeoJSON file.
    head, tail : int
        Bytes looked at from the start (up to ``"features"``) and from the end (after the last ``]``).

    Returns
    -------
    bool
        ``True`` when a ``"crs": {...}`` member is found outside the features.
    """
    with open(path, "rb") as fh:
        start = fh.read(head)
        features = start.find(b'"features"')
        if _CRS_MEMBER.search(start if features < 0 else start[:features]):
            return True
        size = fh.seek(0, io.SEEK_END)
        fh.seek(max(size - tail, 0))
        end = fh.read()
    return bool(_CRS_MEMBER.search(end[end.rfind(b"]") + 1:]))


def _wgs84_like(crs: pyproj.CRS) -> bool:
    """Whether a CRS is geographic on the WGS 84 or CGCS2000 datum (where RFC 7946 coordinates are taken as they are)."""
    if not crs.is_geographic:
        return False
    datum = crs.datum.name if crs.datum is not None else ""
    return any(name in datum for name in _RFC7946_DATUMS)


class GeoJSONReader(OgrReader):
    """GeoJSON FeatureCollection; options ``encoding`` (else UTF-8, GBK detected) and ``dtype``."""

    name = "geojson"
    suffixes = (".geojson", ".json")
    options = {"encoding": str, "dtype": (list, str)}

    def source(self, entry, path: Path, stack: contextlib.ExitStack) -> Any:
        """The file itself when it is UTF-8, otherwise its text re-encoded as UTF-8 in memory.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry (``options.encoding``).
        path : pathlib.Path
            GeoJSON file.
        stack : contextlib.ExitStack
            Unused (nothing to clean up).

        Returns
        -------
        pathlib.Path or io.BytesIO
            What pyogrio opens.
        """
        declared = entry.options.get("encoding")
        encoding = normalize_encoding(declared) if declared else detect_text_encoding(path, entry.name)
        if is_utf8(encoding):
            return path
        if not declared:
            catalog_warn(f"GeoJSON 按规范应为 UTF-8 编码，该文件为 {encoding}，已按 {encoding} 解码读取；"
                         "建议请提供部门以 UTF-8 导出，或在 options.encoding 中写明", entry.name, path)
        return io.BytesIO(path.read_text(encoding=encoding).encode("utf-8"))

    def _rfc7946(self, entry, path: Path) -> pyproj.CRS | None:
        """The declared CRS when the file has no ``crs`` member (RFC 7946) and a CRS is declared, else ``None``."""
        if entry.crs is None or has_crs_member(path):
            return None
        return parse_crs(entry.crs)

    def open(self, entry, path: Path, columns: Sequence[str] | None = None) -> Any:
        """Read the features as a GeoDataFrame in the declared CRS (see the module notes on RFC 7946).

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            GeoJSON file.
        columns : sequence of str, optional
            Properties to read (geometry always read).

        Returns
        -------
        geopandas.GeoDataFrame
            Features; identifier and ``options.dtype`` columns as strings.

        Raises
        ------
        CRSMismatchError
            If the file's ``crs`` member names another CRS than the declared one.
        """
        declared = self._rfc7946(entry, path)
        if declared is None:
            return super().open(entry, path, columns)
        frame = self.read_layer(entry, path, columns)
        if not _wgs84_like(declared):
            catalog_warn(f"GeoJSON 文件没有 crs 成员（按 RFC 7946 应为 WGS 84 经纬度），按目录声明的 {entry.crs} 处理",
                         entry.name, path)
        return frame.set_crs(declared, allow_override=True) if hasattr(frame, "set_crs") else frame

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """As :meth:`OgrReader.describe`; an RFC 7946 file reports the declared CRS when that is WGS 84 or CGCS2000.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            GeoJSON file.

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`.
        """
        result = super().describe(entry, path)
        declared = self._rfc7946(entry, path)
        if declared is not None:
            if _wgs84_like(declared):
                result.update(crs=crs_label(declared), crs_matches=True)
            else:
                result.update(crs=None, crs_matches=None)  # the file says nothing of its own
        return result
