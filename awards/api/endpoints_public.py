"""Public reads: calls and categories, published results, announcements.

What a visitor may see is decided by the same rules as the pages: draft calls do not exist;
a publication is visible from its publication time (``Publication.is_visible_at``); a post
from its publication time (``Announcement.is_visible_at``). Answers carry an ETag and may be
cached briefly by anyone, since they are the same for every caller."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from awards.api import serialize
from awards.api.blueprint import bp
from awards.api.http import Paging, public_response
from awards.api.problems import ApiProblem
from awards.api.spec import Param, operation, path_id, path_str
from awards.calls.models import Call
from awards.calls.services import public_calls
from awards.db import get_db, utcnow
from awards.enums import AnnouncementStatus, CallStatus, PublicationStatus
from awards.results.models import Publication

SLUG = path_str("slug", "The call's slug, e.g. `volunteer-of-the-year-2026`.")


def visible_call_or_404(slug: str) -> Call:
    call = get_db().scalar(select(Call).where(Call.slug == slug))
    if call is None or call.status == CallStatus.DRAFT:
        raise ApiProblem("not-found")
    return call


@operation(bp, "/calls", tag="calls", auth="public", cached=True, paged=True,
           summary="Calls open for nominations and those opening later",
           description="Open calls (soonest deadline first), then upcoming ones (soonest "
                       "opening first), as on the calls page. Draft calls never appear.",
           responses={200: ("CallPage", "One page of calls.")})
def list_calls():
    now = utcnow()
    open_calls, upcoming = public_calls(session=get_db(), now=now)
    paging = Paging()
    items, total = paging.slice([*open_calls, *upcoming])
    return public_response(paging.body([serialize.call_summary(c, now) for c in items], total),
                           headers=paging.link_header(total))


@operation(bp, "/calls/{slug}", tag="calls", auth="public", cached=True, params=[SLUG],
           summary="One call: rules, dates, categories and the application form",
           responses={200: ("Call", "The call.")})
def get_call(slug: str):
    call = visible_call_or_404(slug)
    return public_response(serialize.call_detail(call, utcnow()))


@operation(bp, "/calls/{slug}/categories", tag="calls", auth="public", cached=True,
           params=[SLUG], summary="The categories of a call, with their award levels",
           responses={200: ("CategoryList", "The categories in their order.")})
def list_categories(slug: str):
    call = visible_call_or_404(slug)
    return public_response({"items": [serialize.category(c) for c in call.categories]})


# ---- results --------------------------------------------------------------------------------


def _visible_publications(call_id: int | None = None) -> list[Publication]:
    """Publications visible now, newest version first. The status filter only narrows the
    query; ``is_visible_at`` decides."""
    now = utcnow()
    query = (select(Publication)
             .where(or_(Publication.status != PublicationStatus.SCHEDULED,
                        Publication.scheduled_for <= now))
             .options(selectinload(Publication.call))
             .order_by(Publication.call_id, Publication.version.desc()))
    if call_id is not None:
        query = query.where(Publication.call_id == call_id)
    return [p for p in get_db().scalars(query) if p.is_visible_at(now)]


def _result_body(call_slug: str, version: int | None):
    call = get_db().scalar(select(Call).where(Call.slug == call_slug))
    if call is None:
        raise ApiProblem("not-found")
    publications = _visible_publications(call.id)
    if not publications:
        raise ApiProblem("not-found")
    versions = sorted(p.version for p in publications)
    if version is None:
        chosen = publications[0]
    else:
        chosen = next((p for p in publications if p.version == version), None)
        if chosen is None:
            raise ApiProblem("not-found")
    return serialize.publication(chosen, utcnow(), versions)


@operation(bp, "/results", tag="results", auth="public", cached=True, paged=True,
           summary="Calls whose results are published",
           description="Each call with its current (latest visible) publication, most "
                       "recently published first.",
           responses={200: ("ResultPage", "One page of published results.")})
def list_results():
    now = utcnow()
    latest: dict[int, Publication] = {}
    for publication in _visible_publications():
        latest.setdefault(publication.call_id, publication)
    ordered = sorted(latest.values(),
                     key=lambda p: (p.published_at or p.scheduled_for, p.id), reverse=True)
    paging = Paging()
    items, total = paging.slice(ordered)
    body = [{"call": serialize.call_summary(p.call, now), "version": p.version,
             "published_at": serialize.dt(p.published_at or p.scheduled_for)} for p in items]
    return public_response(paging.body(body, total), headers=paging.link_header(total))


@operation(bp, "/results/{slug}", tag="results", auth="public", cached=True, params=[SLUG],
           summary="The current published results of a call",
           description="404 until the publication time. A correction is a new version; "
                       "`versions` lists every version visible.",
           responses={200: ("Result", "The latest visible version.")})
def get_result(slug: str):
    return public_response(_result_body(slug, None))


@operation(bp, "/results/{slug}/versions/{version}", tag="results", auth="public",
           cached=True, params=[SLUG, path_id("version", "The publication's version number.")],
           summary="An earlier version of a call's published results",
           responses={200: ("Result", "That version, as it was published.")})
def get_result_version(slug: str, version: int):
    return public_response(_result_body(slug, version))


# ---- announcements ----------------------------------------------------------------------------


def _visible_announcements_query():
    from awards.announcements.models import Announcement

    now = utcnow()
    return (select(Announcement)
            .where(Announcement.status.in_((AnnouncementStatus.SCHEDULED,
                                            AnnouncementStatus.PUBLISHED)),
                   Announcement.publish_at.is_not(None), Announcement.publish_at <= now)
            .order_by(Announcement.publish_at.desc(), Announcement.id.desc()))


@operation(bp, "/announcements", tag="announcements", auth="public", cached=True, paged=True,
           params=[Param("call", {"type": "string", "maxLength": 80},
                         "Only posts about this call (its slug).")],
           summary="Published news posts, newest first",
           responses={200: ("AnnouncementPage", "One page of posts.")})
def list_announcements():
    from awards.announcements.models import Announcement
    from awards.api.http import query_text

    query = _visible_announcements_query()
    call_slug = query_text("call", max_length=80)
    if call_slug is not None:
        query = query.join(Call, Call.id == Announcement.call_id).where(Call.slug == call_slug)
    paging = Paging()
    items, total = paging.query(get_db(), query)
    now = utcnow()
    body = [serialize.announcement_summary(a) for a in items if a.is_visible_at(now)]
    return public_response(paging.body(body, total), headers=paging.link_header(total))


@operation(bp, "/announcements/{slug}", tag="announcements", auth="public", cached=True,
           params=[path_str("slug", "The post's slug.")],
           summary="One published news post (Markdown body in three languages)",
           responses={200: ("Announcement", "The post.")})
def get_announcement(slug: str):
    from awards.announcements.models import Announcement

    post = get_db().scalar(select(Announcement).where(Announcement.slug == slug))
    if post is None or not post.is_visible_at(utcnow()):
        raise ApiProblem("not-found")
    return public_response(serialize.announcement(post))
