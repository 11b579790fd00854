"""The juror's pages: the list of assigned entries with progress, one entry with its score
sheet (save a draft, submit, reopen), recusal (declaring a conflict of interest), the chair's
view of the panel's scores, and attachment downloads.

Anything that is not the juror's own visible assignment is a 404 on every route, never a 403:
the page must not tell that it exists. Posts aimed at such ids are audited."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from awards import policy, redaction
from awards.db import get_db, utcnow
from awards.errors import render_error
from awards.i18n import format_dt, localized
from awards.judging.totals import total_bounds
from awards.jury import access, files, services
from awards.jury.autosave import form_errors, refused_json, saved_json, wants_json
from awards.jury.forms import (
    STATE_LABELS,
    DashboardFilter,
    RecuseForm,
    ReopenForm,
    comment_name,
    review_form,
    score_name,
)
from awards.jury.models import Assignment
from awards.jury.titles import title_of
from awards.views_common import viewer

bp = Blueprint("jury", __name__, url_prefix="/jury")

STATE_BADGES = {services.TODO: "", services.DRAFT: "warn", services.SUBMITTED: "ok"}


def _score_text(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, format="#,##0.###")


@bp.context_processor
def _helpers():
    return {"STATE_LABELS": STATE_LABELS, "STATE_BADGES": STATE_BADGES,
            "state_of": services.state_of, "score_text": _score_text,
            "score_name": score_name, "comment_name": comment_name,
            "entry_title": _entry_title, "viewable": files.viewable, "file_kind": files.kind_of}


def _user():
    return current_user._get_current_object()


def _shows_identity(assignment: Assignment) -> bool:
    return policy.shows_identity(viewer(), assignment.round)


def _entry_title(assignment: Assignment) -> str:
    """The entry as this juror may name it: the reference, and the nominee only when the
    round shows identities to them."""
    nomination = assignment.nomination
    title = nomination.reference or f"#{nomination.id}"
    if _shows_identity(assignment) and nomination.nominee_name:
        title += f" — {nomination.nominee_name}"
    return title


def _file_names(assignment: Assignment) -> dict[int, str]:
    """The entry's files as this juror sees them named: as uploaded, or in a blind round
    "Attachment 2.pdf" (numbered among the files the juror may open, as in the API)."""
    nomination = assignment.nomination
    if _shows_identity(assignment):
        return {a.id: a.original_name for a in nomination.attachments}
    visible = services.entry_view(nomination, assignment.round, identity=False).attachment_ids
    return redaction.neutral_names(a for a in nomination.attachments if a.id in visible)


def _assignment_or_404(assignment_id: int) -> Assignment:
    db = get_db()
    assignment = access.visible_assignment(db, current_user, assignment_id)
    if assignment is None:
        if request.method == "POST":
            db.rollback()
            services.record_forbidden_attempt(session=db, user=_user(), object_type="assignment",
                                              object_id=assignment_id, method=request.method,
                                              path=request.path)
            db.commit()
        abort(404)
    return assignment


# ---- the dashboard --------------------------------------------------------------------------


@bp.get("/")
@login_required
def dashboard():
    page = services.juror_dashboard(session=get_db(), user=current_user, now=utcnow())
    filters = DashboardFilter(request.args)
    filters.set_categories(page.categories)
    # Only a category of the juror's own calls; anything else typed in the address is no filter.
    category_id = {str(c.id): c.id for c in page.categories}.get(filters.category.data or "")
    state = filters.state()
    return render_template("jury/dashboard.html",
                           groups=page.groups(category_id=category_id, state=state),
                           filters=filters,
                           filtered=category_id is not None or state is not None,
                           next_assignment=page.next_unscored(category_id=category_id),
                           all_done=page.all_done,
                           category_id=category_id, now=page.now,
                           category_names={c.id: localized(c, "name") for c in page.categories},
                           score_url_of=_url_by_id(".score"),
                           recuse_url_of=_url_by_id(".recuse"),
                           score_text=_once_per_value(_score_text))


def _once_per_value(format_value):
    """``format_value`` remembered for the page: 250 totals hold few distinct values."""
    done: dict = {}

    def formatted(value):
        if value not in done:
            done[value] = format_value(value)
        return done[value]

    return formatted


def _url_by_id(endpoint: str):
    """The URL of ``endpoint`` for an assignment id, routed once per page rather than once per
    line (a busy juror's list links 250 lines)."""
    marker = "2147483647"
    before, after = url_for(endpoint, assignment_id=int(marker)).split(marker)
    return lambda assignment_id: f"{before}{int(assignment_id)}{after}"


@bp.get("/next")
@login_required
def next_unscored():
    category = request.args.get("category", "")
    assignment_id = services.next_unscored(
        session=get_db(), user=current_user, now=utcnow(),
        category_id=int(category) if category.isascii() and category.isdigit()
        and len(category) <= 9 else None)
    if assignment_id is None:
        flash(_("Nothing left to score: every entry assigned to you in the open rounds has "
                "been submitted."), "success")
        return redirect(url_for(".dashboard"))
    return redirect(url_for(".score", assignment_id=assignment_id))


# ---- one entry: read and score ----------------------------------------------------------------


def _closed_message(round_) -> str:
    if policy.call_is_frozen(round_.call):
        return str(policy.FROZEN_REASON)
    if round_.closes_at is not None:
        return _("This round closed on %(when)s. Reviews can no longer be changed.",
                 when=format_dt(round_.closes_at, tz=round_.call.tz))
    return _("This round is closed. Reviews can no longer be changed.")


def _not_open_message(round_) -> str:
    if round_.rubric is None or not round_.rubric.criteria:
        return _("The rubric of this round is not ready yet. You can read the entry; scoring "
                 "opens when the organisers finish setting up the round.")
    if round_.opens_at is not None:
        return _("Scoring in this round opens on %(when)s.",
                 when=format_dt(round_.opens_at, tz=round_.call.tz))
    return _("Scoring in this round has not opened yet.")


def _stale_message(review) -> str:
    if review is not None and review.is_submitted:
        return _("This review was changed in another window or tab and is now submitted. "
                 "Your changes below were not saved. Reload the page to see the saved review.")
    return _("This review was changed in another window or tab since you opened this page. "
             "Your changes below were not saved. Reload the page to see the saved version, or "
             "save again to replace it with what you see here.")


def _render_score(assignment: Assignment, form=None, *, status: int = 200,
                  notice: str | None = None, notice_kind: str = "bad"):
    db = get_db()
    now = utcnow()
    round_ = assignment.round
    review = assignment.review
    rubric = round_.rubric
    if form is None:
        form = review_form(rubric, review)
    editable = (access.can_score(db, current_user, assignment, now)
                and rubric is not None and bool(rubric.criteria)
                and (review is None or not review.is_submitted))
    # The entry to go on with from here: the first unscored one other than this.
    upcoming = services.next_unscored(session=db, user=current_user, now=now,
                                      exclude=assignment.id)
    closed = access.round_is_closed(round_, now)
    bounds = None
    if rubric is not None and rubric.criteria:
        bounds = total_bounds(services.criteria_of(rubric), rubric.total_method)
    if notice is None:
        if closed:
            notice, notice_kind = _closed_message(round_), "warn"
        elif not round_.is_open_at(now) or rubric is None or not rubric.criteria:
            notice, notice_kind = _not_open_message(round_), "warn"
    return render_template(
        "jury/score.html", assignment=assignment, round=round_, call=round_.call,
        nomination=assignment.nomination, entry=services.entry_view(assignment.nomination, round_,
                                                          identity=_shows_identity(assignment)),
        file_names=_file_names(assignment),
        rubric=rubric, form=form, review=review, editable=editable, closed=closed,
        bounds=bounds, notice=notice, notice_kind=notice_kind,
        can_reopen=review is not None and review.is_submitted and not closed,
        reopen_form=ReopenForm(formdata=None, data={"version": str(review.version_id)})
        if review is not None else None,
        can_see_panel=access.can_see_panel_scores(db, current_user, assignment),
        next_assignment=upcoming,
        work_title=title_of(assignment.nomination, identity=_shows_identity(assignment)),
    ), status


@bp.get("/assignments/<int:assignment_id>")
@login_required
def score(assignment_id: int):
    return _render_score(_assignment_or_404(assignment_id))


@bp.post("/assignments/<int:assignment_id>")
@login_required
def save(assignment_id: int):
    db = get_db()
    assignment = _assignment_or_404(assignment_id)
    round_ = assignment.round
    form = review_form(round_.rubric, formdata=request.form)
    if not form.validate():
        if wants_json():
            return refused_json("invalid", 400, errors=form_errors(form))
        return _render_score(assignment, form, status=400)
    try:
        result = services.save_review(
            session=db, juror=_user(), assignment=assignment, scores=form.scores(),
            comments=form.comments(), overall_comment=form.overall_comment.data or "",
            private_note=form.private_note.data or "", expected_version=form.expected_version(),
            submit=form.submitting, now=utcnow())
    except services.InvalidScores as refusal:
        db.rollback()
        form.add_score_errors(refusal.errors)
        if wants_json():
            return refused_json("invalid", 400, errors=form_errors(form))
        return _render_score(assignment, form, status=400)
    except services.RoundClosed:
        db.rollback()
        if wants_json():
            return refused_json("closed", 409, message=_closed_message(round_))
        return _render_score(assignment, status=409, notice=_closed_message(round_))
    except services.RoundNotOpen:
        db.rollback()
        if wants_json():
            return refused_json("closed", 409, message=_not_open_message(round_))
        return _render_score(assignment, status=409, notice=_not_open_message(round_))
    except services.AlreadySubmitted:
        db.rollback()
        message = _("This review is already submitted. Reopen it first if you want to change it.")
        if wants_json():
            return refused_json("submitted", 409, message=message)
        return _render_score(assignment, status=409, notice=message)
    except services.StaleReview:
        db.rollback()  # and read the review again: it is as the other save left it
        return _stale(assignment, form, assignment.review)
    except services.NotAvailable:
        db.rollback()
        abort(404)
    try:
        db.commit()
    except (StaleDataError, IntegrityError, OperationalError):
        # Another save of the same review won the race between our check and our write.
        db.rollback()
        db.expire_all()
        return _stale(assignment, form, assignment.review)
    if wants_json():
        return saved_json(result.review)
    if not result.changed:
        flash(_("This review was already submitted with exactly these scores."), "success")
        return _go_on(db, assignment)
    if form.submitting:
        flash(_("Your review of %(ref)s is submitted. Thank you!", ref=_ref(assignment)),
              "success")
        return _go_on(db, assignment)
    flash(_("Draft saved. It is not submitted yet."), "success")
    if form.going_on:
        return _go_on(db, assignment)
    return redirect(url_for(".score", assignment_id=assignment.id), 303)


def _go_on(db, assignment: Assignment):
    """After a submission (or "Save and next"): the next entry still to score, or the list
    with its "all scored" state when none is left."""
    upcoming = services.next_unscored(session=db, user=current_user, now=utcnow(),
                                      exclude=assignment.id)
    if upcoming is None:
        return redirect(url_for(".dashboard"), 303)
    return redirect(url_for(".score", assignment_id=upcoming), 303)


def _stale(assignment: Assignment, form, review):
    if wants_json():
        return refused_json("stale", 409, message=_stale_message(review),
                            version=review.version_id if review is not None else 0)
    # Keep what was typed, and let a deliberate second save replace the other tab's version.
    form.version.data = str(review.version_id if review is not None else 0)
    return _render_score(assignment, form, status=409, notice=_stale_message(review))


def _ref(assignment: Assignment) -> str:
    return assignment.nomination.reference or f"#{assignment.nomination_id}"


@bp.post("/assignments/<int:assignment_id>/reopen")
@login_required
def reopen(assignment_id: int):
    db = get_db()
    assignment = _assignment_or_404(assignment_id)
    form = ReopenForm()
    if not form.validate():
        return _render_score(assignment, status=400, notice=_(
            "The form expired. Please try again."))
    try:
        services.reopen_review(session=db, juror=_user(), assignment=assignment,
                               expected_version=form.expected_version(), now=utcnow())
        db.commit()
    except services.RoundClosed:
        db.rollback()
        return _render_score(assignment, status=409, notice=_closed_message(assignment.round))
    except services.NotSubmitted:
        db.rollback()
        return _render_score(assignment, status=409, notice=_(
            "This review is not submitted, so there is nothing to reopen."))
    except (services.StaleReview, StaleDataError):
        db.rollback()
        db.expire_all()
        return _render_score(assignment, status=409, notice=_stale_message(assignment.review))
    except services.NotAvailable:
        db.rollback()
        abort(404)
    flash(_("The review is back to draft. Submit it again when you are done; until then it "
            "does not count."), "warning")
    return redirect(url_for(".score", assignment_id=assignment.id), 303)


# ---- recusal and conflicts of interest --------------------------------------------------------


@bp.route("/assignments/<int:assignment_id>/recuse", methods=["GET", "POST"])
@login_required
def recuse(assignment_id: int):
    db = get_db()
    assignment = _assignment_or_404(assignment_id)
    round_ = assignment.round
    form = RecuseForm() if request.method == "POST" else RecuseForm(formdata=None)
    closed = access.round_is_closed(round_, utcnow())
    status = 200
    notice = _closed_message(round_) if closed else None
    if request.method == "POST":
        if closed:
            status = 409
        elif form.validate():
            try:
                services.recuse(session=db, juror=_user(), assignment=assignment,
                                reason=form.reason.data or "", now=utcnow())
            except services.RoundClosed:
                db.rollback()
                status = 409
                notice = _closed_message(round_)
            except services.NotAvailable:
                db.rollback()
                abort(404)
            else:
                db.commit()
                flash(_("You have withdrawn from %(ref)s because of a conflict of interest. "
                        "The organisers will ask another juror to judge it.",
                        ref=_ref(assignment)), "success")
                return redirect(url_for(".dashboard"), 303)
        else:
            status = 400
    return render_template(
        "jury/recuse.html", assignment=assignment, round=round_, nomination=assignment.nomination,
        form=form, closed=closed, notice=notice,
        before_opening=assignment.review is None), status


# ---- the chair's view -----------------------------------------------------------------------


@bp.get("/assignments/<int:assignment_id>/panel")
@login_required
def panel(assignment_id: int):
    db = get_db()
    assignment = _assignment_or_404(assignment_id)
    if not access.can_see_panel_scores(db, current_user, assignment):
        abort(404)
    round_ = assignment.round
    return render_template(
        "jury/panel.html", assignment=assignment, round=round_, nomination=assignment.nomination,
        criteria=round_.rubric.criteria if round_.rubric else [],
        rows=services.panel_reviews(session=db, assignment=assignment, viewer=current_user))


# ---- files ----------------------------------------------------------------------------------


def _send_file(assignment_id: int, attachment_id: int, *, inline: bool):
    """A file of the juror's own visible assignment, downloaded or (``inline``, only the types
    the viewer shows) opened beside the score sheet. In a blind round only the files the
    entry's page shows, cleaned, under their neutral names."""
    assignment = _assignment_or_404(assignment_id)
    identity = _shows_identity(assignment)
    file = services.visible_attachment(assignment.nomination, assignment.round, attachment_id,
                                       identity=identity)
    if file is None or (inline and not files.viewable(file)):
        abort(404)
    try:
        return redaction.send_attachment(file, name=_file_names(assignment).get(file.id),
                                         redact=not identity, inline=inline)
    except FileNotFoundError:
        abort(404)
    except redaction.RedactionError as refusal:
        return render_error(422, str(refusal.message))


@bp.get("/assignments/<int:assignment_id>/attachments/<int:attachment_id>")
@login_required
def attachment(assignment_id: int, attachment_id: int):
    return _send_file(assignment_id, attachment_id, inline=False)


@bp.get("/assignments/<int:assignment_id>/attachments/<int:attachment_id>/view")
@login_required
def view_attachment(assignment_id: int, attachment_id: int):
    """The file opened beside the score sheet (PDF, JPEG or PNG), under the same rule as its
    download."""
    return _send_file(assignment_id, attachment_id, inline=True)
