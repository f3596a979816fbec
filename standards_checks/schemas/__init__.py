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
from standards_checks.schemas.readings import Readings
from standards_checks.schemas.units import Units
from standards_checks.schemas.work import AddressPipeline, Tasks

MODELS = {"admin_areas": AdminAreas, "addresses": Addresses, "buildings": Buildings, "houses": Houses, "persons": Persons, "units": Units,
          "devices": Devices, "readings": Readings, "roads": Roads, "control_lines": ControlLines, "tasks": Tasks,
          "address_pipeline": AddressPipeline}
"""Schema name -> DataFrameModel. Schemas not listed here get the structural and generic geometry rules only."""

__all__ = ["MODELS", "AdminAreas", "Addresses", "Buildings", "Houses", "Persons", "Units", "Devices", "Readings", "Roads",
           "ControlLines", "Tasks", "AddressPipeline"]
