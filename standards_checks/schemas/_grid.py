"""北斗网格码 (``grid_code``): the 2D BeiDou grid location code an entity carries (GB/T 39409-2020 §5).

Buildings, standard addresses, houses and sensing devices may carry ``grid_code`` (an optional, nullable field;
departments deliver it as 北斗网格码). What a code must be is decided here, once, for the rules of the four schemas
and for the metric ``beidou_grid_rate`` (:mod:`cimlib.metrics.grid`), which counts with :func:`grid_status`:

- **Format** (§5.2): a well-formed 2D grid location code (:func:`cimlib.codes.beidou.valid`) of level
  :data:`MIN_LEVEL` to 10. The level is read from the length (§5.2: 14, 16, 18 or 20 characters, cells of 1/4″ down
  to 1/2048″ ≈ 1.5 cm). A coarser code (levels 1–6, cells of 2″ ≈ 60 m and more) names an area, not the place of one
  building, house or device, and fails the format rule: this level rule is the workbench's (the standard codes every
  level), and it lives in :data:`MIN_LEVEL` only. A 3D code (§6.2, 32 characters) is not a ``grid_code``: the field
  holds the 2D part. The sample city writes level 10 (20 characters).
- **Location** of an entity: its own geometry (addresses and devices: the point; buildings: the footprint); a
  house's location is the footprint of its building (``building_id`` in ``buildings``).
- **Consistency** at the code's own level L (§5.1 grid division): a point is consistent when
  ``encode(lon, lat, L) == code``, in the exact integer arithmetic of :mod:`cimlib.codes.beidou` (the point lies in
  the code's half-open cell); a polygon when the code's cell (:func:`cimlib.codes.beidou.decode`, as a closed box)
  intersects it. An invalid footprint is repaired first (``shapely.make_valid``: its invalidity is GEO-001's
  finding, not this one's). Nothing is judged without a location — no geometry, a house whose building is not
  found (HSE-004), a coordinate outside the encodable range (GEO-004): those rules report it.
- **Missing**: an empty ``grid_code`` is not a format error. A warning rule lists the entities not coded yet
  (addresses: only the elements that are places, 院落/建筑物/单元/户室); the metric counts them as not coded.

A dataset without the ``grid_code`` column is not judged by these rules (the field is optional).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from cimlib.codes import beidou
from cimlib.lookup import index_in
from standards_checks.api import frame_rule

__all__ = ["GRID_COLUMN", "MIN_LEVEL", "GridStatus", "grid_codes", "grid_status", "building_footprints",
           "declare_grid_rules"]

GRID_COLUMN = "grid_code"
"""The field holding an entity's 北斗网格码."""

MIN_LEVEL = 7
"""Coarsest level accepted for an entity's code (1/4″ cells, about 7 m: the size of a building)."""

_ACCEPTED_LENGTHS = beidou.LEVEL_LENGTHS[MIN_LEVEL:]
_STD = "GB/T 39409-2020 北斗网格位置码"


@dataclass(frozen=True)
class GridStatus:
    """Per record: what its ``grid_code`` is (arrays aligned with the frame).

    Attributes
    ----------
    present : numpy.ndarray of bool
        A non-blank code is there.
    formed : numpy.ndarray of bool
        Present and a well-formed 2D code of level :data:`MIN_LEVEL`–10.
    located : numpy.ndarray of bool
        The entity has a location the code can be compared with.
    consistent : numpy.ndarray of bool
        Formed, located, and the code's cell holds the location.
    """

    present: np.ndarray
    formed: np.ndarray
    located: np.ndarray
    consistent: np.ndarray

    @property
    def malformed(self) -> np.ndarray:
        """A code is there but is not a well-formed code of an accepted level (the format rule)."""
        return self.present & ~self.formed

    @property
    def misplaced(self) -> np.ndarray:
        """A well-formed code whose cell does not hold the entity's location (the consistency rule)."""
        return self.formed & self.located & ~self.consistent

    @property
    def ok(self) -> np.ndarray:
        """Valid and consistent with the location: what ``beidou_grid_rate`` counts."""
        return self.consistent


def grid_codes(frame: pd.DataFrame) -> pd.Series | None:
    """The frame's ``grid_code`` as stripped text (missing stays missing), ``None`` without the column."""
    if GRID_COLUMN not in frame:
        return None
    return frame[GRID_COLUMN].astype("string").str.strip()


def _formed(codes: pd.Series) -> np.ndarray:
    lens = codes.str.len().fillna(0).to_numpy(dtype=np.int64)
    return np.isin(lens, _ACCEPTED_LENGTHS) & beidou.valid(codes.to_numpy(dtype=object, na_value=None))


def building_footprints(frame: pd.DataFrame, buildings: pd.DataFrame) -> np.ndarray:
    """The footprint of each record's building (``building_id`` in ``buildings``), ``None`` where not found.

    Parameters
    ----------
    frame : pandas.DataFrame
        Records with ``building_id`` (e.g. houses).
    buildings : geopandas.GeoDataFrame
        The building layer (``building_id``, footprint geometry, EPSG:4490).

    Returns
    -------
    numpy.ndarray of shapely geometries (object)
    """
    out = np.full(len(frame), None, dtype=object)
    if "building_id" not in frame or "building_id" not in buildings or not hasattr(buildings, "geometry"):
        return out
    pos = index_in(frame["building_id"], buildings["building_id"])
    found = pos >= 0
    out[found] = buildings.geometry.to_numpy()[pos[found]]
    return out


def grid_status(frame: pd.DataFrame, locations=None) -> GridStatus:
    """Judge every record's ``grid_code`` against its location (module docstring for the rules).

    Parameters
    ----------
    frame : pandas.DataFrame
        Records, possibly with ``grid_code``; their own geometry is the location when ``locations`` is not given.
    locations : array_like of shapely geometries, optional
        The location of each record instead of its own geometry (houses: :func:`building_footprints`), CGCS2000
        lon/lat.

    Returns
    -------
    GridStatus
        All False without a ``grid_code`` column.
    """
    n = len(frame)
    codes = grid_codes(frame)
    if codes is None:
        none = np.zeros(n, dtype=bool)
        return GridStatus(none, none, none, none)
    present = (codes.notna() & (codes.fillna("") != "")).to_numpy(dtype=bool)
    formed = present & _formed(codes)
    if locations is None:
        locations = frame.geometry.to_numpy() if hasattr(frame, "geometry") else np.full(n, None, dtype=object)
    g = np.asarray(locations, dtype=object)
    has = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    bounds = np.full((n, 4), np.nan)
    bounds[has] = shapely.bounds(g[has])
    with np.errstate(invalid="ignore"):
        encodable = (np.isfinite(bounds).all(axis=1) & (np.abs(bounds[:, [0, 2]]) < 180).all(axis=1)
                     & (np.abs(bounds[:, [1, 3]]) < 88).all(axis=1))
    located = has & encodable
    consistent = np.zeros(n, dtype=bool)
    judge = formed & located
    text = codes.to_numpy(dtype=object, na_value="")
    point = judge & (shapely.get_type_id(g) == 0)
    if point.any():  # a point: its own code at the code's level is the code
        idx = np.flatnonzero(point)
        x, y = bounds[idx, 0], bounds[idx, 1]
        lvl = beidou.level(text[idx].astype(str))
        for L in np.unique(lvl):
            sel = lvl == L
            consistent[idx[sel]] = beidou.encode(x[sel], y[sel], int(L)) == text[idx[sel]].astype(str)
    area = judge & ~point
    if area.any():  # a footprint: the code's cell meets it
        idx = np.flatnonzero(area)
        shape = g[idx].copy()
        bad = ~shapely.is_valid(shape)
        if bad.any():
            shape[bad] = shapely.make_valid(shape[bad])
        box = beidou.decode(text[idx].astype(str))
        consistent[idx] = shapely.intersects(shape, shapely.box(box[:, 0], box[:, 1], box[:, 2], box[:, 3]))
    return GridStatus(present, formed, located, consistent)


def _status(frame, ctx, of_building: bool) -> GridStatus:
    """:func:`grid_status` of a rule's frame; a house's location is read from the run's ``buildings`` only when some
    house carries a code (a register without codes needs no building layer)."""
    codes = grid_codes(frame)
    if not of_building or codes is None or not (codes.fillna("") != "").any():
        return grid_status(frame, None if not of_building else np.full(len(frame), None, dtype=object))
    return grid_status(frame, building_footprints(frame, ctx.frame("buildings")))


_LOCATIONS = {  # how the consistency rule names the location: (message, what the cell must hold)
    "point": ("北斗网格码与位置不一致（编码所指网格不含该点位）", "编码所指网格包含实体点位"),
    "footprint": ("北斗网格码与建筑底面不一致（编码所指网格与底面不相交）", "编码所指网格与实体底面相交"),
    "building": ("北斗网格码与所在建筑物不一致（编码所指网格与该建筑物底面不相交）", "编码所指网格与所在建筑物底面相交"),
}


def declare_grid_rules(schema: str, format_id: str, location_id: str, missing_id: str, *, location: str = "point",
                       scope: tuple[str, str | tuple] | None = None) -> None:
    """Declare a schema's three ``grid_code`` rules (format, consistency with the location, missing).

    Parameters
    ----------
    schema : str
        Catalog schema (``buildings``, ``addresses``, ``houses``, ``devices``).
    format_id, location_id, missing_id : str
        Rule ids, continuing the schema's numbering.
    location : {"point", "footprint", "building"}, default "point"
        What the code is compared with: the record's own point (addresses, devices) or footprint (buildings), or
        its building's footprint (houses; needs ``buildings``). Only the messages differ between point and
        footprint: :func:`grid_status` tests each geometry by its type.
    scope : (str, tuple of str), optional
        ``(column, values)``: only records whose ``column`` is one of ``values`` are expected to carry a code (the
        missing rule; addresses: the elements that are places).
    """
    of_building = location == "building"
    message, clause = _LOCATIONS[location]
    needs = ("buildings",) if of_building else ()

    @frame_rule(schema, format_id, severity="error", column=GRID_COLUMN, per_record=True,
                standard=f"{_STD} §5.2 二维网格位置码编码规则（实体编码取第 {MIN_LEVEL}–10 级，本工作台约定）",
                message=f"北斗网格码格式不符合 GB/T 39409-2020（应为第 {MIN_LEVEL}–10 级二维网格位置码，"
                        f"{'/'.join(map(str, _ACCEPTED_LENGTHS))} 位）")
    def grid_code_malformed(frame, ctx) -> pd.Series:
        """A ``grid_code`` that is not a well-formed 2D code of level 7–10 (GB/T 39409-2020 §5.2).

        Parameters
        ----------
        frame : pandas.DataFrame
        ctx : standards_checks.backends.pandas.Context

        Returns
        -------
        pandas.Series of bool
            True where the record fails (an empty code does not).
        """
        codes = grid_codes(frame)
        if codes is None:
            return pd.Series(False, index=frame.index)
        present = (codes.notna() & (codes.fillna("") != "")).to_numpy(dtype=bool)
        return pd.Series(present & ~_formed(codes), index=frame.index)

    @frame_rule(schema, location_id, severity="error", column=GRID_COLUMN, needs=needs, per_record=True,
                standard=f"{_STD} §5.1 网格剖分、§5.2 编码：{clause}", message=message)
    def grid_code_misplaced(frame, ctx) -> pd.Series:
        """A well-formed ``grid_code`` whose cell does not hold the entity's location (GB/T 39409-2020 §5.1–5.2).

        Points: ``encode(lon, lat, level(code)) != code``; footprints: the code's cell does not meet the polygon.

        Parameters
        ----------
        frame : pandas.DataFrame
        ctx : standards_checks.backends.pandas.Context
            Gives the ``buildings`` layer when the location is the building's.

        Returns
        -------
        pandas.Series of bool
            True where the record fails (records without a location or a well-formed code are not judged).
        """
        return pd.Series(_status(frame, ctx, of_building).misplaced, index=frame.index)

    @frame_rule(schema, missing_id, severity="warning", column=GRID_COLUMN, per_record=True,
                standard="武汉市城市数字公共基础设施建设工作方案 二、(二)1：使用北斗网格划分关联实体",
                message="未赋北斗网格码（北斗网格码为空）")
    def grid_code_missing(frame, ctx) -> pd.Series:
        """An entity without a ``grid_code`` (a dataset carrying the field; addresses: the place elements only).

        Parameters
        ----------
        frame : pandas.DataFrame
        ctx : standards_checks.backends.pandas.Context

        Returns
        -------
        pandas.Series of bool
            True where the code is empty.
        """
        codes = grid_codes(frame)
        if codes is None:
            return pd.Series(False, index=frame.index)
        missing = (codes.isna() | (codes.fillna("") == "")).to_numpy(dtype=bool)
        if scope is not None:
            column, values = scope
            missing &= frame[column].isin(list(values)).to_numpy(dtype=bool) if column in frame else False
        return pd.Series(missing, index=frame.index)
