"""`context-services schemas export|import`: the extension schemas of a deployment as one JSON file."""
import json

import click

from app.cli.common import config_option, load_settings, open_bound_database
from app.services.extension_registry import ExtensionRegistry
from app.services.schema_transfer import TransferError, export_document, import_document


@click.group("schemas")
def schemas():
    """Export or import the extension schemas (so a deployment can be reproduced)."""


def _registry(settings):
    open_bound_database(settings)
    return ExtensionRegistry(mode=settings["extensions"]["mode"], refresh_seconds=0)


@schemas.command("export")
@config_option
@click.argument("output", type=click.File("w", encoding="utf-8"), default="-")
def export(config_path, output):
    """Write every extension schema to OUTPUT (default: standard output)."""
    document = export_document(_registry(load_settings(config_path)))
    json.dump(document, output, indent=2, ensure_ascii=False)
    output.write("\n")
    count = sum(len(items) for items in document["extension_schemas"].values())
    click.echo(f"exported {count} extension schemas", err=True)


@schemas.command("import")
@config_option
@click.argument("source", type=click.File("r", encoding="utf-8"))
def import_(config_path, source):
    """Register the schemas of SOURCE that are not registered yet (- reads standard input).

    A schema registered already with the same definition is left alone; one registered with
    another definition stops the import (exit 1) before anything is written.
    """
    settings = load_settings(config_path)
    try:
        document = json.load(source)
    except ValueError as error:
        raise click.ClickException(f"{source.name}: not JSON: {error}") from None
    try:
        report = import_document(_registry(settings), document)
    except TransferError as error:
        raise click.ClickException(f"{source.name}: nothing imported: {error}") from None
    for kind, name in report["created"]:
        click.echo(f"created {kind} extension {name}")
    click.echo(f"{len(report['created'])} created, {len(report['unchanged'])} already there", err=True)
