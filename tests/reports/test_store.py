"""The results store: round trip, latest run wins, interrupted appends leave nothing behind."""

import json

import numpy as np
import pandas as pd
import pytest

from cimlib.reports import store as store_mod
from cimlib.reports.store import ResultsStore


def _scores(seed: int, n: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "department": [f"部门{i}" for i in range(n)],
        "score": rng.uniform(0, 100, n),
        "overdue": pd.array(rng.integers(0, 3, n), dtype="Int64"),
        "as_of": pd.to_datetime(["2024-06-30"] * n),
        "note": [None, "逾期未完成任务 1 项"] + [None] * (n - 2),
    })


def test_round_trip_and_runs(tmp_path):
    s = ResultsStore(tmp_path / "store")
    scores, metrics = _scores(1), pd.DataFrame({"metric_id": ["mapping_rate"], "value": [0.5]})
    s.append("m-2024-05", "monthly", "2024-05", {"scores": scores, "metrics": metrics},
             {"score_mean": np.float64(scores["score"].mean()), "tasks_overdue": np.int64(2), "missing": np.nan})
    got = s.read("scores")
    assert list(got.columns[:3]) == ["run_id", "kind", "period"]
    assert (got["run_id"] == "m-2024-05").all() and (got["period"] == "2024-05").all()
    pd.testing.assert_frame_equal(got.drop(columns=["run_id", "kind", "period"]), scores)
    runs = s.runs()
    assert runs[["run_id", "kind", "period"]].values.tolist() == [["m-2024-05", "monthly", "2024-05"]]
    assert runs.loc[0, "score_mean"] == pytest.approx(scores["score"].mean())
    assert runs.loc[0, "tasks_overdue"] == 2
    assert pd.isna(runs.loc[0, "missing"])
    assert set(runs.loc[0, "tables"].split(",")) == {"scores", "metrics"}
    assert isinstance(runs.loc[0, "created"], pd.Timestamp)
    # other kinds, periods and tables are kept apart
    s.append("a-2024-06-30", "acceptance", "2024-06-30", {"indicators": pd.DataFrame({"x": [1]})})
    assert s.read("scores", kind="acceptance").empty
    assert len(s.read("indicators")) == 1
    assert s.read("no_such_table").empty


def test_latest_run_per_kind_and_period_wins(tmp_path):
    s = ResultsStore(tmp_path)
    s.append("r1", "monthly", "2024-05", {"scores": _scores(1)})
    s.append("r2", "monthly", "2024-06", {"scores": _scores(2)})
    s.append("r3", "monthly", "2024-06", {"scores": _scores(3)})  # re-run of June
    got = s.read("scores", kind="monthly")
    assert sorted(got["run_id"].unique()) == ["r1", "r3"]
    june = got[got["period"] == "2024-06"].drop(columns=["run_id", "kind", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(june, _scores(3))
    assert s.latest_run("monthly", "2024-06") == "r3"
    every = s.read("scores", kind="monthly", latest=False)
    assert sorted(every["run_id"].unique()) == ["r1", "r2", "r3"]
    assert sorted(s.read("scores", periods="2024-05")["run_id"].unique()) == ["r1"]
    assert sorted(s.read("scores", periods=["2024-05", "2024-06"], run_id="r2", latest=False)["run_id"].unique()) == ["r2"]


def test_latest_run_without_the_table_hides_older_copies(tmp_path):
    s = ResultsStore(tmp_path)
    s.append("old", "monthly", "2024-06", {"scores": _scores(1)})
    s.append("new", "monthly", "2024-06", {"other": _scores(2)})
    assert s.read("scores").empty
    assert len(s.read("scores", latest=False)) == 4


def test_previous_period(tmp_path):
    s = ResultsStore(tmp_path)
    assert s.previous_period("monthly", "2024-06") is None
    for p in ("2024-03", "2024-05", "2024-07"):
        s.append(f"r{p}", "monthly", p, {"t": pd.DataFrame({"a": [1]})})
    s.append("acc", "acceptance", "2024-06", {"t": pd.DataFrame({"a": [1]})})
    assert s.previous_period("monthly", "2024-06") == "2024-05"
    assert s.previous_period("monthly", "2024-05") == "2024-03"
    assert s.previous_period("monthly", "2024-03") is None
    assert s.previous_period("acceptance", "2024-07") == "2024-06"


def test_table_with_its_own_period_column_keeps_it(tmp_path):
    s = ResultsStore(tmp_path)
    metrics = pd.DataFrame({"metric_id": ["m", "m"], "period": ["2024-05", "2024-06"], "value": [0.4, 0.5]})
    s.append("run", "metrics", "2024-06", {"metrics": metrics})
    got = s.read("metrics")
    assert got["period"].tolist() == ["2024-05", "2024-06"]
    assert (got["run_period"] == "2024-06").all()


def test_interrupted_append_leaves_no_partial_run(tmp_path, monkeypatch):
    s = ResultsStore(tmp_path)
    s.append("ok", "monthly", "2024-05", {"scores": _scores(1)}, {"n": 1})
    before_runs = s.runs()

    # 1. the second table fails half way: the first one has already been written into the staging folder
    calls = {"n": 0}
    real = pd.DataFrame.to_parquet

    def flaky(self, path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            with open(path, "wb") as fh:  # a half-written file, then the crash
                fh.write(b"PAR1 truncated")
            raise OSError("disk full (simulated)")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", flaky)
    with pytest.raises(ValueError, match="无法写入"):
        s.append("broken", "monthly", "2024-06", {"a": _scores(2), "b": _scores(3), "c": _scores(4)}, {"n": 2})
    monkeypatch.undo()
    assert calls["n"] == 2

    # 2. everything written, the process dies just before the commit
    def die(stage, final):
        raise KeyboardInterrupt

    monkeypatch.setattr(ResultsStore, "_commit", staticmethod(die))
    with pytest.raises(KeyboardInterrupt):
        s.append("killed", "monthly", "2024-06", {"scores": _scores(5)}, {"n": 3})
    monkeypatch.undo()

    pd.testing.assert_frame_equal(s.runs(), before_runs)
    assert s.previous_period("monthly", "2024-07") == "2024-05"
    assert s.read("a").empty and s.read("b").empty
    assert (s.read("scores")["run_id"] == "ok").all()
    assert [p.name.split("-")[0] for p in (tmp_path / "runs").iterdir()] == ["ok"]
    assert not any((tmp_path / ".staging").iterdir())  # staging cleaned up after the failures

    # the same run ids can be appended afterwards
    s.append("broken", "monthly", "2024-06", {"scores": _scores(2)})
    assert s.latest_run("monthly", "2024-06") == "broken"


def test_staged_run_is_invisible_until_committed(tmp_path):
    """A process killed without cleaning up (SIGKILL) leaves a staging folder: readers never see it."""
    s = ResultsStore(tmp_path)
    s.append("ok", "monthly", "2024-05", {"scores": _scores(1)})
    ghost = tmp_path / ".staging" / "ghost.abc"
    ghost.mkdir(parents=True)
    _scores(9).to_parquet(ghost / "scores.parquet")
    (ghost / "run.json").write_text(json.dumps({"run_id": "ghost", "kind": "monthly", "period": "2024-06",
                                                "created": "2099-01-01T00:00:00+00:00", "headline": {},
                                                "tables": {"scores": {"file": "scores.parquet"}}}))
    (tmp_path / "runs" / "no_manifest").mkdir()
    (tmp_path / "runs" / "no_manifest" / "scores.parquet").write_bytes(b"junk")
    assert s.runs()["run_id"].tolist() == ["ok"]
    assert s.read("scores")["run_id"].unique().tolist() == ["ok"]
    assert s.clean(max_age_hours=1e6) == 0
    assert s.clean(max_age_hours=0) == 1 and not ghost.exists()


@pytest.mark.parametrize("args, match", [
    (("", "monthly", "2024-06"), "运行编号"),
    (("a\nb", "monthly", "2024-06"), "运行编号"),
    (("r", "monthly", "June"), "统计期"),
    (("r", "", "2024-06"), "报告类型"),
    (("r", "monthly", "2024-06", {"../x": pd.DataFrame()}), "表名"),
])
def test_invalid_names(tmp_path, args, match):
    if len(args) == 3:
        args = (*args, {"t": pd.DataFrame({"a": [1]})})
    with pytest.raises(ValueError, match=match):
        ResultsStore(tmp_path).append(*args)
    assert ResultsStore(tmp_path).runs().empty


def test_run_ids_with_any_characters(tmp_path):
    """Report runs are named after their creation time (``2024-10-05T08:30:00+08:00``): colons are not portable in
    folder names, so the folder is a safe form of the id, and the id itself round-trips exactly."""
    s = ResultsStore(tmp_path)
    ids = ["monthly-2024-06-2024-10-05T08:30:00+08:00", "monthly-2024-06-2024-10-05T08_30_00_08_00", "月报/六月"]
    for i, run_id in enumerate(ids):
        s.append(run_id, "monthly", "2024-06", {"t": pd.DataFrame({"a": [i]})})
    assert sorted(s.runs()["run_id"]) == sorted(ids)
    assert all(":" not in p.name and "/" not in p.name for p in (tmp_path / "runs").iterdir())
    assert len(list((tmp_path / "runs").iterdir())) == 3
    got = s.read("t", latest=False).set_index("run_id")["a"]
    assert got.to_dict() == {run_id: i for i, run_id in enumerate(ids)}


def test_duplicate_run_id_and_reserved_headline(tmp_path):
    s = ResultsStore(tmp_path)
    s.append("r", "monthly", "2024-06", {"t": pd.DataFrame({"a": [1]})})
    with pytest.raises(ValueError, match="已存在"):
        s.append("r", "monthly", "2024-07", {"t": pd.DataFrame({"a": [2]})})
    with pytest.raises(ValueError, match="保留"):
        s.append("r2", "monthly", "2024-07", {"t": pd.DataFrame({"a": [2]})}, {"period": "x"})
    assert s.runs()["run_id"].tolist() == ["r"]


def test_geodataframe_and_index_are_stored_plainly(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    g = gpd.GeoDataFrame({"k": ["a", "b"]}, geometry=[Point(113.3, 31.5), None], crs="EPSG:4490").set_index("k")
    s = ResultsStore(tmp_path)
    s.append("g", "monthly", "2024-06", {"g": g})
    got = s.read("g")
    assert got["k"].tolist() == ["a", "b"]
    assert got["geometry"].iloc[0].startswith("POINT (113.3 31.5") and pd.isna(got["geometry"].iloc[1])


def test_default_root():
    assert str(ResultsStore().root).replace("\\", "/") == "reports/_store"
    assert store_mod.DEFAULT_ROOT == ResultsStore().root
