"""Screenshots of notebook 03's kepler.gl map in JupyterLab, offline (docs/img/notebook03_map*.png).

Starts ``jupyter lab --no-browser`` on localhost with a token in a scratch folder holding a copy of notebook 03 (its
parameters set to the given catalog, ``interactive = True``), opens it in headless Chromium with software WebGL and
every host but localhost unresolvable, runs all cells, waits for the map and saves the map as a small PNG. It prints
the requests that left localhost (there should be none) and the browser console's errors and warnings.

Usage::

    .venv/bin/python scripts/kepler_screenshots.py [--catalog data/sample/data_catalog.yaml] [--out docs/img]
                                            [--basemap http://tiles.city.gov.cn/{z}/{x}/{y}.png]

Needs Chromium and chromedriver (``/usr/bin/chromium``, ``/usr/bin/chromedriver``) and selenium.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_coverage_mapping.ipynb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook_copy(folder: Path, catalog: Path, cache: Path | None) -> Path:
    """Notebook 03 with a cell after its parameters (as papermill injects them): the catalog, interactive maps."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    index = next(i for i, c in enumerate(nb["cells"]) if "parameters" in c.get("metadata", {}).get("tags", [])
                 or "interactive = None" in "".join(c["source"]))
    lines = [f"catalog = {str(catalog)!r}\n", "interactive = True\n"]
    if cache:
        lines.append(f"cache_dir = {str(cache)!r}\n")
    nb["cells"].insert(index + 1, {"cell_type": "code", "id": "injected-parameters", "metadata": {},
                                   "execution_count": None, "outputs": [], "source": lines})
    path = folder / "03_coverage_mapping.ipynb"
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def start_lab(folder: Path, port: int, token: str, env: dict) -> subprocess.Popen:
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={folder}", "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(folder / "lab.log", "w")
    return subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)


def browser(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="cim-chrome-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
                 "--enable-webgl", "--ignore-gpu-blocklist", f"--window-size={width},{height}",
                 "--lang=zh-CN", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts), profile


def remote_requests(driver) -> list[str]:
    """URLs the page asked for outside localhost (from Chrome's performance log)."""
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            host = urlparse(url).hostname or ""
            if url.startswith(("http:", "https:", "ws:", "wss:")) and host not in ("127.0.0.1", "localhost"):
                out.append(url)
    return out


def click_menu(driver, menu: str, item: str):
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//div[contains(@class,'lm-MenuBar-itemLabel') and text()='{menu}']").click()
    time.sleep(0.5)
    driver.find_element(By.XPATH, f"//div[contains(@class,'lm-Menu-itemLabel') and text()='{item}']").click()


def shoot(args) -> int:
    from PIL import Image
    from selenium.webdriver.common.by import By

    work = Path(tempfile.mkdtemp(prefix="cim-shots-"))
    cache = Path(args.cache) if args.cache else None
    path = notebook_copy(work, Path(args.catalog).resolve(), cache)
    env = dict(os.environ)
    if args.basemap:
        env["CIM_BASEMAP"] = args.basemap
    else:
        env.pop("CIM_BASEMAP", None)
    settings = work / "lab-settings" / "@jupyterlab" / "apputils-extension"   # no "Jupyter news?" question
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    env["JUPYTERLAB_SETTINGS_DIR"] = str(work / "lab-settings")
    port, token = free_port(), secrets.token_hex(16)
    lab = start_lab(work, port, token, env)
    driver = profile = None
    try:
        base = f"http://127.0.0.1:{port}"
        from urllib.request import urlopen

        for _ in range(240):   # the server answers
            try:
                urlopen(f"{base}/api/status?token={token}", timeout=2).close()
                break
            except OSError:
                if lab.poll() is not None:
                    print("JupyterLab 未能启动：", (work / "lab.log").read_text()[-2000:], file=sys.stderr)
                    return 1
                time.sleep(0.5)
        driver, profile = browser(args.width, args.height)
        driver.get(f"{base}/lab/tree/{path.name}?token={token}")
        deadline = time.time() + 120
        while time.time() < deadline and not driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"):
            time.sleep(1)
        time.sleep(5)   # kernel start
        click_menu(driver, "Run", "Run All Cells")
        deadline = time.time() + args.timeout
        maps = []
        while time.time() < deadline:
            maps = driver.find_elements(By.CSS_SELECTOR, ".kepler-gl")
            if maps:
                break
            time.sleep(2)
        if not maps:
            print("地图未出现（超时）；JupyterLab 日志：", work / "lab.log", file=sys.stderr)
            return 1
        element = maps[0]
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        time.sleep(args.settle)   # data, layers and legend drawn
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        raw = work / "map.png"
        element.screenshot(str(raw))
        image = Image.open(raw).convert("RGB")
        if image.width > args.max_width:
            image = image.resize((args.max_width, round(image.height * args.max_width / image.width)),
                                 Image.LANCZOS)
        target = out / f"notebook03_map{args.suffix}.png"
        image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
        print(f"{target}  {target.stat().st_size / 1024:.0f} KB")
        if args.hover:   # a second picture with the tooltip of the area under the mouse
            from selenium.webdriver import ActionChains

            from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

            dx, dy = (int(v) for v in args.hover.split(","))
            for _ in range(args.zoom):   # closer, so the roads and buildings beneath show
                ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(element, dx, dy), 0, -300).perform()
                time.sleep(2)
            time.sleep(3)
            ActionChains(driver).move_to_element_with_offset(element, dx, dy).perform()
            time.sleep(3)
            element.screenshot(str(raw))
            image = Image.open(raw).convert("RGB")
            if image.width > args.max_width:
                image = image.resize((args.max_width, round(image.height * args.max_width / image.width)),
                                     Image.LANCZOS)
            hover = out / f"notebook03_map{args.suffix}_tooltip.png"
            image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(hover, optimize=True)
            print(f"{hover}  {hover.stat().st_size / 1024:.0f} KB")
        remote = remote_requests(driver)
        print("离开本机的请求：", len(remote))
        for url in remote:
            print("   ", url[:160])
        logs = [e for e in driver.get_log("browser") if args.verbose or e["level"] in ("SEVERE", "WARNING")]
        print("浏览器控制台错误与警告：", len(logs))
        for e in logs:
            print("   ", e["level"], e["message"][:300])
        return 0
    finally:
        if driver is not None:
            driver.quit()
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
        if profile:
            shutil.rmtree(profile, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--catalog", default=str(ROOT / "data" / "sample" / "data_catalog.yaml"))
    p.add_argument("--out", default=str(ROOT / "docs" / "img"))
    p.add_argument("--suffix", default="", help="file name suffix (notebook03_map<suffix>.png)")
    p.add_argument("--basemap", default="", help="CIM_BASEMAP for this run (default: none, own layers)")
    p.add_argument("--cache", default="", help="a cache_dir for the notebook (reruns are faster)")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=1000)
    p.add_argument("--max-width", type=int, default=900)
    p.add_argument("--timeout", type=int, default=600, help="seconds for Run All until the map appears")
    p.add_argument("--settle", type=int, default=20, help="seconds for the map to draw")
    p.add_argument("--hover", default="-40,20", help="mouse offset from the map's centre for the tooltip picture "
                                                     "(empty: none)")
    p.add_argument("--zoom", type=int, default=2, help="mouse-wheel steps into the map before the tooltip picture")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder (JupyterLab log)")
    p.add_argument("--verbose", action="store_true", help="print every console message")
    return shoot(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
