"""Field names in common Chinese use per schema field, and matching a delivered column name against them.

The names are data (``cimlib/data/field_names.yaml``): a data-governance team adds what its departments write
without touching code. The schemas' field tables themselves come from :mod:`standards_checks.schemas` (model
columns, optional columns, geometry), so the table can never propose a field the catalog would refuse; a field of a
field table that the YAML does not describe is matched by its own name only.

Matching (:func:`name_score`) compares normalised names (full-width to half-width, ASCII case, spaces and
decorations removed) and recognises what happens to names on the way from a department: bracketed units and notes
(``建筑高度(米)``), group prefixes of two-row headers flattened by the Excel reader (``基本信息_姓名``), names cut to
10 bytes by the shapefile format (``行政区划代`` in GBK, ``building_i``), names that carry a synonym with a qualifier
(``现居住地址``), and GDAL's ``_1`` suffixes of names made unique after truncation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FieldSpec",
    "SchemaSpec",
    "FieldNames",
    "NameMatch",
    "load_field_names",
    "normalize_name",
    "name_score",
    "is_system_column",
]

_GEOMETRY_FIELDS = ("geometry",)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a schema's field table, with the names it goes by.

    Attributes
    ----------
    schema, name : str
        Schema and field name (``persons``, ``id_number``).
    kind : str
        What the values look like (see the YAML header), e.g. ``ric``, ``ref:buildings.building_id``.
    names : tuple of str
        Names in use (the field's own name included).
    weak : tuple of str
        Generic names (编号, ID, ...) that fit only when nothing better does.
    range : tuple of float or None
        Plausible numeric range for ``int``/``float`` kinds.
    required : bool
        A model column of the schema (a file lacking it gets SYS-002).
    dtype : str or None
        The model's dtype of the field (``str``, ``int64``, ...), ``None`` for optional fields.
    initials : tuple of str
        Pinyin initials of the Chinese names (``行政区划代码`` -> ``XZQHDM``), derived with the table's
        ``pinyin_initials``; initials two fields of the schema share are left out.
    """

    schema: str
    name: str
    kind: str
    names: tuple[str, ...]
    weak: tuple[str, ...] = ()
    range: tuple[float, float] | None = None
    required: bool = False
    dtype: str | None = None
    initials: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemaSpec:
    """A candidate schema: its field table and the defaults of a scaffolded catalog entry.

    Attributes
    ----------
    name : str
        Schema name (key of ``standards_checks.schemas.MODELS``).
    title_zh, layer, classification, update_cycle, owner : str
        Defaults of the catalog entry.
    geometry : str
        ``required``, ``optional`` or ``none``.
    geometry_types : tuple of str
        OGC base types of the layer (``Polygon``, ``Point``, ``LineString``).
    keywords : dict of str to float
        Words of file, sheet, layer or folder names pointing at the schema, with weights.
    fields : dict of str to FieldSpec
        Field table without ``geometry``, model columns first.
    id_field : str
        The field used as ``id_column`` (the model's first column).
    """

    name: str
    title_zh: str
    layer: str
    classification: str
    update_cycle: str
    owner: str
    geometry: str
    geometry_types: tuple[str, ...]
    keywords: dict[str, float]
    fields: dict[str, FieldSpec]
    id_field: str

    @property
    def required(self) -> tuple[str, ...]:
        """Required (model) fields other than geometry, in model order."""
        return tuple(f for f, spec in self.fields.items() if spec.required)


@dataclass(frozen=True)
class FieldNames:
    """The loaded table: schemas, system columns and code lists.

    Attributes
    ----------
    schemas : dict of str to SchemaSpec
        Candidate schemas, in the YAML's order.
    system_columns : frozenset of str
        Normalised names of columns written by GIS software (OBJECTID, Shape_Area, ...).
    vocabularies : dict
        Code lists (``vocab:NAME`` kinds) and coded-value tables.
    source : pathlib.Path or None
        File the table was read from.
    """

    schemas: dict[str, SchemaSpec]
    system_columns: frozenset[str]
    vocabularies: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None


@dataclass(frozen=True)
class NameMatch:
    """How well a column name matches a field.

    Attributes
    ----------
    score : float
        0 (no match) to 1 (a listed name, exactly).
    synonym : str
        The listed name that matched.
    how : str
        Chinese description of the match (同名, 去掉括号后同名, 截断为 10 字节, 包含, ...).
    """

    score: float
    synonym: str = ""
    how: str = ""


# --------------------------------------------------------------------------------------------- loading


def _model_columns(schema: str) -> tuple[list[str], set[str], dict[str, str]]:
    """Model columns of a schema, the ones a file must have (pandera ``required``) and their dtypes, geometry
    excluded."""
    from standards_checks.schemas import MODELS, OPTIONAL_COLUMNS

    model = MODELS[schema]
    columns = model.to_schema().columns
    names = [c for c in columns if c not in _GEOMETRY_FIELDS]
    required = {c for c in names if getattr(columns[c], "required", True)}
    dtypes = {c: str(columns[c].dtype) for c in names}
    optional = [c for c in OPTIONAL_COLUMNS.get(schema, ()) if c not in names and c not in _GEOMETRY_FIELDS]
    return names + optional, required, dtypes


def load_field_names(path: str | Path | None = None) -> FieldNames:
    """Load the field-name table.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A YAML file of the same structure as the packaged ``cimlib/data/field_names.yaml`` (the default).

    Returns
    -------
    FieldNames
        Schemas restricted to those with a field table in :data:`standards_checks.schemas.MODELS`; each schema's
        fields are exactly its field table (fields the YAML lacks are matched by their own name).

    Raises
    ------
    ValueError
        If the file is not a mapping with ``schemas``.
    """
    if path is None:
        return _default_field_names()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_field_names() -> FieldNames:
    src = resources.files("cimlib") / "data" / "field_names.yaml"
    with resources.as_file(src) as file:
        return _load(Path(file))


def _load(path: Path) -> FieldNames:
    from standards_checks.schemas import MODELS

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("schemas"), dict):
        raise ValueError(f"字段名称对照表格式不对：应为含 schemas 的映射（{path}）")
    schemas: dict[str, SchemaSpec] = {}
    for name, raw in data["schemas"].items():
        if name not in MODELS:
            continue
        table, required, dtypes = _model_columns(name)
        raw_fields = raw.get("fields") or {}
        fields: dict[str, FieldSpec] = {}
        for fname in table:
            spec = raw_fields.get(fname) or {}
            names = [str(n) for n in spec.get("names") or []]
            if fname not in names:
                names.append(fname)
            rng = spec.get("range")
            fields[fname] = FieldSpec(
                schema=name,
                name=fname,
                kind=str(spec.get("kind", "text")),
                names=tuple(names),
                weak=tuple(str(n) for n in spec.get("weak") or []),
                range=(float(rng[0]), float(rng[1])) if rng else None,
                required=fname in required,
                dtype=dtypes.get(fname),
            )
        schemas[name] = SchemaSpec(
            name=name,
            title_zh=str(raw.get("title_zh", name)),
            layer=str(raw.get("layer", "公共专题")),
            classification=str(raw.get("classification", "内部")),
            update_cycle=str(raw.get("update_cycle", "不定期")),
            owner=str(raw.get("owner", "")),
            geometry=str(raw.get("geometry", "none")),
            geometry_types=tuple(raw.get("geometry_types") or ()),
            keywords={str(k): float(v) for k, v in (raw.get("keywords") or {}).items()},
            fields=fields,
            id_field=table[0],
        )
    _add_initials(schemas, data.get("pinyin_initials") or {}, data.get("pinyin_phrases") or {})
    system = frozenset(normalize_name(n) for n in data.get("system_columns") or [])
    return FieldNames(schemas=schemas, system_columns=system, vocabularies=dict(data.get("vocabularies") or {}),
                      source=path)


_BRACKETED = re.compile(r"[（(][^）)]*[）)]")


def initials_of(name: str, letters: dict[str, str], phrases: dict[str, str]) -> set[str]:
    """Pinyin initials of a Chinese field name, with and without its bracketed part (``XZJDDM``, ``XZDM``).

    Parameters
    ----------
    name : str
        Field name (Chinese, possibly with ASCII letters or digits, e.g. ``楼栋ID``).
    letters : dict of str to str
        Character -> initial letter.
    phrases : dict of str to str
        Names whose initials differ from the character by character reading (polyphones: 行业 -> HY).

    Returns
    -------
    set of str
        Upper-case initials; empty when the name has no Chinese character or one missing from ``letters``.
    """
    out: set[str] = set()
    for text in {_BRACKETED.sub("", name), re.sub(r"[（()）]", "", name)}:
        if not _CJK.search(text) or re.search(r"[^\u3400-\u9fffA-Za-z0-9]", text):
            continue
        if text in phrases:
            out.add(str(phrases[text]).upper())
            continue
        if any(_CJK.match(ch) and ch not in letters for ch in text):
            continue
        initials = "".join(letters.get(ch, ch.upper()) for ch in text)
        if len(initials) >= 2:
            out.add(initials)
    return out


def _add_initials(schemas: dict[str, SchemaSpec], table: dict[str, str], phrases: dict[str, str]) -> None:
    """Give every field the pinyin initials of its Chinese names, unless two fields of a schema share them."""
    import dataclasses

    letters = {ch: str(letter).upper() for letter, chars in table.items() for ch in str(chars)}
    if not letters:
        return
    for spec in schemas.values():
        derived = {f: set().union(*(initials_of(n, letters, phrases) for n in names.names if _CJK.search(n)))
                   for f, names in spec.fields.items()}
        owners: dict[str, set[str]] = {}
        for f, found in derived.items():
            for ini in found:
                owners.setdefault(ini, set()).add(f)
        for f, names in spec.fields.items():
            listed = {normalize_name(n) for n in names.names}
            keep = sorted(i for i in derived[f] if len(owners[i]) == 1 and i.lower() not in listed)
            spec.fields[f] = dataclasses.replace(names, initials=tuple(keep))


# --------------------------------------------------------------------------------------------- normalising

_BRACKETS = re.compile(r"[\(\[\{<【〔［《][^\)\]\}>】〕］》]*[\)\]\}>】〕］》]")
_DECOR = re.compile(r"[\s*※★☆#＊:：'\"`]+")
_SEGMENT = re.compile(r"[_\-/\\.|]")
_DUP_SUFFIX = re.compile(r"_\d{1,2}$")
_SEPARATORS = re.compile(r"[_\-\s.]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def normalize_name(name: object) -> str:
    """A column name as compared: NFKC (full-width to half-width), decorations and spaces removed, ASCII lower case.

    Parameters
    ----------
    name : object
        Column name (non-strings are converted with ``str``).

    Returns
    -------
    str
        Normalised name; ``""`` for a blank name.
    """
    text = unicodedata.normalize("NFKC", str(name)).strip()
    text = _DECOR.sub("", text)
    return text.lower()


def _variants(name: str) -> list[tuple[str, float, str]]:
    """Forms of a normalised column name to compare, each with a factor and a Chinese note."""
    out = [(name, 1.0, "同名")]
    bare = _BRACKETS.sub("", name)
    if bare and bare != name:
        out.append((bare, 0.97, "去掉括号内容后同名"))
    for text in list(dict.fromkeys([name, bare])):
        if not text:
            continue
        undup = _DUP_SUFFIX.sub("", text)
        if undup and undup != text:
            out.append((undup, 0.9, "去掉重名序号后同名"))
        parts = [p for p in _SEGMENT.split(text) if p]
        if len(parts) > 1:
            out.append((parts[-1], 0.93, f"表头末段“{parts[-1]}”同名"))
    return out


def _compact(text: str) -> str:
    """An English identifier without separators: ``room_no``, ``roomNo`` (lower-cased ``roomno``), ``ROOM-NO`` and
    ``room no`` all read ``roomno``, as platform exports (camelCase) and databases (snake_case) write one name."""
    return _SEPARATORS.sub("", text)


@lru_cache(maxsize=4096)
def _synonym_forms(synonym: str) -> tuple[str, ...]:
    """Normalised synonym, without brackets, and (English names) without separators (``room_no`` -> ``roomno``)."""
    norm = normalize_name(synonym)
    bare = _BRACKETS.sub("", norm) or norm
    if _CJK.search(norm):
        return norm, bare
    return norm, bare, _compact(bare)


def _gbk(text: str) -> bytes:
    return text.encode("gbk", errors="replace")


def _truncated(column: str, synonym: str) -> bool:
    """Whether ``column`` is ``synonym`` cut to the 10 bytes a dBASE field name holds (GBK or UTF-8 bytes)."""
    for encoding in ("gbk", "utf-8"):
        try:
            col, syn = column.encode(encoding), synonym.encode(encoding)
        except UnicodeEncodeError:
            continue
        if len(syn) > 10 and 8 <= len(col) <= 10 and syn.startswith(col):
            return True
    return False


_PARENT_WORDS = ("上级", "父级", "父", "所属上级")
_NEGATING_EXTRA = ("名称", "名", "类型", "日期", "时间", "人数", "面积", "备注", "说明", "状态")


@lru_cache(maxsize=1 << 16)
def name_score(column: object, spec: FieldSpec) -> NameMatch:
    """How well a column name matches one field.

    Parameters
    ----------
    column : object
        Column name as the reader returns it.
    spec : FieldSpec
        The field with its names.

    Returns
    -------
    NameMatch
        1.0 for a listed name; 0.9–0.97 for the same name after removing brackets, a group prefix or a
        duplicate suffix, or cut to 10 bytes; 0.55–0.9 when the column name contains a listed name of at least two
        characters; 0.5 for a generic (weak) name; lower when the column name is part of a listed name.
    """
    col = normalize_name(column)
    if not col:
        return NameMatch(0.0)
    best = NameMatch(0.0)
    variants = _variants(col)
    for synonym in spec.names:
        forms = _synonym_forms(synonym)
        for text, factor, how in variants:
            if text in forms[:2]:
                if factor > best.score:
                    best = NameMatch(factor, synonym, how)
            elif len(forms) > 2 and _compact(text) == forms[2] and 0.97 * factor > best.score:
                best = NameMatch(round(0.97 * factor, 3), synonym, "英文名的驼峰、下划线写法不同，去掉分隔后同名")
        if best.score >= 1.0:
            return best
        if best.score < 0.9 and _truncated(col, forms[0]):
            best = NameMatch(0.9, synonym, "字段名截断为 10 字节（shapefile）")
    for initials in spec.initials:
        for text, factor, _ in variants:
            if text == initials.lower() and 0.95 * factor > best.score:
                best = NameMatch(round(0.95 * factor, 3), initials, f"为中文字段名的拼音首字母（{initials}）")
    if best.score >= 0.9:
        return best
    for synonym in spec.names:
        syn = _synonym_forms(synonym)[1]
        usable = len(syn) >= 2 if _CJK.search(syn) else len(syn) >= 5
        if not usable:
            continue
        for text, factor, _ in variants[:2]:
            if syn in text and syn != text:
                extra = text.replace(syn, "", 1)
                score = 0.55 + 0.35 * len(syn) / len(text)
                if any(w in extra for w in _PARENT_WORDS) and "parent" not in spec.name:
                    score *= 0.4
                if any(extra.endswith(w) for w in _NEGATING_EXTRA):
                    score *= 0.6
                score *= factor
                if score > best.score:
                    best = NameMatch(round(score, 3), synonym, f"包含“{synonym}”")
            elif text in syn and len(text) >= 2 and _CJK.search(text):
                score = (0.2 + 0.35 * len(text) / len(syn)) * factor
                if score > best.score:
                    best = NameMatch(round(score, 3), synonym, f"为“{synonym}”的一部分")
    for synonym in spec.weak:
        if any(text in _synonym_forms(synonym) for text, _, _ in variants[:2]) and best.score < 0.5:
            best = NameMatch(0.5, synonym, "通用名称")
    return best


def is_system_column(column: object, names: FieldNames | None = None) -> bool:
    """Whether a column is written by GIS software (OBJECTID, Shape_Area, ...) or is a pandas placeholder.

    Parameters
    ----------
    column : object
        Column name.
    names : FieldNames, optional
        Table to use (default: the packaged one).

    Returns
    -------
    bool
    """
    names = names or load_field_names()
    col = normalize_name(column)
    return col in names.system_columns or col.startswith("unnamed")
