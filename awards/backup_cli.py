"""Back up and restore the database and the uploads: ``flask awards backup`` and ``restore``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from awards.db import get_engine


@click.command("backup")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Archive to write (.tar.gz). Default: awards-backup-<UTC time>.tar.gz in the "
                   "current folder.")
@with_appcontext
def backup(output: Path | None) -> None:
    """Write the database and the uploaded files to one archive."""
    from awards.backup import BackupError, create_backup
    from awards.db import utcnow

    if output is None:
        output = Path(f"awards-backup-{utcnow():%Y%m%d-%H%M%S}.tar.gz")
    if output.exists():
        raise click.ClickException(f"{output} already exists; choose another --output")
    try:
        summary = create_backup(engine=get_engine(),
                                upload_folder=current_app.config["UPLOAD_FOLDER"],
                                output=output)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {summary.path} ({summary.size} bytes): "
               f"{sum(summary.tables.values())} rows in {len(summary.tables)} tables, "
               f"{summary.uploads} uploaded files, schema revision {summary.revision}")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Delete everything in the database and the upload folder first.")
@click.option("--clean-text", is_flag=True,
              help="Remove characters PostgreSQL cannot store (NUL, invalid Unicode) from the "
                   "archive's text instead of refusing it; each value cleaned is listed.")
@with_appcontext
def restore(path: Path, force: bool, clean_text: bool) -> None:
    """Restore an archive written by `flask awards backup` into an empty database."""
    from awards.backup import BackupError, restore_backup

    try:
        summary = restore_backup(engine=get_engine(),
                                 upload_folder=current_app.config["UPLOAD_FOLDER"],
                                 archive=path, force=force, clean_text=clean_text)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    from awards.cache import content_changed

    content_changed()  # the rows came in below the ORM: no cached public page stays
    for where in summary.cleaned:
        click.echo(f"cleaned: {where}")
    click.echo(f"restored {sum(summary.tables.values())} rows and {summary.uploads} uploaded "
               f"files from the backup of {summary.created_at} (schema revision "
               f"{summary.revision})")
    unknown = _unknown_audit_keys()
    if unknown:
        click.echo(f"warning: audit records in this backup are keyed with {', '.join(unknown)}, "
                   "which this server does not hold; `flask awards audit verify` fails until "
                   "the backed-up server's key is given in AWARDS_AUDIT_RETIRED_KEYS (or "
                   "AWARDS_AUDIT_KEY). The key is not in the backup, on purpose.", err=True)


def _unknown_audit_keys() -> list[str]:
    """Key ids of restored audit records that this server's keys cannot check."""
    from sqlalchemy import select

    from awards.audit import AuditEvent, keyring
    from awards.db import get_db

    used = get_db().scalars(select(AuditEvent.key_id).distinct()).all()
    return sorted(k for k in used if k and k not in keyring().keys)


# The top-level commands this module adds to ``flask awards``.
commands: list[click.Command] = [backup, restore]
