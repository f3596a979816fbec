"""Static charts and maps for the reports (matplotlib, PNG embedded in the page): they open with no network at all.

Why static figures: government networks are usually offline. kepler.gl's HTML export loads kepler.gl, React and
their friends from public CDNs (a blank page offline), and interactive charts need their JavaScript inlined into
every page. Matplotlib figures are embedded as PNG data (``data:image/png;base64``) by the notebook, so the HTML
report, its PDF and the executed notebooks show the same pictures offline. Interactive maps stay in JupyterLab
(kepler.gl widget, :func:`kepler_map`), where the analyst has the data.

Chinese text needs a CJK font: :func:`cjk_font` finds one installed on the machine (the setup installs
``fonts-wqy-microhei``) and :func:`use_cjk_font` makes matplotlib use it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "Droid Sans Fallback", "SimHei", "Microsoft YaHei", "PingFang SC")
"""Font families tried in order for Chinese text."""

STATUS_COLOURS = {"达标": "#2e7d32", "未达标": "#c62828", "未到期": "#9e9e9e", "无法判定": "#f9a825", "不可计算": "#607d8b",
                  "仅为全市目标的一部分": "#1565c0", "未规定期限": "#6d4c41", "无目标值": "#78909c"}


def cjk_font() -> str | None:
    """The first installed CJK font family of :data:`CJK_FONTS`, or ``None`` if there is none."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    return None


def use_cjk_font() -> str | None:
    """Make matplotlib draw Chinese text with an installed CJK font; return its name (``None`` with a warning)."""
    name = cjk_font()
    if name is None:
        import warnings

        warnings.warn("未找到中文字体（如 fonts-wqy-microhei），图中的中文可能显示为方框", stacklevel=2)
        return None
    plt.rcParams["font.sans-serif"] = [name, *plt.rcParams["font.sans-serif"]]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return name


def bar_chart(frame: pd.DataFrame, x: str, y: str, *, title: str, xlabel: str = "", ylabel: str = "", percent=False,
              target: float | None = None, colour: str | None = None, horizontal: bool = False, ax=None):
    """A bar chart of ``y`` by ``x`` with an optional target line.

    Parameters
    ----------
    frame : pandas.DataFrame
    x, y : str
        Category and value columns.
    title, xlabel, ylabel : str
        Chinese labels.
    percent : bool, default False
        Values are shares: the axis is shown in percent.
    target : float, optional
        Draw the target as a dashed line.
    colour : str, optional
        A column with colours per bar, or one colour.
    horizontal : bool, default False
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    use_cjk_font()
    n = len(frame)
    if ax is None:
        size = (8, max(2.5, 0.32 * n + 1)) if horizontal else (max(6, 0.45 * n + 2), 4)
        _, ax = plt.subplots(figsize=size, dpi=110)
    values = frame[y].to_numpy(dtype=float) * (100 if percent else 1)
    colours = frame[colour].tolist() if colour in frame else (colour or "#1565c0")
    labels = frame[x].astype(str).tolist()
    if horizontal:
        ax.barh(labels, values, color=colours)
        ax.invert_yaxis()
        if target is not None:
            ax.axvline(target * (100 if percent else 1), ls="--", color="#c62828", lw=1)
    else:
        ax.bar(labels, values, color=colours)
        ax.tick_params(axis="x", labelrotation=45)
        for lab in ax.get_xticklabels():
            lab.set_ha("right")
        if target is not None:
            ax.axhline(target * (100 if percent else 1), ls="--", color="#c62828", lw=1)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (%)" if percent and ylabel else ""))
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure


def series_chart(frame: pd.DataFrame, *, period: str = "period", value: str = "value", by: str | None = None,
                 title: str, percent: bool = True, targets: dict[str, float] | None = None, ax=None):
    """Month-by-month lines (one per ``by`` group) with dated target markers.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``period`` (YYYY-MM) and ``value``.
    by : str, optional
        One line per value of this column.
    title : str
    percent : bool, default True
    targets : dict, optional
        ``{"YYYY-MM-DD": target}``: a marker at the deadline month.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), dpi=110)
    k = 100 if percent else 1
    groups = frame.groupby(by, sort=True) if by else [(None, frame)]
    for name, g in groups:
        g = g.sort_values(period)
        ax.plot(g[period].astype(str), g[value].to_numpy(dtype=float) * k, marker="o", label=name)
    for deadline, t in (targets or {}).items():
        ax.scatter([deadline[:7]], [t * k], marker="*", s=160, color="#c62828", zorder=5)
        ax.annotate(f"目标 {t * k:g}{'%' if percent else ''}（{deadline}）", (deadline[:7], t * k),
                    textcoords="offset points", xytext=(5, -12), fontsize=8, color="#c62828")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if by:
        ax.legend(fontsize=8, ncol=2)
    if percent:
        ax.set_ylabel("%")
    ax.figure.tight_layout()
    return ax.figure


def choropleth(areas, column: str, *, title: str, percent: bool = True, cmap: str = "RdYlGn", labels: str | None = None,
               points=None, ax=None):
    """A static choropleth of ``areas[column]`` (e.g. 上图率 by community), with optional points on top.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
    column : str
    title : str
    percent : bool, default True
    cmap : str
    labels : str, optional
        Column written at each area's representative point.
    points : geopandas.GeoDataFrame, optional
        Drawn as small red dots (e.g. failing records).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7), dpi=110)
    data = areas.copy()
    data["_v"] = data[column].astype(float) * (100 if percent else 1)
    data.plot(column="_v", ax=ax, cmap=cmap, legend=True, edgecolor="#555555", linewidth=0.4,
              missing_kwds={"color": "#eeeeee", "label": "无数据"},
              legend_kwds={"shrink": 0.6, "label": "%" if percent else column})
    if points is not None and len(points):
        points.to_crs(data.crs).plot(ax=ax, markersize=3, color="#c62828", alpha=0.7)
    if labels:
        for geom, text in zip(data.geometry.representative_point(), data[labels].astype(str)):
            ax.annotate(text, (geom.x, geom.y), fontsize=6, ha="center")
    ax.set_title(title)
    ax.set_axis_off()
    ax.figure.tight_layout()
    return ax.figure


def status_table_style(frame: pd.DataFrame, status: str = "status"):
    """A pandas Styler colouring the status column (达标 green, 未达标 red, 未到期 grey)."""
    def colour(v):
        c = STATUS_COLOURS.get(v)
        return f"color: white; background-color: {c}" if c else ""

    return frame.style.map(colour, subset=[status]).hide(axis="index")


def kepler_map(layers: dict, height: int = 600):
    """An interactive kepler.gl map for JupyterLab (not for the offline reports: see the module docstring).

    Parameters
    ----------
    layers : dict
        ``{"名称": GeoDataFrame}``, reprojected to EPSG:4326 for kepler.gl.
    height : int, default 600

    Returns
    -------
    keplergl.KeplerGl
    """
    from keplergl import KeplerGl

    m = KeplerGl(height=height)
    for name, gdf in layers.items():
        m.add_data(data=gdf.to_crs("EPSG:4326"), name=name)
    return m


def percent(v) -> str:
    """``0.9568`` -> ``"95.68%"`` (``"—"`` for NaN)."""
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.2%}"
