"""Sizes of the sample city by scale."""

from __future__ import annotations

from dataclasses import dataclass

from cimlib.demo._timeline import REFERENCE

PERIODS = REFERENCE.periods
"""Monthly snapshot periods of the reference timeline (2024-01 … 2024-09). A city's own months are its
:class:`~cimlib.demo._timeline.Timeline`'s ``periods``: use those (``truth/facts.json["periods"]``)."""

SENSOR_PERIOD = REFERENCE.sensor_period


def snapshot_periods(scale: "Scale", periods: tuple[str, ...]) -> tuple[str, ...]:
    """The months of ``periods`` (a timeline's 9) that get a register snapshot at ``scale``."""
    if scale.snapshot_months is None:
        return tuple(periods)
    return tuple(periods[i] for i in scale.snapshot_months)


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
    streamed: bool = False
    """Registers generated and written street by street (:mod:`cimlib.demo._stream`), never held whole."""
    snapshot_months: tuple[int, ...] | None = None
    """Months of the timeline (0-based, of its 9) that get a register snapshot; None: all 9."""
    readings: bool = True
    """Sensor readings written by default (``cim demo --readings/--no-readings`` overrides)."""
    first_year: int = 1975
    """First year a building is built in (reference frame): a street holds at most 8,999 buildings a year."""
    min_cell: float = 18.0
    """Smallest grid cell (m) a building footprint is placed in."""
    max_cells: int = 4_000_000
    """Candidate grid cells at most."""


SCALES = {
    "small": Scale("small", 1_500, 3_000, 6_000, 3_000, 300, 40, 4, 0.004, projects=120),
    "medium": Scale("medium", 50_000, 100_000, 200_000, 100_000, 10_000, 1_000, 8, 0.001, projects=600),
    "large": Scale("large", 500_000, 1_000_000, 2_000_000, 1_000_000, 100_000, 10_000, 12, 0.0005, projects=6_000),
    # a 武汉-sized county for the scale benchmark: registers streamed street by street, snapshots of the 6th and 9th
    # months only (2024-06 and 2024-09 on the reference timeline), no readings unless asked for
    "xlarge": Scale("xlarge", 3_000_000, 5_000_000, 14_000_000, 7_000_000, 1_500_000, 20_000, 12, 0.0005,
                    projects=12_000, streamed=True, snapshot_months=(5, 8), readings=False, first_year=1940,
                    min_cell=10.0, max_cells=16_000_000),
}


def get_scale(name: str) -> Scale:
    """Return the :class:`Scale` called ``name`` (small, medium, large or xlarge).

    Raises
    ------
    ValueError
        For any other name.
    """
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"未知的规模 {name!r}，可选：{', '.join(SCALES)}") from None
