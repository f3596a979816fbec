import pytest

from cimlib.demo import build_sample_city


@pytest.fixture(scope="session")
def city_a(tmp_path_factory):
    """The default sample city (seed 7, small), built once for the session."""
    return build_sample_city(tmp_path_factory.mktemp("city") / "A", seed=7, scale="small", progress=False).parent


@pytest.fixture(scope="session")
def city_hanyang(tmp_path_factory):
    """Another real county: 武汉市汉阳区 (420105)."""
    out = tmp_path_factory.mktemp("city") / "hanyang"
    return build_sample_city(out, seed=3, scale="small", city="420105", progress=False).parent
