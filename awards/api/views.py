"""The JSON API, version 1: the blueprint with every endpoint attached."""

from __future__ import annotations

from awards.api import (  # noqa: F401  (each module registers its endpoints on bp)
    docs,
    endpoints_jury,
    endpoints_nominations,
    endpoints_public,
    endpoints_ranking,
)
from awards.api.blueprint import bp

__all__ = ["bp"]
