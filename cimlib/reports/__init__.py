"""Reports built from the catalog and the analysis tables (today: the catalog inventory)."""

from cimlib.reports.inventory import INVENTORY_LABELS, inventory_table, write_inventory

__all__ = ["INVENTORY_LABELS", "inventory_table", "write_inventory"]
