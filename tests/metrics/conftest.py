import pytest

from cimlib.demo import build_sample_city


@pytest.fixture(scope="session", params=[("small", 7), ("small", 11)], ids=lambda p: f"{p[0]}-{p[1]}")
def city_metrics(request, sample_cities):
    """A sample city and the metrics of every period computed on it (built once per session, shared)."""
    scale, seed = request.param
    return sample_cities.city(seed), sample_cities.metrics(seed)


@pytest.fixture(scope="session")
def small_city(tmp_path_factory):
    """The default small sample city (seed 7) for tests that modify a copy of it."""
    return build_sample_city(tmp_path_factory.mktemp("met") / "base", seed=7, scale="small", progress=False).parent
