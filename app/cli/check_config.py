"""`context-services check-config`: validate a config file and print the settings in force."""
import os
import re

import click

from app.cli.common import load_settings
from app.config import ATTRIBUTE_SECTION_PREFIX, redact

# Options whose value is a secret (user passwords, keys); URLs lose their password anyway.
_SECRET = re.compile(r"password|secret|key$", re.IGNORECASE)


@click.command("check-config")
@click.argument("path", type=click.Path(dir_okay=False), required=False)
def check_config(path):
    """Validate the config file PATH (default: $CS_CONFIG) and print every setting in force, secrets hidden.

    Exits 1 naming the file, section and option of the first fault.
    """
    settings = load_settings(path or os.environ.get("CS_CONFIG") or None)
    click.echo(f"# {settings.source}: valid; the settings in force:")
    for line in effective_lines(settings):
        click.echo(line)


def effective_lines(settings):
    """INI lines of every option with its value in force, then the business attributes."""
    lines = []
    for section, options in settings.sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_shown(key, value)}" for key, value in options.items()]
        if section == "business-attributes":
            lines += [f"{field} = {name}" for field, name in settings.field_attributes.items()]
        lines.append("")
    for name, values in settings.attributes.items():
        lines.append(f"[{ATTRIBUTE_SECTION_PREFIX}{name}]")
        lines += [f"{value.name} = {value.id}, {value.display_name}" for value in values]
        lines.append("")
    return lines


def _shown(key, value):
    if _SECRET.search(key):
        return "***"
    if isinstance(value, bool):
        return str(value).lower()
    return redact(str(value))
