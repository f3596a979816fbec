"""One pandera ``DataFrameModel`` per catalog schema name, plus the frame rules declared beside it."""

from standards_checks.schemas import _geometry  # noqa: F401  (registers the GEO-* rules)
from standards_checks.schemas import dem  # noqa: F401  (registers the raster rules)
from standards_checks.schemas.addresses import Addresses
from standards_checks.schemas.admin_areas import AdminAreas
from standards_checks.schemas.buildings import Buildings
from standards_checks.schemas.houses import Houses
from standards_checks.schemas.persons import Persons
from standards_checks.schemas.units import Units

MODELS = {"admin_areas": AdminAreas, "addresses": Addresses, "buildings": Buildings, "houses": Houses, "persons": Persons, "units": Units}
"""Schema name -> DataFrameModel. Schemas not listed here get the structural and generic geometry rules only."""

__all__ = ["MODELS", "AdminAreas", "Addresses", "Buildings", "Houses", "Persons", "Units"]
