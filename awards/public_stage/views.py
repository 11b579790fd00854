"""The public stage as visitors meet it: candidates' profiles, e-mail verification, voting and comments."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public_stage", __name__, url_prefix="/public")
