"""The API blueprint; the endpoint modules attach their views to it."""

from __future__ import annotations

from flask import Blueprint

from awards.api import auth, problems

bp = Blueprint("api", __name__, url_prefix=problems.PREFIX)
problems.register(bp)
auth.register(bp)
