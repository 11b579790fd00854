"""Public news: the list with pagination, each post with previous/next links, and an Atom feed per language."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("announcements", __name__, url_prefix="/news")
