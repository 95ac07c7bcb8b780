"""A 3-node MariaDB Galera cluster and HAProxy on loopback, for the scale-out tests (SPEC §15).

Every node is rendered from deploy/galera/node.cnf and HAProxy runs deploy/galera/haproxy.cfg
with its health check, so the examples shipped are the ones tested. Everything lives in one
temporary directory on free ports: the shared MariaDB on 3306 is never touched, and stop()
ends exactly the processes started here (by their process objects), also after a failure.

By hand: `python -m tests.galera_cluster` starts a cluster, prints its URLs and stops it
on Ctrl-C.
"""
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pymysql

from tests.support import REPO, free_port

DEPLOY = REPO / "deploy" / "galera"
NODE_TEMPLATE = DEPLOY / "node.cnf"
HAPROXY_CONFIG = DEPLOY / "haproxy.cfg"
SYNCED_CHECK = DEPLOY / "galera-synced-check"
GALERA_LIBRARY = Path("/usr/lib/galera/libgalera_smm.so")
_SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])

DATABASE = "cs"
APP_USER = "cs"
# Bounds on waiting; they assert nothing about speed. A node joining copies the others' data.
READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60
WSREP_SYNCED = "4"


def missing_requirements():
    """Why a Galera cluster cannot run here (a sentence), or None when it can."""
    needs = {"mariadbd": shutil.which("mariadbd", path=_SBIN), "mariadb-install-db": shutil.which(
        "mariadb-install-db", path=_SBIN), "rsync": shutil.which("rsync"), "haproxy": shutil.which(
        "haproxy", path=_SBIN), "mariadb (client)": shutil.which("mariadb")}
    missing = [name for name, found in needs.items() if not found]
    if not GALERA_LIBRARY.exists():
        missing.append(f"galera-4 ({GALERA_LIBRARY})")
    if missing:
        return "not installed: " + ", ".join(missing) + " (Debian: apt-get install galera-4 rsync haproxy)"
    if os.geteuid() != 0:
        return "needs root: the nodes run as the mysql user, which the rsync state transfer requires"
    return None


def _port_below_ephemeral_range():
    """A free port that the kernel never hands to an outgoing connection.

    The state-transfer ports are listened on only during a transfer. One taken from the
    ephemeral range (as free_port() gives) can meanwhile become the local port of one of the
    load's many outgoing connections; the joiner's rsync daemon then cannot listen, and the
    rejoining node aborts ("rsync or stunnel daemon terminated unexpectedly", seen once in a
    make stress run).
    """
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
        first_ephemeral = int(ports.read().split()[0])
    candidates = list(range(max(1024, first_ephemeral - 12000), first_ephemeral))
    random.shuffle(candidates)
    for port in candidates:
        if port in _HANDED_OUT:
            continue            # free now, but promised to a node that is not listening yet
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    return free_port()


_HANDED_OUT = set()


@dataclass
class NodePorts:
    sql: int
    gcomm: int
    ist: int
    sst: int

    @classmethod
    def free(cls):
        return cls(*(_port_below_ephemeral_range() for _ in range(4)))


class GaleraNode:
    """One mariadbd of the cluster: its directory, config and process."""

    def __init__(self, directory, name, ports):
        self.directory = Path(directory)
        self.name = name
        self.ports = ports
        self.process = None

    @property
    def config_path(self):
        return self.directory / f"{self.name}.cnf"

    @property
    def log_path(self):
        return self.directory / "error.log"

    def write_config(self, cluster_address):
        self.directory.mkdir(parents=True, exist_ok=True)
        text = string.Template(NODE_TEMPLATE.read_text()).substitute(
            name=self.name, address="127.0.0.1", sql_port=self.ports.sql, gcomm_port=self.ports.gcomm,
            ist_port=self.ports.ist, sst_port=self.ports.sst, cluster=cluster_address,
            datadir=self.directory / "data", rundir=self.directory, logdir=self.directory)
        self.config_path.write_text(text)
        shutil.chown(self.directory, "mysql", "mysql")

    def install(self):
        finished = subprocess.run(
            [shutil.which("mariadb-install-db", path=_SBIN), f"--defaults-file={self.config_path}",
             "--user=mysql", "--auth-root-authentication-method=normal", "--skip-test-db"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=READY_TIMEOUT_S)
        if finished.returncode != 0:
            output = finished.stdout.decode(errors="replace")
            raise RuntimeError(f"mariadb-install-db for {self.name} failed:\n{output}")

    def start(self, *, new_cluster=False):
        """Start mariadbd (bootstrapping a new cluster, or joining the running one)."""
        assert not self.running(), f"{self.name} runs already"
        command = [shutil.which("mariadbd", path=_SBIN), f"--defaults-file={self.config_path}"]
        if new_cluster:
            command.append("--wsrep-new-cluster")
        with open(self.directory / "stdout.log", "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """SIGKILL: a crash."""
        if self.running():
            self.process.kill()
            self.process.wait()

    def stop(self):
        """A clean shutdown (SIGTERM), a SIGKILL if it does not end in time."""
        if not self.running():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def connect(self, *, database=None, user="root"):
        """A connection through the node's socket (root) or its TCP port (other users)."""
        if user == "root":
            return pymysql.connect(unix_socket=str(self.directory / "mysqld.sock"), user="root",
                                   database=database, connect_timeout=5, autocommit=True)
        return pymysql.connect(host="127.0.0.1", port=self.ports.sql, user=user, database=database,
                               connect_timeout=5, autocommit=True)

    def query(self, sql, params=None, *, database=None):
        with self.connect(database=database) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def wsrep_status(self):
        rows = self.query("SHOW GLOBAL STATUS WHERE Variable_name IN "
                          "('wsrep_local_state', 'wsrep_cluster_size', 'wsrep_cluster_status')")
        return dict(rows)

    def wait_synced(self, *, cluster_size, timeout_s=READY_TIMEOUT_S):
        """Wait until this node is Synced in a Primary component of cluster_size nodes."""
        deadline = time.monotonic() + timeout_s
        status = {}
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self._log_tail()}")
            try:
                status = self.wsrep_status()
            except pymysql.err.MySQLError:
                status = {}
            if (status.get("wsrep_local_state") == WSREP_SYNCED and status.get("wsrep_cluster_status") == "Primary"
                    and status.get("wsrep_cluster_size") == str(cluster_size)):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not Synced in a cluster of {cluster_size} within {timeout_s} s "
                           f"({status}):\n{self._log_tail()}")

    def _log_tail(self, lines=40):
        if not self.log_path.exists():
            return "(no error log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class HAProxy:
    """haproxy running deploy/galera/haproxy.cfg in the foreground, in front of the nodes."""

    def __init__(self, directory, nodes):
        self.directory = Path(directory)
        self.nodes = nodes
        self.port = free_port()
        self.process = None

    def start(self):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CS_DB_LISTEN": f"127.0.0.1:{self.port}",
               "CS_GALERA_CHECK": str(SYNCED_CHECK)}
        for number, node in enumerate(self.nodes, start=1):
            env[f"CS_GALERA_NODE{number}"] = f"127.0.0.1:{node.ports.sql}"
        with open(self.directory / "haproxy.log", "ab") as log:
            self.process = subprocess.Popen([shutil.which("haproxy", path=_SBIN), "-db", "-f", str(HAPROXY_CONFIG)],
                                            env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def wait_serving(self, *, timeout_s=READY_TIMEOUT_S):
        """Wait until a connection through HAProxy reaches a node."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.directory / "haproxy.log").read_text(errors="replace")
                raise RuntimeError(f"haproxy exited with {self.process.returncode}:\n{log}")
            try:
                pymysql.connect(host="127.0.0.1", port=self.port, user=APP_USER, connect_timeout=2).close()
                return
            except pymysql.err.MySQLError:
                time.sleep(0.2)
        raise RuntimeError(f"no node answered through haproxy within {timeout_s} s")


class GaleraCluster:
    """Three Galera nodes and HAProxy in a new temporary directory; start() and stop() them."""

    def __init__(self, size=3):
        # Not under pytest's tmp_path: the nodes run as mysql and must reach their directories.
        self.directory = Path(tempfile.mkdtemp(prefix="cs-galera-"))
        self.directory.chmod(0o755)
        self.nodes = [GaleraNode(self.directory / f"node{n}", f"node{n}", NodePorts.free())
                      for n in range(1, size + 1)]
        self.haproxy = HAProxy(self.directory, self.nodes)

    @property
    def url(self):
        """The app's [database] url: through HAProxy."""
        return f"mysql://{APP_USER}@127.0.0.1:{self.haproxy.port}/{DATABASE}"

    def node_url(self, node):
        return f"mysql://{APP_USER}@127.0.0.1:{node.ports.sql}/{DATABASE}"

    def start(self):
        """Install and start every node, one at a time, then HAProxy; return self when all serve."""
        address = ",".join(f"127.0.0.1:{node.ports.gcomm}" for node in self.nodes)
        for node in self.nodes:
            node.write_config(address)
            node.install()
        first, *others = self.nodes
        first.start(new_cluster=True)
        first.wait_synced(cluster_size=1)
        self._create_accounts(first)
        for size, node in enumerate(others, start=2):
            # One at a time: two joining together delay each other's state transfer.
            node.start()
            node.wait_synced(cluster_size=size)
        self.haproxy.start()
        self.haproxy.wait_serving()
        return self

    def _create_accounts(self, node):
        for statement in (
                f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4",
                f"CREATE USER '{APP_USER}'@'127.0.0.1'",
                # The tests read every table and end a node's sessions; an app needs only its database.
                f"GRANT ALL PRIVILEGES ON *.* TO '{APP_USER}'@'127.0.0.1'",
                "CREATE USER 'haproxy'@'127.0.0.1'"):
            node.query(statement)

    def restart(self, node):
        """Start a node that was stopped or killed: it rejoins and copies the state by itself."""
        node.start()
        node.wait_synced(cluster_size=len(self.nodes))

    def stop(self):
        """Stop HAProxy and every node started here, then remove the directory."""
        self.haproxy.stop()
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def main():
    problem = missing_requirements()
    if problem:
        raise SystemExit(f"cannot run a Galera cluster here: {problem}")
    cluster = GaleraCluster()
    try:
        cluster.start()
        print(f"[database] url = {cluster.url}")
        for node in cluster.nodes:
            print(f"{node.name}: {cluster.node_url(node)}  (directory {node.directory})")
        print("Ctrl-C stops the cluster and removes its directory.")
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        signal.sigwait(stop_signals)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
