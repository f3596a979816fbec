"""Reader for Esri File Geodatabases (``*.gdb`` folders) through GDAL's OpenFileGDB driver."""

from __future__ import annotations

from pathlib import Path

from ._ogr import LayeredOgrReader
from ._util import list_files

__all__ = ["FileGDBReader"]


class FileGDBReader(LayeredOgrReader):
    """Esri File Geodatabase layer (feature class or table); option ``layer`` (name or index), else the only
    spatial layer.

    A File Geodatabase is a folder (``自然资源数据.gdb/``) of ``a0000000N.gdbtable`` files; GDAL's OpenFileGDB
    driver reads it (and a zipped ``.gdb.zip``) without Esri software. Registered as ``filegdb`` and ``gdb``.
    """

    name = "filegdb"
    accepts_folder = True
    suffixes = (".gdb",)
    container = "文件地理数据库"

    def files(self, path: Path) -> list[Path]:
        """Every file of the geodatabase folder (lock files excluded).

        Parameters
        ----------
        path : pathlib.Path
            The ``.gdb`` folder (or a zipped geodatabase file).

        Returns
        -------
        list of pathlib.Path
            Sorted files.
        """
        return [p for p in list_files(path) if not p.name.endswith(".lock")]
