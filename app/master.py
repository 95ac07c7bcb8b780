"""What the gunicorn master does for the app (deploy/gunicorn.conf.py's hooks, SPEC §12).

The master never serves requests and never holds a database connection between hooks: each
hook opens one, does its work and closes it.
- Before any worker starts: refuse more workers than the ID layout has worker IDs, and give
  back the leases of processes of this host that died without releasing them (a master
  killed with its workers never saw them exit).
- When a worker exits (killed, timed out, crashed): give back its lease at once, so that
  restarts never exhaust the pool while the dead leases wait to expire.
"""
import logging
import os
import time

from app.config import load, redact
from app.db import UNAVAILABLE_ERRORS, open_database
from app.ids import LAYOUTS, holder_prefix, parse_holder
from models import WorkerLease

logger = logging.getLogger(__name__)


class TooManyWorkers(Exception):
    """More workers asked for than the ID layout has worker IDs."""


def settings_of_this_deployment():
    """The settings the workers will load (CS_CONFIG, as wsgi.py reads it)."""
    return load(os.environ.get("CS_CONFIG") or None)


def refuse_too_many_workers(workers, settings):
    """Raise TooManyWorkers when `workers` exceeds the worker IDs of the configured layout."""
    layout = LAYOUTS[settings["ids"]["layout"]]
    if workers > layout.max_workers:
        raise TooManyWorkers(
            f"{workers} workers asked for, but the ID layout '{layout.name}' has {layout.max_workers} worker IDs "
            f"for all hosts sharing the database; lower WEB_CONCURRENCY (or --workers), or set "
            f"[ids] layout = wide for 1024")


def release_leases_of_dead_processes(settings):
    """Free every lease held by a process of this host that no longer exists; return how many."""
    host = os.uname().nodename[:30]

    def dead(holder):
        parsed = parse_holder(holder)
        return parsed is not None and parsed[0] == host and not _alive(parsed[1])
    return _release(settings, dead)


def release_lease_of_worker(pid, settings):
    """Free the lease held by worker process pid of this host (it has exited); return how many."""
    prefix = holder_prefix(pid)
    return _release(settings, lambda holder: holder.startswith(prefix))


def _release(settings, is_dead):
    url = settings["database"]["url"]
    db = open_database(url, busy_timeout_ms=settings["database"]["busy_timeout_ms"],
                       connect_timeout_s=settings["database"]["connect_timeout_s"])
    try:
        with db.bind_ctx([WorkerLease]), db.connection_context():
            if not db.table_exists(WorkerLease._meta.table_name):
                return 0
            dead = [holder for holder in WorkerLease.holders() if is_dead(holder)]
            released = WorkerLease.release_holders(dead, now=time.time_ns() // 1_000_000)
    except UNAVAILABLE_ERRORS as error:
        # The leases then expire by themselves; the master must go on supervising.
        logger.warning("could not give back worker-ID leases in %s: %s", redact(url), error)
        return 0
    if released:
        logger.info("gave back %d worker-ID lease(s) of dead processes: %s", released, ", ".join(dead))
    return released


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True         # a process of another user holds that PID now
    return True
