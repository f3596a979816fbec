"""The label table (cimlib.reports.labels) and the display formatting of report tables (cimlib.reports.tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cimlib.reports import labels, tables


@pytest.fixture(autouse=True)
def _no_catalog():
    labels.use_catalog(None)
    yield
    labels.use_catalog(None)


class _Entry:
    def __init__(self, name, title_zh, schema=None):
        self.name, self.title_zh, self.schema = name, title_zh, schema or name


class _Catalog:
    """The two things the label table asks of a catalog: its entries and the admin areas."""

    def __init__(self, entries, areas=None):
        self._entries, self._areas = entries, areas

    def __iter__(self):
        return iter(self._entries)

    def __contains__(self, name):
        return name == "admin_areas" and self._areas is not None

    def read(self, name):
        assert name == "admin_areas"
        return self._areas


def test_headers_module_sections_and_old_names_are_one_table():
    from cimlib.reports import changes, inventory, monthly, store, worklist

    assert labels.header("dataset") == "数据集" and labels.header("device_type") == "设备类型"
    assert labels.header("status") == "状态"
    assert labels.header("status", "monthly") == "考评状态"            # the task table's own header wins
    assert labels.header("status", "worklist") == "匹配状态代码"
    assert labels.header("no_such_column") == "no_such_column"          # unknown columns keep their name
    # the old names are the label table's sections, not copies
    assert changes.LABELS is labels.MODULE_HEADERS["changes"] and monthly.LABELS is labels.MODULE_HEADERS["monthly"]
    assert store.LABELS is labels.MODULE_HEADERS["store"] and worklist.LABELS is labels.MODULE_HEADERS["worklist"]
    assert labels.MODULE_HEADERS["inventory"].items() <= inventory.INVENTORY_LABELS.items()
    assert tables.BASE_LABELS is labels.HEADERS and tables.DATASET_TITLES is labels.DATASET_TITLES
    assert tables.column_labels("changes")["value"] == "本期取值（已脱敏）"
    # every header a person reads is Chinese: no Latin word beyond unit or standard abbreviations
    for table in [labels.HEADERS, *labels.MODULE_HEADERS.values()]:
        for column, text in table.items():
            words = [w for w in pd.Series([text]).str.findall(r"[A-Za-z]{2,}")[0] if w not in ("UTC", "SHA")]
            assert not words, (column, text)


def test_value_labels_name_codes_and_keep_unknown_ones():
    from standards_checks.schemas.devices import DEVICE_CATEGORIES

    assert labels.value_label("severity", "error") == "错误" and labels.value_label("severity", "warning") == "警告"
    assert labels.value_label("anomaly_kind", "flat") == "数值停滞"
    assert labels.value_label("report_kind", "acceptance") == "验收评价报告"
    assert labels.value_label("area_level", "street") == "街道"
    for code, name in DEVICE_CATEGORIES.items():
        assert labels.value_label("device_type", code) == name
    assert labels.value_label("device_type", "XYZ") == "XYZ"             # unknown code kept
    assert labels.value_label("dataset", "addresses") == "标准地址"
    assert labels.value_label("dataset", "my_layer") == "my_layer"


def test_dataset_titles_come_from_the_catalog_first():
    labels.use_catalog(_Catalog([_Entry("addresses", "门牌地址库"), _Entry("pop2024", "人口登记", schema="persons")]))
    assert labels.value_label("dataset", "addresses") == "门牌地址库"
    assert labels.value_label("dataset", "pop2024") == "人口登记"
    assert labels.value_label("dataset", "persons") == "人口登记"        # findings may name the schema
    assert labels.value_label("dataset", "houses") == "实有房屋"          # fallback: the table
    assert tables.missing_note(["tasks"]) == "数据目录中没有 工作任务清单，本节不适用"


def test_display_frame_formats_what_people_read():
    frame = pd.DataFrame({
        "dataset": ["addresses", "persons", "no_such"],
        "severity": ["error", "warning", None],
        "device_type": ["DL", "GAS", "全部"],
        "kind": ["flat", "spike", "level"],
        "rows": [2783.0, 12.0, np.nan],                       # whole counts stored as floats
        "value": [0.5, 1.25, 2.0],
        "fix_rate": [0.5, 1.0, np.nan],
        "area_km2": [12.3456, 0.5, None],
        "start": pd.to_datetime(["2024-09-01 10:30", None, "2024-09-02 00:00"]),
        "deadline": pd.to_datetime(["2024-09-30", "2024-06-30", None]),
        "record_id": ["A1", "A2", None],
        "flag": [True, False, None],
    })
    out = tables.display_frame(frame)
    assert list(out.columns[:5]) == ["数据集", "级别", "设备类型", "类型", "行数"]
    assert out["数据集"].tolist() == ["标准地址", "实有人口", "no_such"]
    assert out["级别"].tolist() == ["错误", "警告", "—"]
    assert out["设备类型"].tolist() == ["排水液位", "燃气浓度", "全部"]
    assert out["类型"].tolist() == ["数值停滞", "突变", "水平偏移"]
    assert out["行数"].tolist() == ["2,783", "12", "—"]
    assert out["数值"].tolist() == ["0.50", "1.25", "2"]                 # cell by cell: counts stay whole
    assert out["整改率"].tolist() == ["50.00%", "100.00%", "—"]
    assert out["面积（平方公里）"].tolist() == ["12.35 km²", "0.50 km²", "—"]
    assert out["开始"].tolist() == ["2024-09-01 10:30", "—", "2024-09-02 00:00"]
    assert out["期限"].tolist() == ["2024-09-30", "2024-06-30", "—"]
    assert out["记录编号"].tolist() == ["A1", "A2", "—"]
    assert out["flag"].tolist() == ["是", "否", "—"]
    text = " ".join(out.astype(str).to_numpy().ravel())
    assert not any(w in text.split() for w in ("nan", "None", "NaT", "<NA>"))
    # the files other programs read keep their English columns and codes: the frame shown is a copy
    assert frame["dataset"].tolist() == ["addresses", "persons", "no_such"] and "dataset" in frame


def test_percent_argument_and_integer_codes():
    frame = pd.DataFrame({"area_code": [421303001, 421303002], "value": [0.9, np.nan], "devices": [3, 40]})
    out = tables.display_frame(frame, percent=("value",))
    assert out["区划代码"].tolist() == ["421303001", "421303002"]        # a code, not 421,303,001
    assert out["数值"].tolist() == ["90.00%", "—"]
    assert out["设备数"].tolist() == ["3", "40"]


def test_area_codes_get_their_names_beside_them():
    areas = pd.DataFrame({"area_code": ["421303001", "421303001001"], "name": ["东城街道", "民主社区"]})
    labels.use_catalog(_Catalog([], areas=areas))
    frame = pd.DataFrame({"area_code": ["421303001", "999"], "street_code": ["421303001", None],
                          "community_code": ["421303001001", "421303001001"], "n": [1, 2]})
    out = tables.display_frame(frame)
    assert list(out.columns) == ["区划代码", "区划名称", "街道代码", "街道", "社区代码", "社区", "n"]
    assert out["区划名称"].tolist() == ["东城街道", "—"]                    # an unknown code has no name, not nan
    assert out["街道"].tolist() == ["东城街道", "—"] and out["社区"].tolist() == ["民主社区"] * 2
    # a table that already names its areas gets no second name column
    named = tables.display_frame(pd.DataFrame({"area_code": ["421303001"], "area_name": ["东城街道"]}))
    assert list(named.columns) == ["区划代码", "区划名称"]


def test_pivot_has_chinese_axes_and_names():
    frame = pd.DataFrame({"area_name": ["东城街道", "东城街道", "西城街道"], "dataset": ["addresses", "persons", "addresses"],
                          "value": [0.5, 1.0, 0.25]})
    table = tables.pivot_display(frame, "area_name", "dataset", "value")
    assert table.index.name == "区划名称" and table.columns.name == "数据集"
    assert list(table.columns) == ["实有人口", "标准地址"] or list(table.columns) == ["标准地址", "实有人口"]
    assert table.loc["西城街道", "标准地址"] == "25.00%" and table.loc["西城街道", "实有人口"] == "—"
    health = pd.DataFrame({"device_type": ["DL", "GAS"], "name_zh": ["数据完整率", "数据完整率"], "value": [0.9, 0.8]})
    assert tables.pivot_display(health, "device_type", "name_zh", "value").index.tolist() == ["排水液位", "燃气浓度"]


def test_findings_summary_names_datasets_and_severities():
    findings = pd.DataFrame({"dataset": ["addresses", "addresses", "persons"], "rule_id": ["ADR-001", "ADR-001", "PER-002"],
                             "severity": ["error", "error", "warning"], "record_id": ["a", "b", "p"],
                             "message": ["m", "m", "n"], "standard": ["s", "s", "t"]})
    s = tables.findings_summary(findings)
    assert s["数据集"].tolist() == ["标准地址", "实有人口"] and s["级别"].tolist() == ["错误", "警告"]
    assert s["规则"].tolist() == ["ADR-001", "PER-002"]                 # rule ids stay: the standard's references


def test_evidence_and_messages_read_without_identifiers():
    ev = "2024-06：标准地址已治理 2,217/收到 2,221 条；拉低指标的记录见 evidence.parquet（dataset=addresses，period=2024-06）；数据问题：RDG-004"
    assert tables.readable_evidence(ev) == f"2024-06：标准地址已治理 2,217/收到 2,221 条；{tables.EVIDENCE_POINTER}；数据问题：RDG-004"
    assert tables.readable_evidence(None) == "—"
    ind = pd.DataFrame({"indicator_id": ["addresses.mapping_rate.50"], "name_zh": ["标准地址上图率达到50%"],
                        "unit": ["比率"], "value": [0.5], "target": [0.5], "evidence": [ev], "period": [None],
                        "projected_date": [None], "status": ["达标"]})
    shown = tables.indicator_display(ind)
    assert "指标编号" in shown.columns        # the id column exists in the display table; the notebooks leave it out
    assert shown["依据"].iloc[0].count("evidence") == 0 and shown["取值期"].iloc[0] == "—"
    msg = pd.DataFrame({"message": ["应为 批准日期（approval_date）≤ 开工日期（start_date）"]})
    assert tables.display_frame(msg)["说明"].iloc[0] == "应为 批准日期≤ 开工日期"
    assert tables.display_frame(pd.DataFrame({"crs": ["CGCS2000 地理坐标系（EPSG:4490）"]}))["crs"].iloc[0].endswith("（EPSG:4490）")


def test_label_codes_for_charts_keeps_column_names():
    frame = pd.DataFrame({"device_type": ["PK", None], "value": [1, 2]})
    out = labels.label_codes(frame)
    assert list(out.columns) == ["device_type", "value"] and out["device_type"].tolist()[0] == "停车泊位"
    assert pd.isna(out["device_type"].tolist()[1])


def test_area_metrics_show_their_parts_in_km2_and_counts_stay_integers():
    from cimlib.reports.tables import metric_parts

    rows = pd.DataFrame({"metric_id": ["white_model_coverage", "white_model_completeness"],
                         "numerator": [418_179_972.14, 1071.0], "denominator": [1_438_060_000.0, 1078.0],
                         "value": [0.29, 0.9935]})
    out = metric_parts(rows)
    assert out["numerator"].tolist() == ["418.18 km²", "1,071"]
    assert out["denominator"].tolist() == ["1,438.06 km²", "1,078"]
    assert rows["numerator"].iloc[0] == 418_179_972.14   # the input is not changed
