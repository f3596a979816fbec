"""Reading a Parquet / GeoParquet entry by row ranges gives the rows, types and CRS of reading it whole."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from catalog_helpers import entry

from cimlib.catalog import Catalog


def _catalog(write_catalog, tmp_path, group_rows: int, more=()) -> Catalog:
    n = 1_000
    i = np.arange(n)
    table = pd.DataFrame({"code": [f"A{k:05d}" for k in i], "street_code": np.where(i % 7 == 0, None, "421303001"),
                          "level": i % 9, "x": 113.3 + i * 1e-5, "y": 31.7 + i * 1e-5})
    geo = gpd.GeoDataFrame(table.drop(columns=["x", "y"]), geometry=shapely.points(table["x"], table["y"]), crs="EPSG:4490")
    geo.to_parquet(tmp_path / "layer.parquet", row_group_size=group_rows)
    table.rename(columns={"code": "编号"}).to_parquet(tmp_path / "points.parquet", row_group_size=group_rows)
    return Catalog.load(write_catalog([
        entry("layer", "geoparquet", "layer.parquet"),
        entry("points", "parquet", "points.parquet", columns={"编号": "code"}, options={"x": "x", "y": "y"},
              crs="EPSG:4490"),
        *more]))


@pytest.mark.parametrize("group_rows,rows", [(100, 250), (1_000, 300), (64, 64), (333, 5_000)])
@pytest.mark.parametrize("name", ["layer", "points"])
def test_row_ranges_cover_the_file_and_read_as_whole(write_catalog, tmp_path, group_rows, rows, name):
    cat = _catalog(write_catalog, tmp_path, group_rows)
    ranges = cat.row_ranges(name, rows=rows)
    assert ranges[0][0] == 0 and ranges[-1][1] == 1_000
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))        # contiguous, in file order
    assert all(b - a <= max(rows, group_rows) + group_rows for a, b in ranges)
    whole = cat.read(name)
    parts = [cat.read_rows(name, None, a, b) for a, b in ranges]
    got = pd.concat(parts, ignore_index=True)
    assert isinstance(parts[0], gpd.GeoDataFrame) and parts[0].crs == whole.crs
    pd.testing.assert_frame_equal(gpd.GeoDataFrame(got, geometry="geometry", crs=whole.crs), whole)
    assert "code" in parts[0]   # the entry's column mapping is applied to each range


def test_formats_without_row_ranges_say_so(write_catalog, tmp_path):
    pd.DataFrame({"code": ["A1"]}).to_csv(tmp_path / "t.csv", index=False)
    cat = _catalog(write_catalog, tmp_path, 100, [entry("t", "csv", "t.csv")])
    assert cat.row_ranges("t") is None
    with pytest.raises(Exception, match="不支持按行读取"):
        cat.read_rows("t", None, 0, 1)
