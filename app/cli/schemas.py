"""`context-services schemas export|import`: the extension schemas and identification keys of a
deployment as one JSON file."""
import json

import click

from app.cli.common import config_option, load_settings, open_bound_database
from app.metadata import build_metadata
from app.services.schema_transfer import TransferError, export_document, import_document


@click.group("schemas")
def schemas():
    """Export or import the extension schemas and identification keys (so a deployment can be reproduced)."""


def _metadata(settings):
    open_bound_database(settings)
    return build_metadata(settings, refresh_seconds=0)


@schemas.command("export")
@config_option
@click.argument("output", type=click.File("w", encoding="utf-8"), default="-")
def export(config_path, output):
    """Write every extension schema and identification key to OUTPUT (default: standard output)."""
    metadata = _metadata(load_settings(config_path))
    document = export_document(metadata.registry, metadata.keys)
    json.dump(document, output, indent=2, ensure_ascii=False)
    output.write("\n")
    count = sum(len(items) for items in document["extension_schemas"].values())
    click.echo(f"exported {count} extension schemas, {len(document['identification_keys'])} identification keys",
               err=True)


@schemas.command("import")
@config_option
@click.argument("source", type=click.File("r", encoding="utf-8"))
def import_(config_path, source):
    """Register the schemas, then the identification keys, of SOURCE that are not there yet
    (- reads standard input), in one transaction.

    A schema or key there already with the same definition is left alone; one with another
    definition stops the import (exit 1) and nothing is written.
    """
    settings = load_settings(config_path)
    try:
        document = json.load(source)
    except ValueError as error:
        raise click.ClickException(f"{source.name}: not JSON: {error}") from None
    try:
        metadata = _metadata(settings)
        report = import_document(metadata.registry, metadata.keys, document)
    except TransferError as error:
        raise click.ClickException(f"{source.name}: nothing imported: {error}") from None
    for what, name in report["created"]:
        click.echo(f"created {what} {name}")
    click.echo(f"{len(report['created'])} created, {len(report['unchanged'])} already there", err=True)
