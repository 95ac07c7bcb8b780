"""`context-services maintain`: idle auto-complete, retention purge, values of deleted schemas."""
import logging
import sys
import time

import click

from app.config import ConfigError, load
from app.db import UNAVAILABLE_ERRORS, init_database
from app.services import maintenance
from app.services.removal import MAX_BATCH, SQLITE_BATCH
from app.services.run_lock import RunLock, RunLockBusy
from models import database, now_ms

logger = logging.getLogger(__name__)

# sysexits.h EX_TEMPFAIL: nothing went wrong, try later (another run is working).
EXIT_BUSY = 75
EXIT_FAILED = 1

LABELS = {"auto_completed": "auto-completed", "purged": "purged",
          "deleted_schema_values": "values of deleted schemas removed"}


@click.command("maintain")
@click.option("--config", "config_path", envvar="CS_CONFIG", type=click.Path(dir_okay=False),
              help="INI file of the server (default: $CS_CONFIG, else the built-in defaults).")
@click.option("--dry-run", is_flag=True, help="Count what is due and change nothing.")
@click.option("--max", "max_services", type=click.IntRange(1), default=None,
              help="Stop after this many services (default: everything due).")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=None,
              help=f"Services per transaction (default: {MAX_BATCH} on MySQL, {SQLITE_BATCH} on SQLite, "
                   "whose one writer at a time waits for each batch).")
@click.option("--pause-ratio", type=click.FloatRange(0), default=None,
              help="After each batch, rest this many times as long as the batch took (default: [lifecycle] "
                   "maintenance_pause_ratio); 0 runs flat out.")
@click.option("--wait", "wait_s", type=click.FloatRange(0), default=0, show_default=True,
              help="Seconds to wait for another run to finish before giving up.")
def maintain(config_path, dry_run, max_services, batch_size, pause_ratio, wait_s):
    """Complete idle services, purge those past retention, remove values of deleted schemas.

    Prints one summary line; exits 0 when done, 75 when another run holds the lock, 1 on a
    failure (work done before it stays done; run again to continue).
    """
    try:
        settings = load(config_path)
    except ConfigError as error:
        raise click.ClickException(f"configuration error: {error}") from None
    logging.basicConfig(level=settings["logging"]["level"].upper(),
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    init_database(settings)
    jobs = maintenance.configured_jobs(maintenance.Policy.from_settings(settings))
    try:
        with database.connection_context(), RunLock(wait_s=wait_s):
            now = now_ms()
            due = maintenance.count_due(jobs, now)
            if dry_run:
                click.echo(_dry_run_line(due))
                return
            started = time.monotonic()
            if pause_ratio is None:
                pause_ratio = settings["lifecycle"]["maintenance_pause_ratio"]
            outcome = _run_with_progress(jobs, now, due, max_services=max_services, batch_size=batch_size,
                                         pause_ratio=pause_ratio)
            click.echo(_summary_line(outcome, time.monotonic() - started))
    except RunLockBusy as busy:
        click.echo(f"maintain: not started: {busy}; it finishes the work, or run again with --wait", err=True)
        sys.exit(EXIT_BUSY)
    except UNAVAILABLE_ERRORS as error:
        click.echo(f"maintain: failed: database error: {error}; batches done before it stay done", err=True)
        sys.exit(EXIT_FAILED)


def _run_with_progress(jobs, now, due, *, max_services, batch_size, pause_ratio):
    total = sum(due.values()) if max_services is None else min(max_services, sum(due.values()))
    started = time.monotonic()
    done = 0
    with click.progressbar(length=total, label="maintain", show_pos=True, show_eta=True, file=sys.stderr,
                           item_show_func=lambda rate: rate) as bar:
        def progress(count):
            nonlocal done
            done += count
            elapsed = time.monotonic() - started
            bar.update(count, f"{done / elapsed:,.0f}/s" if elapsed > 0 else None)
        return maintenance.run(jobs, now, max_services=total, batch_size=batch_size, progress=progress,
                               pause_ratio=pause_ratio)


def _dry_run_line(due):
    counts = ", ".join(f"{LABELS[name]} {count}" for name, count in due.items())
    return f"maintain (dry run): due now: {counts}"


def _summary_line(outcome, elapsed_s):
    counts = ", ".join(f"{LABELS[name]} {count}" for name, count in outcome.done.items())
    rate = outcome.total_done / elapsed_s if elapsed_s > 0 else 0
    still_due = sum(outcome.still_due.values())
    return (f"maintain: {counts} in {elapsed_s:.1f} s ({rate:,.0f}/s); "
            f"still due {still_due}")
