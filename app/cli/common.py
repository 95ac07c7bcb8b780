"""What the commands share: reading the config file the server reads, and binding the database."""
import os

import click

from app.config import ConfigError, load


def config_option(command):
    """--config PATH, defaulting to $CS_CONFIG as for the server (none: the built-in defaults)."""
    return click.option("--config", "config_path", type=click.Path(dir_okay=False),
                        default=lambda: os.environ.get("CS_CONFIG") or None,
                        help="INI file to read (default: $CS_CONFIG, else the built-in defaults).")(command)


def load_settings(config_path):
    """The settings of the file; a broken file ends the command with exit code 1 and the reason."""
    try:
        return load(config_path)
    except ConfigError as error:
        raise click.ClickException(f"configuration error: {error}") from None


def open_bound_database(settings):
    """Bind the models to the configured database, as the server does at start."""
    from app.db import init_database
    return init_database(settings)
