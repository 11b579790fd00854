"""The jury administration blueprint: its guard (administrators only, except the invitation
link a juror opens from an e-mail), template helpers and the lookups every page uses."""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from flask_babel import get_locale

from awards.calls.forms import CALL_STATUS_LABELS
from awards.calls.models import Call
from awards.db import get_db
from awards.enums import JurorStatus
from awards.i18n import localized
from awards.jury import setup
from awards.jury.admin_forms import (
    MEMBER_STATUS_BADGES,
    MEMBER_STATUS_LABELS,
    ROUND_KIND_LABELS,
    ROUND_STATUS_LABELS,
)
from awards.jury.models import JuryMember, Panel, Round
from awards.permissions import admin_required
from awards.policy import Action
from awards.views_common import actor, call_time, get_or_404

bp = Blueprint("jury_admin", __name__, url_prefix="/admin/jury")

# Opened by invited jurors from their e-mail, signed in or not.
PUBLIC_ENDPOINTS = {"jury_admin.invitation"}
PAGE_SIZE = 100


@bp.before_request
def _administrators_only():
    """One guard for the whole blueprint, so a route added later cannot forget it."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return admin_required(lambda: None)()


@bp.context_processor
def _template_helpers():
    return {
        "call_time": call_time,
        "STATUS_LABELS": CALL_STATUS_LABELS,
        "ROUND_STATUS_LABELS": ROUND_STATUS_LABELS,
        "ROUND_KIND_LABELS": ROUND_KIND_LABELS,
        "JurorStatus": JurorStatus,
        "MEMBER_STATUS_LABELS": MEMBER_STATUS_LABELS,
        "MEMBER_STATUS_BADGES": MEMBER_STATUS_BADGES,
    }


# ---- helpers ----------------------------------------------------------------------------------


def call_or_404(ident: int) -> Call:
    return get_or_404(Call, ident)


def round_or_404(ident: int) -> Round:
    return get_or_404(Round, ident)


def panel_or_404(ident: int) -> Panel:
    return get_or_404(Panel, ident)


def member_or_404(ident: int) -> JuryMember:
    return get_or_404(JuryMember, ident)


def category_choices(call: Call):
    return [(c, localized(c, "name") or c.code) for c in call.categories]


def juror_choices(members) -> list[tuple[int, str]]:
    return [(m.user_id, f"{m.user.display_name} <{m.email}>" if m.user else m.email)
            for m in members]


def page_language() -> str:
    return str(get_locale())


def frozen_notice(rnd: Round) -> str | None:
    """Why assignments of the round cannot change now, or None when they can."""
    decision = setup.refusal(get_db(), actor(), Action.ASSIGN, rnd)
    return str(decision.reason) if decision is not None else None


def conflict_text(conflicts: list[setup.EntryConflict]) -> str:
    return "; ".join(
        f"{c.nomination.reference or '#' + str(c.nomination.id)} ({', '.join(c.reasons)})"
        for c in conflicts)


def jury_home() -> str:
    if "jury.dashboard" in current_app.view_functions:
        return url_for("jury.dashboard")
    return "/jury/"
