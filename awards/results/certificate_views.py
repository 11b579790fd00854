"""Certificates: the public verification page for a code, and the PDF diploma for its winner and administrators."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("certificates", __name__, url_prefix="/certificates")
