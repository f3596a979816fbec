"""Report runs: papermill executes the notebooks, then HTML, PDF, Excel, the manifest and the index are written.

``run_report("monthly", period="2024-06")`` and ``run_report("acceptance", as_of="2024-09-30")`` write
``<out_root>/<kind>/<label>/`` (label: the period or the as-of date), which holds exactly these files
(:data:`REPORT_FILES`; anything else a notebook leaves in its working folder is removed with a warning):

- ``notebooks/<name>.ipynb`` — the executed notebooks (code and outputs, for analysts), one per notebook of the kind;
- ``report.html`` — the outputs of the notebooks without code, self-contained (nothing loaded from the network);
- ``report.pdf`` — the same page printed (WeasyPrint, CJK font);
- ``report.xlsx`` — one sheet per table, Chinese headers;
- ``data/*.parquet``, ``data/*.json`` — the tables the notebooks used (and the input fingerprints), so that every
  number can be traced;
- ``manifest.json`` — parameters, sha256 of every input file, package versions, git commit, every indicator's
  value, numerator and denominator (what ``cim verify`` checks), and ``files``: every other file of the folder
  once, by its path in the folder, with its sha256.

The run is written into a hidden sibling folder and renamed into place at the end: an interrupted run leaves no
half-written report that looks complete. Each run then appends its metrics and indicators to the results store
(``<out_root>/_store``) and rewrites ``<out_root>/index.html``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cimlib._io import atomic_path, sha256_file
from cimlib.reports import render
from cimlib.reports.tables import column_labels

def _default_notebooks() -> Path:
    from cimlib._paths import INSTALLED_NOTEBOOKS, checkout_root

    root = checkout_root()
    return root / "notebooks" if root is not None else INSTALLED_NOTEBOOKS


NOTEBOOKS_DIR = _default_notebooks()
"""The report notebooks: the checkout's ``notebooks/``, else the copy installed with the package
(``cimlib/_notebooks/`` in the wheel); ``$CIM_NOTEBOOKS`` overrides (:func:`notebooks_dir`)."""

REPORTS = {
    "monthly": ("月度综合考评报告", ["05_monthly_progress", "02_standard_checks", "03_coverage_mapping",
                                    "04_sensing_network"]),
    "acceptance": ("验收评价报告", ["06_acceptance", "03_coverage_mapping", "02_standard_checks", "04_sensing_network",
                                  "01_catalog_inventory"]),
}
"""Report kind -> (Chinese title, notebooks in the order of the report)."""

SECTION_TITLES = {
    "01_catalog_inventory": "数据资源清单",
    "02_standard_checks": "标准检查",
    "03_coverage_mapping": "覆盖率与上图率",
    "04_sensing_network": "物联感知",
    "05_monthly_progress": "月度综合考评",
    "06_acceptance": "验收评价",
}

SHEET_MODULES = {"部门考评": "monthly", "任务进度": "monthly", "部门进度": "monthly", "问题整改": "changes",
                 "检查问题": "changes", "治理工作清单": "worklist"}
"""Excel sheets whose columns are labelled by a report module's own ``LABELS``."""

PACKAGES = ("cim-workbench", "numpy", "pandas", "pyarrow", "geopandas", "shapely", "pyproj", "dask", "xarray",
            "pandera", "python-stdnum", "duckdb", "papermill", "nbconvert", "matplotlib", "weasyprint")

REPORT_FILES = ("notebooks/*.ipynb", "report.html", "report.pdf", "report.xlsx", "data/*.parquet", "data/*.json",
                "manifest.json")
"""The files of a report folder (patterns relative to it; see the module docstring and docs/reports.md)."""

INDICATOR_KEYS = ("indicator_id", "name_zh", "metric_id", "dataset", "area_code", "comparator", "target", "deadline",
                  "deadline_text", "period", "value", "numerator", "denominator", "unit", "status", "source", "clause")


@dataclass
class ReportRun:
    """Where a run wrote its files, and its manifest."""

    folder: Path
    manifest: dict


def notebooks_dir() -> Path:
    return Path(os.environ.get("CIM_NOTEBOOKS") or NOTEBOOKS_DIR)


def report_label(kind: str, period: str | None, as_of: str | None) -> tuple[str, str | None, str | None]:
    """The run's folder label and its normalised ``(period, as_of)``.

    Raises
    ------
    ValueError
        For an unknown kind or a missing/malformed period or date.
    """
    from cimlib.reports.context import month_end

    if kind not in REPORTS:
        raise ValueError(f"报告类型应为 {' 或 '.join(REPORTS)}，得到 {kind!r}")
    try:
        if kind == "monthly":
            if not period:
                raise ValueError
            period = pd.Period(period, freq="M").strftime("%Y-%m")
            return period, period, month_end(period)
        if not as_of:
            raise ValueError
        as_of = pd.Timestamp(as_of).date().isoformat()
        return as_of, as_of[:7], as_of
    except (ValueError, TypeError):
        want = "--period YYYY-MM" if kind == "monthly" else "--as-of YYYY-MM-DD"
        raise ValueError(f"{REPORTS[kind][0]}需要 {want}（得到 {period or as_of!r}）") from None


def run_report(kind: str, *, catalog, period: str | None = None, as_of: str | None = None, out_root="reports",
               indicators_path=None, progress: bool = True, area_code: str | None = None,
               programme: str | None = None, reuse="auto") -> ReportRun:
    """Run one report end to end (see the module docstring).

    Parameters
    ----------
    kind : {"monthly", "acceptance"}
    catalog : path-like
        Data catalog file.
    period : str, optional
        ``YYYY-MM`` (monthly).
    as_of : str, optional
        ``YYYY-MM-DD`` (acceptance).
    out_root : path-like, default "reports"
    indicators_path : path-like, optional
        A city's own indicator file in the programme format (wins over ``programme``).
    progress : bool, default True
        A progress bar over the steps.
    area_code : str, optional
        Area the report is about (default the catalog's city code).
    programme : str, optional
        Programme id; default the programme covering the catalog's city (the longest division prefix).
    reuse : "auto", path-like or None, default "auto"
        The main run's output root whose ``metrics/`` and ``sensors/`` (``cim metrics --out <root>/metrics``,
        ``cim sensors --out <root>/sensors``) the report reads instead of computing the same tables, when they were
        computed from the same inputs, options and code (:mod:`cimlib.reuse`); ``"auto"``: ``out_root``; ``None``:
        compute everything. The tables are copied into the report's ``data/`` as computed ones are, and the
        manifest's ``reuse`` says what was taken from where (with sha256) and why anything there was not.

    Returns
    -------
    ReportRun

    Raises
    ------
    ValueError
        Bad kind, period or date.
    standards_checks.programmes.ProgrammeError
        An unknown programme, or a city no programme covers (the message lists the programmes).
    RuntimeError
        If a notebook fails (the message names the notebook and the cell's error).
    """
    import papermill as pm
    from tqdm.auto import tqdm

    from cimlib.catalog import Catalog
    from cimlib.reports.context import ReportContext

    from cimlib.reports.indicators import resolve_programme

    label, period, as_of = report_label(kind, period, as_of)
    catalog_path = Path(catalog).resolve()
    cat = Catalog.load(catalog_path)
    area_code = area_code or cat.city_code
    prog = resolve_programme(cat, programme, indicators_path)  # a clear error before anything is computed
    title, names = REPORTS[kind]
    out_root = Path(out_root).resolve()   # the notebooks run in the work folder: a relative path would land there
    final = out_root / kind / label
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{label}.", suffix=".partial", dir=final.parent))
    steps = ["计算指标与检查"] + [f"执行笔记本 {n}" for n in names] + ["生成 HTML", "生成 PDF", "生成 Excel", "写入清单与结果库"]
    bar = tqdm(total=len(steps), desc=title, unit="步", disable=not progress)
    try:
        bar.set_postfix_str(steps[0])
        reuse_dir = out_root if reuse == "auto" else (Path(reuse).resolve() if reuse else None)
        ctx = ReportContext(cat, period=period, as_of=as_of, cache_dir=work / "data", indicators_path=indicators_path,
                            programme=prog.id or None, reuse_dir=reuse_dir)
        indicators = ctx.indicators()
        ctx.metrics()
        # what the notebooks read from the acceptance run and the sensors: computed (or reused) here, once, and
        # written to data/, so that no notebook's kernel computes them again
        ctx.prepare(["problems", "worklist", "worklist_overview", "sensors"])
        bar.update(1)
        params = {"catalog": str(catalog_path), "area_code": area_code, "period": period, "as_of": as_of,
                  "output_dir": str(work), "cache_dir": str(work / "data"), "report_kind": kind,
                  "store_dir": str((out_root / "_store").resolve()),
                  "indicators_path": str(indicators_path) if indicators_path else "", "programme": prog.id}
        (work / "notebooks").mkdir()
        for name in names:
            bar.set_postfix_str(name)
            src = notebooks_dir() / f"{name}.ipynb"
            dst = work / "notebooks" / f"{name}.ipynb"
            try:
                pm.execute_notebook(str(src), str(dst), parameters=params, kernel_name="python3", progress_bar=False,
                                    cwd=str(work), log_output=False, request_save_on_cell_execute=False,
                                    extra_arguments=["--IPKernelApp.log_level=ERROR"])
            except pm.PapermillExecutionError as exc:
                raise RuntimeError(f"笔记本 {name} 执行失败（第 {exc.exec_count} 个单元）：{exc.ename}: {exc.evalue}") from exc
            bar.update(1)
        created = dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")
        meta = (f"依据：{prog.citation or Path(prog.path).name}；统计期 {period}；评价日期 {as_of}；数据目录 {catalog_path.name}"
                f"（sha256 {sha256_file(catalog_path)[:12]}…）；生成于 {created}；个人信息已脱敏")
        sections = [(SECTION_TITLES.get(n, n), render.notebook_body(work / "notebooks" / f"{n}.ipynb")) for n in names]
        basis = f"——依据《{prog.name_zh}》" if prog.name_zh else ""
        render.write_html(render.html_page(f"{cat.title_zh or ''} {title}（{label}）{basis}", sections, meta),
                          work / "report.html")
        bar.update(1)
        render.write_pdf(work / "report.html", work / "report.pdf")
        bar.update(1)
        labels = {**column_labels(), **{sheet: column_labels(mod) for sheet, mod in SHEET_MODULES.items()}}
        render.write_excel(_excel_tables(ctx, kind), work / "report.xlsx", labels=labels)
        bar.update(1)
        _remove_undocumented(work)
        manifest = _manifest(kind, label, params, catalog_path, ctx, indicators, created, prog)
        with atomic_path(work / "manifest.json") as tmp:
            tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
        if final.exists():
            old = final.parent / f".{label}.old-{uuid.uuid4().hex[:8]}"
            final.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        umask = os.umask(0)
        os.umask(umask)
        for d in [work, *(p for p in work.rglob("*") if p.is_dir())]:
            d.chmod(0o777 & ~umask)          # mkdtemp makes 0700; the report is for its readers
        work.rename(final)
        _append_store(out_root, manifest, ctx)
        write_index(out_root)
        bar.update(1)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        bar.close()
    manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    return ReportRun(folder=final, manifest=manifest)


def _excel_tables(ctx, kind: str) -> dict[str, pd.DataFrame]:
    summary, _ = ctx.changes()
    sensors = ctx.sensors()
    metrics = ctx.metrics()
    tables = {"验收指标": ctx.indicators()}
    if kind == "monthly":
        tables.update({"部门考评": ctx.scores(), "任务进度": ctx.tasks(), "部门进度": ctx.departments()})
    tables.update({
        "问题整改": summary,
        "检查问题": ctx.findings().drop(columns=["geometry"], errors="ignore").head(200_000),
        "指标（区县）": metrics[metrics["area_level"] == "county"] if "area_level" in metrics else metrics,
        "指标（街道）": metrics[metrics["area_level"] == "street"] if "area_level" in metrics else metrics.head(0),
        "设备健康": sensors["health"][sensors["health"]["area_level"] != "device"] if len(sensors["health"]) else sensors["health"],
        "阈值告警": sensors["alarms"],
        "异常事件": sensors["anomalies"],
        "道路感知覆盖": sensors["coverage"],
        "无法使用的数据": ctx.problems(),
    })
    worklist = ctx.worklist()
    if len(worklist):          # 治理工作清单: per area, and per record (masked as cim match's files)
        tables["治理工作清单（汇总）"] = worklist
        tables["治理工作清单"] = ctx.worklist_records().head(200_000)
    else:
        tables["治理工作清单"] = pd.DataFrame({"说明": [worklist.attrs.get("note") or "无"]})
    return tables


def _packages() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _version() -> str:
    """The workbench's version (``cimlib.__version__``): what identifies the code when there is no git checkout."""
    import cimlib

    return cimlib.__version__


def _git_commit() -> str | None:
    """The checkout's commit (``-dirty`` with uncommitted changes); None for an installed wheel (its version is in
    the manifest's ``version``), or where git or the repository is missing."""
    from cimlib._paths import checkout_root

    root = checkout_root()
    if root is None:
        return None
    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                             timeout=10)
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root:
            return None     # not a git checkout of its own (e.g. a source archive unpacked inside another repository)
        res = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (res.stdout.strip() + ("-dirty" if dirty else "")) if res.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def documented(relative: str) -> bool:
    """Whether a path in a report folder (``data/metrics.parquet``) is one of its :data:`REPORT_FILES`."""
    from fnmatch import fnmatchcase

    return any(fnmatchcase(relative, pattern) and relative.count("/") == pattern.count("/")
               for pattern in REPORT_FILES)


def _remove_undocumented(folder: Path) -> None:
    """Remove what is not a report file (e.g. a notebook's stray output in its working folder), with a warning."""
    import warnings

    stray = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and not documented(p.relative_to(folder).as_posix()))
    for rel in stray:
        (folder / rel).unlink()
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(d.iterdir()) and d.name not in ("notebooks", "data"):
            d.rmdir()
    if stray:
        warnings.warn(f"报告文件夹中有未列入说明的文件，已删除：{'、'.join(stray[:10])}"
                      + ("等" if len(stray) > 10 else ""), stacklevel=3)


def _manifest(kind, label, params, catalog_path: Path, ctx, indicators: pd.DataFrame, created, prog) -> dict:
    rows = []
    for r in indicators.to_dict("records"):
        rows.append({k: _plain(r.get(k)) for k in INDICATOR_KEYS})
    inputs = ctx.inputs()          # cached as data/inputs.json: written before the folder is listed
    folder = Path(params["output_dir"])
    files = {p.relative_to(folder).as_posix(): sha256_file(p)
             for p in sorted(folder.rglob("*")) if p.is_file() and p.relative_to(folder).as_posix() != "manifest.json"}
    return {
        "kind": kind, "label": label, "created": created,
        "parameters": {k: params[k] for k in ("area_code", "period", "as_of", "report_kind", "programme")},
        "catalog": str(catalog_path), "catalog_sha256": sha256_file(catalog_path),
        "programme": {"id": prog.id, "name_zh": prog.name_zh, "issuer": prog.issuer,
                      "document_number": prog.document_number, "date": prog.date, "divisions": list(prog.divisions),
                      "document": prog.document},
        "indicators_file": str(Path(prog.path).resolve()), "indicators_sha256": sha256_file(prog.path),
        "inputs": inputs, "version": _version(), "packages": _packages(), "git_commit": _git_commit(),
        "indicators": rows, "files": files, **({"reuse": ctx.reused} if ctx.reused else {}),
    }


def _plain(v):
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, (pd.Timestamp, dt.date)):
        return v.isoformat()
    return v


def _append_store(out_root: Path, manifest: dict, ctx) -> None:
    from cimlib.reports.store import ResultsStore

    headline = {r["indicator_id"]: r["value"] for r in manifest["indicators"]}
    stamp = pd.Timestamp(manifest["created"]).tz_convert("UTC").strftime("%Y%m%dT%H%M%SZ")
    run_id = f"{manifest['kind']}-{manifest['label']}-{stamp}"
    tables = {"metrics": ctx.metrics(), "indicators": ctx.indicators()}
    if manifest["kind"] == "monthly":
        tables["scores"] = ctx.scores()
    ResultsStore(out_root / "_store").append(run_id, manifest["kind"], manifest["label"], tables, headline)


MAIN_OUTPUTS = {
    "inventory": [("inventory.html", "清单（网页）"), ("inventory.csv", "清单（CSV）")],
    "check": [("findings.csv", "问题清单（CSV）"), ("summary.csv", "检查汇总（CSV）")],
    "metrics": [("metrics.csv", "指标表（CSV）"), ("progress.csv", "目标达成进度（CSV）"),
                ("problems.csv", "无法使用的数据（CSV）")],
    "sensors": [("health.csv", "设备健康（CSV）"), ("alarms.csv", "阈值告警（CSV）"), ("anomalies.csv", "异常事件（CSV）"),
                ("coverage.csv", "道路感知覆盖（CSV）")],
    "match": [("matches.csv", "匹配结果（CSV）"), ("summary.csv", "匹配汇总（CSV）")],
}
"""The main run's outputs the index links when they are under its root: ``cim <kind> --out <out_root>/<kind>``."""

def kind_name(kind: str) -> str:
    """The Chinese name of a report or output kind (``acceptance`` -> ``验收评价报告``)."""
    from cimlib.reports.labels import value_label

    return value_label("report_kind", kind)


def download_name(kind: str, label: str, filename: str) -> str:
    """The name a report file is saved under from the index: ``验收评价_2024-09-30.xlsx`` for ``report.xlsx``."""
    stem = kind_name(kind).removesuffix("报告")
    suffix = Path(filename).suffix
    extra = "" if Path(filename).stem == "report" else f"_{Path(filename).stem}"
    return f"{stem}_{label}{extra}{suffix}"


HEADLINE_METRICS = ("mapping_rate", "coding_rate", "governance_rate", "house_coding_rate",
                    "address_qualification_rate")
"""Metrics the index shows first as a report's 主要指标 (上图率 first), in this order."""


def headline_indicators(indicators: list[dict], n: int = 4) -> list[dict]:
    """A report's 主要指标 for the index: rates of :data:`HEADLINE_METRICS` first, each metric and dataset once at
    its latest deadline (the final target), then other rates in the programme's order.

    Parameters
    ----------
    indicators : list of dict
        The manifest's ``indicators``.
    n : int, default 4

    Returns
    -------
    list of dict
    """
    rates = [r for r in indicators if isinstance(r.get("value"), (int, float)) and not isinstance(r.get("value"), bool)
             and r.get("unit") in (None, "比率", "%")]
    latest: dict = {}
    for r in rates:   # one per metric and dataset: the one with the latest deadline
        k = (r.get("metric_id"), r.get("dataset"))
        if k not in latest or str(r.get("deadline") or "") >= str(latest[k].get("deadline") or ""):
            latest[k] = r
    rank = {m: i for i, m in enumerate(HEADLINE_METRICS)}
    order = {id(r): i for i, r in enumerate(rates)}
    chosen = sorted(latest.values(), key=lambda r: (rank.get(r.get("metric_id"), len(rank)), order[id(r)]))
    return chosen[:n]


def write_index(out_root) -> Path:
    """Rewrite ``<out_root>/index.html``: every report run on disk with its headline figures, and the main run's
    outputs under the same root (inventory, check, metrics, sensors), self-contained.

    Report files keep their documented names (``report.xlsx``); the links' ``download`` attribute names the report
    (``验收评价_2024-09-30.xlsx``), so two downloads do not overwrite each other.

    Parameters
    ----------
    out_root : path-like

    Returns
    -------
    pathlib.Path
    """
    import html

    def link(href: str, text: str, download: str | None = None) -> str:
        dl = f' download="{html.escape(download)}"' if download else ""
        return f'<a href="{html.escape(href)}"{dl}>{html.escape(text)}</a>'

    out_root = Path(out_root)
    rows = []
    for manifest_path in sorted(out_root.glob("*/*/manifest.json")):
        try:
            m = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if m.get("kind") not in REPORTS:
            continue
        kind, label = m["kind"], str(m.get("label", manifest_path.parent.name))
        ind = pd.DataFrame(m.get("indicators", []))
        counts = ind["status"].value_counts().to_dict() if len(ind) else {}
        rel = manifest_path.parent.relative_to(out_root).as_posix()
        head = "；".join(f"{r['name_zh']} {r['value']:.2%}（{r.get('status', '')}）"
                        for r in headline_indicators(m.get("indicators", [])))
        files = " · ".join(link(f"{rel}/{name}", text, download_name(kind, label, name))
                           for name, text in (("report.pdf", "PDF"), ("report.xlsx", "Excel"),
                                              ("manifest.json", "复核清单"))
                           if (manifest_path.parent / name).exists())
        rows.append(
            f"<tr><td>{html.escape(kind_name(kind))}</td><td>{link(f'{rel}/report.html', label)}</td>"
            f"<td>{html.escape(str(m.get('created', '')))}</td><td>{counts.get('达标', 0)}</td>"
            f"<td>{counts.get('未达标', 0)}</td><td>{counts.get('未到期', 0)}</td><td>{html.escape(head)}</td>"
            f"<td>{files}</td></tr>")
    table = ("<table><tr><th>类型</th><th>期次</th><th>生成时间</th><th>达标</th><th>未达标</th><th>未到期</th>"
             "<th>主要指标</th><th>文件</th></tr>" + "".join(rows) + "</table>") if rows else "<p>尚无报告。</p>"
    sections = [("全部报告", table)]
    outputs = []
    for kind, files in MAIN_OUTPUTS.items():
        present = [(name, text) for name, text in files if (out_root / kind / name).is_file()]
        if present:
            links = " · ".join(link(f"{kind}/{name}", text, None if name.endswith(".html") else f"{kind_name(kind)}_{name}")
                               for name, text in present)   # a page opens; a table downloads under a Chinese name
            outputs.append(f"<tr><td>{html.escape(kind_name(kind))}</td><td>{links}</td></tr>")
    if outputs:
        sections.append(("数据检查与分析结果", "<table><tr><th>内容</th><th>文件</th></tr>"
                         + "".join(outputs) + "</table>"))
    page = render.html_page("报告索引", sections, "每次运行 cim report 后更新；点击期次打开报告。")
    return render.write_html(page, out_root / "index.html")
