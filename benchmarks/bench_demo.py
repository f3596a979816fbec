"""Time `cim demo` and measure its peak memory (issue targets: --scale large < 10 min, < 8 GB; xlarge < 16 GB).

Runs the real command in a child process, as a user would, and prints wall time, peak resident memory of the
child (ru_maxrss of RUSAGE_CHILDREN), disk use (total and per top-level folder), record counts and rows per second,
with the ratio against the targets.

    .venv/bin/python benchmarks/bench_demo.py --scale large [--seed 7] [--city 421303] [--keep]
    .venv/bin/python benchmarks/bench_demo.py --scale xlarge      # kept in benchmarks/out/xlarge-seed7

``xlarge`` (14 million persons, registers streamed street by street, no readings) is written to
``benchmarks/out/xlarge-seed<seed>`` and kept there by default: the metrics benchmark runs on it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = {"small": None, "medium": None, "large": 600.0, "xlarge": None}
TARGET_PEAK_GB = {"small": 8.0, "medium": 8.0, "large": 8.0, "xlarge": 16.0}
OUT = Path(__file__).resolve().parent / "out"


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="large", choices=["small", "medium", "large", "xlarge"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--city", default="421303")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated city")
    ap.add_argument("--readings", action=argparse.BooleanOptionalAction, default=None,
                    help="pass --readings/--no-readings to cim demo (default: the scale's own default)")
    args = ap.parse_args()

    if args.out is None and args.scale == "xlarge":
        args.out = OUT / f"xlarge-seed{args.seed}"
        args.keep = True
    out = args.out or Path(tempfile.mkdtemp(prefix="cim-bench-")) / "city"
    cim = Path(sys.executable).with_name("cim")
    cmd = [str(cim), "demo", "--seed", str(args.seed), "--scale", args.scale, "--city", args.city,
           "--out", str(out), "--quiet"]
    if args.readings is not None:
        cmd.append("--readings" if args.readings else "--no-readings")
    print("$", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9  # Linux: kB

    facts = json.loads((out / "truth" / "facts.json").read_text(encoding="utf-8"))
    counts = facts["counts"]
    readings_bytes = _du(out / "data" / "readings")
    import pyarrow.dataset as ds

    n_readings = (ds.dataset(out / "data" / "readings", format="parquet", partitioning="hive").count_rows()
                  if readings_bytes else 0)
    size = _du(out)
    print(f"cim demo --scale {args.scale} --seed {args.seed} --city {args.city}")
    print(f"  wall time        {wall:8.1f} s")
    print(f"  peak memory      {peak_gb:8.2f} GB (child process maximum resident set)")
    print(f"  output           {size / 1e9:8.2f} GB ({readings_bytes / 1e9:.2f} GB readings)")
    for entry in sorted(out.iterdir()):
        print(f"    {entry.name:<22} {_du(entry) if entry.is_dir() else entry.stat().st_size:>14,} bytes")
    for sub in ("snapshots", "data", "truth"):
        for entry in sorted((out / sub).iterdir()) if (out / sub).exists() else []:
            print(f"    {sub + '/' + entry.name:<32} {(_du(entry) if entry.is_dir() else entry.stat().st_size) / 1e6:>10.1f} MB")
    for k in ("buildings", "addresses", "persons", "houses", "units", "devices"):
        print(f"  {k:<16} {counts[k]:>12,}")
    print(f"  snapshot periods {', '.join(facts['periods'])}")
    records = sum(counts[k] for k in ("addresses", "persons", "houses", "units"))
    print(f"  register records {records:>12,}  ({records / wall:,.0f} records/s overall)")
    if n_readings:
        print(f"  readings         {n_readings:>12,}  ({n_readings / wall:,.0f} rows/s overall)")
    target, target_gb = TARGET_SECONDS[args.scale], TARGET_PEAK_GB[args.scale]
    met = (target is None or wall <= target) and peak_gb <= target_gb
    print("  vs target        " + (f"{wall / target:.2f} × of {target:.0f} s;  " if target else "")
          + f"{peak_gb / target_gb:.2f} × of {target_gb:.0f} GB peak  -> {'MET' if met else 'MISSED'}")
    if args.keep or args.out is not None:
        print(f"  catalog          {out / 'data_catalog.yaml'}")
    if not args.keep and args.out is None:
        shutil.rmtree(out.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
