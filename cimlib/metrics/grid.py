"""北斗网格码关联率 (``beidou_grid_rate``): entities carrying a valid BeiDou grid code consistent with their location.

武汉市城市数字公共基础设施建设工作方案 二、(二)1 (2023年12月前): “全市域达到CIM精模级别,并使用北斗网格划分关联实体,
构建统一空间定位体系。” The document gives no share; 全市域 reads as every entity (target 100 %).

- **N**: entities whose ``grid_code`` is a well-formed 2D 北斗网格位置码 (GB/T 39409-2020 §5.2) of level 7–10 and
  whose cell holds the entity's location: :func:`standards_checks.schemas._grid.grid_status`, the very test of the
  rules BLD-008/009, ADR-010/011, HSE-008/009 and DEV-004/005 (a point: ``encode(lon, lat, level) == code``; a
  footprint: the code's cell meets it; a house: its building's footprint, so a house whose ``building_id`` names no
  building is not counted).
- **D**: entities — every building (``buildings``), the standard addresses that are places (院落/建筑物/单元/户室,
  the register scope of the other address metrics), every house of the month's snapshot, every sensing device
  (``devices``). A missing code, or a dataset delivered without the field, counts in D and not in N.
- **Periods**: the registers' monthly snapshots; buildings and devices are single files, counted as delivered in
  every period.
- **Rows**: one per dataset (its catalog entry) and the combined row, ``dataset`` = ``entities`` (the sums), for the
  county, its streets and communities (:class:`cimlib.metrics._areas.Areas`: a device names only its street, so
  devices count in the street's unknown-community bucket ``<street>-UNK``).

:func:`grid_rows` makes the rows from frames already read (what :func:`cimlib.metrics.compute_metrics` calls for
each month); :func:`grid_metrics` reads a catalog itself.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from cimlib._io import input_label, input_sha256
from cimlib.catalog import Catalog, CatalogError
from cimlib.metrics._areas import Areas, metric_rows
from cimlib.metrics._spec import CLASSES, METRICS, METRICS_COLUMNS

__all__ = ["GRID_METRIC", "ENTITIES", "GRID_SCHEMAS", "in_scope", "grid_counts", "grid_rows", "grid_metrics"]

GRID_METRIC = "beidou_grid_rate"
ENTITIES = "entities"
"""``dataset`` of the combined row (not a catalog entry)."""
GRID_SCHEMAS = ("buildings", "addresses", "houses", "devices")
"""The entities counted, in the order of the rows."""


def in_scope(schema: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The records of a dataset that count as entities (addresses: the places; others: all)."""
    scope = CLASSES[schema].scope if schema in CLASSES else ()
    if scope and "address_type" in frame:
        return frame[frame["address_type"].isin(scope).to_numpy()]
    return frame


def grid_counts(schema: str, frame: pd.DataFrame, buckets: np.ndarray, buildings=None) -> pd.DataFrame:
    """Entities and entities with a valid, consistent code per community-level bucket.

    Parameters
    ----------
    schema : str
        ``buildings``, ``addresses``, ``houses`` or ``devices``.
    frame : pandas.DataFrame
        The dataset's entities (already in scope).
    buckets : numpy.ndarray
        Community-level bucket of each record (:meth:`cimlib.metrics._areas.Areas.bucket`).
    buildings : geopandas.GeoDataFrame, optional
        The building layer (houses are located by their building's footprint; without it none is consistent).

    Returns
    -------
    pandas.DataFrame
        Indexed by bucket, ``grid_ok`` and ``entities``.
    """
    from standards_checks.schemas._grid import building_footprints, grid_status

    if schema == "houses":
        where = building_footprints(frame, buildings) if buildings is not None else np.full(len(frame), None, object)
        ok = grid_status(frame, where).ok
    else:
        ok = grid_status(frame).ok
    return (pd.DataFrame({"bucket": np.asarray(buckets, dtype=object), "grid_ok": ok.astype("int64"), "entities": 1})
            .groupby("bucket")[["grid_ok", "entities"]].sum())


def grid_rows(parts: dict, areas: Areas, period, fingerprint: Callable[[set], str]) -> pd.DataFrame:
    """The ``beidou_grid_rate`` rows of one period from per-dataset counts.

    Parameters
    ----------
    parts : dict
        Schema -> ``(entry name, counts)`` (:func:`grid_counts`) for the datasets available, any subset of
        :data:`GRID_SCHEMAS`.
    areas : Areas
    period : str or None
        ``YYYY-MM`` (``None``: ``current``).
    fingerprint : callable
        Set of schemas -> sha256 of their input files for the period.

    Returns
    -------
    pandas.DataFrame
        :data:`cimlib.metrics.METRICS_COLUMNS`: the rows of each dataset, then the combined ``entities`` rows (the
        sums over the datasets given); county, street and community rows.
    """
    if not parts:
        return pd.DataFrame(columns=METRICS_COLUMNS)
    out = []
    total = None
    deps_all = {"admin_areas"}
    for schema in GRID_SCHEMAS:
        if schema not in parts:
            continue
        name, counts = parts[schema]
        deps = {schema, "admin_areas"} | ({"buildings"} if schema == "houses" else set())
        deps_all |= deps
        out.append(_rows(name, counts, areas, period, fingerprint(deps)))
        total = counts if total is None else total.add(counts, fill_value=0)
    out.append(_rows(ENTITIES, total, areas, period, fingerprint(deps_all)))
    return pd.concat(out, ignore_index=True)[METRICS_COLUMNS]


def _rows(dataset: str, counts: pd.DataFrame, areas: Areas, period, sha: str) -> pd.DataFrame:
    m = METRICS[GRID_METRIC]
    return metric_rows(GRID_METRIC, dataset, counts, "grid_ok", "entities", areas, period or "current", sha,
                       name_zh=m.name_zh, unit=m.unit)


def grid_metrics(catalog, periods=None, *, areas: Areas | None = None) -> pd.DataFrame:
    """``beidou_grid_rate`` of a catalog for each period, read from the catalog (module docstring for N and D).

    Parameters
    ----------
    catalog : Catalog or path-like
    periods : list of str, optional
        ``YYYY-MM`` snapshot periods of the registers; default all of them (``current`` for a catalog without
        snapshots). Buildings and devices are read once and counted in every period.
    areas : Areas, optional
        The admin hierarchy; default the catalog's ``admin_areas`` layer.

    Returns
    -------
    pandas.DataFrame
        :data:`cimlib.metrics.METRICS_COLUMNS`; ``attrs["problems"]``: ``(period, dataset, problem)`` of the
        datasets that could not be read (left out of N and D).

    Raises
    ------
    cimlib.catalog.CatalogError
        No admin layer when ``areas`` is not given, or none of the four datasets in the catalog.
    """
    catalog = catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)
    names = {s: catalog.entry_for(s) for s in (*GRID_SCHEMAS, "admin_areas")}
    if not any(names[s] for s in GRID_SCHEMAS):
        raise CatalogError("数据目录中没有建筑、标准地址、实有房屋或物联感知设备数据，无法计算北斗网格码关联率", path=catalog.path)
    problems: list[tuple] = []

    def read(schema, period=None):
        name = names[schema]
        if not name:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return catalog.read(name, period=period if catalog[name].snapshots else None)
        except CatalogError as exc:
            problems.append((period, name, str(exc)))
            return None

    if areas is None:
        if not names["admin_areas"]:
            raise CatalogError("数据目录中没有 admin_areas（行政区划）图层，无法按区划统计北斗网格码关联率", path=catalog.path)
        admin = read("admin_areas")
        if admin is None:
            raise CatalogError(f"无法按区划统计北斗网格码关联率：{problems[-1][2]}", path=catalog.path)
        areas = Areas(admin)
    snap = sorted({p for s in GRID_SCHEMAS if names[s] for p in catalog.periods(names[s])})
    periods = list(periods) if periods is not None else (snap or [None])
    static = {s: read(s) for s in ("buildings", "devices")}
    fixed = {s: (names[s], grid_counts(s, in_scope(s, f), areas.bucket(in_scope(s, f))))
             for s, f in static.items() if f is not None}
    root = catalog.path.parent.resolve()
    sha_cache: dict[str, str] = {}

    def fingerprint(period):
        """sha256 over the input files (relative names and their sha256) of the schemas, as compute_metrics does."""
        def fp(schemas):
            h = hashlib.sha256()
            for schema in sorted(schemas):
                name = names.get(schema)
                if not name:
                    continue
                try:
                    files = catalog.inputs(name, period if catalog[name].snapshots else None)
                except CatalogError:
                    continue
                for f in files:
                    rel = input_label(f, root)
                    if rel not in sha_cache:
                        sha_cache[rel] = input_sha256(f)
                    h.update(f"{rel}\0{sha_cache[rel]}\n".encode())
            return h.hexdigest()
        return fp

    out = []
    for period in periods:
        parts = dict(fixed)
        for s in ("addresses", "houses"):
            f = read(s, period)
            if f is not None:
                f = in_scope(s, f)
                parts[s] = (names[s], grid_counts(s, f, areas.bucket(f), static["buildings"]))
        out.append(grid_rows(parts, areas, period, fingerprint(period)))
    table = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=METRICS_COLUMNS)
    table.attrs["problems"] = problems
    return table
