"""Administrators write, schedule and publish news posts in three languages, with images."""

from __future__ import annotations

from math import ceil

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from awards import storage
from awards.announcements import pending, services
from awards.announcements.forms import (
    IMAGE_MAX_BYTES,
    IMAGE_TYPES,
    LANGS,
    AnnouncementForm,
    has_file,
)
from awards.announcements.markdown import render_markdown
from awards.announcements.models import Announcement, AnnouncementImage
from awards.announcements.services import AnnouncementError, StaleAnnouncementError
from awards.boundary import db_int, page_number
from awards.calls.models import Call
from awards.db import get_db, utcnow
from awards.enums import AnnouncementStatus
from awards.i18n import localized
from awards.permissions import admin_required
from awards.views_common import (
    Outcome,
    actor,
    check_csrf,
    get_or_404,
    run_action,
    show_error,
)

bp = Blueprint("announcements_admin", __name__, url_prefix="/admin/news")

PER_PAGE = 25
ACTIONS = ("save", "preview", "publish", "schedule", "unpublish")

# The state a reader sees, which is what an administrator filters by: a scheduled post whose
# time has come is live, although nothing changed its stored status.
STATE_LABELS = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "published": _l("Published"),
}


@bp.before_request
@admin_required
def _administrators_only():
    """One guard for the whole blueprint, so a route added later cannot forget it."""
    return None


def state_of(announcement: Announcement, now) -> str:
    if announcement.is_visible_at(now):
        return "published"
    if announcement.status == AnnouncementStatus.SCHEDULED:
        return "scheduled"
    return "draft"


def _state_clause(state: str, now):
    visible = services.visible_clause(now)
    if state == "published":
        return visible
    if state == "scheduled":
        return and_(Announcement.status == AnnouncementStatus.SCHEDULED,
                    Announcement.publish_at > now)
    return Announcement.status == AnnouncementStatus.DRAFT


@bp.context_processor
def _helpers():
    return {"STATE_LABELS": STATE_LABELS, "state_of": state_of}


@bp.get("/")
def index():
    db = get_db()
    now = utcnow()
    state = request.args.get("status", "")
    if state and state not in STATE_LABELS:
        abort(404)
    page = page_number(request.args.get("page"))
    if page is None:
        abort(404)
    where = [_state_clause(state, now)] if state else []
    total = db.scalar(select(func.count(Announcement.id)).where(*where)) or 0
    pages = max(1, ceil(total / PER_PAGE))
    if page > pages:
        abort(404)
    items = db.scalars(
        select(Announcement).where(*where).options(selectinload(Announcement.call))
        .order_by(Announcement.publish_at.is_(None).desc(), Announcement.publish_at.desc(),
                  Announcement.id.desc())
        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    counts = {key: db.scalar(select(func.count(Announcement.id))
                             .where(_state_clause(key, now))) or 0 for key in STATE_LABELS}
    return render_template("announcements_admin/list.html", items=items, state=state,
                           counts=counts, page=page, pages=pages, total=total, now=now)


def _call_choices(db) -> list[tuple[Call, str]]:
    calls = db.scalars(select(Call).order_by(Call.year.desc(), Call.id.desc())).all()
    return [(c, f"{localized(c, 'title') or c.slug} ({c.year})") for c in calls]


def _previews(form: AnnouncementForm) -> list[dict]:
    """What each written language will look like, from the typed (unsaved) texts."""
    previews = []
    for code in LANGS:
        title = getattr(form, f"title_{code}").data or ""
        if not title:
            continue
        previews.append({
            "code": code, "title": title,
            "summary": getattr(form, f"summary_{code}").data or "",
            "body": render_markdown(getattr(form, f"body_{code}").data or ""),
        })
    return previews


def _store(field) -> storage.StoredFile:
    try:
        return storage.save_upload(field.data.stream, field.data.filename, allowed=IMAGE_TYPES,
                                   max_bytes=IMAGE_MAX_BYTES)
    except storage.UploadError as exc:
        raise AnnouncementError(exc.message, field=field.name) from exc


def _keep_cover(db, form: AnnouncementForm) -> bool:
    """A cover chosen in this request is stored at once as a pending file and the form refers
    to it, so a preview, a refused save or a conflict does not lose it (a browser never sends
    a file twice). False, with the message next to the field, for a file refused."""
    if not has_file(form.cover):
        return True
    try:
        kept = pending.keep(form.cover, user_id=getattr(actor(), "id", None))
    except AnnouncementError as exc:
        show_error(form, exc)
        return False
    db.commit()  # puts the file in place; no row refers to it yet
    form.pending_cover.data = kept.token
    form.cover.data = None
    return True


def _pending_cover(form: AnnouncementForm) -> pending.PendingCover | None:
    """The pending cover the form refers to, for the page; None if none or no longer valid
    (the save says so)."""
    try:
        return pending.resolve(form.pending_cover.data, user_id=getattr(actor(), "id", None))
    except AnnouncementError:
        return None


def _apply_uploads(db, form: AnnouncementForm, announcement: Announcement,
                   written: list[str], obsolete: list[str]) -> None:
    """Set the chosen cover (kept as a pending file by ``_keep_cover``) and store the body
    image. Files written here are listed in ``written`` so a failed save can remove them;
    replaced files go to ``obsolete``, removed after the commit."""
    cover = pending.resolve(form.pending_cover.data, user_id=getattr(actor(), "id", None))
    if cover is not None:
        old = services.set_cover(session=db, actor=actor(), announcement=announcement,
                                 stored_name=cover.stored_name)
        if old:
            obsolete.append(old)
    elif form.remove_cover.data and announcement.image_name:
        old = services.set_cover(session=db, actor=actor(), announcement=announcement,
                                 stored_name=None)
        if old:
            obsolete.append(old)
    if has_file(form.image):
        stored = _store(form.image)
        written.append(stored.stored_name)
        services.add_image(session=db, actor=actor(), announcement=announcement, stored=stored,
                           alt_text=form.image_alt.data or "")


def _apply_action(db, action: str, form: AnnouncementForm, announcement: Announcement) -> str:
    if action == "publish":
        services.publish_now(session=db, actor=actor(), announcement=announcement)
        return _("The post is published.")
    if action == "schedule":
        services.schedule(session=db, actor=actor(), announcement=announcement,
                          publish_at=form.publish_at_utc())
        return _("The post is scheduled.")
    if action == "unpublish":
        services.unpublish(session=db, actor=actor(), announcement=announcement)
        return _("The post is back to draft and hidden from visitors.")
    return _("The post is saved.")


def _render_form(form, announcement, *, status: int = 200, previews=None, conflict=None):
    cover = _pending_cover(form) if form.pending_cover.data else None
    if form.pending_cover.data and cover is None:
        form.pending_cover.data = ""
        form.cover.errors = [*form.cover.errors, pending.EXPIRED]
    return render_template(
        "announcements_admin/form.html", form=form, post=announcement, previews=previews,
        conflict=conflict, now=utcnow(), pending_cover=cover,
        snippets=[(image, services.image_snippet(image), services.image_url(image.stored_name))
                  for image in (announcement.images if announcement else [])],
    ), status


def _save(db, form: AnnouncementForm, announcement: Announcement | None, action: str
          ) -> Outcome:
    """Texts, uploads and the chosen action in one transaction: all of it or nothing. The
    outcome's value is the saved post; a stale edit's refusal is left for the page's conflict
    box, any other is shown next to its field."""
    written: list[str] = []
    obsolete: list[str] = []

    def change() -> tuple[Announcement, str]:
        post = announcement
        if post is None:
            post = services.create_announcement(session=db, actor=actor(), values=form.values())
        else:
            services.update_announcement(session=db, actor=actor(), announcement=post,
                                         values=form.values(),
                                         expected_version=form.expected_version())
        _apply_uploads(db, form, post, written, obsolete)
        return post, _apply_action(db, action, form, post)

    # The files stored during the attempt are not in the transaction: remove them whenever it
    # is not committed, whatever stopped it.
    try:
        outcome = run_action(change, form=form, success=lambda done: done[1], show=False)
    except BaseException:
        db.rollback()
        _discard(written)
        raise
    if not outcome:
        _discard(written)
        if not isinstance(outcome.error, StaleAnnouncementError):
            show_error(form, outcome.error)
        return outcome
    _discard(obsolete)
    return Outcome(value=outcome.value[0])


def _discard(names: list[str]) -> None:
    for name in names:
        storage.delete_stored(name)


def _action() -> str:
    action = request.form.get("action", "save")
    if action not in ACTIONS:
        abort(400)
    return action


@bp.route("/new", methods=["GET", "POST"])
def new():
    db = get_db()
    form = AnnouncementForm(calls=_call_choices(db))
    if request.method == "GET":
        call_id = request.args.get("call", type=db_int)
        if call_id and db.get(Call, call_id) is not None:
            form.call_id.data = call_id
        return _render_form(form, None)
    action = _action()
    valid = form.validate()
    if form.csrf_token.errors:
        return _render_form(form, None, status=400)
    if not _keep_cover(db, form) or not valid:
        return _render_form(form, None, status=400)
    if action == "preview":
        return _render_form(form, None, previews=_previews(form))
    if action == "unpublish":
        action = "save"
    outcome = _save(db, form, None, action)
    if not outcome:
        return _render_form(form, None, status=400)
    return redirect(url_for(".edit", announcement_id=outcome.value.id))


@bp.route("/<int:announcement_id>", methods=["GET", "POST"])
def edit(announcement_id: int):
    db = get_db()
    announcement = get_or_404(Announcement, announcement_id)
    if request.method == "GET":
        form = AnnouncementForm(data=AnnouncementForm.initial(announcement),
                                calls=_call_choices(db))
        return _render_form(form, announcement)
    form = AnnouncementForm(calls=_call_choices(db))
    action = _action()
    valid = form.validate()
    if form.csrf_token.errors:
        return _render_form(form, announcement, status=400)
    kept = _keep_cover(db, form)
    if form.expected_version() != services.version_of(announcement) and action != "preview":
        return _render_form(form, announcement, status=409,
                            conflict=str(services.STALE_MESSAGE))
    if not kept or not valid:
        return _render_form(form, announcement, status=400)
    if action == "preview":
        return _render_form(form, announcement, previews=_previews(form))
    outcome = _save(db, form, announcement, action)
    if not outcome:
        stale = isinstance(outcome.error, StaleAnnouncementError)
        db.expire_all()
        return _render_form(form, get_or_404(Announcement, announcement_id),
                            status=outcome.status(),
                            conflict=str(outcome.error.message) if stale else None)
    return redirect(url_for(".edit", announcement_id=announcement.id))


@bp.get("/pending-cover/<token>")
def pending_cover(token: str):
    """A cover chosen but not saved yet, for the form and its preview (only to the
    administrator who chose it)."""
    try:
        cover = pending.resolve(token, user_id=getattr(actor(), "id", None))
    except AnnouncementError:
        abort(404)
    if cover is None:
        abort(404)
    kind = next((k for k, ext in storage.EXTENSIONS.items()
                 if cover.stored_name.endswith(ext)), "")
    response = send_file(storage.path_for(cover.stored_name),
                         mimetype=storage.CONTENT_TYPES.get(kind, "application/octet-stream"))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:announcement_id>/images/<int:image_id>/delete")
def image_delete(announcement_id: int, image_id: int):
    check_csrf()
    db = get_db()
    image = db.get(AnnouncementImage, image_id)
    if image is None or image.announcement_id != announcement_id:
        abort(404)
    outcome = run_action(
        lambda: services.delete_image(session=db, actor=actor(), image=image),
        success=_("The image is deleted. Remove its line from the text if it is still there."))
    if outcome:
        storage.delete_stored(outcome.value)
    return redirect(url_for(".edit", announcement_id=announcement_id) + "#images")


@bp.route("/<int:announcement_id>/delete", methods=["GET", "POST"])
def delete(announcement_id: int):
    db = get_db()
    announcement = get_or_404(Announcement, announcement_id)
    if request.method == "POST":
        check_csrf()
        outcome = run_action(
            lambda: services.delete_announcement(session=db, actor=actor(),
                                                 announcement=announcement),
            success=_("The post is deleted."))
        if not outcome:
            return redirect(url_for(".edit", announcement_id=announcement_id))
        _discard(outcome.value)
        return redirect(url_for(".index"))
    return render_template("announcements_admin/delete.html", post=announcement)
