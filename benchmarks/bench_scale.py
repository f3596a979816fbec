"""Whole-process wall time and peak memory of ``cim check``, ``cim metrics`` (every snapshot month) and
``cim report acceptance`` on the large and xlarge sample cities, with and without the record cache (issue 17).

Targets (2-core, 24 GB machine): large ``metrics`` <= 120 s; ``report acceptance`` on large <= 5 min; xlarge
``metrics`` <= 15 min and <= 16 GB peak.

Each command runs as a fresh child process (this script re-invoked with ``--child``: it runs the ``cim`` command
in-process and prints its wall time, its own getrusage peak and the largest peak among its finished children, e.g.
a report's notebook kernels). One record cache (``CIM_CACHE``), empty at the start, lives under the output folder:

1. ``--no-cache``: check, metrics (the baseline of the ratio, measured in the same run);
2. cache, cold: check (fills the cache with the current registers), then metrics (the months' snapshots);
3. cache, warm: metrics again (what a re-run costs once the months are in the cache);
4. report acceptance reusing the main run (the normal flow: metrics written under the same root), and with
   ``--no-reuse`` (computing everything, cache warm); ``--report-baseline`` adds ``--no-reuse --no-cache``.

    .venv/bin/python benchmarks/bench_scale.py --catalog benchmarks/out/geocode-large-seed7/data_catalog.yaml
    .venv/bin/python benchmarks/bench_scale.py --scale xlarge --catalog benchmarks/out/xlarge-seed7/data_catalog.yaml \\
        --only-metrics                                               # partitioned (auto) metrics, no cache
    .venv/bin/python benchmarks/bench_scale.py --catalog ... --only-metrics --compare-partition   # both paths
    .venv/bin/cim demo --seed 7 --scale large --out data/large        # the large city, ~4 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

GB = 1024 ** 3
TARGETS = {("large", "metrics"): (120.0, None), ("large", "report"): (300.0, None),
           ("xlarge", "metrics"): (900.0, 16 * GB)}


def _child(args: list[str]) -> None:
    """Run one ``cim`` command in this process and print its figures as the last line (JSON)."""
    from cimlib.cli import main

    t0 = time.perf_counter()
    code = 0
    try:
        main.main(args=args, prog_name="cim", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code or 0
    except Exception as exc:  # noqa: BLE001 - the figure is still printed, with the failure
        print(f"失败：{type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    wall = time.perf_counter() - t0
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"wall_s": wall, "peak_bytes": self_peak, "children_peak_bytes": child_peak, "exit": code}))


def _run(label: str, args: list[str], env: dict) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True)
    outer = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        print(proc.stdout[-2000:], proc.stderr[-4000:], sep="\n")
        raise SystemExit(f"{label}: no figures (exit {proc.returncode})")
    fig = json.loads(lines[-1])
    fig["process_s"] = outer   # with the interpreter's start-up and imports
    cache_line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("记录缓存")), "")
    print(f"{label:<34} {fig['process_s']:>8.1f} s  peak {fig['peak_bytes'] / GB:5.2f} GB"
          f"  (children {fig['children_peak_bytes'] / GB:4.2f} GB)  exit {fig['exit']}  {cache_line}", flush=True)
    if fig["exit"]:
        print(proc.stderr[-3000:])
    return fig


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", required=True, type=Path)
    ap.add_argument("--scale", default="large", choices=["large", "xlarge"])
    ap.add_argument("--out", type=Path, default=None, help="outputs and the cache (default benchmarks/out/scale-<scale>)")
    ap.add_argument("--as-of", default="2024-09-30")
    ap.add_argument("--skip-no-cache", action="store_true", help="skip the --no-cache baseline runs")
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--skip-report", action="store_true")
    ap.add_argument("--report-baseline", action="store_true", help="also report --no-reuse --no-cache (slow)")
    ap.add_argument("--partition", choices=["auto", "always", "never"], default=None,
                    help="passed to every command (default: the commands' own, auto)")
    ap.add_argument("--compare-partition", action="store_true",
                    help="also metrics --no-cache with --partition always and never (same run), and their ratio")
    ap.add_argument("--only-metrics", action="store_true", help="only metrics --no-cache (and the partition comparison)")
    a = ap.parse_args()
    out = a.out or Path(__file__).resolve().parent / "out" / f"scale-{a.scale}"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = dict(os.environ, CIM_CACHE=str(out / "cache"))
    env.pop("CIM_NO_CACHE", None)
    cat = str(a.catalog)
    print(f"规模 {a.scale}，数据目录 {cat}，输出与缓存 {out}，{os.cpu_count()} 核")
    figs: dict[str, dict] = {}

    part = ["--partition", a.partition] if a.partition else []

    def check(tag, *extra):
        return _run(f"check {tag}", ["check", "--catalog", cat, "--out", str(out / f"check-{tag}"), "--quiet", *part,
                                     *extra], env)

    def metrics(tag, *extra, root="main"):
        return _run(f"metrics {tag}", ["metrics", "--catalog", cat, "--out", str(out / root / "metrics"), "--quiet",
                                       *(part if "--partition" not in extra else []), *extra], env)

    if a.compare_partition:
        for mode in ("never", "always"):
            figs[f"metrics partition {mode}"] = metrics(f"--partition {mode}", "--no-cache", "--partition", mode,
                                                        root=f"partition-{mode}")
        n, y = figs["metrics partition never"], figs["metrics partition always"]
        print(f"  分区 / 整表（--no-cache，同一次运行）：{y['process_s'] / n['process_s']:.2f}×，峰值内存 "
              f"{y['peak_bytes'] / GB:.2f} GB / {n['peak_bytes'] / GB:.2f} GB")
    if a.only_metrics:
        if not a.compare_partition:
            figs["metrics no-cache"] = metrics("no-cache", "--no-cache", root="nocache")
        a.skip_no_cache = a.skip_check = a.skip_report = True

    if not a.skip_no_cache:
        if not a.skip_check:
            figs["check no-cache"] = check("no-cache", "--no-cache")
        figs["metrics no-cache"] = metrics("no-cache", "--no-cache", root="nocache")
    if not a.skip_check:
        figs["check cold"] = check("cold")
    if not a.only_metrics:
        figs["metrics cold"] = metrics("cold")
        figs["metrics warm"] = metrics("warm", root="warm")
    if not a.skip_report:
        rep = ["report", "acceptance", "--catalog", cat, "--as-of", a.as_of, "--quiet", *part]
        figs["report reuse"] = _run("report acceptance (reuse)", [*rep, "--out", str(out / "main")], env)
        figs["report no-reuse"] = _run("report acceptance (--no-reuse)", [*rep, "--no-reuse", "--out",
                                                                           str(out / "report-noreuse")], env)
        if a.report_baseline:
            figs["report baseline"] = _run("report acceptance (--no-reuse --no-cache)",
                                           [*rep, "--no-reuse", "--no-cache", "--out", str(out / "report-base")], env)

    print("\n比值（使用缓存 / --no-cache，同一次运行）：")
    for cmd in ("check", "metrics"):
        base = figs.get(f"{cmd} no-cache")
        for tag in ("cold", "warm"):
            got = figs.get(f"{cmd} {tag}")
            if base and got:
                print(f"  {cmd:<8} {tag:<5} {got['process_s'] / base['process_s']:.2f}×"
                      f"  ({got['process_s']:.1f} s / {base['process_s']:.1f} s)")
    if "report baseline" in figs and "report no-reuse" in figs:
        print(f"  report   {figs['report no-reuse']['process_s'] / figs['report baseline']['process_s']:.2f}×")
    print("\n目标：")
    for (scale, cmd), (secs, peak) in TARGETS.items():
        if scale != a.scale:
            continue
        key = {"metrics": "metrics warm", "report": "report reuse"}[cmd]
        for k in ([key, "metrics cold", "metrics no-cache", "metrics partition always"] if cmd == "metrics"
                  else [key, "report no-reuse"]):
            f = figs.get(k)
            if not f:
                continue
            ok = f["process_s"] <= secs and (peak is None or f["peak_bytes"] <= peak)
            lim = f"≤ {secs:.0f} s" + (f"、≤ {peak / GB:.0f} GB" if peak else "")
            print(f"  {k:<18} {f['process_s']:8.1f} s {f['peak_bytes'] / GB:5.2f} GB  目标 {lim}：{'达到' if ok else '未达到'}")
    (out / "figures.json").write_text(json.dumps(figs, indent=1), encoding="utf-8")
    du = sum(p.stat().st_size for p in (out / "cache").rglob("*") if p.is_file()) if (out / "cache").exists() else 0
    print(f"\n记录缓存占用 {du / 1024 ** 2:.0f} MB（{out / 'cache'}）；数字见 {out / 'figures.json'}")


if __name__ == "__main__":
    main()
