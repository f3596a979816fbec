"""The xlarge scale and the street-by-street (streamed) generator behind it, tested on small cities."""

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

import test_sample_city as base
from cimlib.demo import build_sample_city, disk_use, disk_use_lines
from cimlib.demo._scale import SCALES, get_scale, snapshot_periods
from cimlib.demo._stream import _allocate
from cimlib.demo._timeline import REFERENCE

REGISTERS = ("addresses", "persons", "houses", "units")


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    """The small city generated street by street, one street per written chunk (the xlarge path)."""
    return build_sample_city(tmp_path_factory.mktemp("city") / "chunked", seed=7, scale="small", progress=False,
                             _chunk_streets=1).parent


def test_xlarge_declares_its_counts_periods_and_no_readings():
    sc = get_scale("xlarge")
    assert (sc.persons, sc.addresses, sc.houses, sc.buildings, sc.units, sc.devices) == (
        14_000_000, 5_000_000, 7_000_000, 3_000_000, 1_500_000, 20_000)
    assert sc.streamed and not sc.readings
    assert snapshot_periods(sc, REFERENCE.periods) == ("2024-06", "2024-09")
    assert snapshot_periods(get_scale("large"), REFERENCE.periods) == REFERENCE.periods
    for name in ("small", "medium", "large"):  # the existing scales are generated as before
        assert not SCALES[name].streamed and SCALES[name].readings and SCALES[name].snapshot_months is None


def test_allocation_is_exact_and_proportional():
    out = _allocate(10, [1.0, 1.0, 2.0, 0.0])
    assert out.sum() == 10 and out[3] == 0 and out[2] >= out[0]
    assert _allocate(0, [1.0]).tolist() == [0]


def test_chunked_writer_gives_the_content_of_the_in_memory_path(streamed, tmp_path):
    whole = build_sample_city(tmp_path / "whole", seed=7, scale="small", progress=False, _chunk_streets=None).parent
    assert _files(streamed) == _files(whole)
    chunked_groups = 0
    for rel in _files(whole):
        a, b = streamed / rel, whole / rel
        if a.read_bytes() == b.read_bytes():
            continue
        assert rel.suffix == ".parquet", rel  # the CSV appends and every other file are byte-identical
        chunked_groups = max(chunked_groups, pq.ParquetFile(a).num_row_groups)
        if b"geo" in pq.read_schema(b).metadata:
            ga, gb = gpd.read_parquet(a), gpd.read_parquet(b)
            assert ga.crs == gb.crs
            pd.testing.assert_frame_equal(ga, gb, check_like=False)
            assert pq.read_schema(a).metadata[b"geo"] and len(ga) == pq.ParquetFile(a).metadata.num_rows
        else:
            assert pq.read_table(a).equals(pq.read_table(b)), rel
    assert chunked_groups > 1  # the chunked files were written in several row groups


def test_streamed_city_has_exact_counts_and_true_truth(streamed):
    import json

    facts = json.loads((streamed / "truth" / "facts.json").read_text(encoding="utf-8"))
    sc = get_scale("small")
    assert {k: facts["counts"][k] for k in REGISTERS} == {"addresses": sc.addresses, "persons": sc.persons,
                                                          "houses": sc.houses, "units": sc.units}
    # the whole-city truth tests hold for the city generated street by street
    base.test_defects_file_columns_and_ids_exist(streamed)
    base.test_truth_persons_units_houses(streamed)
    base.test_truth_addresses_outside_their_street(streamed)
    base.test_address_element_tree(streamed)
    base.test_snapshots_progress_is_monotone(streamed)
    ids = pd.read_parquet(streamed / "snapshots" / "persons" / "period=2024-09" / "part-0.parquet",
                          columns=["person_id", "id_number"])
    assert ids["person_id"].is_unique
    dups = base._defects(streamed, "persons", "duplicate_code")
    assert set(ids.loc[ids["id_number"].duplicated(keep=False), "person_id"]) <= dups


def test_two_snapshots_and_no_readings_in_the_catalog(tmp_path, monkeypatch):
    monkeypatch.setitem(SCALES, "small2", replace(SCALES["small"], name="small2", streamed=True,
                                                  snapshot_months=(5, 8), readings=False))
    city = build_sample_city(tmp_path / "c", seed=3, scale="small2", progress=False).parent
    cat = yaml.safe_load((city / "data_catalog.yaml").read_text(encoding="utf-8"))
    names = {e["name"]: e for e in cat["entries"]}
    assert "readings" not in names and not (city / "data" / "readings").exists()
    for reg in REGISTERS:
        assert names[reg]["snapshots"]["periods"] == ["2024-06", "2024-09"]
        assert sorted(p.name for p in (city / "snapshots" / reg).iterdir()) == ["period=2024-06", "period=2024-09"]
        assert (city / names[reg]["path"]).exists()
    facts = yaml.safe_load((city / "truth" / "facts.json").read_text(encoding="utf-8"))
    assert facts["periods"] == ["2024-06", "2024-09"]
    assert list(facts["beidou_grid_by_period"]) == ["2024-06", "2024-09"]
    assert not (city / "truth" / "sensor_events.csv").exists()
    use = disk_use(city)
    assert use["total"] == sum(v for k, v in use.items() if k != "total") > 0
    assert disk_use_lines(city)[0].startswith("磁盘占用：")


def test_streamed_city_refuses_delivery(tmp_path):
    with pytest.raises(ValueError, match="delivery"):
        build_sample_city(tmp_path / "x", scale="small", progress=False, delivery=True, _chunk_streets=1)
