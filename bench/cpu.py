"""Who used the CPU during a measured run: the system under test, or something else on the machine.

On a 2-core machine another process's load lowers every figure; the share of the cores that
went to anything but the bench, the server (with MariaDB) and wrk is reported per run, so a
disturbed measurement can be told from a slow server.
"""
import resource
import time

import psutil

DATABASE_SERVER_NAMES = ("mariadbd", "mysqld")


def _own_seconds():
    """CPU seconds of this process and of its children already reaped (each wrk run)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _process_seconds(pids):
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def database_server_pids():
    return [process.pid for process in psutil.process_iter(["name"])
            if process.info["name"] in DATABASE_SERVER_NAMES]


def _busy_seconds():
    """Machine-wide CPU seconds spent by processes, plus steal (the host took them from us).

    Interrupt time is left out: it is mostly the loopback traffic of the bench itself, and
    the kernel charges it to no process, so it would pass for other load.
    """
    times = psutil.cpu_times()
    left_out = ("idle", "iowait", "irq", "softirq", "guest", "guest_nice")
    return sum(times) - sum(getattr(times, name, 0.0) for name in left_out)


class CpuWatch:
    """with CpuWatch(pids): ... then .other_cores: cores used by anything outside pids and this bench.

    pids is called at the start and at the end, so workers forked meanwhile are seen; a
    worker that appears only between the two is missed, and is counted as other load.
    """

    def __init__(self, pids):
        self.pids = pids
        self.other_cores = None
        self.system_cores = None

    def __enter__(self):
        self._watched = set(self.pids())
        self._start = (time.monotonic(), _busy_seconds(), _own_seconds(), _process_seconds(self._watched))
        return self

    def __exit__(self, *exc_info):
        watched = self._watched | set(self.pids())
        wall0, busy0, own0, theirs0 = self._start
        # A process that started during the run began at 0 CPU seconds.
        theirs1 = _process_seconds(watched)
        wall = time.monotonic() - wall0
        ours = (_own_seconds() - own0) + (theirs1 - theirs0)
        busy = _busy_seconds() - busy0
        self.system_cores = round(ours / wall, 2) if wall > 0 else None
        self.other_cores = round(max(0.0, busy - ours) / wall, 2) if wall > 0 else None
        return False
