"""Time the onboarding path (issue 13) on the sample city as the departments deliver it, against the plain city.

The city is built once with ``cim demo --delivery`` (default ``--scale medium``) into ``benchmarks/out/`` (ignored by
git) and reused by later runs of the same seed, scale and city. Four measurements, each against a baseline measured
in the same run where there is one:

1. ``cim demo --delivery``'s extra cost: :func:`cimlib.demo._delivery.write_delivery` alone, run again on the built
   city into a scratch folder (the built city is only read; the truth it writes must equal
   ``OUT/truth/delivery.json``); against the whole build's time when the build happened in this run.
2. ``scaffold_catalog`` (what ``cim catalog init`` runs) on ``OUT/delivery``: time, sampled rows per second, and the
   scaffold checked against ``OUT/truth/delivery.json`` as ``tests/test_onboarding.py`` checks it (schema, format,
   id column, the source column of every required field, no wrong mapping, value maps).
3. ``Catalog.read`` of every delivered dataset with the scaffolded catalog (FileGDB in a Gauss-Krüger zone
   transformed to EPSG:4490, GBK shapefile, GBK CSV with 经度/纬度, Excel through calamine, ...) against reading the
   same dataset from the plain city's own files (GeoParquet, Parquet, GPKG, CSV): ratio delivered/plain, same number
   of rows and same identifiers.
4. ``run_checks`` on admin_areas, buildings, houses and addresses with the scaffolded catalog against the plain
   catalog: ratio, and whether the (record_id, rule_id) sets are equal.

Every step runs in a fresh interpreter (the libraries imported and the catalog loaded first, not timed), repeated
``--repeat`` times there (``write_delivery``: ``--repeat-delivery``, default once) with the median printed; its peak
memory is that process's peak resident set (``ru_maxrss``) and the rise over its resident set before the step.

    .venv/bin/python benchmarks/bench_onboarding.py [--scale medium] [--seed 7] [--out DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import multiprocessing
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CIM = Path(sys.executable).with_name("cim")
FOUR = ("admin_areas", "buildings", "houses", "addresses")
_FORMAT = {"filegdb": "FileGDB", "gdb": "FileGDB", "shapefile": "Shapefile", "csv": "CSV", "xlsx": "Excel",
           "geojson": "GeoJSON", "gpkg": "GPKG", "geoparquet": "GeoParquet", "parquet": "Parquet"}


# --------------------------------------------------------------------------- one step in a fresh interpreter


def _write_delivery_into(out: Path, scratch: Path, truth: dict) -> dict:
    """``write_delivery`` on the built city ``out``, written into ``scratch`` (its data read through links)."""
    from cimlib.codes.divisions import county
    from cimlib.demo._delivery import write_delivery

    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    for part in ("data", "snapshots"):
        (scratch / part).symlink_to(out / part, target_is_directory=True)
    return write_delivery(scratch, seed=truth["seed"], scale=truth["scale"], info=county(truth["city"]))


def _prepare(task: str, args: tuple):
    """The step to time and how to summarise its result (small, sent back to the parent)."""
    if task == "delivery":
        out, scratch, truth = args

        def summarize(result):
            shutil.rmtree(scratch)
            return {"same_truth": result == truth}

        return lambda: _write_delivery_into(out, scratch, truth), summarize
    if task == "scaffold":
        from cimlib.catalog.onboard import scaffold_catalog, write_scaffold

        folder, city, target = args

        def summarize(scaffold):
            write_scaffold(scaffold, target, force=True)
            sources = [e.source for e in scaffold.entries] + [s for s, _ in scaffold.unrecognised]
            return {"datasets": len(sources), "sampled": sum(len(s.sample) for s in sources),
                    "counted": sum(s.rows or 0 for s in sources), "unrecognised": len(scaffold.unrecognised),
                    "skipped": len(scaffold.skipped)}

        return lambda: scaffold_catalog(folder, city=city), summarize

    from cimlib.catalog import Catalog

    if task == "read":
        path, name, id_column = args
        catalog = Catalog.load(path)

        def summarize(frame):
            ids = "" if id_column is None else "\n".join(sorted(frame[id_column].dropna().astype(str)))
            return {"rows": len(frame), "ids": hashlib.sha256(ids.encode()).hexdigest()}

        return lambda: catalog.read(name), summarize
    if task == "checks":
        from standards_checks import run_checks

        path, names = args
        catalog = Catalog.load(path)

        def summarize(findings):
            f = findings[findings["record_id"].notna()]
            return {n: set(zip(g["record_id"], g["rule_id"])) for n, g in f.groupby("dataset")}

        return lambda: run_checks(catalog, names).findings, summarize
    raise ValueError(task)


def _child(task: str, args: tuple, repeat: int) -> dict:
    """Run a step ``repeat`` times in this (fresh) process: times, peak RSS, rise over the RSS before, summary."""
    import geopandas  # noqa: F401  (imported before the baseline, as a running workbench has them)
    import psutil
    import pyogrio  # noqa: F401
    import python_calamine  # noqa: F401

    import cimlib.catalog  # noqa: F401
    import standards_checks  # noqa: F401

    fn, summarize = _prepare(task, args)
    gc.collect()
    base = psutil.Process().memory_info().rss
    times, result = [], None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(repeat):
            result = None
            gc.collect()
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return {"times": times, "median": statistics.median(times), "peak_mb": peak / 2**20,
            "rise_mb": max(peak - base, 0) / 2**20, "warnings": len(caught), "summary": summarize(result)}


def _run(task: str, *args, repeat: int) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_child, task, args, repeat).result()


# --------------------------------------------------------------------------- the city and its truth


def _city(out: Path, seed: int, scale: str, city: str) -> tuple[dict, float | None, float | None]:
    """The delivered city in ``out`` (built with ``cim demo --delivery`` unless already there): truth, build s, GB."""
    truth_path = out / "truth" / "delivery.json"
    if truth_path.exists() and (out / "data_catalog.yaml").exists():
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if (truth.get("seed"), truth.get("scale"), truth.get("city")) == (seed, scale, city):
            return truth, None, None
    cmd = [str(CIM), "demo", "--delivery", "--seed", str(seed), "--scale", scale, "--city", city,
           "--out", str(out), "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
    return json.loads(truth_path.read_text(encoding="utf-8")), wall, peak_gb


def _entry_for(catalog, out: Path, file: dict):
    """The catalog entry that reads the truth's file (and layer or sheet), or ``None``."""
    target = (out / file["path"]).resolve()
    hits = [e for e in catalog if e.resolved_path == target]
    layer = file.get("layer")
    if layer is not None and len(hits) > 1:
        hits = [e for e in hits if layer in (e.options.get("layer"), e.options.get("sheet"))]
    return hits[0] if len(hits) == 1 else None


def _against_truth(entry, file: dict) -> list[str]:
    """What the scaffolded entry gets wrong against the truth (empty: right), as tests/test_onboarding.py checks."""
    from standards_checks.schemas import required_fields

    if entry is None:
        return ["没有读取该文件的条目"]
    wrong = []
    if entry.schema != file["schema"]:
        wrong.append(f"模式 {entry.schema}≠{file['schema']}")
    if entry.format != file["format"] and {entry.format, file["format"]} != {"filegdb", "gdb"}:
        wrong.append(f"格式 {entry.format}≠{file['format']}")
    if entry.id_column != file["id_column"]:
        wrong.append(f"标识字段 {entry.id_column}≠{file['id_column']}")
    true_source = {f: s for s, f in file["columns"].items()}
    for f in required_fields(file["schema"]):
        if f in true_source and entry.source_column(f) != true_source[f]:
            wrong.append(f"必填字段 {f} 的源字段 {entry.source_column(f)}≠{true_source[f]}")
    bad = {s: f for s, f in entry.columns.items() if file["columns"].get(s) != f}
    if bad:
        wrong.append(f"错配 {bad}")
    for f, table in file["values"].items():
        if entry.values.get(f) != table:
            wrong.append(f"{f} 的值映射不同")
    return wrong


# --------------------------------------------------------------------------- printing


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    fill = " " * max(width - used, 0)
    return fill + text if right else text + fill


def _label(fmt: str, *, encoding=None, crs=None, options=None) -> str:
    """A dataset's delivered form, e.g. ``Shapefile GBK 4508→4490``."""
    parts = [_FORMAT.get(fmt, fmt)]
    options = options or {}
    if encoding and encoding.lower() not in ("utf-8", "utf8"):
        parts.append(encoding.upper())
    if fmt == "csv" and options.get("sep", ",") != ",":
        parts.append(f"“{options['sep']}”分隔")
    if "x" in options:
        parts.append(f"{options['x']}/{options.get('y')}")
    if fmt == "xlsx":
        parts.append("calamine")
    if crs and crs.upper() != "EPSG:4490":
        parts.append(f"{crs.split(':')[-1]}→4490")
    return " ".join(parts)


def _times(r: dict) -> str:
    return ", ".join(f"{t:.2f}" for t in r["times"])


def _memory(r: dict) -> str:
    return f"峰值 RSS {r['peak_mb']:,.0f} MB（步骤增量 {r['rise_mb']:,.0f} MB）"


def _warned(r: dict) -> str:
    return f"，{r['warnings']} 条警告" if r["warnings"] else ""


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--city", default="421303")
    ap.add_argument("--out", type=Path, default=None,
                    help="sample city folder (default benchmarks/out/onboarding-SCALE-seedSEED; reused when it holds "
                         "the same seed, scale and city with its delivery)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of each step (median printed)")
    ap.add_argument("--repeat-delivery", type=int, default=1, help="repetitions of write_delivery")
    args = ap.parse_args()
    out = (args.out or ROOT / "benchmarks" / "out" / f"onboarding-{args.scale}-seed{args.seed}").resolve()

    from cimlib.catalog import Catalog

    t_all = time.perf_counter()
    truth, build_s, build_gb = _city(out, args.seed, args.scale, args.city)
    files = truth["files"]
    rows = sum(f["rows"] for f in files)
    print(f"样例城市 {out}（--scale {args.scale} --seed {args.seed} --city {args.city}；"
          f"交付 {len(files)} 个数据集，{rows:,} 行）")
    if build_s is None:
        print("  复用已有构建（同一种子、规模与城市），本次未计构建用时")
    else:
        print(f"  cim demo --delivery 构建用时 {build_s:.1f} s，子进程峰值内存 {build_gb:.2f} GB")

    with tempfile.TemporaryDirectory(prefix="cim-bench-onboarding-") as tmp:
        tmp = Path(tmp)

        # 1. write_delivery alone
        print(f"\n1. cim demo --delivery 的额外开销：write_delivery 单独运行（写入临时目录，{args.repeat_delivery} 次取中位数）")
        r = _run("delivery", out, tmp / "city", truth, repeat=args.repeat_delivery)
        print(f"  用时 {r['median']:7.2f} s（各次 {_times(r)}），{rows / r['median']:,.0f} 行/秒；{_memory(r)}{_warned(r)}")
        if build_s is not None:
            print(f"  write_delivery / 整个 cim demo --delivery（本次构建）= {r['median'] / build_s:.2f}×")
        print(f"  写出的真值与 OUT/truth/delivery.json {'相同' if r['summary']['same_truth'] else '不同（！）'}")

        # 2. scaffold_catalog
        print(f"\n2. scaffold_catalog（cim catalog init）：{out / 'delivery'}（{args.repeat} 次取中位数）")
        cat_path = tmp / "data_catalog.yaml"
        r = _run("scaffold", out / "delivery", args.city, cat_path, repeat=args.repeat)
        s = r["summary"]
        print(f"  用时 {r['median']:7.2f} s（各次 {_times(r)}）；{_memory(r)}{_warned(r)}")
        print(f"  {s['datasets']} 个数据集，抽样 {s['sampled']:,} 行（每个至多 1,000 行）→ "
              f"{s['sampled'] / r['median']:,.0f} 抽样行/秒；清点记录 {s['counted']:,} 行 → "
              f"{s['counted'] / r['median']:,.0f} 行/秒")
        catalog = Catalog.load(cat_path)
        plain_path = out / "data_catalog.yaml"
        plain = Catalog.load(plain_path)
        entries, n_right = {}, 0
        print(f"  {_pad('文件', 36)} {_pad('真值模式', 12)} {_pad('推断模式', 12)} 与真值一致")
        for file in files:
            entry = entries[file["dataset"]] = _entry_for(catalog, out, file)
            wrong = _against_truth(entry, file)
            n_right += not wrong
            name = Path(file["path"]).name + (f"[{file['layer']}]" if file.get("layer") else "")
            print(f"  {_pad(name, 36)} {_pad(file['schema'], 12)} {_pad(entry.schema if entry else '—', 12)} "
                  f"{'是' if not wrong else '否：' + '；'.join(wrong)}")
        print(f"  {n_right}/{len(files)} 个文件得到真值的模式与映射；未识别 {s['unrecognised']}，跳过 {s['skipped']}")

        # 3. reads
        print(f"\n3. Catalog.read：交付文件（推断的目录）对比样例城市原样文件，同一次运行（{args.repeat} 次取中位数）")
        print(f"  {_pad('数据集', 12)} {_pad('交付形态', 30)} {_pad('原样形态', 12)} {_pad('行数', 9, right=True)} "
              f"{_pad('交付 s', 8, right=True)} {_pad('原样 s', 8, right=True)} {_pad('交付/原样', 10, right=True)} "
              f"{_pad('RSS 增量 MB 交付/原样', 22, right=True)}  行数与标识一致")
        tot_d = tot_p = 0.0
        for file in files:
            entry = entries[file["dataset"]]
            if entry is None:
                print(f"  {_pad(file['dataset'], 12)} 推断的目录中没有读取该文件的条目，跳过")
                continue
            base = plain[file["dataset"]]
            d = _run("read", cat_path, entry.name, entry.id_column, repeat=args.repeat)
            p = _run("read", plain_path, base.name, base.id_column, repeat=args.repeat)
            same = d["summary"] == p["summary"]
            tot_d += d["median"]
            tot_p += p["median"]
            shape_d = _label(file["format"], encoding=file["encoding"], crs=file["crs"], options=file["options"])
            shape_p = _label(base.format, encoding=base.options.get("encoding"), crs=base.crs)
            mem = f"{d['rise_mb']:,.0f} / {p['rise_mb']:,.0f}"
            n_d, n_p = d["summary"]["rows"], p["summary"]["rows"]
            print(f"  {_pad(file['dataset'], 12)} {_pad(shape_d, 30)} {_pad(shape_p, 12)} {n_d:>9,} "
                  f"{d['median']:>8.2f} {p['median']:>8.2f} {d['median'] / p['median']:>9.1f}× {mem:>22}  "
                  + ("是" if same else f"否（{n_d:,} / {n_p:,} 行{'，标识不同' if n_d == n_p else ''}）")
                  + _warned(d))
        print(f"  {_pad('合计', 12)} {'':30} {'':12} {'':>9} {tot_d:>8.2f} {tot_p:>8.2f} {tot_d / tot_p:>9.1f}×")

        # 4. run_checks
        print(f"\n4. run_checks（{'、'.join(FOUR)}）：推断的目录对比样例城市目录，同一次运行（{args.repeat} 次取中位数）")
        names = [entries[s].name for s in FOUR]
        d = _run("checks", cat_path, names, repeat=args.repeat)
        p = _run("checks", plain_path, list(FOUR), repeat=args.repeat)
        print(f"  交付（推断的目录）  {d['median']:7.2f} s（各次 {_times(d)}）；{_memory(d)}{_warned(d)}")
        print(f"  原样（样例城市目录）{p['median']:7.2f} s（各次 {_times(p)}）；{_memory(p)}{_warned(p)}")
        print(f"  交付/原样 = {d['median'] / p['median']:.2f}×")
        all_equal = True
        for schema, name in zip(FOUR, names):
            sa, sb = p["summary"].get(schema, set()), d["summary"].get(name, set())
            all_equal &= sa == sb
            print(f"  {_pad(schema, 12)} 原样 {len(sa):>7,} 对、交付 {len(sb):>7,} 对 (record_id, rule_id)："
                  f"{'相同' if sa == sb else f'不同（仅原样 {len(sa - sb):,}，仅交付 {len(sb - sa):,}）'}")
        print(f"  四个数据集的发现集合{'全部相同' if all_equal else '有差异（！）'}")

    print(f"\n本次运行总用时 {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
