"""Acceptance metrics (验收指标): 治理率, 编码率, 上图率, 合格率, coverage, completeness, by area and month.

Every number is a row of the metrics table with its numerator and denominator (``docs/metrics.md`` defines each):

- :func:`compute_metrics` — the whole table for a catalog (what ``cim metrics`` runs);
- :mod:`cimlib.metrics.linking` — 上图 links (code / spatial / none) with their evidence;
- :func:`target_status`, :func:`series` — progress against the work plan's dated targets;
- :func:`project_metrics` — the 工程建设项目 metrics (数字化建造试点, 融合项目面积 and their yearly shares), from the
  static project list, for any month (:mod:`cimlib.metrics.projects`);
- :func:`grid_metrics` — 北斗网格码关联率 (``beidou_grid_rate``, also in :func:`compute_metrics`), read straight from a
  catalog (:mod:`cimlib.metrics.grid`).
"""

from cimlib.metrics._spec import CLASSES, LEVELS, METRICS, METRICS_COLUMNS, TARGETS, MetricDef, RegisterClass, Target
from cimlib.metrics.compute import MetricsResult, compute_metrics
from cimlib.metrics.grid import GRID_METRIC, grid_metrics
from cimlib.metrics.linking import LINK_COLUMNS, link_addresses, link_records, spatial_match
from cimlib.metrics.outputs import write_metrics_outputs
from cimlib.metrics.progress import PROGRESS_COLUMNS, series, target_status
from cimlib.metrics.projects import PROJECT_METRICS, project_inputs, project_metrics, project_periods, read_projects

__all__ = ["compute_metrics", "MetricsResult", "write_metrics_outputs", "target_status", "series", "link_addresses",
           "link_records", "spatial_match", "CLASSES", "METRICS", "METRICS_COLUMNS", "TARGETS", "LEVELS",
           "LINK_COLUMNS", "PROGRESS_COLUMNS", "MetricDef", "RegisterClass", "Target", "project_metrics",
           "project_periods", "project_inputs", "read_projects", "PROJECT_METRICS", "grid_metrics", "GRID_METRIC"]
