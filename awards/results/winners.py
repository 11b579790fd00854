"""The decided winners before publication: who won what, the checklist of what is missing,
the frozen snapshot a publication keeps, the results page's state token (with the call's
lock) and the winners' citations."""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from awards import audit
from awards.calls.models import Call, Category
from awards.db import utcnow
from awards.enums import DecisionKind, NominationStatus
from awards.i18n import localized
from awards.nominations.authors import public_authors
from awards.nominations.models import Nomination
from awards.nominations.titles import title_of
from awards.ranking.models import Decision
from awards.results.common import LANGS, StaleResults, anchor_for, recipient_name, texts
from awards.results.models import Citation
from awards.results.reading import publications_of

# ---- the decided winners, before publication --------------------------------------------------


@dataclass
class Winner:
    decision: Decision
    nomination: Nomination
    citation: Citation | None

    @property
    def award_names(self) -> dict[str, str]:
        level = self.decision.award_level
        if level is not None:
            names = texts(level, "name")
            if any(names.values()):
                return names
            return dict.fromkeys(LANGS, level.key)
        return texts(self.decision.category, "name")

    @property
    def authors(self) -> list[dict[str, Any]]:
        """The entry's authors as the publication will keep them (names and roles)."""
        return public_authors(self.nomination)

    @property
    def level_position(self) -> int:
        level = self.decision.award_level
        return level.position if level is not None else 10_000


@dataclass
class CategoryWinners:
    category: Category
    winners: list[Winner] = field(default_factory=list)


def award_decisions(session: Session, call: Call) -> list[Decision]:
    return list(session.scalars(
        select(Decision).where(Decision.call_id == call.id, Decision.revoked_at.is_(None),
                               Decision.kind == DecisionKind.AWARD)
        .options(selectinload(Decision.nomination), selectinload(Decision.award_level),
                 selectinload(Decision.category))
        .order_by(Decision.id).execution_options(populate_existing=True)))


def decided_winners(session: Session, call: Call) -> list[CategoryWinners]:
    decisions = award_decisions(session, call)
    citations = {c.nomination_id: c for c in session.scalars(select(Citation).where(
        Citation.nomination_id.in_([d.nomination_id for d in decisions])))} if decisions else {}
    groups = [CategoryWinners(c) for c in call.categories]
    index = {g.category.id: g for g in groups}
    for d in decisions:
        group = index.get(d.category_id)
        if group is not None:
            group.winners.append(Winner(d, d.nomination, citations.get(d.nomination_id)))
    for group in groups:
        group.winners.sort(key=lambda w: (w.level_position, recipient_name(w.nomination),
                                          w.nomination.id))
    return groups


def warnings_for(groups: list[CategoryWinners], competing: set[int] | None = None) -> list[str]:
    """What stands between the decided winners and a publication: a category without a winner
    (only those with entries in competition, when ``competing`` is given) and each missing
    citation. The results page shows it as its checklist; the lifecycle's guard for publishing
    is the same list."""
    out = []
    for group in groups:
        name = localized(group.category, "name") or group.category.code
        if not group.winners and (competing is None or group.category.id in competing):
            out.append(str(_l("“%(category)s” has no winner.", category=name)))
        for w in group.winners:
            missing = [lang for lang in LANGS
                       if not (w.citation and getattr(w.citation, f"text_{lang}").strip())]
            if missing:
                out.append(str(_l("%(name)s (%(category)s): the citation is missing in "
                                  "%(languages)s.", name=recipient_name(w.nomination),
                                  category=name, languages=", ".join(missing).upper())))
    return out


def competing_categories(session: Session, call: Call) -> set[int]:
    """Categories with at least one entry still in competition (submitted, not refused)."""
    return set(session.scalars(select(Nomination.category_id).where(
        Nomination.call_id == call.id,
        Nomination.status.in_((NominationStatus.SUBMITTED, NominationStatus.ELIGIBLE)))
        .distinct()))


def checklist(session: Session, call: Call,
              groups: list[CategoryWinners] | None = None) -> list[str]:
    groups = decided_winners(session, call) if groups is None else groups
    return warnings_for(groups, competing_categories(session, call))


def publish_blockers(session: Session, call: Call) -> list[str]:
    """The lifecycle's guard for publishing or scheduling: nothing decided, a category with
    entries but no winner, a missing citation. Outside a request (a command, a test's setup)
    in the site's default language."""
    groups = decided_winners(session, call)
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    with nullcontext() if has_request_context() else force_locale(default):
        out = []
        if not any(g.winners for g in groups):
            out.append(str(_l("Nothing is decided yet: award at least one entry on the "
                              "ranking page before publishing.")))
        return out + checklist(session, call, groups)


def public_title(nomination: Nomination) -> str:
    """The work's title as the results may show it: the public pages' rule
    (``awards.nominations.titles``: the title question only when the form marks it public,
    never another short answer in its place)."""
    return title_of(nomination, public=True)


def build_snapshot(call: Call, groups: list[CategoryWinners]) -> dict[str, Any]:
    categories = []
    for group in groups:
        winners = []
        for w in group.winners:
            n = w.nomination
            level = w.decision.award_level
            winners.append({
                "decision_id": w.decision.id,
                "nomination_id": n.id,
                "reference": n.reference or "",
                "name": recipient_name(n),
                "organisation": n.organisation_name if n.nominee_name else "",
                "work": public_title(n),
                "authors": public_authors(n),
                "award_level_id": level.id if level is not None else None,
                "award_key": level.key if level is not None else "",
                "award": w.award_names,
                "citation": texts(w.citation, "text") if w.citation else dict.fromkeys(LANGS, ""),
                "photo": w.citation.photo_name if w.citation else None,
                "photo_type": w.citation.photo_content_type if w.citation else None,
                "anchor": anchor_for(n.id),
            })
        categories.append({"id": group.category.id, "code": group.category.code,
                           "name": texts(group.category, "name"), "winners": winners})
    return {
        "call": {"id": call.id, "slug": call.slug, "year": call.year,
                 "title": texts(call, "title"), "programme": texts(call.programme, "name")},
        "categories": categories,
    }


def snapshot_winners(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for c in snapshot.get("categories", []) for w in c.get("winners", [])]


# ---- the state token --------------------------------------------------------------------------


def state_token(session: Session, call: Call) -> str:
    """A fingerprint of everything an action on the results page depends on."""
    publications = [(p.id, p.version, str(p.status), p.scheduled_for.isoformat())
                    for p in publications_of(session, call)]
    decisions = sorted((d.id, d.version_id) for d in award_decisions(session, call))
    data = [str(call.status), call.version_id, publications, decisions]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:32]


def lock_state(session: Session, call: Call, token: str | None) -> None:
    """Take the call's row lock (a write that changes nothing), then compare the state with
    what the page showed."""
    # Plain SQL: an ORM-level update would also bump the call's updated_at.
    session.execute(text("UPDATE calls SET year = year WHERE id = :id"), {"id": call.id})
    session.refresh(call)
    if token is not None and token != state_token(session, call):
        raise StaleResults(_l("The results of this call were changed after you opened the page "
                              "(perhaps by another administrator, or by sending the form "
                              "twice). Nothing was done; review the page and try again."))


# ---- citations --------------------------------------------------------------------------------


def save_citation(*, session: Session, actor, nomination: Nomination, values: dict[str, str],
                  photo=None, remove_photo: bool = False) -> Citation:
    """Write the citation of an awarded entry. ``photo`` is a stored upload (storage.StoredFile)
    already checked by content. The old photo file is kept: a published version may show it."""
    citation = session.scalar(select(Citation).where(Citation.nomination_id == nomination.id))
    before = None
    if citation is None:
        citation = Citation(nomination_id=nomination.id)
        session.add(citation)
    else:
        before = _citation_data(citation)
    for lang in LANGS:
        setattr(citation, f"text_{lang}", (values.get(lang) or "").strip())
    if photo is not None:
        citation.photo_name = photo.stored_name
        citation.photo_content_type = photo.content_type
    elif remove_photo:
        citation.photo_name = None
        citation.photo_content_type = None
    citation.updated_by_id = getattr(actor, "id", None)
    citation.updated_at = utcnow()
    session.flush()
    audit.record(session, action="results.citation", object_type="citation",
                 object_id=citation.id, actor=actor, call_id=nomination.call_id,
                 before=before, after=_citation_data(citation))
    return citation


def _citation_data(c: Citation) -> dict[str, Any]:
    return {"nomination_id": c.nomination_id, "text_kk": c.text_kk, "text_ru": c.text_ru,
            "text_en": c.text_en, "photo": c.photo_name}


