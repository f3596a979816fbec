import pytest

from cimlib import Catalog
from cimlib.demo import build_sample_city
from cimlib.metrics import compute_metrics


@pytest.fixture(scope="session", params=[("small", 7), ("small", 11)], ids=lambda p: f"{p[0]}-{p[1]}")
def city_metrics(request, tmp_path_factory):
    """A sample city and the metrics of every period computed on it (built once per session)."""
    scale, seed = request.param
    city = build_sample_city(tmp_path_factory.mktemp("met") / f"{scale}{seed}", seed=seed, scale=scale, progress=False).parent
    return city, compute_metrics(Catalog.load(city / "data_catalog.yaml"))


@pytest.fixture(scope="session")
def small_city(tmp_path_factory):
    """The default small sample city (seed 7) for tests that modify a copy of it."""
    return build_sample_city(tmp_path_factory.mktemp("met") / "base", seed=7, scale="small", progress=False).parent
