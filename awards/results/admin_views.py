"""Administrators prepare citations and photos, publish a call's results now or at a set time, and publish corrections."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("results_admin", __name__, url_prefix="/admin/results")
