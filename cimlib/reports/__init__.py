"""Reports built from the catalog and the analysis tables: the catalog inventory and the acceptance indicators.

- :func:`inventory_table`, :func:`write_inventory` — the data inventory (数据资源清单);
- :func:`acceptance` — the acceptance indicators (验收指标) as of a date, what the reports and ``cim verify`` call;
  :func:`load_indicators`, :func:`indicator_metrics`, :func:`smart_community_metrics`, :func:`evaluate_indicators`
  are its parts;
- :class:`ReportContext` — the tables of one report run, computed once and shared by the report notebooks;
  :mod:`~cimlib.reports.figures` (offline charts and maps), :mod:`~cimlib.reports.tables` (display tables);
- :mod:`~cimlib.reports.runner` (``cim report``), :mod:`~cimlib.reports.verify` (``cim verify``),
  :mod:`~cimlib.reports.changes` (问题整改), :mod:`~cimlib.reports.monthly` (tasks and departments),
  :mod:`~cimlib.reports.store` (the results store).
"""

from cimlib.reports.indicators import (
    INDICATOR_COLUMNS,
    INDICATORS_FILE,
    AcceptanceResult,
    Indicator,
    IndicatorError,
    acceptance,
    evaluate_indicators,
    indicator_metrics,
    load_indicators,
    smart_community_metrics,
)
from cimlib.reports import figures, tables
from cimlib.reports.context import ReportContext
from cimlib.reports.inventory import INVENTORY_LABELS, inventory_table, write_inventory

__all__ = ["INVENTORY_LABELS", "inventory_table", "write_inventory", "acceptance", "AcceptanceResult", "Indicator",
           "IndicatorError", "load_indicators", "indicator_metrics", "smart_community_metrics", "evaluate_indicators",
           "INDICATORS_FILE", "INDICATOR_COLUMNS", "ReportContext", "figures", "tables"]
