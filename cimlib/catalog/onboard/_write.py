"""The proposed catalog as YAML (with a comment per entry on what was inferred and from what) and as a table."""

from __future__ import annotations

import datetime as _dt
import os
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ._infer import CONFIRM, Scaffold, ScaffoldEntry, confidence_label

__all__ = ["scaffold_yaml", "scaffold_table", "table_text", "write_scaffold", "check_loadable"]

_TODO = "待确认"


def _scalar(value: Any) -> str:
    """One YAML scalar (or flow collection) on one line, quoted when needed."""
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10**9, sort_keys=False)
    text = text.strip()
    if "\n" in text.removesuffix("\n...").strip():
        # a header cell broken over lines (公民身份\n号码): plain and single-quoted YAML would fold the line break
        # onto the next line, out of the entry's indentation; double quotes keep it on one line as \n
        text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10**9, sort_keys=False,
                              default_style='"').strip()
    if text.endswith("\n..."):
        text = text[:-4].strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return text


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def _path_text(path: Path, base: Path | None) -> str:
    """``path`` relative to ``base`` (POSIX separators), absolute when ``base`` is None or on another drive."""
    if base is None:
        return path.as_posix()
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def _city_title(city: str | None) -> str:
    if not city:
        return "部门交付数据目录（草稿）"
    try:
        from cimlib.codes.divisions import written_name

        return f"{written_name(city)} 部门交付数据目录（草稿）"
    except (ValueError, KeyError):
        return f"{city} 部门交付数据目录（草稿）"


def scaffold_yaml(scaffold: Scaffold, base: str | Path | None = None) -> str:
    """The catalog text for :meth:`Scaffold.to_yaml`.

    Parameters
    ----------
    scaffold : Scaffold
    base : str or pathlib.Path, optional
        Folder of the catalog file (paths relative to it).

    Returns
    -------
    str
    """
    base = Path(base).resolve() if base is not None else None
    out: list[str] = []
    add = out.append
    total = sum(e.to_confirm for e in scaffold.entries)
    add(f"# 数据目录草稿：由 cim catalog init 从 {scaffold.folder} 生成（{_dt.date.today():%Y-%m-%d}）。")
    add("# 每个条目上方的注释说明推断了什么、依据是什么；标有“# 待确认”的推断置信度较低，请逐条核对后再用于 cim check。")
    add(f"# 共 {len(scaffold.entries)} 个条目，{total} 处待确认。")
    add(f"# 城市代码：{scaffold.city or '未知'}，{scaffold.city_note}")
    if scaffold.unrecognised:
        add("# 未能识别数据集类型的数据（未写入条目，如需使用请按 docs/catalog.md 手工登记）：")
        for src, cands in scaffold.unrecognised:
            best = "、".join(f"{s} {v:.2f}" for s, v in cands) or "无"
            add(f"#   - {_comment(src.label(scaffold.folder))}（最接近：{best}；列：{_comment('、'.join(src.columns[:12]))}）")
    if scaffold.skipped:
        add("# 跳过的文件：")
        for item in scaffold.skipped:
            add(f"#   - {_comment(_label(item.path, scaffold.folder))}：{_comment(item.reason)}")
    add("version: 1")
    add(f"title_zh: {_scalar(_city_title(scaffold.city))}")
    if scaffold.city:
        add(f"city_code: {_scalar(str(scaffold.city))}")
    add("entries:" if scaffold.entries else "entries: []")
    for entry in scaffold.entries:
        out.extend(_entry_lines(entry, scaffold.folder, base))
    return "\n".join(out) + "\n"


def _schema_title(schema: str) -> str:
    from .fields import load_field_names

    spec = load_field_names().schemas.get(schema)
    return spec.title_zh if spec is not None else ("数字高程模型" if schema == "dem" else schema)


def _label(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _entry_lines(e: ScaffoldEntry, root: Path, base: Path | None) -> list[str]:
    s = e.source
    lines = [""]
    c = lines.append
    c(f"  # ── {e.name} ← {_comment(s.label(root))}")
    flag = f"  # {_TODO}" if e.score < CONFIRM else ""
    c(f"  # 推断：{_schema_title(e.schema)}（{e.schema}），置信度 {confidence_label(e.score)} {e.score:.2f}"
      f"{'（' + _TODO + '）' if e.score < CONFIRM else ''}；依据：{_comment('；'.join(e.schema_evidence))}")
    if e.alternatives:
        c("  # 其他候选：" + "、".join(f"{a} {v:.2f}" for a, v in e.alternatives))
    facts = [f"格式 {s.format}"]
    if s.rows is not None:
        facts.append(f"约 {s.rows} 行")
    if s.geometry_type:
        facts.append(f"几何 {s.geometry_type}")
    facts.extend(e.notes)
    c(f"  # 读取：{_comment('；'.join(facts))}")
    if e.unmapped_required:
        c(f"  # 未能映射的必填字段：{'、'.join(e.unmapped_required)}（{_TODO}：数据中若有，请在 columns 中补上；"
          "确实没有的，检查时将报 SYS-002）")
    if e.unmapped_columns:
        shown = "、".join(e.unmapped_columns[:20]) + ("等" if len(e.unmapped_columns) > 20 else "")
        c(f"  # 未映射的源字段：{_comment(shown)}")
    c(f"  - name: {_scalar(e.name)}")
    c(f"    title_zh: {_scalar(e.title_zh)}")
    c(f"    layer: {_scalar(e.layer)}")
    c(f"    format: {_scalar(s.format)}")
    c(f"    path: {_scalar(_path_text(s.path, base))}")
    if e.crs is not None:
        note = f"  # {_TODO}：{_comment(e.crs_note)}" if e.crs_confirm else (f"  # {_comment(e.crs_note)}" if e.crs_note
                                                                             else "  # 读自文件")
        c(f"    crs: {_scalar(e.crs)}{note}")
    if e.id_column is not None:
        id_flag = ""
        choice = next((ch for ch in e.choices if ch.field == e.id_column), None)
        if choice is None or choice.to_confirm:
            id_flag = f"  # {_TODO}"
        c(f"    id_column: {_scalar(e.id_column)}{id_flag}")
    c(f"    schema: {_scalar(e.schema)}{flag}")
    owner_note = f"  # {_TODO}：按数据集类型的默认部门（交付文件夹名不像部门名称）" if e.owner_guessed else "  # 取自交付文件夹名"
    c(f"    owner: {_scalar(e.owner)}{owner_note}")
    c(f"    classification: {_scalar(e.classification)}" + ("  # 含个人信息" if e.classification == "敏感" else ""))
    c(f"    update_cycle: {_scalar(e.update_cycle)}  # {_TODO}：按数据集类型的默认值")
    if e.options:
        c("    options:")
        for key, value in e.options.items():
            c(f"      {_scalar(key)}: {_scalar(value)}")
    if e.choices:
        c("    columns:")
        for ch in e.choices:
            mark = f"{_TODO} " if ch.to_confirm else ""
            why = _comment("；".join(ch.evidence)) or "—"
            c(f"      {_scalar(ch.source)}: {_scalar(ch.field)}  # {mark}{confidence_label(ch.score)} {ch.score:.2f}：{why}")
    if e.values:
        c("    values:")
        for fname, mapping in e.values.items():
            note = e.value_notes.get(fname, "")
            mark = f"{_TODO}：" if _TODO in note and not note.startswith(_TODO) else ""
            c(f"      {_scalar(fname)}: {_scalar({str(k): v for k, v in mapping.items()})}  # {mark}{_comment(note)}")
    return lines


# --------------------------------------------------------------------------------------------- the table


def scaffold_table(scaffold: Scaffold) -> pd.DataFrame:
    """One row per dataset found (entries, unrecognised datasets and skipped files), Chinese headers.

    Parameters
    ----------
    scaffold : Scaffold

    Returns
    -------
    pandas.DataFrame
        Columns ``文件, 数据集, 置信度, 已映射字段, 未映射的必填字段, 待确认``.
    """
    rows = []
    for e in scaffold.entries:
        rows.append({
            "文件": e.source.label(scaffold.folder),
            "数据集": e.name,
            "置信度": f"{confidence_label(e.score)} {e.score:.2f}",
            "已映射字段": len(e.choices),
            "未映射的必填字段": "、".join(e.unmapped_required) or "—",
            "待确认": e.to_confirm,
        })
    for src, cands in scaffold.unrecognised:
        rows.append({"文件": src.label(scaffold.folder), "数据集": "（未识别）",
                     "置信度": f"{cands[0][0]} {cands[0][1]:.2f}" if cands else "—", "已映射字段": 0,
                     "未映射的必填字段": "—", "待确认": 1})
    for item in scaffold.skipped:
        rows.append({"文件": _label(item.path, scaffold.folder), "数据集": "（跳过）", "置信度": "—", "已映射字段": 0,
                     "未映射的必填字段": item.reason[:40], "待确认": 0})
    return pd.DataFrame(rows, columns=["文件", "数据集", "置信度", "已映射字段", "未映射的必填字段", "待确认"])


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def table_text(frame: pd.DataFrame) -> str:
    """A table as aligned plain text (CJK characters counted as two columns).

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    str
    """
    cells = [[str(c) for c in frame.columns]] + [[str(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(frame.columns))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(v + " " * (w - _width(v)) for v, w in zip(row, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- writing


def write_scaffold(scaffold: Scaffold, out: str | os.PathLike, *, force: bool = False) -> Path:
    """Write the proposed catalog to a file (never inside the delivery folder).

    Parameters
    ----------
    scaffold : Scaffold
    out : str or os.PathLike
        Catalog file to write; paths in it are relative to its folder.
    force : bool, default False
        Overwrite an existing file.

    Returns
    -------
    pathlib.Path
        The absolute path written.

    Raises
    ------
    FileExistsError
        If ``out`` exists and ``force`` is false.
    ValueError
        If ``out`` lies inside the delivery folder (inputs are never written to).
    """
    target = Path(out).expanduser().resolve()
    folder = Path(scaffold.folder).resolve()
    if target == folder or folder in target.parents:
        raise ValueError(f"不向交付目录写入任何文件：{target} 位于 {folder} 之内；请用 --out 指定交付目录以外的路径")
    if target.exists() and not force:
        raise FileExistsError(f"{target} 已存在，未覆盖；确认要覆盖请加 --force，或用 --out 指定其他文件")
    if target.is_dir():
        raise IsADirectoryError(f"{target} 是文件夹；--out 应为 .yaml 文件路径")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(scaffold.to_yaml(base=target.parent), encoding="utf-8")
    return target


def check_loadable(path: str | os.PathLike) -> str | None:
    """Load a written catalog with :meth:`cimlib.catalog.Catalog.load`; the problem text, or ``None`` when valid.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    str or None
    """
    from cimlib.catalog import Catalog, CatalogError

    try:
        Catalog.load(path)
    except CatalogError as exc:
        return str(exc)
    return None
