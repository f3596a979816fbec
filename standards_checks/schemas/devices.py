"""物联感知设备 (devices): the register of sensing devices (one row per device, point location).

Device identifiers are unique (``SYS-005``, checked by the engine on the catalog ``id_column``); the rules here check
the declared sampling interval, the device category and that a device lies in the street (街道) its ``street_code``
names.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series
from pandera.typing.geopandas import GeoSeries

from standards_checks.api import column_rule, frame_rule
from standards_checks.schemas._common import Model
from standards_checks.schemas._grid import declare_grid_rules

DEVICE_CATEGORIES = {
    "WP": "供水压力",
    "WF": "供水流量",
    "DL": "排水液位",
    "WL": "内涝积水",
    "MC": "井盖位移",
    "GAS": "燃气浓度",
    "UTS": "管廊沉降",
    "UTT": "管廊温度",
    "UTH": "管廊湿度",
    "PK": "停车泊位",
}
"""The programme's sensing-device categories (``device_type`` code -> Chinese name), **provisional**: the categories
the programme's IoT access plan (物联感知设备接入) names so far, not a published code table. A new category is added
here (and in the generator's ``cimlib.demo._sensors.DEVICE_TYPES``) when the programme adopts it."""

_STD = "物联感知设备接入约定（设备登记表，待核实）"


class Devices(Model):
    """Columns of the device register."""

    device_id: Series[str]
    device_type: Series[str]
    metric: Series[str]
    interval_s: Series[int]
    street_code: Series[str]
    lon: Series[float] = pa.Field(nullable=True, required=False)  # a CSV register: the point is built from lon/lat
    lat: Series[float] = pa.Field(nullable=True, required=False)
    geometry: GeoSeries = pa.Field(nullable=True)

    @column_rule("devices", "interval_s", "DEV-001", severity="error", standard=f"{_STD}：采样间隔为正整数秒",
                 message="设备采样间隔（interval_s）应大于 0")
    def interval_positive(cls, s: Series[int]) -> Series[bool]:
        return s > 0

    @column_rule("devices", "device_type", "DEV-002", severity="error", standard=f"{_STD}：设备类型代码",
                 message="设备类型代码不在本项目的设备类别表中", provisional=True)
    def device_type_known(cls, s: Series[str]) -> Series[bool]:
        return s.isin(list(DEVICE_CATEGORIES))


@frame_rule("devices", "DEV-003", severity="error", standard="GB/T 2260 / 统计用区划代码：设备位于其所属街道内",
            message="设备坐标不在其街道代码所指的街道（乡镇）范围内", column="street_code", needs=("admin_areas",))
def outside_street(frame, ctx) -> pd.Series:
    return ctx.outside_claimed_area(frame, "street_code", "街道") & frame["street_code"].notna()


# 北斗网格码 (optional grid_code): the device's point must lie in the code's cell
declare_grid_rules("devices", "DEV-004", "DEV-005", "DEV-006")
