"""Fixtures for the catalog tests: tiny generated datasets and a catalog-writing helper."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
import yaml

from catalog_helpers import ZH


@pytest.fixture
def write_catalog(tmp_path: Path) -> Callable[..., Path]:
    """Write a catalog YAML file; returns its path.

    Call as ``write_catalog(entries, filename="data_catalog.yaml", **top_level_keys)``.
    """

    def _write(entries: list[dict[str, Any]] | None, filename: str = "data_catalog.yaml", **top: Any) -> Path:
        data: dict[str, Any] = {"version": 1, **top}
        if entries is not None:
            data["entries"] = entries
        path = tmp_path / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def frame() -> pd.DataFrame:
    """Three records with zero-padded codes, Chinese names and lon/lat (one missing)."""
    return pd.DataFrame(
        {
            "code": ["001", "002", "010"],
            "name": ZH,
            "lon": [113.37, 113.38, np.nan],
            "lat": [31.69, 31.70, 31.71],
        }
    )


@pytest.fixture
def gdf(frame):
    """Polygons in EPSG:4490 with the columns of :func:`frame`."""
    import geopandas as gpd
    import shapely

    boxes = [shapely.box(113.3 + i * 0.01, 31.6, 113.305 + i * 0.01, 31.605) for i in range(3)]
    return gpd.GeoDataFrame(frame[["code", "name"]], geometry=boxes, crs="EPSG:4490")
