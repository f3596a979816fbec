"""What a report needs, computed once per run and shared by its notebooks: :class:`ReportContext`.

A report run executes several notebooks; each asks the context for tables (indicators, metrics, findings, sensor
health, ...). The first ask computes the table with ``cimlib`` and, when the context has a cache folder, writes it
there as Parquet; later asks, from the same or another notebook, read it back. An analyst who opens a notebook in
JupyterLab without a cache gets the same tables computed on the spot.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cimlib._io import atomic_path
from cimlib.catalog import Catalog, CatalogError

SNAPSHOT_NOTE = "数据目录未提供月度快照，按当前数据计"
"""What the report says when the catalog has no monthly snapshot: its current state stands for the period."""


def month_end(period: str) -> str:
    """``"2024-06"`` -> ``"2024-06-30"``."""
    return (pd.Period(period, freq="M").end_time.normalize()).date().isoformat()


class ReportContext:
    """Tables of one report run (lazy, cached).

    Parameters
    ----------
    catalog : path-like or Catalog
        The data catalog.
    period : str, optional
        ``YYYY-MM`` of a monthly report; default the month of ``as_of``.
    as_of : str, optional
        ``YYYY-MM-DD`` of an acceptance evaluation; default the end of ``period``.
    cache_dir : path-like, optional
        Folder for the computed tables (a report run's ``data/``); ``None`` computes every time.
    indicators_path : path-like, optional
        A city's own indicator file in the programme format (wins over ``programme``).
    programme : str, optional
        Programme id (``standards_checks/programmes/<id>.yaml``); default the programme covering the catalog's
        ``city_code`` (:func:`cimlib.reports.indicators.resolve_programme`).
    progress : bool, default False
    reuse_dir : path-like, optional
        The main run's output root (``cim metrics --out <reuse_dir>/metrics``, ``cim sensors --out
        <reuse_dir>/sensors``): the metrics, register findings, address matches and sensor tables are read from
        there instead of computed when they were computed from the same inputs, options and code
        (:mod:`cimlib.reuse`; anything else is computed). What was reused is in :attr:`reused`.

    Raises
    ------
    ValueError
        If neither ``period`` nor ``as_of`` is given, or they are malformed.
    """

    def __init__(self, catalog, *, period: str | None = None, as_of: str | None = None, cache_dir=None,
                 indicators_path=None, programme: str | None = None, progress: bool = False, reuse_dir=None):
        if period is None and as_of is None:
            raise ValueError("需要统计月份 period（YYYY-MM）或评价日期 as_of（YYYY-MM-DD）")
        try:
            self.as_of = pd.Timestamp(as_of).date().isoformat() if as_of else month_end(period)
            self.period = period or self.as_of[:7]
            pd.Period(self.period, freq="M")
        except (ValueError, TypeError):
            raise ValueError(f"统计月份应为 YYYY-MM、评价日期应为 YYYY-MM-DD：{period!r} / {as_of!r}") from None
        self.catalog = catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)
        from cimlib.reports.labels import use_catalog

        use_catalog(self.catalog)   # tables show this catalog's dataset titles and area names
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.indicators_path = indicators_path
        self.programme_id = programme or None
        self.progress = progress
        self._memo: dict[str, object] = {}
        from cimlib.reuse import MainRun

        self.main_run = MainRun(reuse_dir, self.catalog) if reuse_dir else None

    @property
    def reused(self) -> dict:
        """What this context took from the main run: ``{"from": root, "tables": {"metrics": {"from", "periods",
        "files": {name: sha256}, "used_for"}, "sensors 2024-09": {...}}, "not_reused": {output: reason}}``; empty
        without ``reuse_dir``. The report's manifest records it as ``reuse``."""
        if self.main_run is None:
            return {}
        return {"from": str(self.main_run.root.resolve()), "tables": dict(self.main_run.reused),
                "not_reused": dict(self.main_run.not_reused)}

    # ------------------------------------------------------------------ caching

    def _cached(self, name: str, compute):
        if name in self._memo:
            return self._memo[name]
        path = self.cache_dir / f"{name}.parquet" if self.cache_dir else None
        if path is not None and path.exists():
            value = _read(path)
        else:
            value = compute()
            if path is not None:
                _write(value, path)
        self._memo[name] = value
        return value

    def _json(self, name: str, compute) -> dict:
        if name in self._memo:
            return self._memo[name]
        path = self.cache_dir / f"{name}.json" if self.cache_dir else None
        if path is not None and path.exists():
            value = json.loads(path.read_text(encoding="utf-8"))
        else:
            value = compute()
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(path) as tmp:
                    tmp.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
        self._memo[name] = value
        return value

    def prepare(self, names) -> None:
        """Compute (or reuse) the tables ``names`` (method names; ``worklist_overview`` only when there is a work
        list, as the notebooks ask) now and write them to the cache folder, then drop the in-memory copies: later
        asks, here or in a notebook's kernel (which has no ``reuse_dir``), read the files. A table that cannot be
        computed is left to the notebook that asks for it (whose error names the notebook, as without this)."""
        before = set(self._memo)
        for name in names:
            try:
                if name == "worklist_overview" and not len(self.worklist()):
                    continue
                getattr(self, name)()
            except Exception:  # noqa: BLE001 - left to the notebook that asks for it, which reports it as before
                continue
        if self.cache_dir is not None:
            for key in set(self._memo) - before:
                if not key.startswith("_") and (self.cache_dir / f"{key}.parquet").exists():
                    del self._memo[key]

    # ------------------------------------------------------------------ acceptance indicators and metrics

    def _acceptance(self):
        if "_acceptance" not in self._memo:
            from cimlib.reports.indicators import acceptance

            self._memo["_acceptance"] = acceptance(self.catalog, self.as_of, indicators_path=self.indicators_path,
                                                   programme=self.programme_id,
                                                   progress=self.progress, reuse=self.main_run)
        return self._memo["_acceptance"]

    def programme(self):
        """The programme evaluated (:class:`standards_checks.programmes.Programme`: id, name, citation, document).

        Resolved without computing anything (the same choice :func:`cimlib.reports.indicators.acceptance` makes).
        """
        if "_programme" not in self._memo:
            from cimlib.reports.indicators import resolve_programme

            self._memo["_programme"] = resolve_programme(self.catalog, self.programme_id, self.indicators_path)
        return self._memo["_programme"]

    def indicators(self) -> pd.DataFrame:
        """One row per acceptance indicator as of ``as_of`` (value, numerator, denominator, status, evidence)."""
        return self._cached("indicators", lambda: self._acceptance().indicators)

    def metrics(self) -> pd.DataFrame:
        """The metrics table of every month up to ``as_of`` (registers, coverage, sensors, smart communities)."""
        return self._cached("metrics", lambda: self._acceptance().metrics)

    def inputs(self) -> dict:
        """Input file -> sha256 of everything the indicators were computed from."""
        return self._json("inputs", lambda: dict(self._acceptance().inputs))

    def problems(self) -> pd.DataFrame:
        """Datasets that could not be used (they become findings of the report, not a crash)."""
        return self._cached("problems", lambda: pd.DataFrame(self._acceptance().problems))

    def evidence(self) -> pd.DataFrame:
        """Records that lower a register metric (masked: ids, area codes and link evidence only)."""
        return self._cached("evidence", lambda: self._acceptance().evidence)

    # ------------------------------------------------------------------ checks and their change over time

    def findings(self) -> pd.DataFrame:
        """Findings of the standard checks on the snapshot of ``period`` (personal values masked).

        A catalog without monthly snapshots is checked in its current state, labelled as ``period``
        (:data:`SNAPSHOT_NOTE`).
        """
        from cimlib.reports.changes import period_findings

        def compute():
            if self._register_periods():
                return period_findings(self.catalog, self._snapshot_period(self.period))
            f = period_findings(self.catalog, None)
            f.attrs["period"] = self.period
            return f
        return self._cached("findings", compute)

    def located_findings(self):
        """The findings that carry a location (WKT in the findings table), as a GeoDataFrame in EPSG:4490."""
        import geopandas as gpd

        f = self.findings()
        if "geometry" not in f or f.empty:
            return gpd.GeoDataFrame(f.iloc[0:0].drop(columns=["geometry"], errors="ignore"), geometry=[], crs="EPSG:4490")
        f = f[f["geometry"].notna() & (f["geometry"].astype(str) != "")]
        geom = gpd.GeoSeries.from_wkt(f["geometry"].astype(str).to_numpy(), crs="EPSG:4490", on_invalid="ignore")
        return gpd.GeoDataFrame(f.drop(columns=["geometry"]).reset_index(drop=True), geometry=geom.to_numpy(),
                                crs="EPSG:4490")

    def previous_period(self) -> str | None:
        """The month before ``period`` that the registers have a snapshot of, if any."""
        periods = self._register_periods()
        earlier = [p for p in periods if p < self._snapshot_period(self.period)]
        return earlier[-1] if earlier else None

    def changes(self):
        """Findings compared with the previous month: ``(summary, detail)`` (新增 / 未整改 / 已整改)."""
        from cimlib.reports.changes import compare_findings, period_findings

        def compute(part):   # one comparison (and one check of the previous month) for both tables
            if "_changes" not in self._memo:
                prev = self.previous_period()
                before = period_findings(self.catalog, prev) if prev else None
                self._memo["_changes"] = compare_findings(before, self.findings())
            return getattr(self._memo["_changes"], part)
        return (self._cached("changes_summary", lambda: compute("summary")),
                self._cached("changes_detail", lambda: compute("detail")))

    def period_note(self) -> str:
        """:data:`SNAPSHOT_NOTE` when the catalog has no monthly snapshot of the registers, else empty."""
        return "" if self._register_periods() else SNAPSHOT_NOTE

    def missing(self, names) -> list[str]:
        """The entries among ``names`` that the catalog lacks (neither an entry of that name nor of that schema)."""
        schemas = {e.schema for e in self.catalog}
        return [n for n in names if n not in self.catalog and n not in schemas]

    def missing_note(self, names, consequence: str = "本节不适用") -> str:
        """``数据目录中没有 …（中文名称），本节不适用`` for the entries among ``names`` the catalog lacks; empty if none."""
        from cimlib.reports.tables import missing_note

        return missing_note(self.missing(names), consequence)

    def _register_periods(self) -> list[str]:
        for name in ("addresses", "persons", "houses", "units"):
            if name in self.catalog and self.catalog.periods(name):
                return self.catalog.periods(name)
        return []

    def _snapshot_period(self, period: str) -> str | None:
        periods = [p for p in self._register_periods() if p <= period]
        return periods[-1] if periods else None

    # ------------------------------------------------------------------ tasks and departments

    def _task_list(self) -> tuple[pd.DataFrame, str]:
        """The raw task list and a note: empty list and the reason when the catalog lacks it or it cannot be read."""
        if "_task_list" not in self._memo:
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in ("task_id", "department", "deadline",
                                                                        "completed_date")})
            note = self.missing_note(["tasks"])
            frame = empty
            if not note:
                try:
                    frame = self.catalog.read("tasks")
                    from cimlib.reports.monthly import task_status

                    task_status(frame.head(0), self.as_of)      # the required columns are there
                except (CatalogError, ValueError) as exc:
                    frame, note = empty, f"工作任务清单无法使用：{exc}；本节不适用"
            self._memo["_task_list"] = (frame, note)
        return self._memo["_task_list"]

    def tasks(self) -> pd.DataFrame:
        """The programme's task list with each task's status as of ``as_of``.

        Empty when the catalog has no usable task list; ``attrs["note"]`` then says why in Chinese.
        """
        from cimlib.reports.monthly import task_status

        def compute():
            frame, note = self._task_list()
            out = task_status(frame, self.as_of)
            if note:
                out.attrs["note"] = note
            return out
        return self._cached("tasks", compute)

    def departments(self) -> pd.DataFrame:
        """Progress per responsible department as of ``as_of`` (empty, with ``attrs["note"]``, without tasks)."""
        from cimlib.reports.monthly import department_progress

        def compute():
            frame, note = self._task_list()
            out = department_progress(frame, self.as_of)
            if note:
                out.attrs["note"] = note
            return out
        return self._cached("departments", compute)

    def scores(self, previous: pd.DataFrame | None = None) -> pd.DataFrame:
        """Score per department (progress and data quality) with the month-on-month change."""
        from cimlib.reports.monthly import department_scores

        summary, _ = self.changes()
        return self._cached("scores", lambda: department_scores(self.tasks(), summary, self.as_of, previous=previous))

    # ------------------------------------------------------------------ address governance (治理工作清单)

    def _worklist(self):
        if "_worklist" not in self._memo:
            from cimlib.reports.worklist import worklist_of

            self._memo["_worklist"] = worklist_of(self._acceptance().matches, self.catalog, self.period)
        return self._memo["_worklist"]

    def worklist(self) -> pd.DataFrame:
        """治理工作清单 per register, street and community (:func:`cimlib.reports.worklist.worklist_table`).

        Empty when no register carries an address text; ``attrs["note"]`` then says so in Chinese.
        """
        from cimlib.reports.worklist import ALL_LINKED_NOTE, worklist_table

        def compute():
            wl = self._worklist()
            t = worklist_table(wl, self.metrics(), self.catalog.read("admin_areas") if "admin_areas" in self.catalog
                               else None, self.period)
            t.attrs.update({"note": wl.note or ("" if len(t) else ALL_LINKED_NOTE), "skipped": list(wl.skipped)})
            return t
        return self._cached("worklist", compute)

    def worklist_overview(self) -> pd.DataFrame:
        """Records of each matched register by outcome, county 上图率 beside the attainable one."""
        from cimlib.reports.worklist import worklist_overview

        return self._cached("worklist_overview",
                            lambda: worklist_overview(self._worklist(), self.metrics(), self.period))

    def worklist_records(self) -> pd.DataFrame:
        """The per-record work list, masked as ``cim match``'s files (:mod:`cimlib.reports.worklist`)."""
        from cimlib.reports.worklist import worklist_records

        return self._cached("worklist_records", lambda: worklist_records(self._worklist()))

    # ------------------------------------------------------------------ sensing network

    def sensor_period(self) -> str | None:
        """The month of readings the report shows: ``period`` if there are readings for it, else the latest before."""
        from cimlib.sensors.readings import catalog_reading_tasks, periods_of

        if "readings" not in self.catalog:
            return None
        try:
            months = periods_of(catalog_reading_tasks(self.catalog))
        except CatalogError:
            return None
        months = [m for m in months if m <= self.period]
        return months[-1] if months else None

    def sensors(self) -> dict[str, pd.DataFrame]:
        """Sensor tables of :meth:`sensor_period`: health, health_daily, alarms, anomalies, coverage, bad_readings."""
        names = ("health", "health_daily", "alarms", "anomalies", "coverage", "bad_readings")
        if self.sensor_period() is None:
            return {n: pd.DataFrame() for n in names}
        if self.cache_dir is None or not all((self.cache_dir / f"sensors_{n}.parquet").exists() for n in names):
            if "_sensors" not in self._memo:
                from cimlib.sensors import analyse_sensors

                got = self.main_run.sensors(self.sensor_period(), anomalies=True) if self.main_run else None
                self._memo["_sensors"] = got if got is not None else analyse_sensors(
                    self.catalog, self.sensor_period(), cube=False, progress=self.progress)
        return {n: self._cached(f"sensors_{n}", lambda n=n: getattr(self._memo["_sensors"], n)) for n in names}

    # ------------------------------------------------------------------ catalog

    def inventory(self) -> pd.DataFrame:
        """The catalog inventory (layers, sizes, CRS, owners, classification, fingerprints)."""
        from cimlib.reports.inventory import inventory_table

        return self._cached("inventory", lambda: inventory_table(self.catalog, progress=self.progress))

    def areas(self, level: str | None = None):
        """The admin areas (GeoDataFrame), optionally of one level (``county``, ``street``, ``community``)."""
        areas = self.catalog.read("admin_areas")
        if level is not None and "level" in areas:
            names = {"county": ("county", "区", "县", "区县"), "street": ("street", "街道", "乡镇"),
                     "community": ("community", "社区", "村")}.get(level, (level,))
            areas = areas[areas["level"].astype(str).isin(names)]
        return areas


def _write(value, path: Path) -> None:
    """A table as Parquet (GeoParquet when it has geometry), its ``attrs`` beside it as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = value if isinstance(value, pd.DataFrame) else pd.DataFrame(value)
    attrs = dict(frame.attrs)
    with atomic_path(path) as tmp:
        if "geometry" in frame.columns and hasattr(frame, "to_wkb"):
            frame.to_parquet(tmp, index=False)
        else:
            frame = frame.drop(columns=["geometry"], errors="ignore")
            for c in frame.columns:
                if frame[c].dtype == object:
                    frame[c] = frame[c].astype("string")
            frame.to_parquet(tmp, index=False)
    if attrs:
        with atomic_path(path.with_suffix(".attrs.json")) as tmp:
            tmp.write_text(json.dumps(attrs, ensure_ascii=False, default=str), encoding="utf-8")


def _read(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    if b"geo" in meta:
        import geopandas as gpd

        frame = gpd.read_parquet(path)
    else:
        frame = pd.read_parquet(path)
    sidecar = path.with_suffix(".attrs.json")
    if sidecar.exists():
        frame.attrs = json.loads(sidecar.read_text(encoding="utf-8"))
    return frame
