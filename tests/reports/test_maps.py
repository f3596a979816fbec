"""kepler.gl maps: the saved configuration (colour, legend, tooltip, view, offline basemap) and notebook 03's map.

The configuration tests use small generated GeoDataFrames; one test executes notebook 03 in a Jupyter kernel the way
JupyterLab does (``interactive = True``, widget state stored) and reads the map's configuration from the executed
notebook.
"""

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from cimlib.reports import maps

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
TILES = "http://tiles.city.gov.cn/{z}/{x}/{y}.png"


@pytest.fixture
def areas():
    """Three communities side by side (CGCS2000, as the sample city), with a rate and its parts."""
    cells = [box(113.30 + 0.05 * i, 31.50, 113.35 + 0.05 * i, 31.58) for i in range(3)]
    return gpd.GeoDataFrame({"area_code": ["421303001001", "421303001002", "421303001003"],
                             "name": ["民主社区", "城南社区", "东关社区"], "numerator": [45, 90, 100],
                             "denominator": [100, 100, 100], "value": [0.45, 0.9, 1.0]},
                            geometry=cells, crs="EPSG:4490")


@pytest.fixture
def basemap(areas):
    outline = gpd.GeoDataFrame({"名称": ["曾都区"]}, geometry=[areas.union_all().boundary], crs="EPSG:4326")
    roads = gpd.GeoDataFrame({"名称": ["麒麟路"]}, geometry=[box(113.3, 31.5, 113.45, 31.51).boundary],
                             crs="EPSG:4326")
    return {"county": outline, "roads": roads}


@pytest.fixture(autouse=True)
def no_city_tiles(monkeypatch):
    monkeypatch.delenv(maps.BASEMAP_ENV, raising=False)


def rate_map(areas, **kw):
    kw.setdefault("tooltip", ["name", "area_code", "numerator", "denominator"])
    return maps.metric_map(areas, "value", title="标准地址上图率", name="社区上图率", **kw)


def layer(config, layer_id):
    return next(lay for lay in config["config"]["visState"]["layers"] if lay["id"] == layer_id)


def test_layer_coloured_by_the_metric_with_legend(areas, basemap):
    m = rate_map(areas, target=1.0, basemap=basemap)
    metric = layer(m.config, "metric")
    assert metric["config"]["dataId"] == "社区上图率"
    assert metric["visualChannels"]["colorField"] == {"name": "标准地址上图率（%）", "type": "real"}
    assert m.config["config"]["uiState"]["mapControls"]["mapLegend"]["active"] is True
    props = [f["properties"] for f in m.data["社区上图率"]["features"]]
    assert [p["标准地址上图率（%）"] for p in props] == [45.0, 90.0, 100.0]   # rates as percent


def test_tooltip_chinese_with_metric_first_and_basemap_silent(areas, basemap):
    m = rate_map(areas, basemap=basemap)
    fields = m.config["config"]["visState"]["interactionConfig"]["tooltip"]["fieldsToShow"]
    names = [f["name"] for f in fields["社区上图率"]]
    assert names[0] == "标准地址上图率（%）"
    assert len(names) == 5 and all(CJK.search(n) for n in names), names
    assert fields["区县界"] == [] and fields["道路"] == []
    props = m.data["社区上图率"]["features"][0]["properties"]
    assert set(names) <= set(props) and not any(k in props for k in ("area_code", "name", "value"))


def test_target_is_the_top_colour_break(areas):
    with_target = layer(rate_map(areas, target=0.9).config, "metric")
    assert with_target["visualChannels"]["colorScale"] == "custom"
    colour_map = with_target["config"]["visConfig"]["colorRange"]["colorMap"]
    assert [b for b, _ in colour_map] == [45.0, 72.0, 81.0, 90.0, None]
    legends = with_target["config"]["visConfig"]["colorRange"]["colorLegends"]
    assert legends[colour_map[-1][1]] == "90% 及以上（达标）"
    without = layer(rate_map(areas).config, "metric")
    assert without["visualChannels"]["colorScale"] == "quantize"
    assert "colorMap" not in without["config"]["visConfig"]["colorRange"]


def test_view_fits_the_area(areas):
    m = rate_map(areas, height=600)
    state = m.config["config"]["mapState"]
    x0, y0, x1, y1 = maps.view_bounds(state, height=600)
    ax0, ay0, ax1, ay1 = areas.to_crs("EPSG:4326").total_bounds
    assert x0 < ax0 < ax1 < x1 and y0 < ay0 < ay1 < y1   # all of it in view
    assert (ax1 - ax0) / (x1 - x0) > 0.5 or (ay1 - ay0) / (y1 - y0) > 0.5   # and not lost in it


def test_no_public_host_by_default(areas, basemap):
    m = rate_map(areas, target=1.0, basemap=basemap)
    style = m.config["config"]["mapStyle"]
    assert style["styleType"] == maps.NO_BASEMAP and style["mapStyles"] == {}
    assert maps.public_urls(m.config) == []
    assert maps.public_urls({"a": ["x", {"b": "https://basemaps.cartocdn.com/style.json"}]})   # the check can fail


def test_city_tiles_from_cim_basemap(areas, monkeypatch):
    monkeypatch.setenv(maps.BASEMAP_ENV, TILES)
    style = rate_map(areas).config["config"]["mapStyle"]
    assert style["styleType"] == maps.TILE_STYLE
    entry = style["mapStyles"][maps.TILE_STYLE]
    assert entry["style"]["sources"][maps.TILE_STYLE]["tiles"] == [TILES]
    assert entry["url"] == "" and entry["icon"].startswith("data:")
    assert maps.public_urls(style, allowed="http://tiles.city.gov.cn/") == []
    with pytest.raises(ValueError, match="瓦片"):
        maps.basemap_style("http://tiles.city.gov.cn/tile.png")


def test_points_on_top_with_chinese_values(areas):
    pts = gpd.GeoDataFrame({"dataset": ["buildings"], "rule_id": ["ADR-001"], "severity": ["error"],
                            "message": ["几何无效"]}, geometry=[Point(113.32, 31.52)], crs="EPSG:4490")
    m = rate_map(areas, points=pts, points_tooltip=["dataset", "rule_id", "severity", "message"])
    order = m.config["config"]["visState"]["layerOrder"]
    assert order.index("points") < order.index("metric")
    point = layer(m.config, "points")
    assert point["type"] == "point" and point["config"]["columns"]["lat"] == "纬度"
    row = m.data["问题记录"].iloc[0]
    assert row["级别"] == "错误" and row["经度"] == pytest.approx(113.32)


def test_points_as_the_metric_layer():
    devices = gpd.GeoDataFrame({"device_id": ["D1", "D2"], "value": [0.5, 1.0]},
                               geometry=[Point(113.3, 31.5), Point(113.4, 31.6)], crs="EPSG:4490")
    m = maps.metric_map(devices, "value", title="设备在线率", name="感知设备", target=0.9, tooltip=["device_id"])
    metric = layer(m.config, "metric")
    assert metric["type"] == "point" and metric["visualChannels"]["colorField"]["name"] == "设备在线率（%）"
    assert list(m.data["感知设备"]["设备在线率（%）"]) == [50.0, 100.0]


def test_current_target_by_deadline():
    ind = pd.DataFrame({"metric_id": ["mapping_rate"] * 2 + ["coding_rate"], "dataset": ["addresses"] * 3,
                        "target": [0.5, 1.0, 0.7], "deadline": ["2024-06-30", "2024-09-30", "2024-06-30"]})
    assert maps.current_target(ind, "mapping_rate", "addresses", "2024-05-31") == (0.5, "2024-06-30")
    assert maps.current_target(ind, "mapping_rate", "addresses", "2024-09-30") == (1.0, "2024-09-30")
    assert maps.current_target(ind, "mapping_rate", "addresses", "2025-01-31") == (1.0, "2024-09-30")
    assert maps.current_target(ind, "online_rate") == (None, None)


def test_offline_widget_bundle():
    source, applied = maps.offline_bundle()
    assert applied == len(maps._PATCHES)
    assert 'NFr="no_map"' in source and "BFr=[$ki]" in source
    assert "basemaps.cartocdn.com/gl/dark-matter-gl-style" in source   # still in the bundle, but not offered


def test_basemap_layers_of_the_sample_city(city):
    layers = maps.basemap_layers(city / "data_catalog.yaml", max_buildings=100)
    assert set(layers) == {"county", "streets", "roads", "buildings"}
    assert all(str(g.crs) == "EPSG:4326" for g in layers.values())
    assert len(layers["county"]) == 1 and len(layers["buildings"]) == 100
    assert set(layers["county"].geom_type) <= {"LineString", "MultiLineString"}   # outlines, never filled


def test_notebook03_map_in_a_kernel(city, tmp_path):
    """Notebook 03 run as JupyterLab's kernel runs it: the stored kepler widget has the metric map's configuration."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "03_coverage_mapping.ipynb", as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if "interactive = None" in c.source)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(
        f"catalog = {str(city / 'data_catalog.yaml')!r}\ninteractive = True\ncache_dir = {str(tmp_path / 'cache')!r}"))
    NotebookClient(nb, kernel_name="python3", timeout=600, store_widget_state=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    states = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    kepler = [s["state"] for s in states.values() if "visState" in json.dumps(s["state"].get("config", {}))]
    assert len(kepler) == 1
    config = kepler[0]["config"]["config"]
    shown = [o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] for c in nb.cells
             for o in c.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(shown) == 1 and states[shown[0]]["state"]["config"]["config"] == config

    metric = next(lay for lay in config["visState"]["layers"] if lay["id"] == "metric")
    assert metric["visualChannels"]["colorField"]["name"] == "标准地址上图率（%）"
    assert metric["visualChannels"]["colorScale"] == "custom"   # the programme's 100 % by 2024-09-30
    assert metric["config"]["visConfig"]["colorRange"]["colorMap"][-2][0] == 100.0
    tooltip = config["visState"]["interactionConfig"]["tooltip"]["fieldsToShow"]
    fields = [f["name"] for f in tooltip["社区标准地址上图率"]]
    assert fields[0] == "标准地址上图率（%）" and all(CJK.search(f) for f in fields)

    county = maps.basemap_layers(city / "data_catalog.yaml")["county"].total_bounds
    x0, y0, x1, y1 = maps.view_bounds(config["mapState"], height=kepler[0]["height"])
    assert x0 < county[0] < county[2] < x1 and y0 < county[1] < county[3] < y1

    assert config["mapStyle"]["styleType"] == maps.NO_BASEMAP and maps.public_urls(config) == []
    assert 'NFr="no_map"' in kepler[0]["_esm"]   # the widget that does not start on a public style
    data = kepler[0]["data"]
    assert {"社区标准地址上图率", "区县界", "街道界", "道路", "建筑轮廓"} <= set(data)


def test_figures_kepler_map_is_offline(areas):
    from cimlib.reports import figures

    m = figures.kepler_map({"社区": areas})
    assert m.config["config"]["mapStyle"]["styleType"] == maps.NO_BASEMAP
    assert 'NFr="no_map"' in m._esm and set(m.data) == {"社区"}
