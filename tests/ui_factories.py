"""The demo (``flask awards seed``) with work in progress on top, for the accessibility tests
and the README screenshots: nominations in every state, an open judging round whose jurors are
part way through, a conflict of interest and a ranking with real spread.

``busy_demo(session)`` takes a session, seeds the demo if needed, flushes and returns plain
ids; callers commit (``tests.factories.arrange``). Demo accounts keep the demo password."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.calls.models import Call
from awards.db import utcnow
from awards.demo import ADMIN, APPLICANT, DEMO_PASSWORD, JURORS, flagship_slug, seed_demo
from awards.enums import (
    AssignmentStatus,
    ConflictSource,
    NominationStatus,
    NominatorKind,
    RoundStatus,
)
from awards.jury.models import Assignment, Conflict, RoundEntry
from awards.jury.services import save_review
from awards.nominations.services import next_reference
from tests.factories import make_nomination

PASSWORD = DEMO_PASSWORD

NOMINEES = [
    ("Айгерим Садыкова", "almaty", "Собрала 40 волонтёров для помощи пожилым людям в Алматы."),
    ("Ерболат Тулегенов", "astana", "Организовал доставку лекарств в отдалённые сёла."),
    ("Мадина Омарова", "shymkent", "Учит детей из многодетных семей программированию."),
    ("Нурлан Абенов", "karaganda", "Восстановил три детские площадки вместе с соседями."),
    ("Сауле Искакова", "almaty", "Ведёт горячую линию психологической поддержки."),
    ("Daniel Fischer", "abroad", "Coordinates volunteers for flood relief along the Ural river."),
    ("Гульнар Сейтова", "astana", "Запустила сбор одежды для приютов в пяти городах."),
    ("Тимур Касымов", "almaty", "Очистил берега Большого Алматинского озера."),
    ("Алия Жаксылыкова", "turkistan", "Помогает семьям, пострадавшим от паводков."),
    ("Руслан Ахметов", "shymkent", "Организовал донорские акции в вузах."),
]

# Per juror, a total out of 10 for each entry index they review (weighted mean of criteria):
# jury3 is lenient and jury4 severe, so the ranking shows real spread and disagreement.
BIAS = {0: 0, 1: 0, 2: 2, 3: -2, 4: 1}


@dataclass
class UiWorld:
    call_id: int
    call_slug: str
    round_id: int
    panel_id: int
    category_id: int
    draft_id: int
    submitted_id: int
    entry_ids: list[int] = field(default_factory=list)
    # jury1's assignments: submitted, draft, not started
    juror_submitted: int = 0
    juror_draft: int = 0
    juror_todo: int = 0
    assignment_ids: list[int] = field(default_factory=list)
    conflict_id: int = 0
    member_id: int = 0
    criterion_id: int = 0
    level_id: int = 0
    field_id: int = 0
    programme_id: int = 0


def _answers(name: str, region: str, activity: str, i: int) -> dict:
    return {"nominee_name": name, "nominee_email": f"nominee{i}@example.org",
            "nominee_phone": f"+7 701 000 00 {i:02d}", "region": region,
            "years_volunteering": 2 + i % 7, "activity": activity, "consent": True}


def busy_demo(session: Session) -> UiWorld:
    seed_demo(session)
    session.flush()
    now = utcnow()
    users = {u.email: u for u in session.scalars(
        select(User).where(User.email.in_([ADMIN, APPLICANT, *JURORS])))}
    applicant = users[APPLICANT]
    call = session.scalar(select(Call).where(Call.slug == flagship_slug(session)))
    regions = {o["value"] for f in call.fields if f.key == "region" for o in f.options}
    codes = [c.code for c in call.categories][:3]

    entries = []
    for i, (name, region, activity) in enumerate(NOMINEES):
        entry = make_nomination(
            session, call=call, applicant_id=applicant.id, category=codes[i % len(codes)],
            kind=NominatorKind.OTHER, status=NominationStatus.ELIGIBLE, nominee_name=name,
            answers=_answers(name, region if region in regions else sorted(regions)[0],
                             activity, i))
        # After the demo applicant's own entries (the call's counter knows them).
        entry.reference = next_reference(session=session, call=call)
        entries.append(entry)
    waiting = make_nomination(
        session, call=call, applicant_id=applicant.id, category=codes[0],
        status=NominationStatus.SUBMITTED, nominee_name="Жанар Бекова",
        answers=_answers("Жанар Бекова", sorted(regions)[0], "Волонтёр хосписа.", 11))
    waiting.reference = next_reference(session=session, call=call)
    refused = make_nomination(
        session, call=call, applicant_id=applicant.id, category=codes[1],
        status=NominationStatus.INELIGIBLE, nominee_name="Бауыржан Серик",
        answers=_answers("Бауыржан Серик", sorted(regions)[0], "—", 12))
    refused.reference = next_reference(session=session, call=call)
    draft = make_nomination(
        session, call=call, applicant_id=applicant.id, category=codes[0],
        kind=NominatorKind.SELF, status=NominationStatus.DRAFT, nominee_name="Асель Жумабекова",
        answers={"nominee_name": "Асель Жумабекова", "region": sorted(regions)[0]})
    session.flush()

    round_ = min(call.rounds, key=lambda r: r.position)
    round_.status = RoundStatus.OPEN
    round_.opens_at = now - timedelta(days=2)
    round_.closes_at = now + timedelta(days=6)
    for later in call.rounds:
        if later is not round_:
            later.opens_at = now + timedelta(days=8)
            later.closes_at = now + timedelta(days=10)
    jurors = [users[e] for e in JURORS]
    world = UiWorld(call.id, call.slug, round_.id, round_.panel.id, call.categories[0].id,
                    draft.id, waiting.id, entry_ids=[e.id for e in entries])
    criteria = [c.key for c in round_.rubric.criteria]
    for i, entry in enumerate(entries):
        session.add(RoundEntry(round_id=round_.id, nomination_id=entry.id))
        for k in range(3):
            j = (i + k) % len(jurors)
            assignment = Assignment(round=round_, nomination=entry, juror_id=jurors[j].id,
                                    status=AssignmentStatus.ACTIVE)
            session.add(assignment)
            session.flush()
            world.assignment_ids.append(assignment.id)
            base = 4 + (i * 3) % 6
            scores = {key: max(0, min(10, base + BIAS[j] + (n + k) % 3 - 1))
                      for n, key in enumerate(criteria)}
            if j == 0:
                # jury1 is part way through: one submitted, one draft, the rest to do.
                if not world.juror_submitted:
                    save_review(session=session, juror=jurors[j], assignment=assignment,
                                scores=scores, submit=True, now=now)
                    world.juror_submitted = assignment.id
                elif not world.juror_draft:
                    save_review(session=session, juror=jurors[j], assignment=assignment,
                                scores={criteria[0]: scores[criteria[0]]}, submit=False,
                                now=now)
                    world.juror_draft = assignment.id
                elif not world.juror_todo:
                    world.juror_todo = assignment.id
                continue
            if (i + j) % 5 != 4:  # a few reviews still missing
                save_review(session=session, juror=jurors[j], assignment=assignment,
                            scores=scores, submit=True, now=now, overall_comment="")
    conflict = Conflict(user_id=jurors[4].id, nomination_id=entries[0].id,
                        source=ConflictSource.ADMIN, reason="Родственник")
    session.add(conflict)
    session.flush()
    world.conflict_id = conflict.id
    world.member_id = round_.panel.members[-1].id
    world.criterion_id = round_.rubric.criteria[0].id
    world.level_id = call.categories[0].award_levels[0].id
    world.field_id = call.fields[0].id
    world.programme_id = call.programme_id
    return world
