"""Independent estimates the sensor and indicator tests compare the workbench with."""

import numpy as np
import shapely


def covered_road_km(lines, devices, distance_m: float = 50.0, step_m: float = 2.0) -> tuple[float, float]:
    """Covered and total road length (km) by sampling: points every ``step_m`` along the lines, counted as covered
    when a device lies within ``distance_m``. ``lines`` and ``devices`` are shapely arrays in one metric CRS."""
    lengths = shapely.length(lines)
    steps = np.maximum((lengths // step_m).astype(int), 1)
    which = np.repeat(np.arange(len(lines)), steps)
    along = (np.arange(steps.sum()) - np.repeat(np.cumsum(steps) - steps, steps) + 0.5) * (lengths / steps)[which]
    pts = shapely.line_interpolate_point(lines[which], along)
    near = np.unique(shapely.STRtree(devices).query(pts, predicate="dwithin", distance=distance_m)[0])
    return float((lengths / steps)[which][near].sum() / 1000), float(lengths.sum() / 1000)
