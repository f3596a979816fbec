"""Where the package runs from: a source checkout (editable install) or an installed wheel.

In a checkout the repository root holds ``pyproject.toml``, ``notebooks/`` and the default ``data_catalog.yaml``;
an installed wheel has none of them beside the package, and carries the report notebooks as ``cimlib/_notebooks/``
(``pyproject.toml`` maps ``notebooks/`` to that package at build time).
"""

from __future__ import annotations

import functools
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
"""The ``cimlib`` package folder."""

INSTALLED_NOTEBOOKS = PACKAGE_DIR / "_notebooks"
"""The report notebooks as installed from a wheel (absent in a checkout)."""


@functools.cache
def checkout_root() -> Path | None:
    """The repository root when the package runs from a source checkout, else None (an installed wheel)."""
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() and (root / "cimlib").is_dir():
        return root
    return None
