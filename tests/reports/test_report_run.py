"""A papermill report run end to end on the small sample city: files, offline HTML, no personal data, verify."""

import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from cimlib.cli import main
from cimlib.reports.figures import cjk_font
from cimlib.reports.runner import run_report
from cimlib.reports.verify import verify_manifest


def test_a_full_run_writes_no_input(acceptance_run):
    city, out, run, unchanged = acceptance_run
    assert unchanged, "an input of the sample city was written during the run"
    assert not out.is_relative_to(city)


def test_an_interrupted_run_leaves_the_last_complete_report_alone(city, tmp_path, monkeypatch):
    final = tmp_path / "acceptance" / "2024-09-30"
    final.mkdir(parents=True)
    (final / "manifest.json").write_text('{"previous": true}', encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("papermill.execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_report("acceptance", catalog=city / "data_catalog.yaml", as_of="2024-09-30", out_root=tmp_path,
                   progress=False)
    assert [p.name for p in (tmp_path / "acceptance").iterdir()] == ["2024-09-30"]  # no half-built folder beside it
    assert (final / "manifest.json").read_text(encoding="utf-8") == '{"previous": true}'
    assert not (tmp_path / "index.html").exists() and not (tmp_path / "_store").exists()


def test_the_report_folder_holds_every_file(acceptance_run):
    _, out, run, _ = acceptance_run
    assert run.folder == out / "acceptance" / "2024-09-30"
    for name in ("report.html", "report.pdf", "report.xlsx", "manifest.json"):
        assert (run.folder / name).stat().st_size > 0, name
    executed = sorted(p.stem for p in (run.folder / "notebooks").glob("*.ipynb"))
    assert executed == sorted(["06_acceptance", "03_coverage_mapping", "02_standard_checks", "04_sensing_network",
                               "01_catalog_inventory"])
    assert not list(out.rglob("*.partial"))
    assert (run.folder / "report.pdf").read_bytes().startswith(b"%PDF")
    # nothing of the work folder's data cache is copied into the report (a relative --out resolved again inside
    # the notebooks' working folder did that) or listed in its manifest
    assert not list(run.folder.rglob("reports")) and ".partial" not in json.dumps(run.manifest, ensure_ascii=False)


def test_html_has_no_code_and_loads_nothing_from_the_network(acceptance_run):
    _, out, run, _ = acceptance_run
    pages = list(out.rglob("*.html"))
    assert run.folder / "report.html" in pages and out / "index.html" in pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        soup = BeautifulSoup(text, "html.parser")
        for tag in soup.find_all(True):
            for attr in ("src", "href", "data", "action", "poster"):
                value = tag.get(attr)
                assert not (isinstance(value, str) and re.match(r"\s*(https?:)?//", value)), (page, tag.name, value)
        for style in soup.find_all("style"):
            assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", style.get_text()), page
        for script in soup.find_all("script"):
            assert not re.search(r"\bimport\s*\(?\s*['\"](https?:)?//|from\s+['\"](https?:)?//", script.get_text()), page
    report = (run.folder / "report.html").read_text(encoding="utf-8")
    assert "ctx = ReportContext" not in report and "import " not in BeautifulSoup(report, "html.parser").get_text()
    assert "验收评价" in report and "data:image/png;base64," in report


def test_excel_has_chinese_headers_one_sheet_per_table(acceptance_run):
    _, _, run, _ = acceptance_run
    book = pd.read_excel(run.folder / "report.xlsx", sheet_name=None)
    assert "验收指标" in book and "检查问题" in book and len(book) >= 5
    assert {"分子", "分母", "状态", "指标编号"} <= set(book["验收指标"].columns)
    for sheet, frame in book.items():
        english = [c for c in frame.columns if re.fullmatch(r"[a-z_0-9]+", str(c))]
        assert not english, (sheet, english)


def test_the_work_list_is_in_the_report_and_masked(acceptance_run):
    """The sample city's registers carry address texts: the 治理工作清单 section lists the areas, the workbook the
    records (ids, codes and masked reasons), and no address text appears anywhere under reports/."""
    from cimlib.reports.worklist import LABELS, NO_TEXT_NOTE

    city, out, run, _ = acceptance_run
    text = BeautifulSoup((run.folder / "report.html").read_text(encoding="utf-8"), "html.parser").get_text()
    assert "治理工作清单" in text and NO_TEXT_NOTE not in text and "可达上图率" in text
    sheet = pd.read_excel(run.folder / "report.xlsx", sheet_name="治理工作清单", dtype=str)
    assert set(LABELS.values()) <= set(sheet.columns) and len(sheet)
    truth = pd.read_parquet(city / "truth" / "address_texts.parquet")
    assert set(sheet["记录编号"]) <= set(truth["record_id"])
    assert set(sheet["匹配状态"]) <= {"确定匹配", "部分匹配", "多个候选", "未匹配"}
    texts = truth.loc[truth["text"].str.len() >= 8, "text"].drop_duplicates()
    texts = texts.sample(min(400, len(texts)), random_state=0)
    seen = "\n".join(body for _, body in _texts(out))
    found = [t for t in texts if t in seen]
    assert len(texts) > 100 and not found, found[:3]


def test_manifest_carries_parameters_fingerprints_versions_and_every_indicator(acceptance_run):
    city, _, run, _ = acceptance_run
    m = json.loads((run.folder / "manifest.json").read_text(encoding="utf-8"))
    assert m["parameters"]["as_of"] == "2024-09-30" and m["kind"] == "acceptance"
    assert m["inputs"] and all(re.fullmatch(r"[0-9a-f]{64}", v) for v in m["inputs"].values())
    assert m["packages"]["pandas"] and "git_commit" in m
    ind = pd.DataFrame(m["indicators"])
    assert len(ind) >= 10 and {"value", "numerator", "denominator", "status"} <= set(ind.columns)
    ratio = ind[ind["unit"] == "比率"].dropna(subset=["denominator"])
    ratio = ratio[ratio["denominator"] > 0]
    assert ((ratio["value"] - ratio["numerator"] / ratio["denominator"]).abs() < 1e-12).all()
    # the programme evaluated (the catalog's city 421303 is governed by 随州's plan), each target quoted
    from standards_checks.programmes import load_programme

    prog = load_programme("suizhou")
    assert m["programme"]["id"] == "suizhou" and m["programme"]["name_zh"] == prog.name_zh
    assert m["parameters"]["programme"] == "suizhou" and m["indicators_sha256"] and m["indicators_file"].endswith("suizhou.yaml")
    quotes = {i.indicator_id: i for i in prog.indicators}
    assert set(ind["indicator_id"]) == set(quotes)
    for r in m["indicators"]:
        q = quotes[r["indicator_id"]]
        assert q.quote in r["clause"] and r["deadline_text"] == q.deadline_text and r["source"] == q.source
    html = (run.folder / "report.html").read_text(encoding="utf-8")
    assert f"依据《{prog.name_zh}》" in html and "期限原文" in html and "条款原文" in html
    assert "不可计算" in html and quotes["cim_spatial.task_milestone.governance_basic"].reason in html


def _personal_values(city: Path):
    ids, phones, names = set(), set(), set()
    for f in (city / "snapshots" / "persons").rglob("*.parquet"):
        p = pd.read_parquet(f, columns=["id_number", "name", "phone"])
        ids |= set(p["id_number"].dropna().astype(str))
        phones |= set(p["phone"].dropna().astype(str))
        names |= set(p["name"].dropna().astype(str))
    for f in (city / "snapshots" / "units").rglob("*.csv"):
        u = pd.read_csv(f, encoding="gbk", dtype=str)
        phones |= set(u["phone"].dropna())
        names |= set(u["legal_rep"].dropna())
    return ids, {p for p in phones if len(p) >= 7}, names


def _texts(folder: Path):
    """(file, text) of everything a reader of the reports can see, PDFs and workbooks included."""
    from pypdf import PdfReader

    for f in sorted(folder.rglob("*")):
        if not f.is_file():
            continue
        if f.suffix == ".pdf":
            yield f, "\n".join(page.extract_text() or "" for page in PdfReader(f).pages)
        elif f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                yield f, "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
        elif f.suffix == ".parquet":
            yield f, pd.read_parquet(f).astype(str).to_csv(index=False)
        else:
            yield f, f.read_bytes().decode("utf-8", errors="ignore")


def test_no_personal_value_appears_unmasked_anywhere_under_reports(acceptance_run):
    city, out, _, _ = acceptance_run
    ids, phones, names = _personal_values(city)
    long_names = {n for n in names if len(n) >= 3}
    seen = 0
    for f, text in _texts(out):
        seen += 1
        for v in re.findall(r"\d{17}[\dXx]", text):
            assert v not in ids, (f, "身份证号")
        for v in re.findall(r"\d{7,12}", text):
            assert v not in phones, (f, "电话")
        cells = set(re.findall(r">([^<>]{2,4})<", text)) | set(re.findall(r"[\u4e00-\u9fff]{2,4}", text))
        assert not (cells & long_names), (f, sorted(cells & long_names)[:3])
    assert seen > 10


def test_verify_passes_then_fails_naming_a_changed_input(acceptance_run, tmp_path):
    city, _, run, _ = acceptance_run
    manifest = run.folder / "manifest.json"
    res = verify_manifest(manifest)
    assert res.ok, res.problems
    assert (res.indicators["status"] == "一致").all() and len(res.indicators) >= 40
    cli = CliRunner().invoke(main, ["verify", str(manifest), "--quiet"])
    assert cli.exit_code == 0, cli.output
    victim = city / "snapshots" / "persons" / "period=2024-09" / "part-0.parquet"
    original = victim.read_bytes()
    try:
        data = bytearray(original)
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
        res = verify_manifest(manifest)
        assert not res.ok
        assert any("persons" in p and "已变更" in p for p in res.problems), res.problems
        cli = CliRunner().invoke(main, ["verify", str(manifest)])
        assert cli.exit_code == 1 and "period=2024-09" in cli.output
    finally:
        victim.write_bytes(original)


def test_a_tampered_indicator_is_a_mismatch(acceptance_run, tmp_path):
    _, _, run, _ = acceptance_run
    m = json.loads((run.folder / "manifest.json").read_text(encoding="utf-8"))
    m["indicators"][0]["numerator"] = (m["indicators"][0]["numerator"] or 0) + 1
    fake = tmp_path / "manifest.json"
    fake.write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    res = verify_manifest(fake)
    assert not res.ok
    bad = res.indicators[res.indicators["status"] != "一致"]
    assert set(bad["indicator_id"]) == {m["indicators"][0]["indicator_id"]} and "numerator" in set(bad["field"])


def test_index_lists_the_run_and_the_store_has_it(acceptance_run):
    _, out, run, _ = acceptance_run
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "acceptance/2024-09-30/report.html" in index
    from cimlib.reports.store import ResultsStore

    runs = ResultsStore(out / "_store").runs()
    assert ((runs["kind"] == "acceptance") & (runs["period"] == "2024-09-30")).any()


def test_report_arguments_are_checked(city, tmp_path):
    with pytest.raises(ValueError, match="--period"):
        run_report("monthly", catalog=city / "data_catalog.yaml", out_root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="报告类型"):
        run_report("weekly", catalog=city / "data_catalog.yaml", as_of="2024-09-30", out_root=tmp_path, progress=False)
    res = CliRunner().invoke(main, ["report", "acceptance", "--catalog", str(city / "data_catalog.yaml"),
                                    "--out", str(tmp_path), "--quiet"])
    assert res.exit_code != 0 and "--as-of" in res.output


def test_a_cjk_font_is_installed_for_charts_and_pdf():
    assert cjk_font() is not None, "未找到中文字体：scripts/_env.sh 应安装 fonts-wqy-microhei"


def test_monthly_reports_read_the_previous_month_from_the_store(city, tmp_path):
    out = tmp_path / "reports"
    may = run_report("monthly", catalog=city / "data_catalog.yaml", period="2024-05", out_root=out, progress=False)
    assert "结果库中没有上月的记录" in (may.folder / "report.html").read_text(encoding="utf-8")
    june = run_report("monthly", catalog=city / "data_catalog.yaml", period="2024-06", out_root=out, progress=False)
    page = BeautifulSoup((june.folder / "report.html").read_text(encoding="utf-8"), "html.parser")
    mom = [t for t in page.find_all("table") if "环比变化" in t.get_text()]
    assert mom, "the June report shows no month-on-month table"
    text = mom[0].get_text()
    shown = [f"{r['value']:.2%}" for r in may.manifest["indicators"]
             if isinstance(r["value"], float) and r["unit"] == "比率"]
    assert shown and all(v in text for v in shown), "May's values are missing from the June report"
    from cimlib.reports.store import ResultsStore

    store = ResultsStore(out / "_store")
    assert store.previous_period("monthly", "2024-06") == "2024-05"
    scores = store.read("scores", kind="monthly", periods=["2024-06"])
    assert scores["score_previous"].notna().any()
    book = pd.read_excel(june.folder / "report.xlsx", sheet_name=None)
    assert {"部门考评", "任务进度", "部门进度"} <= set(book)
    # the monthly report (notebook 05 besides the acceptance ones) reads in Chinese too (test_report_language)
    from test_report_language import assert_chinese_tables

    from cimlib.catalog import Catalog

    assert_chinese_tables(june.folder, Catalog.load(city / "data_catalog.yaml"))


def test_a_delivered_catalog_without_snapshots_tasks_or_sensors_still_gets_a_monthly_report(sample_cities, tmp_path):
    """A city onboarding its own deliveries: the missing datasets become statements of the report, not a crash."""
    import shutil

    from cimlib.demo._delivery import delivery_catalog

    root = tmp_path / "city"
    for sub in ("delivery", "truth"):
        shutil.copytree(sample_cities.city(7) / sub, root / sub)
    catalog = root / "delivered.yaml"
    catalog.write_text(delivery_catalog(root), encoding="utf-8")
    out = tmp_path / "reports"
    res = CliRunner().invoke(main, ["report", "monthly", "--period", "2024-09", "--catalog", str(catalog),
                                    "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    folder = out / "monthly" / "2024-09"
    for name in ("report.html", "report.xlsx", "manifest.json"):
        assert (folder / name).stat().st_size > 0, name
    text = BeautifulSoup((folder / "report.html").read_text(encoding="utf-8"), "html.parser").get_text(" ")
    text = re.sub(r"\s+", " ", text)
    assert "数据目录中没有 工作任务清单，本节不适用" in text
    assert "物联感知设备、物联感知监测数据，本节不适用" in text
    assert "数据目录未提供月度快照，按当前数据计" in text
    ind = {r["indicator_id"]: r for r in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["indicators"]}
    qual = ind["address_pipeline.qualification.100"]      # the delivery has no address production records
    assert qual["status"] == "不可计算" and qual["value"] is None
    assert ind["addresses.mapping_rate.100"]["period"] == "2024-09"      # the current state, labelled as the period
    assert "不可计算" in text and "标准地址上图率达到100%" in text
    sheets = pd.ExcelFile(folder / "report.xlsx", engine="openpyxl").sheet_names
    assert "任务进度" in sheets and "检查问题" in sheets
    check = verify_manifest(folder / "manifest.json")
    assert check.ok, check.problems


def test_the_report_folder_holds_exactly_its_documented_files(acceptance_run):
    """Only the files of ``runner.REPORT_FILES`` (listed in docs/reports.md and the runner's docstring)."""
    from cimlib.reports.runner import REPORT_FILES, REPORTS, documented

    _, _, run, _ = acceptance_run
    files = sorted(p.relative_to(run.folder).as_posix() for p in run.folder.rglob("*") if p.is_file())
    assert [f for f in files if not documented(f)] == []
    assert not [p for p in run.folder.rglob("*") if p.is_dir() and p.name not in ("notebooks", "data")]
    assert not list(run.folder.rglob("reports")) and not list(run.folder.rglob("*.partial"))
    expected = {f"notebooks/{n}.ipynb" for n in REPORTS["acceptance"][1]} | {
        p for p in REPORT_FILES if "*" not in p}
    assert expected <= set(files) and any(f.startswith("data/") and f.endswith(".parquet") for f in files)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text(encoding="utf-8")
    import cimlib.reports.runner as runner

    for pattern in REPORT_FILES:
        assert f"`{pattern}`" in docs and f"``{pattern}``" in runner.__doc__.replace("<name>", "*"), pattern
    assert not documented("reports/acceptance/.2024-09-30.x.partial/data/metrics.parquet")
    assert not documented("data/sub/metrics.parquet") and documented("data/metrics.parquet")


def test_the_manifest_lists_every_file_once_with_its_checksum(acceptance_run):
    import hashlib

    _, out, run, _ = acceptance_run
    listed = run.manifest["files"]
    assert isinstance(listed, dict) and listed
    on_disk = sorted(p.relative_to(run.folder).as_posix() for p in run.folder.rglob("*")
                     if p.is_file() and p.name != "manifest.json")
    assert sorted(listed) == on_disk                       # each file once (dict keys), none missing, none extra
    for rel, digest in listed.items():
        assert not Path(rel).is_absolute() and ".." not in Path(rel).parts, rel
        assert (run.folder / rel).resolve().is_relative_to(run.folder.resolve()), rel
        assert hashlib.sha256((run.folder / rel).read_bytes()).hexdigest() == digest, rel
    assert "manifest.json" not in listed


def test_the_index_names_kinds_in_chinese_and_links_the_main_run(acceptance_run):
    from cimlib.reports.labels import value_label

    _, out, run, _ = acceptance_run
    soup = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    cells = [td.get_text(strip=True) for td in soup.find_all("td")]
    assert value_label("report_kind", "acceptance") in cells and "acceptance" not in cells
    links = {a["href"]: a for a in soup.find_all("a", href=True)}
    assert links["acceptance/2024-09-30/report.html"].get_text() == "2024-09-30"
    assert links["acceptance/2024-09-30/report.xlsx"]["download"] == "验收评价_2024-09-30.xlsx"
    assert links["acceptance/2024-09-30/report.pdf"]["download"] == "验收评价_2024-09-30.pdf"
    for href in ("inventory/inventory.html", "inventory/inventory.csv", "check/findings.csv", "check/summary.csv"):
        assert href in links, href
        assert (out / href).is_file()
    assert not [h for h in links if h.startswith(("metrics/", "sensors/"))]    # not run: not linked
    for href in links:
        if not href.startswith("#"):
            assert (out / href).is_file(), href
    assert (run.folder / "report.xlsx").is_file()          # the file keeps its documented name


def test_the_index_headline_is_the_final_mapping_rates_first():
    from cimlib.reports.runner import headline_indicators

    rows = [{"name_zh": "完成底座平台建设", "metric_id": "task_completion", "dataset": None, "value": 0.33,
             "unit": "比率", "deadline": "2024-03-31"},
            {"name_zh": "标准地址上图率达到50%", "metric_id": "mapping_rate", "dataset": "addresses", "value": 0.98,
             "unit": "比率", "deadline": "2024-06-30"},
            {"name_zh": "标准地址上图率达到100%", "metric_id": "mapping_rate", "dataset": "addresses", "value": 0.98,
             "unit": "比率", "deadline": "2024-09-30"},
            {"name_zh": "道路感知覆盖", "metric_id": "sensor_road_km", "dataset": None, "value": 12.0, "unit": "公里",
             "deadline": "2024-09-30"},
            {"name_zh": "标准地址编码率达到100%", "metric_id": "coding_rate", "dataset": "addresses", "value": 1.0,
             "unit": "比率", "deadline": "2024-09-30"}]
    names = [r["name_zh"] for r in headline_indicators(rows)]
    assert names == ["标准地址上图率达到100%", "标准地址编码率达到100%", "完成底座平台建设"]
