"""The one console script, `context-services`: every command-line tool of the project."""
import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Tools for operating a Context Services server."""


def _register_commands():
    # Each command lives in its own module of this package and is added here.
    from app.cli.hash_password import hash_password_command
    main.add_command(hash_password_command)


_register_commands()
