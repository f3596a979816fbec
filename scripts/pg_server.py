"""A throwaway PostgreSQL + PostGIS server on loopback, for the tests and the benchmarks.

Uses the Debian packages (``postgresql-NN`` and ``postgresql-NN-postgis-3``; ``scripts/test.sh`` and ``.ci/run``
install them with apt). The cluster lives in a temporary folder, listens on 127.0.0.1 on a free port with ``trust``
authentication for the local user ``cim`` only, and is removed when stopped. Running as root, the server runs as
the ``postgres`` system user (PostgreSQL refuses to run as root).

Command line::

    python scripts/pg_server.py start DIR     # prints the URL; the server keeps running
    python scripts/pg_server.py stop DIR
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "cim"
DATABASE = "cim"


class Unavailable(RuntimeError):
    """PostgreSQL with PostGIS cannot be started on this machine (the reason is the message)."""


@dataclass
class Server:
    """A running throwaway server."""

    folder: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        _run_as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"],
                      check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def find_bindir() -> Path:
    """The newest PostgreSQL server ``bin`` folder that has PostGIS installed beside it.

    Raises
    ------
    Unavailable
        If no server or no PostGIS extension is installed.
    """
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise Unavailable("未安装 PostgreSQL 服务器（Debian 软件包 postgresql）")
    for initdb in reversed(found):
        version = Path(initdb).parent.parent.name
        if glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return Path(initdb).parent
    raise Unavailable("PostgreSQL 已安装，但没有 PostGIS 扩展（Debian 软件包 postgresql-NN-postgis-3）")


def _owner() -> str | None:
    """The system user the server runs as: ``postgres`` when we are root, else ourselves (``None``)."""
    return "postgres" if os.geteuid() == 0 else None


def _run_as_owner(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    owner = _owner()
    if owner:
        cmd = ["runuser", "-u", owner, "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, cwd="/")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(folder: str | os.PathLike | None = None) -> Server:
    """Create and start a cluster with a ``cim`` database that has the ``postgis`` extension.

    Parameters
    ----------
    folder : path-like, optional
        Where the cluster lives (created; default a new temporary folder).

    Returns
    -------
    Server

    Raises
    ------
    Unavailable
        If PostgreSQL/PostGIS is not installed or the server does not start (the reason names what failed).
    """
    bindir = find_bindir()
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="cim-pg-"))
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    owner = _owner()
    if owner:
        shutil.chown(folder, owner)
        folder.chmod(0o755)
    port = _free_port()
    try:
        _run_as_owner([str(bindir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8",
                       "--locale=C.UTF-8", "--no-sync"])
        opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        _run_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "server.log"),
                       "-w", "-t", "60", "start"])
        _run_as_owner([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE])
        _run_as_owner([str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", DATABASE,
                       "-v", "ON_ERROR_STOP=1", "-qc", "CREATE EXTENSION postgis"])
    except subprocess.CalledProcessError as exc:
        log = (folder / "server.log").read_text(errors="replace")[-2000:] if (folder / "server.log").exists() else ""
        Server(folder, port, bindir).stop()
        raise Unavailable(f"无法启动 PostgreSQL：{' '.join(exc.cmd[-3:])} 失败：{exc.stderr.strip()} {log}") from None
    return Server(folder, port, bindir)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print(__doc__)
        return 2
    if argv[0] == "start":
        server = start(argv[1])
        (Path(argv[1]) / "port").write_text(str(server.port))
        print(server.url)
    else:
        folder = Path(argv[1])
        Server(folder, int((folder / "port").read_text()), find_bindir()).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
