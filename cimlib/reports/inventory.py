"""Catalog inventory (数据资源清单): one row per catalog entry with what is actually on disk."""

from __future__ import annotations

import html
import json
import platform
import warnings
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from cimlib._io import atomic_path, sha256_file, sha256_files
from cimlib.catalog import Catalog, CatalogError
from cimlib.geo import CGCS2000
from cimlib.reports.labels import MODULE_HEADERS

INVENTORY_LABELS = dict(MODULE_HEADERS["inventory"])
"""Inventory column -> Chinese header, in column order (the ``inventory`` section of the label table,
:data:`cimlib.reports.labels.MODULE_HEADERS`)."""

SHOWN = ("title_zh", "layer", "format", "owner", "classification", "update_cycle", "rows", "rows_basis",
         "crs_declared", "crs", "crs_matches", "crs_workbench", "geometry_type", "n_periods", "size_bytes", "status",
         "problem")
"""The columns a person reads (notebook 01, inventory.html), in order (the entry ids stay in the CSV/Parquet)."""

FORMATS = {"gpkg": "GeoPackage", "shapefile": "Shapefile", "geotiff": "GeoTIFF", "geoparquet": "GeoParquet",
           "parquet": "Parquet", "csv": "CSV", "xlsx": "Excel（xlsx）", "geojson": "GeoJSON", "netcdf": "NetCDF",
           "postgis": "PostGIS 数据库表"}

CRS_NAMES = {"EPSG:4490": "CGCS2000 地理坐标系", "EPSG:4326": "WGS 84 地理坐标系", "EPSG:4214": "北京 1954 地理坐标系",
             "EPSG:4610": "西安 1980 地理坐标系", "EPSG:3857": "Web 墨卡托投影"}
"""Chinese names of the common coordinate systems (projected ones are named from their EPSG definition)."""

GEOMETRY_TYPES = {"Point": "点", "MultiPoint": "多点", "LineString": "线", "MultiLineString": "多线", "Polygon": "面",
                  "MultiPolygon": "多面", "GeometryCollection": "几何集合", "Raster": "栅格"}

NOT_SPATIAL = "—（非空间数据）"
NOT_IN_FILE = "—（文件未声明）"
NOT_DECLARED = "—（数据目录未声明）"
UNREADABLE = "—（无法读取）"


def inventory_table(catalog: Catalog, *, fingerprints: bool = True, progress: bool = False) -> pd.DataFrame:
    """Describe every entry of a catalog; an entry that cannot be read becomes a row with status 错误.

    Parameters
    ----------
    catalog : Catalog
    fingerprints : bool, default True
        Compute the SHA-256 of every entry's files (one hash per entry over all its files).
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`INVENTORY_LABELS` (English names; the Chinese labels are for display).
    """
    rows = []
    for entry in tqdm(list(catalog), desc="数据资源清单", unit="项", disable=not progress):
        row = {"name": entry.name, "title_zh": entry.title_zh, "layer": entry.layer, "format": entry.format,
               "owner": entry.owner, "classification": entry.classification, "update_cycle": entry.update_cycle,
               "schema": entry.schema, "path": str(entry.path), "crs_declared": entry.crs}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                d = catalog.describe(entry.name)
            files = [Path(f) for f in d.get("files") or []]
            sources = files or [s for s in catalog.inputs(entry.name) if not isinstance(s, Path)]
            count, basis = _record_count(entry, d, files)
            row.update({
                "rows": count, "rows_basis": basis, "n_columns": len(d.get("columns") or []), "crs": d.get("crs"),
                "crs_matches": d.get("crs_matches"), "crs_workbench": _workbench_crs(entry, d),
                "geometry_type": "Raster" if d.get("dims") is not None else d.get("geometry_type"),
                "n_periods": len(d.get("periods") or []), "n_files": len(files), "size_bytes": d.get("size_bytes"),
                "sha256": sha256_files(sources) if fingerprints and sources else None,
                "status": "正常" if d.get("crs_matches") in (True, None) and not caught else "警告",
                "problem": "；".join(str(w.message) for w in caught) or None,
            })
            if d.get("crs_matches") is False:
                row["problem"] = (row["problem"] + "；" if row["problem"] else "") + "文件坐标系与声明不一致"
        except CatalogError as exc:
            row.update({"status": "错误", "problem": str(exc)})
        rows.append(row)
    df = pd.DataFrame(rows)
    for col in INVENTORY_LABELS:
        if col not in df:
            df[col] = None
    df = df[list(INVENTORY_LABELS)]
    df["rows"] = df["rows"].astype("Int64")
    df["n_periods"] = df["n_periods"].astype("Int64")
    df["size_bytes"] = df["size_bytes"].astype("Int64")
    return df


def _record_count(entry, described: dict, files: list) -> tuple[int | None, str]:
    """An entry's record count and what it counts: a raster's cells, the current snapshot's rows, or a sum of files."""
    dims = described.get("dims")
    if dims is not None:
        sizes = {k: int(v) for k, v in dims.items() if not (k == "band" and int(v) == 1)}
        cells = 1
        for v in sizes.values():
            cells *= v
        return cells, "栅格像元数（" + " × ".join(f"{v:,}" for v in sizes.values()) + "）"
    rows = described.get("rows")
    if rows is None:
        return None, UNREADABLE
    periods = sorted(described.get("periods") or [])
    if periods:
        latest = periods[-1]
        if latest in str(entry.path):
            return rows, f"最新一期快照（{latest}）的记录数"
        return rows, f"当前文件的记录数（另有 {len(periods)} 期快照）"
    if Path(described.get("path") or entry.path).is_dir():
        return rows, f"{len(files)} 个文件合计"
    if not files:
        return rows, "数据库表的记录数"
    return rows, "全部记录"


def crs_name(code) -> str | None:
    """A coordinate system's Chinese name with its code: ``"EPSG:4490"`` -> ``"CGCS2000 地理坐标系（EPSG:4490）"``.

    Gauss-Krüger zones are named from their EPSG definition (``CGCS2000 3 度带高斯-克吕格投影（中央经线 114°E）``);
    a system without an EPSG code (a city's own) keeps its label. ``None`` for a missing value.
    """
    import re

    if code is None or (isinstance(code, float) and code != code) or str(code).strip() == "":
        return None
    code = str(code)
    if code.upper() in CRS_NAMES:
        return f"{CRS_NAMES[code.upper()]}（{code}）"
    if not re.fullmatch(r"EPSG:\d+", code, flags=re.I):
        return code
    try:
        import pyproj

        name = pyproj.CRS(code).name
    except Exception:  # noqa: BLE001 - an unknown code keeps its label
        return code
    datum = {"CGCS2000": "CGCS2000", "Beijing 1954": "北京 1954", "Xian 1980": "西安 1980", "New Beijing": "新北京 1954",
             "WGS 84": "WGS 84"}
    m = re.fullmatch(r"(.+?) / (3-degree )?Gauss-Kruger (?:CM (\d+)E|zone (\d+))", name)
    if m and m.group(1) in datum:
        width = "3 度带" if m.group(2) else "6 度带"
        where = f"中央经线 {m.group(3)}°E" if m.group(3) else f"第 {m.group(4)} 带"
        return f"{datum[m.group(1)]} {width}高斯-克吕格投影（{where}，{code}）"
    m = re.fullmatch(r"WGS 84 / UTM zone (\d+)([NS])", name)
    if m:
        return f"WGS 84 UTM 投影（第 {m.group(1)} 带{'北' if m.group(2) == 'N' else '南'}，{code}）"
    return f"{name}（{code}）"


def inventory_display(table: pd.DataFrame, columns=SHOWN) -> pd.DataFrame:
    """The inventory as a person reads it: Chinese headers, coordinate systems by name, ``—`` with a reason.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`inventory_table`.
    columns : sequence of str, default :data:`SHOWN`
        Columns shown, in order.

    Returns
    -------
    pandas.DataFrame
        The ``columns`` under their Chinese headers, every cell text: record counts
        with thousands separators and what they count, coordinate systems as declared in the catalog and as found
        in the file (``CGCS2000 地理坐标系（EPSG:4490）``), ``—（非空间数据）``, ``—（文件未声明）`` and the like
        where there is no value.
    """
    t = table.copy()
    for col in INVENTORY_LABELS:
        if col not in t:
            t[col] = None
    error = t["status"].eq("错误")
    spatial = t["geometry_type"].notna() | t["crs"].notna()
    found = t["crs"].map(crs_name)
    declared = t["crs_declared"].map(crs_name)
    out = pd.DataFrame(index=t.index)
    for col in SHOWN:
        if col not in t:
            continue
        out[col] = t[col].astype(object).where(t[col].notna(), None)
    out["format"] = t["format"].map(lambda f: FORMATS.get(f, f) if isinstance(f, str) else "—（未填写）")
    out["rows"] = t["rows"].map(lambda v: f"{int(v):,}" if pd.notna(v) else UNREADABLE)
    out["rows_basis"] = t["rows_basis"].fillna(UNREADABLE)
    out["crs_declared"] = declared.where(~spatial | declared.notna(), NOT_DECLARED).where(spatial, NOT_SPATIAL)
    out["crs"] = found.where(found.notna(), NOT_IN_FILE).where(spatial, NOT_SPATIAL)
    matches = t["crs_matches"].map({True: "一致", False: "不一致"})
    out["crs_matches"] = matches.where(matches.notna(), NOT_IN_FILE).where(spatial, NOT_SPATIAL)
    work = t["crs_workbench"].map(crs_name)
    out["crs_workbench"] = work.where(spatial, NOT_SPATIAL).fillna(NOT_DECLARED)
    geom = t["geometry_type"].map(lambda g: GEOMETRY_TYPES.get(g, g) if isinstance(g, str) else None)
    out["geometry_type"] = geom.where(geom.notna(), NOT_SPATIAL)
    out["n_periods"] = t["n_periods"].map(lambda v: f"{int(v)}" if pd.notna(v) and int(v) else "—（无月度快照）")
    out["size_bytes"] = t["size_bytes"].map(lambda v: f"{int(v):,}" if pd.notna(v) else "—（数据库表）")
    out["problem"] = t["problem"].where(t["problem"].notna() & t["problem"].astype(str).ne(""), "无")
    for col in ("crs_declared", "crs", "crs_matches", "crs_workbench", "geometry_type", "rows", "rows_basis",
                "n_periods", "size_bytes"):
        out[col] = out[col].where(~error, UNREADABLE)
    out = out.fillna("—（未填写）")
    return out[[c for c in columns if c in out]].rename(columns=INVENTORY_LABELS)


def _workbench_crs(entry, described: dict) -> str | None:
    """The CRS the workbench works in for an entry: EPSG:4490 for vector data (transformed on read), a raster's own."""
    if not (described.get("crs") or entry.crs):
        return None
    return described.get("crs") if described.get("dims") is not None else CGCS2000


def write_inventory(catalog_path, out_dir, *, progress: bool = True) -> dict:
    """Write the inventory of a catalog to ``out_dir`` (Parquet, CSV with BOM, HTML, manifest.json), atomically.

    Parameters
    ----------
    catalog_path : path-like
        The catalog file.
    out_dir : path-like
        Output folder, created if needed.
    progress : bool, default True

    Returns
    -------
    dict
        The manifest: catalog path and fingerprint, row counts by status, output files.

    Raises
    ------
    CatalogError
        If the catalog file itself cannot be loaded (the entries' problems become rows instead).
    """
    catalog = Catalog.load(catalog_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = inventory_table(catalog, progress=progress)
    with atomic_path(out / "inventory.parquet") as p:
        table.to_parquet(p, index=False)
    with atomic_path(out / "inventory.csv") as p:
        table.to_csv(p, index=False, encoding="utf-8-sig")
    with atomic_path(out / "inventory.html") as p:
        p.write_text(_html(table, catalog), encoding="utf-8")
    from cimlib import __version__

    manifest = {
        "kind": "inventory", "catalog": str(Path(catalog_path).resolve()),
        "catalog_sha256": sha256_file(catalog_path), "entries": len(table),
        "status_counts": {k: int(v) for k, v in table["status"].value_counts().items()},
        "inputs": {r["name"]: r["sha256"] for r in table.to_dict("records")},
        "outputs": ["inventory.parquet", "inventory.csv", "inventory.html"],
        "cimlib_version": __version__, "python": platform.python_version(),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    with atomic_path(out / "manifest.json") as p:
        p.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def _html(table: pd.DataFrame, catalog: Catalog) -> str:
    shown = inventory_display(table)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for status, r in zip(table["status"], shown.itertuples(index=False)):
        cls = {"正常": "ok", "警告": "warn", "错误": "err"}.get(status, "")
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in r)
        body.append(f'<tr class="{cls}">{cells}</tr>')
    title = catalog.title_zh or "数据资源清单"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)} · 数据资源清单</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:13px}}
th,td{{border:1px solid #ccc;padding:4px 8px;text-align:left}}th{{background:#f0f3f7}}tr.warn{{background:#fff7e0}}
tr.err{{background:#fde8e8}}</style></head><body>
<h1>{html.escape(title)} · 数据资源清单</h1>
<p>共 {len(table)} 项数据资源；正常 {int((table.status == '正常').sum())} 项，警告 {int((table.status == '警告').sum())} 项，
错误 {int((table.status == '错误').sum())} 项。矢量数据按声明坐标系（源坐标系）读入后统一转换到 CGCS2000 地理坐标系
（{CGCS2000}）进行检查和统计，源文件不作改动。</p>
<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></body></html>
"""
