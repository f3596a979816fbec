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
              target: float | None = None, target_label: str | None = None, colour: str | None = None,
              horizontal: bool = False, log: bool | None = None, values: bool = True, codes: str | None = None,
              legend: dict[str, str] | None = None, ax=None):
    """A bar chart of ``y`` by ``x`` with value labels and an optional target line named in the legend.

    Parameters
    ----------
    frame : pandas.DataFrame
    x, y : str
        Category and value columns.
    title : str
    xlabel, ylabel : str
        Chinese names of the category axis and of the value axis (whichever way the bars run).
    percent : bool, default False
        Values are shares: the axis is shown in percent.
    target : float, optional
        Draw the target as a dashed line, named in the legend (``目标 90%``).
    target_label : str, optional
        The target line's legend entry (default ``目标 <value>``).
    colour : str, optional
        A column with colours per bar, or one colour.
    horizontal : bool, default False
    log : bool, optional
        Logarithmic value axis; by default chosen when the positive values span more than :data:`LOG_SPAN` (e.g.
        309,079 readings beside 14 tables of a few thousand rows: on a linear axis those bars are invisible).
    values : bool, default True
        Write each bar's value at its end (integers with thousands separators, shares in percent).
    codes : str, optional
        A kind of :func:`cimlib.reports.labels.value_label` (e.g. ``"device_type"``): categories are codes shown by
        their Chinese names.
    legend : dict, optional
        ``{name: colour}``: legend entries for the bar colours (e.g. the statuses when ``colour`` is by status).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Patch

    use_cjk_font()
    n = len(frame)
    if ax is None:
        size = (8, max(2.5, 0.32 * n + 1)) if horizontal else (max(6, 0.45 * n + 2), 4)
        _, ax = plt.subplots(figsize=size, dpi=110)
    k = 100 if percent else 1
    heights = frame[y].to_numpy(dtype=float) * k
    colours = frame[colour].tolist() if colour in frame else (colour or "#1565c0")
    names = frame[x].astype(str)
    if codes:
        from cimlib.reports.labels import value_label

        names = names.map(lambda c: value_label(codes, c))    # categories: a few dozen at most
    names = names.tolist()
    use_log = wants_log(heights) if log is None else bool(log)
    bars = (ax.barh if horizontal else ax.bar)(names, heights, color=colours)
    if horizontal:
        ax.invert_yaxis()
    else:
        ax.tick_params(axis="x", labelrotation=45)
        for lab in ax.get_xticklabels():
            lab.set_ha("right")
    if use_log:
        (ax.set_xscale if horizontal else ax.set_yscale)("log")
    if values and n:
        ax.bar_label(bars, labels=[_value_text(v, percent) for v in heights], padding=2, fontsize=7)
        ax.margins(**({"x": 0.12} if horizontal else {"y": 0.12}))
    handles = [Patch(color=c, label=name) for name, c in (legend or {}).items()]
    if target is not None:
        label = target_label or f"目标 {target * k:g}{'%' if percent else ''}"
        handles.append((ax.axvline if horizontal else ax.axhline)(target * k, ls="--", color="#c62828", lw=1,
                                                                  label=label))
    if handles:   # beside the bars, not over their value labels
        where = {"loc": "lower right"} if horizontal else {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)}
        ax.legend(handles=handles, fontsize=8, **where)
    ax.set_title(title)
    value_axis = ylabel + ("（%）" if percent and ylabel else "")
    if use_log:
        value_axis = (value_axis or ("%" if percent else "数量")) + "（对数坐标）"
    ax.set_xlabel(value_axis if horizontal else xlabel)
    ax.set_ylabel(xlabel if horizontal else value_axis)
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure


LOG_SPAN = 100
"""A bar chart's value axis is logarithmic when its largest positive value exceeds the smallest by this factor."""


def wants_log(values) -> bool:
    """Whether values span orders of magnitude (max/min of the positive values > :data:`LOG_SPAN`)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return bool(len(v) > 1 and v.max() / v.min() > LOG_SPAN)


def _value_text(v: float, percent: bool) -> str:
    if not np.isfinite(v):
        return ""
    if percent:
        return f"{v:.1f}%"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def series_chart(frame: pd.DataFrame, *, period: str = "period", value: str = "value", by: str | None = None,
                 title: str, percent: bool = True, targets: dict[str, float] | None = None, ax=None):
    """Month-by-month lines (one per ``by`` group) with dated target markers named in the legend.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``period`` (YYYY-MM) and ``value``.
    by : str, optional
        One line per value of this column.
    title : str
    percent : bool, default True
    targets : dict, optional
        ``{"YYYY-MM-DD": target}``: a marker at the deadline month, with a legend entry ``目标 50%（2024-06-30）``.
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
        ax.plot(g[period].astype(str), g[value].to_numpy(dtype=float) * k, marker="o",
                label=str(name) if name is not None else None)
    for deadline, t in sorted((targets or {}).items()):
        ax.scatter([deadline[:7]], [t * k], marker="*", s=160, color="#c62828", zorder=5,
                   label=f"目标 {t * k:g}{'%' if percent else ''}（{deadline}）")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if by or targets:
        ax.legend(fontsize=8, ncol=2)
    if percent:
        ax.set_ylabel("%")
    ax.figure.tight_layout()
    return ax.figure


def choropleth(areas, column: str, *, title: str, label: str | None = None, percent: bool = True,
               cmap: str = "RdYlGn", labels: str | None = None, points=None, ax=None):
    """A static choropleth of ``areas[column]`` (e.g. 上图率 by community) with a named colour bar.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
    column : str
    title : str
    label : str, optional
        The colour bar's name (Chinese, e.g. ``上图率``); ``（%）`` is added for shares. Default: the column's
        header in :mod:`cimlib.reports.labels` (the column name itself when it is Chinese).
    percent : bool, default True
    cmap : str
    labels : str, optional
        Column written at each area's representative point.
    points : geopandas.GeoDataFrame, optional
        Drawn as small red dots (e.g. failing records); see :func:`outline_map` for points by category.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the colour bar would have no name, or the column has one value for every area (use
        :func:`outline_map` to draw areas without a variable).
    """
    use_cjk_font()
    name = label or _header(column)
    if not _has_chinese(name):
        raise ValueError(f"色标需要中文名称（列 {column!r}）：请用 label= 指定，如 '上图率'")
    data = areas.copy()
    data["_v"] = data[column].astype(float) * (100 if percent else 1)
    if data["_v"].nunique() <= 1 and len(data) > 1:
        raise ValueError(f"列 {column!r} 在各区域取同一个值，色标没有意义：请用 outline_map 画区域轮廓")
    if percent and "%" not in name:
        name += "（%）"
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7), dpi=110)
    data.plot(column="_v", ax=ax, cmap=cmap, legend=True, edgecolor="#555555", linewidth=0.4,
              missing_kwds={"color": "#eeeeee", "label": "无数据"},
              legend_kwds={"shrink": 0.6, "label": name})
    if points is not None and len(points):
        points.to_crs(data.crs).plot(ax=ax, markersize=3, color="#c62828", alpha=0.7)
    if labels:
        for geom, text in zip(data.geometry.representative_point(), data[labels].astype(str)):
            ax.annotate(text, (geom.x, geom.y), fontsize=6, ha="center")
    ax.set_title(title)
    ax.set_axis_off()
    ax.figure.tight_layout()
    return ax.figure


POINT_COLOURS = ("#c62828", "#1565c0", "#2e7d32", "#f9a825", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#ad1457",
                 "#455a64")
"""Colours of the point categories of :func:`outline_map` (more categories reuse them)."""


def outline_map(areas, points=None, *, title: str, by: str | None = None, codes: str | None = None,
                points_label: str = "问题记录", labels: str | None = None, ax=None):
    """Area outlines (no colour bar: nothing is measured by colour) with points on top, one legend entry per category.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        E.g. the streets.
    points : geopandas.GeoDataFrame, optional
        E.g. the located findings.
    title : str
    by : str, optional
        Colour the points by this column (e.g. ``"dataset"`` or ``"severity"``), with counts in the legend.
    codes : str, optional
        A kind of :func:`cimlib.reports.labels.value_label`: the legend shows the Chinese names of ``by``'s codes.
    points_label : str, default "问题记录"
        The legend entry of the points when ``by`` is not given.
    labels : str, optional
        Column written at each area's representative point (e.g. the street names).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7), dpi=110)
    areas.boundary.plot(ax=ax, color="#607d8b", linewidth=0.6)
    areas.plot(ax=ax, color="#eceff1", edgecolor="none", zorder=0)
    if points is not None and len(points):
        pts = points.to_crs(areas.crs) if areas.crs is not None and points.crs is not None else points
        if by and by in pts:
            counts = pts[by].astype(str).value_counts()
            if codes:
                from cimlib.reports.labels import value_label
            for i, (code, n) in enumerate(counts.items()):
                name = value_label(codes, code) if codes else code
                pts[pts[by].astype(str) == code].plot(ax=ax, markersize=5, alpha=0.75,
                                                       color=POINT_COLOURS[i % len(POINT_COLOURS)],
                                                       label=f"{name}（{n:,}）")
        else:
            pts.plot(ax=ax, markersize=5, color=POINT_COLOURS[0], alpha=0.75, label=f"{points_label}（{len(pts):,}）")
        ax.legend(fontsize=8, loc="best", markerscale=2, title=None)
    if labels:
        for geom, text in zip(areas.geometry.representative_point(), areas[labels].astype(str)):
            ax.annotate(text, (geom.x, geom.y), fontsize=6, ha="center", color="#37474f")
    ax.set_title(title)
    ax.set_axis_off()
    ax.figure.tight_layout()
    return ax.figure


def _header(column: str) -> str:
    from cimlib.reports.labels import header

    return header(column)


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(text))


def figure_title(fig) -> str:
    """A figure's title: its suptitle, else its axes' titles joined with "；" (empty when it has none)."""
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text().strip():
        return sup.get_text().strip()
    titles = [ax.get_title().strip() for ax in fig.axes]
    return "；".join(t for t in titles if t)


def show(fig=None, *, alt: str | None = None, dpi: int | None = None) -> None:
    """Display a figure as a PNG whose alt text is its title; use instead of ``plt.show()`` in the notebooks.

    The PNG output carries the title in its metadata (``{"image/png": {"alt": title}}``);
    :func:`cimlib.reports.render.notebook_body` writes it into the report's ``<img alt="…">`` (nbconvert would
    write "No description has been provided for this image", and JupyterLab ignores the metadata). The figure is
    closed, so the inline backend does not draw it a second time.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        Default the current figure.
    alt : str, optional
        The alt text (default :func:`figure_title`).
    dpi : int, optional
        Default the figure's own.
    """
    import base64
    import io

    from IPython.display import display

    fig = fig if fig is not None else plt.gcf()
    text = alt or figure_title(fig) or "图表"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    display({"image/png": png, "text/plain": f"<图：{text}>"}, raw=True, metadata={"image/png": {"alt": text}})


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
        :class:`cimlib.reports.maps.OfflineKeplerGl` on kepler's "no basemap" style (nothing fetched from public
        hosts); for a metric map with legend, tooltip and basemap use :func:`cimlib.reports.maps.metric_map`.
    """
    from cimlib.reports import maps

    config = {"version": "v1", "config": {"mapStyle": {"styleType": maps.NO_BASEMAP}}}
    return maps.OfflineKeplerGl(data={name: gdf.to_crs("EPSG:4326") for name, gdf in layers.items()},
                                config=config, height=height)


def percent(v) -> str:
    """``0.9568`` -> ``"95.68%"`` (``"—"`` for NaN)."""
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.2%}"
