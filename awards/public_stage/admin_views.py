"""Administrators set up a call's public stage, review flagged votes, moderate comments and close the stage."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public_stage_admin", __name__, url_prefix="/admin/public-stage")
