"""Sizes of the sample city by scale."""

from __future__ import annotations

from dataclasses import dataclass

from cimlib.demo._timeline import REFERENCE

PERIODS = REFERENCE.periods
"""Monthly snapshot periods of the reference timeline (2024-01 … 2024-09). A city's own months are its
:class:`~cimlib.demo._timeline.Timeline`'s ``periods``: use those (``truth/facts.json["periods"]``)."""

SENSOR_PERIOD = REFERENCE.sensor_period


@dataclass(frozen=True)
class Scale:
    """Record counts of one scale."""

    name: str
    buildings: int
    addresses: int
    persons: int
    houses: int
    units: int
    devices: int
    communities_per_street: int
    dem_step_deg: float
    projects: int = 120


SCALES = {
    "small": Scale("small", 1_500, 3_000, 6_000, 3_000, 300, 40, 4, 0.004, projects=120),
    "medium": Scale("medium", 50_000, 100_000, 200_000, 100_000, 10_000, 1_000, 8, 0.001, projects=600),
    "large": Scale("large", 500_000, 1_000_000, 2_000_000, 1_000_000, 100_000, 10_000, 12, 0.0005, projects=6_000),
}


def get_scale(name: str) -> Scale:
    """Return the :class:`Scale` called ``name`` (small, medium or large).

    Raises
    ------
    ValueError
        For any other name.
    """
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"未知的规模 {name!r}，可选：{', '.join(SCALES)}") from None
