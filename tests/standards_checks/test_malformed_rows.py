"""Random malformed rows thrown at the checks (hypothesis): findings, never an unhandled exception."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cimlib.catalog import Catalog
from cimlib.demo import build_sample_city
from standards_checks.api import FINDINGS_COLUMNS, RULES
from standards_checks.backends.pandas import Context, check_dataset

SCHEMAS = ["buildings", "addresses", "persons", "houses", "units", "devices", "admin_areas", "roads", "tasks",
           "address_pipeline", "control_lines"]
ROWS = 30

junk = st.one_of(
    st.none(), st.just(np.nan), st.just(float("inf")), st.just(""), st.just("   "), st.text(max_size=24),
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.binary(max_size=8), st.dates(min_value=dt.date(1, 1, 1)), st.just(pd.NaT), st.just("42130319800101001X"),
    st.lists(st.integers(), max_size=2),
)
coordinate = st.floats(allow_nan=True, allow_infinity=True, width=64)
bad_geometry = st.one_of(
    st.none(), st.just(shapely.Polygon()), st.just(shapely.Point()), st.just(shapely.GeometryCollection()),
    st.just(shapely.Polygon([(113.30, 31.30), (113.31, 31.31), (113.31, 31.30), (113.30, 31.31)])),
    st.builds(lambda x, y: shapely.Point(x, y), coordinate, coordinate),
    st.builds(lambda x, y: shapely.LineString([(x, y), (y, x)]), coordinate, coordinate),
    st.builds(lambda x, y, z: shapely.Polygon([(x, y, z), (x + 0.01, y, z), (x, y + 0.01, z)]),
              st.floats(-200, 200), st.floats(-100, 100), coordinate),
    st.just(shapely.MultiPolygon([shapely.box(113.3, 31.3, 113.31, 31.31), shapely.box(113.305, 31.305, 113.32, 31.32)])),
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    city = build_sample_city(tmp_path_factory.mktemp("hyp") / "city", seed=11, scale="small", progress=False).parent
    catalog = Catalog.load(city / "data_catalog.yaml")
    ctx = Context(catalog, period="2024-09")
    frames = {}
    for name in SCHEMAS:
        frame = ctx.frame(name)
        frames[name] = frame.iloc[:ROWS].copy()
    return catalog, ctx, frames


def _mutate(frame, data) -> pd.DataFrame:
    out = frame.copy()
    cols = [c for c in out.columns if c != "geometry"]
    drop = data.draw(st.sets(st.sampled_from(cols), max_size=2), label="dropped columns")
    for row, col, value in data.draw(st.lists(st.tuples(st.integers(0, len(out) - 1), st.sampled_from(cols), junk),
                                              min_size=1, max_size=12), label="cells"):
        out[col] = out[col].astype(object)
        out.iat[row, out.columns.get_loc(col)] = value
    if "geometry" in out.columns:
        geoms = out.geometry.to_numpy().copy()
        for row, g in data.draw(st.lists(st.tuples(st.integers(0, len(out) - 1), bad_geometry), max_size=6),
                                label="geometries"):
            geoms[row] = g
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    if data.draw(st.booleans(), label="duplicate a row"):
        out = pd.concat([out, out.iloc[[0]]])
    return out.drop(columns=sorted(drop))


@pytest.mark.parametrize("name", SCHEMAS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_malformed_rows_become_findings(sample, name, data):
    catalog, ctx, frames = sample
    frame = _mutate(frames[name], data)
    ctx.register(name, catalog[name].schema, frame)
    findings = check_dataset(ctx, name)
    assert list(findings.columns) == list(FINDINGS_COLUMNS)
    assert set(findings["dataset"]) <= {name} and set(findings["rule_id"]) <= set(RULES)
    ctx.register(name, catalog[name].schema, frames[name])  # the next example's other rules see the clean data
