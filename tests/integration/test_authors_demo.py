"""The demo's author collectives: the Abai shortlist's works name their authors as people."""

from __future__ import annotations

from sqlalchemy import select

from awards.calls.models import Call
from awards.commission import demo as commission_demo
from awards.demo import ABAI_SLUG, seed_demo
from awards.enums import FieldType
from awards.nominations.models import Nomination


def test_demo_abai_works_have_author_collectives(db):
    seed_demo(db)
    db.commit()

    shortlist = db.scalars(select(Nomination).join(Call)
                           .where(Call.slug == commission_demo.SLUG)
                           .order_by(Nomination.reference)).all()
    assert [len(n.authors) for n in shortlist] == [1, 2, 1, 3, 3, 3]
    assert [(a.name("en"), a.role, a.consent_state) for a in shortlist[1].authors] == [
        ("Yerlan Zhumabayev", "co_author", "given"), ("Madi Ospanov", "co_author", "pending")]
    assert shortlist[1].organisation_name == "Қазақстан Жазушылар одағы"
    assert shortlist[0].call.organisation_certificate is True
    open_call = db.scalar(select(Call).where(Call.slug == ABAI_SLUG))
    assert next(f for f in open_call.fields if f.key == "authors").type == FieldType.AUTHORS
