"""``cim match`` on the delivered sample city: outputs, masking, summary counts, errors, inputs left untouched."""

import hashlib
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cimlib.cli import main
from cimlib.geocode.run import MATCH_COLUMNS, STATUSES, SUMMARY_COLUMNS, mask_reason

LEVELS = {"户室", "单元", "建筑物", "院落", "门牌", "街路巷", "社区", "街道"}
DOOR = re.compile(r"[0-9０-９]+\s*(?:号|栋|幢|座|单元|室|户|层)|[0-9]+-[0-9]+")


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def delivered(sample_cities):
    """A copy of the delivered city (delivery/ and truth/) with its correct catalog ``delivered.yaml``."""
    return sample_cities.delivered(7)


@pytest.fixture(scope="module")
def persons_run(delivered, tmp_path_factory):
    before = _tree(delivered)
    out = tmp_path_factory.mktemp("match_out") / "persons"
    res = CliRunner().invoke(main, ["match", "--catalog", str(delivered / "delivered.yaml"), "--dataset", "persons",
                                    "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    return delivered, out, res.output, before


def _persons(root: Path) -> pd.DataFrame:
    from cimlib.catalog import Catalog

    return Catalog.load(root / "delivered.yaml").read("persons")


def test_outputs_have_the_contract_columns_and_nothing_is_written_into_inputs(persons_run):
    root, out, output, before = persons_run
    assert _tree(root) == before                                   # inputs untouched, nothing added beside them
    assert sorted(p.name for p in out.iterdir()) == ["matches.csv", "matches.parquet", "summary.csv"]  # no .partial
    m = pd.read_parquet(out / "matches.parquet")
    assert list(m.columns) == MATCH_COLUMNS
    assert str(pq.read_schema(out / "matches.parquet").field("candidates").type) == "list<element: string>"
    raw = (out / "matches.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                         # UTF-8 with BOM, like findings.csv
    csv = pd.read_csv(out / "matches.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(csv.columns) == MATCH_COLUMNS and len(csv) == len(m)
    assert (csv["candidates"] == m["candidates"].map(";".join)).all()
    s = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", dtype={"street_code": str, "community_code": str})
    assert list(s.columns) == SUMMARY_COLUMNS
    assert "地址匹配" in output and str(out) in output


def test_matches_are_the_unlinked_records_with_a_text_and_statuses_are_consistent(persons_run):
    root, out, _, _ = persons_run
    persons = _persons(root)
    text = persons["address_text"].astype("string").str.strip()
    with_text = set(persons.loc[text.notna() & (text != ""), "person_id"].astype(str))
    m = pd.read_parquet(out / "matches.parquet")
    assert set(m["record_id"]) == with_text and m["record_id"].is_unique   # delivered persons carry no address_id
    assert set(m["status"]) <= set(STATUSES) and (m["dataset"] == "persons").all()
    assert m["score"].between(0, 1).all()
    found = m["status"].isin(["matched", "partial"])
    assert m.loc[found, "address_id"].notna().all() and m.loc[found, "match_level"].isin(LEVELS).all()
    from cimlib.catalog import Catalog

    lib = Catalog.load(root / "delivered.yaml").read("addresses")
    assert m.loc[found, "address_id"].isin(set(lib["address_id"].astype(str))).all()
    amb = m[m["status"] == "ambiguous"]
    assert amb["address_id"].isna().all() and (amb["candidates"].map(len) >= 2).all()
    truth = pd.read_parquet(root / "truth" / "delivery_addresses.parquet")
    junk = set(truth.loc[(truth["dataset"] == "persons") & (truth["form"] == "junk"), "record_id"])
    assert not m[m["record_id"].isin(junk) & found].shape[0]       # junk texts are never matched


def test_summary_counts_agree_with_the_matches(persons_run):
    root, out, _, _ = persons_run
    m = pd.read_parquet(out / "matches.parquet")
    s = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", dtype={"street_code": str, "community_code": str})
    assert s["records"].sum() == len(_persons(root))
    by = s.groupby("status")["records"].sum()
    for status in STATUSES:
        assert by.get(status, 0) == (m["status"] == status).sum(), status
    assert by.get("linked", 0) == 0                                # no address_id column: nothing linked by code
    assert not s.duplicated(["dataset", "street_code", "community_code", "status"]).any()
    # areas come from the matched address when the register carries no codes
    comm = s.loc[s["status"] == "matched", "community_code"].dropna()
    assert len(comm) and comm.str.fullmatch(r"\d{12}").all()


def test_files_are_masked(persons_run):
    root, out, _, _ = persons_run
    persons = _persons(root)
    texts = set(persons["address_text"].dropna().astype(str))
    for name in ("matches.csv", "summary.csv"):
        body = (out / name).read_text(encoding="utf-8-sig")
        assert not DOOR.search(body), name                         # no door plate, building, unit or room number
    m = pd.read_parquet(out / "matches.parquet")
    assert not m["reason"].fillna("").str.contains(DOOR).any()
    body = m.astype(str).to_csv(index=False)
    assert not [t for t in texts if re.search(r"\d", t) and t in body]
    for col in ("id_number", "name", "phone"):
        assert not [v for v in persons[col].dropna().astype(str) if len(v) >= 3 and v in body], col


def test_files_cannot_be_written_unmasked(tmp_path):
    from cimlib.geocode.outputs import write_match_outputs
    from cimlib.geocode.run import MatchResult

    empty = MatchResult(pd.DataFrame(columns=MATCH_COLUMNS), pd.DataFrame(columns=SUMMARY_COLUMNS), "persons")
    with pytest.raises(ValueError, match="脱敏"):
        write_match_outputs(empty, tmp_path / "o", masked=False)
    assert not (tmp_path / "o").exists()


def test_writer_masks_door_plates_and_rooms_even_in_an_unmasked_result(tmp_path):
    from cimlib.geocode.outputs import write_match_outputs
    from cimlib.geocode.run import MatchResult

    reasons = ["标准地址库中未找到户室“501室”，只匹配到单元一级", "地址中有未能识别的部分：B座301，已匹配到可识别的最细一级",
               "标准地址库中未找到门牌号“先锋路113号”，只匹配到街路巷一级", None]
    m = pd.DataFrame({"dataset": "persons", "record_id": ["P1", "P2", "P3", "P4"], "address_id": ["A1", "A2", "A3", None],
                      "status": ["partial", "partial", "partial", "ambiguous"], "match_level": ["单元", "建筑物", "街路巷", None],
                      "score": [0.8, 0.9, 0.5, 0.7], "candidates": [["A1"], ["A2"], ["A3"], ["A8", "A9"]],
                      "reason": reasons})
    summary = pd.DataFrame({"dataset": ["persons"] * 2, "street_code": ["421303001"] * 2, "community_code": [""] * 2,
                            "status": ["partial", "ambiguous"], "records": [3, 1]})
    write_match_outputs(MatchResult(m, summary, "persons"), tmp_path)
    assert DOOR.search("".join(r for r in reasons if r))                         # the input does quote numbers
    csv = (tmp_path / "matches.csv").read_text(encoding="utf-8-sig")
    assert not DOOR.search(csv) and "B座***" in csv and "A8;A9" in csv
    back = pd.read_parquet(tmp_path / "matches.parquet")
    assert not back["reason"].fillna("").str.contains(DOOR).any()
    assert back["candidates"].map(list).tolist() == [["A1"], ["A2"], ["A3"], ["A8", "A9"]]


def test_mask_reason_keeps_counts_and_codes_and_is_idempotent():
    s = pd.Series(["未找到门牌“先锋路113号”", "楼栋 8栋 不在院落中；候选 3 个，得分 0.85", None,
                   "室 501室 未找到（8-1-501）", "社区 421303001001 内无此路", "八号楼三单元；未找到“五四街”",
                   "地址中有未能识别的部分：B座301，已匹配到可识别的最细一级"])
    once = mask_reason(s)
    assert once.tolist() == ["未找到门牌“先锋路***号”", "楼栋 *栋 不在院落中；候选 3 个，得分 0.85", None,
                             "室 ***室 未找到（*-*-***）", "社区 421303001001 内无此路", "*号楼*单元；未找到“五四街”",
                             "地址中有未能识别的部分：B座***，已匹配到可识别的最细一级"]
    assert mask_reason(once).tolist() == once.tolist()


def test_linked_records_are_counted_not_listed(delivered, tmp_path):
    """A house is linked as the metrics count it, by its building; only the houses the truth says lost their
    building link (house_no_building) are matched, whatever their address code says."""
    from cimlib.catalog import Catalog

    cat = Catalog.load(delivered / "delivered.yaml")
    houses = cat.read("houses")
    defects = pd.read_csv(delivered / "truth" / "defects.csv", dtype=str)
    lost = set(defects.loc[(defects["dataset"] == "houses") & (defects["defect"] == "house_no_building"), "record_id"])
    unlinked = houses["house_id"].astype(str).isin(lost)
    res = CliRunner().invoke(main, ["match", "--catalog", str(delivered / "delivered.yaml"), "--dataset", "houses",
                                    "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0, res.output
    m = pd.read_parquet(tmp_path / "o" / "matches.parquet")
    s = pd.read_csv(tmp_path / "o" / "summary.csv", encoding="utf-8-sig")
    assert 0 < unlinked.sum() < len(houses)
    assert s.loc[s["status"] == "linked", "records"].sum() == (~unlinked).sum()
    assert set(m["record_id"]) == set(houses.loc[unlinked & houses["address_text"].notna(), "house_id"].astype(str))


def _without_text_mapping(root: Path, tmp_path: Path) -> Path:
    text = (root / "delivered.yaml").read_text(encoding="utf-8")
    assert "经营地址: address_text" in text
    cat = root / "no_text.yaml"  # beside the delivery so that its relative paths resolve; removed below
    cat.write_text(re.sub(r"\n\s*经营地址: address_text", "", text), encoding="utf-8")
    return cat


def test_clear_errors_for_a_schema_without_texts_and_an_absent_column(delivered, tmp_path):
    res = CliRunner().invoke(main, ["match", "--catalog", str(delivered / "delivered.yaml"), "--dataset", "addresses",
                                    "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 1 and "address_text" in res.output and "addresses" in res.output
    cat = _without_text_mapping(delivered, tmp_path)
    try:
        res = CliRunner().invoke(main, ["match", "--catalog", str(cat), "--dataset", "units", "--out",
                                        str(tmp_path / "o"), "--quiet"])
        assert res.exit_code == 1 and "没有地址文本列 address_text" in res.output and "--text-column" in res.output
        assert "实有单位.xlsx" in res.output                        # names the file
        assert not (tmp_path / "o").exists()
        res = CliRunner().invoke(main, ["match", "--catalog", str(cat), "--dataset", "units", "--text-column", "经营地址",
                                        "--out", str(tmp_path / "o2"), "--quiet"])
        assert res.exit_code == 0, res.output
        assert len(pd.read_parquet(tmp_path / "o2" / "matches.parquet")) > 0
    finally:
        cat.unlink()


def test_unmasked_only_on_a_terminal_and_never_in_files(delivered, tmp_path, monkeypatch):
    args = ["match", "--catalog", str(delivered / "delivered.yaml"), "--dataset", "units", "--quiet", "--unmasked"]
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    assert res.exit_code == 2 and "交互会话" in res.output and not (tmp_path / "a").exists()
    monkeypatch.setattr("cimlib.cli._interactive", lambda: True)
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    from cimlib.catalog import Catalog

    units = Catalog.load(delivered / "delivered.yaml").read("units")
    raw = [t for t in units["address_text"].dropna().astype(str) if re.search(r"[0-9０-９]", t)]
    shown = [t for t in raw if t in res.output]
    assert shown                                                   # raw texts on the analyst's screen
    for name in ("matches.csv", "summary.csv"):
        body = (tmp_path / "b" / name).read_text(encoding="utf-8-sig")
        assert not [t for t in shown if t in body]
    assert not DOOR.search(pd.read_parquet(tmp_path / "b" / "matches.parquet").astype(str).to_csv())


def test_help_is_chinese_and_lists_the_outputs():
    res = CliRunner().invoke(main, ["match", "--help"])
    assert res.exit_code == 0
    for word in ("地址匹配", "matches.parquet", "summary.csv", "--unmasked", "reports/match", "address_text"):
        assert word in res.output
