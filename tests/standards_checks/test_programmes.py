"""The five programme files: every target quoted to the letter from its document, deadlines read literally."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from standards_checks.programmes import (DOCUMENTS_DIR, IndicatorError, ProgrammeError, load_indicators,
                                         load_programme, programme_for, programme_ids, read_deadline, unquoted)

IDS = ["chongqing-xinchengjian", "hubei-cim", "suizhou", "taizhou-digital", "wuhan"]
DIVISIONS = {"hubei-cim": ("42",), "suizhou": ("4213",), "taizhou-digital": ("3212",), "chongqing-xinchengjian": ("50",),
             "wuhan": ("4201",)}
SHARED = Path(__file__).resolve().parents[3] / "shared" / "programme"


def test_the_five_programmes_and_their_divisions():
    assert programme_ids() == IDS
    for pid in IDS:
        prog = load_programme(pid)
        assert prog.id == pid and prog.divisions == DIVISIONS[pid]
        assert prog.name_zh and prog.issuer and prog.date and (DOCUMENTS_DIR / prog.document).is_file()
        assert len(prog.indicators) >= 5
    assert load_programme("chongqing-xinchengjian").document_number == "渝府办发〔2021〕140号"


@pytest.mark.parametrize("pid", IDS)
def test_every_quote_is_the_documents_own_words(pid):
    prog = load_programme(pid)
    assert unquoted(prog) == []
    text = prog.document_text()
    for ind in prog.indicators:
        assert ind.quote in text and len(ind.quote) >= 6, ind.indicator_id
        assert ind.source == prog.citation and ind.programme == pid
        assert f"“{ind.quote}”" in ind.clause and ind.section in ind.clause


@pytest.mark.parametrize("pid", IDS)
def test_no_placeholder_and_every_deadline_read_literally(pid):
    prog = load_programme(pid)
    assert "待核实" not in prog.path.read_text(encoding="utf-8")
    for ind in prog.indicators:
        assert not ind.provisional
        if ind.deadline:
            assert read_deadline(ind.deadline_text) == ind.deadline, ind.indicator_id
        else:   # only a document that sets no date for the target (湖北省's 工作目标)
            assert pid == "hubei-cim" and not ind.deadline_text
        if ind.computable:
            assert ind.metric_id and ind.dataset
        else:
            assert ind.reason and len(ind.reason) >= 8, ind.indicator_id
        if not math.isnan(ind.target):
            assert ind.comparator and ind.unit


def test_the_targets_the_issue_names_are_there():
    def rows(pid):
        return {(i.metric_id, i.dataset, i.deadline): i for i in load_programme(pid).indicators}

    wuhan = rows("wuhan")
    assert wuhan[("white_model_coverage", "white_model_extent", "2023-05-31")].computable
    assert wuhan[("fine_model_coverage", "fine_model_extent", "2023-05-31")].computable
    assert wuhan[("house_coding_rate", "houses", "2023-11-30")].computable
    assert any(m == "beidou_grid_rate" for m, _, _ in wuhan)
    cq = rows("chongqing-xinchengjian")
    road = cq[("road_coverage_km", "roads", "2021-12-31")]
    assert road.computable and road.target == 10 and road.unit == "公里"
    assert cq[("smart_community_coverage", "admin_areas", "2021-12-31")].target == pytest.approx(0.3)
    smart = next(i for (m, _, _), i in cq.items() if m == "smart_compound_count")
    assert smart.scope == "city" and smart.target == 100
    assert any(m == "integrated_project_share" and d == "2025-12-31" for m, _, d in cq)
    sz = load_programme("suizhou")
    assert {i.deadline for i in sz.indicators} == {"2024-03-31", "2024-06-30", "2024-09-30"}
    tz = rows("taizhou-digital")
    assert any(m == "records_added" for m, _, _ in tz)
    hb = load_programme("hubei-cim")
    assert {i.dataset for i in hb.indicators if i.metric_id == "mapping_rate"} == {"addresses", "persons", "houses", "units"}


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared programme folder is not beside the repository")
def test_the_vendored_documents_are_the_published_texts():
    for f in SHARED.glob("*.txt"):
        assert (DOCUMENTS_DIR / f.name).read_bytes() == f.read_bytes(), f.name


@pytest.mark.parametrize("code, pid", [("421303", "suizhou"), ("4213", "suizhou"), ("420105", "wuhan"),
                                       ("420602", "hubei-cim"), ("42", "hubei-cim"), ("500101", "chongqing-xinchengjian"),
                                       ("500235", "chongqing-xinchengjian"), ("321281", "taizhou-digital")])
def test_the_longest_division_prefix_chooses_the_programme(code, pid):
    assert programme_for(code).id == pid


def test_a_city_no_programme_covers_gets_the_list():
    with pytest.raises(ProgrammeError) as err:
        programme_for("110101")
    msg = str(err.value)
    assert "110101" in msg and all(pid in msg for pid in IDS) and "--programme" in msg
    with pytest.raises(ProgrammeError, match="未知的工作方案.*wuhan"):
        load_programme("wuhann")


@pytest.mark.parametrize("text, date", [
    ("到2024年6月底", "2024-06-30"), ("到2024年3月底", "2024-03-31"), ("2023年6月前", "2023-05-31"),
    ("2023年12月前", "2023-11-30"), ("2024年12月前", "2024-11-30"), ("到2023年底", "2023-12-31"), ("2023年", "2023-12-31"),
    ("2023年底前", "2023-12-31"), ("到2025年", "2025-12-31"), ("2021年12月1日", "2021-12-01"), ("2024年2月底", "2024-02-29"),
    ("从现在起至2023年底", "2023-12-31"), ("基本完成", None),
])
def test_deadline_words_read_literally(text, date):
    assert read_deadline(text) == date


# --------------------------------------------------------------------------------------------------
# a city's own file in the programme format: errors name the file, the entry and the key


def _doc(**over):
    ind = {"indicator_id": "persons.mapping_rate.50", "name_zh": "实有人口上图率达到50%", "metric_id": "mapping_rate",
           "dataset": "persons", "comparator": ">=", "target": 0.5, "unit": "比率", "deadline": "2024-06-30",
           "deadline_text": "到2024年6月底", "source": {"section": "一、目标", "quote": "到2024年6月底上图率达到50%"}}
    ind.update(over)
    ind = {k: v for k, v in ind.items() if v is not None}
    return {"version": 2, "programme": {"id": "city-own", "name_zh": "某市方案", "issuer": "某市", "date": "2024",
                                        "divisions": ["421303"]}, "indicators": [ind]}


def _write(tmp_path, doc) -> Path:
    p = tmp_path / "own.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def test_a_city_file_in_the_programme_format(tmp_path):
    (ind,) = load_indicators(_write(tmp_path, _doc()))
    assert ind.programme == "city-own" and ind.source == "某市方案" and ind.deadline_text == "到2024年6月底"
    assert ind.clause == "一、目标：“到2024年6月底上图率达到50%”" and ind.computable and ind.scope == "area"


@pytest.mark.parametrize("over, words", [
    ({"deadline": "2024-06-29"}, ["2024-06-30", "不一致"]),                 # the date is not what the words say
    ({"deadline_text": None}, ["deadline_text"]),
    ({"computable": False}, ["reason"]),
    ({"computable": "no"}, ["computable"]),
    ({"scope": "province"}, ["scope"]),
    ({"source": "某市方案"}, ["source"]),
    ({"source": {"section": "一", "quote": "x", "page": 3}}, ["page"]),
    ({"clause": "x"}, ["clause"]),
    ({"metric_id": None}, ["metric_id"]),
    ({"comparator": None}, ["comparator"]),
])
def test_errors_name_the_file_the_entry_and_the_key(tmp_path, over, words):
    path = _write(tmp_path, _doc(**over))
    with pytest.raises(IndicatorError) as err:
        load_indicators(path)
    msg = str(err.value)
    assert str(path) in msg and "第 1 条" in msg and all(w in msg for w in words), msg


def test_programme_header_errors(tmp_path):
    doc = _doc()
    doc["programme"]["divisions"] = ["hubei"]
    with pytest.raises(IndicatorError, match="divisions"):
        load_indicators(_write(tmp_path, doc))
    doc = _doc()
    doc["programme"]["document"] = "不存在.txt"
    with pytest.raises(IndicatorError, match="不存在.txt"):
        load_indicators(_write(tmp_path, doc))
    doc = _doc()
    del doc["programme"]
    with pytest.raises(IndicatorError, match="programme"):
        load_indicators(_write(tmp_path, doc))
