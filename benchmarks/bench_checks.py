"""Time the standard checks on the large sample city: 2M persons + 1M addresses (target ≤ 60 s on 2 cores).

Prints, measured in the same run:
  1. the full rule set (`run_checks(catalog, ["persons", "addresses"])`, reading included);
  2. the same core rules (ID number, phone, duplicate ID, address link; coordinates present, inside claimed
     street, parent exists) vectorized over the full tables, and row by row with `DataFrame.apply` on a sample,
     extrapolated to the full tables, and the ratio.

    .venv/bin/python benchmarks/bench_checks.py --catalog /path/to/large/data_catalog.yaml
    (no catalog: builds the large city into a temporary folder first, ~4 minutes)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from cimlib import Catalog
from cimlib.codes.ids import phone_valid, ric_valid
from cimlib.lookup import isin
from standards_checks import run_checks
from standards_checks.backends.pandas import Context

TARGET_S = 60.0


def _vectorized(ctx: Context, persons: pd.DataFrame, addresses) -> None:
    ric_valid(persons["id_number"])
    phone_valid(persons["phone"])
    persons["id_number"].duplicated(keep=False)
    isin(persons["address_id"], ctx.ids("addresses"))
    g = addresses.geometry
    addresses["address_type"].isin(["院落", "建筑物", "单元", "户室"]) & g.isna()
    ctx.outside_claimed_area(addresses, "street_code", "街道")
    isin(addresses["parent_id"], addresses["address_id"])


def _row_by_row(ctx: Context, persons: pd.DataFrame, addresses) -> None:
    counts = persons["id_number"].value_counts()
    addr_ids = set(ctx.ids("addresses"))
    persons.apply(lambda r: (bool(ric_valid([r["id_number"]])[0]), bool(phone_valid([r["phone"]])[0]),
                             counts.get(r["id_number"], 0) > 1, r["address_id"] in addr_ids), axis=1)
    areas = ctx.frame("admin_areas")
    streets = dict(zip(areas.loc[areas.level == "街道", "area_code"], areas.loc[areas.level == "街道"].geometry))
    parents = set(addresses["address_id"])
    addresses.apply(lambda r: (r.geometry is None, r.geometry is not None and r["street_code"] in streets
                               and not shapely.covered_by(r.geometry, streets[r["street_code"]]),
                               r["parent_id"] in parents), axis=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", type=Path, default=None)
    ap.add_argument("--sample", type=int, default=50_000, help="rows per table for the row-by-row baseline")
    args = ap.parse_args()
    if args.catalog is None:
        out = Path(tempfile.mkdtemp(prefix="cim-bench-")) / "large"
        subprocess.run([str(Path(sys.executable).with_name("cim")), "demo", "--scale", "large", "--out", str(out),
                        "--quiet"], check=True)
        args.catalog = out / "data_catalog.yaml"
    catalog = Catalog.load(args.catalog)

    t0 = time.perf_counter()
    result = run_checks(catalog, ["persons", "addresses"])
    full = time.perf_counter() - t0
    n_p = int(result.summary.loc[result.summary.dataset == "persons", "checked"].max())
    n_a = int(result.summary.loc[result.summary.dataset == "addresses", "checked"].max())

    ctx = Context(catalog)
    persons, addresses = ctx.frame("persons"), ctx.frame("addresses")
    ctx.frame("admin_areas")
    t0 = time.perf_counter()
    _vectorized(ctx, persons, addresses)
    vec = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    ps = persons.iloc[np.sort(rng.choice(len(persons), min(args.sample, len(persons)), replace=False))]
    ad = addresses.iloc[np.sort(rng.choice(len(addresses), min(args.sample, len(addresses)), replace=False))]
    t0 = time.perf_counter()
    _row_by_row(ctx, ps, ad)
    rows = (time.perf_counter() - t0) * (len(persons) + len(addresses)) / (len(ps) + len(ad))

    print(f"standard checks on {args.catalog}")
    print(f"  persons {n_p:,} + addresses {n_a:,} records; {len(result.summary)} dataset × rule pairs; "
          f"{len(result.findings):,} findings")
    print(f"  full rule set (read + all rules)   {full:8.1f} s   vs target {TARGET_S:.0f} s: {full / TARGET_S:.2f} × "
          f"-> {'MET' if full <= TARGET_S else 'MISSED'}")
    print(f"  core rules, vectorized             {vec:8.2f} s")
    print(f"  core rules, DataFrame.apply        {rows:8.1f} s (extrapolated from {len(ps) + len(ad):,} rows)")
    print(f"  speed-up of vectorized over apply  {rows / vec:8.1f} ×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
