"""Helpers shared by the format readers: CRS handling, text encodings, string columns, point geometry."""

from __future__ import annotations

import codecs
import functools
import os
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from ..errors import CatalogWarning, ReadError, format_message

__all__ = [
    "parse_crs",
    "as_pyproj_crs",
    "crs_label",
    "crs_equal",
    "catalog_warn",
    "detect_text_encoding",
    "decodes",
    "is_utf8",
    "normalize_encoding",
    "as_str_columns",
    "points_from_columns",
    "string_columns",
    "with_columns",
    "list_files",
]

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- CRS


@functools.lru_cache(maxsize=128)
def parse_crs(value: str) -> pyproj.CRS:
    """Parse a declared CRS (``EPSG:4490``, WKT, PROJ string, ...) with pyproj.

    Parameters
    ----------
    value : str
        CRS as written in the catalog.

    Returns
    -------
    pyproj.CRS
        The parsed CRS.

    Raises
    ------
    pyproj.exceptions.CRSError
        If pyproj cannot parse ``value``.
    """
    return pyproj.CRS.from_user_input(value)


def as_pyproj_crs(crs: object) -> pyproj.CRS:
    """Convert a CRS object from any GIS library (pyproj, rasterio, WKT string) to :class:`pyproj.CRS`.

    Parameters
    ----------
    crs : object
        A pyproj or rasterio CRS, WKT, or anything :meth:`pyproj.CRS.from_user_input` accepts.

    Returns
    -------
    pyproj.CRS
    """
    if isinstance(crs, pyproj.CRS):
        return crs
    to_wkt = getattr(crs, "to_wkt", None)
    if callable(to_wkt):
        return pyproj.CRS.from_wkt(to_wkt())
    return pyproj.CRS.from_user_input(crs)


@functools.lru_cache(maxsize=256)
def _authority_of_wkt(wkt: str, min_confidence: int) -> tuple[str, str] | None:
    return pyproj.CRS.from_wkt(wkt).to_authority(min_confidence=min_confidence)


def _authority(crs: pyproj.CRS, min_confidence: int) -> tuple[str, str] | None:
    """``crs.to_authority`` remembered per definition: PROJ's identification takes 0.2 s for a city's own CRS."""
    try:
        wkt = crs.to_wkt()
    except pyproj.exceptions.CRSError:
        return crs.to_authority(min_confidence=min_confidence)
    return _authority_of_wkt(wkt, min_confidence)


def _proj_string(crs: pyproj.CRS) -> str | None:
    """PROJ string of a CRS (``+towgs84`` included for a bound CRS), without PROJ's lossy-export warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            text = crs.to_proj4()
        except pyproj.exceptions.CRSError:
            return None
    return text.replace(" +no_defs", "").replace(" +type=crs", "").strip() if text else None


def _unknown_datum(crs: pyproj.CRS) -> bool:
    datum = crs.datum
    name = (datum.name if datum is not None else "") or ""
    return name.lower().removeprefix("d_").startswith(("unknown", "not specified", "not_specified"))


def _same_datum(a: pyproj.CRS | None, b: pyproj.CRS | None) -> bool:
    """Same geodetic CRS; a datum left unnamed (a PROJ string's ``+ellps=GRS80``) matches any on its ellipsoid."""
    if a is None or b is None:
        return False
    if a.equals(b, ignore_axis_order=True):
        return True
    if not (_unknown_datum(a) or _unknown_datum(b)):
        return False
    ea, eb = a.ellipsoid, b.ellipsoid
    pa, pb = a.prime_meridian, b.prime_meridian
    return (ea is not None and eb is not None and abs(ea.semi_major_metre - eb.semi_major_metre) < 1e-3
            and abs(ea.semi_minor_metre - eb.semi_minor_metre) < 1e-3
            and (pa is None or pb is None or abs(pa.longitude - pb.longitude) < 1e-9))


def _same_definition(a: pyproj.CRS, b: pyproj.CRS) -> bool:
    """Same projection, parameters and datum, whatever the axis order and names (a ``.prj`` against EPSG)."""
    if (a.is_projected, a.is_geographic, a.is_bound) != (b.is_projected, b.is_geographic, b.is_bound):
        return False
    pa, pb = _proj_string(a), _proj_string(b)
    if pa is None or pa != pb:
        return False
    return _same_datum(a.geodetic_crs, b.geodetic_crs)


def crs_label(crs: object | None) -> str | None:
    """Short human-readable label of a CRS: ``EPSG:4490`` when identifiable, otherwise its name or PROJ string.

    A CRS written with easting/northing axes (a ``.prj``, WKT1) is labelled with the EPSG code it matches
    (``EPSG:4526``); a city's local system without a name by its PROJ string, ``+towgs84`` parameters included.

    Parameters
    ----------
    crs : object or None
        A pyproj/rasterio CRS, or anything pyproj accepts.

    Returns
    -------
    str or None
        ``AUTHORITY:CODE``, the CRS name or PROJ string, or ``None`` when ``crs`` is ``None``.
    """
    if crs is None:
        return None
    crs = as_pyproj_crs(crs)
    authority = _authority(crs, 70)
    if authority is not None:
        return f"{authority[0]}:{authority[1]}"
    if not crs.is_bound:
        candidate = _authority(crs, 20)  # axis order lowers PROJ's confidence: check it ourselves
        if candidate is not None and _same_definition(crs, pyproj.CRS.from_authority(*candidate)):
            return f"{candidate[0]}:{candidate[1]}"
    name = crs.name or ""
    if crs.is_bound:
        return _proj_string(_bound_to_wgs84(crs)) or name or crs.to_wkt()
    if name.lower() in ("", "unknown", "custom", "unnamed") or name.lower().startswith("unknown"):
        return _proj_string(crs) or name or crs.to_wkt()
    return name


def _bound_to_wgs84(crs: pyproj.CRS) -> pyproj.CRS:
    """A bound CRS with its parameters written against WGS 84 (so its PROJ string shows them as ``+towgs84``)."""
    hub = crs.target_crs
    if hub is None or hub.equals("EPSG:4326", ignore_axis_order=True):
        return crs
    doc = crs.to_json_dict()
    doc["target_crs"] = pyproj.CRS.from_epsg(4326).to_json_dict()
    try:
        return pyproj.CRS.from_json_dict(doc)
    except pyproj.exceptions.CRSError:
        return crs


def crs_equal(a: object, b: object) -> bool:
    """Tell whether two CRS are the same, ignoring axis order and names.

    ``EPSG:4490`` lat/lon equals lon/lat, ``EPSG:4526`` (northing, easting) equals the ESRI ``.prj``
    ``CGCS2000_3_Degree_GK_Zone_38`` (easting, northing); a datum left unnamed in a PROJ string (``+ellps=GRS80``)
    equals a named one on the same ellipsoid. When only one side carries transformation parameters (``+towgs84``:
    the catalog declares them, a ``.prj`` cannot hold them), the CRS without them is compared.

    Parameters
    ----------
    a, b : object
        CRS objects or anything pyproj accepts.

    Returns
    -------
    bool
        ``True`` when pyproj finds them equivalent, both resolve to the same authority code, or their definitions
        (projection, parameters, datum) agree.
    """
    ca, cb = as_pyproj_crs(a), as_pyproj_crs(b)
    if ca.is_bound != cb.is_bound:
        ca, cb = (ca.source_crs if ca.is_bound else ca), (cb.source_crs if cb.is_bound else cb)
    if ca.equals(cb, ignore_axis_order=True):
        return True
    auth_a, auth_b = _authority(ca, 90), _authority(cb, 90)
    if auth_a is not None and auth_a == auth_b:
        return True
    return _same_definition(ca, cb)


def catalog_warn(problem: str, entry: str | None, path: str | os.PathLike | None) -> None:
    """Emit a :class:`CatalogWarning` naming entry and file, attributed to the caller outside this package.

    Parameters
    ----------
    problem : str
        What was assumed, in Chinese.
    entry : str or None
        Entry name.
    path : str, os.PathLike or None
        File concerned.
    """
    level = 1
    frame = sys._getframe(0)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(format_message(problem, entry, path, "CatalogWarning"), CatalogWarning, stacklevel=level)


# --------------------------------------------------------------------------- text encodings

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def normalize_encoding(name: str) -> str:
    """Normalise an encoding name as found in ``.cpg`` files or options (``936`` -> ``CP936``, ``65001`` -> ``UTF-8``).

    Parameters
    ----------
    name : str
        Encoding name or Windows code page number.

    Returns
    -------
    str
        Encoding name understood by Python codecs and GDAL.
    """
    name = name.strip().strip("\ufeff").strip()
    if name.isdigit():
        return "UTF-8" if name == "65001" else f"CP{name}"
    return name


def is_utf8(encoding: str) -> bool:
    """Whether a codec name designates UTF-8, with or without BOM (``utf-8``, ``UTF8``, ``utf-8-sig``).

    Parameters
    ----------
    encoding : str
        Python codec name (a ``.cpg`` code page goes through :func:`normalize_encoding` first).

    Returns
    -------
    bool
        ``False`` for any other codec and for a name Python does not know.
    """
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


def decodes(data: bytes | Path, encoding: str, *, offset: int = 0, length: int | None = None) -> bool:
    """Tell whether bytes (or a file, streamed in 1 MiB chunks) decode strictly with ``encoding``.

    Parameters
    ----------
    data : bytes or pathlib.Path
        Bytes to check, or a file.
    encoding : str
        Python codec name.
    offset : int, default 0
        For a file: first byte to check.
    length : int, optional
        For a file: number of bytes to check (default: up to the end).

    Returns
    -------
    bool
        ``True`` if decoding raises no error.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        if isinstance(data, (bytes, bytearray, memoryview)):
            decoder.decode(bytes(data), final=True)
            return True
        remaining = float("inf") if length is None else length
        with open(data, "rb") as fh:
            fh.seek(offset)
            while remaining > 0 and (chunk := fh.read(int(min(_CHUNK, remaining)))):
                remaining -= len(chunk)
                decoder.decode(chunk, final=False)
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def detect_text_encoding(path: Path, entry: str | None = None) -> str:
    """Detect the encoding of a text file: BOM, then UTF-8, then GB18030, then charset-normalizer's guess.

    A guess by charset-normalizer emits a :class:`CatalogWarning`; an undecidable file raises.

    Parameters
    ----------
    path : pathlib.Path
        Text file.
    entry : str, optional
        Entry name used in warnings and errors.

    Returns
    -------
    str
        Python codec name (``utf-8``, ``utf-8-sig``, ``gb18030``, ...).

    Raises
    ------
    ReadError
        If no encoding decodes the file.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if decodes(path, "utf-8"):
        return "utf-8"
    if decodes(path, "gb18030"):
        return "gb18030"
    from charset_normalizer import from_path

    best = from_path(path).best()
    if best is None or not decodes(path, best.encoding):
        raise ReadError("无法识别文本编码（既非 UTF-8 也非 GBK/GB18030），请在 options.encoding 中声明", entry=entry, path=path)
    catalog_warn(f"文本编码既非 UTF-8 也非 GBK/GB18030，推测为 {best.encoding}，请核对或在 options.encoding 中声明", entry, path)
    return best.encoding


# --------------------------------------------------------------------------- columns


def string_columns(entry: object) -> list[str]:
    """Columns of an entry that must be read as strings: ``id_column`` and ``options.dtype``, by source name.

    Parameters
    ----------
    entry : CatalogEntry
        Catalog entry.

    Returns
    -------
    list of str
        Column names, without duplicates, in declaration order.
    """
    names: list[str] = []
    id_column = getattr(entry, "id_column", None)
    if id_column:
        names.append(id_column)
    dtype = entry.options.get("dtype") or []
    names.extend([dtype] if isinstance(dtype, str) else list(dtype))
    source = getattr(entry, "source_column", None)
    if source is not None:  # fields named by the schema are read under their source names
        names = [source(n) for n in names]
    return list(dict.fromkeys(names))


def _series_to_str(series: pd.Series) -> pd.Series:
    """Convert one column to pandas string dtype, keeping missing values missing and ``12.0`` as ``12``."""
    if isinstance(series.dtype, pd.StringDtype):
        return series
    present = series.notna()
    out = series.astype(str)
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            integral = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 2**63)
        if integral.any():
            out = out.mask(integral, pd.Series(values, index=series.index).where(integral, 0).astype("int64").astype(str))
    return out.where(present)


def as_str_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Return ``frame`` with the given columns (those present) converted to strings.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table read from a file.
    columns : iterable of str
        Columns to convert; absent columns are ignored.

    Returns
    -------
    pandas.DataFrame
        The same object when nothing changes, otherwise a shallow copy.
    """
    present = [c for c in columns if c in frame.columns and not isinstance(frame[c].dtype, pd.StringDtype)]
    if not present:
        return frame
    frame = frame.copy(deep=False)
    for column in present:
        frame[column] = _series_to_str(frame[column])
    return frame


def points_from_columns(frame: pd.DataFrame, x: str, y: str, crs: str, entry: str | None, path: Path):
    """Build a point GeoDataFrame from longitude/latitude (x/y) columns.

    Rows whose x or y is missing or not numeric get a ``None`` geometry; they are kept.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table holding the coordinate columns (they are kept).
    x, y : str
        Coordinate column names.
    crs : str
        Declared CRS of the coordinates.
    entry : str or None
        Entry name for error messages.
    path : pathlib.Path
        File for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``frame`` with a ``geometry`` point column in ``crs``.

    Raises
    ------
    ReadError
        If a coordinate column is absent.
    """
    import geopandas as gpd
    import shapely

    for option, column in (("x", x), ("y", y)):
        if column not in frame.columns:
            raise ReadError(
                f"options.{option} 指定的坐标列 '{column}' 不存在；文件中的列：{', '.join(map(str, frame.columns))}",
                entry=entry,
                path=path,
            )
    xs = pd.to_numeric(frame[x], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ys = pd.to_numeric(frame[y], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    valid = np.isfinite(xs) & np.isfinite(ys)
    geometry = np.full(len(frame), None, dtype=object)
    geometry[valid] = shapely.points(xs[valid], ys[valid])
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=frame.index, crs=crs), crs=crs)


def with_columns(columns: Sequence[str] | None, *extra: str | None) -> list[str] | None:
    """Requested columns plus the extra ones a reader needs (coordinates, geometry), without duplicates.

    Parameters
    ----------
    columns : sequence of str or None
        Columns asked for by the caller; ``None`` means all.
    *extra : str or None
        Additional column names (``None`` entries are skipped).

    Returns
    -------
    list of str or None
        ``None`` when all columns are wanted.
    """
    if columns is None:
        return None
    return list(dict.fromkeys([*columns, *(e for e in extra if e)]))


# --------------------------------------------------------------------------- files


def list_files(path: Path) -> list[Path]:
    """All regular files making up a dataset: the file itself, or every file under a folder (sorted).

    Parameters
    ----------
    path : pathlib.Path
        File or folder.

    Returns
    -------
    list of pathlib.Path
        Files, hidden ones (``.``/``_`` prefixed, e.g. ``_SUCCESS``) excluded for folders.
    """
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
        )
    return [path] if path.exists() else []
