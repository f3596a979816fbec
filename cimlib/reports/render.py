"""Turning executed notebooks and tables into the report files: HTML without code, PDF, Excel with Chinese headers.

The HTML page is self-contained and loads nothing from the network: nbconvert's ``basic`` template (cell outputs
only, no CDN scripts: no MathJax, no require.js), our own inline stylesheet, figures as embedded PNG data. The PDF is
that page printed by WeasyPrint (no browser needed) with a CJK font. The Excel workbook has one sheet per table,
with Chinese column headers.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from cimlib._io import atomic_path
from cimlib.reports.figures import CJK_FONTS
from cimlib.reports.labels import header
from cimlib.reports.tables import excel_frame

_CSS = """
@page { size: A4 landscape; margin: 12mm 10mm; @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: %(fonts)s, sans-serif; font-size: 10pt; color: #212121; max-width: 1200px; margin: 0 auto;
       padding: 12px 20px; line-height: 1.5; }
h1 { font-size: 20pt; border-bottom: 3px solid #1565c0; padding-bottom: 4px; }
h2 { font-size: 15pt; color: #0d47a1; margin-top: 28px; border-bottom: 1px solid #bbdefb; }
h3 { font-size: 12pt; color: #1565c0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 9pt; }
th, td { border: 1px solid #cfd8dc; padding: 3px 6px; text-align: right; overflow-wrap: anywhere; }
th { background: #e3f2fd; text-align: center; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%%; page-break-inside: avoid; }
.meta { color: #616161; font-size: 9pt; }
.section { page-break-before: always; }
.section:first-of-type { page-break-before: auto; }
nav ol { columns: 2; font-size: 10pt; }
"""


def _css() -> str:
    return _CSS % {"fonts": ", ".join(f'"{f}"' for f in CJK_FONTS)}


def notebook_body(notebook_path) -> str:
    """The outputs of an executed notebook as an HTML fragment (no code cells, no prompts, no external scripts).

    Parameters
    ----------
    notebook_path : path-like

    Returns
    -------
    str
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    nb.cells = [c for c in nb.cells if "parameters" not in c.get("metadata", {}).get("tags", [])
                and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    _images_with_alt(nb)
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", body, flags=re.S)       # the ¶ of each heading
    body = re.sub(r"<h1[^>]*>.*?</h1>", "", body, count=1, flags=re.S)               # the section title is ours
    return _strip_remote(body)


NO_ALT = "No description has been provided for this image"
"""What nbconvert writes into an ``<img>`` that has no alt text (the reports never show it)."""


def _images_with_alt(nb) -> None:
    """Turn every PNG output into an ``<img alt="…">`` (HTML output) carrying the figure's title, in place.

    The alt text is the output's ``metadata["image/png"]["alt"]`` (written by :func:`cimlib.reports.figures.show`),
    else the text of the last heading above the figure (a figure drawn by ``plt.show()``). nbconvert's templates
    ignore output metadata and write "No description has been provided for this image" into an image without one.
    """
    import nbformat

    heading = ""
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            found = re.findall(r"^#+\s*(.+?)\s*#*\s*$", cell.get("source", ""), flags=re.M)
            heading = found[-1] if found else heading
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data:
                found = re.findall(r"^#+\s*(.+?)\s*#*\s*$", "".join(data["text/markdown"]), flags=re.M)
                heading = found[-1] if found else heading
            if "image/png" not in data or "text/html" in data:
                continue
            meta = out.get("metadata", {})
            alt = (meta.get("image/png") or {}).get("alt") or meta.get("alt") or heading or "图表"
            png = data["image/png"]
            png = re.sub(r"\s+", "", "".join(png) if isinstance(png, list) else png)
            out["data"] = nbformat.from_dict({
                "text/html": f'<img src="data:image/png;base64,{png}" alt="{html.escape(alt)}">',
                "text/plain": data.get("text/plain", f"<图：{alt}>")})
            out["metadata"] = nbformat.from_dict({})


def _strip_remote(fragment: str) -> str:
    """Drop any tag that would load from the network (defensive: the basic template adds none)."""
    fragment = re.sub(r"<script[^>]*\bsrc\s*=\s*['\"]?https?://[^>]*>\s*</script>", "", fragment, flags=re.I)
    return re.sub(r"<link[^>]*\bhref\s*=\s*['\"]?https?://[^>]*>", "", fragment, flags=re.I)


def html_page(title: str, sections: list[tuple[str, str]], meta: str = "") -> str:
    """A complete, self-contained HTML page.

    Parameters
    ----------
    title : str
        Page title (Chinese).
    sections : list of (str, str)
        ``(heading, html fragment)`` in order; each starts a new page in the PDF.
    meta : str
        A line under the title (parameters, generation time, fingerprint).

    Returns
    -------
    str
    """
    nav = "".join(f'<li><a href="#s{i}">{html.escape(h)}</a></li>' for i, (h, _) in enumerate(sections))
    body = "".join(f'<div class="section" id="s{i}"><h2>{html.escape(h)}</h2>{frag}</div>'
                   for i, (h, frag) in enumerate(sections))
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_css()}</style></head><body><h1>{html.escape(title)}</h1>"
            f'<p class="meta">{meta}</p><nav><ol>{nav}</ol></nav>{body}</body></html>\n')


def write_html(page: str, path) -> Path:
    """Write an HTML page atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def write_pdf(html_path, pdf_path) -> Path:
    """Print a self-contained HTML page to PDF with WeasyPrint (fonts from the machine's fontconfig).

    Parameters
    ----------
    html_path, pdf_path : path-like

    Returns
    -------
    pathlib.Path

    Raises
    ------
    RuntimeError
        If WeasyPrint cannot be loaded (its system libraries, pango, are missing).
    """
    try:
        from weasyprint import HTML
    except OSError as exc:  # pragma: no cover - depends on system libraries
        raise RuntimeError(f"无法加载 WeasyPrint（需要系统库 pango）：{exc}") from exc
    pdf_path = Path(pdf_path)
    with atomic_path(pdf_path) as tmp:
        HTML(filename=str(html_path), base_url=str(Path(html_path).parent)).write_pdf(str(tmp))
    return pdf_path


def write_excel(tables: dict[str, pd.DataFrame], path, labels: dict[str, str] | None = None) -> Path:
    """One sheet per table, Chinese column headers (the label table), names beside codes, written atomically.

    Numbers stay numbers; ``dataset`` and ``device_type`` keep their codes beside their Chinese names, severities,
    anomaly kinds and area levels show their names, area codes get the area's name beside them
    (:func:`cimlib.reports.tables.excel_frame`). The Parquet/CSV files keep the English columns and codes.

    Parameters
    ----------
    tables : dict
        ``{"sheet name (Chinese, <= 31 chars)": DataFrame}``; geometry columns are dropped.
    path : path-like
    labels : dict, optional
        Column -> Chinese header (columns without one take :func:`cimlib.reports.labels.header`); a value that is
        itself a dict, under a sheet's name, gives that sheet its own labels.

    Returns
    -------
    pathlib.Path
    """
    labels = labels or {}
    path = Path(path)
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, frame in tables.items():
                frame = pd.DataFrame(frame).drop(columns=["geometry"], errors="ignore")
                for c in frame.columns:
                    if isinstance(frame[c].dtype, pd.DatetimeTZDtype):
                        frame[c] = frame[c].dt.tz_localize(None)
                own = labels.get(name) if isinstance(labels.get(name), dict) else labels
                frame = excel_frame(frame, own)        # names beside codes (cimlib.reports.labels)
                frame = frame.rename(columns={c: own.get(c) or header(str(c)) for c in frame.columns})
                sheet = re.sub(r"[\[\]:*?/\\]", "_", name)[:31]
                frame.to_excel(xw, sheet_name=sheet, index=False)
                ws = xw.sheets[sheet]
                for i, col in enumerate(frame.columns, start=1):
                    width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)]) + 2
                    ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(max(width, 8), 60)
                ws.freeze_panes = "A2"
    return path
