"""``cim verify``: do the same inputs still give the same numbers? For evaluators (验收评价复核).

:func:`verify_manifest` reads a report's ``manifest.json``, checks the sha256 of every input file it lists (and of
the catalog), recomputes every indicator from the same catalog and parameters with the installed workbench, and
compares value, numerator, denominator and status indicator by indicator.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cimlib._io import sha256_file
from cimlib.catalog import Catalog, CatalogError

RELATIVE_TOLERANCE = 1e-9
"""Numbers are equal when they agree to this relative tolerance (the computation is deterministic; this only
absorbs the last bit of floating point printing)."""


@dataclass
class VerifyResult:
    """Outcome of :func:`verify_manifest`."""

    inputs: pd.DataFrame            # file, expected, actual, status (一致 / 已变更 / 缺失)
    indicators: pd.DataFrame        # indicator_id, name_zh, field, reported, recomputed, status (一致 / 不一致)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and (self.inputs["status"] == "一致").all() and \
            (self.indicators.empty or (self.indicators["status"] == "一致").all())


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
    return str(a) == str(b)


def verify_manifest(manifest_path, *, recompute: bool = True, progress: bool = False) -> VerifyResult:
    """Check a report's inputs and recompute its indicators.

    Parameters
    ----------
    manifest_path : path-like
        ``reports/<kind>/<label>/manifest.json``.
    recompute : bool, default True
        Recompute the indicators (skipped when an input has changed: the numbers could not agree).
    progress : bool, default False

    Returns
    -------
    VerifyResult

    Raises
    ------
    FileNotFoundError
        If the manifest does not exist.
    ValueError
        If it is not a report manifest.
    """
    path = Path(manifest_path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"清单文件不存在：{path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} 不是合法的 JSON：{exc}") from None
    if not isinstance(manifest, dict) or "indicators" not in manifest or "inputs" not in manifest:
        raise ValueError(f"{path} 不是报告清单（缺少 inputs / indicators）")
    catalog = Path(manifest["catalog"])
    root = catalog.parent
    rows = [{"file": str(catalog), "expected": manifest.get("catalog_sha256")}]
    rows += [{"file": rel if rel.startswith("postgis:") else str(root / rel), "expected": digest}
             for rel, digest in sorted(manifest["inputs"].items())]
    loaded = None
    for r in rows:
        if r["file"].startswith("postgis:"):
            r["actual"] = None
            try:
                loaded = loaded or Catalog.load(catalog)
                r["actual"] = loaded.resolve_input(r["file"]).sha256()
            except CatalogError as exc:
                r["problem"] = exc.problem
        else:
            f = Path(r["file"])
            r["actual"] = sha256_file(f) if f.is_file() else None
        r["status"] = "缺失" if r["actual"] is None else ("一致" if r["actual"] == r["expected"] else "已变更")
    inputs = pd.DataFrame(rows, columns=["file", "expected", "actual", "status"])
    problems = []
    changed = inputs[inputs["status"] != "一致"]
    for r in changed.itertuples():
        problems.append(f"输入文件{r.status}：{r.file}" + (f"（{rows[r.Index]['problem']}）" if rows[r.Index].get("problem") else ""))
    checks = []
    if recompute and changed.empty:
        from cimlib.reports.indicators import acceptance

        params = manifest["parameters"]
        res = acceptance(str(catalog), params["as_of"], indicators_path=manifest.get("indicators_file"),
                         programme=(manifest.get("programme") or {}).get("id") or None,
                         progress=progress)
        now = {(r["indicator_id"], str(r.get("area_code"))): r for r in res.indicators.to_dict("records")}
        for rep in manifest["indicators"]:
            new = now.get((rep["indicator_id"], str(rep.get("area_code"))))
            for fld in ("value", "numerator", "denominator", "status"):
                got = None if new is None else new.get(fld)
                got = None if isinstance(got, float) and math.isnan(got) else (got.item() if hasattr(got, "item") else got)
                ok = new is not None and _same(rep.get(fld), got)
                checks.append({"indicator_id": rep["indicator_id"], "name_zh": rep.get("name_zh"), "field": fld,
                               "reported": rep.get(fld), "recomputed": got, "status": "一致" if ok else "不一致"})
        missing = set(now) - {(r["indicator_id"], str(r.get("area_code"))) for r in manifest["indicators"]}
        for key in sorted(missing):
            checks.append({"indicator_id": key[0], "name_zh": now[key].get("name_zh"), "field": "indicator",
                           "reported": None, "recomputed": f"新增（{key[1]}）", "status": "不一致"})
    elif recompute:
        problems.append("输入已变更，未重新计算指标")
    indicators = pd.DataFrame(checks, columns=["indicator_id", "name_zh", "field", "reported", "recomputed", "status"])
    for r in indicators[indicators["status"] != "一致"].itertuples():
        problems.append(f"指标不一致：{r.indicator_id} {r.name_zh} 的 {r.field}：报告 {r.reported}，复算 {r.recomputed}")
    return VerifyResult(inputs=inputs, indicators=indicators, problems=problems)
