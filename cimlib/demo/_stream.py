"""The registers of a big sample city, generated and written street by street (``cim demo --scale xlarge``).

The 一标三实 registers of an ``xlarge`` city (14 million persons) are never held whole: each street's addresses,
houses, persons and units are generated from the street's own random streams (:class:`~cimlib.demo._registers.Part`:
ids numbered on from the streets before it, ID-number sequences and organisation codes from the street's own class,
so no two streets draw the same number), and its snapshot rows, lifecycle, texts and address-pipeline rows go to
files written chunk by chunk (Parquet row groups, CSV appends; :class:`_Sink`). A street's content does not depend on
how many streets a chunk holds: written with one chunk for the whole city (the in-memory path, through the ordinary
writers of :mod:`cimlib.demo._write`) the files hold the same rows.

The truth stays exact: every defect is injected within a street (the buildings' duplicated codes are paired within
their street, :func:`~cimlib.demo._buildings.build_buildings` ``pairs_in_street``), and the county-wide facts are
sums of the streets'.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from tqdm.auto import tqdm

from cimlib.demo._defects import Truth
from cimlib.demo._grid import grid_registers
from cimlib.demo._registers import Part, admin_elements, build_registers, flag_smart_compounds
from cimlib.demo._texts import TEXT_TRUTH, register_texts
from cimlib.demo._timeline import Timeline
from cimlib.demo._work import build_pipeline
from cimlib.demo._write import write_csv, write_geoparquet, write_parquet
from cimlib.geo import CGCS2000

__all__ = ["write_streamed_registers", "MAX_SEQ"]

MAX_SEQ = 8_999
"""Largest building sequence number (per street and year) a streamed city may hold: the overlapping copies of
buildings take 9000 on (:func:`cimlib.demo._buildings._inject`)."""


def _rng(seed: int, part: int, street: int) -> np.random.Generator:
    return np.random.default_rng([seed, part, street])


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split in proportion to ``weights`` by largest remainders (exact sum; ties to the first)."""
    w = np.asarray(weights, dtype="float64")
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    share = total * w / w.sum()
    out = np.floor(share).astype(np.int64)
    rest = total - int(out.sum())
    out[np.argsort(-(share - out), kind="stable")[:rest]] += 1
    return out


class _Sink:
    """One output file fed a frame per street.

    ``buffer`` streets are gathered and written as one Parquet row group (or appended to the CSV); ``buffer=None``
    gathers the whole file and writes it at :meth:`close` with the ordinary writers (the in-memory path).
    """

    def __init__(self, path: Path, kind: str, buffer: int | None, encoding: str = "utf-8"):
        self.path, self.kind, self.buffer, self.encoding = path, kind, buffer, encoding
        self.frames: list[pd.DataFrame] = []
        self.writer = None
        self.rows = 0
        self.geo = None
        self.pandas = None

    def add(self, df: pd.DataFrame) -> None:
        self.frames.append(df)
        if self.buffer is not None and len(self.frames) >= self.buffer:
            self._flush()

    def _flush(self) -> None:
        if not self.frames:
            return
        df = pd.concat(self.frames, ignore_index=True) if len(self.frames) > 1 else self.frames[0]
        self.frames = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.kind == "csv":
            df.to_csv(self.path, mode="a" if self.rows else "w", header=not self.rows, index=False,
                      encoding=self.encoding, lineterminator="\n")
        else:
            if self.kind == "geoparquet":
                from geopandas.io.arrow import _geopandas_to_arrow

                table = _geopandas_to_arrow(gpd.GeoDataFrame(df, geometry="geometry", crs=CGCS2000), index=False,
                                            schema_version="1.0.0", write_covering_bbox=False)
                self._merge_geo(json.loads(table.schema.metadata[b"geo"]))
                self.pandas = self.pandas or table.schema.metadata.get(b"pandas")
            else:
                table = pa.Table.from_pandas(df, preserve_index=False)
            if self.writer is None:
                # the geometry's metadata (bounding box, types) is known at the end: the footer carries it then
                self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd",
                                               store_schema=self.kind != "geoparquet")
            else:
                table = table.cast(self.writer.schema)
            self.writer.write_table(table)
        self.rows += len(df)

    def _merge_geo(self, geo: dict) -> None:
        if self.geo is None:
            self.geo = geo
            return
        for name, col in geo["columns"].items():
            own = self.geo["columns"][name]
            own["geometry_types"] = sorted(set(own["geometry_types"]) | set(col["geometry_types"]))
            if "bbox" in col:
                a, b = own.get("bbox", col["bbox"]), col["bbox"]
                own["bbox"] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]

    def close(self) -> None:
        if self.buffer is None:
            df = pd.concat(self.frames, ignore_index=True)
            self.frames = []
            if self.kind == "csv":
                write_csv(df, self.path, encoding=self.encoding)
            elif self.kind == "geoparquet":
                write_geoparquet(gpd.GeoDataFrame(df, geometry="geometry", crs=CGCS2000), self.path)
            else:
                write_parquet(df, self.path)
            return
        self._flush()
        if self.writer is not None:
            if self.geo is not None:
                meta = {"geo": json.dumps(self.geo)}
                if self.pandas:
                    meta["pandas"] = self.pandas.decode()
                self.writer.add_key_value_metadata(meta)
            self.writer.close()


def _lonlat(addr: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Addresses in CGCS2000 with ``lon``/``lat`` before the geometry (as the snapshot writer stores them)."""
    lonlat = addr.geometry.to_crs(CGCS2000)
    out = addr.to_crs(CGCS2000)
    out.insert(len(out.columns) - 1, "lon", shapely.get_x(lonlat.to_numpy()))
    out.insert(len(out.columns) - 1, "lat", shapely.get_y(lonlat.to_numpy()))
    return out


def _head(admin, info: dict, columns, periods: tuple) -> gpd.GeoDataFrame:
    """The admin elements with every column a street's addresses carry: present and mapped from the first month,
    no code, no compound flag (as the whole-city generator leaves them)."""
    head = admin_elements(admin, info)
    head["entry_period"], head["mapped_period"] = periods[0], periods[0]
    head["smart_compound"] = None
    head["grid_code"], head["grid_period"] = None, ""
    return head[list(columns)]


def write_streamed_registers(root: Path, seed: int, admin, buildings: gpd.GeoDataFrame, info: dict, sc,
                             truth: Truth, grid_static: dict, timeline: Timeline, snapshot_periods: tuple,
                             chunk_streets: int | None, progress: bool = True) -> dict:
    """Generate the registers street by street and write their snapshots, lifecycle, texts and pipeline log.

    Parameters
    ----------
    root : pathlib.Path
        The city folder being built.
    seed : int
    admin : cimlib.demo._admin.AdminAreas
    buildings : geopandas.GeoDataFrame
        The whole white model, projected, with its grid codes.
    info : dict
        County record.
    sc : cimlib.demo._scale.Scale
        Record counts (addresses, houses, persons, units).
    truth : Truth
        Receives every street's defects.
    grid_static : dict
        :func:`cimlib.demo._grid.grid_static` of the buildings and devices.
    timeline : Timeline
    snapshot_periods : tuple of str
        The months written as snapshots.
    chunk_streets : int or None
        Streets per written chunk; None: the whole file at once (the in-memory path).
    progress : bool, default True

    Returns
    -------
    dict
        ``counts`` (addresses, houses, persons, units), ``smart_compounds_by_period``, ``compounds_by_period``
        (over the timeline's months) and ``grid`` (:func:`~cimlib.demo._grid.grid_registers` counts, summed).

    Raises
    ------
    ValueError
        A street holds more buildings of one year than building codes allow (:data:`MAX_SEQ`), or the county has
        more than 99 streets (their code classes would not fit).
    """
    periods = timeline.periods
    streets = admin.level("街道")["area_code"].to_numpy()
    if len(streets) > 100:
        raise ValueError(f"街道数 {len(streets)} 过多，无法按街道流式生成")
    real = buildings[~buildings["building_id"].str.endswith("D")]
    seq = real["building_code"].str.slice(13).astype("int64")
    if len(seq) and int(seq.max()) > MAX_SEQ:
        raise ValueError(f"某街道某年的建筑超过 {MAX_SEQ} 栋，建筑物编码不够用：请换用街道更多的区划")

    # each street's share of the registers, as the whole-city draws would give it in expectation
    street = real["street_code"].to_numpy()
    res = (real["use"] == "住宅").to_numpy()
    w = real["floors"].to_numpy() * np.where(res, 2.0, 0.6)
    by = pd.DataFrame({"s": street, "w": w, "wres": np.where(res, w, 0.0), "nb": 1.0, "nonres": (~res).astype(float)})
    by = by.groupby("s").sum().reindex(streets, fill_value=0.0)
    n_houses = _allocate(sc.houses, by["w"].to_numpy())
    n_persons = _allocate(sc.persons, n_houses * np.divide(by["wres"], by["w"], out=np.zeros(len(by)),
                                                           where=by["w"].to_numpy() > 0))
    nonres = by["nonres"].to_numpy()
    n_units = _allocate(sc.units, 0.85 * nonres / max(nonres.sum(), 1) + 0.15 * by["nb"].to_numpy() / by["nb"].sum())
    # addresses: the street's structure (roads, compounds, buildings, stairwells; estimated here, exact once
    # generated) plus rooms; each street takes its share of the rooms still to place, the last one the rest
    comm_street = admin.level("社区")
    n_comm = pd.Series(comm_street["area_code"].str.slice(0, 9).to_numpy()).value_counts().reindex(streets, fill_value=0)
    floors = real["floors"].to_numpy()
    stair = np.where(res & (floors >= 4), np.clip(floors // 8 + 1, 1, 4), 0)
    by2 = pd.DataFrame({"s": street, "stair": stair, "res": res.astype(float)}).groupby("s").sum().reindex(streets,
                                                                                                     fill_value=0)
    est = (3 * n_comm.to_numpy() * 1.5 + by["nb"].to_numpy() + by2["stair"].to_numpy() + by2["res"].to_numpy() / 8)
    room_w = n_houses.astype(float)
    # the streets' own ID-number sequences (000-999, a block per street in proportion to its persons, at least
    # two: both genders) and organisation-code heads (00-99, in proportion to its units): drawn from sets no other
    # street uses, no two streets can draw the same number
    seq_end = np.cumsum(_allocate(1000 - 2 * len(streets), n_persons) + 2)
    head_end = np.cumsum(_allocate(100 - len(streets), n_units) + 1)

    snaps = root / "snapshots"
    sinks = {}
    for p in snapshot_periods:
        sinks["addresses", p] = _Sink(snaps / "addresses" / f"period={p}" / "part-0.parquet", "geoparquet", chunk_streets)
        sinks["persons", p] = _Sink(snaps / "persons" / f"period={p}" / "part-0.parquet", "parquet", chunk_streets)
        sinks["houses", p] = _Sink(snaps / "houses" / f"period={p}" / "part-0.parquet", "parquet", chunk_streets)
        sinks["units", p] = _Sink(snaps / "units" / f"period={p}" / "part-0.csv", "csv", chunk_streets, "gbk")
    lifecycle = _Sink(root / "truth" / "lifecycle.parquet", "parquet", chunk_streets)
    texts_out = _Sink(root / "truth" / TEXT_TRUTH, "parquet", chunk_streets)
    pipeline_out = _Sink(root / "data" / "address_pipeline.parquet", "parquet", chunk_streets)

    from cimlib.demo import _snapshot

    head = admin_elements(admin, info)
    remaining = sc.addresses - len(head)
    starts = {"address": len(head) + 1, "house": 1, "person": 1, "unit": 1}
    counts = {"addresses": len(head), "houses": 0, "persons": 0, "units": 0}
    smart = dict.fromkeys(periods, 0)
    compounds = dict.fromkeys(periods, 0)
    grid = {"addresses": [[0, 0] for _ in periods], "houses": [[0, 0] for _ in periods]}
    first = True
    live = np.flatnonzero(by["nb"].to_numpy() > 0)
    for j, i in enumerate(tqdm(live, desc="  一标三实（按街道）", unit="街道", leave=False, disable=not progress)):
        code = streets[i]
        b = real[street == code].reset_index(drop=True)
        rest = live[j:]
        rooms = max(remaining - est[rest].sum(), 0.0) * room_w[i] / max(room_w[rest].sum(), 1.0)
        target = remaining if j == len(live) - 1 else int(round(est[i] + rooms))
        seqs = tuple(range(int(seq_end[i - 1]) if i else 0, int(seq_end[i])))
        heads = tuple(f"{h:02d}" for h in range(int(head_end[i - 1]) if i else 0, int(head_end[i])))
        part = Part((code,), starts["address"], starts["house"], starts["person"], starts["unit"], seqs, heads)
        reg = build_registers(_rng(seed, 7, i), admin, b, info, target, int(n_houses[i]), int(n_persons[i]),
                              int(n_units[i]), truth, timeline, part)
        del b
        from cimlib.demo import _unmapped_truth

        _unmapped_truth(reg, truth)
        texts = register_texts(_rng(seed, 12, i), pd.concat([head, reg.addresses], ignore_index=True), info,
                               {"persons": reg.persons, "units": reg.units}, reg.true_address)
        reg.addresses.insert(reg.addresses.columns.get_loc("geometry"), "smart_compound",
                             flag_smart_compounds(_rng(seed, 13, i), reg.addresses))
        for name in ("persons", "units"):
            getattr(reg, name)["address_text"] = texts.loc[texts["dataset"] == name, "text"].to_numpy(dtype=object)
        pipeline_out.add(build_pipeline(_rng(seed, 8, i), reg.addresses, truth, periods[0]))
        g = grid_registers(_rng(seed, 15, i), reg, grid_static, periods, truth)
        for key in grid:
            for k, (num, den) in enumerate(g[key]):
                grid[key][k][0] += num
                grid[key][k][1] += den

        a = reg.addresses
        for p in periods:
            smart[p] += int(((a["smart_compound"] == "是") & (a["entry_period"] <= p)).sum())
            compounds[p] += int(((a["address_type"] == "院落") & (a["entry_period"] <= p)).sum())
        life = reg.lifecycle
        if first:  # the admin elements lead the library, present from the first month
            a = pd.concat([_head(admin, info, a.columns, periods), a], ignore_index=True)
            a = gpd.GeoDataFrame(a, geometry="geometry", crs=reg.addresses.crs)
            life = pd.concat([pd.DataFrame({"dataset": "addresses", "record_id": head["address_id"].to_numpy(),
                                            "entry_period": periods[0], "mapped_period": periods[0]}), life],
                             ignore_index=True)
            first = False
        lifecycle.add(life)
        texts_out.add(texts)
        addr = _lonlat(a)
        for p in snapshot_periods:
            s = _snapshot(addr, p, {"geometry": None, "lon": np.nan, "lat": np.nan})
            sinks["addresses", p].add(pd.DataFrame(s))
            sinks["persons", p].add(_snapshot(reg.persons, p, {"address_id": None}))
            sinks["houses", p].add(_snapshot(reg.houses, p, {"house_code": None}))
            sinks["units", p].add(_snapshot(reg.units, p, {"address_id": None}))
        counts["addresses"] += len(reg.addresses)
        for name in ("houses", "persons", "units"):
            counts[name] += len(getattr(reg, name))
        remaining -= len(reg.addresses)
        starts = {"address": starts["address"] + len(reg.addresses), "house": starts["house"] + len(reg.houses),
                  "person": starts["person"] + len(reg.persons), "unit": starts["unit"] + len(reg.units)}
        del reg, a, addr, texts, life
    for sink in (*sinks.values(), lifecycle, texts_out, pipeline_out):
        sink.close()
    return {"counts": counts, "smart_compounds_by_period": smart, "compounds_by_period": compounds, "grid": grid}
