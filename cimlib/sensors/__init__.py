"""Sensing-network analytics (物联感知): health, alarms, anomalies, road coverage, density and the hourly cube.

The readings are read out-of-core with Dask (one task per day partition) on the local scheduler, or on a
``dask.distributed`` cluster when one is active or configured (``$CIM_DASK_SCHEDULER``). ``docs/sensors.md`` defines
every table and metric.

- :func:`analyse_sensors` — everything ``cim sensors`` computes, for a catalog and month;
- :mod:`cimlib.sensors.health` — online rate, completeness, duplicates, order, latency (metrics-table shape);
- :mod:`cimlib.sensors.alarms` — threshold alarms with minimum duration and hysteresis;
- :func:`detect_anomalies` — spikes, level shifts and flat-lines, on pandas and Dask frames
  (:func:`flagged_readings`: only the flagged rows, what ``cim sensors`` scores a batch of devices at a time);
- :mod:`cimlib.sensors.spatial` — road length covered, devices per BeiDou grid cell and street;
- :func:`hourly_cube` — the ``device x time`` xarray cube.
"""

from cimlib.sensors.alarms import AlarmRule, AlarmRuleError, alarm_events, load_alarm_rules
from cimlib.sensors.anomalies import anomaly_events, detect_anomalies, flagged_readings
from cimlib.sensors.cluster import SCHEDULER_ENV, dask_client
from cimlib.sensors.compute import SensorResult, analyse_sensors, good_readings, load_devices
from cimlib.sensors.cube import hourly_cube, save_cube
from cimlib.sensors.health import HEALTH_METRICS, device_days, health_metrics
from cimlib.sensors.outputs import write_sensor_outputs
from cimlib.sensors.readings import BAD_KINDS, ReadingTask, ScanSpec, reading_tasks, scan_readings
from cimlib.sensors.spatial import grid_density, road_coverage, street_density

__all__ = ["analyse_sensors", "SensorResult", "write_sensor_outputs", "load_devices", "good_readings",
           "detect_anomalies", "anomaly_events", "flagged_readings", "load_alarm_rules", "alarm_events", "AlarmRule", "AlarmRuleError",
           "device_days", "health_metrics", "HEALTH_METRICS", "road_coverage", "grid_density", "street_density",
           "hourly_cube", "save_cube", "dask_client", "SCHEDULER_ENV", "scan_readings", "reading_tasks",
           "ReadingTask", "ScanSpec", "BAD_KINDS"]
