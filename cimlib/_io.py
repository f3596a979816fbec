"""Output helpers: atomic writes and file fingerprints."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it is renamed to ``path`` in one step.

    An interrupted run leaves no half-written file under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; outputs are ordinary files for their readers
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def is_remote(item) -> bool:
    """Whether an input is a database source (has ``label`` and ``sha256()``) rather than a file."""
    return hasattr(item, "sha256") and hasattr(item, "label")


def input_label(item, root=None) -> str:
    """Name of an input in manifests: a file's path relative to ``root`` (absolute if outside), a source's label."""
    if is_remote(item):
        return item.label
    p = Path(item).resolve()
    if root is not None:
        try:
            return str(p.relative_to(Path(root).resolve()))
        except ValueError:
            pass
    return str(p)


def input_sha256(item) -> str:
    """Content fingerprint of an input: sha256 of a file's bytes, or of a database source's rows."""
    return item.sha256() if is_remote(item) else sha256_file(item)


def sha256_files(paths) -> str:
    """One fingerprint for a set of files: sha256 over their relative names and contents, in sorted order.

    Database sources among them contribute their label and their content fingerprint.
    """
    items = list(paths)
    remote = sorted((p for p in items if is_remote(p)), key=lambda p: p.label)
    paths = sorted(Path(p) for p in items if not is_remote(p))
    if remote:
        h = hashlib.sha256(sha256_files(paths).encode() if paths else b"")
        for s in remote:
            h.update(f"{s.label}\0{s.sha256()}\n".encode())
        return h.hexdigest()
    if not paths:
        return hashlib.sha256(b"").hexdigest()
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(sha256_file(p).encode())
    return h.hexdigest()


def load_yaml_document(path, what: str, list_key: str, error=ValueError) -> dict:
    """Read a YAML rule/indicator file whose top level is a mapping holding a list under ``list_key``.

    Parameters
    ----------
    path : path-like
    what : str
        Chinese name of the kind of file, for the messages (e.g. ``告警规则文件``).
    list_key : str
        The top-level key that must hold a list (e.g. ``rules``).
    error : type, default ValueError
        Exception class raised; every message names the file.

    Returns
    -------
    dict
    """
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{what} {path} 无法读取：{exc}") from None
    except yaml.YAMLError as exc:
        raise error(f"{what} {path} 不是合法的 YAML：{exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get(list_key), list):
        raise error(f"{what} {path}：顶层应有 {list_key} 列表")
    return doc


_TRIM = None


def release_memory() -> None:
    """Give the memory freed by a large task back to the system (glibc's ``malloc_trim``; nothing elsewhere).

    glibc keeps freed blocks in each thread's heap for reuse; after a task of a few hundred MB of temporaries,
    tasks on other threads would otherwise add their own heaps on top, and the process would hold several times
    its live data.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _malloc_trim():
    global _TRIM
    if _TRIM is None:
        _TRIM = False
        try:
            import ctypes

            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            pass
    return _TRIM or None
