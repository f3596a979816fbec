"""Charts that say something: log axes for counts spanning orders of magnitude, named targets and colour bars, the
findings map without a meaningless colour bar, and every figure's title as its alt text in the report."""

import json
from pathlib import Path

import geopandas as gpd
import matplotlib
import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from shapely.geometry import Point, box

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from cimlib.reports import figures, render  # noqa: E402
from cimlib.reports.labels import value_label  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def streets():
    return gpd.GeoDataFrame({"area_code": ["421303001", "421303002"], "name": ["甲街道", "乙街道"],
                             "rate": [0.5, 0.9]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4490")


def test_counts_spanning_orders_of_magnitude_go_on_a_log_axis_with_value_labels():
    rows = pd.DataFrame({"title_zh": ["物联感知监测数据", "标准地址", "中心城区范围"], "rows": [309_079, 3_000, 1]})
    ax = figures.bar_chart(rows, "title_zh", "rows", title="各数据资源记录数", horizontal=True).axes[0]
    assert ax.get_xscale() == "log" and "对数坐标" in ax.get_xlabel()
    assert [t.get_text() for t in ax.texts] == ["309,079", "3,000", "1"]
    close = pd.DataFrame({"k": ["a", "b"], "v": [40, 50]})
    assert figures.bar_chart(close, "k", "v", title="t").axes[0].get_yscale() == "linear"
    assert figures.bar_chart(close, "k", "v", title="t", log=True).axes[0].get_yscale() == "log"
    assert figures.bar_chart(rows, "title_zh", "rows", title="t", log=False).axes[0].get_yscale() == "linear"
    assert figures.wants_log([0, 5, 600]) and not figures.wants_log([0, 5, 400]) and not figures.wants_log([7])


def test_a_target_line_is_named_in_the_legend_and_device_types_by_their_chinese_names():
    frame = pd.DataFrame({"device_type": ["DL", "GAS"], "value": [0.95, 0.8]})
    ax = figures.bar_chart(frame, "device_type", "value", title="各类设备在线率（按小时）", percent=True, target=0.9,
                           codes="device_type").axes[0]
    assert legend_texts(ax) == ["目标 90%"]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == [value_label("device_type", "DL"), value_label("device_type", "GAS")] and "DL" not in ticks
    assert [t.get_text() for t in ax.texts] == ["95.0%", "80.0%"]


def test_series_chart_names_its_target_markers_in_the_legend():
    frame = pd.DataFrame({"period": ["2024-05", "2024-06", "2024-07"], "value": [0.3, 0.5, 0.7],
                          "name_zh": ["标准地址上图率"] * 3})
    fig = figures.series_chart(frame, by="name_zh", title="一标三实上图率（区县）",
                               targets={"2024-09-30": 1.0, "2024-06-30": 0.5})
    assert legend_texts(fig.axes[0]) == ["标准地址上图率", "目标 50%（2024-06-30）", "目标 100%（2024-09-30）"]


def test_a_choropleth_colour_bar_is_named_and_never_without_a_variable():
    fig = figures.choropleth(streets(), "rate", title="标准地址上图率（社区）", label="标准地址上图率")
    bars = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert len(bars) == 1 and bars[0].get_ylabel() == "标准地址上图率（%）"
    fig = figures.choropleth(streets().assign(每千条记录问题数=[3.0, 8.0]), "每千条记录问题数", title="t", percent=False)
    assert [a.get_ylabel() for a in fig.axes if a.get_label() == "<colorbar>"] == ["每千条记录问题数"]
    with pytest.raises(ValueError, match="中文名称"):
        figures.choropleth(streets(), "rate", title="t", label="v")
    with pytest.raises(ValueError, match="outline_map"):
        figures.choropleth(streets().assign(v=1.0), "v", title="问题记录分布", label="问题", percent=False)


def test_the_findings_map_draws_outlines_and_points_by_dataset_with_a_legend_and_no_colour_bar():
    points = gpd.GeoDataFrame({"dataset": ["addresses", "houses", "houses"]},
                              geometry=[Point(0.5, 0.5), Point(1.5, 0.5), Point(1.2, 0.2)], crs="EPSG:4490")
    fig = figures.outline_map(streets(), points, title="问题记录分布", by="dataset", codes="dataset", labels="name")
    assert len(fig.axes) == 1        # no colour bar
    assert legend_texts(fig.axes[0]) == [f"{value_label('dataset', 'houses')}（2）",
                                         f"{value_label('dataset', 'addresses')}（1）"]
    assert figures.figure_title(fig) == "问题记录分布"
    assert legend_texts(figures.outline_map(streets(), points, title="t").axes[0]) == ["问题记录（3）"]


def test_show_displays_the_png_with_its_title_as_alt_text(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append((a, k)))
    fig = figures.bar_chart(pd.DataFrame({"k": ["甲"], "v": [1]}), "k", "v", title="各部门考评得分")
    figures.show(fig)
    (data,), kwargs = shown[0]
    assert kwargs["raw"] and kwargs["metadata"] == {"image/png": {"alt": "各部门考评得分"}}
    assert data["image/png"].startswith("iVBOR")           # base64 PNG
    assert not plt.get_fignums()                          # closed: the inline backend does not draw it again
    fig, _ = plt.subplots()
    fig.suptitle("总标题")
    assert figures.figure_title(fig) == "总标题"


def test_the_report_gives_every_image_its_title_as_alt_text(tmp_path):
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\n"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## 问题记录分布\n\n说明"),
        nbformat.v4.new_code_cell("figures.show(fig)", outputs=[nbformat.v4.new_output(
            "display_data", data={"image/png": png, "text/plain": "<图>"},
            metadata={"image/png": {"alt": "各街道每千条记录问题数 <社区>"}})]),
        nbformat.v4.new_code_cell("plt.show()", outputs=[nbformat.v4.new_output(
            "display_data", data={"image/png": png, "text/plain": "<Figure>"})]),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    imgs = BeautifulSoup(render.notebook_body(path), "html.parser").find_all("img")
    assert [i["alt"] for i in imgs] == ["各街道每千条记录问题数 <社区>", "问题记录分布"]
    assert all(i["src"] == "data:image/png;base64," + png.strip() for i in imgs)
    assert render.NO_ALT not in render.notebook_body(path)


def test_the_notebooks_show_figures_with_alt_text():
    for path in sorted(NOTEBOOKS.glob("0*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert "plt.show()" not in code, path.name
        assert 'assign(v=1.0), "v"' not in code, path.name     # the constant colour bar of 问题记录分布
        if "figures.bar_chart" in code or "figures.choropleth" in code or "figures.series_chart" in code:
            assert "figures.show(" in code, path.name
