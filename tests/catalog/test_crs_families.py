"""Every CRS a Chinese department delivers in, read through the catalog into EPSG:4490 (issue 13, item 2).

Per CRS family: geometry known in EPSG:4490 (points, lines, polygons around Suizhou/Wuhan, and near Urumqi for
the western zones) is transformed into the family's CRS, written in each format with that CRS, and read back through
:meth:`Catalog.read` with ``crs:`` declared. The result must be in EPSG:4490, name its source CRS, and lie within
1 mm of the original, measured in metres in the local Gauss-Krüger zone.

How the files are written matters more than it seems:

- CGCS2000 zones (and a CGCS2000-based local system) are written with pyproj's own ``Transformer.from_crs``, which
  is independent of the reader;
- Xi'an 1980 and Beijing 1954 have no transformation to CGCS2000 in the EPSG registry; PROJ then keeps latitude and
  longitude unchanged (a "ballpark" operation). The file is written with the inverse of the very transformer the
  reader uses (:func:`cimlib.catalog._crs.workbench_transformer`), and pyproj's default choice is checked to be the
  same operation;
- a local system with seven parameters is written with a hand-built PROJ pipeline (inverse TM, geocentric,
  position-vector Helmert, geocentric to CGCS2000), so the test says what the parameters must mean rather than
  repeating the reader. A 2D Helmert does not invert exactly (the height is unknown on both sides; at the
  translations of a real Beijing 1954 parameter set this is about 2 mm), so the coordinates written are the ones
  that this pipeline maps onto the original positions (solved by fixed-point iteration).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
import yaml
from catalog_helpers import entry

from cimlib.catalog import Catalog, CatalogWarning, CRSMismatchError
from cimlib.catalog._crs import workbench_transformer
from cimlib.catalog.readers._util import crs_equal, crs_label
from cimlib.geo import gauss_kruger_crs

TOLERANCE_M = 0.001
WORKBENCH = "EPSG:4490"

# --------------------------------------------------------------------------- CRS families

# Seven parameters as a Hubei city might publish them for its Beijing 1954-based local grid (position vector, ppm).
TOWGS84 = "-15.4,138.2,52.6,0.31,-0.42,1.25,-2.3"
LOCAL_PROJ = ("+proj=tmerc +lat_0=0 +lon_0=114.333333 +k=1 +x_0=50000 +y_0=-3400000 +ellps=krass "
              f"+towgs84={TOWGS84} +units=m +no_defs")
# The same system as a WKT1 with TOWGS84 and a name, as GDAL writes it into a GeoPackage.
LOCAL_WKT1 = pyproj.CRS(LOCAL_PROJ).to_wkt("WKT1_GDAL").replace('PROJCS["unknown"', 'PROJCS["Suizhou_Local_1954"', 1)
# A local system on the CGCS2000 datum (central meridian 113°22', offsets): no parameters needed; an ArcGIS .prj.
LOCAL_CGCS2000_ESRI = (
    'PROJCS["Suizhou_City_2000",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",'
    'SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
    'PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",80000.0],PARAMETER["False_Northing",-3450000.0],'
    'PARAMETER["Central_Meridian",113.3666666666667],PARAMETER["Scale_Factor",1.0],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')


def _local_wkt2_bound_to_cgcs2000() -> str:
    """The local system as a WKT2 BOUNDCRS whose parameters lead to CGCS2000 itself."""
    doc = pyproj.CRS(LOCAL_PROJ).to_json_dict()
    doc["target_crs"] = pyproj.CRS(WORKBENCH).to_json_dict()
    return pyproj.CRS.from_json_dict(doc).to_wkt("WKT2_2019")


LOCAL_WKT2 = _local_wkt2_bound_to_cgcs2000()

# id: (declared crs, region, how the file is written: "pyproj" | "workbench" | "helmert")
FAMILIES = {
    "cgcs2000-geographic": ("EPSG:4490", "hubei", "pyproj"),
    "cgcs2000-gk3-zone38": ("EPSG:4526", "hubei", "pyproj"),
    "cgcs2000-gk3-zone29-xinjiang": ("EPSG:4517", "xinjiang", "pyproj"),
    "cgcs2000-gk3-cm114": ("EPSG:4547", "hubei", "pyproj"),
    "cgcs2000-gk3-cm87-xinjiang": ("EPSG:4538", "xinjiang", "pyproj"),
    "cgcs2000-gk6-zone19": ("EPSG:4497", "hubei", "pyproj"),
    "cgcs2000-gk6-zone15-xinjiang": ("EPSG:4493", "xinjiang", "pyproj"),
    "cgcs2000-gk6-cm111": ("EPSG:4508", "hubei", "pyproj"),
    "cgcs2000-gk6-cm87-xinjiang": ("EPSG:4504", "xinjiang", "pyproj"),
    "xian80-gk3-zone38": ("EPSG:2362", "hubei", "workbench"),
    "xian80-gk3-cm114": ("EPSG:2383", "hubei", "workbench"),
    "xian80-gk6-zone19": ("EPSG:2333", "hubei", "workbench"),
    "xian80-gk6-zone15-xinjiang": ("EPSG:2329", "xinjiang", "workbench"),
    "xian80-gk6-cm111": ("EPSG:2344", "hubei", "workbench"),
    "beijing54-gk3-zone38": ("EPSG:2414", "hubei", "workbench"),
    "beijing54-gk3-cm114": ("EPSG:2435", "hubei", "workbench"),
    "beijing54-gk6-zone19": ("EPSG:21419", "hubei", "workbench"),
    "beijing54-gk6-cm87-xinjiang": ("EPSG:21455", "xinjiang", "workbench"),
    "local-proj-towgs84": (LOCAL_PROJ, "hubei", "helmert"),
    "local-wkt1-towgs84": (LOCAL_WKT1, "hubei", "helmert"),
    "local-wkt2-bound": (LOCAL_WKT2, "hubei", "helmert"),
    "local-cgcs2000-esri-wkt": (LOCAL_CGCS2000_ESRI, "hubei", "pyproj"),
}
APPROXIMATE = {k for k in FAMILIES if k.startswith(("xian80", "beijing54"))}
_LOCAL_LABEL = ("+proj=tmerc +lat_0=0 +lon_0=114.333333 +k=1 +x_0=50000 +y_0=-3400000 +ellps=krass "
                f"+towgs84={TOWGS84} +units=m")
SOURCE_LABELS = {"local-proj-towgs84": _LOCAL_LABEL, "local-wkt1-towgs84": _LOCAL_LABEL,
                 "local-wkt2-bound": _LOCAL_LABEL, "local-cgcs2000-esri-wkt": "Suizhou_City_2000"}
"""``attrs["source_crs"]`` expected where it is not the declared text (an EPSG code)."""
MAX_ERROR_M: dict[tuple[str, str], float] = {}
"""Largest round-trip error per (family, format), filled by the tests (for the report)."""


def _helmert_pipeline() -> pyproj.Transformer:
    """LOCAL_PROJ to CGCS2000 lon/lat as the seven parameters define it (independent of the reader)."""
    dx, dy, dz, rx, ry, rz, ds = TOWGS84.split(",")
    return pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +inv +proj=tmerc +lat_0=0 +lon_0=114.333333 +k=1 +x_0=50000 +y_0=-3400000 "
        "+ellps=krass +step +proj=push +v_3 +step +proj=cart +ellps=krass "
        f"+step +proj=helmert +x={dx} +y={dy} +z={dz} +rx={rx} +ry={ry} +rz={rz} +s={ds} +convention=position_vector "
        "+step +inv +proj=cart +ellps=GRS80 +step +proj=pop +v_3 +step +proj=unitconvert +xy_in=rad +xy_out=deg")


# --------------------------------------------------------------------------- original geometry (EPSG:4490)

_CENTRES = {"hubei": (113.38, 31.69), "xinjiang": (87.62, 43.83)}  # Suizhou; Urumqi


def _original(region: str) -> gpd.GeoDataFrame:
    """Points, lines and polygons (one with a hole, one multi) around a region's centre, in EPSG:4490."""
    x, y = _CENTRES[region]
    far = (114.30, 30.59) if region == "hubei" else (88.20, 44.30)  # Wuhan; a second point ~100 km away
    outer = [(x - 0.03, y - 0.02), (x + 0.04, y - 0.02), (x + 0.04, y + 0.03), (x - 0.03, y + 0.03)]
    hole = [(x - 0.01, y - 0.005), (x + 0.01, y - 0.005), (x + 0.01, y + 0.01)]
    geoms = [
        shapely.Point(x, y),
        shapely.Point(*far),
        shapely.LineString([(x, y), ((x + far[0]) / 2, (y + far[1]) / 2 + 0.05), far]),
        shapely.Polygon(outer, [hole]),
        shapely.MultiPolygon([shapely.box(x + 0.1, y + 0.1, x + 0.1003, y + 0.1002),
                              shapely.box(x + 0.2, y - 0.1, x + 0.2004, y - 0.0997)]),
        shapely.Polygon([(far[0], far[1]), (far[0] + 0.0004, far[1]), (far[0] + 0.0004, far[1] + 0.0003)]),
    ]
    codes = [f"{i:03d}" for i in range(1, len(geoms) + 1)]
    return gpd.GeoDataFrame({"code": codes, "name": [f"要素{i}" for i in range(len(geoms))]}, geometry=geoms,
                            crs=WORKBENCH)


def _apply(geoms, fn) -> np.ndarray:
    return shapely.transform(np.asarray(geoms, dtype=object), fn, interleaved=False)


def _solve(forward, inverse):
    """The inverse of ``forward`` to machine precision: start from ``inverse``, then fixed-point iterations."""

    def solved(lon, lat):
        x0, y0 = inverse(lon, lat)
        x, y = x0, y0
        for _ in range(4):
            bx, by = inverse(*forward(x, y))
            x, y = x + (x0 - bx), y + (y0 - by)
        return x, y

    return solved


def _to_family(original: gpd.GeoDataFrame, family: str) -> gpd.GeoDataFrame:
    """The original layer as a department writes it in the family's CRS."""
    crs, _, how = FAMILIES[family]
    if how == "pyproj":
        forward = pyproj.Transformer.from_crs(WORKBENCH, crs, always_xy=True).transform
    elif how == "workbench":
        reader = workbench_transformer(crs)
        forward = lambda lon, lat: reader.transform(lon, lat, direction="INVERSE")  # noqa: E731
    else:
        pipeline = _helmert_pipeline()
        forward = _solve(pipeline.transform, lambda lon, lat: pipeline.transform(lon, lat, direction="INVERSE"))
    out = original.copy()
    out["geometry"] = gpd.GeoSeries(_apply(original.geometry.to_numpy(), forward), index=original.index)
    return out.set_crs(pyproj.CRS.from_user_input(crs), allow_override=True)


def _error_m(got: gpd.GeoSeries, want: gpd.GeoSeries) -> float:
    """Largest distance between corresponding vertices, in metres in the local CGCS2000 Gauss-Krüger zone.

    Ring orientation may change on write (shapefiles are clockwise), so vertices are matched by the discrete
    Hausdorff distance; the vertex count must be the same.
    """
    assert str(got.crs) == WORKBENCH or got.crs.equals(WORKBENCH)
    lon = float(np.median(shapely.get_x(shapely.centroid(want.to_numpy()))))
    zone = gauss_kruger_crs(lon)
    a = got.to_crs(zone).to_numpy()
    b = want.to_crs(zone).to_numpy()
    assert (shapely.get_num_coordinates(a) == shapely.get_num_coordinates(b)).all()
    assert np.isfinite(shapely.get_coordinates(a)).all()
    return float(shapely.hausdorff_distance(a, b).max())


# --------------------------------------------------------------------------- writing and reading


def _gdal_writable(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """GDAL stores WKT1, where parameters can only lead to WGS 84: a CRS bound to CGCS2000 goes without them."""
    try:
        layer.crs.to_wkt("WKT1_GDAL")
        return layer
    except pyproj.exceptions.CRSError:
        return layer.set_crs(layer.crs.source_crs, allow_override=True)


def _write(layer: gpd.GeoDataFrame, fmt: str, folder: Path) -> tuple[str, dict]:
    """Write ``layer`` in ``fmt``; returns the catalog path and options."""
    if fmt == "gpkg":
        _gdal_writable(layer).to_file(folder / "layer.gpkg", layer="jzw", driver="GPKG")
        return "layer.gpkg", {"layer": "jzw"}
    if fmt == "geoparquet":
        layer.to_parquet(folder / "layer.parquet")
        return "layer.parquet", {}
    if fmt == "geoparquet-folder":
        parts = folder / "parts"
        parts.mkdir()
        layer.iloc[:3].to_parquet(parts / "part-0.parquet")
        layer.iloc[3:].to_parquet(parts / "part-1.parquet")
        return "parts", {}
    points = layer[layer.geom_type == "Point"]
    table = pd.DataFrame({"code": points["code"], "name": points["name"],
                          "东坐标": points.geometry.x, "北坐标": points.geometry.y})
    options = {"x": "东坐标", "y": "北坐标"}
    if fmt == "csv":
        table.to_csv(folder / "points.csv", index=False, encoding="utf-8")
        return "points.csv", options
    if fmt == "xlsx":
        table.to_excel(folder / "points.xlsx", index=False, sheet_name="点位")
        return "points.xlsx", {**options, "sheet": "点位"}
    if fmt == "parquet":
        table.to_parquet(folder / "points.parquet")
        return "points.parquet", options
    raise AssertionError(fmt)


def _read(tmp_path: Path, write_catalog, fmt: str, path: str, crs: str, options: dict):
    reader_format = "geoparquet" if fmt == "geoparquet-folder" else fmt
    catalog = Catalog.load(write_catalog([entry("layer", reader_format, path, crs=crs, options=options or None)]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = catalog.read("layer")
        if hasattr(frame, "compute"):
            frame = frame.compute()
    return frame, [str(w.message) for w in caught if issubclass(w.category, CatalogWarning)], catalog


def _check(family: str, fmt: str, frame, original: gpd.GeoDataFrame, messages: list[str]) -> None:
    crs = FAMILIES[family][0]
    assert frame.crs.equals(WORKBENCH)
    frame = frame.sort_values("code")
    want = original.set_index("code").loc[frame["code"]].geometry
    error = _error_m(frame.geometry, gpd.GeoSeries(want.to_numpy(), crs=WORKBENCH))
    MAX_ERROR_M[(family, fmt)] = error
    assert error < TOLERANCE_M, f"{family} via {fmt}: {error * 1000:.3f} mm"
    if crs != WORKBENCH:
        assert frame.attrs["source_crs"] == SOURCE_LABELS.get(family, crs)
    approximate = [m for m in messages if "+towgs84" in m]
    if family in APPROXIMATE:
        assert len(approximate) == 1, messages
        assert "数十米" in approximate[0] and "'layer'" in approximate[0] and crs in approximate[0]
    else:
        assert not approximate, messages


@pytest.mark.parametrize("fmt", ["gpkg", "geoparquet", "csv", "xlsx", "parquet"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_round_trip_within_1mm(tmp_path, write_catalog, family, fmt):
    crs, region, _ = FAMILIES[family]
    original = _original(region)
    path, options = _write(_to_family(original, family), fmt, tmp_path)
    frame, messages, _ = _read(tmp_path, write_catalog, fmt, path, crs, options)
    if fmt in ("csv", "xlsx", "parquet"):
        original = original[original.geom_type == "Point"]
    assert len(frame) == len(original)
    _check(family, fmt, frame, original, messages)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_round_trip_shapefile(tmp_path, write_catalog, family):
    """A shapefile per geometry type; GDAL writes the .prj an ArcGIS/QGIS export would (ESRI WKT, no TOWGS84)."""
    crs, region, _ = FAMILIES[family]
    original = _original(region)
    layer = _to_family(original, family)
    for kind, types in {"points": ["Point"], "lines": ["LineString"], "polygons": ["Polygon", "MultiPolygon"]}.items():
        folder = tmp_path / kind
        folder.mkdir()
        _gdal_writable(layer[layer.geom_type.isin(types)]).to_file(folder / f"{kind}.shp", encoding="UTF-8")
        prj = (folder / f"{kind}.prj").read_text()
        assert "TOWGS84" not in prj and prj.startswith(("PROJCS", "GEOGCS"))
        frame, messages, _ = _read(folder, write_catalog, "shapefile", f"{kind}/{kind}.shp", crs, {})
        _check(family, f"shapefile-{kind}", frame, original[original.geom_type.isin(types)], messages)


@pytest.mark.parametrize("family", ["cgcs2000-gk3-zone38", "xian80-gk3-zone38", "local-proj-towgs84"])
def test_family_round_trip_dask_geoparquet_folder(tmp_path, write_catalog, family):
    import dask_geopandas

    crs, region, _ = FAMILIES[family]
    original = _original(region)
    path, options = _write(_to_family(original, family), "geoparquet-folder", tmp_path)
    catalog = Catalog.load(write_catalog([entry("layer", "geoparquet", path, crs=crs)]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lazy = catalog.read("layer")
    assert isinstance(lazy, dask_geopandas.GeoDataFrame)
    assert lazy.crs.equals(WORKBENCH)
    frame = lazy.compute()
    _check(family, "geoparquet-folder", frame, original,
           [str(w.message) for w in caught if issubclass(w.category, CatalogWarning)])


# --------------------------------------------------------------------------- the .prj an ArcGIS export writes

ARCGIS_PRJ = {
    "EPSG:4526": (
        'PROJCS["CGCS2000_3_Degree_GK_Zone_38",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
        'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",38500000.0],'
        'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",114.0],PARAMETER["Scale_Factor",1.0],'
        'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'),
    "EPSG:4547": (
        'PROJCS["CGCS2000_3_Degree_GK_CM_114E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
        'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],'
        'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",114.0],PARAMETER["Scale_Factor",1.0],'
        'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'),
}


def _shapefile_with_prj(folder: Path, declared: str, prj: str) -> None:
    original = _original("hubei")
    layer = pyproj.Transformer.from_crs(WORKBENCH, declared, always_xy=True)
    polys = original[original.geom_type.isin(["Polygon", "MultiPolygon"])].copy()
    polys["geometry"] = gpd.GeoSeries(_apply(polys.geometry.to_numpy(), layer.transform), index=polys.index)
    polys.set_crs(declared, allow_override=True).to_file(folder / "jzw.shp", encoding="UTF-8")
    (folder / "jzw.prj").write_text(prj, encoding="ascii")


@pytest.mark.parametrize("declared", list(ARCGIS_PRJ))
def test_arcgis_prj_is_the_declared_zone(tmp_path, write_catalog, declared):
    _shapefile_with_prj(tmp_path, declared, ARCGIS_PRJ[declared])
    catalog = Catalog.load(write_catalog([entry("jzw", "shapefile", "jzw.shp", crs=declared)]))
    frame = catalog.read("jzw")
    assert frame.crs.equals(WORKBENCH) and frame.attrs["source_crs"] == declared
    original = _original("hubei")
    want = original[original.geom_type.isin(["Polygon", "MultiPolygon"])].geometry
    assert _error_m(frame.geometry, want) < TOLERANCE_M
    info = catalog.describe("jzw")
    assert info["crs"] == declared and info["crs_declared"] == declared and info["crs_matches"] is True
    assert crs_equal(pyproj.CRS.from_wkt(ARCGIS_PRJ[declared]), declared)  # the raw text too, not only GDAL's match


@pytest.mark.parametrize("prj, declared", [
    ("EPSG:4526", "EPSG:4527"),  # zone 38 file, zone 39 declared
    ("EPSG:4526", "EPSG:4547"),  # same meridian, but the file carries the zone prefix and the catalog does not
    ("EPSG:4547", "EPSG:2383"),  # CGCS2000 file, Xi'an 1980 declared
])
def test_wrong_zone_is_still_a_mismatch(tmp_path, write_catalog, prj, declared):
    _shapefile_with_prj(tmp_path, prj, ARCGIS_PRJ[prj])
    catalog = Catalog.load(write_catalog([entry("jzw", "shapefile", "jzw.shp", crs=declared)]))
    with pytest.raises(CRSMismatchError) as info:
        catalog.read("jzw")
    assert declared in str(info.value) and "jzw.shp" in str(info.value)
    assert catalog.describe("jzw")["crs_matches"] is False


def test_local_system_file_without_parameters_takes_the_declared_ones(tmp_path, write_catalog):
    """A .prj cannot carry +towgs84: the catalog's parameters are used, not silently dropped."""
    original = _original("hubei")
    layer = _to_family(original, "local-proj-towgs84")
    base_only = layer.set_crs(pyproj.CRS(LOCAL_PROJ).source_crs, allow_override=True)
    base_only.to_parquet(tmp_path / "jzw.parquet")
    catalog = Catalog.load(write_catalog([entry("jzw", "geoparquet", "jzw.parquet", crs=LOCAL_PROJ)]))
    frame = catalog.read("jzw")
    assert _error_m(frame.geometry, original.geometry) < TOLERANCE_M
    # without the parameters PROJ would keep lat/lon of the Krassovsky ellipsoid: about 19 m off here
    ballpark = pyproj.Transformer.from_crs(pyproj.CRS(LOCAL_PROJ).source_crs, WORKBENCH, always_xy=True)
    dropped = gpd.GeoSeries(_apply(layer.geometry.to_numpy(), ballpark.transform), crs=WORKBENCH)
    assert _error_m(dropped, original.geometry) > 5


# --------------------------------------------------------------------------- every zone code, in memory

CODES = [*range(4491, 4555), *range(2327, 2391), *range(2401, 2443), *range(21413, 21424), *range(21453, 21464)]


@pytest.mark.parametrize("code", CODES)
def test_every_zone_code(code):
    """Each zone: ESRI .prj text equals it (not its neighbour), no grid used, the round trip closes, warned if
    the datum is not CGCS2000."""
    crs = pyproj.CRS.from_epsg(code)
    assert crs.name.startswith(("CGCS2000 /", "Xian 1980 /", "Beijing 1954 /")), crs.name
    esri = pyproj.CRS.from_wkt(crs.to_wkt("WKT1_ESRI"))
    assert crs_equal(esri, f"EPSG:{code}") and crs_label(esri) == f"EPSG:{code}"
    for neighbour in (code - 1, code + 1):
        if neighbour in CODES:
            assert not crs_equal(esri, f"EPSG:{neighbour}")
    transformer = workbench_transformer(f"EPSG:{code}")
    assert "grids=" not in transformer.definition
    cm = float(crs.coordinate_operation.params[1].value)  # central meridian
    lon = np.array([cm - 1.4, cm, cm + 1.4])
    lat = np.array([25.0, 35.0, 45.0])
    x, y = transformer.transform(lon, lat, direction="INVERSE")
    assert np.isfinite(x).all() and (np.abs(x % 1_000_000 - 500_000) < 200_000).all()
    back_lon, back_lat = transformer.transform(x, y)
    metres = np.hypot((back_lon - lon) * 111_320 * np.cos(np.radians(lat)), (back_lat - lat) * 110_570)
    assert metres.max() < TOLERANCE_M
    # the operation is the one GIS software picks by default (pyproj/QGIS): same answer within 1 mm
    default_lon, default_lat = pyproj.Transformer.from_crs(crs, WORKBENCH, always_xy=True).transform(x, y)
    metres = np.hypot((default_lon - lon) * 111_320 * np.cos(np.radians(lat)), (default_lat - lat) * 110_570)
    assert metres.max() < TOLERANCE_M
    from cimlib.catalog._crs import _operation, _source_wkt

    assert _operation(_source_wkt(crs)).approximate is (not crs.name.startswith("CGCS2000"))



# --------------------------------------------------------------------------- coordinates that cannot be in the zone


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from cimlib.demo import build_sample_city

    return build_sample_city(tmp_path_factory.mktemp("crs") / "city", seed=7, scale="small", progress=False).parent


def _entry_doc(base: Catalog, name: str, path: Path, **change) -> dict:
    e = base[name]
    doc = {"name": e.name, "title_zh": e.title_zh, "layer": e.layer, "format": e.format, "path": str(path),
           "schema": e.schema, "owner": e.owner, "classification": e.classification, "update_cycle": e.update_cycle,
           "crs": e.crs, "id_column": e.id_column, "options": dict(e.options) or None, **change}
    return {k: v for k, v in doc.items() if v is not None}


@pytest.mark.parametrize("dataset, kind, crs", [
    ("buildings", "degrees", "EPSG:4526"),  # degrees in a zone with its prefix: PROJ gives infinity
    ("buildings", "degrees", "EPSG:4547"),  # degrees without the prefix: a point near the equator
    ("buildings", "swapped", "EPSG:4526"),  # northing and easting exchanged: beyond the pole, infinity
    ("buildings", "swapped", "EPSG:4547"),  # exchanged without the prefix: in the Pacific
    ("addresses", "swapped", "EPSG:4526"),
])
def test_coordinates_impossible_in_the_declared_zone_are_geo004(city, tmp_path, dataset, kind, crs):
    """The records whose coordinates cannot belong to the declared zone, and only those, are GEO-004; every other
    rule still runs on the layer (infinite coordinates break none of them)."""
    from cimlib.geo import inside_china
    from standards_checks import run_checks

    base = Catalog.load(city / "data_catalog.yaml")
    original = base.read(dataset)
    id_column = base[dataset].id_column
    layer = original.to_crs(crs)  # what the department delivers: metres in the zone
    present = ~(original.geometry.isna() | original.geometry.is_empty).to_numpy()
    broken = original.index[present][::7][:12]
    if kind == "degrees":  # pasted from another file in lon/lat
        layer.loc[broken, "geometry"] = original.geometry.loc[broken].to_numpy()
    else:
        layer.loc[broken, "geometry"] = shapely.transform(layer.geometry.loc[broken].to_numpy(), lambda xy: xy[:, ::-1])
    path = tmp_path / f"{dataset}.parquet"
    layer.to_parquet(path)
    entries = [_entry_doc(base, "admin_areas", base["admin_areas"].resolved_path),
               _entry_doc(base, dataset, path, crs=crs)]
    catalog_path = tmp_path / "data_catalog.yaml"
    catalog_path.write_text(yaml.safe_dump({"version": 1, "entries": entries}, allow_unicode=True), encoding="utf-8")

    result = run_checks(Catalog.load(catalog_path))

    findings = result.findings[result.findings["dataset"] == dataset]
    already = set(original.loc[present & ~inside_china(original.geometry.to_numpy()), id_column])
    assert set(findings.loc[findings["rule_id"] == "GEO-004", "record_id"]) == \
        set(original.loc[broken, id_column]) | already
    failed = findings[(findings["rule_id"] == "SYS-001")
                      | (findings["rule_id"] == "SYS-006") & findings["message"].str.contains("无法执行")]
    assert failed.empty, failed["message"].tolist()  # a rule that raised (not one lacking the houses it needs)
    summary = result.summary[result.summary["dataset"] == dataset].set_index("rule_id")
    assert summary.loc["GEO-004", "checked"] == len(original)
    rules = set(summary.index[summary["checked"] > 0])
    assert {"GEO-001", "GEO-003", "BLD-006" if dataset == "buildings" else "GEO-002"} <= rules and len(rules) > 6
    # a finding's location is a place on the map or nothing, never a point at infinity
    located = findings["geometry"].dropna()
    assert not located.str.contains("inf", case=False).any()


# --------------------------------------------------------------------------- the inventory names the source CRS


def test_inventory_shows_declared_file_and_workbench_crs(tmp_path, write_catalog):
    from cimlib.reports import INVENTORY_LABELS, write_inventory

    original = _original("hubei")
    _to_family(original, "cgcs2000-gk3-zone38").to_file(tmp_path / "jzw.gpkg", layer="jzw", driver="GPKG")
    path, options = _write(_to_family(original, "local-proj-towgs84"), "csv", tmp_path)
    catalog = write_catalog([entry("jzw", "gpkg", "jzw.gpkg", crs="EPSG:4526"),
                             entry("points", "csv", path, crs=LOCAL_PROJ, options=options),
                             entry("plain", "csv", path)])
    write_inventory(catalog, tmp_path / "inv", progress=False)
    table = pd.read_csv(tmp_path / "inv" / "inventory.csv", encoding="utf-8-sig").set_index("name")
    assert table.loc["jzw", "crs_declared"] == "EPSG:4526" and table.loc["jzw", "crs"] == "EPSG:4526"
    assert table.loc["jzw", "crs_workbench"] == WORKBENCH and table.loc["points", "crs_workbench"] == WORKBENCH
    assert table.loc["points", "crs_declared"] == LOCAL_PROJ
    assert pd.isna(table.loc["plain", "crs_workbench"])  # a table without coordinates has no CRS
    labels = {k: INVENTORY_LABELS[k] for k in ("crs_declared", "crs", "crs_workbench")}
    assert labels == {"crs_declared": "声明坐标系", "crs": "文件坐标系", "crs_workbench": "工作坐标系"}
    page = (tmp_path / "inv" / "inventory.html").read_text(encoding="utf-8")
    assert all(f"<th>{label}</th>" in page for label in labels.values())
    assert "EPSG:4526" in page and f"（{WORKBENCH}）" in page
