"""Fixtures shared by the test packages: a real PostgreSQL + PostGIS server on loopback."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import pg_server  # noqa: E402


@pytest.fixture(scope="session")
def postgis_server():
    """A throwaway PostgreSQL with PostGIS (``scripts/pg_server.py``), stopped at the end of the session.

    Skips, with the reason, only where the server cannot be installed or started (``scripts/test.sh`` installs
    the Debian packages when it runs as root).
    """
    try:
        server = pg_server.start()
    except pg_server.Unavailable as exc:
        pytest.skip(f"PostGIS 测试跳过：{exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgis_url(postgis_server):
    """URL of the test database (no password: ``trust`` on 127.0.0.1)."""
    return postgis_server.url
