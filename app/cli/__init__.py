"""The one console script, `context-services`: every command-line tool of the project."""
import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Tools for operating a Context Services server."""


def _register_commands():
    # Each command lives in its own module of this package and is added here.
    from app.cli.maintain import maintain
    main.add_command(maintain)


_register_commands()
