"""Interactive kepler.gl maps for JupyterLab with a saved configuration, drawn over an offline basemap.

Every notebook map comes from :func:`metric_map`: one layer coloured by the metric shown (上图率, findings per
thousand records, device online rate) with the map legend open, the programme's target as a colour break where there
is one, a Chinese tooltip with the metric first, the view fitted to the area, and a basemap that needs no network:

- by default the workbench's own layers drawn beneath the metric (:func:`basemap_layers`: county outline, street
  boundaries, roads, building footprints) on kepler's "no basemap" style;
- when the environment variable ``CIM_BASEMAP`` holds a tile URL template on the city's own network
  (``http://tiles.city.gov.cn/{z}/{x}/{y}.png``), a raster style reading those tiles (:func:`basemap_style`).

:func:`kepler_config` is the pure part (a config dict, testable without a browser). :class:`OfflineKeplerGl` is the
kepler.gl widget with its built-in defaults that reach public hosts switched off (see its docstring). The reports
(HTML/PDF) keep their static matplotlib maps (:mod:`cimlib.reports.figures`); docs/maps.md explains the choices.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from cimlib.reports import labels

BASEMAP_ENV = "CIM_BASEMAP"
"""Environment variable with the city's own tile URL template (``{z}/{x}/{y}``); empty: the workbench's layers."""

NO_BASEMAP = "no_map"
"""kepler.gl's style id without any basemap (an empty style object: nothing is fetched)."""

TILE_STYLE = "cim_tiles"
"""Style id of the city's own raster tiles (``CIM_BASEMAP``)."""

MAP_WIDTH = 900
"""Assumed widget width in pixels when fitting the view (the notebook's output area in JupyterLab)."""

MAX_BUILDINGS = 5000
"""At most this many building footprints (the largest) go into a map, so the widget stays light."""

BASEMAP_NAMES = {"county": "区县界", "streets": "街道界", "roads": "道路", "buildings": "建筑轮廓"}
"""Basemap layer key -> Chinese dataset name shown in kepler.gl."""

RATE_COLOURS = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
"""Low -> high for rates (red: far from the target; green: target reached)."""

COUNT_COLOURS = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"]
"""Low -> high for counts where more is worse (findings)."""

TARGET_STEPS = (0.5, 0.8, 0.9, 1.0)
"""Colour breaks as shares of the target: below half, below 80 %, below 90 %, below the target, reached."""

SIMPLIFY_DEG = 5e-5
"""Outlines are simplified to about 5 m (degrees) before they go into a map."""

_PUBLIC_HOST = re.compile(r"https?://", re.I)


# ------------------------------------------------------------------------------------------------- labels

def column_header(column: str) -> str:
    """The Chinese header of ``column`` for a tooltip (:func:`cimlib.reports.labels.header`)."""
    return labels.header(column)


# ------------------------------------------------------------------------------------------------- basemap

def basemap_url() -> str | None:
    """The city's tile URL template from ``CIM_BASEMAP`` (``None`` when unset or empty)."""
    url = os.environ.get(BASEMAP_ENV, "").strip()
    return url or None


def basemap_style(url: str, style_id: str = TILE_STYLE, label: str = "城市底图") -> dict:
    """A kepler.gl map style entry reading raster tiles from ``url`` (a ``{z}/{x}/{y}`` template).

    The style is given as an object (not a URL to a style document), so kepler.gl fetches nothing but the tiles.

    Parameters
    ----------
    url : str
        Tile URL template on the city's own network.
    style_id, label : str

    Returns
    -------
    dict
        ``{"id", "label", "url", "icon", "custom", "style"}`` for ``config.mapStyle.mapStyles``.
    """
    if not all(part in url for part in ("{z}", "{x}", "{y}")):
        raise ValueError(f"{BASEMAP_ENV} 应为含 {{z}}/{{x}}/{{y}} 的瓦片地址模板：{url}")
    style = {"version": 8, "name": label,
             "sources": {style_id: {"type": "raster", "tiles": [url], "tileSize": 256, "attribution": label}},
             "layers": [{"id": style_id, "type": "raster", "source": style_id}]}
    return {"id": style_id, "label": label, "url": "", "icon": _ICON, "custom": "LOCAL", "style": style,
            "layerGroups": []}


_ICON = ("data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSI2NCIgaGVpZ2h0PSI2"
         "NCI+PHJlY3Qgd2lkdGg9IjY0IiBoZWlnaHQ9IjY0IiBmaWxsPSIjZGRkIi8+PC9zdmc+")
"""A grey square (the style's icon in kepler's basemap panel; inline, so nothing is fetched)."""


def _read(catalog, schema: str):
    name = catalog.entry_for(schema) if hasattr(catalog, "entry_for") else None
    if name is None and schema in catalog:
        name = schema
    if name is None:
        return None
    try:
        return catalog.read(name)
    except Exception as exc:   # a missing file leaves that basemap layer out
        warnings.warn(f"底图图层 {name} 读取失败：{exc}", stacklevel=3)
        return None


def basemap_layers(catalog, area_code: str | None = None, *, max_buildings: int = MAX_BUILDINGS) -> dict:
    """The workbench's own basemap: county outline, street boundaries, roads and building footprints.

    Parameters
    ----------
    catalog : cimlib.catalog.Catalog or path
    area_code : str, optional
        Only this area (a county or street code; areas by code prefix, roads and buildings within its outline).
    max_buildings : int, default :data:`MAX_BUILDINGS`
        The largest footprints kept (simplified to about 1 m), so the widget stays light.

    Returns
    -------
    dict
        ``{"county"|"streets"|"roads"|"buildings": GeoDataFrame}`` in EPSG:4326, geometry (and a name) only;
        layers the catalog lacks are left out.
    """
    import geopandas as gpd

    from cimlib.catalog import Catalog

    if not hasattr(catalog, "read"):
        catalog = Catalog.load(catalog)
    out = {}
    areas = _read(catalog, "admin_areas")
    clip = None
    if areas is not None and len(areas):
        areas = areas.to_crs("EPSG:4326")
        codes = areas["area_code"].astype(str)
        if area_code:
            areas = areas[codes.str.startswith(str(area_code))]
            codes = areas["area_code"].astype(str)
        level = areas["level"].astype(str) if "level" in areas else pd.Series("", index=areas.index)
        county = areas[level.isin(["county", "区", "县", "区县"])]
        if area_code:
            county = areas[codes == str(area_code)]
        if not len(county):   # no county row: the outline of everything
            county = gpd.GeoDataFrame(geometry=[areas.union_all()], crs="EPSG:4326")
        out["county"] = _lines(county)
        streets = areas[level.isin(["street", "街道", "乡镇"])]
        if len(streets):
            out["streets"] = _lines(streets)
        clip = county.union_all()
    roads = _read(catalog, "roads")
    if roads is not None and len(roads):
        roads = roads.to_crs("EPSG:4326")
        if clip is not None:
            roads = roads[roads.intersects(clip)]
        keep = [c for c in ("name",) if c in roads]
        out["roads"] = roads[[*keep, "geometry"]].rename(columns={"name": "名称"}).reset_index(drop=True)
    buildings = _read(catalog, "buildings")
    if buildings is not None and len(buildings):
        buildings = buildings.to_crs("EPSG:4326")
        if clip is not None:
            buildings = buildings[buildings.intersects(clip)]
        if len(buildings) > max_buildings:
            size = buildings.to_crs(buildings.estimate_utm_crs()).area
            buildings = buildings.loc[size.nlargest(max_buildings).index]
        geom = buildings.geometry.simplify(1e-5)
        out["buildings"] = gpd.GeoDataFrame(geometry=geom.values, crs="EPSG:4326")
    return {k: v for k, v in out.items() if len(v)}


def _lines(areas):
    """Area outlines as lines (drawn as thin strokes, never filled)."""
    import geopandas as gpd

    keep = {"name": "名称"} if "name" in areas else {}
    return gpd.GeoDataFrame(areas[list(keep)].rename(columns=keep).reset_index(drop=True),
                            geometry=areas.geometry.simplify(SIMPLIFY_DEG).boundary.values, crs="EPSG:4326")


# ------------------------------------------------------------------------------------------------- view

def fit_bounds(bounds, width: int = MAP_WIDTH, height: int = 600, padding: float = 0.08) -> dict:
    """kepler.gl's ``mapState`` showing ``bounds`` whole in a ``width`` x ``height`` widget.

    Parameters
    ----------
    bounds : sequence of float
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees.
    width, height : int
        Widget size in pixels.
    padding : float, default 0.08
        Share of the widget kept free on each side.

    Returns
    -------
    dict
        ``{"latitude", "longitude", "zoom", "bearing", "pitch", "dragRotate", "isSplit"}``.
    """
    x0, y0, x1, y1 = (float(v) for v in bounds)

    def merc(lat):
        return math.log(math.tan(math.pi / 4 + math.radians(max(min(lat, 85.0), -85.0)) / 2))

    m0, m1 = merc(y0), merc(y1)
    lat = math.degrees(2 * math.atan(math.exp((m0 + m1) / 2)) - math.pi / 2)
    usable_w, usable_h = width * (1 - 2 * padding), height * (1 - 2 * padding)
    # web-mercator world at zoom z is 512 * 2**z pixels wide (maplibre / deck.gl)
    zx = math.log2(usable_w * 360 / (512 * max(x1 - x0, 1e-9)))
    zy = math.log2(usable_h * 2 * math.pi / (512 * max(m1 - m0, 1e-9)))
    zoom = max(0.0, min(zx, zy, 20.0))
    return {"latitude": round(lat, 6), "longitude": round((x0 + x1) / 2, 6), "zoom": round(zoom, 3),
            "bearing": 0, "pitch": 0, "dragRotate": False, "isSplit": False}


def view_bounds(mapstate: dict, width: int = MAP_WIDTH, height: int = 600) -> tuple[float, float, float, float]:
    """The ``(min_lon, min_lat, max_lon, max_lat)`` a ``mapState`` shows in a ``width`` x ``height`` widget."""
    scale = 512 * 2 ** mapstate["zoom"]
    half_lon = width / 2 * 360 / scale
    m = math.log(math.tan(math.pi / 4 + math.radians(mapstate["latitude"]) / 2))
    half_m = height / 2 * 2 * math.pi / scale

    def lat(v):
        return math.degrees(2 * math.atan(math.exp(v)) - math.pi / 2)

    return (mapstate["longitude"] - half_lon, lat(m - half_m), mapstate["longitude"] + half_lon, lat(m + half_m))


# ------------------------------------------------------------------------------------------------- config

def colour_breaks(target: float | None, *, percent: bool = True) -> list[float] | None:
    """Colour breaks ending at the target (:data:`TARGET_STEPS` of it); ``None`` without a target."""
    if target is None or (isinstance(target, float) and np.isnan(target)):
        return None
    scale = 100.0 if percent else 1.0
    return [round(float(target) * scale * s, 6) for s in TARGET_STEPS]


def _hex_rgb(colour: str) -> list[int]:
    colour = colour.lstrip("#")
    return [int(colour[i:i + 2], 16) for i in (0, 2, 4)]


def _number(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"


def break_labels(breaks, colours, *, unit: str = "", target: bool = True) -> dict:
    """Chinese legend labels of threshold classes (``{colour: "低于 50%"}``; the last class marks the target)."""
    names = {colours[0]: f"低于 {_number(breaks[0])}{unit}"}
    for i in range(1, len(breaks)):
        names[colours[i]] = f"{_number(breaks[i - 1])}{unit} 至 {_number(breaks[i])}{unit}"
    names[colours[len(breaks)]] = f"{_number(breaks[-1])}{unit} 及以上" + ("（达标）" if target else "")
    return names


def _colour_range(colours, breaks=None, unit: str = "") -> dict:
    colours = [c.upper() for c in colours]   # kepler.gl matches legend labels to colours as upper-case hex
    out = {"name": "CIM", "type": "sequential", "category": "Custom", "colors": colours}
    if breaks:
        out.update(name="CIM 目标分段", type="custom",
                   colorMap=[[b, c] for b, c in zip(breaks, colours)] + [[None, colours[len(breaks)]]],
                   colorLegends=break_labels(breaks, colours, unit=unit))
    return out


def _vis(**kw) -> dict:
    base = {"opacity": 0.7, "strokeOpacity": 0.9, "thickness": 0.5, "strokeColor": [255, 255, 255],
            "radius": 6, "sizeRange": [0, 10], "radiusRange": [0, 50], "heightRange": [0, 500],
            "elevationScale": 5, "stroked": True, "filled": True, "enable3d": False, "wireframe": False,
            "outline": False, "fixedRadius": False}
    base.update(kw)
    return base


def _channels(colour_field=None, field_type="real", scale="quantize") -> dict:
    return {"colorField": {"name": colour_field, "type": field_type} if colour_field else None,
            "colorScale": scale, "strokeColorField": None, "strokeColorScale": "quantile", "sizeField": None,
            "sizeScale": "linear", "heightField": None, "heightScale": "linear", "radiusField": None,
            "radiusScale": "linear"}


def _layer(layer_id, kind, data_id, label, colour, vis, channels, *, lat=None, lng=None) -> dict:
    columns = {"geojson": "_geojson"} if kind == "geojson" else {"lat": lat, "lng": lng, "altitude": None}
    return {"id": layer_id, "type": kind,
            "config": {"dataId": data_id, "label": label, "color": colour, "highlightColor": [252, 242, 26, 255],
                       "columns": columns, "columnMode": "geojson" if kind == "geojson" else "points",
                       "isVisible": True, "hidden": False, "visConfig": vis,
                       "textLabel": [{"field": None, "color": [255, 255, 255], "size": 18, "offset": [0, 0],
                                      "anchor": "start", "alignment": "center"}]},
            "visualChannels": channels}


def kepler_config(data_id: str, colour_field: str, *, bounds, tooltip=(), label: str | None = None,
                  breaks=None, colours=RATE_COLOURS, kind: str = "geojson", lat: str = "纬度", lng: str = "经度",
                  points: dict | None = None, basemap=(), tile_url: str | None = None, height: int = 600,
                  width: int = MAP_WIDTH) -> dict:
    """The kepler.gl configuration of a metric map (a pure function: no widget, no browser).

    Parameters
    ----------
    data_id : str
        Dataset holding the metric (Chinese: kepler.gl shows the id as the dataset's name).
    colour_field : str
        The metric's column: the layer's colour field and the first tooltip field.
    bounds : sequence of float
        ``(min_lon, min_lat, max_lon, max_lat)`` the view is fitted to.
    tooltip : sequence of str
        Further tooltip fields of ``data_id`` (after the metric).
    label : str, optional
        Layer name in the legend (default ``colour_field``).
    breaks : sequence of float, optional
        Colour breaks (threshold scale, the target last: :func:`colour_breaks`); none: 5 equal classes (quantize).
    colours : sequence of str
        ``len(breaks) + 1`` colours, low to high (5 without breaks).
    kind : {"geojson", "point"}
        Areas/lines (a GeoJSON dataset) or points (``lat``/``lng`` columns).
    points : dict, optional
        A second, plain point layer on top: ``{"data_id", "label", "tooltip", "colour", "lat", "lng"}``.
    basemap : sequence of str
        Basemap dataset ids (keys of :data:`BASEMAP_NAMES` values), drawn beneath in thin grey, not in tooltips.
    tile_url : str, optional
        The city's tile URL template (``CIM_BASEMAP``); none: kepler's empty "no basemap" style.
    height, width : int
        Widget size, for fitting the view.

    Returns
    -------
    dict
        ``{"version": "v1", "config": {"visState", "mapState", "mapStyle", "uiState"}}``.
    """
    label = label or colour_field
    colours = list(colours)
    scale = "custom" if breaks else "quantize"
    if breaks and len(colours) != len(breaks) + 1:
        raise ValueError("colours 应比 breaks 多一个")
    unit = "%" if colour_field.endswith("（%）") else ""
    vis = _vis(colorRange=_colour_range(colours, breaks, unit), opacity=0.65 if kind == "geojson" else 0.9,
               strokeColor=[255, 255, 255], thickness=0.6, radius=8)
    layers = [_layer("metric", kind, data_id, label, _hex_rgb(colours[-1]), vis, _channels(colour_field, scale=scale),
                     lat=lat, lng=lng)]
    fields = {data_id: [{"name": f, "format": None} for f in dict.fromkeys([colour_field, *tooltip])]}
    if points:
        pcol = _hex_rgb(points.get("colour", "#263238"))
        layers.insert(0, _layer("points", "point", points["data_id"], points.get("label", points["data_id"]), pcol,
                                _vis(radius=4, opacity=0.9, filled=True, outline=False), _channels(),
                                lat=points.get("lat", "纬度"), lng=points.get("lng", "经度")))
        fields[points["data_id"]] = [{"name": f, "format": None} for f in points.get("tooltip", ())]
    style = {"county": ([80, 80, 80], 1.6, False), "streets": ([120, 120, 120], 0.8, False),
             "roads": ([150, 150, 150], 0.6, False), "buildings": ([190, 190, 190], 0.2, True)}
    names = {v: k for k, v in BASEMAP_NAMES.items()}
    for data in basemap:   # beneath the metric: after it in the top-first order
        colour, thick, filled = style.get(names.get(data, "roads"))
        vis = _vis(opacity=0.6 if filled else 0.9, strokeOpacity=0.9, thickness=thick, strokeColor=colour,
                   stroked=not filled, filled=filled)
        layers.append(_layer(f"basemap_{names.get(data, data)}", "geojson", data, data, colour, vis, _channels()))
        fields[data] = []
    order = [lay["id"] for lay in layers]
    map_styles = {}
    style_type = NO_BASEMAP
    if tile_url:
        entry = basemap_style(tile_url)
        map_styles[entry["id"]] = entry
        style_type = entry["id"]
    return {"version": "v1", "config": {
        "visState": {"filters": [], "layers": layers, "layerOrder": order, "layerBlending": "normal",
                     "splitMaps": [], "effects": [],
                     "interactionConfig": {"tooltip": {"fieldsToShow": fields, "compareMode": False,
                                                       "compareType": "absolute", "enabled": True},
                                           "brush": {"size": 0.5, "enabled": False},
                                           "geocoder": {"enabled": False},
                                           "coordinate": {"enabled": False}},
                     "animationConfig": {"currentTime": None, "speed": 1}},
        "mapState": fit_bounds(bounds, width=width, height=height),
        "mapStyle": {"styleType": style_type, "topLayerGroups": {}, "visibleLayerGroups": {},
                     "threeDBuildingColor": [218, 218, 218], "backgroundColor": [255, 255, 255],
                     "mapStyles": map_styles},
        "uiState": {"mapControls": {"mapLegend": {"active": True}}, "locale": "cn"},
    }}


def public_urls(obj, allowed: str | None = None) -> list[str]:
    """Every ``http(s)://`` string in ``obj`` (a config) except those starting with ``allowed``.

    Used by the tests and by :func:`metric_map` to make sure a map asks no public host for anything.
    """
    found = []

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, str) and _PUBLIC_HOST.search(v) and not (allowed and v.startswith(allowed)):
            found.append(v)

    walk(obj)
    return found


def current_target(indicators: pd.DataFrame, metric_id: str, dataset: str | None = None,
                   as_of: str | None = None) -> tuple[float | None, str | None]:
    """The programme's target for a metric as of a date: the first deadline on or after ``as_of`` (else the last).

    Parameters
    ----------
    indicators : pandas.DataFrame
        :meth:`cimlib.reports.ReportContext.indicators` (``metric_id, dataset, target, deadline``).
    metric_id : str
    dataset : str, optional
    as_of : str, optional
        ``YYYY-MM-DD``; none: the last deadline.

    Returns
    -------
    tuple
        ``(target, deadline)``; ``(None, None)`` when the programme sets none.
    """
    if indicators is None or not len(indicators) or "metric_id" not in indicators:
        return None, None
    rows = indicators[indicators["metric_id"] == metric_id]
    if dataset is not None and "dataset" in rows:
        rows = rows[rows["dataset"] == dataset]
    rows = rows[pd.to_numeric(rows.get("target"), errors="coerce").notna()] if "target" in rows else rows.iloc[0:0]
    if not len(rows):
        return None, None
    deadline = pd.to_datetime(rows["deadline"], errors="coerce") if "deadline" in rows else \
        pd.Series(pd.NaT, index=rows.index)
    rows = rows.assign(_d=deadline).sort_values("_d", na_position="last")
    pick = rows.iloc[-1]
    if as_of:
        ahead = rows[rows["_d"] >= pd.Timestamp(as_of)]
        if len(ahead):
            pick = ahead.iloc[0]
    d = pick["_d"]
    return float(pick["target"]), (None if pd.isna(d) else d.strftime("%Y-%m-%d"))


# ------------------------------------------------------------------------------------------------- data

def _geojson(frame) -> dict:
    """A GeoDataFrame (EPSG:4326) as a GeoJSON dict kepler.gl reads (NaN as null, coordinates to ~0.1 m)."""
    import shapely

    frame = frame.copy()
    frame["geometry"] = shapely.transform(np.asarray(frame.geometry.values), lambda xy: np.round(xy, 6))
    return json.loads(frame.to_json(drop_id=True, na="null"))


def _readable(series: pd.Series, column: str) -> pd.Series:
    """A tooltip column as a person reads it: codes by their Chinese names, missing as ``None``."""
    kind = labels.code_kind(column)     # the label table's code columns (severity, dataset, device_type, ...)
    if kind is not None:
        series = series.map({v: labels.value_label(kind, v) for v in series.dropna().unique()})
    if pd.api.types.is_numeric_dtype(series):
        return series
    return series.astype(object).where(series.notna(), None).map(lambda v: v if v is None else str(v))


def _header(column: str, headers: dict | None) -> str:
    return (headers or {}).get(column) or column_header(column)


def _display_frame(frame, value_column, metric_name, percent, tooltip, headers=None):
    """The columns a person reads: the metric (percent) first, then the tooltip fields, with Chinese headers."""
    import geopandas as gpd

    cols = {}
    value = pd.to_numeric(frame[value_column], errors="coerce")
    cols[metric_name] = (value * 100).round(2) if percent else value.round(3)
    for c in tooltip:
        if c in frame and c != value_column:
            cols[_header(c, headers)] = _readable(frame[c], c)
    out = pd.DataFrame(cols, index=frame.index)
    out = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=frame.crs).to_crs("EPSG:4326")
    if len(out) and not (out.geom_type == "Point").all():   # areas: about 5 m is plenty on screen
        out["geometry"] = out.geometry.simplify(SIMPLIFY_DEG)
    return out


def _points_frame(frame, tooltip, headers=None):
    pts = frame.to_crs("EPSG:4326")
    pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
    if len(pts) and not (pts.geom_type == "Point").all():   # lines and areas (an invalid building) as one point
        pts = pts.set_geometry(pts.geometry.where(pts.geom_type == "Point", pts.geometry.centroid))
    cols = {_header(c, headers): _readable(pts[c], c) for c in tooltip if c in pts}
    out = pd.DataFrame(cols, index=pts.index)
    out["经度"] = pts.geometry.x.round(6)
    out["纬度"] = pts.geometry.y.round(6)
    return out.reset_index(drop=True)


def metric_map(areas, value_column: str, *, title: str, name: str | None = None, percent: bool = True,
               target: float | None = None, tooltip=("name", "area_code"), basemap: dict | None = None,
               points=None, points_name: str = "问题记录", points_tooltip=(), colours=None,
               headers: dict | None = None, height: int = 600, tile_url: str | None = None):
    """A kepler.gl map of one metric for JupyterLab, with its saved configuration.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas (or points, e.g. devices) with the metric in ``value_column`` (shares 0-1 when ``percent``).
    value_column : str
    title : str
        The metric's Chinese name (``上图率``); the column is shown as ``上图率（%）`` when ``percent``.
    name : str, optional
        The dataset's Chinese name in kepler.gl (default ``title``).
    percent : bool, default True
    target : float, optional
        The programme's target (a share when ``percent``): the top colour break.
    tooltip : sequence of str
        Further columns of ``areas`` for the tooltip (Chinese headers from the label table).
    basemap : dict, optional
        :func:`basemap_layers` (drawn beneath); none: no own basemap layers.
    points : geopandas.GeoDataFrame, optional
        Points drawn on top in one colour (e.g. located findings), named ``points_name``, with ``points_tooltip``.
    colours : sequence of str, optional
        Low to high (default :data:`RATE_COLOURS` for rates, :data:`COUNT_COLOURS` otherwise).
    headers : dict, optional
        Tooltip headers of this map (``{"numerator": "在线小时数"}``), before the label table.
    height : int, default 600
    tile_url : str, optional
        The city's tile URL template; default ``CIM_BASEMAP``.

    Returns
    -------
    OfflineKeplerGl
        ``.config`` holds the configuration (:func:`kepler_config`).
    """
    metric = f"{title}（%）" if percent else title
    frame = _display_frame(areas, value_column, metric, percent, tooltip, headers)
    name = name or title
    is_point = len(frame) > 0 and bool((frame.geom_type == "Point").all())
    data = {}
    if is_point:
        flat = pd.DataFrame(frame.drop(columns="geometry"))
        flat["经度"], flat["纬度"] = frame.geometry.x.round(6), frame.geometry.y.round(6)
        data[name] = flat.reset_index(drop=True)
    else:
        data[name] = _geojson(frame)
    parts = [frame.total_bounds] if len(frame) else []
    pinfo = None
    if points is not None and len(points):
        pts = _points_frame(points, points_tooltip, headers)
        if len(pts):
            data[points_name] = pts
            parts.append([pts["经度"].min(), pts["纬度"].min(), pts["经度"].max(), pts["纬度"].max()])
            pinfo = {"data_id": points_name, "label": points_name,
                     "tooltip": [_header(c, headers) for c in points_tooltip if c in points]}
    for key, layer in (basemap or {}).items():
        data[BASEMAP_NAMES.get(key, key)] = _geojson(layer.to_crs("EPSG:4326"))
    if basemap and "county" in basemap:
        parts = [basemap["county"].to_crs("EPSG:4326").total_bounds]
    bounds = np.array(parts, dtype=float)
    bounds = (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()) if len(parts) \
        else (73.0, 18.0, 135.0, 54.0)
    if colours is None:
        colours = RATE_COLOURS if percent else COUNT_COLOURS
    tile_url = tile_url if tile_url is not None else basemap_url()
    config = kepler_config(name, metric, bounds=bounds,
                           tooltip=[_header(c, headers) for c in tooltip if c in areas and c != value_column],
                           label=metric, breaks=colour_breaks(target, percent=percent), colours=colours,
                           kind="point" if is_point else "geojson", points=pinfo,
                           basemap=[BASEMAP_NAMES.get(k, k) for k in (basemap or {})], tile_url=tile_url,
                           height=height)
    return OfflineKeplerGl(data=data, config=config, height=height, theme="light", app_name="CIM 地图")


# ------------------------------------------------------------------------------------------------- widget

_PATCHES = (
    # the default basemap style at start-up: kepler's "no basemap" instead of CARTO's dark-matter (public CDN)
    ('SEe="".concat(WF,"/NO_BASEMAP.png"),NFr="dark-matter"', 'SEe="".concat(WF,"/NO_BASEMAP.png"),NFr="no_map"'),
    # the styles offered: only "no basemap" (and the city's own, from the config), none on public hosts
    ("BFr=[$ki].concat(Zki,Kki,Yki)", "BFr=[$ki]"),
    # no "Mapbox Token not valid" warning: no Mapbox style is offered
    ('==="Mapbox"&&this._validateMapboxToken()', '==="Mapbox"&&!1'),
    # wait up to 2 minutes (not 5 s) for the map to register before sending data and configuration: on a busy
    # machine with software WebGL the first map takes longer, and the data sent earlier is lost (an empty map)
    ('console.warn("[keplergl-widget] Timeout waiting for instance registration"),t()},5e3)',
     'console.warn("[keplergl-widget] Timeout waiting for instance registration"),t()},12e4)'),
)
"""Exact substitutions in keplergl 0.4.0's widget bundle (kepler.gl 3.3.0-alpha.18); others leave it unchanged."""


@lru_cache(maxsize=1)
def offline_bundle() -> tuple[str, int]:
    """keplergl's widget JavaScript with :data:`_PATCHES` applied, and how many of them applied.

    With the environment variable ``CIM_KEPLER_DEBUG`` set, the widget also logs its steps to the browser console.
    """
    import keplergl

    src = (Path(keplergl.__file__).parent / "static" / "widget.js").read_text(encoding="utf-8")
    applied = 0
    for old, new in _PATCHES:
        if src.count(old) == 1:
            src = src.replace(old, new)
            applied += 1
    if os.environ.get("CIM_KEPLER_DEBUG"):   # the widget's own log in the browser console
        src = src.replace("var GDl=!1;function L_(", "var GDl=!0;function L_(")
    if applied < len(_PATCHES):
        warnings.warn(f"kepler.gl 版本与预期不同：{len(_PATCHES) - applied} 处离线设置未生效，"
                      "地图打开时可能请求公共底图服务", stacklevel=2)
    return src, applied


def _widget_class():
    from keplergl import KeplerGl

    class OfflineKeplerGl(KeplerGl):
        """kepler.gl's Jupyter widget that asks no public host for anything at start-up.

        keplergl's bundle starts every map on CARTO's dark-matter style (a style document on a public CDN, fetched
        before any saved configuration arrives) and warns about a missing Mapbox token. This widget serves the same
        bundle with four exact substitutions (:data:`_PATCHES`): start on the "no basemap" style, offer no style on
        a public host, skip the token warning, and wait longer for the map to register (a slow first start lost the
        data and configuration). The saved configuration then chooses the basemap
        (no basemap plus our own layers, or the city's tiles).
        """

        _esm = offline_bundle()[0]

        def __init__(self, data=None, config=None, height=600, theme="", app_name="kepler.gl", **kwargs):
            # data and configuration go out with the widget's first message: keplergl sets them after opening
            # the widget, and JupyterLab drops such updates while it still loads the 12 MB bundle (an empty map)
            import anywidget

            self._use_arrow = False
            anywidget.AnyWidget.__init__(self, data=dict(data or {}), config=dict(config or {}), height=height,
                                         theme=theme, app_name=app_name, mapbox_token="", **kwargs)

    return OfflineKeplerGl


class _LazyWidget:
    """Builds :class:`OfflineKeplerGl` on first use (importing keplergl and reading its 12 MB bundle)."""

    _cls = None

    def __call__(self, *args, **kwargs):
        if _LazyWidget._cls is None:
            _LazyWidget._cls = _widget_class()
        return _LazyWidget._cls(*args, **kwargs)


OfflineKeplerGl = _LazyWidget()
"""The offline kepler.gl widget (``OfflineKeplerGl(data=, config=, height=)``); see :func:`_widget_class`."""
