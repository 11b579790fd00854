"""The public stage as visitors meet it: candidates' profiles, e-mail verification, voting and
comments."""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache, partial

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from limits import parse_many
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import TooManyRequests

from awards import metrics
from awards.cache import public_page
from awards.calls.models import Call
from awards.db import autocommit_connection, get_db, utcnow
from awards.enums import CallStatus, StageKind
from awards.extensions import hit_all, limiter
from awards.forms import CSRFOnlyForm, csrf_token_valid
from awards.permissions import is_admin
from awards.public_stage import services, voters
from awards.public_stage.forms import CodeForm, CommentForm, EmailRequestForm, ReportForm
from awards.public_stage.integrity import network_of
from awards.public_stage.models import PublicStage, StageComment, StageEntry
from awards.public_stage.voting import vote_option
from awards.sessions import send_cookie_only_if_changed
from awards.storage import path_for
from awards.urls import is_safe_next
from awards.views_common import form_status, show_error

bp = Blueprint("public_stage", __name__, url_prefix="/public")
log = logging.getLogger(__name__)

PENDING_EMAIL = "voter_email"
PENDING_NEXT = "voter_next"


def _limit(name: str):
    return lambda: current_app.config[name]


def _client_ip() -> str:
    return request.remote_addr or ""


def _email_key() -> str:
    """The address a code is sent to: the one typed, or for "send me a new code" the one the
    browser is confirming."""
    return "voter-email:" + voters.normalise_email(
        request.form.get("email") or session.get(PENDING_EMAIL) or "")


# Sending a code (asking for one, or a new one) counts against one limit per client address
# and one per e-mail address, however it is asked for.
SEND_SCOPE = "public-voter-code-send"


def _send_limits(view):
    limit = _limit("RATELIMIT_PUBLIC_VERIFY")
    view = limiter.shared_limit(limit, SEND_SCOPE, methods=["POST"])(view)
    return limiter.shared_limit(limit, SEND_SCOPE + "-email", methods=["POST"],
                                key_func=_email_key)(view)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _stage_or_404(slug: str) -> tuple[Call, PublicStage]:
    """The call's stage, once it has opened; administrators may look earlier."""
    found = services.call_and_stage(get_db(), slug)
    if found is None:
        abort(404)
    return _visible_or_404(*found)


def _visible_or_404(call: Call, stage: PublicStage | None) -> tuple[Call, PublicStage]:
    if stage is None or ((call.status == CallStatus.DRAFT or utcnow() < stage.opens_at)
                         and not is_admin(current_user)):
        abort(404)
    return call, stage


def _entry_or_404(stage: PublicStage, reference: str) -> StageEntry:
    entry = services.entry_for(get_db(), stage, reference)
    if entry is None:
        abort(404)
    return entry


def _refuse(message, status: int, *, call: Call | services.Ballot | None = None,
            entry: StageEntry | services.Ballot | None = None):
    if _wants_json():
        return jsonify({"ok": False, "message": str(message)}), status
    db = get_db()
    if isinstance(call, services.Ballot):
        call = db.get(Call, call.call_id)
    if isinstance(entry, services.Ballot):
        entry = db.get(StageEntry, entry.entry_id) if entry.entry_id is not None else None
    return render_template("public_stage/refused.html", message=message, call=call,
                           entry=entry), status


@bp.app_template_global()
def public_stage_summary(call: Call) -> dict | None:
    """What the call page shows about the public stage: a "vote now" link while it is open,
    the frozen results after the close, nothing before it opens."""
    stage = services.stage_of(get_db(), call)
    now = utcnow()
    current = services.state(stage, now)
    if current in ("none", "upcoming"):
        return None
    return {"stage": stage, "state": current, "results": stage.results or {},
            "url": url_for("public_stage.index", slug=call.slug)}


# ---- candidates -----------------------------------------------------------------------------


@bp.get("/<slug>/")
@public_page
def index(slug: str):
    db = get_db()
    call, stage = _stage_or_404(slug)
    voter, choices = services.voter_with_choices(db, stage, session.get(voters.SESSION_KEY))
    return render_template(
        "public_stage/index.html", call=call, stage=stage,
        state=services.state(stage, utcnow()), groups=services.entries_by_category(db, stage),
        cards=services.cards(db, stage), no_card=services.NO_CARD, voter=voter,
        choices=choices, vote_option=partial(vote_option, stage))


@bp.app_template_filter("public_name")
def public_name_filter(nomination) -> str:
    return services.public_name(nomination)


@bp.get("/<slug>/<reference>")
@public_page
def entry(slug: str, reference: str):
    db = get_db()
    found = services.candidate_page(db, slug, reference, session.get(voters.SESSION_KEY))
    if found is None:
        abort(404)
    call, stage = _visible_or_404(found.call, found.stage)
    item = found.entry
    if item is None:
        abort(404)
    nomination = item.nomination
    discussion = stage.kind == StageKind.DISCUSSION
    comments = services.approved_comments(db, stage, nomination.id) if discussion else []
    return render_template(
        "public_stage/entry.html", call=call, stage=stage, entry=item, nomination=nomination,
        name=services.public_name(nomination), answers=services.public_answers(db, nomination),
        photo=found.photo_id, state=services.state(stage, utcnow()), voter=found.voter,
        choice=found.choice, chosen=services.chosen_entry(db, found), comments=comments,
        vote_option=partial(vote_option, stage),
        comment_form=CommentForm(formdata=None) if discussion else None,
        report_form=ReportForm(formdata=None) if discussion else None)


@bp.get("/<slug>/<reference>/photo")
def photo(slug: str, reference: str):
    db = get_db()
    _call, stage = _stage_or_404(slug)
    item = _entry_or_404(stage, reference)
    picture = services.public_photo(db, item.nomination)
    if picture is None or not services.is_photo_visible(db, item.nomination_id, utcnow()):
        abort(404)
    try:
        path = path_for(picture.stored_name)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=picture.content_type, max_age=0, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Not kept by shared caches: it must disappear when the entry leaves the stage.
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# ---- voting ---------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _parsed(limits: str) -> tuple:
    return tuple(parse_many(limits))


def _vote_limit_refusal():
    """The vote's rate limits, per client address and per network, counted in the limiter's
    storage with the ``limits`` library itself (``awards.extensions.hit_all``): Flask-Limiter's
    bookkeeping around the same four counters cost more than the counters (bench/RESULTS.md).
    A refusal says when to come back; if the storage cannot be reached, the vote is let through
    (a campaign must not stop because its counters did)."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return None
    ip = _client_ip()
    # Under the site's key prefix when it has one (several sites sharing one Redis).
    scope = (*tuple(filter(None, [config.get("RATELIMIT_KEY_PREFIX")])), "public-vote")
    checks = [(item, (*scope, "address", ip))
              for item in _parsed(config["RATELIMIT_PUBLIC_VOTE"])]
    checks += [(item, (*scope, "network", network_of(ip)))
               for item in _parsed(config["RATELIMIT_PUBLIC_VOTE_NETWORK"])]
    try:
        within = hit_all(checks)
        if all(within):
            return None
        item, keys = checks[within.index(False)]
        wait = limiter.limiter.get_window_stats(item, *keys).reset_time - time.time()
    except Exception:
        log.warning("the vote's rate-limit counters could not be reached", exc_info=True)
        return None
    seconds = str(min(item.get_expiry(), max(1, math.ceil(wait))))
    if _wants_json():
        message = _("Too many attempts. Please wait a little and try again.")
        return jsonify({"ok": False, "message": message}), 429, {"Retry-After": seconds}
    raise TooManyRequests(retry_after=int(seconds))


def _vote_message(outcome: str) -> str:
    if outcome == "cast":
        return _("Thank you! Your vote is counted.")
    if outcome == "changed":
        return _("Your vote in this category is changed.")
    return _("You have already voted for this entry. Your vote is counted once.")


@limiter.request_filter
def _vote_counts_its_own_limits() -> bool:
    """Flask-Limiter's before-request hook has nothing to count on the vote (its limits are
    counted in ``_vote_limit_refusal``); told so, it stops before resolving the route's
    limits, which cost about a twentieth of the vote's time."""
    return request.endpoint == "public_stage.vote"


@bp.post("/<slug>/<reference>/vote")
def vote(slug: str, reference: str):
    """On the request's one connection, in autocommit mode
    (``awards.db.autocommit_connection``): a first vote in the category is one statement
    (``services.cast_first_vote``); anything else (a repeat, a change, a refusal) is found out
    and answered by ``_vote_otherwise``. The unique constraint (stage, category, voter) makes
    a vote count once whatever the double clicks, tabs or parallel requests, and whatever
    else the request reads uses the same connection."""
    now = utcnow()
    send_cookie_only_if_changed()
    if (refusal := _vote_limit_refusal()) is not None:
        return refusal
    conn = autocommit_connection()
    voter_id = session.get(voters.SESSION_KEY)
    csrf_valid = csrf_token_valid(request.form.get("csrf_token"))
    first = services.cast_first_vote(conn, slug=slug, reference=reference, voter_id=voter_id,
                                     ip=_client_ip(), now=now) if csrf_valid else None
    if first is not None:
        outcome, ballot = "cast", first
    else:
        outcome, ballot, response = _vote_otherwise(conn, slug, reference, voter_id=voter_id,
                                                    csrf_valid=csrf_valid, now=now)
        if response is not None:
            return response
    metrics.vote_outcome(outcome)
    message = _vote_message(outcome)
    if _wants_json():
        # What the category's other entries now offer ("move" or nothing): the page shows it.
        others = vote_option(ballot, ballot.nomination_id, None)
        return jsonify({"ok": True, "outcome": outcome, "message": message,
                        "others": others}), 200
    flash(message, "success")
    back = _safe(request.form.get("next")) or url_for(".entry", slug=slug, reference=reference)
    return redirect(back, 303)


def _vote_otherwise(conn, slug: str, reference: str, *, voter_id, csrf_valid: bool, now):
    """The vote that was not a plain first vote: (outcome, its ballot, None), or (None, None,
    the refusal)."""
    ballot = services.ballot_for(conn, slug=slug, reference=reference, voter_id=voter_id)
    if ballot is None:
        abort(404)
    # The same rule as _stage_or_404, on the row already read.
    if ballot.stage_id is None or (
            (ballot.call_status == CallStatus.DRAFT or now < ballot.opens_at)
            and not is_admin(current_user)):
        abort(404)
    if not csrf_valid:
        return None, None, _refuse(_("The form expired. Reload the page and try again."), 400,
                                   call=ballot)
    if ballot.entry_id is None:
        return None, None, _refuse(_("This entry does not take part in the public vote."),
                                   404, call=ballot)
    if ballot.voter_id is None:
        if _wants_json():
            return None, None, _refuse(_("Confirm your e-mail address to vote."), 401,
                                       call=ballot)
        flash(_("Confirm your e-mail address to vote."), "warning")
        back = _safe(request.form.get("next")) or url_for(".entry", slug=slug,
                                                          reference=reference)
        return None, None, redirect(url_for(".verify", slug=slug, next=back), 303)
    try:
        return services.cast_vote(conn, ballot, ip=_client_ip(), now=now), ballot, None
    except services.StageError as refusal:
        return None, None, _refuse(refusal.message, refusal.status, call=ballot, entry=ballot)


# ---- e-mail verification --------------------------------------------------------------------


def _safe(url: str | None) -> str | None:
    return url if url and is_safe_next(url) else None


@bp.route("/<slug>/verify", methods=["GET", "POST"])
@_send_limits
def verify(slug: str):
    db = get_db()
    call, stage = _stage_or_404(slug)
    next_url = _safe(request.values.get("next")) or url_for(".index", slug=slug)
    form = EmailRequestForm()
    if form.validate_on_submit():
        voters.request_verification(session=db, email=form.email.data,
                                    language=str(get_locale()), ip=_client_ip(),
                                    stage_slug=slug)
        db.commit()
        session[PENDING_EMAIL] = voters.normalise_email(form.email.data)
        session[PENDING_NEXT] = next_url
        return redirect(url_for(".verify_code", slug=slug), 303)
    return render_template("public_stage/verify.html", call=call, stage=stage, form=form,
                           next_url=next_url), form_status(form)


def _verified(voter, slug: str):
    next_url = _safe(session.get(PENDING_NEXT)) or url_for(".index", slug=slug)
    voters.remember(session, voter)
    flash(_("Your e-mail address is confirmed. You can vote now."), "success")
    return redirect(next_url, 303)


@bp.route("/<slug>/verify/code", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_PUBLIC_CODE"), methods=["POST"])
def verify_code(slug: str):
    db = get_db()
    call, stage = _stage_or_404(slug)
    email = session.get(PENDING_EMAIL)
    if not email:
        return redirect(url_for(".verify", slug=slug), 303)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            voter = voters.verify_code(session=db, email=email, code=form.code.data)
        except voters.VoterError as refusal:
            db.commit()  # the wrong attempt is counted
            show_error(form, refusal)
            return render_template("public_stage/code.html", call=call, stage=stage, form=form,
                                   email=email), 400
        db.commit()
        return _verified(voter, slug)
    return render_template("public_stage/code.html", call=call, stage=stage, form=form,
                           email=email), form_status(form)


@bp.post("/<slug>/verify/again")
@_send_limits
def verify_again(slug: str):
    """Send me a new code: to the address this browser is confirming, after a code expired, too
    many wrong ones or too many attempts."""
    db = get_db()
    _stage_or_404(slug)
    email = session.get(PENDING_EMAIL)
    if not CSRFOnlyForm().validate():
        return _refuse(_("The form expired. Reload the page and try again."), 400)
    if not email:
        return redirect(url_for(".verify", slug=slug), 303)
    voters.request_verification(session=db, email=email, language=str(get_locale()),
                                ip=_client_ip(), stage_slug=slug)
    db.commit()
    flash(_("We have sent a new code to %(email)s.", email=email), "success")
    return redirect(url_for(".verify_code", slug=slug), 303)


@bp.errorhandler(429)
def too_many(exc):
    """A refusal by a rate limit. For the e-mail confirmation: when to try again and, while the
    browser is confirming an address, "send me a new code" (itself rate limited); for anything
    else, the site's own page."""
    from awards.errors import http_error_page
    from awards.extensions import retry_after

    slug = (request.view_args or {}).get("slug")
    if request.endpoint not in CODE_ENDPOINTS or not slug or _wants_json():
        # The site's own page (awards.errors), as if this blueprint had no handler.
        return http_error_page(exc)
    seconds = retry_after()
    headers = {"Retry-After": seconds} if seconds else {}
    found = services.call_and_stage(get_db(), slug)
    wait = int(seconds or 60)
    return render_template(
        "public_stage/too_many.html", call=found[0] if found else None, slug=slug,
        minutes=max(1, math.ceil(wait / 60)), email=session.get(PENDING_EMAIL),
        again=request.endpoint != "public_stage.verify"), 429, headers


CODE_ENDPOINTS = frozenset({"public_stage.verify", "public_stage.verify_code",
                            "public_stage.verify_again"})


@bp.get("/<slug>/verify/<token>")
def verify_link(slug: str, token: str):
    db = get_db()
    call, _stage = _stage_or_404(slug)
    try:
        voter = voters.verify_link(session=db, token=token)
    except voters.VoterError as refusal:
        db.rollback()
        return _refuse(refusal.message, 400, call=call)
    db.commit()
    return _verified(voter, slug)


@bp.post("/<slug>/forget")
def forget(slug: str):
    if not CSRFOnlyForm().validate():
        abort(400)
    session.pop(voters.SESSION_KEY, None)
    flash(_("This browser no longer remembers your e-mail address."), "success")
    return redirect(url_for(".index", slug=slug), 303)


# ---- discussion -----------------------------------------------------------------------------


@bp.post("/<slug>/<reference>/comment")
@limiter.limit(_limit("RATELIMIT_PUBLIC_COMMENT"))
def comment(slug: str, reference: str):
    db = get_db()
    call, stage = _stage_or_404(slug)
    item = _entry_or_404(stage, reference)
    voter = voters.current_voter(db, session)
    entry_url = url_for(".entry", slug=slug, reference=reference)
    if voter is None:
        flash(_("Confirm your e-mail address to comment."), "warning")
        return redirect(url_for(".verify", slug=slug, next=entry_url), 303)
    form = CommentForm()
    if form.validate():
        try:
            services.post_comment(session=db, stage=stage, voter=voter, entry=item,
                                  author_name=form.author_name.data, body=form.body.data,
                                  ip=_client_ip())
        except services.StageError as refusal:
            db.rollback()
            if refusal.field is None:
                return _refuse(refusal.message, refusal.status, call=call, entry=item)
            show_error(form, refusal)
        else:
            db.commit()
            flash(_("Thank you! Your comment will appear once a moderator approves it."),
                  "success")
            return redirect(entry_url, 303)
    nomination = item.nomination
    return render_template(
        "public_stage/entry.html", call=call, stage=stage, entry=item, nomination=nomination,
        name=services.public_name(nomination), answers=services.public_answers(db, nomination),
        photo=services.public_photo(db, nomination), state=services.state(stage, utcnow()),
        voter=voter, choice=None, comments=services.approved_comments(db, stage, nomination.id),
        vote_option=partial(vote_option, stage),
        comment_form=form, report_form=ReportForm(formdata=None)), 400


@bp.post("/<slug>/comments/<int:comment_id>/report")
@limiter.limit(_limit("RATELIMIT_PUBLIC_COMMENT"))
def report(slug: str, comment_id: int):
    db = get_db()
    call, stage = _stage_or_404(slug)
    item = db.get(StageComment, comment_id)
    if item is None or item.stage_id != stage.id:
        abort(404)
    entry_url = url_for(".entry", slug=slug, reference=item.nomination.reference)
    voter = voters.current_voter(db, session)
    if voter is None:
        flash(_("Confirm your e-mail address to report a comment."), "warning")
        return redirect(url_for(".verify", slug=slug, next=entry_url), 303)
    form = ReportForm()
    if not form.validate():
        return _refuse(_("The form expired. Reload the page and try again."), 400, call=call)
    try:
        services.report_comment(session=db, comment=item, voter=voter, ip=_client_ip(),
                                reason=form.reason.data or "")
        db.commit()
    except services.StageError as refusal:
        db.rollback()
        return _refuse(refusal.message, refusal.status, call=call)
    except IntegrityError:
        db.rollback()
        return _refuse(_("You have already reported this comment."), 409, call=call)
    flash(_("Thank you. The moderators will look at this comment."), "success")
    return redirect(entry_url, 303)


@bp.app_template_global()
def public_vote_count(nomination_id: int) -> int | None:
    """For the juror's scoring page: the entry's public vote count once the vote closed, when
    the call shows counts to the jury; None otherwise."""
    return services.jury_vote_count(get_db(), nomination_id)
