"""Codes carried by CIM and 一标三实 data: identification numbers, division codes, standard-address elements, and the
national investment-project code (项目代码) of 工程建设项目.

Validators are vectorized: each ``*_valid`` takes an array-like of str and returns a boolean numpy array, and its
``*_problems`` twin returns a pandas Series with the Chinese reason per value (``""`` when valid).
"""

from cimlib.codes import beidou
from cimlib.codes.address import (
    ELEMENT_TYPES,
    admin_code_mismatch,
    full_address_mismatch,
    level_mismatch,
    parent_level_invalid,
    parent_missing,
    room_not_under_building,
    unknown_element_type,
)
from cimlib.codes.divisions import (
    children,
    code_of,
    county,
    division_problems,
    division_valid,
    name_of,
    parent_code,
    reference_table,
    streets_of,
    written_city,
    written_name,
)
from cimlib.codes.ids import (
    bdcdyh_problems,
    bdcdyh_valid,
    house_code_check_char,
    house_code_problems,
    house_code_valid,
    org_check_char,
    phone_problems,
    phone_valid,
    ric_birth_date,
    ric_check_char,
    ric_gender,
    ric_problems,
    ric_valid,
    uscc_check_char,
    uscc_problems,
    uscc_valid,
)
from cimlib.codes.projects import division_in_scope, project_code_division, project_code_problems, project_code_valid

__all__ = [
    "beidou",  # GB/T 39409-2020 北斗网格位置码: beidou.encode / decode / level / parent / cells / height_code ...
    # ids
    "ric_valid", "ric_problems", "ric_birth_date", "ric_gender", "ric_check_char",
    "uscc_valid", "uscc_problems", "uscc_check_char", "org_check_char",
    "bdcdyh_valid", "bdcdyh_problems",
    "house_code_valid", "house_code_problems", "house_code_check_char",
    "phone_valid", "phone_problems",
    # divisions
    "division_valid", "division_problems", "name_of", "code_of", "parent_code", "children",
    "county", "streets_of", "reference_table", "written_name", "written_city",
    # address
    "ELEMENT_TYPES", "unknown_element_type", "level_mismatch", "parent_missing", "parent_level_invalid",
    "room_not_under_building", "full_address_mismatch", "admin_code_mismatch",
    # projects
    "project_code_valid", "project_code_problems", "project_code_division", "division_in_scope",
]
