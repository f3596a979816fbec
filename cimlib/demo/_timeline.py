"""The sample city's timeline: the 9 months its registers span, and how every date of the city follows them.

The generator draws a city in the *reference frame* (registers 2024-01 … 2024-09, the 随州 programme's year) and a
:class:`Timeline` moves each dated thing to the city's own months: a register month by whole months, a date by the
same number of months (a month-end stays a month-end, another day keeps its day, clipped to the shorter month), a
year by the difference of the end years. The reference timeline changes nothing, so a city on it is byte-identical
to what the generator wrote before timelines existed.

:func:`timeline_for` chooses a city's timeline from the programme that governs it: the 9 months covering the most of
its computable, dated indicators, so that an acceptance report on the city has deadlines to judge (武汉's 2023-05-31
and 2023-11-30, 重庆's 2021-12-31).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Timeline", "REFERENCE", "REFERENCE_END", "N_MONTHS", "timeline_for"]

REFERENCE_END = "2024-09"
"""Last month of the reference frame the generator draws in."""

N_MONTHS = 9
"""Number of monthly snapshots of the registers."""

YEAR_RANGE = (2000, 2099)
"""Years a timeline may end in."""

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _index(month: str) -> int:
    """``YYYY-MM`` -> months since year 0."""
    y, m = month.split("-")
    return int(y) * 12 + int(m) - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _days_in(index: int) -> int:
    return pd.Period(_month(index), freq="M").days_in_month


@dataclass(frozen=True)
class Timeline:
    """The months of a sample city: ``end`` (``YYYY-MM``) is the registers' last month.

    Attributes
    ----------
    end : str
        ``YYYY-MM``, a year between 2000 and 2099.

    Raises
    ------
    ValueError
        ``end`` is not a month ``YYYY-MM`` in that range (the message names the value).
    """

    end: str

    def __post_init__(self):
        text = self.end if isinstance(self.end, str) else None
        m = _MONTH.fullmatch(text.strip()) if text is not None else None
        if m is None or not 1 <= int(m.group(2)) <= 12 or not YEAR_RANGE[0] <= int(m.group(1)) <= YEAR_RANGE[1]:
            raise ValueError(f"时间线的最后一个月应为 YYYY-MM（{YEAR_RANGE[0]}–{YEAR_RANGE[1]} 年），得到 {self.end!r}")
        object.__setattr__(self, "end", text.strip())

    @property
    def offset(self) -> int:
        """Months from :data:`REFERENCE_END` to ``end`` (negative: earlier)."""
        return _index(self.end) - _index(REFERENCE_END)

    @property
    def periods(self) -> tuple[str, ...]:
        """The :data:`N_MONTHS` months ending at ``end``, ascending (the registers' monthly snapshots)."""
        last = _index(self.end)
        return tuple(_month(i) for i in range(last - N_MONTHS + 1, last + 1))

    @property
    def sensor_period(self) -> str:
        """The month of the sensor readings: ``end``."""
        return self.end

    @property
    def years(self) -> int:
        """Whole years between the reference end year and ``end``'s year (what :meth:`year` adds)."""
        return int(self.end[:4]) - int(REFERENCE_END[:4])

    def month(self, value: str) -> str:
        """A reference-frame month ``YYYY-MM`` moved to this timeline (``"2024-03"`` -> ``"2021-06"`` on 2021-12)."""
        if not isinstance(value, str) or not _MONTH.fullmatch(value) or not 1 <= int(value[5:7]) <= 12:
            raise ValueError(f"月份应为 YYYY-MM，得到 {value!r}")
        return _month(_index(value) + self.offset)

    def date(self, value: str) -> str:
        """A reference-frame date ``YYYY-MM-DD`` moved by :attr:`offset` months.

        A month's last day stays its month's last day (``2024-03-31`` -> ``2023-05-31``; ``2024-09-30`` ->
        ``2021-12-31``); another day keeps its number, clipped to the shifted month's length (``2024-01-30`` ->
        ``2023-02-28`` on a timeline ending 2023-10).
        """
        m = _DATE.fullmatch(value) if isinstance(value, str) else None
        try:
            day = pd.Timestamp(value) if m else None
        except ValueError:
            day = None
        if day is None:
            raise ValueError(f"日期应为 YYYY-MM-DD，得到 {value!r}")
        return str(self.dates(np.array([day.to_datetime64()], dtype="datetime64[D]"))[0])

    def timestamp(self, value) -> pd.Timestamp:
        """One date or timestamp moved as :meth:`dates` moves them (the time of day is kept)."""
        return pd.Timestamp(self.dates(np.array([pd.Timestamp(value).to_datetime64()]))[0])

    def dates(self, values):
        """Dates or timestamps moved by :attr:`offset` months, vectorised.

        Parameters
        ----------
        values : numpy array (``datetime64``, ISO text or ``datetime.date`` objects) or pandas Series
            Missing values stay missing; a timestamp keeps its time of day.

        Returns
        -------
        numpy.ndarray (``datetime64`` of the input's unit, ``[D]`` for text and date objects) or pandas.Series
            (same index and name, ``datetime64``).

        Notes
        -----
        The map is monotone on dates (never reverses two dates; two of the last days of a month may become one).
        Timestamps on two of a month's last days can swap order when both are clipped to a shorter month:
        a generator derives times inside a month from the shifted month instead (the address pipeline does).
        """
        if isinstance(values, pd.Series):
            return pd.Series(self.dates(values.to_numpy(dtype="datetime64[ns]")), index=values.index, name=values.name)
        a = np.asarray(values)
        if not np.issubdtype(a.dtype, np.datetime64):
            a = a.astype("datetime64[D]")
        if self.offset == 0:
            return a.copy()
        out = a.copy()
        ok = ~np.isnat(a)
        v = a[ok]
        day = v.astype("datetime64[D]")
        time = v - day.astype(v.dtype)
        month = day.astype("datetime64[M]")
        dom = (day - month.astype("datetime64[D]")).astype(np.int64)
        length = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
        new = month + np.timedelta64(self.offset, "M")
        new_length = ((new + 1).astype("datetime64[D]") - new.astype("datetime64[D]")).astype(np.int64)
        new_dom = np.where(dom == length - 1, new_length - 1, np.minimum(dom, new_length - 1))
        out[ok] = (new.astype("datetime64[D]") + new_dom.astype("timedelta64[D]")).astype(v.dtype) + time
        return out

    def year(self, value: int) -> int:
        """A reference-frame year moved by the difference of the end years (where a generator draws years:
        buildings built up to 2023 on the reference timeline are built up to 2020 on one ending 2021-12)."""
        return int(value) + self.years


REFERENCE = Timeline(REFERENCE_END)
"""The reference timeline (registers 2024-01 … 2024-09): nothing moves."""


def _window_end(months: list[str]) -> str | None:
    """The end month E of the :data:`N_MONTHS`-month window covering the most of ``months`` (one entry per
    indicator), the earliest E among ties; None for no months."""
    if not months:
        return None
    idx = np.array([_index(m) for m in months])
    best, best_count = None, -1
    for e in range(int(idx.min()), int(idx.max()) + N_MONTHS):
        count = int(((idx <= e) & (idx > e - N_MONTHS)).sum())
        if count > best_count:
            best, best_count = e, count
    return _month(best)


def timeline_for(city_code: str) -> Timeline:
    """The timeline of a sample city of ``city_code``: from the programme that governs it
    (:func:`standards_checks.programmes.programme_for`).

    Among the programme's indicators that are computable and have a deadline, the 9-month window (ending month E)
    whose months hold the most deadlines (counting indicators, by the deadline's month); ties go to the earliest E.
    :data:`REFERENCE` when no programme governs the code or none of its indicators is computable and dated.

    Parameters
    ----------
    city_code : str
        Division code (``421303``).

    Returns
    -------
    Timeline
    """
    from standards_checks.programmes import ProgrammeError, programme_for

    try:
        programme = programme_for(str(city_code))
    except ProgrammeError:
        return REFERENCE
    months = [str(i.deadline)[:7] for i in programme.indicators if i.computable and i.deadline]
    end = _window_end(months)
    if end is None:
        return REFERENCE
    return Timeline(end)
