"""Time level-10 BeiDou grid encoding (GB/T 39409-2020) of 1,000,000 points in China (target <= 0.5 s).

Compares the vectorized ``cimlib.codes.beidou.encode`` with a straightforward per-point pure-Python
reference (written here, independently, with Python integers), checks that both agree, and prints the
figures with MET/MISSED against the target.

    .venv/bin/python benchmarks/bench_beidou.py [--n 1000000] [--n-ref 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from cimlib.codes import beidou

TARGET_SECONDS = 0.5
UNITS = 3600 * 2048  # units of 1/2048″ per degree
HEX = "0123456789ABCDEF"
# (lon size, lat size) in units for levels 1..10, and the number of characters each level emits
SIZES = [(6 * UNITS, 4 * UNITS), (UNITS // 2, UNITS // 2), (UNITS // 4, UNITS // 6), (UNITS // 60, UNITS // 60),
         (8192, 8192), (4096, 4096), (512, 512), (64, 64), (8, 8), (1, 1)]


def encode_reference(lon: float, lat: float, level: int = 10) -> str:
    """Scalar reference encoder: one point, Python ints, same SNAP allowance as the library."""
    ux = math.floor(abs(lon) * UNITS + beidou.SNAP_UNITS)
    uy = math.floor(abs(lat) * UNITS + beidou.SNAP_UNITS)
    if uy >= 88 * UNITS or ux >= 180 * UNITS:
        raise ValueError("out of range")
    k = ux // SIZES[0][0]
    col = 31 + k if lon >= 0 else 30 - k
    out = ["N" if lat >= 0 else "S", f"{col:02d}", chr(65 + uy // SIZES[0][1])]
    for lv in range(2, level + 1):
        (px, py), (sx, sy) = SIZES[lv - 2], SIZES[lv - 1]
        a = (ux % px) // sx
        b = (uy % py) // sy
        if lv in (3, 6):
            out.append(str(2 * b + a))
        else:
            out.append(HEX[a] + HEX[b])
    return "".join(out)


def best_of(fn, repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--n-ref", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    lon = rng.uniform(73.0, 135.0, args.n)
    lat = rng.uniform(18.0, 53.5, args.n)

    ex = encode_reference(116 + 18 / 60 + 45.37 / 3600, 39 + 59 / 60 + 35.38 / 3600)
    assert ex == "N50J47539B8255346152", ex

    beidou.encode(lon[:1000], lat[:1000])  # warm-up
    t_vec = best_of(lambda: beidou.encode(lon, lat, 10))

    m = min(args.n_ref, args.n)
    rl, rt = lon[:m].tolist(), lat[:m].tolist()
    ref_codes: list[str] = []

    def run_ref():
        ref_codes[:] = [encode_reference(x, y) for x, y in zip(rl, rt)]

    t_ref = best_of(run_ref)
    t_ref_full = t_ref * args.n / m
    vec_codes = beidou.encode(lon[:m], lat[:m], 10)
    agree = int(np.sum(vec_codes == np.array(ref_codes)))

    print(f"vectorized encode, level 10, {args.n:,} points (best of 3): {t_vec:.3f} s "
          f"({args.n / t_vec / 1e6:.2f} M points/s)")
    print(f"pure-Python reference, {m:,} points (best of 3): {t_ref:.3f} s "
          f"-> extrapolated to {args.n:,}: {t_ref_full:.2f} s")
    print(f"speed-up: {t_ref_full / t_vec:.1f}x")
    print(f"agreement on {m:,} points: {agree:,}/{m:,} ({'OK' if agree == m else 'MISMATCH'})")
    print(f"target <= {TARGET_SECONDS} s for {args.n:,}: {'MET' if t_vec <= TARGET_SECONDS else 'MISSED'}")
    return 0 if agree == m else 1


if __name__ == "__main__":
    raise SystemExit(main())
