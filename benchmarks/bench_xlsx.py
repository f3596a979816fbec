"""Time reading a 300,000-row register from Excel: the catalog's calamine reader against the former openpyxl path.

The workbook (a persons register: text codes, Chinese names, dates, a merged-cell-free sheet as the police
registers arrive) is generated once into ``/tmp/cim_bench_xlsx/persons_<rows>.xlsx`` (never into the repository)
and reused by later runs.

- *before*: what ``XlsxReader`` did up to issue 13: the whole workbook loaded with openpyxl to look for merged
  cells, then ``pandas.read_excel(engine="openpyxl")`` with the identifier read as text.
- *after*: ``Catalog.read`` of an ``xlsx`` entry (python-calamine for the cell values, merged ranges from calamine,
  the same pandas parser for types).

Both give the same frame (checked). Each read is repeated ``--repeat`` times and the median is printed.

    .venv/bin/python benchmarks/bench_xlsx.py [--rows 300000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CACHE = Path(tempfile.gettempdir()) / "cim_bench_xlsx"


def _timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def build_workbook(rows: int) -> Path:
    """Write (once) a persons register of ``rows`` rows with openpyxl's write-only mode."""
    import openpyxl

    path = CACHE / f"persons_{rows}.xlsx"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    surnames = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
    given = np.array(list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"))
    names = surnames[rng.integers(0, len(surnames), rows)].astype(object) + given[rng.integers(0, len(given), rows)]
    birth = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 30_000, rows), unit="D")
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("实有人口")
    sheet.append(["人员编号", "公民身份号码", "姓名", "性别", "出生日期", "联系电话", "房屋编号", "社区代码",
                  "居住地址", "登记日期"])
    gender = np.where(rng.random(rows) < 0.5, "男", "女")
    for i in range(rows):
        sheet.append([
            f"P{i:08d}", f"42130319{int(rng.integers(10**9, 10**10)):010d}", names[i], gender[i],
            birth[i].to_pydatetime(), f"13{i % 10**9:09d}", f"H{i // 3:08d}", "421303001001",
            f"随州市曾都区涢水大道{i % 500}号", birth[i].to_pydatetime(),
        ])
    tmp = path.with_suffix(".part")
    book.save(tmp)
    tmp.rename(path)
    return path


def read_before(path: Path) -> pd.DataFrame:
    """The former path: openpyxl loads the whole workbook (merged cells), then pandas reads it with openpyxl."""
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    _ = list(book.worksheets[0].merged_cells.ranges)
    book.close()
    return pd.read_excel(path, sheet_name=0, header=0, engine="openpyxl", dtype={"人员编号": str})


def read_after(path: Path) -> pd.DataFrame:
    """``Catalog.read`` of an ``xlsx`` entry (calamine)."""
    import yaml

    from cimlib.catalog import Catalog

    catalog = CACHE / "bench_catalog.yaml"
    entry = {"name": "persons", "title_zh": "实有人口", "layer": "公共专题", "format": "xlsx", "path": str(path),
             "id_column": "人员编号", "schema": "persons", "owner": "市公安局", "classification": "敏感",
             "update_cycle": "每月", "options": {"sheet": "实有人口"}}
    catalog.write_text(yaml.safe_dump({"version": 1, "entries": [entry]}, allow_unicode=True), encoding="utf-8")
    return Catalog.load(catalog).read("persons")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    t0 = time.perf_counter()
    path = build_workbook(args.rows)
    print(f"工作簿 {path}（{args.rows:,} 行，{path.stat().st_size / 2**20:.1f} MiB；准备 {time.perf_counter() - t0:.1f} s）")
    after, got = _timed(lambda: read_after(path), args.repeat)
    before, expected = _timed(lambda: read_before(path), args.repeat)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    print(f"before (openpyxl):  {before:7.2f} s")
    print(f"after  (calamine):  {after:7.2f} s")
    print(f"ratio before/after: {before / after:7.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
