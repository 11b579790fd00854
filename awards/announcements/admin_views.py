"""Administrators write, schedule and publish news posts in three languages, with images."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("announcements_admin", __name__, url_prefix="/admin/news")
