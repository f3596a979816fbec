"""Parsing and validation of catalog YAML files (version 1), including ``include:``.

All problems of a file (and of the files it includes) are collected and raised together in one
:class:`CatalogSyntaxError` whose lines each name the entry and the key.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._model import CLASSIFICATIONS, LAYERS, NAME_PATTERN, PERIOD_PATTERN, CatalogEntry, Snapshots
from .errors import CatalogSyntaxError, SourceNotFoundError, UnknownFormatError
from .readers import READERS
from ._db import url_has_password
from .readers._util import parse_crs

__all__ = ["ParsedCatalog", "parse_catalog", "TOP_LEVEL_KEYS", "REQUIRED_KEYS", "OPTIONAL_KEYS"]

TOP_LEVEL_KEYS = ("version", "title_zh", "city_code", "crs", "include", "entries")
REQUIRED_KEYS = ("name", "title_zh", "layer", "format", "path", "schema", "owner", "classification", "update_cycle")
OPTIONAL_KEYS = ("crs", "id_column", "columns", "values", "options", "snapshots")
_STRING_KEYS = (*REQUIRED_KEYS, "crs", "id_column")
_SNAPSHOT_KEYS = ("path", "periods")
_SUPPORTED_VERSIONS = (1,)


# --------------------------------------------------------------------------- YAML with line numbers


class _Mapping(dict):
    """A dict remembering the line of the mapping and of each key, and the keys given twice."""

    line: int = 0
    key_lines: dict[Any, int]
    duplicates: list[tuple[Any, int]]


class _Loader(yaml.SafeLoader):
    """Safe YAML loader producing :class:`_Mapping` objects."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    loader.flatten_mapping(node)
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines, mapping.duplicates = {}, []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in mapping:
            mapping.duplicates.append((key, line))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# --------------------------------------------------------------------------- problem collection


@dataclass
class _Problem:
    text: str
    entry: str | None
    unknown_format: bool = False


@dataclass
class ParsedCatalog:
    """Result of :func:`parse_catalog`.

    Attributes
    ----------
    path : pathlib.Path
        Absolute path of the catalog file.
    version : int
        Catalog format version.
    title_zh, city_code, crs : str or None
        Top-level metadata (``crs`` is the default CRS of the file); a file without ``title_zh``/``city_code`` takes
        those of the first included file that has them.
    includes : list of pathlib.Path
        Absolute paths of the included catalog files (recursively, in order).
    entries : list of CatalogEntry
        Entries, included ones first (in include order), then the file's own, each in file order.
    """

    path: Path
    version: int = 1
    title_zh: str | None = None
    city_code: str | None = None
    crs: str | None = None
    includes: list[Path] = field(default_factory=list)
    entries: list[CatalogEntry] = field(default_factory=list)


def _suggest(word: object, choices: tuple[str, ...] | list[str]) -> str:
    """Chinese hint ``（是否想写 'x'？）`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"（是否想写 '{close[0]}'？）" if close else ""


class _Collector:
    """Accumulates problems while validating one root catalog and the files it includes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[_Problem] = []

    def add(self, file: Path, text: str, entry: str | None = None, *, unknown_format: bool = False) -> None:
        prefix = "" if file == self.root else f"[{file}] "
        self.problems.append(_Problem(prefix + text, entry, unknown_format))

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        lines = [p.text for p in self.problems]
        names = {p.entry for p in self.problems}
        entry = names.pop() if len(names) == 1 else None
        problem = lines[0] if len(lines) == 1 else f"发现 {len(lines)} 处问题：\n" + "\n".join(f"  - {line}" for line in lines)
        cls = UnknownFormatError if all(p.unknown_format for p in self.problems) else CatalogSyntaxError
        raise cls(problem, entry=entry, path=self.root, problems=lines)


# --------------------------------------------------------------------------- parsing


def _load_yaml(path: Path, included_by: Path | None) -> Any:
    """Read and parse one YAML file, raising for a missing file or a YAML syntax error."""
    if not path.is_file():
        if included_by is not None:
            raise SourceNotFoundError(
                f"include 引用的目录文件不存在（由 {included_by} 引用）；若为样例数据，请先运行 `cim demo` 生成",
                path=path,
            )
        raise SourceNotFoundError("目录文件不存在", path=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogSyntaxError(f"目录文件必须是 UTF-8 编码（{exc}）", path=path) from exc
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise CatalogSyntaxError(f"YAML 语法错误{where}：{reason}", path=path) from exc


def _check_crs(value: Any) -> str | None:
    """Return a Chinese problem if ``value`` is not a CRS pyproj can parse, else ``None``."""
    if not isinstance(value, str):
        return f"应为字符串（如 EPSG:4490），实际为 {value!r}"
    try:
        parse_crs(value)
    except Exception as exc:  # pyproj.exceptions.CRSError and friends
        return f"无法解析的坐标参考系 {value!r}（{exc}）"
    return None


def parse_catalog(path: Path) -> ParsedCatalog:
    """Parse and validate a catalog file and everything it includes.

    Parameters
    ----------
    path : pathlib.Path
        Catalog file (resolved to an absolute path).

    Returns
    -------
    ParsedCatalog
        Validated metadata and entries.

    Raises
    ------
    SourceNotFoundError
        If the catalog file or an included catalog file does not exist.
    CatalogSyntaxError
        If anything is malformed; every problem is listed, one per line.
    UnknownFormatError
        If the only problems are unknown formats.
    """
    root = Path(path).expanduser().resolve()
    collector = _Collector(root)
    parsed = ParsedCatalog(path=root)
    seen: dict[str, tuple[Path, int]] = {}
    _parse_file(root, parsed, collector, seen, stack=(), inherited_crs=None, included_by=None)
    collector.raise_if_any()
    return parsed


def _parse_file(
    path: Path,
    parsed: ParsedCatalog,
    collector: _Collector,
    seen: dict[str, tuple[Path, int]],
    *,
    stack: tuple[Path, ...],
    inherited_crs: str | None,
    included_by: Path | None,
) -> None:
    """Validate one file, recursing into its includes; entries and problems are appended in place."""
    data = _load_yaml(path, included_by)
    add = lambda text, entry=None, **kw: collector.add(path, text, entry, **kw)  # noqa: E731
    if not isinstance(data, dict):
        add(f"顶层应为映射（version/entries 等键），实际为 {type(data).__name__}")
        return
    for key, line in data.duplicates:
        add(f"顶层键 '{key}' 重复出现（第 {line} 行）")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            add(f"顶层键 '{key}' 未知（第 {data.key_lines[key]} 行）{_suggest(key, TOP_LEVEL_KEYS)}；允许的键：{', '.join(TOP_LEVEL_KEYS)}")
    version = data.get("version")
    if version not in _SUPPORTED_VERSIONS or isinstance(version, bool):
        add(f"顶层键 'version'：{'缺少' if version is None else f'不支持的版本 {version!r}'}，应为 1")
    for key in ("title_zh", "city_code"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            hint = "（请加引号，避免丢失前导零）" if key == "city_code" else ""
            add(f"顶层键 '{key}'：应为字符串，实际为 {data[key]!r}{hint}")
    default_crs = inherited_crs
    if data.get("crs") is not None:
        problem = _check_crs(data["crs"])
        if problem:
            add(f"顶层键 'crs'：{problem}")
        else:
            default_crs = data["crs"]
    if path == parsed.path:
        parsed.version = version if isinstance(version, int) else 1
        parsed.title_zh = data.get("title_zh") if isinstance(data.get("title_zh"), str) else None
        parsed.city_code = data.get("city_code") if isinstance(data.get("city_code"), str) else None
        parsed.crs = default_crs
    else:  # a root that only includes (the repository's default catalog) takes the title and city of what it includes
        if parsed.title_zh is None and isinstance(data.get("title_zh"), str):
            parsed.title_zh = data["title_zh"]
        if parsed.city_code is None and isinstance(data.get("city_code"), str):
            parsed.city_code = data["city_code"]

    includes = data.get("include")
    includes = [] if includes is None else [includes] if isinstance(includes, str) else includes
    if not isinstance(includes, list) or not all(isinstance(i, str) and i for i in includes):
        add(f"顶层键 'include'：应为文件路径字符串或其列表，实际为 {data.get('include')!r}")
        includes = []
    for include in includes:
        target = (path.parent / Path(include).expanduser()).resolve()
        if target == path or target in stack:
            add(f"顶层键 'include'：循环引用 {target}")
            continue
        parsed.includes.append(target)
        _parse_file(
            target, parsed, collector, seen, stack=(*stack, path), inherited_crs=default_crs, included_by=path
        )

    entries = data.get("entries")
    if entries is None:
        if not includes and "entries" not in data:
            add("缺少顶层键 'entries'")
        entries = []
    if not isinstance(entries, list):
        add(f"顶层键 'entries'：应为列表，实际为 {type(entries).__name__}")
        return
    for index, raw in enumerate(entries, start=1):
        entry = _parse_entry(raw, index, path, default_crs, add, seen)
        if entry is not None:
            parsed.entries.append(entry)


def _parse_entry(raw: Any, index: int, path: Path, default_crs: str | None, add, seen) -> CatalogEntry | None:
    """Validate one entry; report problems through ``add`` and return the entry when valid."""
    if not isinstance(raw, dict):
        add(f"第 {index} 个条目应为映射（键: 值），实际为 {raw!r}")
        return None
    name = raw.get("name")
    entry_name = name if isinstance(name, str) else None
    label = f"'{name}'" if entry_name else f"#{index}"
    where = f"（第 {index} 个条目，第 {raw.line} 行）" if isinstance(raw, _Mapping) else f"（第 {index} 个条目）"
    problems: list[str] = []

    def problem(key: str, text: str, *, unknown_format: bool = False) -> None:
        line = raw.key_lines.get(key.split(".")[0]) if isinstance(raw, _Mapping) else None
        at = f"（第 {line} 行）" if line else ""
        problems.append(key)
        add(f"条目 {label}{where} 键 '{key}'{at}：{text}", entry_name, unknown_format=unknown_format)

    for key, line in getattr(raw, "duplicates", []):
        problem(str(key), f"重复出现（第 {line} 行）")
    allowed = (*REQUIRED_KEYS, *OPTIONAL_KEYS)
    for key in raw:
        if key not in allowed:
            problem(str(key), f"未知的键{_suggest(key, allowed)}；允许的键：{', '.join(allowed)}")
    for key in REQUIRED_KEYS:
        if raw.get(key) in (None, ""):
            problem(key, "缺少必填键")
    for key in _STRING_KEYS:
        if raw.get(key) not in (None, "") and not isinstance(raw.get(key), str):
            problem(key, f"应为字符串，实际为 {raw.get(key)!r}")

    if entry_name is not None:
        if not NAME_PATTERN.match(entry_name):
            problem("name", f"名称 {entry_name!r} 不合规，应匹配 [a-z][a-z0-9_]*（小写字母开头，仅含小写字母、数字、下划线）")
        elif entry_name in seen:
            other_path, other_index = seen[entry_name]
            problem("name", f"名称重复，已被 {other_path} 的第 {other_index} 个条目使用")
        else:
            seen[entry_name] = (path, index)
    layer = raw.get("layer")
    if isinstance(layer, str) and layer and layer not in LAYERS:
        problem("layer", f"取值 {layer!r} 无效{_suggest(layer, LAYERS)}，应为 {'/'.join(LAYERS)} 之一")
    classification = raw.get("classification")
    if isinstance(classification, str) and classification and classification not in CLASSIFICATIONS:
        problem("classification", f"取值 {classification!r} 无效，应为 {'/'.join(CLASSIFICATIONS)} 之一")

    reader = None
    fmt = raw.get("format")
    if isinstance(fmt, str) and fmt:
        reader = READERS.get(fmt)
        if reader is None:
            problem("format", f"未知的数据格式 {fmt!r}{_suggest(fmt, list(READERS))}；可用格式：{'、'.join(READERS)}", unknown_format=True)

    options = raw.get("options")
    if options is None:
        options = {}
    elif not isinstance(options, dict):
        problem("options", f"应为映射，实际为 {options!r}")
        options = {}
    if reader is not None:
        for key, text in reader.validate_options(options):
            problem(f"options.{key}", text)
        if ("x" in options) != ("y" in options) and "x" in reader.options:
            problem("options", "x 与 y 必须同时给出")

    crs = raw.get("crs")
    if crs is not None:
        text = _check_crs(crs)
        if text:
            problem("crs", text)
    crs = crs if isinstance(crs, str) and crs else default_crs
    if reader is not None:
        needs_crs = reader.spatial or "x" in options
        if needs_crs and crs is None:
            problem("crs", "缺少必填键（空间数据须声明坐标参考系，或在目录顶层给出默认 crs）")
        if reader.tabular and raw.get("id_column") in (None, ""):
            problem("id_column", "缺少必填键（矢量与表格数据须声明标识列）")

    columns, values, id_column = _parse_mapping(raw, problem)

    remote = bool(getattr(reader, "remote", False))
    if remote and isinstance(options.get("url"), str) and url_has_password(options["url"]):
        problem("options.url", "数据库地址中不得包含密码；请用环境变量（options.url_env，默认 CIM_PG_URL）、"
                "PGPASSWORD 或 ~/.pgpass 提供密码")
    snapshots = _parse_snapshots(raw.get("snapshots"), path, problem, remote=remote) if "snapshots" in raw else None

    if problems:
        return None
    data_path = Path(raw["path"]).expanduser()
    if remote:
        data_path = Path(f"postgis:{raw['path']}")
    return CatalogEntry(
        name=raw["name"],
        title_zh=raw["title_zh"],
        layer=raw["layer"],
        format=raw["format"],
        path=raw["path"],
        crs=crs,
        id_column=id_column,
        schema=raw["schema"],
        owner=raw["owner"],
        classification=raw["classification"],
        update_cycle=raw["update_cycle"],
        options=dict(options),
        snapshots=snapshots,
        resolved_path=data_path if remote or data_path.is_absolute() else (path.parent / data_path).resolve(),
        catalog_path=path,
        columns=columns,
        values=values,
    )


def _field_table(schema: Any) -> tuple[str, ...] | None:
    """Fields a column mapping may target for ``schema`` (``None``: the schema has no field table)."""
    if not isinstance(schema, str):
        return None
    from standards_checks.schemas import field_table

    return field_table(schema)


def _parse_mapping(raw: dict, problem) -> tuple[dict[str, str], dict[str, dict[str, Any]], str | None]:
    """Validate ``columns``, ``values`` and ``id_column`` together; return them with ``id_column`` as a field name.

    A mapping to a field outside the schema's field table, two source columns onto one field, a non-string name,
    and ``values`` for a field that does not exist are reported through ``problem`` naming the key.
    """
    fields = _field_table(raw.get("schema"))
    columns: dict[str, str] = {}
    mapping = raw.get("columns")
    if mapping is not None and not isinstance(mapping, dict):
        problem("columns", f"应为映射（源字段: 标准字段），实际为 {mapping!r}")
        mapping = None
    by_target: dict[str, str] = {}
    for source, target in (mapping or {}).items():
        key = f"columns.{source}"
        if not isinstance(source, (str, int)) or isinstance(source, bool) or str(source) == "":
            problem(key, f"源字段名应为字符串，实际为 {source!r}")
            continue
        source = str(source)
        if not isinstance(target, str) or not target:
            problem(key, f"应映射到标准字段名（字符串），实际为 {target!r}")
            continue
        if fields is not None and target not in fields:
            listed = "、".join(f for f in fields if f != "geometry")
            problem(key, f"标准字段 '{target}' 不在数据集 {raw.get('schema')} 的字段表中{_suggest(target, list(fields))}；"
                         f"字段表：{listed}")
            continue
        if target in by_target:
            problem(key, f"与源字段 '{by_target[target]}' 映射到同一标准字段 '{target}'；一个标准字段只能有一个来源")
            continue
        by_target[target] = source
        columns[source] = target

    id_column = raw.get("id_column") or None
    if isinstance(id_column, str) and id_column in columns:
        id_column = columns[id_column]

    values: dict[str, dict[str, Any]] = {}
    coded = raw.get("values")
    if coded is not None and not isinstance(coded, dict):
        problem("values", f"应为映射（标准字段: {{源值: 取值}}），实际为 {coded!r}")
        coded = None
    for name, table in (coded or {}).items():
        key = f"values.{name}"
        target = columns.get(str(name), str(name))  # a source name is accepted and means its field
        if fields is not None and target not in fields:
            problem(key, f"标准字段 '{name}' 不在数据集 {raw.get('schema')} 的字段表中{_suggest(name, list(fields))}")
            continue
        if not isinstance(table, dict) or not table:
            problem(key, f"应为非空映射（源值: 取值），实际为 {table!r}")
            continue
        values[target] = {_value_key(k): v for k, v in table.items()}
    return columns, values, id_column


def _value_key(value: Any) -> str:
    """A coded value as text, the form it is matched in (YAML reads ``1:`` as an integer, ``1.0`` as a float)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_snapshots(raw: Any, path: Path, problem, *, remote: bool = False) -> Snapshots | None:
    """Validate an entry's ``snapshots`` mapping; report problems through ``problem``."""
    if not isinstance(raw, dict):
        problem("snapshots", f"应为映射（path、periods），实际为 {raw!r}")
        return None
    ok = True
    for key in raw:
        if key not in _SNAPSHOT_KEYS:
            problem(f"snapshots.{key}", f"未知的键{_suggest(key, _SNAPSHOT_KEYS)}；允许的键：path, periods")
            ok = False
    folder = raw.get("path")
    if not isinstance(folder, str) or not folder:
        problem("snapshots.path", "缺少必填键（快照文件夹）" if folder in (None, "") else f"应为字符串，实际为 {folder!r}")
        ok = False
    periods = raw.get("periods") or []
    if not isinstance(periods, list):
        problem("snapshots.periods", f"应为 YYYY-MM 字符串列表，实际为 {periods!r}")
        return None
    bad = [p for p in periods if not isinstance(p, str) or not PERIOD_PATTERN.match(p)]
    if bad:
        problem("snapshots.periods", f"期次 {bad!r} 不合规，应为带引号的 YYYY-MM 字符串")
        ok = False
    if not ok:
        return None
    folder_path = Path(folder).expanduser()
    if remote:  # a database table holding every period
        return Snapshots(path=folder, periods=tuple(periods), resolved_path=Path(f"postgis:{folder}"))
    resolved = folder_path if folder_path.is_absolute() else (path.parent / folder_path).resolve()
    return Snapshots(path=folder, periods=tuple(periods), resolved_path=resolved)
