"""Broken deliveries explained in the analyst's terms.

Departments break files in a few familiar ways: a workbook saved with an open password, a shapefile sent without
its ``.shx`` or with a ``.dbf`` cut short, a file renamed to the suffix the catalog asked for (CSV text or GeoJSON
under ``.parquet``, a workbook under ``.csv``), an empty export. The libraries then say ``CompDocError: Expected
"little-endian" marker`` or ``FeatureError: fread(701) failed on DBF file``, which tells an analyst nothing.

:func:`guarded` wraps every read and description of a file (:func:`cimlib.catalog._catalog._guarded`):

- before reading, the file's first bytes say what it really is (:func:`sniff`). An empty file or an encrypted
  workbook is refused at once with what to do; a file that is really another format the catalog reads is read
  as that format, with a :class:`~cimlib.catalog.CatalogWarning` (``SYS-007`` in the checks) saying so;
- when a reader fails, the file is looked at again (:func:`explain`) and the :class:`ReadError` says what is wrong
  and what to do, in Chinese, with the library's own text kept after it for specialists
  (``……（原始错误：FeatureError: fread(701) failed on DBF file）``).
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import CatalogError, ReadError, SourceNotFoundError
from .readers import get_reader
from .readers._util import catalog_warn

__all__ = ["guarded", "sniff", "explain", "KINDS"]

_HEAD = 1 << 16
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

#: Content kind -> (what it is, in Chinese; its short name; catalog format that reads it, ``None`` when none does).
KINDS: dict[str, tuple[str, str, str | None]] = {
    "parquet": ("Parquet 文件", "Parquet", "parquet"),
    "xlsx": ("Excel 工作簿（.xlsx）", "Excel", "xlsx"),
    "xls": ("Excel 97-2003 工作簿（.xls）", "Excel", "xlsx"),
    "encrypted": ("加密的 Office 文件", "", None),
    "gpkg": ("GeoPackage（SQLite）文件", "GeoPackage", "gpkg"),
    "netcdf": ("netCDF/HDF5 文件", "netCDF", "netcdf"),
    "tiff": ("TIFF/GeoTIFF 影像", "GeoTIFF", "geotiff"),
    "shp": ("Shapefile 的 .shp 主文件", "", None),
    "geojson": ("GeoJSON 文件", "GeoJSON", "geojson"),
    "json": ("JSON 文件（不是 GeoJSON）", "", None),
    "text": ("CSV 文本表格", "CSV", "csv"),
    "html": ("网页（HTML）表格，不是真正的 Excel 文件", "", None),
    "xml-excel": ("Excel 2003 XML 表格", "", None),
    "doc": ("Word 文档", "", None),
    "docx": ("Word 文档（.docx）", "", None),
    "pdf": ("PDF 文档", "", None),
    "zip": ("ZIP 压缩包", "", None),
    "zip-shapefile": ("ZIP 压缩包（内含 Shapefile）", "", None),
    "zip-gdb": ("ZIP 压缩包（内含文件地理数据库 .gdb）", "", None),
    "rar": ("RAR 压缩包", "", None),
    "7z": ("7z 压缩包", "", None),
    "gzip": ("gzip 压缩文件", "", None),
}

#: Catalog format -> content kinds its reader reads as they are.
_ACCEPTS: dict[str, frozenset[str]] = {
    "geoparquet": frozenset({"parquet"}),
    "parquet": frozenset({"parquet"}),
    "gpkg": frozenset({"gpkg"}),
    "shapefile": frozenset({"shp"}),
    "csv": frozenset({"text"}),
    "xlsx": frozenset({"xlsx", "xls"}),
    "netcdf": frozenset({"netcdf"}),
    "geotiff": frozenset({"tiff"}),
    "geojson": frozenset({"geojson", "json"}),
    "filegdb": frozenset({"zip", "zip-gdb"}),
}

_ARCHIVE_HINT = "请解压后把目录中该条目的 path 指向其中的数据文件"
_ASK_AGAIN = "请向提供部门重新索取"


# --------------------------------------------------------------------------- what a file really is


def sniff(path: Path) -> str | None:
    """What a file really is, from its content (magic bytes, and a look inside containers).

    Parameters
    ----------
    path : pathlib.Path
        A file.

    Returns
    -------
    str or None
        ``"empty"`` for a 0-byte file, a key of :data:`KINDS`, or ``None`` when the content is not recognised.
    """
    with open(path, "rb") as fh:
        head = fh.read(_HEAD)
    if not head:
        return "empty"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(_OLE2):
        names = _ole2_names(path)
        if {"EncryptionInfo", "EncryptedPackage"} & names:
            return "encrypted"
        if {"Workbook", "Book"} & names:
            return "xls"
        if "WordDocument" in names:
            return "doc"
        return "xls"  # an unreadable compound file: the Excel reader will say so
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(path)
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith((b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02")):
        return "netcdf"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if head[:4] == b"\x00\x00\x27\x0a":
        return "shp"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    text = _as_text(head, complete=len(head) < _HEAD)
    if text is None:
        return None
    start = text.lstrip("\ufeff \t\r\n")[:2048].lower()
    if start.startswith("{") or (start.startswith("[") and start[1:].lstrip()[:1] in ("{", "[", '"', "]")):
        sample = text[:_HEAD]
        if '"type"' in sample and ('"featurecollection"' in sample.lower() or '"feature"' in sample.lower()):
            return "geojson"
        return "json"
    if start.startswith(("<!doctype html", "<html", "<table", "<meta")):
        return "html"
    if start.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in start:
        return "xml-excel"
    return "text" if _looks_tabular(text) else None


def _looks_tabular(text: str) -> bool:
    """Whether text reads as a delimited table: consecutive lines sharing a delimiter the same number of times.

    Title or note lines above the header are allowed. A line of prose (``this is not parquet``) is text but no
    table: reading it as CSV would turn a broken file into an empty dataset instead of an error.
    """
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(lines) > 2 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the head may cut the last line
    for d in (",", ";", "\t", "|", "，"):
        counts = [line.count(d) for line in lines[:12]]
        if any(a == b > 0 for a, b in zip(counts, counts[1:])):
            return True
    return False


def _as_text(head: bytes, complete: bool) -> str | None:
    """The head of a file as text when it is UTF-8/UTF-16/GB18030 text without NUL bytes, else ``None``."""
    import codecs

    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    if b"\x00" in head:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return codecs.getincrementaldecoder(encoding)(errors="strict").decode(head, final=complete)
        except UnicodeDecodeError:
            continue
    return None


def _zip_kind(path: Path) -> str:
    """What a ZIP container holds: an Office document, a shapefile, a geodatabase, or anything else."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return "xlsx"  # a cut or damaged container under an Excel name: the Excel reader will say so
    lowered = [n.lower() for n in names]
    if "[content_types].xml" in lowered and any(n.startswith("xl/") for n in lowered):
        return "xlsx"
    if any(n.startswith("word/") for n in lowered):
        return "docx"
    if any(".gdb/" in n for n in lowered):
        return "zip-gdb"
    if any(n.endswith(".shp") for n in lowered):
        return "zip-shapefile"
    return "zip"


def _ole2_names(path: Path) -> set[str]:
    """Names of the storages and streams of an OLE2 compound file (its directory, followed through the FAT)."""
    names: set[str] = set()
    try:
        with open(path, "rb") as fh:
            header = fh.read(512)
            size = 1 << int.from_bytes(header[30:32], "little")
            if size not in (512, 4096):
                return names

            def sector(index: int) -> bytes:
                fh.seek((index + 1) * size)
                return fh.read(size)

            fat: list[int] = []
            for index in struct.unpack("<109I", header[76:512]):
                if index >= 0xFFFFFFFA:
                    break
                block = sector(index)
                fat.extend(struct.unpack(f"<{len(block) // 4}I", block[: len(block) // 4 * 4]))
            current, seen = int.from_bytes(header[48:52], "little"), set()
            while current < 0xFFFFFFFA and current not in seen and len(seen) < 4096:
                seen.add(current)
                block = sector(current)
                for offset in range(0, len(block) - 127, 128):
                    length = int.from_bytes(block[offset + 64: offset + 66], "little")
                    if 2 <= length <= 64:
                        names.add(block[offset: offset + length - 2].decode("utf-16-le", errors="replace"))
                current = fat[current] if current < len(fat) else 0xFFFFFFFE
    except (OSError, struct.error):
        pass
    if not names:  # damaged FAT: the stream names are still somewhere in the file
        with open(path, "rb") as fh:
            data = fh.read(_HEAD)
        for name in ("EncryptionInfo", "EncryptedPackage", "Workbook", "WordDocument"):
            if name.encode("utf-16-le") in data:
                names.add(name)
    return names


def _parquet_complete(path: Path) -> bool:
    """Whether a Parquet file ends with its footer magic (``PAR1``)."""
    with open(path, "rb") as fh:
        fh.seek(-4, 2) if path.stat().st_size >= 8 else fh.seek(0)
        return fh.read(4) == b"PAR1" and path.stat().st_size >= 12


def _parquet_format(path: Path) -> str:
    """``geoparquet`` when a Parquet file carries GeoParquet metadata, else ``parquet``."""
    import pyarrow.parquet as pq

    try:
        return "geoparquet" if b"geo" in (pq.read_schema(path).metadata or {}) else "parquet"
    except Exception:
        return "parquet"


# --------------------------------------------------------------------------- before reading


_ENCRYPTED = ("工作簿已加密（设置了打开密码），无法读取；请在 Excel 中打开后去除密码（文件→信息→保护工作簿→用密码进行加密，"
              "清空密码），另存为 .xlsx 后重新交付")


def _screen(entry, path: Path, fmt: str) -> str | None:
    """Look at a file before its reader: raise for an empty or encrypted file; the format to read it with when it
    is really another format the catalog reads (``None``: read as declared)."""
    kind = sniff(path)
    if kind is None or kind in _ACCEPTS.get(fmt, frozenset({kind})):
        return None
    if kind == "empty":
        raise ReadError(f"无法读取文件：文件为空（0 字节），没有表头也没有记录；可能是导出或传输中断，{_ASK_AGAIN}",
                        entry=entry.name, path=path)
    if kind == "encrypted":
        raise ReadError(f"无法读取文件：{_ENCRYPTED}", entry=entry.name, path=path)
    what, short, target = KINDS[kind]
    declared = f"目录声明格式为 {fmt}（文件名 {path.name}），但文件内容实为 {what}"
    if kind == "parquet" and not _parquet_complete(path):
        raise ReadError(f"无法读取文件：{declared}，且不完整（缺少文件尾），可能在复制或传输中被截断；{_ASK_AGAIN}", entry=entry.name, path=path)
    if kind == "parquet":
        target = _parquet_format(path)
    if target is None:
        todo = {"html": "请用 Excel 打开后另存为 .xlsx 再交付", "xml-excel": "请用 Excel 打开后另存为 .xlsx 再交付",
                "shp": "Shapefile 须连同同名的 .shx、.dbf、.prj 一起交付，目录的 path 指向 .shp",
                "zip-shapefile": _ARCHIVE_HINT + "（.shp，同名的 .shx/.dbf/.prj 放在一起）",
                "zip-gdb": _ARCHIVE_HINT + "（.gdb 文件夹，格式 filegdb）"}.get(kind)
        if todo is None and kind in ("zip", "rar", "7z", "gzip"):
            todo = _ARCHIVE_HINT
        raise ReadError(f"无法读取文件：{declared}，工作台不能按 {fmt} 读取；{todo or '请向提供部门索取目录所声明格式的文件'}",
                        entry=entry.name, path=path)
    catalog_warn(f"{declared}，已按 {short} 读取（格式 {target}）；请在目录中把 format 改为 {target}，"
                 "或请提供部门按声明的格式重新导出", entry.name, path)
    return target


# --------------------------------------------------------------------------- after a failure


def explain(exc: BaseException, entry, path: Path, fmt: str) -> ReadError:
    """The :class:`ReadError` for a reader's failure: what is wrong and what to do, the library's text after it.

    Parameters
    ----------
    exc : BaseException
        What the library raised.
    entry : CatalogEntry
        Catalog entry.
    path : pathlib.Path
        The file or folder read.
    fmt : str
        Catalog format it was read as.

    Returns
    -------
    ReadError
        ``无法读取文件：<what is wrong>；<what to do>（原始错误：<Type>: <text>）``; a failure not recognised keeps the
        library's text alone (``无法读取文件：<Type>: <text>``).
    """
    original = f"{type(exc).__name__}: {exc}"
    try:
        problem = _problem(exc, entry, path, fmt)
    except Exception:  # looking again must never hide the original failure
        problem = None
    text = f"无法读取文件：{problem}（原始错误：{original}）" if problem else f"无法读取文件：{original}"
    return ReadError(text, entry=entry.name, path=path)


def _problem(exc: BaseException, entry, path: Path, fmt: str) -> str | None:
    """What went wrong, in the analyst's terms, or ``None`` when it is not recognised."""
    name = type(exc).__name__
    text = str(exc)
    if path.is_file() and path.stat().st_size == 0:
        return f"文件为空（0 字节），没有表头也没有记录；{_ASK_AGAIN}"
    if name == "EmptyDataError":
        return f"文件为空：没有表头也没有记录；{_ASK_AGAIN}"
    if path.suffix.lower() == ".shp" or fmt == "shapefile":
        found = _shapefile_problem(entry, path)
        if found:
            return found
    if name == "PasswordError" or "encrypted" in text.lower() or "password" in text.lower():
        return _ENCRYPTED
    if path.is_file():
        kind = sniff(path)
        if kind == "encrypted":
            return _ENCRYPTED
        if kind == "parquet" and not _parquet_complete(path):
            return f"Parquet 文件不完整（缺少文件尾），可能在复制或传输中被截断；{_ASK_AGAIN}"
        if kind == "xlsx" and fmt == "xlsx" and not zipfile.is_zipfile(path):
            return f"Excel 工作簿已损坏或不完整（压缩结构缺失），可能在复制或传输中被截断；{_ASK_AGAIN}"
        if kind is None and fmt in ("xlsx", "parquet", "geoparquet", "gpkg", "netcdf", "geotiff"):
            return f"文件内容不是 {fmt} 格式（文件头不符），文件已损坏或格式写错；请核对目录中的 format，或{_ASK_AGAIN}"
        if kind == "gpkg" and fmt == "gpkg" and not _sqlite_intact(path):
            return f"GeoPackage 文件已损坏或不完整（SQLite 数据库校验不通过），可能在复制或传输中被截断；{_ASK_AGAIN}"
        if kind in ("geojson", "json") and fmt == "geojson":
            found = _json_problem(path)
            if found:
                return found
    if name == "ParserError":
        return "表格各行的列数不一致，可能是分隔符或引号不对；请核对 options.sep（逗号、分号、制表符、竖线）和文本中的引号"
    if name == "UnicodeDecodeError":
        return "文本编码无法识别；请在 options.encoding 中声明（如 gbk、utf-8）"
    return None


def _sqlite_intact(path: Path) -> bool:
    """Whether an SQLite file (a GeoPackage) passes SQLite's quick check, opened read-only."""
    import sqlite3

    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True) as db:
            return db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        return False


#: Largest GeoJSON parsed again to locate a syntax error.
_JSON_LIMIT = 256 << 20


def _json_problem(path: Path) -> str | None:
    """Where a GeoJSON file stops being valid JSON (a file cut short, a stray character), ``None`` if it is valid."""
    import json

    if path.stat().st_size > _JSON_LIMIT:
        return None
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) - 1
        where = f"第 {exc.lineno} 行第 {exc.colno} 列"
        if cut:
            return f"GeoJSON 文件不完整（在{where}处意外结束），可能在导出或传输中被截断；{_ASK_AGAIN}"
        return f"GeoJSON 文件不是有效的 JSON（{where}处语法错误）；请让提供部门重新导出"
    return None


def _shapefile_problem(entry, path: Path) -> str | None:
    """A missing ``.shx`` or ``.dbf``, a ``.dbf`` or ``.shp`` shorter than the others."""
    from .readers.shapefile import _sidecar, dbf_records, shp_records

    if not path.exists():
        return None
    shx = _sidecar(path, ".shx")
    if shx is None:
        return (f"缺少 .shx 索引文件（{path.stem}.shx）；请让提供部门补交同名的 .shx，或在目录的 options 中写 "
                "restore_shx: true，由工作台在临时副本中重建索引（交付的文件不会被改动）")
    offsets, _ = shp_records(path)
    indexed = max(shx.stat().st_size - 100, 0) // 8
    if len(offsets) < indexed:
        return (f"主文件 .shp 不完整（被截断）：索引 .shx 记有 {indexed} 条要素，.shp 中只有 {len(offsets)} 条完整要素；"
                "请让提供部门重新导出整套 Shapefile（.shp/.shx/.dbf/.prj）")
    dbf = _sidecar(path, ".dbf")
    if dbf is not None:
        announced, present = dbf_records(dbf)
        expected = max(indexed, announced)
        if present < expected:
            return (f"属性表 .dbf 不完整（被截断）：.shp 中有 {indexed} 条要素，.dbf 中只有 {present} 条完整记录"
                    f"（文件头记为 {announced} 条）；请让提供部门重新导出整套 Shapefile（.shp/.shx/.dbf/.prj）")
    return None


# --------------------------------------------------------------------------- the one entry point


def guarded(method: Callable[..., Any], entry, path: Path, *args: Any) -> Any:
    """Call a reader's ``open`` or ``describe`` on a file, diagnosing what a department's file really is.

    Parameters
    ----------
    method : callable
        A bound reader method, ``method(entry, path, *args)``.
    entry : CatalogEntry
        Catalog entry.
    path : pathlib.Path or object
        The file or folder (a database source for a remote reader: passed through untouched).
    *args
        Further arguments of the method.

    Returns
    -------
    object
        What the method returns (or the same method of the reader of the format the file really is).

    Raises
    ------
    CatalogError
        As raised by the reader, or for an empty, encrypted or unreadable file.
    SourceNotFoundError
        If a file disappears while being read.
    ReadError
        For any other failure, explained by :func:`explain`.
    """
    fmt = entry.format
    try:
        if isinstance(path, Path) and path.is_file():
            target = _screen(entry, path, fmt)
            if target is not None:
                fmt = target
                method = getattr(get_reader(target)(), method.__name__)
        return method(entry, path, *args)
    except CatalogError:
        raise
    except FileNotFoundError as exc:
        raise SourceNotFoundError(f"文件不存在或不完整：{exc}", entry=entry.name, path=path) from exc
    except MemoryError:
        raise
    except Exception as exc:
        if not isinstance(path, Path):
            raise ReadError(f"无法读取文件：{type(exc).__name__}: {exc}", entry=entry.name, path=path) from exc
        raise explain(exc, entry, path, fmt) from exc
