"""Publish due results and check certificates from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

results_cli = AppGroup("results", help="Publish due results and check certificates from the command line.")
