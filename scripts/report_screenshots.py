"""Screenshots of the acceptance report for the documentation (docs/img/report_*.png), offline and small.

Opens a report's ``report.html`` in headless Chromium with networking off (no host name resolves, every connection
goes to a closed local port, DevTools offline), as on a closed government network, and saves its first screen
(``report_first_screen.png``) and the first figure of one of its map sections (``report_map.png``) as palette PNGs
(Pillow), so that ``docs/img/`` stays small (under 1 MB in all)::

    .venv/bin/python scripts/report_screenshots.py reports/acceptance/2024-09-30/report.html [--out docs/img]

Needs Debian's ``chromium`` and ``chromium-driver`` (``scripts/test.sh`` installs them) and selenium (test extra).
The notebook map screenshots are made by ``scripts/kepler_screenshots.py``.
"""

import argparse
import base64
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Sections whose first figure is shown, in order of preference (the first one the report has).
SECTIONS = ("各街道、各社区上图率", "问题最多的街道", "逐月进展与目标")


def chromium(width: int = 900, height: int = 700):
    """A headless Chromium driven by selenium with networking off.

    Parameters
    ----------
    width, height : int
        Window size in CSS pixels (device scale 1).

    Returns
    -------
    selenium.webdriver.Chrome
        The driver; call ``quit()`` when done.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
                f"--window-size={width},{height}", f"--user-data-dir={tempfile.mkdtemp(prefix='cim-shot-')}",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=<-loopback>"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    return driver


def save_png(png: bytes, path: Path, colors: int = 96) -> Path:
    """Write a screenshot as a small palette PNG.

    Parameters
    ----------
    png : bytes
        The screenshot.
    path : Path
        Where to write it.
    colors : int
        Palette size (report pages, charts and maps stay legible at 64–128 colours).

    Returns
    -------
    Path
        ``path``.
    """
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    img = img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, optimize=True)
    print(f"{path}: {path.stat().st_size / 1024:.0f} KB")
    return path


def figure_shot(driver, heading: str, max_height: int = 1100) -> bytes | None:
    """Screenshot of the first figure below the first heading containing ``heading``.

    The heading is included when heading and figure fit in ``max_height`` CSS pixels. Returns None when the page has
    no such heading or no figure below it.
    """
    box = driver.execute_script("""
        const hs = Array.from(document.querySelectorAll('h1,h2,h3,h4'));
        const h = hs.find(e => e.textContent.includes(arguments[0]));
        if (!h) { return null; }
        const img = Array.from(document.images).find(
            i => h.compareDocumentPosition(i) & Node.DOCUMENT_POSITION_FOLLOWING);
        if (!img) { return null; }
        const a = h.getBoundingClientRect(), b = img.getBoundingClientRect();
        return {head: window.scrollY + a.top, top: window.scrollY + b.top, bottom: window.scrollY + b.bottom,
                right: b.right, width: document.documentElement.clientWidth};
    """, heading)
    if box is None:
        return None
    y = box["head"] - 8 if box["bottom"] - box["head"] + 24 <= max_height else box["top"] - 8
    clip = {"x": 0, "y": y, "width": min(box["width"], max(600, box["right"] + 24)),
            "height": min(max_height, box["bottom"] - y + 16), "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                  {"format": "png", "clip": clip, "captureBeyondViewport": True})
    return base64.b64decode(shot["data"])


def report(report_html: Path, out: Path = IMG, sections: tuple = SECTIONS) -> list[Path]:
    """Screenshots of an acceptance report: its first screen and the first figure of the first of ``sections``
    that it has.

    Parameters
    ----------
    report_html : Path
        ``reports/acceptance/<date>/report.html`` of a fresh acceptance report.
    out : Path
        Folder for ``report_first_screen.png`` and ``report_map.png`` (``docs/img``).
    sections : tuple of str
        Heading texts to look for, in order of preference.

    Returns
    -------
    list of Path
        The PNGs written.
    """
    driver = chromium(900, 700)
    try:
        driver.get(Path(report_html).resolve().as_uri())
        written = [save_png(driver.get_screenshot_as_png(), out / "report_first_screen.png")]
        for text in sections:
            png = figure_shot(driver, text)
            if png is not None:
                written.append(save_png(png, out / "report_map.png"))
                break
        else:
            print(f"警告：报告中没有这些章节的图：{'、'.join(sections)}", file=sys.stderr)
    finally:
        driver.quit()
    return written


def main(argv=None) -> int:
    """Command line: ``report_screenshots.py REPORT_HTML [--out DIR]``."""
    parser = argparse.ArgumentParser(description="验收评价报告的文档截图（docs/img/report_*.png，断网的无头 Chromium）")
    parser.add_argument("report_html", type=Path, help="reports/acceptance/<日期>/report.html")
    parser.add_argument("--out", type=Path, default=IMG, help="输出文件夹（默认 docs/img）")
    args = parser.parse_args(argv)
    report(args.report_html, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
