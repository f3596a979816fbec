"""Time reading the large sample city's 2M persons (and 1M addresses) from PostGIS against reading the same from
their files (persons: Parquet; addresses: GeoParquet), measured in the same run.

Both go through the catalog (``Catalog.read``), so both give the same frame: identifiers as text, the addresses'
geometry as GeoPandas points in EPSG:4490 (checked: equal frames). Each read is repeated and the median is reported.

The database is a throwaway PostgreSQL + PostGIS on loopback (``scripts/pg_server.py``, the Debian packages), or the
one given with ``--url``. Loading (``cim load`` of the two entries, current data only) is timed and reported apart.

    .venv/bin/python benchmarks/bench_postgis.py [--catalog data/large/data_catalog.yaml] [--url postgresql://...]
        [--repeat 3]
    .venv/bin/python benchmarks/bench_postgis.py --build /path/to/new/folder   (builds the large city first, ~4 min)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def _timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", type=Path, default=ROOT / "data" / "large" / "data_catalog.yaml")
    parser.add_argument("--build", type=Path, default=None, help="build the large city into this folder first")
    parser.add_argument("--url", default=None, help="an existing PostGIS database (default: start a throwaway one)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from cimlib.catalog import Catalog, load_to_postgis

    if args.build:
        from cimlib.demo import build_sample_city

        args.catalog = build_sample_city(args.build, seed=7, scale="large", progress=True)
    if not args.catalog.exists():
        print(f"没有大规模样例城市：{args.catalog}（用 --build DIR 生成，或 cim demo --scale large --out DIR）")
        return 2
    files = Catalog.load(args.catalog)
    server = None
    if args.url is None:
        import pg_server

        server = pg_server.start()
        args.url = server.url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            loaded = load_to_postgis(files, args.url, Path(tmp) / "pg", schema="bench", replace=True,
                                     names=["persons", "addresses"], snapshots=False)
            load_s = time.perf_counter() - t0
            pg = Catalog.load(loaded.catalog_path)
            rows = {t["entry"]: t["rows"] for t in loaded.tables}
            print(f"PostgreSQL/PostGIS：{args.url}；导入 persons {rows['persons']:,} 行、addresses "
                  f"{rows['addresses']:,} 行用时 {load_s:.1f} s（不计入下表）")
            print(f"{'数据集':<10} {'来源':<22} {'中位数 s':>9} {'各次 s':<24} {'行/秒':>12}")
            for name, fmt in (("persons", "Parquet"), ("addresses", "GeoParquet")):
                f_med, f_all, f_frame = _timed(lambda n=name: files.read(n), args.repeat)
                p_med, p_all, p_frame = _timed(lambda n=name: pg.read(n), args.repeat)
                pd.testing.assert_frame_equal(pd.DataFrame(f_frame), pd.DataFrame(p_frame), check_dtype=False)
                n = len(f_frame)
                for label, med, all_ in ((f"文件（{fmt}）", f_med, f_all), ("PostGIS（ADBC）", p_med, p_all)):
                    print(f"{name:<10} {label:<22} {med:>9.2f} {', '.join(f'{t:.2f}' for t in all_):<24} "
                          f"{n / med:>12,.0f}")
                print(f"{name:<10} PostGIS / 文件 = {p_med / f_med:.2f}×（同一次运行；两者读出的表逐项相同，{n:,} 行）")
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
