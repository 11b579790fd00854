"""Ranking pages of a round: the ranking by the chosen method (and a second one to compare), the
explanation of one entry, advancing entries, award decisions, importing paper ballots and
exporting the tables.

Administrators do everything; the chair of the round's panel may read the ranking and the
explanations (without jurors' names, without the entries they are in conflict with, and with
references only in a blind round) but not decide, import or export. Who sees what is the
policy's answer (``awards.policy``), asked inside the services. Views stay thin: the services
in ``awards.ranking`` do the work, the view commits."""

from __future__ import annotations

import functools

from babel.numbers import NumberPattern, parse_pattern
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from werkzeug.wsgi import wrap_file

from awards import policy
from awards.db import get_db, utcnow
from awards.enums import AggregationMethod, DecisionKind, RoundStatus
from awards.errors import render_error
from awards.forms import CSRFOnlyForm
from awards.i18n import localized
from awards.judging import StepCode
from awards.jury.admin_forms import ROUND_STATUS_LABELS
from awards.jury.models import Round, RoundEntry
from awards.permissions import is_admin
from awards.ranking import charts, exports, services
from awards.ranking.forms import (
    MAX_IMPORT_BYTES,
    AdvanceForm,
    AwardForm,
    ImportForm,
    RevokeForm,
    format_digests,
    parse_digests,
)
from awards.ranking.importer import import_scores
from awards.ranking.models import Decision
from awards.ranking.services import RankingError
from awards.views_common import viewer

bp = Blueprint("ranking", __name__, url_prefix="/admin/ranking")

# A category of thousands of entries is shown by its head; "show all" lists the rest.
ROW_LIMIT = 100
# Chairs may read these; everything else is for administrators.
CHAIR_ENDPOINTS = {"ranking.round_view", "ranking.entry"}

METHOD_LABELS = {
    AggregationMethod.MEAN: _l("Mean"),
    AggregationMethod.MEDIAN: _l("Median"),
    AggregationMethod.TRIMMED: _l("Trimmed mean"),
    AggregationMethod.ZSCORE: _l("Z-score (per juror)"),
    AggregationMethod.RANK: _l("Mean rank"),
    AggregationMethod.BORDA: _l("Borda points"),
}
TIE_BREAK_LABELS = {
    "first_places": _l("first places"),
    "median": _l("median"),
    "spread": _l("spread (agreement)"),
    "left_to_jury": _l("left to the jury"),
}
JUROR_FLAG_LABELS = {
    "lenient": _l("lenient"),
    "severe": _l("severe"),
    "low_correlation": _l("disagrees with the panel"),
}
REASON_LABELS = {
    "incomplete_design": _l("not every juror reviewed every entry"),
    "too_few_jurors": _l("too few jurors"),
    "too_few_entries": _l("too few entries"),
    "no_variation": _l("no variation in the totals"),
    "no_pairable_values": _l("no entry has two reviews"),
    "too_few_reviews": _l("fewer than two reviews"),
}


# ---- access -----------------------------------------------------------------------------------


@bp.before_request
def _guard():
    """One guard for the whole blueprint, so a route added later cannot forget it."""
    if not current_user.is_authenticated:
        from awards.extensions import login_manager

        return login_manager.unauthorized()
    if current_user.is_admin:
        return None
    if request.endpoint in CHAIR_ENDPOINTS:
        rnd = get_db().get(Round, (request.view_args or {}).get("round_id"))
        if rnd is None:
            abort(404)
        decision = policy.allows(viewer(), policy.Action.SEE_RANKING, rnd, now=utcnow())
        if decision.ok:
            return None
        return render_error(decision.status, str(decision.reason))
    abort(403)


@bp.errorhandler(policy.Forbidden)
def _forbidden(refusal: policy.Forbidden):
    get_db().rollback()
    return render_error(refusal.status, str(refusal.message))


def _round_or_404(round_id: int) -> Round:
    rnd = get_db().get(Round, round_id)
    if rnd is None:
        abort(404)
    return rnd


def _actor():
    return current_user._get_current_object()


# ---- presentation helpers ---------------------------------------------------------------------


@functools.cache
def _number_pattern(digits: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "#" * digits if digits else ""))


def num(value, digits: int = 3) -> str:
    """A number in the reader's locale (as ``format_decimal`` with the pattern parsed once:
    a page of a large round prints thousands)."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(num(v, digits) for v in value)
    return _formatted(value, digits, get_locale())


@functools.lru_cache(maxsize=4096)
def _formatted(value, digits: int, locale) -> str:
    # Scores on a grid repeat: the same total is printed hundreds of times on a page.
    return _number_pattern(digits).apply(value, locale)


def method_label(method) -> str:
    return str(METHOD_LABELS.get(AggregationMethod(method), method))


def tie_break_label(name: str) -> str:
    if name.startswith("criterion:"):
        return _("criterion “%(key)s”", key=name.split(":", 1)[1])
    return str(TIE_BREAK_LABELS.get(name, name))


def distribution_svg(totals: list[float], bounds: tuple[float, float] | None) -> Markup:
    """A strip of the entry's review totals on the rubric's scale (server-side, no script)."""
    if not totals:
        return Markup("")
    low, high = bounds if bounds else (min(totals), max(totals))
    if high <= low:
        high = low + 1
    width, height, pad = 120, 18, 4

    def x(v: float) -> float:
        v = min(max(v, low), high)
        return round(pad + (v - low) / (high - low) * (width - 2 * pad), 1)

    label = _("Review totals: %(values)s (scale %(low)s–%(high)s)",
              values=num(totals, 2), low=num(low, 2), high=num(high, 2))
    middle = sorted(totals)[len(totals) // 2] if len(totals) % 2 else \
        (sorted(totals)[len(totals) // 2 - 1] + sorted(totals)[len(totals) // 2]) / 2
    parts = [
        f'<svg class="dist" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line x1="{pad}" y1="{height / 2}" x2="{width - pad}" y2="{height / 2}" '
        f'stroke="#b8bec6" stroke-width="1"/>',
        f'<line x1="{x(middle)}" y1="2" x2="{x(middle)}" y2="{height - 2}" stroke="#1f5f99" '
        f'stroke-width="1.5"/>',
    ]
    parts += [f'<circle cx="{x(v)}" cy="{height / 2}" r="3" fill="#1f5f99" fill-opacity="0.55"/>'
              for v in totals]
    parts.append("</svg>")
    return Markup("".join(parts))


def step_sentence(step, *, juror=lambda j: str(j), entry=lambda e: str(e)) -> str:
    """One explanation step as a sentence in the reader's language."""
    code, p = step
    code = StepCode(code)
    j = juror(p["juror_id"]) if "juror_id" in p else ""
    entries = ", ".join(entry(e) for e in p.get("entries", ()))
    reason = str(REASON_LABELS.get(p.get("reason", ""), p.get("reason", "")))
    if code is StepCode.METHOD:
        text = _("Method: %(method)s; reviews required per entry: %(required)d.",
                 method=method_label(p["method"]), required=p["required_reviews"])
        if p["method"] == AggregationMethod.TRIMMED:
            text += " " + _("The %(k)d highest and %(k)d lowest totals are dropped.", k=p["trim"])
        if not p["higher_is_better"]:
            text += " " + _("A lower score is better.")
        return text
    if code is StepCode.JUROR_SCALE:
        return _("%(juror)s reviewed %(count)d entries: mean total %(mean)s, standard "
                 "deviation %(sd)s.", juror=j, count=p["count"], mean=num(p["mean"]),
                 sd=num(p["sd"]))
    if code is StepCode.JUROR_EXCLUDED:
        return _("%(juror)s is left out of this method (%(reason)s).", juror=j, reason=reason)
    if code is StepCode.JUROR_NO_SPREAD:
        return _("%(juror)s gave every entry the same total (%(total)s): each of their reviews "
                 "counts as 0, their own average.", juror=j, total=num(p["total"]))
    if code is StepCode.REVIEWS_USED:
        return ngettext("%(num)d submitted review counted; %(required)d required.",
                        "%(num)d submitted reviews counted; %(required)d required.",
                        p["count"], required=p["required"])
    if code is StepCode.DRAFTS_IGNORED:
        return ngettext("%(num)d unsubmitted review ignored.",
                        "%(num)d unsubmitted reviews ignored.", p["count"])
    if code is StepCode.MISSING_TOTAL:
        return _("The review by %(juror)s has no total and is ignored.", juror=j)
    if code is StepCode.INCOMPLETE:
        return _("Incomplete: only %(count)d of the %(required)d required reviews.",
                 count=p["count"], required=p["required"])
    if code is StepCode.NO_DATA:
        return _("No submitted review: no score (no data is not zero).")
    if code is StepCode.NO_USABLE_REVIEWS:
        return ngettext("%(num)d review cannot be used by this method: no score.",
                        "None of the %(num)d reviews can be used by this method: no score.",
                        p["count"])
    if code is StepCode.ZSCORE:
        return _("%(juror)s: total %(total)s, their mean %(mean)s and standard deviation "
                 "%(sd)s, so z = %(z)s.", juror=j, total=num(p["total"]),
                 mean=num(p["juror_mean"]), sd=num(p["juror_sd"]), z=num(p["z"]))
    if code is StepCode.ZSCORE_NEUTRAL:
        return _("%(juror)s: total %(total)s counts as z = 0 (no spread in their totals).",
                 juror=j, total=num(p["total"]))
    if code is StepCode.REVIEW_EXCLUDED:
        return _("%(juror)s: total %(total)s is not counted (%(reason)s).", juror=j,
                 total=num(p["total"]), reason=reason)
    if code is StepCode.JUROR_RANK:
        return _("%(juror)s: total %(total)s is rank %(rank)s of their %(of)d entries.",
                 juror=j, total=num(p["total"]), rank=num(p["rank"]), of=p["of"])
    if code is StepCode.BORDA_POINTS:
        return _("%(juror)s: total %(total)s is rank %(rank)s of %(of)d, worth %(points)s "
                 "point(s).", juror=j, total=num(p["total"]), rank=num(p["rank"]), of=p["of"],
                 points=num(p["points"]))
    if code is StepCode.MEAN:
        return _("Mean of %(values)s = %(result)s.", values=num(p["values"]),
                 result=num(p["result"]))
    if code is StepCode.MEDIAN:
        return _("Median of %(values)s = %(result)s.", values=num(p["values"]),
                 result=num(p["result"]))
    if code is StepCode.TRIMMED_MEAN:
        return _("Dropped the lowest %(low)s and the highest %(high)s; mean of %(kept)s = "
                 "%(result)s.", low=num(p["dropped_low"]), high=num(p["dropped_high"]),
                 kept=num(p["kept"]), result=num(p["result"]))
    if code is StepCode.TRIM_FALLBACK_MEDIAN:
        return ngettext("Only %(num)d review, fewer than the %(needed)d trimming needs: the "
                        "median is used instead.",
                        "Only %(num)d reviews, fewer than the %(needed)d trimming needs: the "
                        "median is used instead.", p["count"], needed=p["needed"])
    if code is StepCode.MEAN_RANK:
        return _("Mean rank of %(values)s = %(result)s (lower is better).",
                 values=num(p["values"]), result=num(p["result"]))
    if code is StepCode.TIE_BREAK_ORDER:
        return _("Ties are broken by: %(order)s.",
                 order=", ".join(tie_break_label(o) for o in p["order"]) or "—")
    if code is StepCode.TIED_ON_SCORE:
        return _("Same score as %(count)d other entr(ies) (%(entries)s) at rank %(rank)d.",
                 count=p["count"], entries=entries, rank=p["rank"])
    if code is StepCode.TIE_BROKEN:
        return _("The tie is broken by %(by)s (%(value)s): rank %(rank)d.",
                 by=tie_break_label(p["by"]), value=num(p["value"]), rank=p["rank"])
    if code is StepCode.LEFT_TO_JURY:
        return _("Still tied with %(entries)s after every tie-break: rank %(rank)d is left to "
                 "the jury.", entries=entries, rank=p["rank"])
    if code is StepCode.UNRANKED:
        return _("Without data the entry is listed last, without a rank.")
    return str(code)  # pragma: no cover - a code added to the library later


@bp.context_processor
def _helpers():
    return {"num": num, "method_label": method_label, "tie_break_label": tie_break_label,
            "distribution_svg": distribution_svg, "charts": charts,
            "METHODS": list(AggregationMethod),
            "JUROR_FLAG_LABELS": JUROR_FLAG_LABELS, "REASON_LABELS": REASON_LABELS,
            "DecisionKind": DecisionKind, "is_admin": is_admin(current_user)}


# ---- the ranking page -------------------------------------------------------------------------


def _method_args(call):
    try:
        method = services.parse_method(request.args.get("method"), call.aggregation_method)
        compare_arg = request.args.get("compare")
        compare = services.parse_method(compare_arg, call.aggregation_method) \
            if compare_arg else None
    except RankingError:
        abort(400)
    if compare == method:
        compare = None
    top = request.args.get("top", type=int)
    if top is not None and top < 1:
        top = None
    return method, compare, top


def _juror_numbers(category_ranking) -> dict[int, int]:
    # The jurors with a counted review in the category (the aggregation's scales, in id
    # order): reading them off every row's reviews would build every entry's explanation.
    ids = [scale.juror_id for scale in category_ranking.aggregation.jurors]
    return {j: i for i, j in enumerate(ids, start=1)}


@services.gc_paused
def _render_round(rnd: Round, *, status: int = 200, advance_form=None):
    db = get_db()
    call = rnd.call
    method, compare, top = _method_args(call)
    ranking = services.round_ranking(session=db, round=rnd, method=method, compare=compare,
                                     top_n=top, viewer=viewer())
    admin = is_admin(current_user)
    decisions = services.active_decisions(db, call) if admin else []
    by_entry = services.decisions_by_entry(decisions)
    digests = {c.id: services.state_digest([d for d in decisions if d.category_id == c.id])
               for c in ranking.data.categories}
    target = services.next_round(db, rnd)
    in_next = set(db.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == target.id))) if target is not None and admin else set()
    jurors = ranking.data.jurors
    numbers = {c.category.id: _juror_numbers(c) for c in ranking.categories}

    def juror_label(category_id: int, juror_id: int) -> str:
        if admin and juror_id in jurors:
            return jurors[juror_id].display_name
        return _("Juror %(n)d", n=numbers[category_id].get(juror_id, 0))

    show_all = request.args.get("all") == "1"
    if advance_form is None:
        advance_form = AdvanceForm(formdata=MultiDict(), data={"mode": "top"})
    advance_form.digests.data = format_digests(digests)
    return render_template(
        "ranking/round.html", call=call, round=rnd, rounds=call.rounds, ranking=ranking,
        method=method, compare=compare, top=top, admin=admin, by_entry=by_entry,
        digests=digests, target=target, in_next=in_next, juror_label=juror_label,
        advance_form=advance_form, bounds=ranking.data.bounds,
        entry_label={e.id: e.label for e in ranking.data.entries.values()},
        tie_breaks_text=", ".join(tie_break_label(t) for t in ranking.tie_breaks) or "—",
        row_limit=None if show_all else ROW_LIMIT, show_all=show_all,
        excluded_notes={c.category.id: _excluded_note(c.excluded)
                        for c in ranking.categories if admin and c.excluded},
    ), status


def _excluded_note(count: int) -> str:
    return ngettext("%(num)d review excluded: conflict of interest",
                    "%(num)d reviews excluded: conflict of interest", count)


@bp.get("/rounds/<int:round_id>")
def round_view(round_id: int):
    return _render_round(_round_or_404(round_id))


# ---- one entry --------------------------------------------------------------------------------


@bp.get("/rounds/<int:round_id>/entries/<int:nomination_id>")
@services.gc_paused
def entry(round_id: int, nomination_id: int):
    db = get_db()
    rnd = _round_or_404(round_id)
    admin = is_admin(current_user)
    method, _compare, _top = _method_args(rnd.call)
    explanation = services.explain_entry(session=db, round=rnd, nomination_id=nomination_id,
                                         method=method, viewer=viewer())
    if explanation is None:
        abort(404)
    numbers = explanation.juror_numbers
    others = {}
    for category in explanation.ranking.categories:
        others = {r.entry.id: r.entry.label for r in category.rows}

    def juror(juror_id) -> str:
        user = explanation.ranking.data.jurors.get(juror_id)
        if admin and user is not None:
            return user.display_name
        if juror_id in numbers:
            return _("Juror %(n)d", n=numbers[juror_id])
        return _("another juror")

    def entry_label(entry_id) -> str:
        return others.get(entry_id, str(entry_id))

    row = explanation.row
    steps = {
        "round": [step_sentence(s, juror=juror, entry=entry_label)
                  for s in explanation.round_steps],
        "entry": [step_sentence(s, juror=juror, entry=entry_label) for s in row.result.steps],
        "rank": [step_sentence(s, juror=juror, entry=entry_label) for s in row.ranked.steps],
    }
    return render_template(
        "ranking/entry.html", call=rnd.call, round=rnd, explanation=explanation, row=row,
        steps=steps, juror=juror, method=method, admin=admin,
        heading_name=row.entry.nominee_name or row.entry.organisation_name,
        excluded_note=_excluded_note(explanation.excluded)
        if admin and explanation.excluded else "",
        criteria=explanation.ranking.data.criteria,
        category=explanation.ranking.categories[0].category)


# ---- decisions --------------------------------------------------------------------------------


def _refused(rnd: Round, error: RankingError):
    get_db().rollback()
    flash(str(error.message), "error")
    return _render_round(rnd, status=error.status)


def _back(rnd: Round):
    args = {k: v for k, v in request.args.items() if k in ("method", "compare", "top")}
    return redirect(url_for(".round_view", round_id=rnd.id, **args), code=303)


def _chosen(rnd: Round, form: AdvanceForm, ranking=None) -> list[int]:
    """The entries the advance form names: ticked, or the top N of each category by the
    ranking on the page."""
    if form.mode.data != "top":
        return list(form.nomination_ids.data)
    if ranking is None:
        ranking = services.round_ranking(session=get_db(), round=rnd,
                                         method=_method_args(rnd.call)[0], stability=False,
                                         viewer=viewer())
    return [n for ids in services.top_entries(ranking, form.top_n.data).values() for n in ids]


@bp.get("/rounds/<int:round_id>/advance")
def confirm_advance(round_id: int):
    """The confirmation page of advancing (changes nothing): per category, which entries
    advance and which do not, the target round, what happens to assignments. Its form posts
    exactly the entries shown to ``advance``."""
    db = get_db()
    rnd = _round_or_404(round_id)
    args = request.args.copy()
    args.setdefault("mode", "top")  # by default, the winners' count of each category
    form = AdvanceForm(args, meta={"csrf": False})
    if not form.validate():
        _say_advance_refused(form)
        return _render_round(rnd, status=400, advance_form=form)
    method = _method_args(rnd.call)[0]
    ranking = services.round_ranking(session=db, round=rnd, method=method, stability=False,
                                     viewer=viewer())
    blockers, status, preview = [], 200, None
    try:
        preview = services.preview_advance(
            session=db, actor=viewer(), round=rnd, nomination_ids=_chosen(rnd, form, ranking),
            digests=parse_digests(form.digests.data) if form.digests.data else None)
    except RankingError as exc:
        blockers, status = [exc.message], exc.status
    rows = {row.entry.id: row for category in ranking.categories for row in category.rows}

    def by_rank(entry) -> tuple:
        rank = rows[entry.id].ranked.rank if entry.id in rows else None
        return (rank is None, rank or 0, entry.id)

    groups = []
    if preview is not None:
        for category in preview.categories:
            groups.append((category, [(e, rows.get(e.id), preview.outcome(e.id)) for e in
                                      sorted(preview.of_category(category.id), key=by_rank)]))
    confirm = CSRFOnlyForm(formdata=None)
    digests = services.category_digests(db, rnd.call)
    return render_template(
        "ranking/confirm_advance.html", call=rnd.call, round=rnd, preview=preview,
        groups=groups, blockers=blockers, form=form, confirm=confirm, method=method,
        digests=form.digests.data or format_digests(digests), admin=True,
        identity=policy.shows_identity(viewer(), rnd),
        stays=sum(1 for _c, entries in groups for _e, _r, o in entries if o == "stays"),
        round_status_label=ROUND_STATUS_LABELS[RoundStatus(rnd.status)]), status


def _say_advance_refused(form: AdvanceForm) -> None:
    """Errors of the advance form the page has no place for (an expired form, a value no
    browser sends), said in one message; N and the ticked entries show theirs in place."""
    if any(f.errors for f in form if f.name not in ("top_n", "nomination_ids")):
        flash(_("The form to advance entries was incomplete or expired. Please try again."),
              "error")


@bp.post("/rounds/<int:round_id>/advance")
def advance(round_id: int):
    db = get_db()
    rnd = _round_or_404(round_id)
    form = AdvanceForm()
    if not form.validate():
        _say_advance_refused(form)
        return _render_round(rnd, status=400, advance_form=form)
    try:
        chosen = _chosen(rnd, form)
        result = services.advance(session=db, actor=_actor(), round=rnd, nomination_ids=chosen,
                                  digests=parse_digests(form.digests.data),
                                  note=form.note.data or "")
    except RankingError as exc:
        return _refused(rnd, exc)
    except StaleDataError:
        return _refused(rnd, services.StaleState(_l("Someone else changed these entries at the "
                                                     "same time. Nothing was saved.")))
    db.commit()
    flash(_("Entries advanced to “%(round)s”: %(added)d (already there: %(already)d).",
            round=localized(result.target, "name") or f"#{result.target.position}",
            added=len(result.added), already=len(result.already)), "success")
    return _back(rnd)


@bp.post("/rounds/<int:round_id>/decisions")
def decide(round_id: int):
    db = get_db()
    rnd = _round_or_404(round_id)
    form = AwardForm()
    if not form.validate():
        # "— none —" left chosen says so; anything else is a form that expired or was forged.
        none_chosen = not (form.award_level_id.raw_data or [""])[0] and not any(
            f.errors for f in form if f.name != "award_level_id")
        flash(form.award_level_id.errors[-1] if none_chosen else
              _("The decision form was incomplete or expired. Please try again."), "error")
        return _render_round(rnd, status=400)
    try:
        services.decide_award(session=db, actor=_actor(), round=rnd,
                              nomination_id=form.nomination_id.data,
                              award_level_id=form.award_level_id.data,
                              digest=form.digest.data, note=form.note.data or "")
    except RankingError as exc:
        return _refused(rnd, exc)
    db.commit()
    flash(_("The decision is recorded."), "success")
    return _back(rnd)


@bp.post("/rounds/<int:round_id>/decisions/<int:decision_id>/revoke")
def revoke(round_id: int, decision_id: int):
    db = get_db()
    rnd = _round_or_404(round_id)
    decision = db.get(Decision, decision_id)
    if decision is None or decision.call_id != rnd.call_id:
        abort(404)
    form = RevokeForm()
    if not form.validate():
        flash(_("The form expired. Please try again."), "error")
        return _render_round(rnd, status=400)
    try:
        services.revoke_decision(session=db, actor=_actor(), decision=decision,
                                 digest=form.digest.data)
    except RankingError as exc:
        return _refused(rnd, exc)
    db.commit()
    flash(_("The decision is revoked; the entry can be decided again."), "success")
    return _back(rnd)


# ---- import and export ------------------------------------------------------------------------


@bp.route("/rounds/<int:round_id>/import", methods=["GET", "POST"])
def import_view(round_id: int):
    db = get_db()
    rnd = _round_or_404(round_id)
    form = ImportForm()
    result = None
    status = 200
    if form.validate_on_submit():
        content, filename = form.content()
        if len(content) > MAX_IMPORT_BYTES:
            form.file.errors = [_("The file is larger than %(mb)d MB.",
                                  mb=MAX_IMPORT_BYTES // (1024 * 1024))]
            return render_template("ranking/import.html", call=rnd.call, round=rnd, form=form,
                                   result=None, admin=True), 400
        result = import_scores(session=db, actor=_actor(), round=rnd, content=content,
                               filename=filename)
        if result.ok:
            db.commit()
        else:
            db.rollback()
            status = result.status
    elif form.is_submitted():
        status = 400
    return render_template("ranking/import.html", call=rnd.call, round=rnd, form=form,
                           result=result, admin=True), status


@bp.get("/rounds/<int:round_id>/export.<fmt>")
def export(round_id: int, fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    db = get_db()
    rnd = _round_or_404(round_id)
    what = request.args.get("what", "ranking")
    if what == "ranking":
        method, compare, top = _method_args(rnd.call)
        ranking = services.round_ranking(session=db, round=rnd, method=method, compare=compare,
                                         top_n=top, viewer=viewer())
        header, rows = exports.ranking_table(ranking, exports.authors_by_entry(db, ranking))
        name = exports.export_filename(ranking, what, fmt, method.value)
    elif what == "scores":
        data = services.load_round(db, rnd, viewer=viewer())
        header, rows = exports.SCORES_HEADER, None
        name = exports.export_filename(data, what, fmt)
    else:
        abort(400)
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "Cache-Control": "no-store"}
    if fmt == "xlsx":
        # Written row by row into a temporary file, then streamed from it: memory stays flat.
        safe = rows is None
        if rows is None:
            rows = exports.scores_rows(data, services.score_sheets(db, data.reviews))
        file = exports.xlsx_file(header, rows, title=exports.sheet_title(what), safe=safe)
        return Response(wrap_file(request.environ, file, exports.XLSX_CHUNK), headers=headers,
                        direct_passthrough=True, mimetype="application/vnd.openxmlformats-"
                        "officedocument.spreadsheetml.sheet")
    if rows is None:
        # Streamed: the score sheets are read a thousand at a time while the file is sent,
        # after this request has ended, so on a session of the stream's own.
        factory = current_app.extensions["awards_db"]["session_factory"]

        def lines():
            with factory() as session:
                sheets = services.score_sheets(session, data.reviews)
                yield from exports.csv_chunks(header, exports.scores_rows(data, sheets),
                                              safe=True)

        return Response(lines(), mimetype="text/csv; charset=utf-8", headers=headers)
    return Response(exports.csv_chunks(header, rows), mimetype="text/csv; charset=utf-8",
                    headers=headers)
