"""The results store (结果库): every report run appends its tables; later reports read earlier months from it.

DESIGN.md: "metric values of each run are appended to a results store, so trends and month-on-month comparisons are
computed, not typed". :class:`ResultsStore` is that store, embedded (no server).

Storage: Parquet files, one folder per run
------------------------------------------
::

    <root>/runs/<run folder>/run.json         run_id, kind, period, created (UTC), headline, tables (rows, columns)
    <root>/runs/<run folder>/<table>.parquet  one file per table of the run
    <root>/.staging/                         runs being written (never read)

Why Parquet folders and not one DuckDB file (both embedded, both pinned):

- **Atomic runs for free.** A run is written into a private folder under ``.staging/`` (each file through
  :func:`cimlib._io.atomic_path`) and becomes visible in one step by renaming that folder into ``runs/``. A crash at
  any point leaves at most a stray staging folder, never a half-written run; a DuckDB file would need the same care
  from its WAL and transactions, and a killed writer can leave a WAL to replay.
- **Readers and writers do not lock each other out.** A DuckDB database file admits one read-write process at a
  time and then no reader from another process; a report run while an analyst's notebook has the store open would
  fail. Immutable run folders can be read by any number of processes while another run is being written.
- **Readable by everyone, for years.** Evaluators and other tools read Parquet with pandas, pyarrow, Excel
  plug-ins or DuckDB itself (``SELECT * FROM '<root>/runs/*/metrics.parquet'``); DuckDB's storage format is tied to
  its version. A run can be archived, copied or deleted as a folder.
- Volumes are small (a few tables per month per report kind), so listing the runs by reading their ``run.json``
  costs milliseconds; nothing needs an index.

Tables are stored without their index (a non-default index is kept as columns); GeoDataFrames are stored with their
geometry as WKT text.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from cimlib._io import atomic_path
from cimlib.reports.labels import MODULE_HEADERS

__all__ = ["ResultsStore", "DEFAULT_ROOT", "LABELS"]

DEFAULT_ROOT = Path("reports") / "_store"
"""Default root folder (relative to the working directory, i.e. the repository root for ``cim report``)."""

LABELS = MODULE_HEADERS["store"]
"""Column -> Chinese label for :meth:`ResultsStore.runs` (headline columns keep their own names)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}\Z")
_PERIOD = re.compile(r"\d{4}-\d{2}(-\d{2})?\Z")
_RESERVED = ("run_id", "kind", "period", "created", "tables")
_MANIFEST = "run.json"


class ResultsStore:
    """An append-only store of report runs under a root folder (see the module docstring for the layout).

    Parameters
    ----------
    root : str or os.PathLike, optional
        Root folder; default :data:`DEFAULT_ROOT` (``reports/_store``). Created on the first append.

    Examples
    --------
    >>> store = ResultsStore(tmp)                                          # doctest: +SKIP
    >>> store.append("monthly-2024-06-a", "monthly", "2024-06", {"scores": scores}, {"score_mean": 61.2})
    >>> store.read("scores", kind="monthly", periods=["2024-05", "2024-06"])
    """

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else DEFAULT_ROOT

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.root)!r})"

    @property
    def _runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def _staging_dir(self) -> Path:
        return self.root / ".staging"

    # ------------------------------------------------------------------ writing

    def append(self, run_id: str, kind: str, period: str, tables: dict[str, pd.DataFrame],
               headline: dict | None = None) -> Path:
        """Add one run with its tables and headline numbers, atomically.

        Parameters
        ----------
        run_id : str
            Unique name of the run, e.g. ``monthly-2024-06-2024-10-05T08:30:00+08:00``. Any text: the run's folder
            is a file-system-safe form of it plus a short hash of it (``monthly-2024-06-2024-10-05T08_30_00_08_00-
            <sha1[:10]>``); ``run.json`` keeps it exactly.
        kind : str
            Report kind (``monthly``, ``acceptance``, ...).
        period : str
            ``YYYY-MM`` (or ``YYYY-MM-DD`` for reports as of a day). Periods of one kind should use one form: they
            are ordered as text.
        tables : dict of str to pandas.DataFrame
            Table name (letters, digits, ``_ . -``: it names the file) -> table.
        headline : dict, optional
            Headline numbers of the run (JSON-serialisable scalars; numpy scalars, dates and NaN are converted).
            Keys must not be ``run_id, kind, period, created, tables``.

        Returns
        -------
        pathlib.Path
            The run's folder.

        Raises
        ------
        ValueError
            Invalid names or period, a reserved headline key, a table that is not a DataFrame, or a ``run_id``
            already in the store.
        """
        for label, value in (("运行编号", run_id), ("报告类型", kind)):
            if not isinstance(value, str) or not value.strip() or any(ord(ch) < 32 for ch in value):
                raise ValueError(f"{label}应为非空文本（不含控制字符）：{value!r}")
        if not isinstance(period, str) or not _PERIOD.match(period):
            raise ValueError(f"统计期应为 YYYY-MM 或 YYYY-MM-DD：{period!r}")
        if not isinstance(tables, dict):
            raise ValueError("tables 应为 {表名: DataFrame}")
        for name, df in tables.items():
            if not isinstance(name, str) or not _NAME.match(name) or name == Path(_MANIFEST).stem:
                raise ValueError(f"表名只能由字母、数字和 _ . - 组成（且不能为 run）：{name!r}")
            if not isinstance(df, pd.DataFrame):
                raise ValueError(f"表 {name} 不是 DataFrame")
        headline = dict(headline or {})
        clash = [k for k in headline if k in _RESERVED]
        if clash:
            raise ValueError(f"摘要指标名与保留列冲突：{', '.join(clash)}")
        final = self._runs_dir / _folder_name(run_id)
        if final.exists():
            raise ValueError(f"运行编号已存在：{run_id}")

        self._staging_dir.mkdir(parents=True, exist_ok=True)
        self._runs_dir.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f"{final.name}.", dir=self._staging_dir))
        try:
            meta = {}
            for name, df in tables.items():
                frame = _storable(df)
                with atomic_path(stage / f"{name}.parquet") as tmp:
                    try:
                        frame.to_parquet(tmp, index=False)
                    except Exception as exc:
                        raise ValueError(f"表 {name} 无法写入 Parquet：{exc}") from exc
                meta[name] = {"file": f"{name}.parquet", "rows": int(len(frame)),
                              "columns": [str(c) for c in frame.columns]}
            manifest = {"run_id": run_id, "kind": kind, "period": period,
                        "created": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                        "created_ns": time.time_ns(), "headline": _jsonable(headline), "tables": meta}
            with atomic_path(stage / _MANIFEST) as tmp:
                tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8")
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes 0700; a run is an ordinary folder for its readers
            self._commit(stage, final)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return final

    @staticmethod
    def _commit(stage: Path, final: Path) -> None:
        """Make a staged run visible: one rename of its folder (atomic on one file system)."""
        try:
            os.rename(stage, final)
        except OSError as exc:  # another process committed the same run_id meanwhile
            if final.exists():
                raise ValueError(f"运行编号已存在（{final.name}）") from exc
            raise

    def clean(self, max_age_hours: float = 24.0) -> int:
        """Remove staging folders older than ``max_age_hours`` (left by processes killed mid-append).

        Parameters
        ----------
        max_age_hours : float, default 24
            Younger folders may belong to an append still running and are kept.

        Returns
        -------
        int
            Number of folders removed.
        """
        if not self._staging_dir.is_dir():
            return 0
        limit = time.time() - max_age_hours * 3600
        n = 0
        for p in self._staging_dir.iterdir():
            with contextlib.suppress(OSError):
                if p.stat().st_mtime < limit:
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
                    n += 1
        return n

    # ------------------------------------------------------------------ reading

    def _manifests(self) -> list[dict]:
        if not self._runs_dir.is_dir():
            return []
        out = []
        for d in sorted(self._runs_dir.iterdir()):
            f = d / _MANIFEST
            if not f.is_file():
                continue  # not a committed run
            try:
                m = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            m["_dir"] = d
            out.append(m)
        return out

    def runs(self, kind: str | None = None) -> pd.DataFrame:
        """Every committed run, oldest first.

        Parameters
        ----------
        kind : str, optional
            Only runs of this kind.

        Returns
        -------
        pandas.DataFrame
            ``run_id, kind, period, created`` (UTC timestamp), ``tables`` (comma-separated names), then one column
            per headline key (empty where a run has no such key). Sorted by kind, period, created.
        """
        rows = []
        for m in self._manifests():
            if kind is not None and m.get("kind") != kind:
                continue
            row = {"run_id": m["run_id"], "kind": m["kind"], "period": m["period"],
                   "created": pd.Timestamp(m["created"]), "tables": ",".join(m.get("tables", {})),
                   "_created_ns": m.get("created_ns", 0)}
            row.update(m.get("headline") or {})
            rows.append(row)
        if not rows:
            return pd.DataFrame({c: pd.Series(dtype="datetime64[us, UTC]" if c == "created" else object)
                                 for c in _RESERVED})
        df = pd.DataFrame(rows)
        df = df.sort_values(["kind", "period", "created", "_created_ns", "run_id"], kind="stable")
        return df.drop(columns="_created_ns").reset_index(drop=True)

    def _latest(self, manifests: list[dict]) -> list[dict]:
        best: dict = {}
        for m in manifests:
            key = (m["kind"], m["period"])
            order = (m["created"], m.get("created_ns", 0), m["run_id"])
            if key not in best or order > best[key][0]:
                best[key] = (order, m)
        return [v[1] for v in best.values()]

    def read(self, table: str, kind: str | None = None, periods=None, *, latest: bool = True,
             run_id: str | None = None) -> pd.DataFrame:
        """One table across runs, with the run's ``run_id, kind, period`` in front.

        Parameters
        ----------
        table : str
            Table name as appended.
        kind : str, optional
            Only runs of this kind.
        periods : str or list of str, optional
            Only these periods.
        latest : bool, default True
            Only the latest run of each ``(kind, period)`` (by creation time). The latest run is taken whether or
            not it has ``table``: a period whose latest run lacks the table contributes no rows (an older run's
            copy is not silently used). False: every run.
        run_id : str, optional
            Only this run.

        Returns
        -------
        pandas.DataFrame
            The rows of the selected runs' ``table`` (columns: the union over runs), sorted by kind, period and
            creation time; only ``run_id, kind, period`` when nothing matches. A table that has a column of its
            own called ``period`` (or ``kind``, ``run_id``; e.g. the metrics table, one row per month) keeps it, and
            the run's value is given as ``run_period`` (``run_kind``, ``run_run_id``) instead.
        """
        ms = self._manifests()
        if kind is not None:
            ms = [m for m in ms if m["kind"] == kind]
        if periods is not None:
            wanted = {periods} if isinstance(periods, str) else set(periods)
            ms = [m for m in ms if m["period"] in wanted]
        if latest:
            ms = self._latest(ms)
        if run_id is not None:
            ms = [m for m in ms if m["run_id"] == run_id]
        ms = [m for m in ms if table in m.get("tables", {})]
        ms.sort(key=lambda m: (m["kind"], m["period"], m["created"], m.get("created_ns", 0), m["run_id"]))
        parts = []
        for m in ms:
            df = pd.read_parquet(m["_dir"] / m["tables"][table]["file"])
            for col in ("period", "kind", "run_id"):
                df.insert(0, col if col not in df else f"run_{col}", m[col])
            parts.append(df)
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ("run_id", "kind", "period")})
        parts = [p for p in parts if len(p)] or parts[:1]
        out = pd.concat(parts, ignore_index=True)
        front = [c for c in ("run_id", "run_run_id", "kind", "run_kind", "period", "run_period") if c in out]
        return out[front + [c for c in out.columns if c not in front]]

    def previous_period(self, kind: str, period: str) -> str | None:
        """The latest period before ``period`` with a run of ``kind`` (None if there is none).

        Parameters
        ----------
        kind : str
        period : str
            ``YYYY-MM`` (or ``YYYY-MM-DD``); compared as text with the stored periods of that kind.

        Returns
        -------
        str or None
        """
        earlier = [m["period"] for m in self._manifests() if m["kind"] == kind and m["period"] < period]
        return max(earlier) if earlier else None

    def latest_run(self, kind: str, period: str) -> str | None:
        """The ``run_id`` of the latest run of ``(kind, period)``, or None."""
        ms = self._latest([m for m in self._manifests() if m["kind"] == kind and m["period"] == period])
        return ms[0]["run_id"] if ms else None


def _folder_name(run_id: str) -> str:
    """A file-system-safe, unique folder name for a run id (Windows-safe too: no ``: + / \\``)."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", run_id).strip("._")[:80] or "run"
    return f"{safe}-{hashlib.sha1(run_id.encode('utf-8')).hexdigest()[:10]}"


def _storable(df: pd.DataFrame) -> pd.DataFrame:
    """A plain DataFrame that Parquet stores faithfully: geometry as WKT, a non-default index as columns."""
    out = df
    if not isinstance(out.index, pd.RangeIndex) or out.index.start != 0 or out.index.step != 1:
        out = out.reset_index(drop=isinstance(out.index, pd.RangeIndex))
    geo_cols = [c for c in out.columns if str(getattr(out[c], "dtype", "")) == "geometry"]
    if geo_cols:
        out = pd.DataFrame({c: (out[c].to_wkt() if c in geo_cols else out[c]) for c in out.columns})
    elif type(out) is not pd.DataFrame:
        out = pd.DataFrame(out)
    out.columns = [str(c) for c in out.columns]
    return out


def _jsonable(value):
    """Headline values as JSON: numpy scalars to Python, dates to ISO text, NaN/NA to None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
