"""Installable anywhere, offline: the wheel carries the notebooks and every data file the package reads, and the
offline bundle (``scripts/wheelhouse.sh``) installs into a fresh venv with ``pip install --no-index --find-links``
and runs ``cim demo`` + ``cim report acceptance`` in a folder outside the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cimlib", "standards_checks")


def _timed(label: str, timings: dict, cmd, **kw) -> subprocess.CompletedProcess:
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    timings[label] = round(time.perf_counter() - t, 1)
    assert res.returncode == 0, f"{label} 失败（{res.returncode}）：\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    return res


def _source_files() -> dict[str, Path]:
    """Every file of the two packages in the tree, by its path in the wheel (compiled files and caches excluded),
    and the report notebooks as ``cimlib/_notebooks/<name>.ipynb``."""
    files = {}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"):
                files[p.relative_to(ROOT).as_posix()] = p
    for p in (ROOT / "notebooks").glob("*.ipynb"):
        files[f"cimlib/_notebooks/{p.name}"] = p
    return files


def _clean_source(dest: Path) -> Path:
    """A copy of what the build reads (as an sdist would hold it): a stale ``build/`` in the checkout cannot leak in."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    for name in (*PACKAGES, "notebooks"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc",
                                                                                 ".ipynb_checkpoints"))
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = _clean_source(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("wheel")
    timings: dict = {}
    _timed("pip wheel", timings, [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out),
                                  str(src)])
    print(f"\n构建项目 wheel：{timings['pip wheel']} s")
    (whl,) = out.glob("cim_workbench-*.whl")
    return whl


def test_wheel_carries_every_package_file_and_the_notebooks(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        expected = _source_files()
        missing = sorted(set(expected) - names)
        assert not missing, f"wheel 中缺少：{missing[:20]}"
        for arc in expected:
            if arc.startswith("cimlib/_notebooks/") or arc.endswith((".yaml", ".csv")):
                assert z.read(arc) == expected[arc].read_bytes(), arc
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = z.read(f"{dist_info}/entry_points.txt").decode()
    # the data files the code reads relative to its own folder
    for arc in ("cimlib/data/field_names.yaml", "cimlib/data/divisions/streets.csv", "cimlib/data/divisions/LICENSE",
                "standards_checks/sensor_alarms.yaml", "standards_checks/programmes/suizhou.yaml",
                "standards_checks/programmes/documents/README.md", "cimlib/_notebooks/06_acceptance.ipynb"):
        assert arc in names, arc
    assert {f"cimlib/_notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")} == \
        {n for n in names if n.startswith("cimlib/_notebooks/")}
    assert "cim = cimlib.cli:main" in entry_points
    # nothing else at the top level (no tests/, notebooks/ or data/ beside the packages)
    assert {n.split("/")[0] for n in names} == {*PACKAGES, dist_info}


def test_outside_a_checkout_defaults_come_from_the_package(monkeypatch, tmp_path):
    """Installed from a wheel (no checkout beside the package): notebooks from ``cimlib/_notebooks``, the default
    catalog and the sample city in the current folder, no git commit."""
    import cimlib._paths
    from cimlib import cli
    from cimlib.reports import runner

    assert cimlib._paths.checkout_root() == ROOT
    monkeypatch.setattr(cimlib._paths, "checkout_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CIM_CATALOG", raising=False)
    assert runner._default_notebooks() == cimlib._paths.PACKAGE_DIR / "_notebooks"
    assert cli.default_catalog() == tmp_path / "data" / "sample" / "data_catalog.yaml"
    assert cli.default_demo_out() == tmp_path / "data" / "sample"
    assert runner._git_commit() is None
    assert runner._version() == cimlib.__version__
    (tmp_path / "data_catalog.yaml").write_text("version: 1\ninclude: city/data_catalog.yaml\n", encoding="utf-8")
    assert cli.default_catalog() == tmp_path / "data_catalog.yaml"
    assert cli.default_demo_out() == tmp_path / "city"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> tuple[Path, dict]:
    """``scripts/wheelhouse.sh`` run on a clean copy of the sources (wheels from pip's cache where it has them)."""
    out = tmp_path_factory.mktemp("bundle") / "wheelhouse"
    timings: dict = {}
    _timed("wheelhouse.sh", timings, ["bash", str(ROOT / "scripts" / "wheelhouse.sh"), str(out)],
           env={**os.environ, "PYTHON": sys.executable})
    return out, timings


def test_offline_bundle_installs_and_runs_outside_the_repository(bundle, tmp_path):
    wheelhouse, timings = bundle
    (project,) = wheelhouse.glob("cim_workbench-*.whl")
    version = project.name.split("-")[1]
    pins = [line.split("==")[0] for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
            if "==" in line]
    assert len(list(wheelhouse.glob("*.whl"))) == len(pins) + 1
    assert not [p for p in wheelhouse.iterdir() if p.suffix not in (".whl", ".txt", ".md")]
    debs = (wheelhouse / "debian-packages.txt").read_text(encoding="utf-8").split()
    assert {"fonts-wqy-microhei", "fontconfig", "libharfbuzz-subset0", "postgresql", "postgis"} <= set(debs)
    readme = (wheelhouse / "README.md").read_text(encoding="utf-8")
    assert "pip install --no-index --find-links" in readme and "cim report acceptance" in readme

    # a fresh venv, no index, no pip configuration of this machine: only the bundle
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "CIM_", "PYTHON", "CONDA")) and k != "VIRTUAL_ENV"}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    venv = tmp_path / "venv"
    _timed("python -m venv", timings, [sys.executable, "-m", "venv", str(venv)], env=env)
    # --no-compile: byte-compiling all 190 packages is half the install's time (~20 s of ~40 s); the modules the
    # commands import are compiled when first imported
    _timed("pip install --no-index", timings,
           [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", "--no-index",
            "--find-links", str(wheelhouse), "cim-workbench"], env=env)
    work = tmp_path / "work"          # outside the repository: nothing of the checkout is reachable from here
    work.mkdir()
    assert ROOT not in work.parents
    cim = str(venv / "bin" / "cim")
    where = _timed("import", timings, [str(venv / "bin" / "python"), "-c", "import cimlib; print(cimlib.__file__)"],
                   cwd=work, env=env).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    _timed("cim demo --scale small", timings, [cim, "demo", "--scale", "small", "--quiet"], cwd=work, env=env)
    assert (work / "data" / "sample" / "data_catalog.yaml").is_file()
    _timed("cim report acceptance", timings, [cim, "report", "acceptance", "--as-of", "2024-09-30", "--quiet"],
           cwd=work, env=env)
    folder = work / "reports" / "acceptance" / "2024-09-30"
    assert (folder / "report.html").stat().st_size > 0 and (folder / "report.pdf").is_file()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == version == manifest["packages"]["cim-workbench"]
    assert manifest["git_commit"] is None
    assert manifest["indicators"]
    nb = json.loads((folder / "notebooks" / "06_acceptance.ipynb").read_text(encoding="utf-8"))
    assert Path(nb["metadata"]["papermill"]["input_path"]).is_relative_to(venv)     # the installed notebooks
    _timed("cim verify", timings, [cim, "verify", "--quiet", str(folder / "manifest.json")], cwd=work, env=env)
    print("\n离线安装包测试耗时（秒）：" + "，".join(f"{k} {v}" for k, v in timings.items()))
