"""The one console script, `context-services`: every command-line tool of the project."""
import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Tools for operating a Context Services server."""


def _register_commands():
    # Each command lives in its own module of this package and is added here.
    from app.cli.backup import backup
    from app.cli.check_config import check_config
    from app.cli.hash_password import hash_password_command
    from app.cli.maintain import maintain
    from app.cli.schemas import schemas
    for command in (check_config, hash_password_command, schemas, backup, maintain):
        main.add_command(command)


_register_commands()
