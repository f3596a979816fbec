"""Writing a metrics run: metrics.parquet/.csv, progress.csv, evidence.parquet, problems.csv and manifest.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cimlib._io import atomic_path, sha256_file
from cimlib.metrics.progress import target_status


def write_metrics_outputs(result, out_dir, *, catalog_path=None, catalog=None, findings: dict | None = None,
                          parameters: dict | None = None) -> dict:
    """Write a :class:`~cimlib.metrics.MetricsResult` into ``out_dir``, every file atomically.

    Files: ``metrics.parquet`` and ``metrics.csv`` (UTF-8 with BOM, for Excel), ``progress.csv`` (target status and
    projection at county level), ``evidence.parquet`` (records that lower a register metric, with the reason and
    the link made), ``problems.csv`` (datasets that could not be used), ``links_summary.csv`` (records by link
    method) and ``manifest.json`` (input fingerprints).

    Parameters
    ----------
    result : MetricsResult
    out_dir : path-like
    catalog_path : path-like, optional
        Recorded with its fingerprint in the manifest.
    catalog : Catalog, optional
    findings : dict, optional
    parameters : dict, optional
        ``{"level": ..., "tolerance_m": ...}`` of the run. With ``catalog``, ``findings`` (the register findings
        :func:`~cimlib.metrics.compute_metrics` gave its ``findings`` argument) and ``parameters``, the output also
        holds what a report needs to reuse it instead of computing the same metrics (``reuse/`` and the manifest's
        ``reuse`` section, :mod:`cimlib.reuse`).

    Returns
    -------
    dict
        ``{"files": [...], "progress": DataFrame}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = result.metrics
    with atomic_path(out / "metrics.parquet") as p:
        metrics.to_parquet(p, index=False)
    with atomic_path(out / "metrics.csv") as p:
        metrics.to_csv(p, index=False, encoding="utf-8-sig")
    progress = target_status(metrics) if metrics["period"].nunique() else pd.DataFrame()
    with atomic_path(out / "progress.csv") as p:
        progress.to_csv(p, index=False, encoding="utf-8-sig")
    ev = result.evidence.astype({c: "object" for c in ("link_target", "link_key", "reason", "proposed_address_id",
                                               "proposal_status") if c in result.evidence})
    with atomic_path(out / "evidence.parquet") as p:
        ev.to_parquet(p, index=False)
    with atomic_path(out / "problems.csv") as p:
        result.problems.to_csv(p, index=False, encoding="utf-8-sig")
    with atomic_path(out / "links_summary.csv") as p:
        result.link_summary.to_csv(p, index=False, encoding="utf-8-sig")
    manifest = {"kind": "metrics", "catalog": str(catalog_path) if catalog_path else None,
                "catalog_sha256": sha256_file(catalog_path) if catalog_path else None,
                "periods": sorted(metrics["period"].unique().tolist()), "rows": len(metrics),
                "inputs": result.inputs,
                "files": ["metrics.parquet", "metrics.csv", "progress.csv", "evidence.parquet", "problems.csv",
                          "links_summary.csv"]}
    if catalog is not None and findings is not None and parameters is not None:
        from cimlib.reuse import write_metrics_reuse

        try:
            manifest["reuse"] = write_metrics_reuse(out, catalog, findings=findings, matches=result.matches,
                                                    problems=result.problems, parameters=parameters,
                                                    inputs=result.inputs, metrics=metrics, evidence=result.evidence)
        except Exception as exc:  # noqa: BLE001 - optional: without it a report computes the metrics itself
            import warnings

            warnings.warn(f"未写出供报告复用的记录（报告将重新计算指标）：{exc}", stacklevel=2)
    with atomic_path(out / "manifest.json") as p:
        p.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"files": [str(out / f) for f in manifest["files"] + ["manifest.json"]], "progress": progress}
