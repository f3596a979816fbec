"""Engines that run the rules of :mod:`standards_checks.api` (pandas now; Dask for tables that do not fit)."""

from standards_checks.backends.pandas import CheckResult, Context, check_dataset, mask_findings, run_checks

__all__ = ["CheckResult", "Context", "check_dataset", "mask_findings", "run_checks"]
