"""Place names in a sample city read as people write them: 重庆市万州区, never 重庆市市辖区万州区."""

import pandas as pd
import pytest

from cimlib import Catalog

WRITTEN = "重庆市万州区"


@pytest.fixture(scope="module")
def wanzhou(sample_cities):
    """重庆市万州区 (500101, city level 市辖区 in the tables), small, with the departments' delivery (on 重庆's
    timeline, shared with the timeline tests)."""
    return sample_cities.area("500101")


def test_catalog_title(wanzhou):
    assert Catalog.load(wanzhou / "data_catalog.yaml").title_zh == f"{WRITTEN} CIM 样例城市"


def test_standard_addresses_start_with_the_written_name(wanzhou):
    cat = Catalog.load(wanzhou / "data_catalog.yaml")
    periods = cat.periods("addresses")
    for period in (periods[0], periods[-1]):
        full = cat.read("addresses", period=period)["full_address"].astype(str)
        assert len(full) > 0
        assert full.str.startswith(WRITTEN).all(), full[~full.str.startswith(WRITTEN)].head().tolist()
        assert not full.str.contains("市辖区").any()
    addr = cat.read("addresses")
    assert addr.loc[addr["element_type"].astype(str) == "13", "full_address"].tolist() == [WRITTEN]


def test_free_text_addresses_have_no_placeholder_city(wanzhou):
    for name in ("address_texts.parquet", "delivery_addresses.parquet"):
        t = pd.read_parquet(wanzhou / "truth" / name)
        assert not t["text"].astype(str).str.contains("市辖区").any(), name
        assert t.loc[t["form"] == "full", "text"].str.startswith(WRITTEN).all(), name
        # without the province level, a 直辖市's district is written alone
        assert t.loc[t["form"] == "no_province", "text"].str.startswith("万州区").all(), name
    units = pd.read_excel(wanzhou / "delivery" / "市市场监督管理局" / "实有单位.xlsx", dtype=str, engine="openpyxl")
    assert set(units["登记机关"]) == {f"{WRITTEN}市场监督管理局"}
    std = pd.read_csv(wanzhou / "delivery" / "市公安局" / "标准地址.csv", dtype=str, encoding="gbk")
    assert not std.apply(lambda c: c.astype(str).str.contains("市辖区")).any().any()
