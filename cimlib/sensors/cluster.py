"""Where Dask work runs: the local scheduler by default, a ``dask.distributed`` cluster when one is configured."""

from __future__ import annotations

import contextlib
import os

SCHEDULER_ENV = "CIM_DASK_SCHEDULER"
"""Environment variable holding a scheduler address (``tcp://host:8786``) to run the Dask work on a cluster."""


def scheduler_address(catalog=None, address: str | None = None) -> str | None:
    """The configured ``dask.distributed`` scheduler address, or ``None`` for the local scheduler.

    Parameters
    ----------
    catalog : Catalog, optional
        A catalog whose ``readings`` entry may carry ``options.scheduler``.
    address : str, optional
        An explicit address; wins over the environment and the catalog.

    Returns
    -------
    str or None
        The address: ``address``, else ``$CIM_DASK_SCHEDULER``, else the catalog setting, else ``None``.
    """
    if address:
        return address
    if os.environ.get(SCHEDULER_ENV):
        return os.environ[SCHEDULER_ENV]
    if catalog is not None and "readings" in catalog:
        value = catalog["readings"].options.get("scheduler")
        if value:
            return str(value)
    return None


@contextlib.contextmanager
def dask_client(catalog=None, address: str | None = None):
    """Run the enclosed Dask work on the configured cluster, or on the local scheduler if none is configured.

    A ``dask.distributed.Client`` that is already active (e.g. a ``LocalCluster`` an analyst started in JupyterLab)
    is used as it is. Otherwise, when :func:`scheduler_address` gives an address, a client is connected for the
    duration of the block and closed afterwards.

    Parameters
    ----------
    catalog : Catalog, optional
        Passed to :func:`scheduler_address`.
    address : str, optional
        Passed to :func:`scheduler_address`.

    Yields
    ------
    distributed.Client or None
        The client in use, ``None`` on the local scheduler.

    Raises
    ------
    OSError
        If a configured scheduler cannot be reached (the message names the address).
    """
    try:
        from distributed import default_client

        active = default_client()
    except (ImportError, ValueError):
        active = None
    if active is not None:
        yield active
        return
    addr = scheduler_address(catalog, address)
    if not addr:
        yield None
        return
    from distributed import Client

    try:
        client = Client(addr, timeout="10s")
    except OSError as exc:
        raise OSError(f"无法连接 Dask 调度器 {addr}（{SCHEDULER_ENV} 或目录 readings.options.scheduler）：{exc}") from exc
    try:
        yield client
    finally:
        client.close()
