"""Close due public stages and advance the entries from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

public_stage_cli = AppGroup("public-stage", help="Close due public stages and advance the entries from the command line.")
