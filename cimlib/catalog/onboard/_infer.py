"""Which schema each delivered dataset is, and which source column holds each of its fields.

For every dataset and every candidate schema, each (source column, field) pair is scored from the column name
(:func:`.fields.name_score`) and from the values (:func:`._values.value_fit`); the columns are then assigned to the
fields by a global best assignment (Hungarian method: one source per field, one field per source, required fields
weighted first). The schema is the one whose assignment, file/sheet/folder names and geometry fit best. A second
pass links columns across files (a houses column shaped like the buildings' identifiers is ``building_id``).
Every choice keeps its evidence and a confidence; nothing is decided without saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._discover import Skipped, Source, crs_text, distinct_values, guess_crs
from ._values import ColumnProfile, FitContext, infer_city, profile_frame, value_fit, vocabularies
from .fields import FieldNames, FieldSpec, SchemaSpec, is_system_column, load_field_names, name_score, normalize_name

__all__ = ["FieldChoice", "ScaffoldEntry", "Scaffold", "infer", "assign", "confidence_label", "ACCEPT", "CONFIRM"]

#: A (column, field) pair below this score is never assigned.
ACCEPT = 0.45
#: Choices below this score are marked 待确认 in the catalog.
CONFIRM = 0.6
#: A schema whose total score is below this is not proposed (the file is listed as unrecognised).
RECOGNISE = 0.35
_REQUIRED_WEIGHT = 1.15


def confidence_label(score: float) -> str:
    """``高`` (>= 0.75), ``中`` (>= :data:`CONFIRM`) or ``低``."""
    return "高" if score >= 0.75 else "中" if score >= CONFIRM else "低"


@dataclass
class FieldChoice:
    """A source column assigned to a schema field, with the evidence.

    Attributes
    ----------
    field : str
        Schema field.
    source : str
        Source column.
    score : float
        Combined confidence 0..1.
    name_score, value_score : float
        Name evidence (0..1) and value evidence (-1..1).
    required : bool
        The field is required by the schema.
    evidence : list of str
        Chinese notes.
    """

    field: str
    source: str
    score: float
    name_score: float
    value_score: float
    required: bool
    evidence: list[str] = field(default_factory=list)

    @property
    def to_confirm(self) -> bool:
        """Whether the analyst must confirm the choice."""
        return self.score < CONFIRM


@dataclass
class ScaffoldEntry:
    """One proposed catalog entry and how it was inferred.

    Attributes
    ----------
    source : Source
        The dataset.
    name : str
        Entry name (the schema, ``_2`` for a second dataset of it).
    schema : str
        Proposed schema.
    score : float
        Schema confidence 0..1.
    schema_evidence : list of str
        Why this schema (Chinese).
    alternatives : list of (str, float)
        Next-best schemas with their scores.
    choices : list of FieldChoice
        Mapped fields, in field-table order.
    id_column : str or None
        ``id_column`` of the entry (a schema field, or a source column when it maps to no field).
    values : dict
        Coded values per field (source value as text -> value).
    value_notes : dict of str to str
        Why each value map (Chinese), keyed by field.
    options : dict
        Reader options.
    crs : str or None
        Declared CRS.
    crs_note : str
        How the CRS was found (Chinese), empty when read from the file.
    crs_confirm : bool
        The CRS was guessed.
    unmapped_required : list of str
        Required fields with no source column.
    unmapped_columns : list of str
        Source columns mapped to no field.
    title_zh, layer, owner, classification, update_cycle : str
        Entry metadata.
    owner_guessed : bool
        The owner is the schema's default department, not the delivery folder's name.
    notes : list of str
        Other remarks (Chinese).
    """

    source: Source
    name: str
    schema: str
    score: float
    schema_evidence: list[str]
    alternatives: list[tuple[str, float]]
    choices: list[FieldChoice]
    id_column: str | None
    values: dict[str, dict[str, Any]]
    value_notes: dict[str, str]
    options: dict[str, Any]
    crs: str | None
    crs_note: str
    crs_confirm: bool
    unmapped_required: list[str]
    unmapped_columns: list[str]
    title_zh: str
    layer: str
    owner: str
    owner_guessed: bool
    classification: str
    update_cycle: str
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> dict[str, str]:
        """The ``columns:`` mapping, source -> field, of every mapped column (in field-table order)."""
        return {c.source: c.field for c in self.choices}

    @property
    def to_confirm(self) -> int:
        """Number of choices of this entry marked 待确认 (schema, fields, value maps, CRS, id column)."""
        n = sum(c.to_confirm for c in self.choices) + (self.score < CONFIRM) + self.crs_confirm
        n += sum("待确认" in note for note in self.notes)
        return n + sum("待确认" in note for note in self.value_notes.values())


@dataclass
class Scaffold:
    """A catalog proposed for a delivery folder (:func:`cimlib.catalog.onboard.scaffold_catalog`).

    Attributes
    ----------
    folder : pathlib.Path
        The delivery folder.
    city : str or None
        Six-digit county-level code of the delivery.
    city_note : str
        Where the code comes from (Chinese).
    entries : list of ScaffoldEntry
        Proposed entries.
    unrecognised : list of (Source, list of (str, float))
        Datasets no schema fits, with the best candidates.
    skipped : list of Skipped
        Files left out, with the reason.
    """

    folder: Path
    city: str | None
    city_note: str
    entries: list[ScaffoldEntry]
    unrecognised: list[tuple[Source, list[tuple[str, float]]]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def to_yaml(self, base: str | Path | None = None) -> str:
        """The catalog as YAML text, with a comment per entry on what was inferred and from what.

        Parameters
        ----------
        base : str or pathlib.Path, optional
            Folder the catalog file will live in: paths are written relative to it (absolute when on another
            drive). Default: absolute paths.

        Returns
        -------
        str
        """
        from ._write import scaffold_yaml

        return scaffold_yaml(self, base)

    def table(self):
        """One row per dataset: file, schema, mapped fields, unmapped required fields (Chinese headers).

        Returns
        -------
        pandas.DataFrame
        """
        from ._write import scaffold_table

        return scaffold_table(self)

    def __getitem__(self, name: str) -> ScaffoldEntry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)


# --------------------------------------------------------------------------------------------- assignment


def assign(weights: np.ndarray) -> list[tuple[int, int]]:
    """Best assignment of rows to columns maximising the total weight (Hungarian method, O(n³)).

    Parameters
    ----------
    weights : numpy.ndarray
        ``(rows, columns)`` non-negative weights; 0 means "not allowed".

    Returns
    -------
    list of (int, int)
        ``(row, column)`` pairs with positive weight, each row and column used at most once.
    """
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return []
    n = max(w.shape)
    cost = np.zeros((n, n))
    cost[: w.shape[0], : w.shape[1]] = -w
    u, v = np.zeros(n + 1), np.zeros(n + 1)
    p = np.zeros(n + 1, dtype=np.int64)
    way = np.zeros(n + 1, dtype=np.int64)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(n + 1, np.inf)
        used = np.zeros(n + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            cur = cost[i0 - 1] - u[i0] - v[1:]
            free = ~used[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            cols = np.flatnonzero(used)
            u[p[cols]] += delta
            v[cols] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    pairs = [(int(p[j]) - 1, j - 1) for j in range(1, n + 1) if p[j] != 0]
    return sorted((r, c) for r, c in pairs if r < w.shape[0] and c < w.shape[1] and w[r, c] > 0)


# --------------------------------------------------------------------------------------------- scoring


@dataclass
class _Candidate:
    schema: str
    total: float
    req_score: float
    choices: list[FieldChoice]
    evidence: list[str]
    geometry_ok: bool


_FORMAT_KINDS = frozenset({"ric", "uscc", "bdcdyh", "house_code", "beidou", "phone", "street", "community", "county",
                           "division", "code_digits"})


def _pair(p: ColumnProfile, spec: FieldSpec, ctx: FitContext, table: FieldNames) -> tuple[float, list[str], float, float]:
    """Score of one (column, field) pair with its evidence."""
    match = name_score(p.name, spec)
    v, specific, note = value_fit(p, spec.kind, ctx, spec.range)
    n = match.score
    if v <= -0.5:
        # the values contradict the field: an exact name keeps a code field (to be confirmed) when the values are
        # codes that fail their format (defects, another code version), never when they are another kind of thing
        codes = p.share("idlike") >= 0.8 or p.share("digits") >= 0.5
        score = 0.55 * n if n >= 0.9 and spec.kind in _FORMAT_KINDS and codes else 0.15 * n
    else:
        score = n * (0.8 + 0.2 * v)
        if specific and v > 0:
            score = max(score, 0.72 * v) + 0.15 * min(n, v)
    if is_system_column(p.name, table):
        score *= 0.3
    evidence = []
    if match.score > 0:
        evidence.append(f"字段名“{p.name}”{match.how}" + (f"（对照表：{match.synonym}）" if match.how != "同名" else ""))
    if note:
        evidence.append(note)
    return min(score, 1.0), evidence, n, v


def _context_score(spec: SchemaSpec, parts: list[str], n_folders: int) -> tuple[float, str]:
    """How strongly file, sheet, layer, title and folder names point at a schema."""
    best, why = 0.0, ""
    for i, part in enumerate(parts):
        text = normalize_name(part)
        tokens = set(re.split(r"[^0-9a-z\u3400-\u9fff]+", text)) | set(re.findall(r"[a-z]+", text))
        factor = 0.7 if i < n_folders else 1.0
        for keyword, weight in spec.keywords.items():
            kw = normalize_name(keyword)
            hit = kw in tokens if re.fullmatch(r"[a-z0-9_]+", kw) else kw in text
            if hit and weight * factor > best:
                best, why = weight * factor, f"{'文件夹' if i < n_folders else '名称'}“{part}”含“{keyword}”"
    return best, why


def _geometry_fit(spec: SchemaSpec, source: Source, has_xy: bool) -> tuple[float, str, bool]:
    """Evidence from the geometry type: (score, Chinese note, geometry available for the schema)."""
    gtype = source.geometry_type
    if spec.geometry == "none":
        if gtype in ("Polygon", "LineString"):
            return -0.4, f"图层为{_GEOM_ZH.get(gtype, gtype)}，该数据集没有几何", True
        return (0.05, "", True) if gtype is None and not has_xy else (-0.05, "", True)
    wanted = spec.geometry_types
    if gtype == "Raster":
        return -1.0, "栅格数据", False
    if gtype is not None:
        if gtype in wanted:
            return 0.2, f"几何类型为{_GEOM_ZH.get(gtype, gtype)}", True
        return -0.5, f"几何类型为{_GEOM_ZH.get(gtype, gtype)}，应为{'/'.join(_GEOM_ZH.get(t, t) for t in wanted)}", False
    if has_xy:
        return (0.15, "有经纬度（坐标）列", True) if "Point" in wanted else (-0.4, "只有点坐标列", False)
    if spec.geometry == "required":
        return -0.6, "没有几何（非空间表格）", False
    return -0.05, "没有坐标", True


_GEOM_ZH = {"Polygon": "面", "LineString": "线", "Point": "点", "Raster": "栅格"}


def _xy_columns(profiles: dict[str, ColumnProfile]) -> tuple[str, str, str] | None:
    """Coordinate columns of a table: (x column, y column, kind) with kind ``lonlat`` or ``projected``."""
    lon = [p for p in profiles.values() if p.share("lon") >= 0.9 and p.nonnull_share >= 0.5]
    lat = [p for p in profiles.values() if p.share("lat") >= 0.9 and p.nonnull_share >= 0.5]
    if lon and lat:
        pick = lambda ps, words: max(ps, key=lambda p: (any(w in normalize_name(p.name) for w in words), -len(p.name)))
        return pick(lon, ("经度", "lon", "lng", "jd", "x")).name, pick(lat, ("纬度", "lat", "wd", "y")).name, "lonlat"
    def coordinate(p: ColumnProfile) -> bool:  # metres that vary, not a code column
        return (p.share("numeric") >= 0.9 and p.share("division_like") < 0.5 and p.unique_ratio >= 0.05
                and p.nonnull_share >= 0.5 and float(np.nanstd(p.numeric)) > 1.0)

    east = [p for p in profiles.values() if (p.share("easting_zone") >= 0.9 or p.share("easting") >= 0.9)
            and coordinate(p)]
    north = [p for p in profiles.values() if p.share("northing") >= 0.9 and coordinate(p)
             and np.nanmedian(p.numeric) >= 2_000_000]
    east = [p for p in east if p not in north]
    if east and north:
        return east[0].name, north[0].name, "projected"
    return None


def _score_schema(spec: SchemaSpec, source: Source, profiles: dict[str, ColumnProfile], ctx: FitContext,
                  table: FieldNames, root: Path, has_xy: bool) -> _Candidate:
    fields = list(spec.fields.values())
    cols = list(profiles.values())
    scores = np.zeros((len(fields), len(cols)))
    notes: dict[tuple[int, int], tuple[list[str], float, float]] = {}
    for i, f in enumerate(fields):
        for j, p in enumerate(cols):
            s, ev, n, v = _pair(p, f, ctx, table)
            scores[i, j] = s
            notes[(i, j)] = (ev, n, v)
    weights = np.where(scores >= ACCEPT, scores, 0.0)
    weights *= np.array([_REQUIRED_WEIGHT if f.required else 1.0 for f in fields])[:, None]
    choices = []
    for i, j in assign(weights):
        f, p = fields[i], cols[j]
        ev, n, v = notes[(i, j)]
        choices.append(FieldChoice(field=f.name, source=p.name, score=round(float(scores[i, j]), 3), name_score=n,
                                   value_score=v, required=f.required, evidence=ev))
    order = {f.name: k for k, f in enumerate(fields)}
    choices.sort(key=lambda c: order[c.field])
    required = spec.required
    got = {c.field: c.score for c in choices}
    req_score = sum(got.get(f, 0.0) for f in required) / len(required) if required else 0.5
    opt_score = sum(s for f, s in got.items() if f not in required)
    kw, kw_why = _context_score(spec, source.context(root), len(source.context(root)) - 1 - bool(source.layer)
                                - bool(source.title))
    geo, geo_why, geometry_ok = _geometry_fit(spec, source, has_xy)
    total = 0.55 * req_score + 0.08 * min(opt_score, 4.0) + 0.25 * kw + geo
    evidence = []
    if kw_why:
        evidence.append(kw_why)
    if geo_why:
        evidence.append(geo_why)
    strong = [c for c in choices if c.score >= 0.75]
    if required:
        evidence.append(f"必填字段对上 {sum(f in got for f in required)}/{len(required)} 个")
    if strong:
        evidence.append("有力证据：" + "；".join(f"{c.source}→{c.field}" for c in strong[:4]))
    return _Candidate(spec.name, round(float(total), 3), req_score, choices, evidence, geometry_ok)


# --------------------------------------------------------------------------------------------- the whole delivery


def infer(sources: list[Source], *, root: Path, city: str | None = None, table: FieldNames | None = None,
          skipped: list[Skipped] | None = None) -> Scaffold:
    """Propose a catalog entry for every dataset found.

    Parameters
    ----------
    sources : list of Source
        Datasets found by :func:`._discover.discover`.
    root : pathlib.Path
        Delivery folder.
    city : str, optional
        Six-digit county-level code; inferred from the division codes in the data when not given.
    table : FieldNames, optional
        Field-name table (default: the packaged one).
    skipped : list of Skipped, optional
        Files already left out by discovery (carried into the result).

    Returns
    -------
    Scaffold
    """
    table = table or load_field_names()
    vocab = vocabularies(table.vocabularies)
    profiles = [profile_frame(s.sample) if len(s.sample.columns) else {} for s in sources]
    if city:
        city_note = "由 --city 指定"
    else:
        city, support = infer_city(profiles)
        city_note = (f"由数据中的区划代码推断（{support} 个街道/社区/区县代码落在其下）" if city
                     else "数据中没有可识别的区划代码，请用 --city 指定")
    ctx = FitContext(city=city, vocab=vocab)
    xy = [_xy_columns(p) if s.geometry_type is None else None for s, p in zip(sources, profiles)]

    def run() -> list[list[_Candidate]]:
        out = []
        for s, p, has in zip(sources, profiles, xy):
            if s.format == "geotiff":
                out.append([])
                continue
            cands = [_score_schema(spec, s, p, ctx, table, root, has is not None) for spec in table.schemas.values()]
            out.append(sorted(cands, key=lambda c: -c.total))
        return out

    def complete(ranked: list[list[_Candidate]]) -> None:
        for p, cands in zip(profiles, ranked):
            if cands and cands[0].total >= RECOGNISE:
                _complete_required(cands[0], table.schemas[cands[0].schema], p, ctx, table)

    ranked = run()
    complete(ranked)
    ctx.refs = _links(sources, profiles, ranked, table)
    ranked = run()  # second pass: columns linked to other files' identifiers
    complete(ranked)

    entries: list[ScaffoldEntry] = []
    unrecognised: list[tuple[Source, list[tuple[str, float]]]] = []
    for s, p, cands, has in zip(sources, profiles, ranked, xy):
        if s.format == "geotiff":
            entry = _raster_entry(s, root, table)
            if entry is None:
                unrecognised.append((s, []))
            else:
                entries.append(entry)
            continue
        if not cands or cands[0].total < RECOGNISE:
            unrecognised.append((s, [(c.schema, c.total) for c in cands[:3]]))
            continue
        entries.append(_entry(s, p, cands, has, table.schemas[cands[0].schema], table, ctx, root))
    _name_entries(entries)
    return Scaffold(folder=root, city=city, city_note=city_note, entries=entries, unrecognised=unrecognised,
                    skipped=list(skipped or []))


def _complete_required(cand: _Candidate, spec: SchemaSpec, p: dict[str, ColumnProfile], ctx: FitContext,
                       table: FieldNames) -> None:
    """Second chance for required fields no column name matched: a free column whose values fit the field well.

    Such a choice rests on the values alone and is always marked 待确认.
    """
    got = {c.field for c in cand.choices}
    used = {c.source for c in cand.choices}
    for fname in spec.required:
        if fname in got or fname == spec.id_field:
            continue
        f = spec.fields[fname]
        best, best_v, best_note = None, 0.5, ""
        for name, prof in p.items():
            if name in used or is_system_column(name, table):
                continue
            v, _, note = value_fit(prof, f.kind, ctx, f.range)
            if v >= best_v and (best is None or v > best_v):
                best, best_v, best_note = name, v, note
        if best is not None:
            cand.choices.append(FieldChoice(fname, best, 0.46, 0.0, best_v, True,
                                            [f"字段名不在对照表中，仅凭取值推断：{best_note or '取值相符'}"]))
            used.add(best)
            got.add(fname)
    order = {f: k for k, f in enumerate(spec.fields)}
    cand.choices.sort(key=lambda c: order[c.field])


def _links(sources, profiles, ranked, table: FieldNames) -> dict[tuple[str, str], tuple[str, str, str, frozenset]]:
    """Shapes and sample values of the columns assigned in the first pass, by (schema, field), for ``ref:`` kinds.

    Only fields that some ``ref:`` kind points at are kept; the shape keeps literal letters when they are constant
    (``421303A...`` and ``421303H...`` are different things), else digits and letters are generalised.
    """
    targets = {tuple(f.kind[4:].split(".", 1)) for s in table.schemas.values() for f in s.fields.values()
               if f.kind.startswith("ref:")}
    refs: dict[tuple[str, str], tuple[str, str, frozenset]] = {}
    for s, p, cands in zip(sources, profiles, ranked):
        if not cands or cands[0].total < RECOGNISE:
            continue
        best = cands[0]
        for c in best.choices:
            key = (best.schema, c.field)
            if key not in targets or key in refs or c.score < ACCEPT:
                continue
            prof = p[c.source]
            lit = prof.lit_shape if prof.lit_share >= 0.8 and re.search("[A-Za-z]", prof.lit_shape) else ""
            refs[key] = (lit, prof.shape, prof.shape_collapsed, frozenset(prof.uniques.tolist()))
    return refs


def _entry(s: Source, p: dict[str, ColumnProfile], cands: list[_Candidate], has_xy, spec: SchemaSpec,
           table: FieldNames, ctx: FitContext, root: Path) -> ScaffoldEntry:
    best = cands[0]
    second = cands[1].total if len(cands) > 1 else 0.0
    score = round(min(1.0, max(0.0, best.total)) * (0.7 + 0.3 * min(1.0, (best.total - second) / 0.3)), 3)
    choices = [c for c in best.choices]
    notes: list[str] = list(s.notes)
    options = dict(s.options)
    # -- the record identifier
    id_column, id_note = _id_column(spec, choices, p)
    if id_note:
        notes.append(id_note)
    # -- geometry
    crs, crs_note, crs_confirm = None, "", False
    from ..readers import READERS

    reader = READERS.get(s.format)
    if s.geometry_type is not None and s.format != "geotiff":
        crs, crs_note = crs_text(s.crs)
        if crs is None:
            if s.bounds:
                crs, crs_note = guess_crs(np.array([s.bounds[0], s.bounds[2]]), np.array([s.bounds[1], s.bounds[3]]),
                                          ctx.city)
            crs_confirm = True
            crs = crs or "EPSG:4490"
            crs_note = "文件没有坐标系信息；" + (crs_note or "按 EPSG:4490 暂填")
    elif has_xy is not None and spec.geometry != "none" and reader is not None and "x" in reader.options:
        xcol, ycol, kind = has_xy
        options["x"], options["y"] = xcol, ycol
        import pandas as pd

        px = pd.to_numeric(s.sample[xcol], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        py = pd.to_numeric(s.sample[ycol], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        crs, crs_note = guess_crs(px, py, ctx.city)
        crs_confirm = crs is None or kind == "projected"
        crs = crs or "EPSG:4490"
        notes.append(f"由坐标列 {xcol}/{ycol} 生成点几何（options.x/y）")
        mapped = {c.source for c in choices}
        for col, fname in ((xcol, "lon"), (ycol, "lat")):
            if fname in spec.fields and col not in mapped and fname not in {c.field for c in choices} and kind == "lonlat":
                choices.append(FieldChoice(fname, col, 0.8, 0.0, 1.0, spec.fields[fname].required,
                                           [f"值为{'经度' if fname == 'lon' else '纬度'}"]))
    # -- value maps
    values, value_notes = _value_maps(spec, choices, p, table, ctx, s)
    # -- columns to read as text (codes keep leading zeros and their letters)
    if reader is not None and "dtype" in reader.options:
        text_cols = _text_columns(s, spec, choices, p, values, id_column)
        if text_cols:
            options["dtype"] = text_cols
    # -- what could not be mapped
    got = {c.field for c in choices}
    unmapped_required = [f for f in spec.required if f not in got]
    if spec.geometry == "required" and crs is None:
        unmapped_required.append("geometry")
    mapped_sources = {c.source for c in choices}
    unmapped_columns = [c for c in s.columns if c not in mapped_sources and c != id_column]
    owner, guessed = _owner(s, root, spec)
    title = _title(s, spec)
    evidence = list(best.evidence)
    if s.period:
        notes.append(f"数据期次 {s.period}")
    return ScaffoldEntry(
        source=s, name=spec.name, schema=spec.name, score=score, schema_evidence=evidence,
        alternatives=[(c.schema, c.total) for c in cands[1:3]], choices=choices, id_column=id_column, values=values,
        value_notes=value_notes, options=options, crs=crs, crs_note=crs_note, crs_confirm=crs_confirm,
        unmapped_required=unmapped_required, unmapped_columns=unmapped_columns, title_zh=title, layer=spec.layer,
        owner=owner, owner_guessed=guessed, classification=spec.classification, update_cycle=spec.update_cycle,
        notes=notes)


_CODE_KINDS = frozenset({"id", "ric", "uscc", "bdcdyh", "house_code", "beidou", "phone", "street", "community", "county",
                         "division", "code_digits", "short_code", "door_plate", "vocab:element_type"})


def _text_columns(s: Source, spec: SchemaSpec, choices: list[FieldChoice], p: dict[str, ColumnProfile],
                  values: dict, id_column: str | None) -> list[str]:
    """Source columns the reader must read as text (``options.dtype``): identifiers, codes and coded values.

    Text formats (CSV, Excel) guess types from the values, so a code of digits becomes a number (leading zeros
    and a trailing ``X`` lost, an 18-digit ID rounded); typed formats only need it where a code field is numeric.
    """
    text_format = s.format in ("csv", "xlsx")
    out = []
    for c in choices:
        kind = spec.fields[c.field].kind
        coded = kind in _CODE_KINDS or kind.startswith("ref:") or c.field in values or c.field == id_column
        coded = coded or (text_format and str(spec.fields[c.field].dtype).startswith(("str", "string")))
        prof = p.get(c.source)
        if prof is None or not coded:
            continue
        numeric_column = c.source in s.sample.columns and str(s.sample[c.source].dtype) not in ("object", "str",
                                                                                                 "string")
        if text_format or numeric_column:
            out.append(c.source)
    order = {name: k for k, name in enumerate(s.columns)}
    return sorted(dict.fromkeys(out), key=lambda name: order.get(name, len(order)))


_ID_WORDS = ("编号", "编码", "代码", "标识", "id", "bh", "bm", "dm", "bsm")


def _id_column(spec: SchemaSpec, choices: list[FieldChoice], p: dict[str, ColumnProfile]) -> tuple[str | None, str]:
    """``id_column`` of the entry: the id field when mapped, else the most identifier-like unique column."""
    by_field = {c.field: c for c in choices}
    if spec.id_field in by_field:
        return spec.id_field, ""
    mapped = {c.source for c in choices}

    def unique(prof: ColumnProfile) -> bool:
        return prof.unique_ratio >= 0.98 and prof.nonnull_share >= 0.98 and prof.share("idlike") >= 0.8

    free = [prof for name, prof in p.items() if name not in mapped and unique(prof) and not is_system_column(name)]
    if free:
        pick = max(free, key=lambda q: (any(w in normalize_name(q.name) for w in _ID_WORDS), -list(p).index(q.name)))
        choices.insert(0, FieldChoice(spec.id_field, pick.name, 0.45, 0.0, 0.6, True,
                                      ["没有名称相符的标识列：取值唯一、无空值、形如编号的列（待确认）"]))
        return spec.id_field, ""
    taken = [c for c in choices if unique(p[c.source])]
    if taken:
        c = max(taken, key=lambda c: c.score)
        return c.field, f"待确认：没有 {spec.id_field} 列，记录标识暂用 {c.field}（源字段 {c.source}，值唯一）"
    if p:
        first = next(iter(p))
        return first, f"待确认：没有取值唯一的列可作记录标识，暂填第一列 {first}"
    return None, "待确认：表中没有列"


_DEPT = re.compile(r"^(.{0,10}(省|市|区|县|州))?.{1,20}(局|委员会|委|办公室|办|中心|公司|院|队|厅|署|集团)$")


def _owner(s: Source, root: Path, spec: SchemaSpec) -> tuple[str, bool]:
    """The department: the nearest folder between the delivery root and the file named like one (市公安局)."""
    try:
        parts = s.path.relative_to(root).parts[:-1]
    except ValueError:
        parts = ()
    for part in reversed(parts):
        text = part.strip()
        if _DEPT.match(text) and not text.lower().endswith(".gdb"):
            return text, False
    return spec.owner, True


_ASCII_PREFIX = re.compile(r"^[A-Za-z0-9]+[_\-]+")


def _title(s: Source, spec: SchemaSpec) -> str:
    """Chinese title: the sheet's title row, else the layer or sheet name, else the file name, else the schema's."""
    candidates = [s.title]
    if s.layer and not re.fullmatch(r"(sheet|工作表)\s*\d*", s.layer, flags=re.I):
        candidates.append(_ASCII_PREFIX.sub("", s.layer))
    candidates.append(_ASCII_PREFIX.sub("", s.path.name.split(".")[0]))
    for text in candidates:
        if text and re.search(r"[\u3400-\u9fff]", text):
            return text.strip()
    return spec.title_zh


_OWN_MAPS = frozenset({"vocab:admin_level", "vocab:device_type", "vocab:element_type", "vocab:device_type_name",
                       "vocab:industry", "vocab:admin_kind"})


def _abbreviations(present: list[str], vocab: frozenset) -> tuple[dict[str, str], list[str]]:
    """Values that abbreviate exactly one value of a code list (户籍 -> 户籍人口, 流动 -> 流动人口).

    Returns the map of the abbreviated values and the values matched by none or several (an empty map when no
    value is abbreviated, or when more values are unmatched than matched).
    """
    mapping: dict[str, str] = {}
    missing: list[str] = []
    for v in present:
        if v in vocab:
            continue
        hits = [w for w in vocab if w.startswith(v)]
        if len(hits) == 1 and re.search(r"[\u3400-\u9fff]", v):
            mapping[v] = hits[0]
        else:
            missing.append(v)
    if not mapping or len(missing) > len(mapping):
        return {}, missing
    return mapping, missing


def _value_maps(spec: SchemaSpec, choices: list[FieldChoice], p: dict[str, ColumnProfile], table: FieldNames,
                ctx: FitContext, source: Source | None = None) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Coded values recognised in mapped columns: 性别 1/2 -> 男/女, 级别 codes -> 区/街道/社区, device names -> codes.

    A map lists the values the column holds (all of them: the whole column is read when the sample did not hold
    every row), each with its value in the schema.
    """
    values: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    vocab = table.vocabularies
    by_field = {c.field: c for c in choices}
    for c in choices:
        kind = spec.fields[c.field].kind
        prof = p.get(c.source)
        if prof is None or not prof.top:
            continue
        present = sorted(set(prof.values.unique().tolist()))
        if len(present) > 40 or not (kind == "gender" or kind.startswith("vocab:")):
            continue
        if source is not None and source.rows is not None and source.rows > len(source.sample):
            present = distinct_values(source, c.source) or present
        if kind == "gender":
            codes = {str(k): str(v) for k, v in (vocab.get("gender_codes") or {}).items()}
            if set(present) <= {"男", "女"}:
                continue
            mapping = {v: codes[v] for v in present if v in codes}
            if mapping:
                values[c.field] = mapping
                notes[c.field] = "性别代码（GB/T 2261.1：1 男、2 女）"
        elif kind.startswith("vocab:") and f"{kind[6:]}_codes" in vocab and kind != "vocab:admin_level" and set(
                present) <= {str(k) for k in vocab.get(f"{kind[6:]}_codes") or {}}:
            allowed = {str(v) for v in vocab.get(kind[6:]) or []}
            if set(present) <= allowed:
                continue
            codes = {str(k): str(v) for k, v in vocab[f"{kind[6:]}_codes"].items()}
            values[c.field] = {v: codes[v] for v in present}
            notes[c.field] = "待确认：列中只有代码，按常见编码对照（各地编码不一，请核对）"
        elif kind.startswith("vocab:") and kind[6:] in ctx.vocab and kind not in _OWN_MAPS:
            mapping, missing = _abbreviations(present, ctx.vocab[kind[6:]])
            if mapping:
                values[c.field] = mapping
                notes[c.field] = "简称 → 规范取值（如 户籍 → 户籍人口）" + (
                    f"（待确认：{'、'.join(missing[:5])} 未能对照）" if missing else "")
        elif kind == "vocab:admin_level":
            canonical = {"区", "街道", "社区"}
            if set(present) <= canonical:
                continue
            synonyms = vocab.get("admin_level_synonyms") or {}
            mapping = {}
            for v in present:
                for level, words in synonyms.items():
                    if v in [str(w) for w in words] and v != level:
                        mapping[v] = level
            rest = [v for v in present if v not in mapping]
            how = "级别名称对照"
            if rest and "area_code" in by_field:
                codes = p[by_field["area_code"].source].values
                level_values = p[c.source].values
                joined = level_values.to_frame("level").join(codes.str.len().rename("n"), how="inner")
                by_len = {6: "区", 9: "街道", 12: "社区"}
                for v in rest:
                    lengths = joined.loc[joined["level"] == v, "n"]
                    if len(lengths):
                        n = int(lengths.mode().iloc[0])
                        if n in by_len:
                            mapping[v] = by_len[n]
                how += "；代码值按同行区划代码位数（6/9/12 位）判定"
            if mapping:
                values[c.field] = mapping
                missing = [v for v in present if v not in mapping]
                notes[c.field] = how + (f"（待确认：{'、'.join(missing)} 未能判定）" if missing else "")
        elif kind == "vocab:device_type":
            from standards_checks.schemas.devices import DEVICE_CATEGORIES

            by_name = {name: code for code, name in DEVICE_CATEGORIES.items()}
            if set(present) <= set(DEVICE_CATEGORIES):
                continue
            known = [v for v in present if v in by_name]
            if known and len(known) >= 0.8 * len(present):
                values[c.field] = {v: by_name[v] for v in known}
                notes[c.field] = "设备类型名称 → 类型代码" + ("" if len(known) == len(present) else "（待确认：部分值未识别）")
        elif kind == "vocab:element_type":
            from cimlib.codes.address import ELEMENT_TYPES

            codes = set(ELEMENT_TYPES["code"])
            if set(present) <= codes:
                continue
            by_name = {}
            for code, name in zip(ELEMENT_TYPES["code"], ELEMENT_TYPES["name_zh"]):
                by_name[name] = code
                by_name.setdefault(re.split(r"[（(]", name)[0], code)
            known = [v for v in present if v in by_name]
            if known and len(known) >= 0.8 * len(present):
                values[c.field] = {v: by_name[v] for v in known}
                notes[c.field] = "待确认：要素类型名称 → 要素类型代码（DB42/T 2175 要素类型表，暂定）"
    return values, notes


def _raster_entry(s: Source, root: Path, table: FieldNames) -> ScaffoldEntry | None:
    """A GeoTIFF is proposed as the DEM when its names say so (高程, DEM, 地形)."""
    text = " ".join(s.context(root)).lower()
    if not any(w in text for w in ("dem", "高程", "地形", "dtm")):
        return None
    crs, note = crs_text(s.crs)
    confirm = crs is None
    owner, guessed = _owner(s, root, next(iter(table.schemas.values())))
    if guessed:
        owner = "市自然资源和规划局"
    return ScaffoldEntry(
        source=s, name="dem", schema="dem", score=0.8, schema_evidence=["栅格，名称含高程/DEM"], alternatives=[],
        choices=[], id_column=None, values={}, value_notes={}, options={}, crs=crs or "EPSG:4490",
        crs_note=note or ("文件没有坐标系信息，按 EPSG:4490 暂填" if confirm else ""), crs_confirm=confirm,
        unmapped_required=[], unmapped_columns=[], title_zh=_ASCII_PREFIX.sub("", s.path.stem) if re.search(
            r"[\u3400-\u9fff]", s.path.stem) else "数字高程模型",
        layer="时空基础", owner=owner, owner_guessed=guessed, classification="内部", update_cycle="每年",
        notes=list(s.notes))


def _name_entries(entries: list[ScaffoldEntry]) -> None:
    """Entry names: the schema; ``_2``, ``_3`` for further datasets of it (latest period first, then most rows)."""
    groups: dict[str, list[ScaffoldEntry]] = {}
    for e in entries:
        groups.setdefault(e.schema, []).append(e)
    for schema, group in groups.items():
        group.sort(key=lambda e: (e.source.period or "", e.score, e.source.rows or 0), reverse=True)
        for k, e in enumerate(group):
            e.name = schema if k == 0 else f"{schema}_{k + 1}"
            if k:
                e.notes.append(f"待确认：同类数据有多份，检查与指标只使用名为 {schema} 的条目；若本文件是同一数据的另一部分"
                               "（如分图层交付的区/街道/社区），请合并后再接入，或改用本条目的名称")
