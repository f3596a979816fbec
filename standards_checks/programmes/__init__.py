"""The work plans' dated targets (验收指标), one file per programme, each target cited to the letter.

Every programme the workbench measures has a file ``standards_checks/programmes/<id>.yaml``: a ``programme:`` header
(``id``, ``name_zh``, ``issuer``, ``document_number``, ``date``, the division code prefixes it governs and the
document's file under ``documents/``) and its ``indicators:``. Each indicator carries ``source: {section, quote}``, the
quote copied verbatim from the document (:func:`unquoted` lists any that are not), its deadline as the document states
it (``deadline_text``, e.g. 到2024年6月底) and as a date read literally (``deadline``), comparator, target and unit.
Targets the workbench cannot compute yet say ``computable: false`` and why (``reason``): reports show them as 不可计算
with that reason rather than leaving them out. A count set for a whole city (``scope: city``) measured on a catalog
that covers part of it is that part's contribution only.

Reading these files is the targets' own concern: :mod:`cimlib.metrics` (``TARGETS``) and :mod:`cimlib.reports`
(acceptance) both read them from here. Version-1 files (a plain ``indicators:`` list whose ``source`` and ``clause``
are strings, as a city may still keep its own list) are read too.

==========================  ===========================================================  ========
id                          programme                                                    prefixes
==========================  ===========================================================  ========
``hubei-cim``               湖北省加快推进CIM基础平台建设实施方案                            42
``suizhou``                 随州市城市数字公共基础设施建设工作方案                          4213
``taizhou-digital``         泰州市所辖市（县级市）数字城乡专项行动实施方案                  3212
``chongqing-xinchengjian``  重庆市新型城市基础设施建设试点工作方案（渝府办发〔2021〕140号）   50
``wuhan``                   武汉市城市数字公共基础设施建设工作方案                          4201
==========================  ===========================================================  ========
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from cimlib._io import load_yaml_document

__all__ = ["Indicator", "Programme", "IndicatorError", "ProgrammeError", "load_programme", "load_indicators",
           "programme_ids", "programme_for", "unquoted", "read_deadline", "iso_date", "PROGRAMMES_DIR", "DOCUMENTS_DIR", "DEFAULT_PROGRAMME",
           "COMPARATORS", "LEVELS", "SCOPES"]

PROGRAMMES_DIR = Path(__file__).resolve().parent
"""Folder of the programme files (``<id>.yaml``)."""

DOCUMENTS_DIR = PROGRAMMES_DIR / "documents"
"""The programme documents as published (plain text), which the quotes are checked against."""

DEFAULT_PROGRAMME = "suizhou"
"""The programme of the embedded sample city (随州市曾都区) and of :data:`cimlib.metrics.TARGETS`."""

COMPARATORS = (">=", "<=", "==", ">", "<")
LEVELS = ("county", "street", "community")
SCOPES = ("area", "city")
"""``area``: the target applies to any area measured; ``city``: a count set for the whole city."""

_AREA_CODE = re.compile(r"\d{6}(\d{3}(\d{3})?)?")
_ID = re.compile(r"[a-z][a-z0-9-]*")


class IndicatorError(ValueError):
    """A problem in an indicator file (the message names the file, the entry and the key)."""


class ProgrammeError(IndicatorError):
    """An unknown programme, or no programme for a city (the message lists the programmes)."""


@dataclass(frozen=True)
class Indicator:
    """One acceptance indicator: ``metric_id`` of ``dataset`` in ``area`` must satisfy ``comparator target`` by
    ``deadline``.

    Attributes
    ----------
    indicator_id, name_zh : str
    metric_id : str
        A ``metric_id`` of the metrics table (``docs/metrics.md``, ``docs/sensors.md``); the proposed one for a
        target not computable yet (may be empty).
    dataset : str
        Catalog entry name (or schema).
    comparator : {">=", "<=", "==", ">", "<"}
    target : float
        In the unit of ``unit`` (ratios as 0..1); NaN for a target without a number (the value is then listed).
    deadline : str
        ``YYYY-MM-DD``, the deadline read literally from ``deadline_text``; empty when the document sets no date
        (the value is then shown as of the evaluation date).
    unit : str
    source : str
        The document as cited: its title, with its number where it has one.
    clause : str
        Section and the quoted words: ``一、（三）阶段性目标：“到2024年6月底，…”``.
    area : str
        ``county`` (default), ``street``, ``community`` (every area of that level) or one area code.
    deadline_text : str
        The deadline in the document's words (到2024年6月底).
    section, quote, document : str
        ``source`` of a programme file: section, verbatim quote, document title.
    computable : bool
        False for a target the workbench cannot compute (yet): shown as 不可计算 with ``reason``.
    reason : str
        Why it is not computable (Chinese).
    scope : {"area", "city"}
        ``city``: a count target for the whole city; a catalog covering part of it only contributes.
    programme : str
        Id of the programme file it comes from ("" for a version-1 file).
    tasks : tuple of (str, str)
        For a milestone measured from the task list (``metric_id: task_completion``): ``(("milestone", …),
        ("name", …))``, the milestone and a pattern on the task name that select its tasks.
    """

    indicator_id: str
    name_zh: str
    metric_id: str
    dataset: str
    comparator: str
    target: float
    deadline: str
    unit: str
    source: str
    clause: str
    area: str = "county"
    deadline_text: str = ""
    section: str = ""
    quote: str = ""
    document: str = ""
    computable: bool = True
    reason: str = ""
    scope: str = "area"
    programme: str = ""
    tasks: tuple = ()

    @property
    def provisional(self) -> bool:
        """True when the source or the clause is marked 待核实 (only version-1 files can say so)."""
        return "待核实" in self.source or "待核实" in self.clause


@dataclass(frozen=True)
class Programme:
    """A work plan and its dated targets.

    Attributes
    ----------
    id, name_zh, issuer : str
    document_number : str or None
        e.g. 渝府办发〔2021〕140号.
    date : str
        As stated (``2021-12-01``, ``2023``).
    divisions : tuple of str
        Division code prefixes it governs (``42``, ``4213``).
    governs : {"area", "county"}
        ``area`` (default): the whole area of its prefixes (a province, a city); ``county``: any one county-level
        unit under them (a county-level city's plan that does not name the city: 泰州's 所辖市), so the catalog of
        one such county is the whole area the plan governs.
    document : str
        File name under :data:`DOCUMENTS_DIR` ("" for a version-1 file).
    path : pathlib.Path
        The programme file.
    indicators : tuple of Indicator
    """

    id: str
    name_zh: str
    issuer: str
    document_number: str | None
    date: str
    divisions: tuple
    document: str
    path: Path
    indicators: tuple = field(default=(), repr=False)
    governs: str = "area"

    @property
    def citation(self) -> str:
        """``名称（文号）`` as a report cites it."""
        return f"{self.name_zh}（{self.document_number}）" if self.document_number else self.name_zh

    def document_text(self) -> str:
        """The document's text (:data:`DOCUMENTS_DIR`); empty when the file names none."""
        if not self.document:
            return ""
        p = Path(self.document)
        p = p if p.is_absolute() else DOCUMENTS_DIR / p
        return p.read_text(encoding="utf-8")


_KEYS = ("indicator_id", "name_zh", "metric_id", "dataset", "area", "comparator", "target", "deadline", "unit", "source",
         "clause", "deadline_text", "computable", "reason", "scope", "tasks")
_REQUIRED_V1 = ("indicator_id", "name_zh", "metric_id", "dataset", "comparator", "target", "deadline", "unit", "source",
                "clause")
_REQUIRED_V2 = ("indicator_id", "name_zh", "source")
_PROGRAMME_KEYS = ("id", "name_zh", "issuer", "document_number", "date", "divisions", "document", "governs")


def programme_ids() -> list[str]:
    """Ids of the shipped programmes (file names under :data:`PROGRAMMES_DIR`), sorted."""
    return sorted(p.stem for p in PROGRAMMES_DIR.glob("*.yaml"))


def load_programme(programme=None) -> Programme:
    """Read and validate a programme file.

    Parameters
    ----------
    programme : str or path-like, optional
        A programme id (:func:`programme_ids`) or the path of a file in the programme format (a city's own, or a
        version-1 indicator list); default :data:`DEFAULT_PROGRAMME`.

    Returns
    -------
    Programme

    Raises
    ------
    ProgrammeError
        An id that is not a shipped programme (the message lists them).
    IndicatorError
        A missing or malformed file; the message names the file, the entry (number and id) and the key.
    """
    path = _path_of(programme)
    doc = load_yaml_document(path, "验收指标文件", "indicators", IndicatorError)
    version = doc.get("version", 1)
    if version not in (1, 2):
        raise IndicatorError(f"验收指标文件 {path}：不支持的版本 version={version!r}（应为 1 或 2）")
    allowed = {"version", "defaults", "indicators"} | ({"programme"} if version == 2 else set())
    unknown_top = sorted(map(str, set(doc) - allowed))
    if unknown_top:
        raise IndicatorError(f"验收指标文件 {path}：未知的顶层键 {', '.join(unknown_top)}")
    head = _programme_head(doc, path) if version == 2 else Programme(
        id="", name_zh="", issuer="", document_number=None, date="", divisions=(), document="", path=path)
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise IndicatorError(f"验收指标文件 {path}：defaults 应为映射")
    bad_defaults = sorted(map(str, set(defaults) - (set(_KEYS) - {"indicator_id"})))
    if bad_defaults:
        raise IndicatorError(f"验收指标文件 {path}：defaults 中的键 {', '.join(bad_defaults)} 不能作为默认值")
    if not doc["indicators"]:
        raise IndicatorError(f"验收指标文件 {path}：indicators 列表为空")
    out: list[Indicator] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc["indicators"], start=1):
        where = f"验收指标文件 {path} 第 {i} 条指标"
        if not isinstance(raw, dict):
            raise IndicatorError(f"{where}：应为映射（键: 值）")
        where = f"{where}（{raw.get('indicator_id', '?')}）"
        unknown = sorted(set(map(str, raw)) - set(_KEYS))
        if unknown:
            raise IndicatorError(f"{where}：未知的键 {', '.join(unknown)}（可用：{', '.join(_KEYS)}）")
        entry = {**defaults, **raw}
        ind = _indicator_v2(entry, where, head) if version == 2 else _indicator_v1(entry, where)
        if ind.indicator_id in seen:
            raise IndicatorError(f"{where}：indicator_id 与前面的指标重复")
        seen.add(ind.indicator_id)
        out.append(ind)
    return Programme(**{**head.__dict__, "indicators": tuple(out)})


def load_indicators(path=None) -> list[Indicator]:
    """The indicators of a programme (an id or a file; default :data:`DEFAULT_PROGRAMME`), in file order.

    Raises
    ------
    IndicatorError
        As :func:`load_programme`.
    """
    return list(load_programme(path).indicators)


def programme_for(city_code: str) -> Programme:
    """The programme governing a division: the one whose division prefix is the longest prefix of ``city_code``.

    Parameters
    ----------
    city_code : str
        A division code (``421303``, ``4201``, ``500101``).

    Returns
    -------
    Programme

    Raises
    ------
    ProgrammeError
        When no programme covers the code (the message lists the programmes and their prefixes).
    """
    code = str(city_code or "").strip()
    best, length = None, -1
    for pid in programme_ids():
        prog = load_programme(pid)
        for prefix in prog.divisions:
            if code.startswith(prefix) and len(prefix) > length:
                best, length = prog, len(prefix)
    if best is None:
        raise ProgrammeError(f"没有适用于区划 {code or '（未给出）'} 的工作方案；可用的工作方案：{_listing()}。"
                             "请用 --programme 指定，或用 --indicators 提供本地的指标文件")
    return best


def unquoted(programme: Programme) -> list[str]:
    """Indicator ids whose quote (or deadline words) is not found verbatim in the programme's document.

    Returns
    -------
    list of str
        Empty when every quote is the document's own words and every ``deadline_text`` lies in its quote or in its
        section heading (武汉's stages date the heading: ``(一)基础搭建(2023年6月前)``).
    """
    text = programme.document_text()
    return [i.indicator_id for i in programme.indicators
            if not i.quote or i.quote not in text
            or (i.deadline_text and i.deadline_text not in i.quote and i.deadline_text not in i.section)]


def read_deadline(text: str) -> str | None:
    """The date a document's deadline words name, read literally.

    ``到2024年6月底`` and ``2024年6月`` → the month's last day (2024-06-30); ``2023年6月前`` → the last day of the
    month before (2023-05-31: before June); ``到2023年底``, ``2023年底前`` or ``2023年`` → 2023-12-31; ``2021年12月1日``
    → that day. The last date the words name is read (``2023年至2024年12月前`` → 2024-11-30).

    Parameters
    ----------
    text : str

    Returns
    -------
    str or None
        ``YYYY-MM-DD``; ``None`` when the words name no date.
    """
    found = None
    for m in _DEADLINE.finditer(str(text or "")):
        year = int(m.group("y"))
        if m.group("d"):
            day = _dt.date(year, int(m.group("m")), int(m.group("d")))
        elif m.group("m"):
            month = int(m.group("m"))
            if m.group("before") and not m.group("end"):  # 6月前: before June
                day = _dt.date(year, month, 1) - _dt.timedelta(days=1)
            else:
                day = _month_end(year, month)
        else:
            day = _dt.date(year, 12, 31)
        found = day.isoformat()
    return found


def _month_end(year: int, month: int) -> _dt.date:
    first_next = _dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - _dt.timedelta(days=1)


_DEADLINE = re.compile(r"(?P<y>\d{4})\s*年(?:\s*(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*日)?)?"
                       r"(?P<end>底|末)?(?P<before>前|以前|之前)?")


# --------------------------------------------------------------------------------------------------


def _listing() -> str:
    parts = []
    for pid in programme_ids():
        try:
            prog = load_programme(pid)
            parts.append(f"{pid}（{prog.name_zh}，区划 {'、'.join(prog.divisions)}）")
        except IndicatorError:
            parts.append(pid)
    return "；".join(parts)


def _path_of(programme) -> Path:
    if programme is None:
        programme = DEFAULT_PROGRAMME
    if isinstance(programme, Path) or (isinstance(programme, str) and (programme.endswith((".yaml", ".yml"))
                                                                      or "/" in programme or "\\" in programme)):
        return Path(programme)
    pid = str(programme)
    path = PROGRAMMES_DIR / f"{pid}.yaml"
    if not path.exists():
        raise ProgrammeError(f"未知的工作方案 {pid!r}；可用的工作方案：{_listing()}")
    return path


def _programme_head(doc: dict, path: Path) -> Programme:
    raw = doc.get("programme")
    where = f"验收指标文件 {path} 的 programme"
    if not isinstance(raw, dict):
        raise IndicatorError(f"{where}：应为映射（id、name_zh、issuer、document_number、date、divisions、document）")
    unknown = sorted(map(str, set(raw) - set(_PROGRAMME_KEYS)))
    if unknown:
        raise IndicatorError(f"{where}：未知的键 {', '.join(unknown)}（可用：{', '.join(_PROGRAMME_KEYS)}）")
    for key in ("id", "name_zh", "issuer", "date", "divisions"):
        if raw.get(key) in (None, "", []):
            raise IndicatorError(f"{where}：缺少 {key}")
    pid = str(raw["id"]).strip()
    if not _ID.fullmatch(pid):
        raise IndicatorError(f"{where}：id {pid!r} 应为小写字母、数字和连字符")
    divisions = raw["divisions"]
    if not isinstance(divisions, list) or not all(re.fullmatch(r"\d{2,6}", str(d)) for d in divisions):
        raise IndicatorError(f"{where}：divisions 应为 2–6 位区划代码前缀的列表，得到 {divisions!r}")
    document = str(raw.get("document") or "").strip()
    if document and not ((DOCUMENTS_DIR / document).exists() or Path(document).is_absolute() and Path(document).exists()):
        raise IndicatorError(f"{where}：document 文件 {document} 不存在（应在 {DOCUMENTS_DIR} 下）")
    number = raw.get("document_number")
    governs = str(raw.get("governs") or "area").strip()
    if governs not in ("area", "county"):
        raise IndicatorError(f"{where}：governs 应为 area（区划前缀的全部范围）或 county（其下任一县级单位），得到 {governs!r}")
    return Programme(id=pid, name_zh=str(raw["name_zh"]).strip(), issuer=str(raw["issuer"]).strip(),
                     document_number=str(number).strip() if number else None, date=str(raw["date"]).strip(),
                     divisions=tuple(str(d) for d in divisions), document=document, path=path, governs=governs)


def _text(entry: dict, key: str) -> str:
    v = entry.get(key)
    return "" if v is None else str(v).strip()


def _missing(entry: dict, keys, where: str) -> None:
    for key in keys:
        if entry.get(key) is None or (isinstance(entry[key], str) and not entry[key].strip()):
            raise IndicatorError(f"{where}：缺少 {key}")


def _indicator_v1(entry: dict, where: str) -> Indicator:
    _missing(entry, _REQUIRED_V1, where)
    for key in ("deadline_text", "computable", "reason", "scope", "tasks"):
        if key in entry:
            raise IndicatorError(f"{where}：键 {key} 只用于 version: 2 的工作方案文件")
    text = {k: _text(entry, k) for k in ("indicator_id", "name_zh", "metric_id", "dataset", "unit", "source", "clause")}
    comparator = _comparator(entry, where)
    return Indicator(comparator=comparator, target=_target(entry["target"], text["unit"], where),
                     deadline=_deadline(entry["deadline"], where), area=_area(entry, where), **text)


def _indicator_v2(entry: dict, where: str, head: Programme) -> Indicator:
    _missing(entry, _REQUIRED_V2, where)
    if "clause" in entry:
        raise IndicatorError(f"{where}：version: 2 的文件用 source 的 section 与 quote 代替 clause")
    source = entry["source"]
    if not isinstance(source, dict):
        raise IndicatorError(f"{where}：键 source 应为映射（section、quote，可选 document）")
    bad = sorted(map(str, set(source) - {"document", "section", "quote"}))
    if bad:
        raise IndicatorError(f"{where}：source 中未知的键 {', '.join(bad)}（可用：document、section、quote）")
    _missing(source, ("section", "quote"), f"{where} 的 source")
    computable = entry.get("computable", True)
    if not isinstance(computable, bool):
        raise IndicatorError(f"{where}：键 computable 应为 true 或 false，得到 {computable!r}")
    reason = _text(entry, "reason")
    if not computable and not reason:
        raise IndicatorError(f"{where}：computable: false 的指标须写明 reason（为何不可计算）")
    if computable:
        _missing(entry, ("metric_id", "dataset"), where)
        if entry.get("target") is not None:
            _missing(entry, ("comparator", "unit"), where)
    scope = _text(entry, "scope") or "area"
    if scope not in SCOPES:
        raise IndicatorError(f"{where}：键 scope 的值 {scope!r} 无效（可用：{'、'.join(SCOPES)}）")
    unit = _text(entry, "unit")
    has_target = entry.get("target") is not None
    target = _target(entry["target"], unit, where) if has_target else math.nan
    comparator = _comparator(entry, where) if entry.get("comparator") is not None else ""
    if has_target and not comparator:
        raise IndicatorError(f"{where}：有 target 时须给出 comparator")
    tasks = _tasks(entry, where)
    if computable and _text(entry, "metric_id") == "task_completion" and not tasks:
        raise IndicatorError(f"{where}：metric_id task_completion 须用 tasks 选取任务（milestone 节点、name 任务名称模式）")
    section, quote = str(source["section"]).strip(), str(source["quote"]).strip()
    document = str(source.get("document") or head.citation).strip()
    deadline_text = _text(entry, "deadline_text")
    if entry.get("deadline") is None:  # the document sets no date for this target (湖北省: 工作目标 without dates)
        if deadline_text:
            raise IndicatorError(f"{where}：有 deadline_text（{deadline_text}）时须给出 deadline")
        deadline = ""
    else:
        if not deadline_text:
            raise IndicatorError(f"{where}：缺少 deadline_text（期限的原文，如“到2024年6月底”）")
        deadline = _deadline(entry["deadline"], where)
    literal = read_deadline(deadline_text)
    if literal is not None and literal != deadline:
        raise IndicatorError(f"{where}：deadline {deadline} 与期限原文“{deadline_text}”的字面日期 {literal} 不一致")
    return Indicator(indicator_id=_text(entry, "indicator_id"), name_zh=_text(entry, "name_zh"),
                     metric_id=_text(entry, "metric_id"), dataset=_text(entry, "dataset"), comparator=comparator,
                     target=target, deadline=deadline, unit=unit, source=document,
                     clause=f"{section}：“{quote}”", area=_area(entry, where), deadline_text=deadline_text,
                     section=section, quote=quote, document=document, computable=computable, reason=reason,
                     scope=scope, programme=head.id, tasks=tasks)


def _tasks(entry: dict, where: str) -> tuple:
    raw = entry.get("tasks")
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw or set(map(str, raw)) - {"milestone", "name"}:
        raise IndicatorError(f"{where}：键 tasks 应为映射，可用键 milestone（节点，如 2024年3月节点）与 name（任务名称的"
                             f"正则表达式），得到 {raw!r}")
    out = []
    for key in ("milestone", "name"):
        if raw.get(key) is not None:
            value = str(raw[key]).strip()
            if key == "name":
                try:
                    re.compile(value)
                except re.error as exc:
                    raise IndicatorError(f"{where}：tasks 的 name {value!r} 不是合法的正则表达式：{exc}") from None
            out.append((key, value))
    return tuple(out)


def _comparator(entry: dict, where: str) -> str:
    comparator = str(entry["comparator"]).strip()
    if comparator not in COMPARATORS:
        raise IndicatorError(f"{where}：键 comparator 的值 {entry['comparator']!r} 无效（可用：{'、'.join(COMPARATORS)}）")
    return comparator


def _area(entry: dict, where: str) -> str:
    area = entry.get("area", "county")
    area = str(area).strip() if area is not None else "county"
    if area not in LEVELS and not _AREA_CODE.fullmatch(area):
        raise IndicatorError(f"{where}：键 area 的值 {entry.get('area')!r} 无效（应为 county、street、community "
                             "或 6/9/12 位区划代码）")
    return area


def _target(value, unit: str, where: str) -> float:
    if isinstance(value, bool):
        raise IndicatorError(f"{where}：键 target 应为数值，得到 {value!r}")
    if isinstance(value, str) and value.strip().endswith("%"):
        if unit != "比率":
            raise IndicatorError(f"{where}：键 target 的百分数 {value!r} 只能用于单位为“比率”的指标（unit={unit}）")
        value, scale = value.strip()[:-1], 0.01
    else:
        scale = 1.0
    try:
        number = float(value) * scale
    except (TypeError, ValueError):
        raise IndicatorError(f"{where}：键 target 应为数值，得到 {value!r}") from None
    if not math.isfinite(number):
        raise IndicatorError(f"{where}：键 target 应为有限数值，得到 {value!r}")
    return number


def iso_date(value) -> str:
    """A date (``datetime.date``, ``datetime.datetime`` or ``YYYY-MM-DD`` text) as ``YYYY-MM-DD``.

    Raises
    ------
    ValueError
        Anything else (``2024-13-01``, ``30/09/2024``).
    """
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"不是 YYYY-MM-DD 格式的日期：{value!r}")
    return _dt.date.fromisoformat(text).isoformat()


def _deadline(value, where: str) -> str:
    try:
        return iso_date(value)
    except ValueError:
        raise IndicatorError(f"{where}：键 deadline 应为 YYYY-MM-DD 格式的日期，得到 {value!r}") from None
