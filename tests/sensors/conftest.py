import pandas as pd
import pytest

from cimlib import Catalog


@pytest.fixture(scope="session", params=[7, 11], ids=lambda s: f"small-{s}")
def sensor_city(request, sample_cities):
    """A small sample city (seeds 7 and 11, the session's shared ones), its catalog and its sensor truth."""
    root = sample_cities.city(request.param)
    path = root / "data_catalog.yaml"
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
def base_city(sample_cities):
    """The default small city (seed 7, shared) for tests that modify a copy of it."""
    return sample_cities.city(7)
