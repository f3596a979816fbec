"""Time `cim demo` and measure its peak memory (issue target for --scale large: < 10 min, < 8 GB).

Runs the real command in a child process, as a user would, and prints wall time, peak resident memory of the
child (ru_maxrss of RUSAGE_CHILDREN), output size and rows per second, with the ratio against the targets.

    .venv/bin/python benchmarks/bench_demo.py --scale large [--seed 7] [--city 421303] [--keep]
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

TARGET_SECONDS = {"small": None, "medium": None, "large": 600.0}
TARGET_PEAK_GB = 8.0


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="large", choices=["small", "medium", "large"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--city", default="421303")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated city")
    args = ap.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="cim-bench-")) / "city"
    cim = Path(sys.executable).with_name("cim")
    cmd = [str(cim), "demo", "--seed", str(args.seed), "--scale", args.scale, "--city", args.city,
           "--out", str(out), "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9  # Linux: kB

    facts = json.loads((out / "truth" / "facts.json").read_text(encoding="utf-8"))
    counts = facts["counts"]
    readings_bytes = _du(out / "data" / "readings")
    import pyarrow.dataset as ds

    n_readings = ds.dataset(out / "data" / "readings", format="parquet", partitioning="hive").count_rows()
    size = _du(out)
    print(f"cim demo --scale {args.scale} --seed {args.seed} --city {args.city}")
    print(f"  wall time        {wall:8.1f} s")
    print(f"  peak memory      {peak_gb:8.2f} GB (child process maximum resident set)")
    print(f"  output           {size / 1e9:8.2f} GB ({readings_bytes / 1e9:.2f} GB readings)")
    for k in ("buildings", "addresses", "persons", "houses", "units", "devices"):
        print(f"  {k:<16} {counts[k]:>12,}")
    print(f"  readings         {n_readings:>12,}  ({n_readings / wall:,.0f} rows/s overall)")
    target = TARGET_SECONDS[args.scale]
    if target:
        print(f"  vs target        {wall / target:8.2f} × of {target:.0f} s;  {peak_gb / TARGET_PEAK_GB:.2f} × of "
              f"{TARGET_PEAK_GB:.0f} GB  -> {'MET' if wall <= target and peak_gb <= TARGET_PEAK_GB else 'MISSED'}")
    if not args.keep and args.out is None:
        shutil.rmtree(out.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
