"""Fixtures shared by the report tests: one small sample city and one acceptance report run on it per session.

The report run is the slowest fixture of the suite (five notebooks executed, HTML, PDF, Excel); the run, browser and
language tests all read the same fresh report folder instead of each building its own.
"""

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cimlib.cli import main
from cimlib.reports.runner import run_report


def checksums(folder: Path) -> dict:
    """``{path: sha256}`` of every file under ``folder``."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def city(sample_cities):
    """The small seed-7 sample city (shared: tests must not change it)."""
    return sample_cities.city(7)


@pytest.fixture(scope="session")
def acceptance_run(city, tmp_path_factory):
    """The README's main job on the city: inventory and check, then the acceptance report (which computes the
    checks, metrics and sensor analysis of every month it needs).

    Returns ``(city, out_root, ReportRun, inputs_unchanged)``; the report folder is fresh and must not be changed.
    """
    out = tmp_path_factory.mktemp("rep") / "reports"
    before = checksums(city)
    cat = str(city / "data_catalog.yaml")
    for args in (["inventory"], ["check"]):
        res = CliRunner().invoke(main, [*args, "--catalog", cat, "--out", str(out / args[0]), "--quiet"])
        assert res.exit_code == 0, res.output
    cwd = os.getcwd()
    os.chdir(out.parent)   # `--out reports` as a user gives it: relative to the folder the command runs in
    try:
        run = run_report("acceptance", catalog=city / "data_catalog.yaml", as_of="2024-09-30", out_root="reports",
                         progress=False)
    finally:
        os.chdir(cwd)
    city_inputs_unchanged = checksums(city) == before
    return city, out, run, city_inputs_unchanged
