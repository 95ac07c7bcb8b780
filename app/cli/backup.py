"""`context-services backup`: a consistent copy of the SQLite database while the server runs."""
import os
import sqlite3

import click

from app.cli.common import config_option, load_settings
from app.db import SqliteFileDatabase, open_database


@click.command("backup")
@config_option
@click.argument("destination", type=click.Path(dir_okay=False))
def backup(config_path, destination):
    """Copy the configured SQLite database to DESTINATION, a file that must not exist yet.

    Uses SQLite's online backup: the copy is the database as of one instant, taken without
    stopping the server (writers go on meanwhile). MySQL/MariaDB: use mariadb-backup.
    """
    settings = load_settings(config_path)
    db = open_database(settings["database"]["url"])
    if not isinstance(db, SqliteFileDatabase):
        raise click.ClickException(
            "the database is MySQL/MariaDB: back it up with its own tools, e.g. "
            "`mariadb-backup --backup --target-dir=DIR` (or `mariadb-dump --single-transaction`)")
    try:
        pages = copy_sqlite(db.path, destination)
    except (OSError, sqlite3.Error, FileExistsError) as error:
        raise click.ClickException(f"backup of {db.path} failed: {error}") from None
    click.echo(f"backed up {db.path} to {destination} ({pages} pages, integrity ok)")


def copy_sqlite(source, destination):
    """Copy source to destination in one step of the online backup API; return the page count.

    One step holds one read transaction, so the copy is a single instant of the database;
    in WAL mode that read never blocks the server's writers. The copy is written beside the
    destination and renamed only once it passes PRAGMA integrity_check. Raises
    FileExistsError, FileNotFoundError, OSError or sqlite3.Error.
    """
    if os.path.exists(destination):
        raise FileExistsError(f"{destination} exists already; choose a new file")
    if not os.path.isfile(source):
        raise FileNotFoundError(f"no database file at {source}")
    partial = f"{destination}.partial"
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer, pages=-1)
            verdict = writer.execute("PRAGMA integrity_check").fetchone()[0]
            pages = writer.execute("PRAGMA page_count").fetchone()[0]
        finally:
            writer.close()
    finally:
        reader.close()
    if verdict != "ok":
        os.remove(partial)
        raise sqlite3.DatabaseError(f"the copy fails PRAGMA integrity_check: {verdict}")
    os.replace(partial, destination)
    return pages
