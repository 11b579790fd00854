"""Public results: a call's published winners, the archive of past calls, the winners gallery and
certificate verification.

Nothing is shown before a version's publication time, whatever the URL: an unknown call, a
call without visible results and a version not yet public all answer 404. Administrators
alone may open a version early, as a marked preview."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_file, url_for
from flask_babel import get_locale
from sqlalchemy import select

from awards.cache import public_page
from awards.calls.models import Call
from awards.db import get_db, utcnow
from awards.policy import Action, allows
from awards.results import services
from awards.results.models import Publication
from awards.storage import path_for
from awards.urls import external_url
from awards.views_common import viewer

bp = Blueprint("results", __name__, url_prefix="/results")


def _lang() -> str:
    return str(get_locale())


@bp.app_template_global("pick_lang")
def pick_lang(value: dict[str, str] | None, lang: str | None = None) -> str:
    """A frozen {kk, ru, en} text in the page's (or the mail's) language."""
    return services.pick(value, lang or _lang())


@bp.app_template_global("call_results")
def call_results(call: Call) -> Publication | None:
    """The version of a call's results the public can read now (for the call's page)."""
    return services.current_publication(get_db(), call, utcnow())


@bp.app_template_global("nomination_outcomes")
def nomination_outcomes(nominations) -> dict[int, services.Outcome]:
    """The visible outcome of each of the user's entries ("My nominations")."""
    return services.outcomes_for(get_db(), list(nominations), utcnow())


@bp.app_template_global("has_endpoint")
def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def _call_or_404(slug: str) -> Call:
    call = get_db().scalar(select(Call).where(Call.slug == slug))
    if call is None:
        abort(404)
    return call


def photo_url(call_slug: str, name: str | None, preview: bool) -> str:
    if not name:
        return ""
    if preview:
        return url_for("results_admin.photo", name=name)
    return url_for("results.photo", slug=call_slug, name=name)


def _may_preview(call: Call, now) -> bool:
    """Whether the visitor may read a version of ``call`` before it is public (the policy)."""
    return allows(viewer(), Action.PREVIEW_RESULTS, call, now=now).ok


def _visible_or_preview(call: Call, now) -> tuple[Publication, bool]:
    """The version the visitor may read now (an administrator: the scheduled one, as a
    preview, when none is public yet); 404 for everyone else before publication."""
    db = get_db()
    publication = services.current_publication(db, call, now)
    if publication is not None:
        return publication, False
    if _may_preview(call, now):
        pending = services.pending_publication(db, call, now)
        if pending is not None:
            return pending, True
    abort(404)


def winner_url(call_slug: str, w: dict) -> str:
    """A winner's own page (by the entry's reference), or their place on the results page."""
    if w.get("reference"):
        return url_for("results.winner", slug=call_slug, reference=w["reference"])
    return url_for("results.show", slug=call_slug, _anchor=w["anchor"])


def _render(call: Call, publication: Publication, *, preview: bool):
    db = get_db()
    now = utcnow()
    current = services.current_publication(db, call, now)
    versions = [p for p in services.publications_of(db, call)
                if p.is_visible_at(now) or _may_preview(call, now)]
    # Corrections made after this version, and the notes of this one and those before it.
    notes = [p for p in versions if p.version > 1 and p.version <= publication.version]
    later = [p for p in versions if p.version > publication.version and p.is_visible_at(now)]
    is_current = current is not None and current.id == publication.id
    snapshot = publication.snapshot
    lang = _lang()
    winners = services.snapshot_winners(snapshot)
    image = next((w["photo"] for w in winners if w.get("photo")), None)
    description = "; ".join(f"{services.pick(w['award'], lang)}: {w['name']}"
                            for w in winners[:6])
    return render_template(
        "results/show.html", call=call, publication=publication, snapshot=snapshot,
        preview=preview, is_current=is_current, current=current, versions=versions,
        notes=notes, later=later, now=now,
        photo_url=lambda name: photo_url(call.slug, name, preview),
        winner_url=(lambda w: winner_url(call.slug, w)) if not preview else None,
        og_image=photo_url(call.slug, image, False) if image and not preview else None,
        og_description=description,
        # The current version's own address is the call's results page.
        canonical=external_url("results.show", slug=call.slug) if is_current else None)


@bp.get("/")
@public_page
def archive():
    now = utcnow()
    rows = services.visible_calls(get_db(), now)
    groups: list[tuple[object, list]] = []
    for call, publication in rows:
        for programme, items in groups:
            if programme is call.programme:
                items.append((call, publication))
                break
        else:
            groups.append((call.programme, [(call, publication)]))
    return render_template("results/archive.html", groups=groups)


@bp.get("/gallery")
@public_page
def gallery():
    lang = _lang()
    items = []
    for call, publication in services.visible_calls(get_db(), utcnow()):
        for category in publication.snapshot.get("categories", []):
            for w in category.get("winners", []):
                items.append({
                    "call": call, "name": w["name"], "award": services.pick(w["award"], lang),
                    "work": w.get("work") or "",
                    "authors": [services.pick(a["name"], lang) for a in w.get("authors", [])],
                    "category": services.pick(category["name"], lang),
                    "photo": photo_url(call.slug, w.get("photo"), False),
                    "href": winner_url(call.slug, w),
                })
    image = next((item["photo"] for item in items if item["photo"]), None)
    return render_template("results/gallery.html", items=items, og_image=image)


@bp.get("/<slug>")
@public_page
def show(slug: str):
    call = _call_or_404(slug)
    publication, preview = _visible_or_preview(call, utcnow())
    return _render(call, publication, preview=preview)


@bp.get("/<slug>/<reference>")
@public_page
def winner(slug: str, reference: str):
    """A winner's own page: photo, the work, the nominee or the authors, the award and its
    citation, and links to share it."""
    call = _call_or_404(slug)
    if len(reference) > 64:
        abort(404)
    publication, preview = _visible_or_preview(call, utcnow())
    found = services.find_winner(publication.snapshot, reference)
    if found is None:
        abort(404)
    category, w = found
    lang = _lang()
    category_name = services.pick(category["name"], lang)
    title = services.pick(publication.snapshot["call"]["title"], lang)
    award = services.pick(w["award"], lang)
    citation = services.pick(w.get("citation"), lang)
    share_text = f"{w['name']} — {award}, {title}"
    return render_template(
        "results/winner.html", call=call, publication=publication, preview=preview, w=w,
        category=category_name, call_title=title, award=award,
        citation=citation, share_text=share_text,
        photo=photo_url(call.slug, w.get("photo"), preview),
        og_image=photo_url(call.slug, w.get("photo"), False) if not preview else None,
        og_description=citation or f"{award}, {category_name}: {title}")


@bp.get("/<slug>/v<int:version>")
@public_page
def version(slug: str, version: int):
    db = get_db()
    call = _call_or_404(slug)
    publication = services.publication_version(db, call, version)
    if publication is None:
        abort(404)
    now = utcnow()
    if publication.is_visible_at(now):
        return _render(call, publication, preview=False)
    if _may_preview(call, now):
        return _render(call, publication, preview=True)
    abort(404)


@bp.get("/<slug>/photos/<name>")
def photo(slug: str, name: str):
    call = _call_or_404(slug)
    content_type = services.photo_is_public(get_db(), call, name, utcnow())
    if content_type is None:
        abort(404)
    try:
        path = path_for(name)
    except FileNotFoundError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=content_type, max_age=3600)
