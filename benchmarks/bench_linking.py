"""Time linking (上图) on the large sample city: 2M persons, 1M addresses and 1M houses to 500k buildings
(target ≤ 120 s on 2 cores), against a plain ``geopandas.sjoin`` of the same points without the code-first path.

Prints, measured in the same run:
  1. reading buildings, admin areas, addresses, persons and houses from the catalog (reported apart, not in the target);
  2. the workbench's code-first linking (``cimlib.metrics.linking``), each link timed on its own, with counts by
     method (code / spatial / none):
       - addresses -> buildings: ``link_addresses`` (code link by building_id/building_code, else the point in a
         footprint or within 5 m of one, in the Gauss-Krüger CRS of the admin areas; plus the claimed-area check),
       - persons -> addresses: ``link_records`` on address_id (on the map only through an on-map address),
       - houses -> buildings: ``link_records`` on building_id, then building_code;
  3. the baseline, timed end to end (projection included, as the workbench's time includes its projection):
       - addresses: every address point (those with geometry) projected to the same CRS and joined to the projected
         footprints with ``geopandas.sjoin(points, buildings, how="left", predicate="dwithin", distance=5)``,
         one building kept per point (an arbitrary one where several are within 5 m);
       - persons: their point through their address (merge on address_id to the projected address points), then
         the same sjoin (2M points);
       - houses have no geometry: a plain ``pandas.merge`` on building_id;
  4. the ratio baseline / workbench, agreement of the two where both link a record to a building, and peak RSS
     (psutil, sampled per phase; plus the process peak from getrusage).

With ``--baseline-sample N`` the two sjoins run on N random address points and N random persons and their times
are extrapolated linearly to the full tables (the output says so); projections, the footprint tree and the merges
always run in full.

    .venv/bin/python benchmarks/bench_linking.py [--catalog /path/to/large/data_catalog.yaml] [--baseline-sample N]
    .venv/bin/python benchmarks/bench_linking.py --build /path/to/new/folder   (builds the large city first, ~4 min)
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import shapely

from cimlib import Catalog
from cimlib.lookup import index_in
from cimlib.metrics.linking import DEFAULT_TOLERANCE_M, link_addresses, link_records, projected_crs

TARGET_S = 120.0
DEFAULT_CATALOG = Path("/work/bench/large2/data_catalog.yaml")
GB = 1024 ** 3


class PeakRSS:
    """Resident memory of this process sampled by a background thread; ``mark()`` returns the peak since the last mark.

    Sampling can miss short spikes inside C calls that hold the GIL; the process peak from getrusage does not.
    """

    def __init__(self, interval: float = 0.02):
        self._proc = psutil.Process()
        self._interval = interval
        self._peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._peak = max(self._peak, self._proc.memory_info().rss)

    def mark(self) -> int:
        rss = self._proc.memory_info().rss
        peak, self._peak = max(self._peak, rss), rss
        return peak

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _methods(links: pd.DataFrame) -> str:
    c = links["method"].value_counts()
    return "  ".join(f"{m} {int(c.get(m, 0)):>9,}" for m in ("code", "spatial", "none"))


def _one_per_point(joined: gpd.GeoDataFrame) -> tuple[pd.Series, int]:
    """The building of each left row of a left sjoin (first candidate), and how many rows had several candidates."""
    dup = joined.index.duplicated()
    several = int(pd.Index(joined.index[dup]).nunique())
    return joined.loc[~dup, "building_id"], several


def _agreement(a: pd.Series, b: pd.Series) -> tuple[int, int]:
    both = a.notna().to_numpy() & b.notna().to_numpy()
    same = both & (a.astype("string").fillna("").to_numpy(dtype=object) == b.astype("string").fillna("").to_numpy(dtype=object))
    return int(both.sum()), int(same.sum())


def _pct(k: int, n: int) -> str:
    return f"{k / n:7.2%}" if n else "    n/a"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", type=Path, default=None, help=f"data_catalog.yaml of the large city (default {DEFAULT_CATALOG})")
    ap.add_argument("--build", type=Path, default=None, metavar="DIR",
                    help="build the large sample city (seed 7) into DIR first, ~4 minutes, and use it")
    ap.add_argument("--baseline-sample", type=int, default=None, metavar="N",
                    help="run the baseline sjoins on N random address points and N random persons and extrapolate")
    ap.add_argument("--seed", type=int, default=0, help="seed of the baseline sample")
    args = ap.parse_args()

    t_start = time.perf_counter()
    if args.build is not None:
        from cimlib.demo import build_sample_city

        t0 = time.perf_counter()
        args.catalog = build_sample_city(args.build, seed=7, scale="large")
        print(f"built the large sample city into {args.build} in {time.perf_counter() - t0:.0f} s")
    elif args.catalog is None:
        if not DEFAULT_CATALOG.exists():
            print(f"no --catalog given and {DEFAULT_CATALOG} does not exist.\n"
                  "Build the large sample city first (~4 min):\n"
                  "    .venv/bin/cim demo --scale large --out DIR\n"
                  "then run with --catalog DIR/data_catalog.yaml, or run this script with --build DIR.", file=sys.stderr)
            return 2
        args.catalog = DEFAULT_CATALOG
    tol = DEFAULT_TOLERANCE_M
    rss = PeakRSS()

    # 1. reading
    catalog = Catalog.load(args.catalog)
    reads, frames = {}, {}
    for name in ("buildings", "admin_areas", "addresses", "persons", "houses"):
        t0 = time.perf_counter()
        frames[name] = catalog.read(name)
        reads[name] = time.perf_counter() - t0
    rss_read = rss.mark()
    buildings, admin, addresses = frames["buildings"], frames["admin_areas"], frames["addresses"]
    persons, houses = frames["persons"], frames["houses"]

    # 2. the workbench, code first
    t0 = time.perf_counter()
    crs = projected_crs(admin.geometry.to_numpy())
    alinks = link_addresses(addresses, buildings, admin, id_column="address_id", crs=crs)
    t_addr = time.perf_counter() - t0
    t0 = time.perf_counter()
    plinks = link_records(persons, pd.DataFrame({"address_id": addresses["address_id"].astype(str).reset_index(drop=True)}),
                          keys=(("address_id", "address_id"),), id_column="person_id", target_id="address_id",
                          target_on_map=alinks["on_map"].to_numpy())
    t_pers = time.perf_counter() - t0
    t0 = time.perf_counter()
    hlinks = link_records(houses, buildings, keys=(("building_id", "building_id"), ("building_code", "building_code")),
                          id_column="house_id", target_id="building_id", target_name="建筑物")
    t_house = time.perf_counter() - t0
    t_wb = t_addr + t_pers + t_house
    rss_wb = rss.mark()

    # 3. the baseline: plain sjoin of the points, no code links
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    bproj = buildings[["building_id", "geometry"]].to_crs(crs)
    g = addresses.geometry.to_numpy()
    apts = addresses.loc[~shapely.is_missing(g) & ~shapely.is_empty(g), ["address_id", "geometry"]].to_crs(crs)
    bproj.sindex  # the footprint tree: built by the first sjoin anyway (and cached), timed here as a fixed cost
    t_b_proj = time.perf_counter() - t0

    sample_a = apts
    if args.baseline_sample is not None and args.baseline_sample < len(apts):
        sample_a = apts.iloc[np.sort(rng.choice(len(apts), args.baseline_sample, replace=False))]
    t0 = time.perf_counter()
    ja = gpd.sjoin(sample_a, bproj, how="left", predicate="dwithin", distance=tol)
    base_addr, several_a = _one_per_point(ja)
    t_b_addr = time.perf_counter() - t0
    scale_a = len(apts) / len(sample_a) if len(sample_a) else 1.0
    del ja

    t0 = time.perf_counter()
    ppts = gpd.GeoDataFrame(persons[["person_id", "address_id"]].merge(apts, on="address_id", how="inner"),
                            geometry="geometry", crs=crs)
    t_b_merge = time.perf_counter() - t0
    sample_p = ppts
    if args.baseline_sample is not None and args.baseline_sample < len(ppts):
        sample_p = ppts.iloc[np.sort(rng.choice(len(ppts), args.baseline_sample, replace=False))]
    t0 = time.perf_counter()
    jp = gpd.sjoin(sample_p, bproj, how="left", predicate="dwithin", distance=tol)
    base_pers, several_p = _one_per_point(jp)
    t_b_pers = time.perf_counter() - t0
    scale_p = len(ppts) / len(sample_p) if len(sample_p) else 1.0
    del jp

    t0 = time.perf_counter()
    hm = houses[["house_id", "building_id"]].merge(buildings[["building_id"]].assign(_hit=True), on="building_id", how="left")
    base_house = hm["building_id"].where(hm["_hit"].notna().to_numpy())
    t_b_house = time.perf_counter() - t0
    rss_base = rss.mark()

    sampled = sample_a is not apts or sample_p is not ppts
    t_base = t_b_proj + t_b_addr * scale_a + t_b_merge + t_b_pers * scale_p + t_b_house

    # 4. agreement where both link a record to a building
    wb_addr = alinks["target_id"].iloc[addresses.index.get_indexer(base_addr.index)].reset_index(drop=True)
    wb_meth = alinks["method"].iloc[addresses.index.get_indexer(base_addr.index)].to_numpy()
    ba = base_addr.reset_index(drop=True)
    agree_a = {m: _agreement(wb_addr[wb_meth == m].reset_index(drop=True), ba[wb_meth == m].reset_index(drop=True))
               for m in ("code", "spatial")}
    # a person's building in the workbench: the building of the address it links to
    ppos = index_in(pd.Series(plinks["target_id"], dtype="string"), addresses["address_id"].astype("string"))
    wb_pbld = pd.Series(np.where(ppos >= 0, alinks["target_id"].to_numpy(dtype=object)[np.maximum(ppos, 0)], None))
    prow = index_in(sample_p.loc[base_pers.index, "person_id"].astype("string"), persons["person_id"].astype("string"))
    n_pb, same_pb = _agreement(wb_pbld.iloc[prow].reset_index(drop=True), base_pers.reset_index(drop=True))
    n_hb, same_hb = _agreement(hlinks["target_id"], base_house)
    rss.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    n_b, n_a, n_p, n_h = len(buildings), len(addresses), len(persons), len(houses)
    t_read = sum(reads.values())
    print(f"linking on {args.catalog} ({psutil.cpu_count()} cores, {psutil.virtual_memory().total / GB:.0f} GB RAM)")
    print(f"  {n_p:,} persons, {n_a:,} addresses ({len(apts):,} with a point), {n_h:,} houses -> {n_b:,} buildings; "
          f"CRS {crs}, tolerance {tol:g} m")
    print("reading (not in the target)")
    for name, t in reads.items():
        print(f"  {name:<34} {t:8.2f} s")
    print(f"  {'total':<34} {t_read:8.2f} s   peak RSS {rss_read / GB:5.2f} GB")
    print("workbench, code first (cimlib.metrics.linking)")
    print(f"  addresses -> buildings             {t_addr:8.2f} s   {_methods(alinks)}   on map {int(alinks['on_map'].sum()):,}")
    print(f"  persons -> addresses               {t_pers:8.2f} s   {_methods(plinks)}   on map {int(plinks['on_map'].sum()):,}")
    print(f"  houses -> buildings                {t_house:8.2f} s   {_methods(hlinks)}   on map {int(hlinks['on_map'].sum()):,}")
    print(f"  total linking                      {t_wb:8.2f} s   vs target {TARGET_S:.0f} s: {t_wb / TARGET_S:.2f} × "
          f"-> {'MET' if t_wb <= TARGET_S else 'MISSED'}   peak RSS {rss_wb / GB:5.2f} GB")
    print(f"  reading + linking                  {t_read + t_wb:8.2f} s")
    print("baseline, plain geopandas.sjoin (dwithin 5 m) of the points, no code links"
          + (f"  [sjoins on a random sample of {args.baseline_sample:,} points each, EXTRAPOLATED linearly]" if sampled else ""))
    print(f"  project buildings + points, tree   {t_b_proj:8.2f} s")
    ex_a = f"   ({len(sample_a):,} points in {t_b_addr:.2f} s, × {scale_a:.1f})" if sample_a is not apts else ""
    ex_p = f"   ({len(sample_p):,} points in {t_b_pers:.2f} s, × {scale_p:.1f})" if sample_p is not ppts else ""
    hit_a, hit_p = int(base_addr.notna().sum()), int(base_pers.notna().sum())
    print(f"  addresses sjoin                    {t_b_addr * scale_a:8.2f} s   linked {hit_a:,} of {len(sample_a):,}; "
          f"{several_a:,} with several buildings within {tol:g} m{ex_a}")
    print(f"  persons -> address point (merge)   {t_b_merge:8.2f} s   {len(ppts):,} persons with a point")
    print(f"  persons sjoin                      {t_b_pers * scale_p:8.2f} s   linked {hit_p:,} of {len(sample_p):,}; "
          f"{several_p:,} with several buildings within {tol:g} m{ex_p}")
    print(f"  houses merge on building_id        {t_b_house:8.2f} s   linked {int(base_house.notna().sum()):,} of {n_h:,}")
    print(f"  total baseline                     {t_base:8.2f} s{'  (extrapolated)' if sampled else ''}   "
          f"peak RSS {rss_base / GB:5.2f} GB")
    print(f"ratio baseline / workbench           {t_base / t_wb:8.2f} ×{'  (baseline extrapolated)' if sampled else ''}")
    print("agreement where both link the record to a building (same building)")
    for m, (n, k) in agree_a.items():
        print(f"  addresses linked by {m:<8}       {k:>9,} of {n:>9,}  {_pct(k, n)}")
    print(f"  persons (via their address)        {same_pb:>9,} of {n_pb:>9,}  {_pct(same_pb, n_pb)}")
    print(f"  houses                             {same_hb:>9,} of {n_hb:>9,}  {_pct(same_hb, n_hb)}")
    print(f"process peak RSS (getrusage)         {peak / GB:8.2f} GB;  wall time of main() {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
