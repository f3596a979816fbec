"""Evaluate ``cimlib.sensors.detect_anomalies`` on labelled public series of the Numenta Anomaly Benchmark (NAB).

The repository holds no NAB data: clone or download https://github.com/numenta/NAB (or copy part of it) and point
``--nab`` at a folder laid out like it::

    DIR/labels/combined_windows.json          {"realTraffic/speed_7578.csv": [["2015-09-11 15:14:00.000000", ...], ...]}
    DIR/data/<category>/<name>.csv            columns timestamp,value

Every series listed in the labels file and present under ``DIR/data`` is run (the others are skipped; ``--only``
keeps the series whose name contains one of the given strings), one series at a time, with the default parameters
of ``detect_anomalies`` followed by ``anomaly_events`` (as ``cim sensors`` runs them: the events are built from the
flagged rows only). Printed per series and in total:

- ``rows``: readings of the series;
- ``windows``: labelled anomaly windows; ``detected``: windows overlapped by at least one event (an event is the
  closed interval from its first to its last flagged reading);
- ``outside``: events that overlap no window (false alarms, or anomalies the labellers did not mark);
- ``flagged``: flagged readings (share of rows), ``seconds``: time of the detection and the events.

The NAB windows are deliberately wide (about 10 % of the series divided among its anomalies) and the labels mark
only the anomalies the annotators knew of, so ``outside`` counts also unlabelled but genuine anomalies: read the
events before calling them false.

Usage::

    .venv/bin/python benchmarks/eval_anomalies_nab.py --nab /path/to/NAB
    .venv/bin/python benchmarks/eval_anomalies_nab.py --nab /path/to/NAB --only realTraffic machine_temperature
    .venv/bin/python benchmarks/eval_anomalies_nab.py --nab /path/to/NAB --events     # list every event
    .venv/bin/python benchmarks/eval_anomalies_nab.py --nab /path/to/NAB --impl old_anomalies.py  # another version
    .venv/bin/python benchmarks/eval_anomalies_nab.py --nab /path/to/NAB --param threshold=6 --json out.json
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_impl(path: str | None):
    """The ``detect_anomalies``/``anomaly_events`` pair: of the package, or of another version of the module file."""
    if path is None:
        from cimlib.sensors import anomalies
        return anomalies
    spec = importlib.util.spec_from_file_location("anomalies_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module            # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_windows(nab: Path) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    with open(nab / "labels" / "combined_windows.json", encoding="utf-8") as fh:
        raw = json.load(fh)
    return {name: [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in wins] for name, wins in raw.items()}


def evaluate_series(impl, csv: Path, windows, params: dict) -> tuple[dict, pd.DataFrame]:
    """Run the detection on one NAB series; the figures and the events (with ``in_window``)."""
    df = pd.read_csv(csv, parse_dates=["timestamp"])
    df = df.rename(columns={"timestamp": "ts"}).assign(device_id=csv.stem)[["device_id", "ts", "value"]]
    t0 = time.perf_counter()
    result = impl.detect_anomalies(df, value="value", time="ts", by="device_id", **params)
    events = impl.anomaly_events(result[result["is_anomaly"]], time="ts", by="device_id")
    seconds = time.perf_counter() - t0
    hit = [bool(((events["start"] <= b) & (events["end"] >= a)).any()) for a, b in windows]
    inside = pd.Series(False, index=events.index)
    for a, b in windows:
        inside |= (events["start"] <= b) & (events["end"] >= a)
    events = events.assign(in_window=inside.to_numpy())
    row = {
        "rows": len(df),
        "windows": len(windows),
        "detected": int(sum(hit)),
        "outside": int((~inside).sum()),
        "events": len(events),
        "flagged": int(result["is_anomaly"].sum()),
        "seconds": seconds,
        "missed": [f"{a:%Y-%m-%d %H:%M}..{b:%Y-%m-%d %H:%M}" for (a, b), h in zip(windows, hit) if not h],
    }
    return row, events


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nab", required=True, type=Path, help="folder laid out like the NAB repository")
    ap.add_argument("--only", nargs="*", default=None, help="keep series whose name contains one of these strings")
    ap.add_argument("--impl", default=None, help="path of another anomalies.py to evaluate (default: the package)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a detect_anomalies parameter (default: the defaults); repeatable")
    ap.add_argument("--events", action="store_true", help="print every event")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)

    impl = load_impl(args.impl)
    params = {}
    for item in args.param:
        name, _, value = item.partition("=")
        kind = type(getattr(impl.DEFAULTS, name))
        params[name] = ast.literal_eval(value) if kind in (tuple, list) else kind(value)
    windows = load_windows(args.nab)
    names = sorted(n for n in windows if (args.nab / "data" / n).is_file())
    if args.only:
        names = [n for n in names if any(s in n for s in args.only)]
    if not names:
        print(f"no labelled series found under {args.nab / 'data'}", file=sys.stderr)
        return 1

    rows = {}
    header = f"{'series':58} {'rows':>7} {'detected':>9} {'outside':>8} {'flagged':>13} {'seconds':>8}"
    print(header)
    print("-" * len(header))
    for name in names:
        row, events = evaluate_series(impl, args.nab / "data" / name, windows[name], params)
        rows[name] = row
        share = row["flagged"] / max(row["rows"], 1)
        print(f"{name[:-4]:58} {row['rows']:>7} {row['detected']:>4}/{row['windows']:<4} {row['outside']:>8} "
              f"{row['flagged']:>6} ({share:5.1%}) {row['seconds']:>8.2f}")
        if row["missed"]:
            print(f"{'':4}missed: {', '.join(row['missed'])}")
        if args.events:
            for e in events.itertuples():
                print(f"{'':4}{'in ' if e.in_window else 'OUT'} {e.start:%Y-%m-%d %H:%M} .. {e.end:%Y-%m-%d %H:%M} "
                      f"{e.kind:6} n={e.n_points:<4} peak={e.peak_score:6.2f} value={e.peak_value:g}")
    tot = {k: sum(r[k] for r in rows.values()) for k in ("rows", "windows", "detected", "outside", "flagged")}
    secs = sum(r["seconds"] for r in rows.values())
    print("-" * len(header))
    print(f"{'total (' + str(len(rows)) + ' series)':58} {tot['rows']:>7} {tot['detected']:>4}/{tot['windows']:<4} "
          f"{tot['outside']:>8} {tot['flagged']:>6} ({tot['flagged'] / max(tot['rows'], 1):5.1%}) {secs:>8.2f}")
    if args.json:
        args.json.write_text(json.dumps({"params": params, "series": rows, "total": tot}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
