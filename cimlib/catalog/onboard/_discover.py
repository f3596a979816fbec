"""Walk a delivery folder: every file, every layer of a GeoPackage or File Geodatabase, every sheet of a workbook.

For each dataset found, :func:`discover` returns a :class:`Source`: the catalog format and the reader options it
needs (``layer``, ``sheet``, ``header``, ``encoding``, ``sep``), the column names exactly as the reader will return
them, a sample of the first rows, geometry type, CRS and row count. A folder named ``*.gdb`` is one dataset
container, not a folder to walk; a shapefile's sidecar files go with it; files that cannot be used are listed with
the reason (:class:`Skipped`). Nothing is written anywhere.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cimlib.geo import gauss_kruger_crs, gauss_kruger_zone, zone_epsg

from ._header import find_header, looks_like_labels, period_of

__all__ = ["Source", "Skipped", "discover", "SAMPLE_ROWS", "crs_text", "distinct_values"]

#: Rows read from each dataset for value detection.
SAMPLE_ROWS = 1000
_GRID_ROWS = 40
_HEAD_BYTES = 4 << 20

_SHP_SIDECARS = {".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".fix", ".atx", ".ain", ".aih", ".ixs",
                 ".mxs", ".xml", ".qmd", ".qpj", ".lock"}
_SKIP_REASONS = {
    (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz"): "压缩包：请解压后再运行 cim catalog init",
    (".mdb", ".accdb"): "Access 数据库或个人地理数据库（.mdb）：工作台不支持，请导出为 File Geodatabase、GeoPackage 或 Excel",
    (".dwg", ".dxf", ".dgn"): "CAD 图形文件：请由自规部门转为 GIS 图层（File Geodatabase 或 GeoPackage）",
    (".kml", ".kmz"): "KML 文件：请转为 GeoJSON 或 GeoPackage",
    (".doc", ".docx", ".pdf", ".ppt", ".pptx", ".wps", ".md", ".rtf", ".htm", ".html"): "文档，不是数据文件",
    (".jpg", ".jpeg", ".png", ".gif", ".bmp"): "图片，不是数据文件",
    (".nc", ".nc4"): "netCDF 栅格数据：请在目录中手工登记（format: netcdf）",
    (".osgb", ".b3dm", ".obj", ".fbx", ".3ds", ".max", ".ifc", ".rvt", ".skp"): "三维模型文件：工作台只读取模型的属性与底面",
}


@dataclass
class Source:
    """One dataset of the delivery, as the catalog reader will see it.

    Attributes
    ----------
    path : pathlib.Path
        File (or ``.gdb`` / partitioned folder).
    format : str
        Catalog format name (``xlsx``, ``csv``, ``shapefile``, ``gpkg``, ``filegdb``, ``geojson``, ``parquet``,
        ``geoparquet``, ``geotiff``).
    layer : str or None
        GeoPackage/FileGDB layer or Excel sheet.
    options : dict
        Reader options the entry needs.
    columns : list of str
        Column names as the reader returns them (geometry excluded).
    sample : pandas.DataFrame
        First rows (up to :data:`SAMPLE_ROWS`), source column names, no geometry.
    geometry_type : str or None
        OGC base type (``Polygon``, ``Point``, ``LineString``) or ``None``.
    bounds : tuple of float or None
        Extent of the sampled geometries.
    crs : pyproj.CRS or None
        CRS found in the file.
    rows : int or None
        Record count (approximate for text files).
    encoding : str or None
        Text encoding found (CSV, shapefile ``.dbf``).
    title : str or None
        Title row above the header (registers).
    period : str or None
        ``YYYY-MM`` named in the title or file name.
    header_rows : int
        Rows above the data (title and header).
    notes : list of str
        What was found or assumed (Chinese).
    """

    path: Path
    format: str
    layer: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    sample: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    geometry_type: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    crs: Any = None
    rows: int | None = None
    encoding: str | None = None
    title: str | None = None
    period: str | None = None
    header_rows: int = 1
    notes: list[str] = field(default_factory=list)

    def label(self, root: Path | None = None) -> str:
        """``relative/path.xlsx`` with ``[layer]`` when the file holds several datasets."""
        try:
            shown = self.path.relative_to(root).as_posix() if root else self.path.as_posix()
        except ValueError:
            shown = self.path.as_posix()
        return f"{shown}[{self.layer}]" if self.layer else shown

    def context(self, root: Path | None = None) -> list[str]:
        """Names that say what the dataset is: folders under ``root``, file stem, layer or sheet, title."""
        parts: list[str] = []
        try:
            rel = self.path.relative_to(root) if root else Path(self.path.name)
        except ValueError:
            rel = Path(self.path.name)
        parts.extend(p for p in rel.parent.parts if p not in (".", ""))
        parts.append(self.path.name.split(".")[0])
        if self.layer:
            parts.append(str(self.layer))
        if self.title:
            parts.append(self.title)
        return parts


@dataclass
class Skipped:
    """A file that was not scaffolded, and why.

    Attributes
    ----------
    path : pathlib.Path
    reason : str
        Chinese, saying what to do.
    """

    path: Path
    reason: str


# --------------------------------------------------------------------------------------------- walking


def discover(folder: str | os.PathLike, *, sample_rows: int = SAMPLE_ROWS) -> tuple[list[Source], list[Skipped]]:
    """Find every dataset under a folder.

    Parameters
    ----------
    folder : str or os.PathLike
        Delivery folder (read only).
    sample_rows : int, default :data:`SAMPLE_ROWS`
        Rows sampled per dataset.

    Returns
    -------
    (list of Source, list of Skipped)
        Datasets in path order (layers and sheets in file order), and the files left out with the reason.
    """
    root = Path(folder).expanduser().resolve()
    sources: list[Source] = []
    skipped: list[Skipped] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        keep = []
        for name in sorted(dirnames):
            sub = here / name
            if name.startswith(".") or name in ("__MACOSX", "__pycache__"):
                continue
            if name.lower().endswith(".gdb"):
                _guard(sources, skipped, sub, lambda p=sub: _ogr_sources(p, "filegdb", sample_rows))
            elif _is_partitioned(sub):
                _guard(sources, skipped, sub, lambda p=sub: [_parquet_source(p, sample_rows)])
            else:
                keep.append(name)
        dirnames[:] = keep
        stems = {Path(f).stem.lower() for f in filenames if f.lower().endswith(".shp")}
        for name in sorted(filenames):
            path = here / name
            lower = name.lower()
            suffix = Path(lower).suffix
            if name.startswith(".") or name.startswith("~$"):
                if name.startswith("~$"):
                    skipped.append(Skipped(path, "Excel 的临时锁定文件（文件正被打开），已忽略"))
                continue
            if suffix in _SHP_SIDECARS or lower.endswith(".shp.xml"):
                if lower.split(".")[0] in stems or Path(lower).stem.split(".")[0] in stems:
                    continue
                if suffix == ".dbf":
                    skipped.append(Skipped(path, "只有 .dbf 属性表，缺少同名 .shp：请补齐 shapefile 的 .shp/.shx，或另存为 Excel"))
                    continue
                if suffix in (".shx", ".prj", ".cpg"):
                    skipped.append(Skipped(path, "shapefile 的附属文件，缺少同名 .shp"))
                    continue
            fmt = _format_of(path, suffix)
            if fmt is None:
                reason = next((r for sfx, r in _SKIP_REASONS.items() if suffix in sfx), None)
                skipped.append(Skipped(path, reason or f"无法识别的文件类型（{suffix or '无扩展名'}），已跳过"))
                continue
            if fmt == "shapefile":
                _guard(sources, skipped, path, lambda p=path: _ogr_sources(p, "shapefile", sample_rows))
            elif fmt == "gpkg":
                _guard(sources, skipped, path, lambda p=path: _ogr_sources(p, "gpkg", sample_rows))
            elif fmt == "geojson":
                _guard(sources, skipped, path, lambda p=path: _ogr_sources(p, "geojson", sample_rows))
            elif fmt == "xlsx":
                _guard(sources, skipped, path, lambda p=path: _excel_sources(p, sample_rows, skipped))
            elif fmt == "csv":
                _guard(sources, skipped, path, lambda p=path: _csv_sources(p, sample_rows, skipped))
            elif fmt == "parquet":
                _guard(sources, skipped, path, lambda p=path: [_parquet_source(p, sample_rows)])
            elif fmt == "geotiff":
                _guard(sources, skipped, path, lambda p=path: [_raster_source(p)])
    return sources, skipped


def _guard(sources: list[Source], skipped: list[Skipped], path: Path, read) -> None:
    """Add what ``read()`` finds, or a skip note with the reason when the file cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sources.extend(s for s in read() if s is not None)
    except _Unusable as exc:
        skipped.append(Skipped(path, str(exc)))
    except Exception as exc:  # any library error: the file is listed with the library's text kept
        skipped.append(Skipped(path, f"无法读取，已跳过（{type(exc).__name__}: {str(exc)[:200]}）"))


class _Unusable(Exception):
    """A file that is not a usable dataset; the message says why (Chinese)."""


def _format_of(path: Path, suffix: str) -> str | None:
    if suffix == ".shp":
        return "shapefile"
    if suffix == ".gpkg":
        return "gpkg"
    if suffix == ".geojson":
        return "geojson"
    if suffix == ".json":
        return "geojson" if _looks_geojson(path) else None
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "xlsx"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix in (".parquet", ".pq", ".geoparquet"):
        return "parquet"
    if suffix in (".tif", ".tiff"):
        return "geotiff"
    return None


def _looks_geojson(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", errors="ignore")
    except OSError:
        return False
    return '"FeatureCollection"' in head or '"Feature"' in head


def _is_partitioned(path: Path) -> bool:
    """A folder of hive partitions (``key=value`` sub-folders) holding Parquet parts."""
    try:
        children = [p for p in path.iterdir() if not p.name.startswith((".", "_"))]
    except OSError:
        return False
    return bool(children) and all(p.is_dir() and "=" in p.name for p in children) and any(path.rglob("*.parquet"))


# --------------------------------------------------------------------------------------------- CRS


def crs_text(crs: Any) -> tuple[str | None, str]:
    """How to write a file's CRS in the catalog: ``EPSG:n`` when identifiable and equivalent, else WKT.

    Parameters
    ----------
    crs : pyproj.CRS, str or None

    Returns
    -------
    (str or None, str)
        The text and a Chinese note (empty when an EPSG code was found).
    """
    import pyproj

    from ..readers._util import crs_equal

    if crs is None:
        return None, ""
    crs = crs if isinstance(crs, pyproj.CRS) else pyproj.CRS.from_user_input(crs)
    for confidence in (90, 70, 50):
        epsg = crs.to_epsg(min_confidence=confidence)
        if epsg is not None and crs_equal(crs, f"EPSG:{epsg}"):
            return f"EPSG:{epsg}", "" if confidence >= 70 else "EPSG 编号由坐标系参数匹配得到"
    return crs.to_wkt(), "文件坐标系没有 EPSG 编号（可能是城市独立坐标系），按 WKT 原样写出"


def _city_lonlat(city: str | None) -> tuple[float, float] | None:
    """Representative point (CGCS2000 lon/lat) of a county, from its real outline; ``None`` when unknown."""
    if not city:
        return None
    try:
        from cimlib.demo._outline import county_outline

        point = county_outline(city).geometry.representative_point()
        return float(point.x), float(point.y)
    except Exception:  # no outline for the code, or the boundary set is not installed
        return None


def _gk_without_prefix(x: float, y: float, city: str | None) -> tuple[str | None, str]:
    """The CGCS2000 Gauss-Krüger zone (3°, else 6°) whose central meridian puts the point in the city."""
    import pyproj

    where = _city_lonlat(city)
    if where is None:
        return None, "坐标为不带带号的高斯-克吕格平面坐标，无法判断中央经线：请在 crs 中写明（或用 --city 指定城市）"
    lon0, lat0 = where
    cm3, cm6 = 3 * gauss_kruger_zone(lon0, 3), 6 * gauss_kruger_zone(lon0, 6) - 3
    candidates = [(gauss_kruger_crs(lon0), f"3° 带中央经线 {cm3}°E"),
                  (gauss_kruger_crs(lon0, width=6), f"6° 带中央经线 {cm6}°E")]
    for code, label in candidates:
        lon, lat = pyproj.Transformer.from_crs(code, "EPSG:4490", always_xy=True).transform(x, y)
        if abs(lon - lon0) < 1.5 and abs(lat - lat0) < 1.5:
            return code, (f"坐标为不带带号的高斯-克吕格平面坐标，按城市 {city} 所在位置判定为 CGCS2000 {label}"
                          f"（{code}）")
    return None, "坐标为不带带号的高斯-克吕格平面坐标，按城市所在位置的 3°/6° 带都对不上：请在 crs 中写明"


def guess_crs(xs: np.ndarray, ys: np.ndarray, city: str | None = None) -> tuple[str | None, str]:
    """A CRS for coordinates without one, from their magnitude (and the city's location).

    Parameters
    ----------
    xs, ys : numpy.ndarray
        Easting/longitude and northing/latitude samples.
    city : str, optional
        Six-digit county code: metres without a zone prefix are tried in the city's 3° and 6° zones.

    Returns
    -------
    (str or None, str)
        ``EPSG:4490`` for degrees within China, a CGCS2000 Gauss-Krüger zone for metres with a zone prefix (or
        without one, from the city's location), else ``None``; with a Chinese note.
    """
    xs, ys = xs[np.isfinite(xs) & np.isfinite(ys)], ys[np.isfinite(xs) & np.isfinite(ys)]
    if xs.size == 0:
        return None, "没有可用的坐标"
    x, y = float(np.median(xs)), float(np.median(ys))
    if 73 <= x <= 136 and 3 <= y <= 54:
        return "EPSG:4490", "坐标为中国范围内的经纬度，按 CGCS2000 地理坐标（EPSG:4490）处理"
    zone = int(x // 1_000_000)
    if 25 <= zone <= 45 and 2_000_000 <= y <= 6_000_000:
        return (f"EPSG:{zone_epsg(zone, 3, zone_prefix=True)}",
                f"坐标为带带号的高斯-克吕格平面坐标（3° 带第 {zone} 带），按 CGCS2000 处理")
    if 13 <= zone <= 23 and 2_000_000 <= y <= 6_000_000:
        return (f"EPSG:{zone_epsg(zone, 6, zone_prefix=True)}",
                f"坐标为带带号的高斯-克吕格平面坐标（6° 带第 {zone} 带），按 CGCS2000 处理")
    if 200_000 <= x <= 800_000 and 2_000_000 <= y <= 6_000_000:
        return _gk_without_prefix(x, y, city)
    return None, "无法由坐标范围判断坐标系"


# --------------------------------------------------------------------------------------------- GDAL layers


def _geometry_base(name: str | None) -> str | None:
    if not name or name in ("Unknown", "None"):
        return None
    text = name.replace("3D ", "").replace(" Z", "").replace(" M", "").replace("25D", "").strip()
    for base in ("Polygon", "LineString", "Point"):
        if base in text:
            return base
    return text or None


def _ogr_sources(path: Path, fmt: str, sample_rows: int) -> list[Source]:
    import pyogrio

    kwargs: dict[str, Any] = {}
    options: dict[str, Any] = {}
    notes: list[str] = []
    encoding = None
    if fmt == "shapefile":
        from ..readers.shapefile import _sidecar, cut_field_names, detect_dbf_encoding

        if _sidecar(path, ".shx") is None:
            raise _Unusable("shapefile 缺少 .shx 索引文件：请向部门索取 .shx，或由读取时重建（SHAPE_RESTORE_SHX）")
        if _sidecar(path, ".dbf") is None:
            raise _Unusable("shapefile 缺少 .dbf 属性表：没有属性的图层无法映射字段，请向部门索取 .dbf")
        encoding = detect_dbf_encoding(path)  # field names judged as well as records
        kwargs["encoding"] = encoding
        cut = cut_field_names(path, encoding)
        if cut is not None and cut.cut:
            notes.append(f"字段名被 10 字节上限截断在汉字中间（UTF-8），按完整的字读取：{'、'.join(cut.cut)}")
        if _sidecar(path, ".cpg") is None and encoding.upper() not in ("UTF-8", "UTF8"):
            options["encoding"] = "GBK" if encoding.upper() in ("GB18030", "CP936", "GBK") else encoding
            notes.append(f".dbf 属性为 {options['encoding']} 编码（没有 .cpg 文件）")
        if _sidecar(path, ".prj") is None:
            notes.append("没有 .prj 坐标系文件")
    layers: list[str | None]
    if fmt in ("gpkg", "filegdb"):
        listed = pyogrio.list_layers(path)
        layers = [str(row[0]) for row in listed]
        if not layers:
            raise _Unusable("数据库中没有图层")
    else:
        layers = [None]
    read_info, read_dataframe = pyogrio.read_info, pyogrio.read_dataframe
    if fmt == "shapefile":
        from ..readers.shapefile import read_shapefile as read_dataframe, shapefile_info as read_info
    out = []
    for layer in layers:
        lk = dict(kwargs)
        if layer is not None:
            lk["layer"] = layer
        try:
            info = read_info(path, **lk)
            frame = read_dataframe(path, max_features=sample_rows, **lk)
        except UnicodeDecodeError as exc:
            if fmt == "shapefile":
                raise _Unusable(f"属性值不能按 {encoding} 解码：.cpg 声明的编码或自动判断的编码与文件实际编码不符；"
                                "请向部门确认导出编码（常见为 GBK 或 UTF-8），在目录中用 options.encoding 声明"
                                f"（{exc}）") from exc
            raise
        geometry = None
        bounds = None
        if "geometry" in getattr(frame, "columns", []) and hasattr(frame, "geometry"):
            geoms = frame.geometry
            valid = geoms[geoms.notna() & ~geoms.is_empty] if len(geoms) else geoms
            geometry = _geometry_base(info.get("geometry_type"))
            if geometry is None and len(valid):
                geometry = _geometry_base(valid.geom_type.mode().iloc[0])
            if len(valid):
                b = valid.total_bounds
                bounds = tuple(float(v) for v in b)
        sample = pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))
        rows = info.get("features")
        if rows is None or rows < 0:
            rows = len(read_dataframe(path, read_geometry=False, columns=[], **lk))
        crs = info.get("crs")
        src = Source(path=path, format=fmt, layer=layer, options=dict(options), columns=[str(c) for c in sample.columns],
                     sample=sample, geometry_type=geometry, bounds=bounds, crs=crs, rows=int(rows), encoding=encoding,
                     notes=list(notes), period=period_of(path.stem) or period_of(layer))
        if layer is not None:
            src.options["layer"] = layer
        out.append(src)
    return out


# --------------------------------------------------------------------------------------------- Excel


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _excel_sources(path: Path, sample_rows: int, skipped: list[Skipped]) -> list[Source]:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == _OLE2:
        engine = "xlrd"
    elif head[:2] == b"PK":
        engine = "openpyxl"
    else:
        raise _Unusable("文件名为 Excel，内容却不是 Excel 工作簿（可能是改了扩展名的 CSV/HTML）：请按实际格式另存")
    return _excel_sources_calamine(path, sample_rows, skipped, engine)


def _cell(value: Any) -> Any:
    """A cell as the Excel reader gives it: whole floats as ``int``, dates as ``datetime``, empty as ``None``."""
    import datetime as dt

    if value == "" or value is None:
        return None
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    return value


def _excel_sources_calamine(path: Path, sample_rows: int, skipped: list[Skipped], engine: str) -> list[Source]:
    """Sheets read with python-calamine, as the xlsx reader reads them (merged cells filled, pandas' parser)."""
    from pandas.io.parsers import TextParser
    from python_calamine import CalamineWorkbook

    from ..readers.xlsx import flatten_header

    try:
        with open(path, "rb") as fh:
            book = CalamineWorkbook.from_filelike(fh)
    except Exception as exc:
        if engine == "xlrd":
            raise _Unusable("无法打开该 Excel 文件：可能设置了打开密码（加密的工作簿），请去掉密码并另存为 .xlsx"
                            f"（{type(exc).__name__}: {str(exc)[:120]}）") from exc
        raise
    out = []
    try:
        for sheet in book.sheet_names:
            ws = book.get_sheet_by_name(sheet)
            raw = ws.to_python(skip_empty_area=False, nrows=_GRID_ROWS + sample_rows + 2)
            rows = [[_cell(v) for v in row] for row in raw]
            while rows and all(v is None for v in rows[-1]):
                rows.pop()
            if not rows:
                skipped.append(Skipped(path, f"工作表“{sheet}”为空，已跳过"))
                continue
            merged = list(ws.merged_cell_ranges or [])
            guess = find_header(rows[:_GRID_ROWS])
            top = guess.header if isinstance(guess.header, int) else guess.header[0]
            if (isinstance(guess.header, int) and top + 1 < len(rows) and looks_like_labels(rows[top + 1])
                    and any(r0 == top and (c1 > c0 or r1 > r0) for (r0, c0), (r1, c1) in merged)):
                guess.header = [top, top + 1]
                guess.data_start = top + 2
                guess.notes.append(f"表头第 {top + 1} 行含合并单元格，按两行表头读取（列名为“上级_下级”）")
            header = guess.header
            for (r0, c0), (r1, c1) in merged:  # fill merged ranges as the reader does
                if r0 < len(rows) and c0 < len(rows[r0]):
                    value = rows[r0][c0]
                    for r in range(r0, min(r1, len(rows) - 1) + 1):
                        for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                            rows[r][c] = value
            if isinstance(header, list):
                control = [True] * len(rows[0])
                for r in header:
                    last = rows[r][0]
                    for i in range(1, len(rows[r])):
                        if not control[i]:
                            last = rows[r][i]
                        if rows[r][i] is None:
                            rows[r][i] = last
                        else:
                            control[i] = False
                            last = rows[r][i]
            data_start = guess.data_start
            if len(rows) <= data_start:
                skipped.append(Skipped(path, f"工作表“{sheet}”只有表头、没有数据，已跳过"))
                continue
            frame = TextParser(rows[: data_start + sample_rows], header=header, skip_blank_lines=False,
                               dtype=object).read()
            if isinstance(header, list):
                frame.columns = flatten_header(frame.columns)
            frame = frame.dropna(how="all")
            if frame.empty:
                skipped.append(Skipped(path, f"工作表“{sheet}”只有表头、没有数据，已跳过"))
                continue
            height = int(ws.height) if ws.height is not None else None
            options: dict[str, Any] = {"sheet": sheet}
            if header != 0:
                options["header"] = header
            out.append(Source(path=path, format="xlsx", layer=str(sheet), options=options,
                              columns=[str(c) for c in frame.columns], sample=frame.reset_index(drop=True),
                              rows=max(height - data_start, 0) if height is not None else None, title=guess.title,
                              period=guess.period or period_of(str(sheet)) or period_of(path.stem),
                              header_rows=data_start, notes=list(guess.notes)))
    finally:
        book.close()
    return out


# --------------------------------------------------------------------------------------------- CSV


def _text_encoding(path: Path) -> str:
    """Encoding of a text file from its first bytes: BOM, UTF-8, GBK/GB18030, else charset-normalizer's guess."""
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return name
    for name in ("utf-8", "gbk", "gb18030"):
        try:
            codecs.getincrementaldecoder(name)(errors="strict").decode(head, final=len(head) < _HEAD_BYTES)
            return name
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise _Unusable("无法识别文本编码（既非 UTF-8 也非 GBK）")
    return best.encoding


def _sniff_sep(lines: list[str]) -> str:
    """The delimiter that splits the lines into the most, equal, fields (``,``, tab, ``;`` or ``|``)."""
    best, best_key = ",", (-1.0, 0)
    for sep in (",", "\t", ";", "|"):
        counts = [len(row) for row in csv.reader(lines, delimiter=sep) if row]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        consistent = counts.count(mode) / len(counts)
        if mode < 2:
            continue
        key = (consistent, mode)
        if key > best_key:
            best, best_key = sep, key
    return best


def _csv_sources(path: Path, sample_rows: int, skipped: list[Skipped]) -> list[Source]:
    from ..readers import READERS

    if path.stat().st_size == 0:
        raise _Unusable("文件为空（0 字节），请向部门重新索取")
    encoding = _text_encoding(path)
    with open(path, "rb") as fh:
        head = fh.read(256 << 10)
    text = head.decode(encoding, errors="ignore")
    lines = [ln for ln in text.splitlines()[:_GRID_ROWS + 20] if ln.strip()]
    if len(text) >= (256 << 10) - 4 and lines:
        lines = lines[:-1]  # the last line may be cut
    if not lines:
        raise _Unusable("文件没有内容")
    sep = _sniff_sep(lines[1:] if len(lines) > 3 else lines)
    grid = [row for row in csv.reader(lines[:_GRID_ROWS], delimiter=sep)]
    if max((len(r) for r in grid), default=0) < 2:
        raise _Unusable("不是表格（每行只有一列）：若为说明文字可忽略；若为数据，请确认分隔符")
    guess = find_header(grid)
    header = guess.header
    notes = list(guess.notes)
    frame = pd.read_csv(path, sep=sep, encoding=encoding, header=header, nrows=sample_rows, dtype=str,
                        skip_blank_lines=True, on_bad_lines="skip", encoding_errors="replace")
    if isinstance(header, list):
        from ..readers.csv import csv_header_names

        frame.columns = csv_header_names(frame.columns)  # as the csv reader names them (group titles filled)
    options: dict[str, Any] = {}
    accepted = READERS["csv"].options if "csv" in READERS else {}
    if encoding not in ("utf-8", "utf-8-sig"):
        options["encoding"] = encoding
    if sep != ",":
        options["sep"] = sep
    if header != 0:
        if "header" in accepted:
            options["header"] = header
        else:
            notes.append(f"待确认：表头不在第 1 行（header={header}），csv 读取器不支持跳过标题行，"
                         "请删除文件上方的标题行后另存，或改用 Excel")
    rows = _count_lines(path) - (guess.data_start if isinstance(guess.data_start, int) else 1)
    sep_name = {"\t": "制表符", ";": "分号", "|": "竖线", ",": "逗号"}[sep]
    if sep != ",":
        notes.append(f"分隔符为{sep_name}")
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"文本编码为 {encoding}")
    return [Source(path=path, format="csv", options=options, columns=[str(c) for c in frame.columns], sample=frame,
                   rows=max(rows, 0), encoding=encoding, title=guess.title,
                   period=guess.period or period_of(path.stem), header_rows=guess.data_start, notes=notes)]


def _count_lines(path: Path) -> int:
    """Non-empty lines of a text file, counted in 1 MiB chunks."""
    n = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


# --------------------------------------------------------------------------------------------- Parquet, rasters


def _parquet_source(path: Path, sample_rows: int) -> Source:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if path.is_dir():
        dataset = ds.dataset(path, format="parquet", partitioning="hive")
        first = dataset.files[0]
        metadata = dict(pq.read_schema(first).metadata or {})
        rows = dataset.count_rows()
        table = dataset.head(sample_rows)
    else:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PAR1":
                raise _Unusable("扩展名为 .parquet，内容却不是 Parquet（缺少 PAR1 标记）：请确认文件的实际格式")
        pf = pq.ParquetFile(path)
        metadata = dict(pf.schema_arrow.metadata or {})
        rows = pf.metadata.num_rows
        batches = pf.iter_batches(batch_size=sample_rows)
        table = next(batches, None)
        import pyarrow as pa

        table = pa.Table.from_batches([table]) if table is not None else pf.schema_arrow.empty_table()
    geo = json.loads(metadata[b"geo"]) if b"geo" in metadata else None
    frame = table.to_pandas()
    src = Source(path=path, format="geoparquet" if geo else "parquet", rows=int(rows),
                 period=period_of(path.name))
    if geo:
        primary = geo.get("primary_column", "geometry")
        column = geo.get("columns", {}).get(primary, {})
        crs = column.get("crs", "OGC:CRS84")
        if crs is not None:
            import pyproj

            src.crs = pyproj.CRS.from_user_input(json.dumps(crs) if isinstance(crs, dict) else crs)
        types = column.get("geometry_types") or []
        if types:
            src.geometry_type = _geometry_base(types[0])
        if primary in frame.columns:
            import shapely

            geoms = shapely.from_wkb(frame[primary].to_numpy()) if frame[primary].dtype == object else None
            if geoms is not None and len(geoms):
                ok = geoms[~shapely.is_missing(geoms)]
                if len(ok):
                    src.bounds = tuple(float(v) for v in shapely.total_bounds(ok))
                    if src.geometry_type is None:
                        src.geometry_type = _geometry_base(ok[0].geom_type)
            frame = frame.drop(columns=[primary])
    src.sample = frame
    src.columns = [str(c) for c in frame.columns]
    return src


def _raster_source(path: Path) -> Source:
    import rasterio

    with rasterio.open(path) as ds:
        crs = ds.crs.to_wkt() if ds.crs else None
        bounds = tuple(float(v) for v in ds.bounds)
        notes = [f"栅格 {ds.width}×{ds.height}，{ds.count} 个波段，{ds.dtypes[0]}"]
    import pyproj

    return Source(path=path, format="geotiff", crs=pyproj.CRS.from_wkt(crs) if crs else None, bounds=bounds,
                  geometry_type="Raster", notes=notes, period=period_of(path.stem))



def distinct_values(source: Source, column: str, limit: int = 200) -> list[str] | None:
    """Every distinct value of one column over the whole dataset (as text), for coded-value maps.

    Only needed when the sample did not hold every row; reads that one column (a whole Excel sheet is parsed).

    Parameters
    ----------
    source : Source
    column : str
        Source column.
    limit : int, default 200
        More distinct values than this is not a code list: ``None`` is returned.

    Returns
    -------
    list of str or None
        Sorted values, ``None`` when unknown or too many.
    """
    from ._values import as_text

    try:
        if source.rows is not None and source.rows <= len(source.sample):
            series = source.sample[column]
        elif source.format == "csv":
            series = pd.read_csv(source.path, usecols=[column], dtype=str, sep=source.options.get("sep", ","),
                                 encoding=source.encoding or "utf-8", header=source.header_rows - 1,
                                 encoding_errors="replace", on_bad_lines="skip")[column]
        elif source.format in ("shapefile", "gpkg", "filegdb", "geojson"):
            from pyogrio import read_dataframe

            if source.format == "shapefile":
                from ..readers.shapefile import read_shapefile as read_dataframe
            kwargs = {k: v for k, v in (("layer", source.layer), ("encoding", source.encoding)) if v}
            series = read_dataframe(source.path, columns=[column], read_geometry=False, **kwargs)[column]
        elif source.format in ("parquet", "geoparquet"):
            import pyarrow.dataset as ds

            table = ds.dataset(source.path, format="parquet", partitioning="hive").to_table(columns=[column])
            series = table.column(column).to_pandas()
        elif source.format == "xlsx":
            series = _excel_column(source, column)
        else:
            return None
    except Exception:
        return None
    values = as_text(series).unique().tolist()
    return sorted(values) if len(values) <= limit else None


def _excel_column(source: Source, column: str) -> pd.Series:
    """One column of a whole sheet, read with python-calamine (merged cells not filled: codes are not merged)."""
    from python_calamine import CalamineWorkbook

    position = source.columns.index(column)
    with open(source.path, "rb") as fh:
        book = CalamineWorkbook.from_filelike(fh)
    try:
        rows = book.get_sheet_by_name(str(source.layer)).to_python(skip_empty_area=False)
    finally:
        book.close()
    cells = [_cell(row[position]) if position < len(row) else None for row in rows[source.header_rows:]]
    return pd.Series(cells, dtype=object)
