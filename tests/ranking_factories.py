"""Scored rounds for the ranking tests, written straight to the database.

``scored_round`` builds one scoring round from a table ``{juror: {entry: total}}`` on a
one-criterion rubric ("overall", 0..40, step 1), so each review's only score is its total and
the expected rankings can be computed by hand (the default table is the worked example of
docs/judging.md). Helpers take the session and flush; tests commit through ``arrange``."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from awards.calls.models import AwardLevel
from awards.enums import RoundStatus
from awards.jury.models import RoundEntry
from tests.jury_factories import (
    add_review,
    assign,
    judging_call,
    make_account,
    make_entry,
    make_panel,
    make_round,
    make_rubric,
)

# docs/judging.md: six jurors, five entries, totals out of 40.
WORKED = {
    "aida": {"A": 31, "B": 24, "C": 27, "E": 22},
    "bolat": {"A": 25, "B": 22, "D": 28, "E": 18},
    "dana": {"B": 38, "C": 36, "D": 37},
    "erlan": {"A": 30, "C": 26, "E": 12},
    "farida": {"A": 33, "B": 29, "C": 34, "D": 30, "E": 21},
    "gulnar": {"A": 10, "D": 20, "E": 17},
}
OVERALL = (("overall", "Overall", 1.0, 0.0, 40.0, 1.0),)
TWO_CRITERIA = (
    ("impact", "Impact", 2.0, 0.0, 10.0, 1.0),
    ("originality", "Originality", 1.0, 0.0, 10.0, 0.5),
)


@dataclass
class RankWorld:
    call_id: int
    call_slug: str
    round_id: int
    next_round_id: int
    category_id: int
    admin_email: str
    chair_email: str
    applicant_email: str
    entries: dict[str, int] = field(default_factory=dict)  # letter -> nomination id
    refs: dict[str, str] = field(default_factory=dict)  # letter -> reference
    jurors: dict[str, int] = field(default_factory=dict)  # name -> user id
    levels: dict[str, int] = field(default_factory=dict)  # key -> award level id
    criterion_ids: dict[str, int] = field(default_factory=dict)


def scored_round(session: Session, table: dict[str, dict[str, float]] | None = None, *,
                 entries: list[str] | None = None, required: int = 3,
                 drafts: dict[str, dict[str, float]] | None = None,
                 criteria=OVERALL, levels=(("gold", "Winner", 1), ("laureate", "Laureate", 2)),
                 **call_overrides) -> RankWorld:
    """A judged round. ``entries`` lists entry letters (default: every letter in the table, in
    order) so an entry nobody reviewed can be included; ``drafts`` adds unsubmitted reviews."""
    table = WORKED if table is None else table
    drafts = drafts or {}
    letters = entries or sorted({e for row in table.values() for e in row})
    admin = make_account(session, "admin@example.com", name="Admin Person", admin=True)
    applicant = make_account(session, "applicant@example.com", name="Applicant Person")
    chair = make_account(session, "chair@example.com", name="Chair Person")
    names = sorted(set(table) | set(drafts))
    jurors = {n: make_account(session, f"{n}@example.com", name=n.title()) for n in names}
    call = judging_call(session, **call_overrides)
    rubric = make_rubric(session, call, criteria=criteria)
    panel = make_panel(session, call, [(chair, True)] + [(u, False) for u in jurors.values()])
    round_ = make_round(session, call, rubric=rubric, panel=panel, status=RoundStatus.CLOSED,
                        reviews_per_entry=required)
    second = make_round(session, call, rubric=rubric, panel=panel, status=RoundStatus.DRAFT,
                        name_en="Short list", name_ru="Короткий список", name_kk="Қысқа тізім")
    category = next(c for c in call.categories if c.code == "social")
    for position, (key, name, count) in enumerate(levels, start=1):
        category.award_levels.append(AwardLevel(key=key, name_en=name, name_ru=name,
                                                name_kk=name, count=count, position=position))
    session.flush()
    world = RankWorld(call.id, call.slug, round_.id, second.id, category.id, admin.email,
                      chair.email, applicant.email,
                      jurors={n: u.id for n, u in jurors.items()},
                      levels={lv.key: lv.id for lv in category.award_levels},
                      criterion_ids={c.key: c.id for c in rubric.criteria})
    nominations = {}
    for letter in letters:
        nomination = make_entry(session, call, applicant=applicant, category="social",
                                nominee_name=f"Nominee {letter}", with_files=False)
        session.add(RoundEntry(round_id=round_.id, nomination_id=nomination.id))
        nominations[letter] = nomination
        world.entries[letter] = nomination.id
        world.refs[letter] = nomination.reference
    session.flush()
    keys = [c[0] for c in criteria]
    for source, submitted in ((table, True), (drafts, False)):
        for name, row in source.items():
            for letter, total in row.items():
                assignment = assign(session, round_, nominations[letter], jurors[name])
                values = {keys[0]: total} if len(keys) == 1 else dict.fromkeys(keys, 1.0)
                add_review(session, assignment, values, submitted=submitted,
                           total=total if submitted else None)
    return world


def bulk_round(session: Session, *, entries: int, jurors: int = 5, per_entry: int = 3,
               categories: tuple[str, ...] = ("social", "ecology")) -> RankWorld:
    """``entries`` entries spread over the categories, each reviewed by ``per_entry`` of the
    jurors in turn, with varied totals (for the query-count test)."""
    names = [f"j{i}" for i in range(jurors)]
    table: dict[str, dict[str, float]] = {n: {} for n in names}
    letters = [f"E{i:04d}" for i in range(entries)]
    for i, letter in enumerate(letters):
        for k in range(per_entry):
            table[names[(i + k) % jurors]][letter] = float((i * 7 + k * 3) % 40)
    world = scored_round(session, table, entries=letters)
    # Spread the entries over the categories after the fact (scored_round uses "social").
    from awards.nominations.models import Nomination

    by_code = {c.code: c.id for c in session.get(Nomination, world.entries[letters[0]])
               .call.categories}
    for i, letter in enumerate(letters):
        session.get(Nomination, world.entries[letter]).category_id = \
            by_code[categories[i % len(categories)]]
    session.flush()
    return world
