"""``flask awards jury ...`` commands."""

from flask.cli import AppGroup

jury_cli = AppGroup("jury", help="Jury rounds: reminders and assignment.")
