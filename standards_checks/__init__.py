"""Standard checks (标准检查): pandera schemas and spatial / cross-dataset rules, defined once, run by engines.

- :mod:`standards_checks.api`: what a rule says (``rule_id``, severity, standard clause, Chinese message);
- :mod:`standards_checks.schemas`: one pandera ``DataFrameModel`` per catalog schema with its rules;
- :mod:`standards_checks.backends`: the engines that run them (pandas) and build the findings table.

Each catalog entry names the schema that applies in its ``schema`` field; :data:`SCHEMA_NAMES` is that contract.
"""

SCHEMA_NAMES = (
    "admin_areas", "central_area", "demo_zone", "control_lines", "dem", "buildings", "white_model_extent", "fine_model_extent", "roads",
    "addresses", "persons", "houses", "units", "devices", "readings", "address_pipeline", "tasks",
    "projects",
)

from standards_checks.api import FINDINGS_COLUMNS, RULES, Rule  # noqa: E402
from standards_checks.backends import CheckResult, run_checks  # noqa: E402
from standards_checks.checks_io import write_check_outputs  # noqa: E402

__all__ = ["SCHEMA_NAMES", "FINDINGS_COLUMNS", "RULES", "Rule", "CheckResult", "run_checks", "write_check_outputs"]
