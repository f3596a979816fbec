"""``format: postgis``: tables, queries, snapshots, day partitions, connections and their failures (real server)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from catalog_helpers import ZH, entry
from cimlib.catalog._db import connect
from cimlib.catalog import (Catalog, CatalogSyntaxError, CRSMismatchError, ReadError, SourceNotFoundError,
                            load_to_postgis)


def _pg(name, table, url, **extra):
    options = {**({"url": url} if url else {}), **extra.pop("options", {})}
    return entry(name, "postgis", table, crs="EPSG:4490", options=options, **extra)


@pytest.fixture(scope="module")
def loaded(postgis_url, tmp_path_factory):
    """A tiny catalog of files (a layer with snapshots, a point table, day-partitioned readings) loaded into PostGIS."""
    import yaml

    root = tmp_path_factory.mktemp("pgsrc")
    boxes = [shapely.box(113.3 + i * 0.01, 31.6, 113.305 + i * 0.01, 31.605) for i in range(3)]
    layer = gpd.GeoDataFrame({"code": ["001", "002", "010"], "name": ZH, "n": [1, 2, 3]}, geometry=boxes,
                             crs="EPSG:4490")
    layer.to_parquet(root / "layer.parquet")
    for period, rows in (("2024-01", 2), ("2024-02", 3)):
        (root / "snap" / f"period={period}").mkdir(parents=True)
        layer.iloc[:rows].to_parquet(root / "snap" / f"period={period}" / "part-0.parquet")
    ts = pd.date_range("2024-02-01 23:00", periods=6, freq="30min")
    for day in ("2024-02-01", "2024-02-02", "2024-02-03"):
        (root / "readings" / f"date={day}").mkdir(parents=True)
        part = pd.DataFrame({"device_id": ["D1", "D2"] * 3, "ts": ts, "value": np.arange(6.0)})
        part[part["ts"].dt.strftime("%Y-%m-%d") == day].to_parquet(root / "readings" / f"date={day}" / "part-0.parquet")
    entries = [
        entry("layer", "geoparquet", "layer.parquet", snapshots={"path": "snap", "periods": ["2024-01", "2024-02"]}),
        entry("readings", "parquet", "readings", id_column="device_id", crs=None),
    ]
    (root / "data_catalog.yaml").write_text(yaml.safe_dump({"version": 1, "entries": entries}, allow_unicode=True),
                                            encoding="utf-8")
    files = Catalog.load(root / "data_catalog.yaml")
    result = load_to_postgis(files, postgis_url, root / "pg", schema="unit", replace=True)
    return files, Catalog.load(result.catalog_path), result, layer


def test_load_writes_a_catalog_of_tables_with_snapshots_and_day_partitions(loaded):
    _, pg, result, _ = loaded
    assert {t["table"]: t["rows"] for t in result.tables} == {"unit.layer": 3, "unit.layer_snapshots": 5,
                                                               "unit.readings": 6}
    assert pg["layer"].format == "postgis" and pg["layer"].snapshots.path == "unit.layer_snapshots"
    assert pg["readings"].options["partition_column"] == "date"
    assert "password" not in result.catalog_path.read_text(encoding="utf-8")


def test_table_reads_as_the_file_did(loaded):
    files, pg, _, layer = loaded
    got = pg.read("layer")
    assert isinstance(got, gpd.GeoDataFrame) and got.crs.to_epsg() == 4490
    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(files.read("layer")), check_dtype=False)
    assert list(got.columns) == list(layer.columns)  # the load-order column stays hidden


def test_columns_subset_keeps_geometry_and_names_a_missing_column(loaded):
    _, pg, _, _ = loaded
    assert list(pg.read("layer", columns=["n"]).columns) == ["n", "geometry"]
    with pytest.raises(ReadError, match="缺少列：nope"):
        pg.read("layer", columns=["nope"])


def test_snapshot_period_is_its_rows_without_the_period_column(loaded):
    _, pg, _, layer = loaded
    jan = pg.read("layer", period="2024-01")
    assert list(jan["code"]) == ["001", "002"] and "period" not in jan.columns
    with pytest.raises(SourceNotFoundError, match="2024-03.*可用期次：2024-01、2024-02"):
        pg.read("layer", period="2024-03")


def test_partition_column_gives_one_dask_partition_per_day(loaded):
    files, pg, _, _ = loaded
    frame = pg.read("readings")
    assert hasattr(frame, "npartitions") and frame.npartitions == 2  # the rows fall on two days
    got = frame.compute().reset_index(drop=True)
    want = files.read("readings").compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(got[["device_id", "ts", "value"]], want[["device_id", "ts", "value"]],
                                  check_dtype=False)


def test_chunked_reading_gives_the_same_rows(loaded, postgis_url, write_catalog):
    _, pg, _, _ = loaded
    path = write_catalog([_pg("layer", "unit.layer", postgis_url, options={"chunksize": 1, "order_by": "_cim_seq"})])
    pd.testing.assert_frame_equal(Catalog.load(path).read("layer"), pg.read("layer"))


def test_query_source(postgis_url, write_catalog, loaded):
    path = write_catalog([_pg("big", "unit.layer", postgis_url,
                              options={"query": "SELECT code, n, geometry FROM unit.layer WHERE n >= 2"})])
    got = Catalog.load(path).read("big")
    assert sorted(got["code"]) == ["002", "010"] and got.crs.to_epsg() == 4490


def test_describe_counts_in_the_database(loaded):
    _, pg, _, _ = loaded
    d = pg.describe("layer")
    assert d["rows"] == 3 and d["crs"] == "EPSG:4490" and d["crs_matches"] is True
    assert d["geometry_type"] == "Polygon" and d["columns"] == ["code", "name", "n", "geometry"]
    assert d["files"] == [] and d["size_bytes"] > 0


def test_fingerprint_changes_with_the_rows_not_their_order(loaded):
    _, pg, _, _ = loaded
    source = pg.inputs("layer")[0]
    before = source.sha256()
    assert len(before) == 64 and pg.resolve_input("postgis:layer").sha256() == before
    assert pg.resolve_input("postgis:layer@2024-01").sha256() != before
    conn = connect(pg["layer"].options["url"], autocommit=True)
    cur = conn.cursor()
    cur.execute("UPDATE unit.layer SET n = n WHERE code = '002'")  # rewrites the row at the end of the table
    assert source.sha256() == before
    cur.execute("UPDATE unit.layer SET n = 99 WHERE code = '002'")
    try:
        assert source.sha256() != before
    finally:
        cur.execute("UPDATE unit.layer SET n = 2 WHERE code = '002'")
        cur.close()
        conn.close()
    assert source.sha256() == before


def test_missing_table_names_the_table(postgis_url, write_catalog):
    path = write_catalog([_pg("ghost", "unit.no_such_table", postgis_url)])
    with pytest.raises(SourceNotFoundError) as info:
        Catalog.load(path).read("ghost")
    assert "postgis:unit.no_such_table" in str(info.value) and "ghost" in str(info.value)


def test_database_down_is_a_clear_error_with_the_password_masked(write_catalog, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CIM_PG_URL", f"postgresql://cim:s3cret-pw@127.0.0.1:{port}/cim")
    path = write_catalog([_pg("layer", "unit.layer", None)])
    with pytest.raises(ReadError) as info:
        Catalog.load(path).read("layer")
    text = str(info.value)
    assert "无法连接数据库" in text and "cim:***@127.0.0.1" in text and "s3cret-pw" not in text


def test_password_in_the_catalog_is_refused(write_catalog):
    path = write_catalog([_pg("layer", "unit.layer", "postgresql://cim:pw@127.0.0.1/cim")])
    with pytest.raises(CatalogSyntaxError, match="options.url.*不得包含密码"):
        Catalog.load(path)


def test_srid_other_than_declared_is_a_crs_mismatch(loaded, postgis_url, write_catalog):
    path = write_catalog([_pg("layer", "unit.layer", postgis_url,
                              options={"query": "SELECT code, ST_Transform(geometry, 3857) AS geometry FROM unit.layer"})])
    with pytest.raises(CRSMismatchError, match="EPSG:3857"):
        Catalog.load(path).read("layer")


def test_existing_table_is_left_alone_without_replace(loaded, postgis_url, tmp_path):
    files, _, _, _ = loaded
    result = load_to_postgis(files, postgis_url, tmp_path / "again", schema="unit")
    assert {e for e, _ in result.problems} == {"layer", "readings"}
    assert all("--replace" in p for _, p in result.problems)


def test_column_mapping_applies_to_tables_too(loaded, postgis_url, write_catalog):
    files, _, _, layer = loaded
    mapped = _pg("areas", "unit.layer", postgis_url, schema="admin_areas", id_column="code",
                 columns={"code": "area_code", "n": "level"}, values={"level": {"1": "区", "2": "街道", "3": "社区"}})
    catalog = Catalog.load(write_catalog([mapped]))
    got = catalog.read("areas")
    assert list(got.columns) == ["area_code", "name", "level", "geometry"]
    assert got["area_code"].tolist() == ["001", "002", "010"] and got["level"].tolist() == ["区", "街道", "社区"]
    assert catalog.read("areas", columns=["level"]).columns.tolist() == ["level", "geometry"]
