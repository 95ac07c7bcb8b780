"""`context-services hash-password`: the hash of a password typed at a prompt, for a [user:NAME] section."""
import click

from app.passwords import hash_password


@click.command("hash-password")
def hash_password_command():
    """Print the hash of a password typed twice at a prompt (not echoed).

    Put the line it prints as `password = ...` in a [user:NAME] section of the config file.
    """
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise click.UsageError("the password is empty")
    click.echo(hash_password(password))
