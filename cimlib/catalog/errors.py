"""Exceptions and warnings raised by :mod:`cimlib.catalog`.

Every message is in Chinese, names the catalog entry (when known), the file concerned and the problem,
and ends with the English exception class in square brackets, e.g.::

    目录条目 'buildings'（文件 /abs/data/buildings.parquet）：坐标参考系不一致：声明 EPSG:4490，文件为 EPSG:4326 [CRSMismatchError]
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = [
    "CatalogError",
    "CatalogSyntaxError",
    "SourceNotFoundError",
    "UnknownFormatError",
    "CRSMismatchError",
    "ReadError",
    "EntryNotFoundError",
    "CatalogWarning",
    "format_message",
]


def format_message(problem: str, entry: str | None, path: str | os.PathLike | None, kind: str) -> str:
    """Build the Chinese message shared by catalog errors and warnings.

    Parameters
    ----------
    problem : str
        What is wrong, in Chinese.
    entry : str or None
        Name of the catalog entry concerned.
    path : str, os.PathLike or None
        File (data file or catalog file) concerned.
    kind : str
        English class name appended in square brackets.

    Returns
    -------
    str
        The formatted message; 身份证号 and mobile numbers quoted in ``problem`` (from a parser's message) are masked.
    """
    if entry is not None and path is not None:
        head = f"目录条目 '{entry}'（文件 {os.fspath(path)}）"
    elif entry is not None:
        head = f"目录条目 '{entry}'"
    elif path is not None:
        head = f"目录文件 {os.fspath(path)}"
    else:
        head = "数据目录"
    from cimlib.privacy import mask_text

    return f"{head}：{mask_text(problem)} [{kind}]"


class CatalogError(ValueError):
    """Base class of every catalog error.

    Parameters
    ----------
    problem : str
        What is wrong, in Chinese.
    entry : str, optional
        Name of the catalog entry concerned.
    path : str or os.PathLike, optional
        File concerned (data file, or catalog file for syntax errors).

    Attributes
    ----------
    entry : str or None
        Name of the catalog entry concerned.
    path : str or None
        Absolute path of the file concerned.
    problem : str
        What is wrong, in Chinese.
    """

    def __init__(self, problem: str, *, entry: str | None = None, path: str | os.PathLike | None = None) -> None:
        from cimlib.privacy import mask_text

        self.problem = mask_text(problem)
        self.entry = entry
        self.path = os.fspath(path) if path is not None else None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Full Chinese message naming entry, file and problem."""
        return format_message(self.problem, self.entry, self.path, type(self).__name__)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (_rebuild, (type(self), self.problem, self.entry, self.path, dict(self.__dict__)))


def _rebuild(cls: type, problem: str, entry: str | None, path: str | None, state: dict) -> CatalogError:
    """Recreate a pickled catalog error (keyword-only constructors do not pickle by default)."""
    obj = cls.__new__(cls, problem)
    CatalogError.__init__(obj, problem, entry=entry, path=path)
    obj.__dict__.update(state)
    return obj


class CatalogSyntaxError(CatalogError):
    """The catalog file is malformed or one of its entries is invalid.

    Parameters
    ----------
    problem : str
        What is wrong, in Chinese (several lines when several problems were found).
    entry : str, optional
        Name of the entry concerned when exactly one entry is concerned.
    path : str or os.PathLike, optional
        Catalog file.
    problems : sequence of str, optional
        Each problem found, one per line; each names the entry and the key.

    Attributes
    ----------
    problems : list of str
        Each problem found in the file.
    """

    def __init__(
        self,
        problem: str,
        *,
        entry: str | None = None,
        path: str | os.PathLike | None = None,
        problems: Sequence[str] | None = None,
    ) -> None:
        self.problems = list(problems) if problems is not None else [problem]
        super().__init__(problem, entry=entry, path=path)


class SourceNotFoundError(CatalogError, FileNotFoundError):
    """A data file, snapshot folder or included catalog file does not exist."""

    def __init__(self, problem: str, *, entry: str | None = None, path: str | os.PathLike | None = None) -> None:
        super().__init__(problem, entry=entry, path=path)
        self.filename = self.path


class UnknownFormatError(CatalogSyntaxError):
    """No reader is registered for the format named in the catalog (a kind of :class:`CatalogSyntaxError`)."""


class CRSMismatchError(CatalogError):
    """The coordinate reference system found in the file differs from the one declared in the catalog."""


class ReadError(CatalogError):
    """The file exists but cannot be parsed (truncated, wrong format, undecodable text, ...)."""


class EntryNotFoundError(CatalogError, KeyError):
    """The catalog has no entry of that name (also a :class:`KeyError`)."""


class CatalogWarning(UserWarning):
    """Something was assumed while reading an entry (e.g. the file has no CRS, an encoding was guessed)."""
