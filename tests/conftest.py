"""Fixtures shared by the test packages: a real PostgreSQL + PostGIS server on loopback."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import pg_server  # noqa: E402

# the record cache (cimlib.cache) of the test session, shared by its tests and notebook kernels: never the user's own
os.environ["CIM_CACHE"] = tempfile.mkdtemp(prefix="cim-test-cache-")
os.environ.pop("CIM_NO_CACHE", None)


@pytest.fixture(autouse=True)
def _no_catalog_labels_from_another_test():
    """Each test starts with the label table's own dataset titles and no area names: a report context opened by an
    earlier test (``cimlib.reports.labels.use_catalog``) must not change what a later one displays."""
    from cimlib.reports import labels

    labels.use_catalog(None)
    yield


@pytest.fixture(autouse=True)
def _cache_switch_restored(monkeypatch):
    """``--no-cache``, ``--partition(-rows)`` and ``--scheduler`` (run in-process by ``CliRunner``) set environment
    variables; they must not outlive their test."""
    for name in ("CIM_NO_CACHE", "CIM_PARTITION", "CIM_PARTITION_ROWS", "CIM_DASK_SCHEDULER"):
        monkeypatch.setenv(name, "")
    yield


@pytest.fixture(scope="session")
def postgis_server():
    """A throwaway PostgreSQL with PostGIS (``scripts/pg_server.py``), stopped at the end of the session.

    Skips, with the reason, only where the server cannot be installed or started (``scripts/test.sh`` installs
    the Debian packages when it runs as root).
    """
    try:
        server = pg_server.start()
    except pg_server.Unavailable as exc:
        pytest.skip(f"PostGIS 测试跳过：{exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgis_url(postgis_server):
    """URL of the test database (no password: ``trust`` on 127.0.0.1)."""
    return postgis_server.url


class SampleCities:
    """Small sample cities built once per session (with their department delivery), and what is computed on them.

    Shared by the metrics, delivery and onboarding tests so that each seed is built, checked and measured once.
    """

    def __init__(self, factory):
        self._factory = factory
        self._cities: dict = {}
        self._metrics: dict = {}
        self._findings: dict = {}
        self._collected: dict = {}

    def city(self, seed: int) -> Path:
        """The small sample city of ``seed`` (default county 421303), with ``delivery/`` and its truth."""
        if seed not in self._cities:
            from cimlib.demo import build_sample_city

            out = self._factory.mktemp(f"city{seed}") / "city"
            self._cities[seed] = build_sample_city(out, seed=seed, scale="small", progress=False, delivery=True).parent
        return self._cities[seed]

    def medium(self, seed: int) -> Path:
        """The medium sample city of ``seed`` (about a tenth of large: 200k persons a month), without a delivery;
        shared by the truth tests and the partitioned-path tests, which must not change it."""
        key = ("medium", seed)
        if key not in self._cities:
            from cimlib.demo import build_sample_city

            out = self._factory.mktemp(f"medium{seed}") / "city"
            self._cities[key] = build_sample_city(out, seed=seed, scale="medium", progress=False).parent
        return self._cities[key]

    def area(self, code: str) -> Path:
        """The small seed-7 sample city of county ``code`` on its default timeline (the months of the programme that
        governs it: :func:`cimlib.demo.timeline_for`), with ``delivery/`` and its truth; shared, tests must not
        change it. The default county is :meth:`city` of seed 7."""
        from cimlib.demo import DEFAULT_CITY

        if code == DEFAULT_CITY:
            return self.city(7)
        key = ("area", code)
        if key not in self._cities:
            from cimlib.demo import build_sample_city

            out = self._factory.mktemp(f"area{code}") / "city"
            self._cities[key] = build_sample_city(out, seed=7, scale="small", city=code, progress=False,
                                                  delivery=True).parent
        return self._cities[key]

    def delivered(self, seed: int) -> Path:
        """A folder holding a copy of the delivered city of ``seed`` (``delivery/``, ``truth/``) and its correct
        catalog ``delivered.yaml`` (:func:`cimlib.demo._delivery.delivery_catalog`), shared; tests must not change it."""
        key = ("delivered", seed)
        if key not in self._cities:
            import shutil

            from cimlib.demo._delivery import delivery_catalog

            src = self.city(seed)
            root = self._factory.mktemp(f"delivered{seed}") / "city"
            for sub in ("delivery", "truth"):
                shutil.copytree(src / sub, root / sub)
            (root / "delivered.yaml").write_text(delivery_catalog(root), encoding="utf-8")
            self._cities[key] = root
        return self._cities[key]

    def without_texts(self, seed: int) -> Path:
        """A copy of the plain city of ``seed`` whose registers carry no address text (as before departments send
        one): ``data_catalog.yaml`` of a folder where the persons and units snapshots lack ``address_text``."""
        key = ("no_text", seed)
        if key not in self._cities:
            import shutil

            import pandas as pd

            src = self.city(seed)
            out = self._factory.mktemp(f"notext{seed}") / "city"
            shutil.copytree(src, out, ignore=shutil.ignore_patterns("delivery"))
            for f in (out / "snapshots" / "persons").rglob("*.parquet"):
                pd.read_parquet(f).drop(columns="address_text").to_parquet(f, index=False)
            for f in (out / "snapshots" / "units").rglob("*.csv"):
                df = pd.read_csv(f, dtype=str, encoding="gbk", keep_default_na=False)
                df.drop(columns="address_text").to_csv(f, index=False, encoding="gbk")
            self._cities[key] = out
        return self._cities[key] / "data_catalog.yaml"

    def metrics(self, seed: int):
        """``compute_metrics`` of every period on the plain city of ``seed``."""
        if seed not in self._metrics:
            from cimlib.catalog import Catalog
            from cimlib.metrics import compute_metrics

            self._metrics[seed] = compute_metrics(Catalog.load(self.city(seed) / "data_catalog.yaml"))
        return self._metrics[seed]

    def share_acceptance_metrics(self, monkeypatch) -> None:
        """Let :func:`cimlib.reports.acceptance` on a shared city (a catalog inside a folder of this object) reuse the
        metrics an earlier call on the same catalog and as-of date computed in this session (what its private
        ``_collect`` returns, copied: they do not depend on the programme or the indicator file). Calls on any other
        catalog (a test's modified copy) compute as usual. ``monkeypatch`` scopes the sharing."""
        import dataclasses

        from cimlib.reports import indicators

        compute = getattr(indicators._collect, "unshared", indicators._collect)

        def collect(catalog, as_of, progress, reuse=None):
            path = Path(catalog.path).resolve()
            if reuse is not None or path.parent not in {p.resolve() for p in self._cities.values()}:
                return compute(catalog, as_of, progress, reuse)
            key = (str(path), as_of)
            if key not in self._collected:
                self._collected[key] = compute(catalog, as_of, progress)
            got = self._collected[key]
            return dataclasses.replace(got, metrics=got.metrics.copy(), inputs=dict(got.inputs),
                                       problems=got.problems.copy(), evidence=got.evidence.copy(),
                                       matches=dict(got.matches))

        collect.unshared = compute
        monkeypatch.setattr(indicators, "_collect", collect)

    def findings(self, seed: int):
        """``run_checks`` findings (every dataset) on the plain city of ``seed``."""
        if seed not in self._findings:
            from cimlib.catalog import Catalog
            from standards_checks import run_checks

            self._findings[seed] = run_checks(Catalog.load(self.city(seed) / "data_catalog.yaml")).findings
        return self._findings[seed]


@pytest.fixture(scope="session")
def sample_cities(tmp_path_factory) -> SampleCities:
    """Session-wide :class:`SampleCities`."""
    return SampleCities(tmp_path_factory)


@pytest.fixture()
def shared_acceptance(sample_cities, monkeypatch):
    """Within the test, acceptance runs on the shared cities reuse the metrics of an identical earlier run
    (:meth:`SampleCities.share_acceptance_metrics`)."""
    sample_cities.share_acceptance_metrics(monkeypatch)
