"""Writing a check run: findings.parquet, findings.csv (UTF-8 with BOM) and summary.csv, atomically."""

from __future__ import annotations

from pathlib import Path

from cimlib._io import atomic_path


def write_check_outputs(result, out_dir) -> dict:
    """Write the findings and summary of a :class:`~standards_checks.backends.CheckResult` into ``out_dir``.

    Returns
    -------
    dict
        Counts of findings by severity and the paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from standards_checks.backends.pandas import mask_findings

    # files are always masked, even when the caller kept the raw values for an interactive look (masking is idempotent)
    findings = mask_findings(result.findings).astype({c: "object" for c in result.findings.columns})
    with atomic_path(out / "findings.parquet") as p:
        findings.to_parquet(p, index=False)
    with atomic_path(out / "findings.csv") as p:
        findings.to_csv(p, index=False, encoding="utf-8-sig")
    with atomic_path(out / "summary.csv") as p:
        result.summary.to_csv(p, index=False, encoding="utf-8-sig")
    counts = findings["severity"].value_counts().to_dict()
    return {"errors": int(counts.get("error", 0)), "warnings": int(counts.get("warning", 0)),
            "files": [str(out / n) for n in ("findings.parquet", "findings.csv", "summary.csv")]}
