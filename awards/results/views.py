"""Public results: a call's published winners, the archive of past calls, the winners gallery and certificate verification."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")
