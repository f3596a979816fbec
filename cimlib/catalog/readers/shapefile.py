"""Reader for ESRI Shapefiles, with encoding detection for Chinese attribute data."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from ._ogr import OgrReader
from ._util import catalog_warn, decodes, normalize_encoding

__all__ = ["ShapefileReader", "detect_dbf_encoding", "LANGUAGE_DRIVERS"]

#: dBASE language driver id (byte 29 of the ``.dbf`` header) -> encoding. ``0x00`` (unset) and ``0x57``
#: ("current ANSI code page", written by ArcGIS on any Windows locale) are deliberately absent: they say
#: nothing reliable, so the record bytes are inspected instead.
LANGUAGE_DRIVERS: dict[int, str] = {
    0x01: "CP437", 0x02: "CP850", 0x03: "CP1252", 0x08: "CP865", 0x09: "CP437", 0x0A: "CP850",
    0x0B: "CP437", 0x0D: "CP437", 0x0E: "CP850", 0x0F: "CP437", 0x10: "CP850", 0x11: "CP437",
    0x12: "CP850", 0x13: "CP932", 0x14: "CP850", 0x15: "CP437", 0x16: "CP850", 0x17: "CP865",
    0x18: "CP437", 0x19: "CP437", 0x1A: "CP850", 0x1B: "CP437", 0x1C: "CP863", 0x1D: "CP850",
    0x1F: "CP852", 0x22: "CP852", 0x23: "CP852", 0x24: "CP860", 0x25: "CP850", 0x26: "CP866",
    0x37: "CP850", 0x40: "CP852", 0x4D: "CP936", 0x4E: "CP949", 0x4F: "CP950", 0x50: "CP874",
    0x58: "CP1252", 0x59: "CP1252", 0x64: "CP852", 0x65: "CP866", 0x66: "CP865", 0x67: "CP861",
    0x6A: "CP737", 0x6B: "CP857", 0x6C: "CP863", 0x78: "CP950", 0x79: "CP949", 0x7A: "CP936",
    0x7B: "CP932", 0x7C: "CP874", 0x86: "CP737", 0x87: "CP852", 0x88: "CP857", 0xC8: "CP1250",
    0xC9: "CP1251", 0xCA: "CP1254", 0xCB: "CP1253", 0xCC: "CP1257",
}


def _sidecar(path: Path, suffix: str) -> Path | None:
    """Find ``<stem><suffix>`` next to ``path`` regardless of the suffix's case."""
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    lower = path.stem.lower() + suffix
    return next((p for p in path.parent.glob(path.stem + ".*") if p.name.lower() == lower and p.is_file()), None)


def detect_dbf_encoding(path: Path, entry: str | None = None) -> str:
    """Find the attribute encoding of a shapefile: ``.cpg``, then the ``.dbf`` language driver, then the bytes.

    Parameters
    ----------
    path : pathlib.Path
        The ``.shp`` file.
    entry : str, optional
        Entry name for warnings.

    Returns
    -------
    str
        Encoding name for pyogrio/GDAL (``UTF-8``, ``CP936``, ``GB18030``, ...).
    """
    cpg = _sidecar(path, ".cpg")
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="ignore").strip()
        if declared:
            return normalize_encoding(declared)
    dbf = _sidecar(path, ".dbf")
    if dbf is None:
        return "UTF-8"
    with open(dbf, "rb") as fh:
        header = fh.read(32)
    if len(header) < 32:
        return "UTF-8"
    if header[29] in LANGUAGE_DRIVERS:
        return LANGUAGE_DRIVERS[header[29]]
    records, header_length, record_length = struct.unpack("<IHH", header[4:12])
    body = {"offset": header_length, "length": records * record_length}
    if decodes(dbf, "utf-8", **body):
        return "UTF-8"
    if decodes(dbf, "gb18030", **body):
        return "GB18030"
    catalog_warn("无法判定 .dbf 属性编码（非 UTF-8、非 GBK），按 GB18030 读取，可能出现乱码；请在 options.encoding 中声明", entry, dbf)
    return "GB18030"


class ShapefileReader(OgrReader):
    """ESRI Shapefile; encoding from ``options.encoding``, ``.cpg``, the ``.dbf`` language driver or detection."""

    name = "shapefile"
    suffixes = (".shp",)
    options = {"encoding": str, "dtype": (list, str)}

    def ogr_kwargs(self, entry, path: Path) -> dict[str, Any]:
        """Pass the attribute encoding to pyogrio.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            The ``.shp`` file.

        Returns
        -------
        dict
            ``{"encoding": ...}``.
        """
        encoding = entry.options.get("encoding")
        return {"encoding": normalize_encoding(encoding) if encoding else detect_dbf_encoding(path, entry.name)}

    def files(self, path: Path) -> list[Path]:
        """The ``.shp`` and its sidecar files (``.shx``, ``.dbf``, ``.prj``, ``.cpg``, indexes, ``.shp.xml``).

        Parameters
        ----------
        path : pathlib.Path
            The ``.shp`` file.

        Returns
        -------
        list of pathlib.Path
            Existing files sharing the stem, sorted.
        """
        prefix = path.stem.lower() + "."
        return sorted(p for p in path.parent.iterdir() if p.is_file() and p.name.lower().startswith(prefix))
