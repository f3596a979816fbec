"""BeiDou grid location codes (GB/T 39409-2020 北斗网格位置码), vectorized, exact integer arithmetic.

Clause references follow the standard's table of contents as published by the public catalogue pages
(the text itself was not available here, so clause numbers below are the best reading of that table):
§4.1 coordinate frame (CGCS2000 longitude/latitude), §5.1 2D grid division (网格剖分), §5.2 2D coding
rules, §5.3 polar 2D codes (out of scope here), §6.1 height division, §6.2 3D coding rules.
The rules themselves are taken from ``STANDARDS.md`` §1 (confirmed against the worked example and two
public implementations), except the 3D layout, which is provisional (see :func:`to_layout`).

Arithmetic
----------
Coordinates are converted once to integer *units* of 1/2048 arc-second (1° = 3600 × 2048 = 7 372 800
units), taken on |lon| and |lat|; every level's index is then ``(u mod size[L-1]) // size[L]`` in integer
arithmetic (int32 suffices: 180° = 1.33e9 units < 2**31).
The conversion is ``floor(|x| * 7372800 + SNAP_UNITS)``: a coordinate less than ``SNAP_UNITS``
(1e-5 unit ≈ 1.4e-12°, ≈ 0.15 µm) below a unit boundary is taken as on it, which absorbs the rounding
of decimal or degree-minute-second values into binary floats (e.g. ``116 + 1/60`` lands on the 1′ line
it denotes). Decoded cell edges are ``units / 7372800`` (correctly rounded floats).

Hemispheres
-----------
Char 0 is ``N`` (lat >= 0) or ``S``. West longitudes use |lon|: the level-1 column is ``31 + k``
east and ``30 - k`` west, with ``k = floor(|lon| / 6°)``, so every cell is half-open in |lon|, |lat|
(``[k·6°, (k+1)·6°)``). This equals the spec's ``floor(lon/6°) + 31`` except exactly on a west
6° meridian, where the spec's formula would give an origin the point is not in (provisional reading).
Valid input: ``|lon| < 180``, ``|lat| < 88`` (the polar scheme of §5.3 is not implemented).
"""

from __future__ import annotations

import math
import numpy as np

__all__ = [
    "UNITS_PER_DEGREE",
    "LEVEL_LENGTHS",
    "LEVEL_LENGTHS_3D",
    "cell_size_units",
    "encode",
    "decode",
    "valid",
    "level",
    "parent",
    "height_code",
    "decode_height",
    "encode_3d",
    "decode_3d",
    "layout_of",
    "to_layout",
    "cells",
]

UNITS_PER_DEGREE = 3600 * 2048  # 7 372 800 units of 1/2048″ per degree
SNAP_UNITS = 1e-5
MAX_LEVEL = 10

#: cumulative 2D code length by level (index 0 = the hemisphere character alone)
LEVEL_LENGTHS = (1, 4, 6, 7, 9, 11, 12, 14, 16, 18, 20)

# cell size in units, (lon, lat), index = level (0 unused)
_SIZE_LON = np.array([0, 6 * 7372800, 3686400, 1843200, 122880, 8192, 4096, 512, 64, 8, 1], dtype=np.int64)
_SIZE_LAT = np.array([0, 4 * 7372800, 3686400, 1228800, 122880, 8192, 4096, 512, 64, 8, 1], dtype=np.int64)
# sub-division (cols, rows) of level L inside a level L-1 cell (level 1: counts per hemisphere)
_NCOLS = (0, 30, 12, 2, 15, 15, 2, 8, 8, 8, 8)
_NROWS = (0, 22, 8, 3, 10, 15, 2, 8, 8, 8, 8)
# character kind of level L: "hex2" / "oct2" two chars a, b; "one" one digit 2b + a
_KIND = (None, "l1", "hex2", "one", "hex2", "hex2", "one", "oct2", "oct2", "oct2", "oct2")

# height code (§6.2): bits per level group after the sign bit, and the characters rendering each group
_HBITS = (0, 6, 3, 1, 4, 4, 1, 3, 3, 3, 3)
_HCHARS = (1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1)  # index 0: the sign character
_HBASE = (2, 10, 8, 2, 16, 16, 2, 8, 8, 8, 8)  # 6-bit group: two decimal digits 00-63
_HLEN = tuple(int(x) for x in np.cumsum(_HCHARS))  # (1, 3, 4, ..., 12): height chars through level L
_HSHIFT = tuple(int(31 - np.sum(_HBITS[: i + 1])) for i in range(11))  # bits below group L
#: cumulative 3D code length by level (both layouts), index = level
LEVEL_LENGTHS_3D = (2,) + tuple(LEVEL_LENGTHS[i] + _HLEN[i] for i in range(1, 11))

R0 = 6378137.0  # r0, metres (§6.1)
_LN_STEP = math.log1p(math.pi / 180.0)  # ln(1 + θ0·π/180), θ0 = 1°
_N_MAX = 2**31 - 1

_HEX_BYTES = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_DIGITS = _HEX_BYTES.astype(np.uint32)
_CHAR_VALUE = np.full(256, -1, dtype=np.int64)  # ASCII only: code points > 255 are mapped to NUL first
_CHAR_VALUE[np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)] = np.arange(16)
_LETTER_VALUE = np.full(256, -1, dtype=np.int64)
_LETTER_VALUE[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUV", dtype=np.uint8)] = np.arange(22)

_LEN_TO_LEVEL = {n: i for i, n in enumerate(LEVEL_LENGTHS) if i > 0}
_LEN3D_TO_LEVEL = {n: i for i, n in enumerate(LEVEL_LENGTHS_3D) if i > 0}


def cell_size_units(lvl: int) -> tuple[int, int]:
    """Cell size of a level as (lon, lat) integer units of 1/2048″ (GB/T 39409-2020 §5.1, table of levels).

    Parameters
    ----------
    lvl : int
        Level 1..10.

    Returns
    -------
    tuple of int
        ``(dlon, dlat)``; divide by :data:`UNITS_PER_DEGREE` for degrees.
    """
    _check_level(lvl)
    return int(_SIZE_LON[lvl]), int(_SIZE_LAT[lvl])


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _check_level(lvl) -> int:
    if isinstance(lvl, bool) or not isinstance(lvl, (int, np.integer)) or not 1 <= int(lvl) <= MAX_LEVEL:
        raise ValueError(f"level must be an integer 1..{MAX_LEVEL}, got {lvl!r}")
    return int(lvl)


def _is_scalar(x) -> bool:
    return np.ndim(x) == 0


def _to_units(x: np.ndarray) -> np.ndarray:
    """|x| degrees -> int64 units of 1/2048″ (floor, with the SNAP_UNITS allowance)."""
    return np.floor(np.abs(x) * float(UNITS_PER_DEGREE) + SNAP_UNITS).astype(np.int64)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _code_array(code):
    """(is_scalar, 1-d array of str) from a str or an array-like of str."""
    scalar = isinstance(code, (str, bytes, np.str_, np.bytes_))
    arr = np.asarray(code)
    if arr.dtype.kind == "S":
        arr = np.char.decode(arr, "ascii", errors="replace")
    elif arr.dtype.kind != "U":
        arr = arr.astype(str)
    return scalar, arr.reshape(-1)


def _char_matrix(arr: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint32 code points of same-length str codes (width >= 1)."""
    arr = np.ascontiguousarray(arr.astype(f"U{width}"))
    return arr.view(np.uint32).reshape(-1, width)


def _as_str(mat: np.ndarray) -> np.ndarray:
    """(n, k) uint32 code points -> 1-d array of ``<Uk`` strings (no per-row Python loop)."""
    mat = np.ascontiguousarray(mat, dtype=np.uint32)
    return mat.view(f"U{mat.shape[1]}").reshape(-1)


def _bad_code(arr, rows, what: str):
    i = int(rows[0]) if len(rows) else 0
    raise ValueError(f"invalid BeiDou grid code {str(arr[i])!r} (index {i}): {what}")


def _lengths(arr: np.ndarray) -> np.ndarray:
    return np.strings.str_len(arr) if arr.size else np.zeros(0, dtype=np.int64)


# --------------------------------------------------------------------------------------------------
# 2D
# --------------------------------------------------------------------------------------------------


def _units_from_lonlat(lon, lat):
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    lon, lat = np.broadcast_arrays(lon, lat)
    lon = lon.reshape(-1)
    lat = lat.reshape(-1)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"non-finite coordinate at index {i}: lon={lon[i]!r}, lat={lat[i]!r} "
                         f"({int(bad.sum())} bad point(s))")
    ux = _to_units(lon)
    uy = _to_units(lat)
    polar = uy >= 88 * UNITS_PER_DEGREE
    if polar.any():
        i = _first_bad(polar)
        raise ValueError(f"latitude {lat[i]!r} at index {i} is polar (|lat| >= 88°): the polar grid of "
                         "GB/T 39409-2020 §5.3 is not supported")
    far = ux >= 180 * UNITS_PER_DEGREE
    if far.any():
        i = _first_bad(far)
        raise ValueError(f"longitude {lon[i]!r} at index {i} is out of range (need |lon| < 180°)")
    return lon >= 0, lat >= 0, ux, uy


def _matrix_from_units(east, north, ux, uy, lvl: int) -> np.ndarray:
    """(n, LEVEL_LENGTHS[lvl]) uint32 character matrix of 2D codes from |units| (§5.2).

    Units fit int32 (< 180·7372800 < 2**31). Each level: ``a = r // size``, ``r -= a * size`` (no ``%``,
    which is several times slower than libdivide's ``//``). Characters are written row by row into a
    (len, n) uint8 matrix (contiguous writes), transposed once at the end.
    """
    n = ux.shape[0]
    out = np.empty((LEVEL_LENGTHS[lvl], n), dtype=np.uint8)
    out[0] = np.where(north, ord("N"), ord("S"))
    x = ux.astype(np.int32)
    y = uy.astype(np.int32)
    c = x // np.int32(_SIZE_LON[1])
    col = np.where(east, 31 + c, 30 - c)
    tens = col // 10
    out[1] = 48 + tens
    out[2] = 48 + col - 10 * tens
    r = y // np.int32(_SIZE_LAT[1])
    out[3] = 65 + r
    x = x - c * np.int32(_SIZE_LON[1])
    y = y - r * np.int32(_SIZE_LAT[1])
    pos = 4
    for L in range(2, lvl + 1):
        sx, sy = np.int32(_SIZE_LON[L]), np.int32(_SIZE_LAT[L])
        a = x // sx
        b = y // sy
        x = x - a * sx
        y = y - b * sy
        if _KIND[L] == "one":
            out[pos] = 48 + 2 * b + a
            pos += 1
        else:
            np.take(_HEX_BYTES, a, out=out[pos], mode="clip")
            np.take(_HEX_BYTES, b, out=out[pos + 1], mode="clip")
            pos += 2
    return out.T.astype(np.uint32, order="C")


def encode(lon, lat, level: int = 10):
    """Encode longitude/latitude as a 2D BeiDou grid location code (GB/T 39409-2020 §5.2).

    Parameters
    ----------
    lon, lat : float or array_like of float
        CGCS2000 longitude and latitude in decimal degrees (§4.1); broadcast against each other.
        ``|lon| < 180``, ``|lat| < 88``.
    level : int, default 10
        Grid level 1..10 (6°×4° down to 1/2048″ ≈ 1.5 cm).

    Returns
    -------
    str or numpy.ndarray of str
        A ``LEVEL_LENGTHS[level]``-character code (20 at level 10) for scalar input, else a 1-d
        ``<U`` array of codes, one per point (flattened in C order).

    Raises
    ------
    ValueError
        Bad level; NaN/infinite coordinate (message gives the index of the first one); ``|lat| >= 88``
        (polar grid of §5.3, not supported); ``|lon| >= 180``.

    Examples
    --------
    >>> encode(116 + 18/60 + 45.37/3600, 39 + 59/60 + 35.38/3600)
    'N50J47539B8255346152'
    """
    lvl = _check_level(level)
    scalar = _is_scalar(lon) and _is_scalar(lat)
    east, north, ux, uy = _units_from_lonlat(lon, lat)
    codes = _as_str(_matrix_from_units(east, north, ux, uy, lvl))
    return str(codes[0]) if scalar else codes


def _parse2d_matrix(m: np.ndarray, lvl: int):
    """Validate a (n, len) uint32 matrix of level-``lvl`` codes.

    Returns (east, north, ux, uy, bad_row_mask, reason_per_first_bad) with ux, uy the |units| of the
    cell's lower corner.
    """
    n = m.shape[0]
    m = np.where(m > 255, 0, m).astype(np.intp)  # non-ASCII -> NUL (invalid everywhere)
    bad = np.zeros(n, dtype=bool)
    c0 = m[:, 0]
    north = c0 == ord("N")
    bad |= ~(north | (c0 == ord("S")))
    d1 = _CHAR_VALUE[m[:, 1]]
    d2 = _CHAR_VALUE[m[:, 2]]
    bad |= (d1 < 0) | (d1 > 9) | (d2 < 0) | (d2 > 9)
    col = d1 * 10 + d2
    bad |= (col < 1) | (col > 60)
    east = col >= 31
    k = np.where(east, col - 31, 30 - col)
    row = _LETTER_VALUE[m[:, 3]]
    bad |= row < 0
    ux = k * _SIZE_LON[1]
    uy = np.maximum(row, 0) * _SIZE_LAT[1]
    pos = 4
    for L in range(2, lvl + 1):
        if _KIND[L] == "one":
            v = _CHAR_VALUE[m[:, pos]]
            bad |= (v < 0) | (v >= _NCOLS[L] * _NROWS[L])
            v = np.clip(v, 0, None)
            a, b = v % 2, v // 2
            pos += 1
        else:
            a = _CHAR_VALUE[m[:, pos]]
            b = _CHAR_VALUE[m[:, pos + 1]]
            bad |= (a < 0) | (a >= _NCOLS[L]) | (b < 0) | (b >= _NROWS[L])
            pos += 2
        ux = ux + np.clip(a, 0, None) * _SIZE_LON[L]
        uy = uy + np.clip(b, 0, None) * _SIZE_LAT[L]
    return east, north, ux, uy, bad


def _levels_from_lengths(arr, table: dict, problem: str) -> np.ndarray:
    """Level of each code from its length (``table``: length -> level); a clear error for any other length."""
    lens = _lengths(arr)
    lv = np.zeros(arr.shape[0], dtype=np.int64)
    for length, L in table.items():
        lv[lens == length] = L
    if (lv == 0).any():
        _bad_code(arr, np.flatnonzero(lv == 0), problem)
    return lv


def _parse2d(code):
    """Group codes by length, validate, return (scalar, arr, levels, east, north, ux, uy)."""
    scalar, arr = _code_array(code)
    lv = _levels_from_lengths(arr, _LEN_TO_LEVEL, f"length must be one of {LEVEL_LENGTHS[1:]} (levels 1..10)")
    n = arr.shape[0]
    east = np.zeros(n, dtype=bool)
    north = np.zeros(n, dtype=bool)
    ux = np.zeros(n, dtype=np.int64)
    uy = np.zeros(n, dtype=np.int64)
    for L in np.unique(lv):
        L = int(L)
        idx = np.flatnonzero(lv == L)
        e, no, x, y, bad = _parse2d_matrix(_char_matrix(arr[idx], LEVEL_LENGTHS[L]), L)
        if bad.any():
            _bad_code(arr, idx[bad], "bad character or out-of-range digit for its position (§5.2)")
        east[idx], north[idx], ux[idx], uy[idx] = e, no, x, y
    return scalar, arr, lv, east, north, ux, uy


def _box_degrees(east, north, ux, uy, sx, sy) -> np.ndarray:
    """(n, 4) signed (lon_min, lat_min, lon_max, lat_max) from |units| lower corner and sizes."""
    U = float(UNITS_PER_DEGREE)
    lo_x, hi_x = ux / U, (ux + sx) / U
    lo_y, hi_y = uy / U, (uy + sy) / U
    return np.column_stack([
        np.where(east, lo_x, -hi_x),
        np.where(north, lo_y, -hi_y),
        np.where(east, hi_x, -lo_x),
        np.where(north, hi_y, -lo_y),
    ])


def decode(code):
    """Decode a 2D BeiDou grid location code to its cell (GB/T 39409-2020 §5.2).

    Parameters
    ----------
    code : str or array_like of str
        Codes of any level 1..10 (levels may be mixed in an array). Hex digits must be upper case.

    Returns
    -------
    tuple of float or numpy.ndarray
        ``(lon_min, lat_min, lon_max, lat_max)`` in signed degrees for a scalar code; for an array an
        ``(n, 4)`` float64 array with the same columns. West/south cells have negative bounds
        (``lon_min = -(|lon| far edge)``). Cells are half-open in |lon|, |lat|: the edge nearer the
        equator / prime meridian belongs to the cell.

    Raises
    ------
    ValueError
        Wrong length, bad character or out-of-range digit; the message names the first bad code.
    """
    scalar, arr, lv, east, north, ux, uy = _parse2d(code)
    box = _box_degrees(east, north, ux, uy, _SIZE_LON[lv], _SIZE_LAT[lv])
    return tuple(float(v) for v in box[0]) if scalar else box


def valid(code) -> np.ndarray:
    """Which values are well-formed 2D BeiDou grid location codes of any level (GB/T 39409-2020 §5.2).

    The vectorized, non-raising twin of :func:`decode`: a code is valid when :func:`decode` accepts it (a length of
    ``LEVEL_LENGTHS[1:]``, ``N``/``S``, the level-1 column 01–60 and row A–V, and every later character a digit in
    its level's range; hex digits upper case). Missing values (``None``, NaN) are not valid.

    Parameters
    ----------
    code : str or array_like of str or None

    Returns
    -------
    numpy.ndarray of bool
        One flag per value (1-d, also for a scalar).

    Examples
    --------
    >>> valid(["N50J47539B8255346152", "N50J47539B825534615", "n50J4753", None]).tolist()
    [True, False, False, False]
    """
    # as text: a missing value becomes "None", "nan" or "<NA>", which no level's pattern accepts
    text = np.asarray(code, dtype=object).reshape(-1).astype(str)
    lens = _lengths(text)
    out = np.zeros(text.shape[0], dtype=bool)
    for length, L in _LEN_TO_LEVEL.items():
        idx = np.flatnonzero(lens == length)
        if len(idx):
            out[idx] = ~_parse2d_matrix(_char_matrix(text[idx], length), L)[4]
    return out


def level(code):
    """Level of a 2D BeiDou grid location code, read from its length (GB/T 39409-2020 §5.2).

    Parameters
    ----------
    code : str or array_like of str

    Returns
    -------
    int or numpy.ndarray of int64

    Raises
    ------
    ValueError
        A length not in ``LEVEL_LENGTHS[1:]``; the message names the first such code. Characters are
        not checked (use :func:`decode` for full validation).
    """
    scalar, arr = _code_array(code)
    lv = _levels_from_lengths(arr, _LEN_TO_LEVEL, f"length must be one of {LEVEL_LENGTHS[1:]} (levels 1..10)")
    return int(lv[0]) if scalar else lv


def parent(code, level: int):
    """Ancestor of a 2D code at a coarser level: the code's prefix of that level's length (§5.2).

    Parameters
    ----------
    code : str or array_like of str
        Valid 2D codes (fully validated).
    level : int
        Target level 1..10, not finer than any code's own level.

    Returns
    -------
    str or numpy.ndarray of str

    Raises
    ------
    ValueError
        Invalid code, or ``level`` finer than a code's level.
    """
    lvl = _check_level(level)
    scalar, arr, lv, *_ = _parse2d(code)
    if (lv < lvl).any():
        _bad_code(arr, np.flatnonzero(lv < lvl), f"its level is coarser than the requested level {lvl}")
    out = arr.astype(f"U{LEVEL_LENGTHS[lvl]}")  # truncation = prefix
    return str(out[0]) if scalar else out


# --------------------------------------------------------------------------------------------------
# height (§6)
# --------------------------------------------------------------------------------------------------


def _height_from_n(n) -> np.ndarray:
    """H(n) = (1 + θ0·π/180)^(n·θ/θ0)·r0 − r0, computed as r0·expm1(n·ln(1+π/180)/7372800)."""
    return R0 * np.expm1(np.asarray(n, dtype=np.float64) * (_LN_STEP / UNITS_PER_DEGREE))


def _n_from_height(h: np.ndarray) -> np.ndarray:
    """Layer number n = floor((θ0/θ)·ln((H+r0)/r0)/ln(1+θ0·π/180)), made consistent with H(n)."""
    x = np.log1p(h / R0) * (UNITS_PER_DEGREE / _LN_STEP)
    n = np.floor(x).astype(np.int64)
    # one-step correction so that H(n) <= h < H(n+1) holds exactly with this module's H()
    n -= (_height_from_n(n) > h).astype(np.int64)
    n += (_height_from_n(n + 1) <= h).astype(np.int64)
    return n


def _height_matrix(h) -> np.ndarray:
    h = np.asarray(h, dtype=np.float64).reshape(-1)
    bad = ~np.isfinite(h)
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"non-finite height at index {i}: {h[i]!r} ({int(bad.sum())} bad value(s))")
    low = h <= -R0
    if low.any():
        i = _first_bad(low)
        raise ValueError(f"height {h[i]!r} at index {i} is at or below the Earth's centre (H > -r0)")
    with np.errstate(over="ignore", invalid="ignore"):
        x = np.log1p(h / R0) * (UNITS_PER_DEGREE / _LN_STEP)
    big = np.abs(x) >= _N_MAX
    if big.any():
        i = _first_bad(big)
        raise ValueError(f"height {h[i]!r} at index {i} does not fit the 31-bit layer number")
    n = _n_from_height(h)
    mag = np.abs(n)
    out = np.empty((h.shape[0], 12), dtype=np.uint32)
    out[:, 0] = 48 + (n < 0)
    pos = 1
    for L in range(1, 11):
        g = (mag >> _HSHIFT[L]) & ((1 << _HBITS[L]) - 1)
        if _HCHARS[L] == 2:
            out[:, pos] = 48 + g // 10
            out[:, pos + 1] = 48 + g % 10
        else:
            out[:, pos] = _DIGITS[g]
        pos += _HCHARS[L]
    return out


def height_code(h):
    """Encode a height as the 12-character BeiDou height code (GB/T 39409-2020 §6.1, §6.2).

    ``n = floor((θ0/θ)·ln((H + r0)/r0) / ln(1 + θ0·π/180))`` with θ = 1/2048″, θ0 = 1°, r0 = 6378137 m.
    Characters: sign bit (``1`` if n < 0), then |n| as 31 bits split most significant first into
    groups of 6, 3, 1, 4, 4, 1, 3, 3, 3, 3 bits, rendered as two decimal digits (00-63), octal,
    binary, hex (upper case), hex, binary, octal × 4. Layer n covers ``[H(n), H(n+1))``: ``n`` is
    nudged by one where float rounding would break that against :func:`decode_height`.

    Parameters
    ----------
    h : float or array_like of float
        Height in metres (above the reference ellipsoid, §6.1); ``-r0 < h`` and ``|n| < 2**31``.

    Returns
    -------
    str or numpy.ndarray of str

    Raises
    ------
    ValueError
        Non-finite height (index of the first given), height <= -r0, or a layer number beyond 31 bits.

    Examples
    --------
    >>> height_code(50), height_code(8848.86), height_code(-11034)
    ('000000006414', '000004801646', '100005A00777')
    """
    codes = _as_str(_height_matrix(h))
    return str(codes[0]) if _is_scalar(h) else codes


def _parse_height_matrix(m: np.ndarray, lvl: int):
    """(negative, prefix |n| >> shift, bad) from a (n, _HLEN[lvl]) uint32 matrix of height chars."""
    m = np.where(m > 255, 0, m).astype(np.intp)
    bad = ~np.isin(m[:, 0], (48, 49))
    neg = m[:, 0] == 49
    p = np.zeros(m.shape[0], dtype=np.int64)
    pos = 1
    for L in range(1, lvl + 1):
        if _HCHARS[L] == 2:
            d1, d2 = _CHAR_VALUE[m[:, pos]], _CHAR_VALUE[m[:, pos + 1]]
            bad |= (d1 < 0) | (d1 > 9) | (d2 < 0) | (d2 > 9)
            g = d1 * 10 + d2
        else:
            g = _CHAR_VALUE[m[:, pos]]
            bad |= (g < 0) | (g >= _HBASE[L])
        bad |= g >= (1 << _HBITS[L])
        p = (p << _HBITS[L]) | np.clip(g, 0, (1 << _HBITS[L]) - 1)
        pos += _HCHARS[L]
    return neg, p, bad


def _height_range(neg, p, lvl: int):
    """[h_lo, h_hi) of all layers whose code starts with the level-``lvl`` prefix."""
    r = _HSHIFT[lvl]
    lo_mag = p << r
    hi_mag = ((p + 1) << r) - 1  # largest |n| in the block
    n_lo = np.where(neg, -hi_mag, lo_mag)
    n_hi = np.where(neg, -np.maximum(lo_mag, 1), hi_mag) + 1
    return _height_from_n(n_lo), _height_from_n(n_hi)


def decode_height(code):
    """Decode a 12-character height code to the lower bound H(n) of its layer (GB/T 39409-2020 §6.2).

    Parameters
    ----------
    code : str or array_like of str

    Returns
    -------
    float or numpy.ndarray of float64
        ``H(n) = (1 + θ0·π/180)^(n·θ/θ0)·r0 − r0`` metres: the bottom of the layer, so
        ``decode_height(height_code(h)) <= h < H(n + 1)``.

    Raises
    ------
    ValueError
        Length other than 12, bad character, or the non-canonical negative zero ``1`` + 11 zeros.
    """
    scalar, arr = _code_array(code)
    lens = _lengths(arr)
    if (lens != 12).any():
        _bad_code(arr, np.flatnonzero(lens != 12), "a height code has 12 characters")
    neg, p, bad = _parse_height_matrix(_char_matrix(arr, 12), 10)
    bad |= neg & (p == 0)
    if bad.any():
        _bad_code(arr, np.flatnonzero(bad), "bad character for its position, or negative zero (§6.2)")
    h = _height_from_n(np.where(neg, -p, p))
    return float(h[0]) if scalar else h


# --------------------------------------------------------------------------------------------------
# 3D (§6.2) — layout provisional
# --------------------------------------------------------------------------------------------------


def _perm_interleaved(lvl: int) -> np.ndarray:
    """Column order taking [2D chars | height chars] (appended) to the interleaved layout."""
    n2 = LEVEL_LENGTHS[lvl]
    order = [0, n2]  # hemisphere, height sign
    for L in range(1, lvl + 1):
        order += list(range(LEVEL_LENGTHS[L - 1], LEVEL_LENGTHS[L]))
        order += [n2 + j for j in range(_HLEN[L - 1], _HLEN[L])]
    return np.array(order, dtype=np.intp)


_PERM_I = {L: _perm_interleaved(L) for L in range(1, 11)}  # interleaved = appended[:, perm]
_PERM_A = {L: np.argsort(p) for L, p in _PERM_I.items()}  # appended = interleaved[:, perm]


def _check_layout(layout: str) -> str:
    if layout not in ("interleaved", "appended"):
        raise ValueError(f"layout must be 'interleaved' or 'appended', got {layout!r}")
    return layout


def encode_3d(lon, lat, h, level: int = 10, layout: str = "interleaved"):
    """Encode a 3D point as a BeiDou 3D grid location code (GB/T 39409-2020 §6.2; layout provisional).

    Parameters
    ----------
    lon, lat, h : float or array_like of float
        Degrees, degrees and metres; broadcast together.
    level : int, default 10
        Level 1..10; the height part keeps the sign and the groups of levels 1..level.
    layout : {"interleaved", "appended"}
        ``"interleaved"`` (canonical): ``N``/``S``, height sign, then for each level its 2D characters
        followed by its height characters (level 1: ``50J`` + 2 digits; levels 2-10: 2D chars + 1).
        ``"appended"``: the level's 2D code followed by the sign and the height characters.
        Both have ``LEVEL_LENGTHS_3D[level]`` characters (32 at level 10). See :func:`to_layout`.

    Returns
    -------
    str or numpy.ndarray of str

    Raises
    ------
    ValueError
        As :func:`encode` and :func:`height_code`, or an unknown layout.
    """
    lvl = _check_level(level)
    _check_layout(layout)
    scalar = _is_scalar(lon) and _is_scalar(lat) and _is_scalar(h)
    lon_b, lat_b, h_b = np.broadcast_arrays(np.asarray(lon, np.float64), np.asarray(lat, np.float64),
                                            np.asarray(h, np.float64))
    east, north, ux, uy = _units_from_lonlat(lon_b, lat_b)
    m = np.concatenate([_matrix_from_units(east, north, ux, uy, lvl),
                        _height_matrix(h_b)[:, : _HLEN[lvl]]], axis=1)
    if layout == "interleaved":
        m = m[:, _PERM_I[lvl]]
    codes = _as_str(m)
    return str(codes[0]) if scalar else codes


def _split3d(code):
    """(scalar, arr, lv, is_appended, appended-form uint32 matrices grouped by level)."""
    scalar, arr = _code_array(code)
    lv = _levels_from_lengths(arr, _LEN3D_TO_LEVEL,
                              f"3D code length must be one of {LEVEL_LENGTHS_3D[1:]} (levels 1..10)")
    groups = {}
    appended = np.zeros(arr.shape[0], dtype=bool)
    for L in np.unique(lv):
        L = int(L)
        idx = np.flatnonzero(lv == L)
        m = _char_matrix(arr[idx], LEVEL_LENGTHS_3D[L])
        c3 = m[:, 3]
        is_app = (c3 >= ord("A")) & (c3 <= ord("V"))
        is_int = (c3 >= ord("0")) & (c3 <= ord("9"))
        if not (is_app | is_int).all():
            _bad_code(arr, idx[~(is_app | is_int)],
                      "cannot tell the layout: char 3 must be a digit (interleaved) or A-V (appended)")
        m = np.where(is_int[:, None], m[:, _PERM_A[L]], m)  # -> appended form
        appended[idx] = is_app
        groups[L] = (idx, m)
    return scalar, arr, lv, appended, groups


def layout_of(code):
    """Which 3D layout a code uses: ``"interleaved"`` or ``"appended"`` (provisional, see to_layout).

    Parameters
    ----------
    code : str or array_like of str

    Returns
    -------
    str or numpy.ndarray of str

    Raises
    ------
    ValueError
        Length not a 3D length, or char 3 neither a digit nor A-V.
    """
    scalar, arr, lv, appended, _ = _split3d(code)
    out = np.where(appended, "appended", "interleaved")
    return str(out[0]) if scalar else out


def to_layout(code, layout: str = "interleaved"):
    """Convert 3D codes between the interleaved and appended layouts (GB/T 39409-2020 §6.2).

    PROVISIONAL (STANDARDS.md §1 "Layout to verify"). Reading used here: the 12 height characters are
    the sign and ten groups of 6, 3, 1, 4, 4, 1, 3, 3, 3, 3 bits; group L belongs to grid level L (its
    bit count matches the level's 2D subdivision: 64, 8, 2, 16, 16, 2, 8, 8, 8, 8), so level 1 gets the
    6-bit group (2 characters) and every other level one character. Interleaved =
    ``hemisphere, sign, [2D(L), height(L)] for L = 1..level``; appended = ``2D code + sign + groups``.
    The layouts are told apart by character 3: a digit (2nd digit of the level-1 column) in the
    interleaved form, a row letter A-V in the appended form. If the standard's order proves different,
    only :func:`_perm_interleaved` needs to change.

    Parameters
    ----------
    code : str or array_like of str
        3D codes in either layout (mixed allowed).
    layout : {"interleaved", "appended"}
        Target layout.

    Returns
    -------
    str or numpy.ndarray of str

    Raises
    ------
    ValueError
        Unknown layout, bad length, undecidable layout, or an invalid 2D / height part.
    """
    _check_layout(layout)
    scalar, arr, lv, _, groups = _split3d(code)
    out = np.empty(arr.shape[0], dtype=f"U{max(LEVEL_LENGTHS_3D[int(L)] for L in groups) if groups else 1}")
    for L, (idx, m) in groups.items():
        _validate3d(arr, idx, m, L)
        if layout == "interleaved":
            m = m[:, _PERM_I[L]]
        out[idx] = _as_str(m)
    return str(out[0]) if scalar else out


def _validate3d(arr, idx, m, L):
    n2 = LEVEL_LENGTHS[L]
    e, no, ux, uy, bad = _parse2d_matrix(m[:, :n2], L)
    neg, p, hbad = _parse_height_matrix(m[:, n2:], L)
    if L == 10:
        hbad |= neg & (p == 0)
    if (bad | hbad).any():
        _bad_code(arr, idx[bad | hbad], "bad character for its position in the 2D or height part")
    return e, no, ux, uy, neg, p


def decode_3d(code):
    """Decode 3D codes (either layout) to their cell (GB/T 39409-2020 §6.2; layout provisional).

    Parameters
    ----------
    code : str or array_like of str

    Returns
    -------
    tuple of float or numpy.ndarray
        ``(lon_min, lat_min, lon_max, lat_max, h_min, h_max)`` (degrees, metres) for a scalar code, or
        an ``(n, 6)`` float64 array. ``h_min`` is the lower bound H of the lowest layer whose code
        starts with the given height prefix, ``h_max`` the lower bound of the next block (at level 10:
        ``H(n)`` and ``H(n+1)``).

    Raises
    ------
    ValueError
        Bad length, undecidable layout, or invalid characters.
    """
    scalar, arr, lv, _, groups = _split3d(code)
    out = np.empty((arr.shape[0], 6), dtype=np.float64)
    for L, (idx, m) in groups.items():
        e, no, ux, uy, neg, p = _validate3d(arr, idx, m, L)
        out[idx, :4] = _box_degrees(e, no, ux, uy, _SIZE_LON[L], _SIZE_LAT[L])
        out[idx, 4], out[idx, 5] = _height_range(neg, p, L)
    return tuple(float(v) for v in out[0]) if scalar else out


# --------------------------------------------------------------------------------------------------
# polygon cover
# --------------------------------------------------------------------------------------------------


def cells(geometry, level: int, max_candidates: int = 20_000_000):
    """Codes of all level-``level`` cells intersecting a (Multi)Polygon (GB/T 39409-2020 §5.1 grid).

    The candidate grid is refined level by level: the level-1 cells over the geometry's bounds (per
    hemisphere quadrant), then the children of the cells kept at the previous level; at each level all
    candidate boxes are tested at once with ``shapely.intersects`` against the prepared geometry. A
    level-L cell intersecting the geometry lies in a level-(L-1) cell that does, so nothing is lost.
    ``intersects`` includes cells that only touch the geometry along an edge or at a corner.

    Parameters
    ----------
    geometry : shapely.Polygon or shapely.MultiPolygon
        Lon/lat degrees (|lat| < 88, |lon| < 180).
    level : int
        Target level 1..10.
    max_candidates : int, default 20 000 000
        Guard against runaway refinement (large area at a fine level).

    Returns
    -------
    numpy.ndarray of str
        Sorted unique codes (empty for an empty geometry).

    Raises
    ------
    TypeError
        Not a Polygon / MultiPolygon.
    ValueError
        Bad level, geometry reaching the polar zone or the antimeridian, too many candidates.
    """
    import shapely

    lvl = _check_level(level)
    if not isinstance(geometry, (shapely.Polygon, shapely.MultiPolygon)):
        raise TypeError(f"cells() needs a shapely Polygon or MultiPolygon, got {type(geometry).__name__}")
    if geometry.is_empty:
        return np.empty(0, dtype=f"U{LEVEL_LENGTHS[lvl]}")
    x0, y0, x1, y1 = geometry.bounds
    if max(abs(y0), abs(y1)) >= 88:
        raise ValueError("geometry reaches |lat| >= 88°: the polar grid (§5.3) is not supported")
    if max(abs(x0), abs(x1)) >= 180:
        raise ValueError("geometry reaches |lon| >= 180°")
    shapely.prepare(geometry)

    # level 1: per quadrant, the |unit| ranges covered by the bounds
    E, N, UX, UY = [], [], [], []
    for east in (True, False):
        lo, hi = (max(x0, 0.0), x1) if east else (max(-x1, 0.0), -x0)
        if hi < lo or (not east and x0 >= 0):
            continue
        for north in (True, False):
            blo, bhi = (max(y0, 0.0), y1) if north else (max(-y1, 0.0), -y0)
            if bhi < blo or (not north and y0 >= 0):
                continue
            kx = np.arange(_to_units(lo) // _SIZE_LON[1], _to_units(hi) // _SIZE_LON[1] + 1)
            ky = np.arange(_to_units(blo) // _SIZE_LAT[1], _to_units(bhi) // _SIZE_LAT[1] + 1)
            gx, gy = np.meshgrid(kx * _SIZE_LON[1], ky * _SIZE_LAT[1])
            E.append(np.full(gx.size, east))
            N.append(np.full(gx.size, north))
            UX.append(gx.ravel())
            UY.append(gy.ravel())
    east, north = np.concatenate(E), np.concatenate(N)
    ux, uy = np.concatenate(UX), np.concatenate(UY)
    L = 1
    while True:
        box = _box_degrees(east, north, ux, uy, _SIZE_LON[L], _SIZE_LAT[L])
        keep = shapely.intersects(geometry, shapely.box(box[:, 0], box[:, 1], box[:, 2], box[:, 3]))
        east, north, ux, uy = east[keep], north[keep], ux[keep], uy[keep]
        if L == lvl:
            break
        L += 1
        nc, nr = _NCOLS[L], _NROWS[L]
        if ux.size * nc * nr > max_candidates:
            raise ValueError(f"cells(): {ux.size * nc * nr} candidates at level {L} exceed "
                             f"max_candidates={max_candidates}")
        a = np.tile(np.arange(nc, dtype=np.int64), nr) * _SIZE_LON[L]
        b = np.repeat(np.arange(nr, dtype=np.int64), nc) * _SIZE_LAT[L]
        ux = (ux[:, None] + a).ravel()
        uy = (uy[:, None] + b).ravel()
        east = np.repeat(east, nc * nr)
        north = np.repeat(north, nc * nr)
    codes = _as_str(_matrix_from_units(east, north, ux, uy, lvl)) if ux.size else \
        np.empty(0, dtype=f"U{LEVEL_LENGTHS[lvl]}")
    return np.unique(codes)
