"""Standard checks (标准检查): pandera schemas and spatial / cross-dataset rules, defined once, run by engines.

Each catalog entry names the schema that applies to it in its ``schema`` field; :data:`SCHEMA_NAMES` is that
contract. The schemas and rules themselves (one pandera ``DataFrameModel`` per name, each rule carrying
``rule_id``, severity, standard clause and a Chinese message) are the subject of the checks issue.
"""

SCHEMA_NAMES = (
    "admin_areas", "central_area", "control_lines", "dem", "buildings", "fine_model_extent", "roads",
    "addresses", "persons", "houses", "units", "devices", "readings", "address_pipeline", "tasks",
)

__all__ = ["SCHEMA_NAMES"]
