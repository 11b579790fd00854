"""A round's ranking kept in the shared cache, so the ranking page, an entry's explanation and
the exports do not load and rank the whole round again on every view.

The entries live in the page cache's backend (``awards.cache``: Redis in production, a folder
for ``make run``, none when that cache is off) and are versioned by the same mechanism: the
session events of ``awards.cache`` note the tables each commit wrote, and a commit that wrote
any table the ranking reads (a review submitted or reopened, a score, a conflict, an
assignment, an entry's status, an award decision, the call's method or tie-breaks, a juror's
account...) replaces the *ranking version* (``RANKING_INPUTS``). An entry remembers the version
it was built at and is ignored once the version moved, so a change shows at once, on every
worker.

Keyed on the round, the method, the compared method, the top N, the category, whether the
bootstrap ran, and who may see what (``scope``): administrators share one entry, a chair gets
their own (the policy hides the entries they are in conflict with). The permission itself is
asked on every request, before the cache (``rankings.round_ranking``).

What is stored is the ranking without its database rows: the round, the call, the categories,
the criteria and the jurors are kept as ids and read again (four small queries) when the entry
is served, so the objects a page uses are the request's own."""

from __future__ import annotations

import dataclasses
import logging
import pickle
import secrets
from collections.abc import Callable

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from awards import cache as page_cache_module
from awards import policy
from awards.auth.models import User
from awards.calls.models import Category
from awards.db import WROTE
from awards.jury.models import Criterion, Round
from awards.ranking.loading import gc_paused

log = logging.getLogger(__name__)

VERSION_KEY = "ranking-version"
# Every table a ranking (or its explanation) is computed from; a commit that writes one of them,
# or a statement whose table is unknown, makes every cached ranking stale.
RANKING_INPUTS = frozenset({
    "calls", "categories", "award_levels", "rubrics", "criteria", "rounds", "round_entries",
    "nominations", "nomination_authors", "answers", "panels", "jury_members", "assignments",
    "reviews", "scores", "conflicts", "users", "decisions",
})
UNKNOWN = "*"
ENTRY_SECONDS = 24 * 3600  # an unused entry leaves the backend after a day


def _backend():
    if not has_app_context():
        return None
    pages = current_app.extensions.get(page_cache_module.EXTENSION)
    if pages is None or not pages.enabled or not current_app.config.get(
            "RANKING_CACHE", True):
        return None
    return pages.backend


def inputs_changed(tables: set[str]) -> None:
    """After a commit (``awards.cache.COMMIT_WATCHERS``): a new ranking version when the
    commit wrote anything a ranking reads."""
    if UNKNOWN not in tables and not tables & RANKING_INPUTS:
        return
    backend = _backend()
    if backend is None:
        return
    try:
        backend.set(VERSION_KEY, secrets.token_hex(8), timeout=0)
    except Exception:
        log.error("the ranking cache's version could not be changed", exc_info=True)


def listen() -> None:
    if inputs_changed not in page_cache_module.COMMIT_WATCHERS:
        page_cache_module.COMMIT_WATCHERS.append(inputs_changed)


listen()


def scope(viewer: policy.Viewer | None) -> str:
    """Who sees the same ranking: everyone who sees every entry with its names (no viewer, an
    administrator) shares one; anyone else gets their own."""
    if viewer is None or viewer.is_admin:
        return "all"
    return f"user:{viewer.id}"


def _key(round_id: int, parts: tuple) -> str:
    return (f"ranking:{page_cache_module.code_fingerprint()}:{round_id}:"
            + ":".join("-" if p is None else str(getattr(p, "value", p)) for p in parts))


def _lookup(backend, key: str) -> tuple[str | None, dict | None]:
    try:
        version, entry = backend.get_many(VERSION_KEY, key)
        if version is None:
            backend.add(VERSION_KEY, secrets.token_hex(8), timeout=0)
            version, entry = backend.get(VERSION_KEY), None
    except Exception:
        log.warning("the ranking cache could not be read", exc_info=True)
        return None, None
    return version, entry if isinstance(entry, dict) else None


def _fresh_snapshot(session: Session) -> bool:
    """End a read-only transaction begun before the version was read (SQLite reads one
    snapshot per transaction), so the ranking stored is at least as new as its version.
    False when the session holds writes of its own: its ranking is never shared."""
    if session.info.get(WROTE) or session.new or session.dirty or session.deleted:
        return False
    if session.in_transaction():
        session.commit()
    return True


@gc_paused
def cached(session: Session, round_: Round, parts: tuple, build: Callable):
    """The ranking ``build()`` makes, from the cache when an entry of the current version
    is there (``parts``: what else the ranking depends on, ``scope`` included)."""
    backend = _backend()
    if backend is None:
        return build()
    key = _key(round_.id, parts)
    version, entry = _lookup(backend, key)
    if version is not None and entry is not None and entry.get("version") == version:
        try:
            return _thaw(session, round_, entry)
        except Exception:
            log.warning("a cached ranking could not be read back", exc_info=True)
    if version is None or not _fresh_snapshot(session):
        return build()
    ranking = build()
    try:
        backend.set(key, _freeze(ranking, version), timeout=ENTRY_SECONDS)
    except Exception:
        log.warning("the ranking cache could not be written", exc_info=True)
    return ranking


# ---- without the database rows, and back ------------------------------------------------------


def _freeze(ranking, version: str) -> dict:
    data = ranking.data
    plain = dataclasses.replace(
        ranking,
        data=dataclasses.replace(data, round=None, call=None, categories=[], criteria=[],
                                 jurors={}),
        categories=[dataclasses.replace(c, category=c.category.id)
                    for c in ranking.categories])
    return {"version": version,
            "categories": [c.id for c in data.categories],
            "criteria": [c.id for c in data.criteria],
            "jurors": list(data.jurors),
            "ranking": pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL)}


def _thaw(session: Session, round_: Round, entry: dict):
    ranking = pickle.loads(entry["ranking"])
    call = round_.call
    categories = {c.id: c for c in session.scalars(
        select(Category).where(Category.id.in_(entry["categories"]))
        .options(selectinload(Category.award_levels)))} if entry["categories"] else {}
    criteria = {c.id: c for c in session.scalars(
        select(Criterion).where(Criterion.id.in_(entry["criteria"])))} \
        if entry["criteria"] else {}
    jurors = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_(entry["jurors"])))} if entry["jurors"] else {}
    data = ranking.data
    data.round, data.call = round_, call
    data.categories = [categories[i] for i in entry["categories"]]
    data.criteria = [criteria[i] for i in entry["criteria"]]
    data.jurors = {i: jurors[i] for i in entry["jurors"]}
    for category in ranking.categories:
        category.category = categories[category.category]
    return ranking
