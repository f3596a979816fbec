"""Files broken the way departments break them: each one read through the catalog and through the checks.

Every case builds its broken file in ``tmp_path`` and asserts, for ``Catalog.read`` and for ``run_checks``, the
Chinese message (what is wrong, what to do) and, for a failure, the library's own text kept after it. Nothing is
ever written beside the delivered files.
"""

from __future__ import annotations

import hashlib
import struct
import warnings
import zipfile

import pandas as pd
import pytest
from catalog_helpers import ZH, entry

from cimlib.catalog import Catalog, CatalogWarning, ReadError


def _snapshot(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def _read(catalog_path, name="t"):
    """``Catalog.read``: (frame, warnings) — or raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = Catalog.load(catalog_path).read(name)
    return frame, [str(w.message) for w in caught if issubclass(w.category, CatalogWarning)]


def _findings(catalog_path, rule_id: str, name="t") -> list[str]:
    """Messages of the ``rule_id`` findings of ``run_checks`` on the entry (the delivered files left unchanged)."""
    from standards_checks import run_checks

    folder = catalog_path.parent
    before = _snapshot(folder)
    findings = run_checks(Catalog.load(catalog_path)).findings
    assert _snapshot(folder) == before, "a delivered file was written or a file left beside it"
    got = findings[(findings["dataset"] == name) & (findings["rule_id"] == rule_id)]
    return got["message"].tolist()


def _unreadable(catalog_path, *needles: str, original: str | None = None) -> str:
    """The ReadError of ``Catalog.read`` and the SYS-001 finding of the checks both say ``needles``."""
    with pytest.raises(ReadError) as info:
        Catalog.load(catalog_path).read("t")
    text = str(info.value)
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    if original:
        assert f"（原始错误：{original}" in text
    (finding,) = _findings(catalog_path, "SYS-001")
    for needle in needles:
        assert needle in finding
    return text


# --------------------------------------------------------------------------- password-protected Excel


def _compound_file(streams: list[str]) -> bytes:
    """A minimal OLE2 compound file (512-byte sectors) whose directory holds ``streams`` (as an encrypted Office
    document has ``EncryptionInfo`` and ``EncryptedPackage``)."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD

    def node(name: str, kind: int, right: int = free, child: int = free, start: int = end, size: int = 0) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        return (raw.ljust(64, b"\x00") + struct.pack("<HBB3I", len(raw), kind, 1, free, right, child)
                + bytes(16 + 4 + 16) + struct.pack("<IQ", start, size))

    nodes = [node("Root Entry", 5, child=1)]
    for i, name in enumerate(streams, start=1):
        nodes.append(node(name, 2, right=i + 1 if i < len(streams) else free, start=2, size=512))
    directory = b"".join(nodes).ljust(512 * ((len(nodes) * 128 + 511) // 512), b"\x00")
    dir_sectors = len(directory) // 512
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<9I", 0, 1, 1, 0, 4096, end, 0, end, 0) + struct.pack("<109I", 0, *[free] * 108))
    chain = [fat_sector] + [i + 2 for i in range(dir_sectors - 1)] + [end, end]
    fat = struct.pack(f"<{len(chain)}I", *chain).ljust(512, b"\xff")
    return header + fat + directory + bytes(range(256)) * 2


def test_password_protected_excel(tmp_path, write_catalog):
    (tmp_path / "实有人口.xlsx").write_bytes(_compound_file(["EncryptionInfo", "EncryptedPackage"]))
    path = write_catalog([entry("t", "xlsx", "实有人口.xlsx")])
    _unreadable(path, "实有人口.xlsx", "加密", "密码", "另存为 .xlsx")


def test_password_protected_excel_is_recognised_by_content_under_any_name(tmp_path, write_catalog):
    (tmp_path / "实有人口.csv").write_bytes(_compound_file(["\x06DataSpaces", "EncryptionInfo", "EncryptedPackage"]))
    _unreadable(write_catalog([entry("t", "csv", "实有人口.csv")]), "加密", "另存为 .xlsx")


# --------------------------------------------------------------------------- shapefiles


def _shapefile(tmp_path, gdf, name="b"):
    import pyogrio

    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    pyogrio.write_dataframe(gdf, folder / f"{name}.shp", encoding="UTF-8")
    return folder / f"{name}.shp"


def test_shapefile_without_shx(tmp_path, write_catalog, gdf):
    shp = _shapefile(tmp_path, gdf)
    shp.with_suffix(".shx").unlink()
    path = write_catalog([entry("t", "shapefile", "shp/b.shp")])
    _unreadable(path, "缺少 .shx 索引文件", "restore_shx: true", original="DataSourceError")
    assert not shp.with_suffix(".shx").exists()


def test_shapefile_without_shx_rebuilt_in_a_temporary_copy(tmp_path, write_catalog, gdf):
    shp = _shapefile(tmp_path, gdf)
    shp.with_suffix(".shx").unlink()
    path = write_catalog([entry("t", "shapefile", "shp/b.shp", options={"restore_shx": True})])
    frame, warned = _read(path)
    assert frame["code"].tolist() == ["001", "002", "010"] and frame["name"].tolist() == ZH
    assert frame.geometry.geom_equals(gdf.geometry).all()
    assert any("临时副本" in w and ".shx" in w for w in warned)
    assert sorted(p.name for p in shp.parent.iterdir()) == ["b.cpg", "b.dbf", "b.prj", "b.shp"]  # nothing written
    (finding,) = _findings(path, "SYS-007")
    assert "重建" in finding and "b.shp" in finding
    assert not _findings(path, "SYS-001")


def test_shapefile_with_truncated_dbf(tmp_path, write_catalog, gdf):
    shp = _shapefile(tmp_path, gdf)
    dbf = shp.with_suffix(".dbf")
    data = dbf.read_bytes()
    header_length, record_length = struct.unpack("<HH", data[8:12])
    dbf.write_bytes(data[: header_length + 2 * record_length - 10])  # the third record and half the second cut off
    path = write_catalog([entry("t", "shapefile", "shp/b.shp")])
    _unreadable(path, ".dbf 不完整", ".shp 中有 3 条要素", "只有 1 条完整记录", "重新导出", original="FeatureError")


# --------------------------------------------------------------------------- another format under a known suffix


def test_geojson_under_parquet_name_is_read_as_geojson(tmp_path, write_catalog, gdf):
    (tmp_path / "b.parquet").write_text(gdf.to_json(drop_id=True), encoding="utf-8")
    path = write_catalog([entry("t", "geoparquet", "b.parquet")])
    frame, warned = _read(path)
    assert frame["code"].tolist() == ["001", "002", "010"] and frame.geometry.equals(gdf.geometry)
    (text,) = [w for w in warned if "实为" in w]
    assert "GeoJSON 文件" in text and "已按 GeoJSON 读取" in text and "format 改为 geojson" in text
    (finding,) = _findings(path, "SYS-007")
    assert "已按 GeoJSON 读取" in finding


def test_csv_under_parquet_name_is_read_as_csv(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.parquet", index=False, encoding="gbk")
    path = write_catalog([entry("t", "parquet", "t.parquet")])
    got, warned = _read(path)
    assert got["code"].tolist() == ["001", "002", "010"] and got["name"].tolist() == ZH
    assert any("CSV" in w and "已按 CSV 读取" in w for w in warned)


def test_excel_under_csv_name_is_read_as_excel(tmp_path, write_catalog, frame):
    frame.to_excel(tmp_path / "t.csv", index=False, engine="openpyxl")
    path = write_catalog([entry("t", "csv", "t.csv")])
    got, warned = _read(path)
    assert got["code"].tolist() == ["001", "002", "010"] and got["name"].tolist() == ZH
    assert any("Excel 工作簿" in w and "已按 Excel 读取" in w for w in warned)
    assert any("已按 Excel 读取" in m for m in _findings(path, "SYS-007"))


def test_parquet_under_csv_name_is_read_as_parquet(tmp_path, write_catalog, frame):
    frame.to_parquet(tmp_path / "t.csv")
    got, warned = _read(write_catalog([entry("t", "csv", "t.csv")]))
    assert got["code"].tolist() == ["001", "002", "010"] and any("已按 Parquet 读取" in w for w in warned)


def test_zip_under_parquet_name_asks_to_unpack(tmp_path, write_catalog, frame):
    with zipfile.ZipFile(tmp_path / "t.parquet", "w") as archive:
        archive.writestr("data/b.shp", b"\x00\x00\x27\x0a" + bytes(96))
    _unreadable(write_catalog([entry("t", "parquet", "t.parquet")]), "ZIP 压缩包", "Shapefile", "解压")


def test_html_table_saved_as_xls(tmp_path, write_catalog):
    (tmp_path / "t.xls").write_text("<html><body><table><tr><td>code</td></tr></table></body></html>", encoding="utf-8")
    _unreadable(write_catalog([entry("t", "xlsx", "t.xls")]), "网页（HTML）表格", "另存为 .xlsx")


def test_truncated_parquet(tmp_path, write_catalog, frame):
    frame.to_parquet(tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) // 2])
    _unreadable(write_catalog([entry("t", "parquet", "t.parquet")]), "Parquet 文件不完整", "重新索取",
                original="ArrowInvalid")


# --------------------------------------------------------------------------- empty and header-only files


@pytest.mark.parametrize(("fmt", "filename"), [("csv", "t.csv"), ("xlsx", "t.xlsx"), ("parquet", "t.parquet"),
                                               ("shapefile", "t.shp"), ("geojson", "t.geojson")])
def test_empty_file(tmp_path, write_catalog, fmt, filename):
    (tmp_path / filename).write_bytes(b"")
    extra = {"crs": "EPSG:4490"} if fmt in ("shapefile", "geojson") else {}
    _unreadable(write_catalog([entry("t", fmt, filename, **extra)]), "文件为空", filename)


def test_blank_csv_without_header(tmp_path, write_catalog):
    (tmp_path / "t.csv").write_text("\n\n", encoding="utf-8")
    _unreadable(write_catalog([entry("t", "csv", "t.csv")]), "文件为空", "没有表头", original="EmptyDataError")


def test_header_only_csv_is_an_empty_table_with_a_warning(tmp_path, write_catalog):
    (tmp_path / "t.csv").write_text("code,name,address\n", encoding="utf-8")
    path = write_catalog([entry("t", "csv", "t.csv")])
    frame, warned = _read(path)
    assert len(frame) == 0 and list(frame.columns) == ["code", "name", "address"]
    assert any("只有表头，没有记录" in w for w in warned)
    assert any("只有表头" in m for m in _findings(path, "SYS-007"))


def test_header_only_excel_is_an_empty_table_with_a_warning(tmp_path, write_catalog):
    pd.DataFrame(columns=["code", "name"]).to_excel(tmp_path / "t.xlsx", index=False, sheet_name="名录")
    frame, warned = _read(write_catalog([entry("t", "xlsx", "t.xlsx")]))
    assert len(frame) == 0 and list(frame.columns) == ["code", "name"]
    assert any("工作表 '名录' 只有表头" in w for w in warned)


def test_empty_excel_sheet(tmp_path, write_catalog, frame):
    with pd.ExcelWriter(tmp_path / "t.xlsx") as writer:
        frame.to_excel(writer, index=False, sheet_name="名录")
        pd.DataFrame().to_excel(writer, index=False, sheet_name="空表")
    _unreadable(write_catalog([entry("t", "xlsx", "t.xlsx", options={"sheet": "空表"})]), "工作表 '空表' 为空")


# --------------------------------------------------------------------------- delimiters and summary rows


def test_semicolon_csv_through_the_checks(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.csv", index=False, sep=";", encoding="gbk")
    path = write_catalog([entry("t", "csv", "t.csv")])
    got, _ = _read(path)
    assert got["name"].tolist() == ZH
    assert any("分号" in m for m in _findings(path, "SYS-007"))


def test_total_row_at_the_foot_of_a_csv(tmp_path, write_catalog):
    text = "code,name,count\n001,甲,3\n002,乙,4\n,,\n合  计,,7\n"
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    path = write_catalog([entry("t", "csv", "t.csv")])
    frame, warned = _read(path)
    assert frame["code"].dropna().tolist() == ["001", "002"] and "合计" not in frame["name"].astype(str).tolist()
    assert frame["count"].sum() == 7  # the total is not counted twice
    assert any("合计" in w and "第 4 条记录" in w and "已排除" in w for w in warned)
    assert any("合计" in m and "已排除" in m for m in _findings(path, "SYS-007"))


def test_total_rows_at_the_foot_of_an_excel_sheet(tmp_path, write_catalog):
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["code", "name", "count"])
    for row in (["001", "甲", 3], ["002", "乙", 4], ["003", "小计", 1], [None, "小计", 8], ["总计：", None, 8]):
        ws.append(row)
    book.save(tmp_path / "t.xlsx")
    path = write_catalog([entry("t", "xlsx", "t.xlsx")])
    frame, warned = _read(path)
    assert frame["code"].tolist() == ["001", "002", "003"]  # a 小计 in a data cell of a record is data
    (text,) = [w for w in warned if "汇总行" in w]
    assert "工作表第 5 行（小计）" in text and "工作表第 6 行（总计：）" in text
    assert Catalog.load(path).describe("t")["rows"] == 3


def test_total_row_named_by_the_id_column(tmp_path, write_catalog):
    text = "序号,code,count\n1,001,3\n2,002,4\n3,合计,7\n"  # the first cell is a number: the id column says it
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    frame, warned = _read(write_catalog([entry("t", "csv", "t.csv")]))
    assert frame["code"].tolist() == ["001", "002"] and any("合计" in w for w in warned)


# --------------------------------------------------------------------------- damaged files of a readable format


def test_geojson_cut_short(tmp_path, write_catalog, gdf):
    text = gdf.to_json(drop_id=True)
    (tmp_path / "t.geojson").write_text(text[: len(text) // 2], encoding="utf-8")
    _unreadable(write_catalog([entry("t", "geojson", "t.geojson", crs="EPSG:4490")]), "GeoJSON 文件不完整", "意外结束",
                original="DataSourceError")


def test_damaged_geopackage(tmp_path, write_catalog, gdf):
    gdf.to_file(tmp_path / "b.gpkg", driver="GPKG")
    data = (tmp_path / "b.gpkg").read_bytes()
    (tmp_path / "t.gpkg").write_bytes(data[: len(data) // 3])
    _unreadable(write_catalog([entry("t", "gpkg", "t.gpkg")]), "GeoPackage 文件已损坏或不完整")


def test_csv_with_an_unclosed_quote(tmp_path, write_catalog):
    (tmp_path / "t.csv").write_text('code,name\n001,甲\n002,"乙\n003,丙\n', encoding="utf-8")
    _unreadable(write_catalog([entry("t", "csv", "t.csv")]), "列数不一致", "引号", original="ParserError")


def test_excel_unicode_text_export_utf16_tab(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.txt", sep="\t", index=False, encoding="utf-16")
    got, warned = _read(write_catalog([entry("t", "csv", "t.txt")]))
    assert got["code"].tolist() == ["001", "002", "010"] and got["name"].tolist() == ZH
    assert any("制表符" in w for w in warned)
