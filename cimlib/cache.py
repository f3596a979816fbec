"""The record cache: each register record's rule results, computed once per distinct record content.

Most records of a monthly register snapshot are unchanged from the month before. The checks key every record by a
128-bit hash of its whole content (every field, the geometry as WKB) and keep, per key, which record-level rules it
fails; a record seen before, in any snapshot file and by any run (``cim check``, ``cim metrics``, ``cim report``),
is not checked again. Only the rules that judge a record by itself and by fixed reference layers are cached
(``per_record`` rules and the pandera column rules); rules over the whole set (duplicates, links between registers,
the address tree) run on every snapshot.

A store is keyed by the rule set's version (a fingerprint of the package's code and rules) and by the context the
records were checked in: the schema, the id column, the field names and types, the CRS, and the content of every
reference layer the cached rules read (行政区划, 建筑白模). Anything else gives a new store: a stale result is never
reused.

The cache lives in ``$CIM_CACHE`` (default ``$XDG_CACHE_HOME/cim-workbench`` or ``~/.cache/cim-workbench``), never
beside the inputs. It holds hashes and rule ids only, no field values (nothing personal). Deleting it is always
safe. ``CIM_NO_CACHE=1`` (``--no-cache`` on the command line) bypasses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import weakref
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["RecordCache", "cache_root", "default_cache", "frame_digest", "record_hashes"]

_FORMAT = "records-v1"
_SEP_TOKEN = "\x1e"
_MAX_SEGMENTS = 12
_KEY2 = "cim-workbench-k2"


def cache_root() -> Path:
    """Where the record cache lives: ``$CIM_CACHE``, else the user's cache folder (``cim-workbench``)."""
    env = os.environ.get("CIM_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cim-workbench"


def cache_disabled() -> bool:
    """Whether ``CIM_NO_CACHE`` asks to bypass the cache (``--no-cache``)."""
    return os.environ.get("CIM_NO_CACHE", "").strip().lower() not in ("", "0", "false", "no")


_CACHES: dict[Path, "RecordCache"] = {}


def default_cache() -> "RecordCache | None":
    """The process's record cache at :func:`cache_root` (one per folder, shared by every run of the process), or
    None when ``CIM_NO_CACHE`` is set."""
    if cache_disabled():
        return None
    root = cache_root()
    if root not in _CACHES:
        _CACHES[root] = RecordCache(root)
    return _CACHES[root]


def _arrow_column(s: pd.Series):
    """One column as an Arrow array DuckDB can hash: geometry as WKB, an object column of mixed Python types as
    ``type name + value`` text (so that 1 and "1" stay different contents)."""
    import pyarrow as pa

    if isinstance(s.dtype, pd.api.extensions.ExtensionDtype) and s.dtype.name == "geometry":
        import shapely

        return pa.array(shapely.to_wkb(s.to_numpy()), type=pa.binary(), from_pandas=True)   # None stays None; Z kept
    if s.dtype != object:
        try:
            return pa.array(s, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            pass
    values = s.to_numpy(dtype=object)
    texts = [None if v is None or (isinstance(v, float) and v != v) else f"{type(v).__name__}\x1f{v!r}"
             for v in values]
    return pa.array(texts, type=pa.string())


def record_hashes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Two 64-bit hashes of every record's whole content (all fields in order, geometry as WKB), by DuckDB.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``h1, h2`` (uint64), one per record; equal records have equal hashes. ``h1`` hashes the fields in order,
        ``h2`` in reverse order with a salt: a record is identified by both.
    """
    import duckdb
    import pyarrow as pa

    n = len(frame)
    if n == 0 or len(frame.columns) == 0:
        return np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.uint64)
    names = [f"c{k}" for k in range(len(frame.columns))]
    table = pa.table({name: _arrow_column(frame.iloc[:, k]) for k, name in enumerate(names)})
    cols = [f'"{c}"' for c in names]
    con = duckdb.connect()
    try:
        con.register("records", table)
        out = con.sql(f"SELECT hash({', '.join(cols)}) AS h1, hash('{_KEY2}', {', '.join(reversed(cols))}) AS h2 "
                      "FROM records").to_arrow_table()
    finally:
        con.close()
    return (out.column("h1").to_numpy().astype(np.uint64, copy=False),
            out.column("h2").to_numpy().astype(np.uint64, copy=False))


_DIGESTS: dict[int, tuple] = {}


def frame_digest(frame) -> str:
    """sha256 of a whole table's content (column names, types, CRS and every record), memoised per object.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame

    Returns
    -------
    str
    """
    key = id(frame)
    hit = _DIGESTS.get(key)
    if hit is not None and hit[0]() is frame:
        return hit[1]
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(frame[c].dtype)] for c in frame.columns]).encode())
    crs = getattr(frame, "crs", None) if hasattr(frame, "geometry") else None
    h.update(str(crs.to_wkt() if crs is not None else None).encode())
    h1, h2 = record_hashes(frame)
    h.update(h1.tobytes())
    h.update(h2.tobytes())
    digest = h.hexdigest()
    try:
        _DIGESTS[key] = (weakref.ref(frame), digest)
    except TypeError:  # not weakly referenceable: not memoised
        pass
    for k in [k for k, v in _DIGESTS.items() if v[0]() is None]:    # tables that are gone
        del _DIGESTS[k]
    return digest


class _Store:
    """The records of one context: hashes seen and each one's failure tokens (segments of Parquet files)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.h1 = np.zeros(0, dtype=np.uint64)
        self.h2 = np.zeros(0, dtype=np.uint64)
        self.fails = np.zeros(0, dtype=object)
        self._index: pd.Index | None = None
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        import pyarrow.parquet as pq

        self._loaded = True
        parts = []
        for f in sorted(self.folder.glob("seg-*.parquet")) if self.folder.is_dir() else []:
            try:
                parts.append(pq.read_table(f))
            except (OSError, ValueError):  # removed by a concurrent compaction, or a torn file: only misses
                continue
        if parts:
            import pyarrow as pa

            t = pa.concat_tables(parts)
            self._set(t.column("h1").to_numpy(), t.column("h2").to_numpy(),
                      t.column("fails").to_numpy(zero_copy_only=False).astype(object))
        if len(parts) > _MAX_SEGMENTS:
            self._compact()

    def _set(self, h1, h2, fails) -> None:
        keep = ~pd.Index(h1).duplicated()  # the first record of a 64-bit key answers (h2 guards the rest)
        self.h1, self.h2, self.fails = h1[keep], h2[keep], fails[keep]
        self._index = None

    def lookup(self, h1: np.ndarray, h2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position of each record in the store (-1 when unseen) and its failure tokens (``""``: passes all)."""
        self._load()
        if not len(self.h1):
            return np.full(len(h1), -1, dtype=np.int64), np.zeros(len(h1), dtype=object)
        if self._index is None:
            self._index = pd.Index(self.h1)
        pos = self._index.get_indexer(h1).astype(np.int64)
        found = pos >= 0
        found[found] = self.h2[pos[found]] == h2[found]
        pos[~found] = -1
        fails = np.where(found, self.fails[np.maximum(pos, 0)], None)
        return pos, fails

    def add(self, h1: np.ndarray, h2: np.ndarray, fails: np.ndarray) -> None:
        """Record new contents (a new segment file, written atomically; a cache folder that cannot be written only
        means the contents are kept in memory for this process)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from cimlib._io import atomic_path

        self._load()
        if not len(h1):
            return
        table = pa.table({"h1": pa.array(h1, pa.uint64()), "h2": pa.array(h2, pa.uint64()),
                          "fails": pa.array(fails.astype(str), pa.string())})
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.folder / f"seg-{uuid.uuid4().hex}.parquet") as tmp:
                pq.write_table(table, tmp, compression="zstd")
        except OSError as exc:
            import warnings

            warnings.warn(f"记录缓存无法写入 {self.folder}：{exc}（本次运行不受影响）", stacklevel=2)
        self._set(np.concatenate([self.h1, h1]), np.concatenate([self.h2, h2]),
                  np.concatenate([self.fails, fails.astype(object)]))

    def _compact(self) -> None:
        """Merge the segments into one (written before the old ones are removed: a reader never sees less)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from cimlib._io import atomic_path

        old = sorted(self.folder.glob("seg-*.parquet"))
        table = pa.table({"h1": pa.array(self.h1, pa.uint64()), "h2": pa.array(self.h2, pa.uint64()),
                          "fails": pa.array(self.fails.astype(str), pa.string())})
        try:
            with atomic_path(self.folder / f"seg-{uuid.uuid4().hex}.parquet") as tmp:
                pq.write_table(table, tmp, compression="zstd")
            for f in old:
                f.unlink(missing_ok=True)
        except OSError:  # a read-only or full cache folder: keep working from memory
            pass


class RecordCache:
    """Record-level rule results on disk, keyed by the rule set's version and the checking context.

    Parameters
    ----------
    root : path
        The cache folder (:func:`cache_root`).
    version : str, optional
        The rule set's version; default the fingerprint of the installed ``cimlib`` and ``standards_checks``
        (:func:`cimlib.reuse.code_fingerprint`), so any change of code or rules starts afresh.
    """

    def __init__(self, root, version: str | None = None):
        self.root = Path(root)
        self._version = version
        self._stores: dict[str, _Store] = {}
        self.hits = 0
        self.misses = 0

    @property
    def version(self) -> str:
        if self._version is None:
            import duckdb

            from cimlib.reuse import code_fingerprint

            self._version = hashlib.sha256(f"{code_fingerprint()}:{duckdb.__version__}".encode()).hexdigest()[:16]
        return self._version

    def store(self, context: dict) -> _Store:
        """The store of one checking context (a JSON-able description; its sha256 names the folder)."""
        key = hashlib.sha256(json.dumps(context, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
        if key not in self._stores:
            self._stores[key] = _Store(self.root / _FORMAT / self.version / key)
        return self._stores[key]


def encode_tokens(tokens) -> str:
    """One record's failure tokens as stored (``""``: the record passes every cached rule)."""
    return _SEP_TOKEN.join(tokens)


def decode_tokens(texts) -> tuple[np.ndarray, np.ndarray]:
    """The failure tokens of stored records (non-empty texts): for every token, the position of its record in
    ``texts``, and the token."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = pc.split_pattern(pa.array(np.asarray(texts, dtype=object), type=pa.string()), _SEP_TOKEN)
    return (pc.list_parent_indices(lists).to_numpy().astype(np.int64),
            pc.list_flatten(lists).to_numpy(zero_copy_only=False))
