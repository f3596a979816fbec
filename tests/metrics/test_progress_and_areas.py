"""Target status and projection on hand-made series; area buckets and roll-up."""

import numpy as np
import pandas as pd
import pytest

from cimlib.metrics import Target, series, target_status
from cimlib.metrics._areas import Areas, roll_up


def _metrics(values, periods, metric_id="mapping_rate", dataset="persons"):
    return pd.DataFrame({"metric_id": metric_id, "dataset": dataset, "area_code": "421303", "area_level": "county",
                         "period": periods, "numerator": np.array(values) * 100, "denominator": 100.0, "value": values,
                         "area_name": "曾都区"})


PERIODS = ["2024-04", "2024-05", "2024-06", "2024-07"]


@pytest.mark.parametrize("values,deadline,status,projected", [
    ([0.4, 0.5, 0.6, 0.7], "2024-09-30", "未到期", "2024-10-30"),    # 0.1 a month from 0.7 at 07-31: 3 months on
    ([0.4, 0.5, 0.6, 0.7], "2024-06-30", "未达标", "2024-10-30"),
    ([0.4, 0.6, 1.0, 1.0], "2024-06-30", "达标", "2024-06-30"),       # met in 2024-06: the month end it was met
    ([0.9, 0.8, 0.8, 0.7], "2024-09-30", "未到期", None),              # falling: not reached at this pace
])
def test_status_and_projection(values, deadline, status, projected):
    t = Target("t", "测试", "mapping_rate", "persons", 1.0, deadline)
    out = target_status(_metrics(values, PERIODS), [t])
    row = out.iloc[0]
    assert row.status == status
    assert row.as_of == "2024-07-31"
    if projected is None:
        assert pd.isna(row.projected_date) and "无法达成" in row.projection_method
    else:
        assert row.projected_date == pd.Timestamp(projected)
    assert "最小二乘" in row.projection_method


def test_status_uses_the_value_of_the_deadline_month():
    t = Target("t", "测试", "mapping_rate", "persons", 0.5, "2024-05-31")
    row = target_status(_metrics([0.4, 0.45, 0.6, 0.7], PERIODS), [t]).iloc[0]
    assert row.status == "未达标" and row.deadline_period == "2024-05" and row.met_period == "2024-06"
    assert row.numerator == 45 and row.denominator == 100


def test_series_is_sorted_and_needs_a_dataset_when_ambiguous():
    m = pd.concat([_metrics([0.3, 0.2], ["2024-02", "2024-01"]), _metrics([0.1, 0.1], ["2024-01", "2024-02"], dataset="units")])
    assert series(m, "mapping_rate", "persons").period.tolist() == ["2024-01", "2024-02"]
    with pytest.raises(ValueError, match="dataset"):
        series(m, "mapping_rate")


@pytest.fixture()
def areas():
    admin = pd.DataFrame({"area_code": ["421303", "421303001", "421303002", "421303001001", "421303001002", "421303002001"],
                          "name": ["曾都区", "东城街道", "西城街道", "甲社区", "乙社区", "丙社区"],
                          "level": ["区", "街道", "街道", "社区", "社区", "社区"],
                          "parent_code": [None, "421303", "421303", "421303001", "421303001", "421303002"]})
    return Areas(admin)


def test_buckets_of_known_and_unknown_codes(areas):
    recs = pd.DataFrame({"street_code": ["421303001", "421303001", "421303002", "421303999", None, None],
                         "community_code": ["421303001002", "421303001999", None, "421303999001", "421303002001", None]})
    assert areas.bucket(recs).tolist() == ["421303001002", "421303001-UNK", "421303002-UNK", "421303-UNK", "421303002001",
                                           "421303-UNK"]
    assert "未知" in areas.name("421303001-UNK") or "缺失" in areas.name("421303001-UNK")


def test_roll_up_sums_communities_into_streets_and_the_county(areas):
    counts = pd.DataFrame({"num": [1, 2, 3, 4], "den": [2, 2, 4, 8]},
                          index=pd.Index(["421303001001", "421303001-UNK", "421303002001", "421303-UNK"]))
    t = roll_up(areas, counts, ["num", "den"]).set_index(["area_level", "area_code"])
    assert t.loc[("community", "421303001002"), "den"] == 0       # a community without records is listed with zero
    assert t.loc[("street", "421303001"), ["num", "den"]].tolist() == [3, 4]
    assert t.loc[("street", "421303-UNK"), ["num", "den"]].tolist() == [4, 8]
    assert t.loc[("county", "421303"), ["num", "den"]].tolist() == [10, 16]


def test_a_deadline_before_the_data_cannot_be_judged():
    t = Target("t", "测试", "mapping_rate", "persons", 0.5, "2024-02-29")
    row = target_status(_metrics([0.6, 0.7, 0.8, 0.9], PERIODS), [t]).iloc[0]
    assert row.status == "无法判定" and pd.isna(row.deadline_period) and row.met_period == "2024-04"


def test_projection_when_the_last_value_is_already_past_the_target():
    from cimlib.metrics.progress import project

    # rising a hair while far above the target: reached at the last period, not an overflowing date in the past
    slope, when = project(["2024-04", "2024-05", "2024-06"], [50.0, 50.0 + 1e-8, 50.0 + 2e-8], 10.0)
    assert slope > 0 and when == pd.Timestamp("2024-06-30")
