"""Public pages of calls for nominations: the list of open and upcoming calls and a call's page
(rules, categories, deadline, countdown). Draft calls are only shown to administrators."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from awards.cache import public_page
from awards.calls.models import Call
from awards.db import get_db, utcnow
from awards.enums import CallStatus
from awards.nominations.forms import KIND_LABELS
from awards.permissions import is_admin
from awards.views_common import call_time

bp = Blueprint("calls", __name__, url_prefix="/calls")


bp.add_app_template_global(call_time, "call_dt")


def time_left(until: datetime, now: datetime | None = None) -> str:
    """"2 days 3 hours", "3 hours 5 minutes" or "5 minutes"; empty once the moment passed."""
    now = now or utcnow()
    seconds = int((until - now).total_seconds())
    if seconds < 0:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        parts = [ngettext("%(num)d day", "%(num)d days", days),
                 ngettext("%(num)d hour", "%(num)d hours", hours)]
    elif hours:
        parts = [ngettext("%(num)d hour", "%(num)d hours", hours),
                 ngettext("%(num)d minute", "%(num)d minutes", minutes)]
    else:
        parts = [ngettext("%(num)d minute", "%(num)d minutes", minutes)]
    return " ".join(parts)


def countdown_text(call: Call, now: datetime) -> str:
    left = time_left(call.closes_at, now)
    return _("%(time)s left", time=left) if left else ""


def visible_call_or_404(slug: str) -> Call:
    call = get_db().scalar(select(Call).where(Call.slug == slug))
    if call is None or (call.status == CallStatus.DRAFT and not is_admin(current_user)):
        abort(404)
    return call


@bp.get("/")
@public_page
def index():
    from awards.calls.services import public_calls

    now = utcnow()
    open_calls, upcoming = public_calls(session=get_db(), now=now)
    return render_template("calls/index.html", open_calls=open_calls, upcoming=upcoming, now=now,
                           countdown_text=countdown_text)


@bp.get("/<slug>")
@public_page
def show(slug: str):
    from awards import lifecycle

    call = visible_call_or_404(slug)
    now = utcnow()
    if lifecycle.sync(get_db(), call, now):
        get_db().commit()
    return render_template(
        "calls/show.html", call=call, now=now, is_open=call.is_open_at(now),
        phase_text=lifecycle.PUBLIC_PHASE_TEXT.get(CallStatus(call.status)),
        countdown=countdown_text(call, now) if call.is_open_at(now) else "",
        upcoming=call.status == CallStatus.OPEN and now < call.opens_at,
        kind_labels={kind: KIND_LABELS.get(kind, kind)
                     for kind in call.allowed_nominator_kinds or []},
    )
