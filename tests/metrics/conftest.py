import pytest


@pytest.fixture(scope="session", params=[("small", 7), ("small", 11)], ids=lambda p: f"{p[0]}-{p[1]}")
def city_metrics(request, sample_cities):
    """A sample city and the metrics of every period computed on it (built once per session, shared)."""
    scale, seed = request.param
    return sample_cities.city(seed), sample_cities.metrics(seed)


@pytest.fixture(scope="session")
def small_city(sample_cities):
    """The default small sample city (seed 7) for tests that modify a copy of it (shared: copy it, without its
    ``delivery/``, before changing anything)."""
    return sample_cities.city(7)
