"""Reader for ESRI Shapefiles, with encoding detection for Chinese attribute data."""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Any

from ._ogr import OgrReader
from ._util import catalog_warn, decodes, normalize_encoding

__all__ = ["ShapefileReader", "detect_dbf_encoding", "dbf_field_names", "LANGUAGE_DRIVERS", "shp_records",
           "dbf_records", "write_shx"]

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


def shp_records(path: Path) -> tuple[list[int], list[int]]:
    """Offsets and content lengths (in 16-bit words, as the ``.shx`` stores them) of the records of a ``.shp``.

    The records are walked from the file header on; a record cut short by the end of the file ends the walk.

    Parameters
    ----------
    path : pathlib.Path
        The ``.shp`` file.

    Returns
    -------
    tuple of (list of int, list of int)
        ``(offsets, lengths)``, one item per complete record.
    """
    offsets: list[int] = []
    lengths: list[int] = []
    size = path.stat().st_size
    if size <= 100:
        return offsets, lengths
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        pos = 100
        unpack = struct.Struct(">ii").unpack_from
        while pos + 8 <= size:
            _, words = unpack(data, pos)
            end = pos + 8 + 2 * words
            if words < 0 or end > size:
                break
            offsets.append(pos // 2)
            lengths.append(words)
            pos = end
    return offsets, lengths


def dbf_records(path: Path) -> tuple[int, int]:
    """Records a ``.dbf`` header announces, and complete records its size holds.

    Parameters
    ----------
    path : pathlib.Path
        The ``.dbf`` file.

    Returns
    -------
    tuple of (int, int)
        ``(announced, present)``; ``(0, 0)`` for a file shorter than its header.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.read(12)
    if len(header) < 12:
        return 0, 0
    announced, header_length, record_length = struct.unpack("<IHH", header[4:12])
    present = max(size - header_length, 0) // record_length if record_length else 0
    return announced, present


def write_shx(shp: Path, shx: Path) -> int:
    """Write the ``.shx`` index of a ``.shp`` file (its header, then offset and length of each record).

    Parameters
    ----------
    shp : pathlib.Path
        The ``.shp`` file (read only).
    shx : pathlib.Path
        The index to write (never beside a delivered file: the caller gives a temporary folder).

    Returns
    -------
    int
        Number of records indexed.
    """
    offsets, lengths = shp_records(shp)
    with open(shp, "rb") as fh:
        header = bytearray(fh.read(100))
    header[24:28] = struct.pack(">i", (100 + 8 * len(offsets)) // 2)
    body = b"".join(struct.pack(">ii", o, n) for o, n in zip(offsets, lengths))
    shx.write_bytes(bytes(header) + body)
    return len(offsets)


def dbf_field_names(dbf: Path) -> list[bytes]:
    """Raw field names of a ``.dbf`` (the 32-byte field descriptors after the 32-byte header, each name the first
    11 bytes, NUL-terminated), up to the ``0x0D`` terminator or the header length.

    Parameters
    ----------
    dbf : pathlib.Path
        The ``.dbf`` file.

    Returns
    -------
    list of bytes
        One name per field, undecoded; empty for a file shorter than its header.
    """
    with open(dbf, "rb") as fh:
        header = fh.read(32)
        if len(header) < 32:
            return []
        header_length = struct.unpack("<H", header[8:10])[0]
        descriptors = fh.read(max(header_length - 32, 0))
    names = []
    for start in range(0, len(descriptors) - 31, 32):
        if descriptors[start] == 0x0D:
            break
        names.append(descriptors[start:start + 11].split(b"\0", 1)[0])
    return names


def _names_decode(names: list[bytes], encoding: str) -> bool:
    """Whether every field name decodes with ``encoding``; a multibyte character cut by the 10-byte limit at the end
    of a name is allowed."""
    import codecs

    for name in names:
        try:
            codecs.getincrementaldecoder(encoding)(errors="strict").decode(name, final=False)
        except UnicodeDecodeError:
            return False
    return True


def detect_dbf_encoding(path: Path, entry: str | None = None) -> str:
    """Find the attribute encoding of a shapefile: ``.cpg``, then the ``.dbf`` language driver, then the bytes.

    The bytes looked at are the records and the field names: a register whose values are codes and numbers (plain
    ASCII) can still have Chinese field names in GBK (``建筑物编号``), which read as UTF-8 would come out garbled.

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
    names = dbf_field_names(dbf)
    if _names_decode(names, "utf-8") and decodes(dbf, "utf-8", **body):
        return "UTF-8"
    if _names_decode(names, "gb18030") and decodes(dbf, "gb18030", **body):
        return "GB18030"
    catalog_warn("无法判定 .dbf 属性编码（非 UTF-8、非 GBK），按 GB18030 读取，可能出现乱码；请在 options.encoding 中声明", entry, dbf)
    return "GB18030"


class ShapefileReader(OgrReader):
    """ESRI Shapefile; encoding from ``options.encoding``, ``.cpg``, the ``.dbf`` language driver or detection.

    ``options.restore_shx: true`` reads a shapefile delivered without its ``.shx`` index: the index is rebuilt
    from the ``.shp`` in a temporary folder (beside links to, or copies of, the other files), never beside the
    delivered files, with a :class:`CatalogWarning`.
    """

    name = "shapefile"
    suffixes = (".shp",)
    options = {"encoding": str, "dtype": (list, str), "restore_shx": bool}

    def source(self, entry, path: Path, stack: contextlib.ExitStack) -> Any:
        """The ``.shp`` itself, or, when its ``.shx`` is missing and ``options.restore_shx`` is set, a temporary
        copy with a rebuilt index.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            The ``.shp`` file.
        stack : contextlib.ExitStack
            Removes the temporary folder when the read is over.

        Returns
        -------
        pathlib.Path
            The ``.shp`` to open.
        """
        if _sidecar(path, ".dbf") is None:
            catalog_warn("缺少 .dbf 属性表文件，只读到几何、没有任何属性字段；请向提供部门索取同名的 .dbf 文件",
                         entry.name, path)
        if _sidecar(path, ".shx") is not None or not entry.options.get("restore_shx"):
            return path
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cim_shx_")))
        copy = folder / path.name
        for part in self.files(path):
            if part.suffix.lower() in (".shp", ".dbf", ".prj", ".cpg"):
                _link_or_copy(part, folder / (path.stem + part.suffix))
        records = write_shx(path, copy.with_suffix(".shx"))
        catalog_warn(f"缺少 .shx 索引文件，已按 options.restore_shx 在临时副本中由 .shp 重建（{records} 条要素），"
                     "交付的文件未改动；建议请提供部门补交 .shx", entry.name, path)
        return copy

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


def _link_or_copy(source: Path, target: Path) -> None:
    """Make ``target`` a symbolic link to ``source`` (read only through it), or a copy where links are refused."""
    try:
        os.symlink(source.resolve(), target)
    except OSError:
        shutil.copyfile(source, target)
