"""A decided call for the results tests, written straight to the database.

``decided_call`` takes the judged round of ``tests.ranking_factories.scored_round`` (entries A-E
in "social", levels "gold" x1 and "laureate" x2), spreads the entries over three applicants who
read Kazakh, Russian and English, awards C gold and D laureate, gives C a citation in three
languages with a photo and D one without, and moves the call on to deliberation (the phase results
are published from). Helpers take the session and flush; tests commit through ``arrange``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.calls.models import Call
from awards.enums import CallStatus
from awards.nominations.models import Nomination
from awards.ranking import services as ranking
from awards.results.models import Citation
from awards.storage import path_for
from tests.factories import png_bytes
from tests.jury_factories import make_account
from tests.ranking_factories import scored_round

CITATION = {
    "kk": "Он екі өзенді тазартқаны үшін.",
    "ru": "За очистку двенадцати рек.",
    "en": "For cleaning twelve rivers.",
}
OTHER_CITATION = {
    "kk": "Волонтерлік еңбегі үшін.",
    "ru": "За волонтёрский труд.",
    "en": "For volunteer work.",
}


@dataclass
class ResultsWorld:
    call_id: int
    call_slug: str
    round_id: int
    category_id: int
    admin_email: str
    entries: dict[str, int] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    applicants: dict[str, str] = field(default_factory=dict)  # letter -> applicant e-mail
    juror_email: str = ""
    photo_name: str = ""


def store_photo(data: bytes | None = None) -> str:
    name = secrets.token_hex(20) + ".png"
    path = path_for(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data or png_bytes((8, 8)))
    return name


def award(session: Session, world: ResultsWorld, letter: str, level: str, *,
          citation: bool = True) -> None:
    """Award ``letter``; with ``citation``, give it a citation in three languages if it has
    none (results are not published with a citation missing)."""
    admin = session.query(User).filter(User.email == world.admin_email).one()
    from awards.jury.models import Round

    ranking.decide_award(session=session, actor=admin, round=session.get(Round, world.round_id),
                         nomination_id=world.entries[letter], award_level_id=world.levels[level],
                         digest=None)
    session.flush()
    if citation:
        give_citation(session, world, letter)


def give_citation(session: Session, world: ResultsWorld, letter: str,
                  texts: dict[str, str] | None = None) -> None:
    from sqlalchemy import select

    nomination_id = world.entries[letter]
    if session.scalar(select(Citation.id).where(Citation.nomination_id == nomination_id)):
        return
    texts = texts or {lang: f"{text} ({letter})" for lang, text in OTHER_CITATION.items()}
    session.add(Citation(nomination_id=nomination_id, text_kk=texts["kk"], text_ru=texts["ru"],
                         text_en=texts["en"]))
    session.flush()


def decided_call(session: Session, *, with_photo: bool = True,
                 phase: CallStatus = CallStatus.DELIBERATION) -> ResultsWorld:
    rank = scored_round(session)
    world = ResultsWorld(rank.call_id, rank.call_slug, rank.round_id, rank.category_id,
                         rank.admin_email, dict(rank.entries), dict(rank.refs),
                         dict(rank.levels), juror_email="aida@example.com")
    kk = make_account(session, "aliya@example.com", name="Алия Сапарова")
    kk.preferred_language = "kk"
    ru = make_account(session, "boris@example.com", name="Борис Ким")
    ru.preferred_language = "ru"
    owners = {"A": rank.applicant_email, "B": kk.email, "C": ru.email, "D": rank.applicant_email,
              "E": rank.applicant_email}
    users = {u.email: u for u in (kk, ru)}
    for letter, email in owners.items():
        if email in users:
            session.get(Nomination, world.entries[letter]).applicant_id = users[email].id
    world.applicants = owners
    session.flush()
    award(session, world, "C", "gold", citation=False)
    award(session, world, "D", "laureate")
    if with_photo:
        world.photo_name = store_photo()
    session.add(Citation(nomination_id=world.entries["C"], text_kk=CITATION["kk"],
                         text_ru=CITATION["ru"], text_en=CITATION["en"],
                         photo_name=world.photo_name or None,
                         photo_content_type="image/png" if with_photo else None))
    session.get(Call, world.call_id).status = phase
    session.flush()
    return world
