"""A throwaway PostgreSQL server for the tests: Debian's server binaries, a temporary cluster, a free loopback port.

PostgreSQL refuses to run as root, and the tests run as root in CI: the server then runs as the `postgres` system
user that Debian's package creates (`runuser`), in a folder that user owns. `make test` installs the package when
no server binaries are found (Makefile, `.make/postgres`); a machine without them fails here, with what to do,
rather than skipping the tests that need a real server.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from boostqa_dev.stack.ports import free_ports

BIN_GLOB = "/usr/lib/postgresql/*/bin/postgres"
BINDIR_ENV = "BOOSTQA_TEST_PG_BINDIR"  # another installation's bin/ folder (initdb, pg_ctl, postgres)
SUPERUSER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No server binaries, or the server would not start; the message says what to do."""


def find_bindir() -> Path:
    """The newest installed PostgreSQL's bin/ folder (or $BOOSTQA_TEST_PG_BINDIR)."""
    configured = os.environ.get(BINDIR_ENV)
    candidates = ([Path(configured) / "postgres"] if configured else
                  sorted(Path("/").glob(BIN_GLOB.lstrip("/")), key=lambda p: int(re.sub(r"\D", "", p.parts[-3]) or 0)))
    found = [path for path in candidates if path.is_file()]
    if not found:
        raise PostgresUnavailable(
            f"no PostgreSQL server binaries ({configured or BIN_GLOB}): the tests of the shared LLM cache need a "
            "real server. `make test` installs Debian's package (apt-get install -y postgresql); or set "
            f"{BINDIR_ENV} to another installation's bin/ folder")
    return found[-1].parent


@dataclass
class PostgresServer:
    """A running server: superuser ``postgres`` with a random password, TCP on 127.0.0.1 only."""

    bindir: Path
    root: Path
    port: int
    password: str
    run_as: str | None  # the system user the server runs as when we are root

    @property
    def data(self) -> Path:
        return self.root / "data"

    @classmethod
    def start(cls) -> PostgresServer:
        bindir = find_bindir()
        run_as = SUPERUSER if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="boostqa-pg-"))
        server = cls(bindir, root, free_ports(1, 0)[0], secrets.token_urlsafe(16), run_as)
        if run_as is not None:
            try:
                user = pwd.getpwnam(run_as)
            except KeyError as exc:
                raise PostgresUnavailable(f"no `{run_as}` system user to run the server as (PostgreSQL refuses "
                                          "root); Debian's postgresql package creates it") from exc
            os.chown(root, user.pw_uid, user.pw_gid)
        password_file = root / "password"
        password_file.write_text(server.password)
        if run_as is not None:
            os.chown(password_file, pwd.getpwnam(run_as).pw_uid, -1)
        try:
            server._run("initdb", "-D", str(server.data), "-U", SUPERUSER, f"--pwfile={password_file}",
                        "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync")
            # fsync off: a test cluster is thrown away; the socket lives in our folder, not /var/run/postgresql.
            options = f"-p {server.port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off"
            server._run("pg_ctl", "-D", str(server.data), "-o", options, "-l", str(root / "server.log"), "-w",
                        "-t", "60", "start")
        except PostgresUnavailable:
            server.stop()
            raise
        return server

    def _run(self, program: str, *args: str) -> None:
        argv = [str(self.bindir / program), *args]
        if self.run_as is not None:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr}{tail}")

    def conninfo(self, dbname: str = "postgres") -> str:
        """A libpq connection string as the superuser, over TCP with the password."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} password={self.password} dbname={dbname}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as db:
            db.execute(f'create database "{name}"')

    def execute(self, query: str, dbname: str = "postgres") -> list[tuple[object, ...]]:
        """Run one statement as the superuser and return its rows (inspection and fault injection in tests)."""
        import psycopg

        with psycopg.connect(self.conninfo(dbname), autocommit=True) as db:
            cursor = db.execute(query.encode())
            return cursor.fetchall() if cursor.description else []

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            except PostgresUnavailable:
                pass  # already gone; the folder goes anyway
        shutil.rmtree(self.root, ignore_errors=True)
