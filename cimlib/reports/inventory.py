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

INVENTORY_LABELS = {
    "name": "条目名称", "title_zh": "数据名称", "layer": "数据分类", "format": "格式", "owner": "责任部门",
    "classification": "安全等级", "update_cycle": "更新周期", "schema": "适用标准检查", "rows": "记录数",
    "n_columns": "字段数", "crs_declared": "声明坐标系", "crs": "文件坐标系", "crs_matches": "坐标系一致",
    "crs_workbench": "工作坐标系",
    "geometry_type": "几何类型", "n_periods": "月度快照期数", "n_files": "文件数", "size_bytes": "大小（字节）",
    "sha256": "指纹（SHA-256）", "status": "状态", "problem": "问题", "path": "路径",
}


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
            row.update({
                "rows": d.get("rows"), "n_columns": len(d.get("columns") or []), "crs": d.get("crs"),
                "crs_matches": d.get("crs_matches"), "crs_workbench": _workbench_crs(entry, d),
                "geometry_type": d.get("geometry_type"),
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
    df["size_bytes"] = df["size_bytes"].astype("Int64")
    return df


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
    shown = ["title_zh", "name", "layer", "format", "owner", "classification", "update_cycle", "rows",
             "crs_declared", "crs", "crs_matches", "crs_workbench", "geometry_type", "n_periods", "size_bytes",
             "status", "problem"]
    head = "".join(f"<th>{html.escape(INVENTORY_LABELS[c])}</th>" for c in shown)
    body = []
    for r in table[shown].itertuples(index=False):
        cls = {"正常": "ok", "警告": "warn", "错误": "err"}.get(r.status, "")
        cells = "".join(f"<td>{'' if pd.isna(v) else html.escape(str(v))}</td>" for v in r)
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
