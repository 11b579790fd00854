"""Back up and restore the database and the uploads: ``flask awards backup`` and ``restore``."""

from __future__ import annotations

import click

# The top-level commands this module adds to ``flask awards``.
commands: list[click.Command] = []
