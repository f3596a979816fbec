"""Tests for cimlib.codes.beidou (GB/T 39409-2020 BeiDou grid location codes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cimlib.codes import beidou as bd

U = bd.UNITS_PER_DEGREE
EX_LON = 116 + 18 / 60 + 45.37 / 3600
EX_LAT = 39 + 59 / 60 + 35.38 / 3600
EX_CODE = "N50J47539B8255346152"
TOL = 1e-11  # degrees; covers the documented SNAP_UNITS allowance (1.4e-12°)

HEIGHT_EXAMPLES = {50.0: "000000006414", 8848.86: "000004801646", -11034.0: "100005A00777"}

china = st.tuples(st.floats(73, 136, exclude_min=True, exclude_max=True),
                  st.floats(3, 54, exclude_min=True, exclude_max=True))
south_west = st.tuples(st.floats(-179.999, -1e-6), st.floats(-87.999, -1e-6))
mixed = st.tuples(st.floats(-179.999, 179.999), st.floats(-87.999, 87.999))
points = st.one_of(china, china, south_west, mixed)
levels = st.integers(1, 10)


# ------------------------------------------------------------------ examples


def test_worked_example():
    assert bd.encode(EX_LON, EX_LAT) == EX_CODE
    assert bd.level(EX_CODE) == 10
    x0, y0, x1, y1 = bd.decode(EX_CODE)
    assert x0 <= EX_LON < x1 and y0 <= EX_LAT < y1
    # every coarser level is the prefix
    for L in range(1, 11):
        assert bd.encode(EX_LON, EX_LAT, L) == EX_CODE[: bd.LEVEL_LENGTHS[L]]


def test_worked_example_mirrored_to_south_west():
    code = bd.encode(-EX_LON, -EX_LAT)
    assert code == "S11J47539B8255346152"  # column 30 - k west of Greenwich, same sub-indices
    x0, y0, x1, y1 = bd.decode(code)
    assert x0 <= -EX_LON <= x1 and y0 <= -EX_LAT <= y1
    assert x1 < 0 and y1 < 0


@pytest.mark.parametrize("h, code", HEIGHT_EXAMPLES.items())
def test_height_examples(h, code):
    assert bd.height_code(h) == code
    assert bd.decode_height(code) <= h


def test_height_examples_vectorized():
    assert list(bd.height_code(list(HEIGHT_EXAMPLES))) == list(HEIGHT_EXAMPLES.values())


def test_level_lengths_and_cell_sizes():
    assert bd.LEVEL_LENGTHS == (1, 4, 6, 7, 9, 11, 12, 14, 16, 18, 20)
    assert bd.LEVEL_LENGTHS_3D[10] == 32
    sec = 2048  # units per arc-second
    expected = {1: (6 * 3600 * sec, 4 * 3600 * sec), 2: (1800 * sec, 1800 * sec), 3: (900 * sec, 600 * sec),
                4: (60 * sec, 60 * sec), 5: (4 * sec, 4 * sec), 6: (2 * sec, 2 * sec), 7: (sec // 4, sec // 4),
                8: (sec // 32, sec // 32), 9: (sec // 256, sec // 256), 10: (1, 1)}
    for L, size in expected.items():
        assert bd.cell_size_units(L) == size


def test_dms_boundaries_snap_to_their_cell():
    # a point given in whole arc-seconds on a 4″ line must start that level-5 cell, despite float rounding
    lon = np.array([d + m / 60 + s / 3600 for d in (73, 116, 135) for m in range(0, 60, 7) for s in (0, 4, 32, 56)])
    lat = np.array([d + m / 60 + s / 3600 for d in (3, 39, 53) for m in range(0, 60, 7) for s in (0, 8, 44, 52)])
    box = bd.decode(bd.encode(lon, lat, 5))
    assert np.array_equal(np.round(box[:, 0] * U).astype(np.int64), np.floor(lon * U + 0.5).astype(np.int64))
    assert np.array_equal(np.round(box[:, 1] * U).astype(np.int64), np.floor(lat * U + 0.5).astype(np.int64))


# ------------------------------------------------------------------ 2D properties


def _contains(box, lon, lat):
    x0, y0, x1, y1 = box
    return x0 - TOL <= lon <= x1 + TOL and y0 - TOL <= lat <= y1 + TOL


@settings(max_examples=300, deadline=None)
@given(points, levels)
def test_decode_contains_point_and_has_exact_size(p, L):
    lon, lat = p
    code = bd.encode(lon, lat, L)
    assert len(code) == bd.LEVEL_LENGTHS[L]
    assert bd.level(code) == L
    box = bd.decode(code)
    assert _contains(box, lon, lat)
    dx, dy = bd.cell_size_units(L)
    assert round((box[2] - box[0]) * 3600 * 2048) == dx
    assert round((box[3] - box[1]) * 3600 * 2048) == dy
    assert code[0] == ("N" if lat >= 0 else "S")
    assert (box[0] >= 0) == (lon >= 0)


@settings(max_examples=200, deadline=None)
@given(points, levels)
def test_parent_is_prefix(p, L):
    full = bd.encode(*p, level=10)
    assert bd.parent(full, L) == bd.encode(*p, level=L) == full[: bd.LEVEL_LENGTHS[L]]


@settings(max_examples=50, deadline=None)
@given(st.lists(points, min_size=1, max_size=30), levels)
def test_array_equals_scalar(pts, L):
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    codes = bd.encode(lon, lat, L)
    assert isinstance(codes, np.ndarray) and codes.shape == (len(pts),)
    assert list(codes) == [bd.encode(x, y, L) for x, y in pts]
    boxes = bd.decode(codes)
    assert boxes.shape == (len(pts), 4)
    for code, row in zip(codes, boxes):
        assert tuple(row) == bd.decode(str(code))
    assert list(bd.level(codes)) == [L] * len(pts)
    assert list(bd.parent(bd.encode(lon, lat), L)) == list(codes)


def test_decode_mixed_levels():
    codes = [EX_CODE[: bd.LEVEL_LENGTHS[L]] for L in range(1, 11)]
    boxes = bd.decode(codes)
    for L, row in enumerate(boxes, start=1):
        assert tuple(row) == bd.decode(codes[L - 1])
    assert list(bd.level(codes)) == list(range(1, 11))


# ------------------------------------------------------------------ height


@settings(max_examples=300, deadline=None)
@given(st.floats(-11000, 100000))
def test_height_layer_bounds(h):
    code = bd.height_code(h)
    assert len(code) == 12
    lo = bd.decode_height(code)
    _, _, _, _, h_lo, h_hi = bd.decode_3d(bd.encode_3d(EX_LON, EX_LAT, h))
    assert h_lo == lo
    assert lo <= h < h_hi
    # the upper bound is the start of the next layer
    assert bd.decode_height(bd.height_code(h_hi)) == h_hi


@settings(max_examples=100, deadline=None)
@given(st.floats(-11000, 100000), levels)
def test_3d_partial_levels_nest(h, L):
    full = bd.decode_3d(bd.encode_3d(EX_LON, EX_LAT, h))
    part = bd.decode_3d(bd.encode_3d(EX_LON, EX_LAT, h, level=L))
    assert part[4] <= full[4] and full[5] <= part[5]
    assert part[:4] == bd.decode(EX_CODE[: bd.LEVEL_LENGTHS[L]])


def test_height_scalar_and_array_agree():
    hs = np.linspace(-11000, 100000, 257)
    codes = bd.height_code(hs)
    assert list(codes) == [bd.height_code(float(h)) for h in hs]
    assert np.array_equal(bd.decode_height(codes), [bd.decode_height(str(c)) for c in codes])


# ------------------------------------------------------------------ 3D layouts


def test_3d_layouts_example():
    inter = bd.encode_3d(EX_LON, EX_LAT, 50)
    app = bd.encode_3d(EX_LON, EX_LAT, 50, layout="appended")
    assert app == EX_CODE + "000000006414"
    # N + sign, then per level: 2D chars + height chars (level 1 takes the two-digit 6-bit group)
    assert inter == "N0" + "50J00" + "470" + "50" + "390" + "B80" + "20" + "556" + "344" + "611" + "524"
    assert len(inter) == len(app) == 32
    assert bd.layout_of(inter) == "interleaved" and bd.layout_of(app) == "appended"
    assert bd.to_layout(app, "interleaved") == inter
    assert bd.to_layout(inter, "appended") == app
    assert bd.to_layout(inter, "interleaved") == inter
    assert bd.decode_3d(inter) == bd.decode_3d(app)


@settings(max_examples=150, deadline=None)
@given(points, st.floats(-11000, 100000), levels)
def test_3d_layout_round_trip(p, h, L):
    inter = bd.encode_3d(*p, h, level=L)
    app = bd.encode_3d(*p, h, level=L, layout="appended")
    assert len(inter) == len(app) == bd.LEVEL_LENGTHS_3D[L]
    assert app[: bd.LEVEL_LENGTHS[L]] == bd.encode(*p, level=L)
    assert app[bd.LEVEL_LENGTHS[L]:] == bd.height_code(h)[: len(app) - bd.LEVEL_LENGTHS[L]]
    assert bd.to_layout(app) == inter
    assert bd.to_layout(inter, "appended") == app
    assert bd.to_layout(bd.to_layout(inter, "appended"), "interleaved") == inter
    box = bd.decode_3d(inter)
    assert box == bd.decode_3d(app)
    assert _contains(box[:4], *p) and box[4] <= h < box[5]


def test_3d_arrays_mixed_layouts():
    lon = np.array([EX_LON, 100.5, -70.25])
    lat = np.array([EX_LAT, 20.125, -33.5])
    h = np.array([50.0, 8848.86, -11034.0])
    inter = bd.encode_3d(lon, lat, h)
    app = bd.encode_3d(lon, lat, h, layout="appended")
    assert list(inter) == [bd.encode_3d(a, b, c) for a, b, c in zip(lon, lat, h)]
    mixed_codes = np.array([inter[0], app[1], inter[2]])
    assert list(bd.to_layout(mixed_codes)) == list(inter)
    assert list(bd.layout_of(mixed_codes)) == ["interleaved", "appended", "interleaved"]
    assert np.array_equal(bd.decode_3d(mixed_codes), bd.decode_3d(app))


# ------------------------------------------------------------------ cells


def _check_cover(poly, L):
    codes = bd.cells(poly, L)
    assert len(codes) > 0
    assert list(codes) == sorted(set(codes))
    assert all(bd.level(str(c)) == L for c in codes)
    boxes = bd.decode(codes)
    geoms = shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3])
    assert shapely.intersects(poly, geoms).all()
    union = shapely.union_all(geoms)
    assert poly.difference(union).area <= 1e-12 * poly.area
    # every point sampled inside the polygon lands in a returned cell
    x0, y0, x1, y1 = poly.bounds
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(x0, x1, 4000), rng.uniform(y0, y1, 4000)])
    inside = shapely.contains_xy(poly, pts[:, 0], pts[:, 1])
    assert np.isin(bd.encode(pts[inside, 0], pts[inside, 1], L), codes).all()
    return codes


def test_cells_small_polygon_level5():
    poly = shapely.Polygon([(116.300, 39.990), (116.312, 39.992), (116.309, 40.001), (116.302, 39.998)])
    codes = _check_cover(poly, 5)
    assert bd.encode(116.305, 39.995, 5) in codes


def test_cells_level6_and_multipolygon():
    a = shapely.Polygon([(116.3001, 39.9901), (116.3021, 39.9903), (116.3011, 39.9921)])
    b = shapely.box(121.47, 31.23, 121.4712, 31.2311)
    codes = _check_cover(shapely.MultiPolygon([a, b]), 6)
    assert {c[:4] for c in codes} == {"N50J", "N51H"}


def test_cells_across_equator_and_greenwich():
    poly = shapely.Polygon([(-0.6, -0.4), (0.7, -0.5), (0.5, 0.6), (-0.4, 0.3)])
    codes = _check_cover(poly, 2)
    assert {c[0] for c in codes} == {"N", "S"}
    assert {c[1:3] for c in codes} == {"30", "31"}


def test_cells_empty_and_errors():
    assert bd.cells(shapely.Polygon(), 3).size == 0
    with pytest.raises(TypeError):
        bd.cells(shapely.Point(116, 40), 3)
    with pytest.raises(ValueError, match="polar"):
        bd.cells(shapely.box(10, 87, 11, 89), 2)
    with pytest.raises(ValueError, match="max_candidates"):
        bd.cells(shapely.box(100, 30, 110, 40), 6, max_candidates=10_000)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("lat", [88.0, -88.0, 89.5, 90.0])
def test_polar_latitude_rejected(lat):
    with pytest.raises(ValueError, match="polar"):
        bd.encode(116.0, lat)


def test_polar_in_array_names_index():
    with pytest.raises(ValueError, match="index 2"):
        bd.encode([116.0, 117.0, 118.0], [30.0, 40.0, 88.5])


def test_nan_and_longitude_rejected():
    with pytest.raises(ValueError, match="index 1"):
        bd.encode([116.0, math.nan], [30.0, 40.0])
    with pytest.raises(ValueError, match="lon"):
        bd.encode(180.0, 30.0)
    with pytest.raises(ValueError, match="index 0"):
        bd.height_code([math.inf])


@pytest.mark.parametrize("level", [0, 11, 2.0, True])
def test_bad_level_rejected(level):
    with pytest.raises(ValueError, match="level"):
        bd.encode(116.0, 30.0, level)


@pytest.mark.parametrize("code", ["", "N5", "N50J4", "N50J47539B825534615", EX_CODE + "0"])
def test_bad_length_rejected(code):
    with pytest.raises(ValueError, match=repr(code).replace("(", r"\(")):
        bd.level(code)
    with pytest.raises(ValueError, match="length"):
        bd.decode(code)


@pytest.mark.parametrize("code", [
    "X50J47539B8255346152",  # hemisphere
    "N00J47539B8255346152",  # level-1 column 0
    "N61J47539B8255346152",  # level-1 column 61
    "N50W47539B8255346152",  # row beyond V (88°)
    "N50JC7539B8255346152",  # level 2 column 12
    "N50J48539B8255346152",  # level 2 row 8
    "N50J47639B8255346152",  # level 3 digit 6
    "N50J4753FB8255346152",  # level 4 col F (15 columns only)
    "N50J4753AB8255346152",  # level 4 row A (10 rows only)
    "N50J47539F8255346152",  # level 5 col F
    "N50J47539B8455346152",  # level 6 digit 4
    "N50J47539B8285346152",  # octal 8
    "n50J47539B8255346152",  # lower case hemisphere
    "N50j47539B8255346152",  # lower case row
    "N50J47539b8255346152",  # lower case hex
    "N50J47539B82553461５2",  # non-ASCII digit
])
def test_bad_characters_rejected(code):
    with pytest.raises(ValueError, match="invalid BeiDou grid code"):
        bd.decode(code)
    with pytest.raises(ValueError):
        bd.parent(code, 1)


def test_error_names_first_bad_code_in_array():
    with pytest.raises(ValueError, match=r"'N50J4763'.*index 1"):
        bd.decode(["N50J475", "N50J4763"])
    with pytest.raises(ValueError, match="coarser"):
        bd.parent("N50J475", 4)


@pytest.mark.parametrize("code", ["00000000641", "200000006414", "000000006418", "064000006414",
                                  "000020006414", "100000000000"])
def test_bad_height_codes(code):
    with pytest.raises(ValueError):
        bd.decode_height(code)


def test_bad_3d_codes():
    with pytest.raises(ValueError, match="layout"):
        bd.encode_3d(116.0, 40.0, 0.0, layout="stacked")
    with pytest.raises(ValueError, match="3D code length"):
        bd.decode_3d(EX_CODE[:19])
    with pytest.raises(ValueError, match="layout"):
        bd.to_layout("N50x" + EX_CODE[4:] + "000000006414")
    with pytest.raises(ValueError, match="invalid"):
        bd.decode_3d(EX_CODE + "200000006414")


def test_valid_is_the_non_raising_twin_of_decode():
    bad = ["N50J47539B825534615", "n50J47539B8255346152", "N50J47539B8255346158", "N50W", "N61A", "N50J4G", "",
           "北50J", "N50J47539B8255346152X"]
    got = bd.valid([EX_CODE, EX_CODE[:4], EX_CODE[:12], *bad, None, float("nan")])
    assert got.tolist() == [True, True, True] + [False] * (len(bad) + 2)
    for code in bad:
        with pytest.raises(ValueError):
            bd.decode(code)
    assert bd.valid(EX_CODE).tolist() == [True]


@given(st.lists(points, min_size=1, max_size=30), levels)
@settings(max_examples=60, deadline=None)
def test_valid_accepts_every_encoded_code(pts, lvl):
    lon, lat = np.array(pts).T
    assert bd.valid(bd.encode(lon, lat, lvl)).all()
