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
    with atomic_path(out / "evidence.parquet") as p:
        _write_evidence(result.evidence, p)
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


_EVIDENCE_OBJECT_COLUMNS = ("link_target", "link_key", "reason", "proposed_address_id", "proposal_status")
_EVIDENCE_CHUNK = 1_000_000


def _write_evidence(evidence: pd.DataFrame, path) -> None:
    """``evidence.parquet``, a million rows at a time: the text columns are written as plain strings (as Python
    objects, the file's type since the first release) without converting the whole table at once — a nine-month
    run of a large city holds tens of millions of evidence rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {c: "object" for c in _EVIDENCE_OBJECT_COLUMNS if c in evidence}
    if len(evidence) <= _EVIDENCE_CHUNK:
        evidence.astype(cols).to_parquet(path, index=False)
        return
    writer = None
    try:
        for start in range(0, len(evidence), _EVIDENCE_CHUNK):
            chunk = evidence.iloc[start:start + _EVIDENCE_CHUNK].astype(cols)
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:  # the types the whole table gets: strings, or null for a column without a value
                schema = table.schema
                for c in cols:
                    typ = pa.string() if evidence[c].notna().any() else pa.null()
                    schema = schema.set(schema.get_field_index(c), pa.field(c, typ))
                writer = pq.ParquetWriter(path, schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
