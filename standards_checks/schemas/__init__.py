"""One pandera ``DataFrameModel`` per catalog schema name, plus the frame rules declared beside it."""

from standards_checks.schemas import _geometry  # noqa: F401  (registers the GEO-* rules)
from standards_checks.schemas import cross, dem  # noqa: F401  (register cross-dataset and raster rules)
from standards_checks.schemas.addresses import Addresses
from standards_checks.schemas.admin_areas import AdminAreas
from standards_checks.schemas.buildings import Buildings
from standards_checks.schemas.devices import Devices
from standards_checks.schemas.houses import Houses
from standards_checks.schemas.persons import Persons
from standards_checks.schemas.planning import ControlLines, Roads
from standards_checks.schemas.projects import Projects
from standards_checks.schemas.readings import Readings
from standards_checks.schemas.units import Units
from standards_checks.schemas.work import AddressPipeline, Tasks

MODELS = {"admin_areas": AdminAreas, "addresses": Addresses, "buildings": Buildings, "houses": Houses, "persons": Persons, "units": Units,
          "devices": Devices, "readings": Readings, "roads": Roads, "control_lines": ControlLines, "tasks": Tasks,
          "address_pipeline": AddressPipeline, "projects": Projects}
"""Schema name -> DataFrameModel. Schemas not listed here get the structural and generic geometry rules only."""

OPTIONAL_COLUMNS = {
    "admin_areas": ("kind", "smart_community"),
    "control_lines": ("approved", "doc_no", "name"),
    "buildings": ("grid_code", "lod", "model_level", "name", "street_code", "use", "year_built"),
    "addresses": ("building_id", "county_code", "door_plate", "grid_code", "lat", "lon", "smart_compound"),
    "persons": ("address_text", "birth_date", "community_code", "gender", "house_id", "registration", "street_code"),
    "houses": ("address_id", "address_text", "area_m2", "community_code", "floor", "grid_code", "room_no", "street_code",
               "use"),
    "units": ("address_text", "community_code", "employees", "industry", "legal_rep", "name", "phone", "street_code"),
    "devices": ("grid_code", "install_date", "owner", "road_id", "type_name_zh", "unit"),
    "readings": ("date", "metric", "quality", "received_at"),
    "address_pipeline": ("department", "period", "reason", "stage_order"),
    "tasks": ("completed_date", "milestone", "progress_pct", "start_date"),
    "projects": ("completion_date",),
}
"""Schema name -> the optional fields of its field table (besides the model's columns and ``geometry``).

Together with the model's columns they are the field table of a dataset: any other column is reported as a
SYS-008 warning (kept, never used by the rules). Only schemas listed in :data:`MODELS` have a field table."""



def field_table(schema: str) -> tuple[str, ...] | None:
    """The fields of a schema's field table: the model's columns, its optional fields and ``geometry``.

    Parameters
    ----------
    schema : str
        Catalog schema name.

    Returns
    -------
    tuple of str or None
        Field names (model columns first), ``None`` for a schema without a field table (not in :data:`MODELS`).
    """
    model = MODELS.get(schema)
    if model is None:
        return None
    names = [*model.to_schema().columns, *OPTIONAL_COLUMNS.get(schema, ()), "geometry"]
    return tuple(dict.fromkeys(names))


def required_fields(schema: str) -> tuple[str, ...]:
    """The model columns of a schema (a file lacking one gets a SYS-002 finding); empty without a model.

    Parameters
    ----------
    schema : str
        Catalog schema name.

    Returns
    -------
    tuple of str
    """
    model = MODELS.get(schema)
    return tuple(model.to_schema().columns) if model is not None else ()


__all__ = ["MODELS", "OPTIONAL_COLUMNS", "field_table", "required_fields", "AdminAreas", "Addresses", "Buildings", "Houses", "Persons", "Units", "Devices", "Readings", "Roads",
           "ControlLines", "Tasks", "AddressPipeline", "Projects"]
