import pandas as pd
import pytest

from cimlib import Catalog
from cimlib.demo import build_sample_city


@pytest.fixture(scope="session", params=[7, 11], ids=lambda s: f"small-{s}")
def sensor_city(request, tmp_path_factory):
    """A small sample city (seeds 7 and 11), its catalog and its sensor truth, built once per session."""
    path = build_sample_city(tmp_path_factory.mktemp("sens") / f"s{request.param}", seed=request.param, scale="small",
                             progress=False)
    root = path.parent
    truth = {
        "health": pd.read_parquet(root / "truth" / "sensor_health.parquet"),
        "events": pd.read_csv(root / "truth" / "sensor_events.csv", parse_dates=["start", "end"]),
        "defects": pd.read_csv(root / "truth" / "defects.csv", dtype=str, keep_default_na=False),
    }
    return root, Catalog.load(path), truth


@pytest.fixture(scope="session")
def sensor_run(sensor_city):
    """The sensor analysis of the city on the local scheduler (anomalies are tested on their own)."""
    from cimlib.sensors import analyse_sensors

    root, catalog, truth = sensor_city
    return root, catalog, truth, analyse_sensors(catalog, anomalies=False)


@pytest.fixture(scope="session")
def base_city(tmp_path_factory):
    """The default small city (seed 7) for tests that modify a copy of it."""
    return build_sample_city(tmp_path_factory.mktemp("sens") / "base", seed=7, scale="small", progress=False).parent
