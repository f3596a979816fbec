"""Reader for ESRI Shapefiles, with encoding detection for Chinese attribute data.

Field names cut inside a character. A ``.dbf`` field name holds 10 bytes, and GDAL, ArcGIS and QGIS cut a longer
name by bytes: in UTF-8 a Chinese character is 3 bytes, so ``建筑物编号`` (15 bytes) is stored as ``建筑物`` and the
first byte of ``编``, which no UTF-8 decoder accepts (pyogrio raises ``UnicodeDecodeError``, whatever the ``.cpg``
says). Such a shapefile is read through ISO-8859-1, in which every byte is a character, and decoded here: each name
keeps the whole characters that fit (``建筑物``; GDAL's ``_1`` for a name it made unique after cutting is kept), two
names equal after cutting are told apart with ``_2``, ``_3``, and the values are decoded as UTF-8. A
:class:`CatalogWarning` names the cut names, under which the entry's ``columns:`` maps them.
"""

from __future__ import annotations

import codecs
import contextlib
import mmap
import os
import re
import shutil
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ReadError
from ._ogr import OgrReader
from ._util import catalog_warn, decodes, is_utf8, normalize_encoding

__all__ = ["ShapefileReader", "detect_dbf_encoding", "dbf_field_names", "LANGUAGE_DRIVERS", "shp_records",
           "dbf_records", "write_shx", "CutFieldNames", "cut_field_names", "read_shapefile", "shapefile_info"]

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


#: The ``_1``, ``_2``... GDAL writes over the last bytes of a cut name that would repeat another one.
_LAUNDERED = re.compile(rb"_[0-9]+$")
#: Encoding pyogrio is asked for when field names are cut inside a character: every byte is a character, so nothing
#: fails, and ``str.encode("latin-1")`` gives the bytes back.
_RAW = "ISO-8859-1"
#: Codec error handler dropping a character cut at the end of a value (the field width cuts by bytes too).
_CUT_TAIL = "cimlib.cut_tail"


def _drop_cut_tail(exc: UnicodeError) -> tuple[str, int]:
    """Error handler: drop an incomplete character at the very end of the bytes; any other error is raised."""
    if isinstance(exc, UnicodeDecodeError) and exc.end == len(exc.object) and exc.reason == "unexpected end of data":
        return "", exc.end
    raise exc


codecs.register_error(_CUT_TAIL, _drop_cut_tail)


def _decode_name(name: bytes, encoding: str) -> str:
    """A field name decoded with ``encoding``, the bytes of a character cut by the 10-byte limit dropped (at the end,
    or before the ``_1`` GDAL puts over the end of a cut name it made unique).

    Raises
    ------
    UnicodeDecodeError
        If other bytes do not decode.
    """
    suffix = _LAUNDERED.search(name)
    head, tail = (name[:suffix.start()], name[suffix.start():]) if suffix else (name, b"")
    return codecs.getincrementaldecoder(encoding)(errors="strict").decode(head, final=False) + tail.decode("ascii")


def _names_decode(names: list[bytes], encoding: str) -> bool:
    """Whether every field name decodes with ``encoding``; a multibyte character cut by the 10-byte limit is allowed
    (see :func:`_decode_name`)."""
    try:
        for name in names:
            _decode_name(name, encoding)
    except UnicodeDecodeError:
        return False
    return True


def _unique(names: list[str], whole: list[bool]) -> list[str]:
    """Names made unique, in field order: a whole name (not cut) keeps its name; a cut name that repeats one already
    given gets the first free ``_2``, ``_3``... (free of every name)."""
    used = {name for name, keep in zip(names, whole) if keep}
    taken = set(names)
    out: list[str] = []
    for name, keep in zip(names, whole):
        if keep:
            out.append(name)
            continue
        candidate, k = name, 1
        while candidate in used or (k > 1 and candidate in taken):
            k += 1
            candidate = f"{name}_{k}"
        used.add(candidate)
        out.append(candidate)
    return out


class CutFieldNames(NamedTuple):
    """Field names of a ``.dbf`` whose UTF-8 names were cut inside a character.

    Attributes
    ----------
    names : list of str
        One name per field, in field order: the whole characters that fit, repeats suffixed ``_2``, ``_3``...
    cut : list of str
        Those of ``names`` whose bytes were cut inside a character (as they are read, suffix included).
    """

    names: list[str]
    cut: list[str]


def cut_field_names(path: Path, encoding: str) -> CutFieldNames | None:
    """Field names of a UTF-8 shapefile that pyogrio cannot decode because a name was cut inside a character.

    Parameters
    ----------
    path : pathlib.Path
        The ``.shp`` file (its ``.dbf`` is looked at).
    encoding : str
        The attribute encoding the shapefile is read with.

    Returns
    -------
    CutFieldNames or None
        The names decoded as :func:`_decode_name` does and made unique; ``None`` when the encoding is not UTF-8,
        there is no ``.dbf``, every name decodes as it is, or a name holds bytes that are not UTF-8 at all (another
        encoding: that is left to fail as such).
    """
    dbf = _sidecar(path, ".dbf") if is_utf8(encoding) else None
    if dbf is None:
        return None
    raw = dbf_field_names(dbf)
    whole = [decodes(name, "utf-8") for name in raw]
    if all(whole):
        return None
    try:
        decoded = [_decode_name(name, "utf-8") for name in raw]
    except UnicodeDecodeError:
        return None
    names = _unique(decoded, whole)
    return CutFieldNames(names, [name for name, keep in zip(names, whole) if not keep])


def read_shapefile(path: Path, *, encoding: str, columns: Sequence[str] | None = None, **kwargs: Any) -> Any:
    """Read a shapefile with :func:`pyogrio.read_dataframe`, also when its UTF-8 field names were cut inside a character.

    Parameters
    ----------
    path : pathlib.Path
        The ``.shp`` file.
    encoding : str
        Attribute encoding.
    columns : sequence of str, optional
        Attribute columns to read (all when ``None``); names absent from the file are ignored, as pyogrio does.
    **kwargs
        Further keyword arguments of :func:`pyogrio.read_dataframe` (``max_features``, ``read_geometry``...).

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The layer; with cut names (:func:`cut_field_names`), every field is read through ISO-8859-1, named by
        position and its text decoded as UTF-8 (a character cut at the end of a value dropped).
    """
    import pandas as pd
    import pyogrio

    wanted = list(columns) if columns is not None else None
    fields = cut_field_names(path, encoding)
    if fields is None:
        return pyogrio.read_dataframe(path, columns=wanted, encoding=encoding, **kwargs)
    frame = pyogrio.read_dataframe(path, encoding=_RAW, **kwargs)  # every field: they are named by position
    n = len(fields.names)
    if len(frame.columns) - n not in (0, 1):
        raise ReadError(f"属性表 .dbf 的字段描述（{n} 个）与读出的字段数（{len(frame.columns)}，含几何列）不一致，"
                        "文件头可能已损坏；请让提供部门重新导出整套 Shapefile", path=path)
    frame.columns = [*fields.names, *frame.columns[n:]]
    for name in fields.names:
        column = frame[name]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            text = column.str.encode(_RAW).str.decode("utf-8", errors=_CUT_TAIL)
            frame[name] = text.astype(column.dtype).where(text.notna(), column)
    if wanted is not None:
        frame = frame[[c for c in frame.columns if c in wanted or c not in fields.names]]
    return frame


def shapefile_info(path: Path, *, encoding: str, **kwargs: Any) -> dict[str, Any]:
    """:func:`pyogrio.read_info` of a shapefile, also when its UTF-8 field names were cut inside a character.

    Parameters
    ----------
    path : pathlib.Path
        The ``.shp`` file.
    encoding : str
        Attribute encoding.
    **kwargs
        Further keyword arguments of :func:`pyogrio.read_info`.

    Returns
    -------
    dict
        As :func:`pyogrio.read_info`; ``fields`` are the names of :func:`cut_field_names` when names were cut.
    """
    import numpy as np
    import pyogrio

    fields = cut_field_names(path, encoding)
    if fields is None:
        return pyogrio.read_info(path, encoding=encoding, **kwargs)
    info = pyogrio.read_info(path, encoding=_RAW, **kwargs)
    info.update(fields=np.array(fields.names, dtype=object), encoding=encoding)
    return info


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

    def ogr_read(self, entry, path: Path, source: Any, columns: Sequence[str] | None = None, **kwargs: Any) -> Any:
        """Read with :func:`read_shapefile`; names cut inside a character are reported with a :class:`CatalogWarning`.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            The ``.shp`` file as delivered.
        source : pathlib.Path
            The ``.shp`` to open (a temporary copy when the ``.shx`` was rebuilt).
        columns : sequence of str, optional
            Attribute columns to read.
        **kwargs
            ``encoding`` (from :meth:`ogr_kwargs`).

        Returns
        -------
        geopandas.GeoDataFrame
            The layer in source column names (the cut names as :func:`cut_field_names` gives them).
        """
        fields = cut_field_names(source, kwargs["encoding"])
        if fields is not None and fields.cut:
            catalog_warn(f"有 {len(fields.cut)} 个字段名是 UTF-8 中文，被 dBASE 字段名 10 字节的上限截断在汉字中间"
                         f"（GDAL、ArcGIS、QGIS 都按字节截断），已去掉残缺的字节、截断后重名的加 _2 等后缀读取为："
                         f"{'、'.join(fields.cut)}；请按这些字段名在目录的 columns 中映射到标准字段，或请提供部门改交 "
                         "GeoPackage / File Geodatabase 以保留完整字段名", entry.name, path)
        return read_shapefile(source, columns=columns, **kwargs)

    def ogr_info(self, entry, path: Path, source: Any, **kwargs: Any) -> dict[str, Any]:
        """Describe with :func:`shapefile_info` (cut field names decoded as for reading).

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            The ``.shp`` file as delivered.
        source : pathlib.Path
            The ``.shp`` to open.
        **kwargs
            ``encoding`` (from :meth:`ogr_kwargs`).

        Returns
        -------
        dict
            As :func:`pyogrio.read_info`.
        """
        return shapefile_info(source, **kwargs)

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
