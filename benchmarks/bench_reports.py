"""Wall time of the full report run (monthly 2024-06 + acceptance as of 2024-09-30) on the small and medium sample
cities, as ``cim report`` runs it (papermill notebooks, HTML, PDF, Excel, manifest, results store, index).

Target (issue 7, this 2-core machine): small city <= 3 minutes for both reports together.

Each report runs as its own ``cim report`` process, so its time includes start-up and imports, as a user sees it;
the sample cities are built first (not timed in the target) unless ``--small``/``--medium`` point at existing ones.

    .venv/bin/python benchmarks/bench_reports.py [--small DIR] [--medium DIR] [--skip-medium]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SMALL_S = 180.0
CIM = Path(sys.executable).with_name("cim")


def _build(scale: str, folder: Path) -> Path:
    t0 = time.perf_counter()
    subprocess.run([str(CIM), "demo", "--seed", "7", "--scale", scale, "--out", str(folder), "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    print(f"  built the {scale} sample city in {time.perf_counter() - t0:.0f} s (not in the target)")
    return folder / "data_catalog.yaml"


def _report(args: list[str], catalog: Path, out: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([str(CIM), "report", *args, "--catalog", str(catalog), "--out", str(out), "--quiet"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"cim report {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=Path, help="an existing small city's data_catalog.yaml")
    ap.add_argument("--medium", type=Path, help="an existing medium city's data_catalog.yaml")
    ap.add_argument("--skip-medium", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        scales = [("small", args.small)] + ([] if args.skip_medium else [("medium", args.medium)])
        for scale, catalog in scales:
            print(f"{scale} sample city")
            catalog = catalog or _build(scale, tmp / scale)
            out = tmp / f"reports-{scale}"
            t_month = _report(["monthly", "--period", "2024-06"], catalog, out)
            t_acc = _report(["acceptance", "--as-of", "2024-09-30"], catalog, out)
            total = t_month + t_acc
            print(f"  monthly 2024-06            {t_month:7.1f} s")
            print(f"  acceptance 2024-09-30      {t_acc:7.1f} s")
            line = f"  both reports               {total:7.1f} s"
            if scale == "small":
                line += f"   target {TARGET_SMALL_S:.0f} s: {total / TARGET_SMALL_S:.2f} x -> " \
                        f"{'MET' if total <= TARGET_SMALL_S else 'MISSED'}"
            print(line)
            pdf = out / "acceptance" / "2024-09-30" / "report.pdf"
            print(f"  acceptance report.pdf      {pdf.stat().st_size / 1e6:7.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
