"""What the standards say: rules and their metadata, independent of the engine that runs them."""

from standards_checks.api.rules import (FINDINGS_COLUMNS, RULES, Rule, column_rule, dataset_rules, frame_rule,
                                        structural_rule_id)

__all__ = ["FINDINGS_COLUMNS", "RULES", "Rule", "column_rule", "dataset_rules", "frame_rule", "structural_rule_id"]
