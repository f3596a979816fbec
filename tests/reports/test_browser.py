"""The acceptance report and the report index opened in a real browser with networking off.

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, installed by ``scripts/test.sh``) opens the fresh
``report.html`` and ``index.html`` of the session's acceptance run as an evaluator on a closed government network
would: no host name resolves, every connection goes to a closed local port and DevTools reports the network as
offline. Each page must then show every image, make no request other than ``file:``/``data:``, and log no console
error. A small generated page with a remote image and a ``console.error`` shows that these checks can fail.
"""

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: Where Debian installs the browser and its driver (``apt-get install chromium chromium-driver``).
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

#: Schemes a page opened from disk may load; anything else would leave the machine or depend on one.
LOCAL_SCHEMES = ("file:", "data:")

_IMAGES_JS = """
return Array.from(document.images).map(img => ({
    src: (img.currentSrc || img.src || '').slice(0, 120),
    complete: img.complete,
    width: img.naturalWidth,
}));
"""


def _find(path: str, name: str) -> str | None:
    """``path`` when it is an executable, else ``name`` on ``PATH`` (None when neither exists)."""
    return path if Path(path).is_file() and os.access(path, os.X_OK) else shutil.which(name)


@dataclass
class PageCheck:
    """What the browser saw while opening one page: its images, its requests and its console messages."""

    url: str
    title: str = ""
    images: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    console: list = field(default_factory=list)

    def problems(self) -> list[str]:
        """Everything that breaks the offline promise, one line each (empty when the page is fine)."""
        out = [f"图片未加载：{img['src']}" for img in self.images if not (img["complete"] and img["width"] > 0)]
        out += [f"非本地请求：{url[:120]}" for url in self.requests if not url.startswith(LOCAL_SCHEMES)]
        out += [f"控制台错误：{entry['message'][:200]}" for entry in self.console if entry["level"] == "SEVERE"]
        return out


def open_offline(driver, page: Path) -> PageCheck:
    """Open ``page`` in ``driver`` (networking off) and collect its images, requests and console messages.

    Parameters
    ----------
    driver : selenium.webdriver.Chrome
        The session's browser (:func:`browser`), with the performance and browser logs enabled.
    page : Path
        An HTML file.

    Returns
    -------
    PageCheck
        The page's images (source, ``complete``, ``naturalWidth``), every URL it requested (including the page
        itself) and every console entry written while it loaded.
    """
    driver.get_log("performance")   # drain what earlier pages left
    driver.get_log("browser")
    url = page.resolve().as_uri()
    driver.get(url)   # returns once the document and its images have loaded (page load strategy "normal")
    # Images below the first screen that use loading="lazy" load once scrolled to; scroll through the page.
    driver.execute_script("""
        const h = document.documentElement.scrollHeight;
        for (let y = 0; y <= h; y += window.innerHeight) { window.scrollTo(0, y); }
        window.scrollTo(0, 0);
    """)
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        Promise.all(Array.from(document.images).map(img => img.decode().catch(() => null))).then(() => done());
    """)
    check = PageCheck(url=url, title=driver.title, images=driver.execute_script(_IMAGES_JS))
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            check.requests.append(message["params"]["request"]["url"])
    check.console = driver.get_log("browser")
    return check


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module, with networking off; skipped only where Chromium is not installed."""
    chromium, chromedriver = _find(CHROMIUM, "chromium"), _find(CHROMEDRIVER, "chromedriver")
    if not (chromium and chromedriver):
        pytest.skip("浏览器测试跳过：缺少 Chromium 或 chromedriver（Debian 包 chromium、chromium-driver；"
                    "scripts/test.sh 以 root 运行时会自动安装）")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--window-size=1280,900",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                # nothing can leave: no name resolves, and every connection goes to a closed local port
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=<-loopback>"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(30)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        driver.get("about:blank")   # let the start page settle before the first test drains the logs
        yield driver
    finally:
        driver.quit()


def test_acceptance_report_loads_offline(acceptance_run, browser):
    """The acceptance ``report.html`` shows all its charts and maps with no network and no console error."""
    _, _, run, _ = acceptance_run
    check = open_offline(browser, run.folder / "report.html")
    assert check.problems() == []
    assert len(check.images) >= 3, check.images   # the report's charts and maps are images
    assert check.requests[0] == check.url   # the log did record the page's own request
    assert "验收" in check.title


def test_report_index_loads_offline(acceptance_run, browser):
    """``reports/index.html`` opens with no network, no request off the machine and no console error."""
    _, out_root, _, _ = acceptance_run
    check = open_offline(browser, out_root / "index.html")
    assert check.problems() == []
    assert check.requests[0] == check.url


def test_offline_checks_catch_remote_image_and_console_error(browser, tmp_path):
    """A page that needs the network, or writes a console error, is reported: the checks above can fail."""
    png = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU"
           "5ErkJggg==")
    page = tmp_path / "bad.html"
    page.write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>反例</title></head><body>
<img id="local" src="{png}" alt="本地">
<img id="remote" src="https://tiles.example.invalid/0/0/0.png" alt="远程">
<script>console.error("报告脚本出错");</script>
</body></html>""", encoding="utf-8")
    check = open_offline(browser, page)
    problems = check.problems()
    assert any(p.startswith("图片未加载：https://tiles.example.invalid/") for p in problems), problems
    assert any(p.startswith("非本地请求：https://tiles.example.invalid/") for p in problems), problems
    assert any("报告脚本出错" in p for p in problems), problems
    assert not any("data:image/png" in p for p in problems), problems   # the embedded image is fine
    # the remote request never reached the network: it failed (offline), it did not load
    assert [img["width"] for img in check.images] == [1, 0]
