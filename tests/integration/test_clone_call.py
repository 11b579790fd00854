"""Next year's edition of a call: ``clone_call`` copies settings, categories with award levels,
the application form, rubrics with criteria and rounds, moves every date by the difference in
years (in the call's own zone), and leaves the source alone. Also through the admin page."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from awards.audit import AuditEvent
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.calls.services import CallSetupError, clone_call, shift_years
from awards.db import get_db
from awards.enums import CallStatus, FieldType, RoundKind, RoundStatus, TotalMethod
from awards.jury.models import Criterion, Panel, Round, Rubric
from awards.timeutil import local_to_utc
from tests.conftest import post_form


@contextmanager
def in_db(app):
    with app.app_context():
        yield get_db()


def almaty(*args) -> datetime:
    return local_to_utc(datetime(*args), "Asia/Almaty")


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", admin=True)


@pytest.fixture
def source(app):
    """A 2026 call with everything cloning must carry over, and a panel it must not."""
    with in_db(app) as db:
        programme = Programme(slug="voy", name_ru="Волонтёр года")
        call = Call(
            programme=programme, slug="voy-2026", reference_prefix="VOY", year=2026,
            title_kk="Жыл волонтері — 2026", title_ru="Волонтёр года — 2026",
            title_en="Volunteer of the Year 2026", rules_ru="Правила 2026",
            consent_text_en="I agree", opens_at=almaty(2026, 10, 1, 0, 0),
            closes_at=almaty(2026, 11, 30, 23, 59, 59), status=CallStatus.JUDGING,
            requires_nominee_consent=True, allowed_nominator_kinds=["self", "organisation"],
            has_public_stage=True, trim_k=2, tiebreak=["spread"],
        )
        social = Category(code="social", name_ru="Социальный помощник", position=1,
                          winners_count=3)
        social.award_levels = [
            AwardLevel(key="winner", name_ru="Победитель", count=1, position=1),
            AwardLevel(key="mention", name_ru="Особое упоминание", count=2, position=2),
        ]
        eco = Category(code="environment", name_ru="Экология", position=2, winners_count=1)
        call.categories.extend([social, eco])
        call.fields.extend([
            FormField(key="bio", type=FieldType.LONG_TEXT, label_ru="Биография", position=1,
                      required=True, max_length=3000, is_identifying=True),
            FormField(key="region", type=FieldType.SINGLE_CHOICE, label_ru="Регион", position=2,
                      options=[{"value": "almaty", "label_ru": "Алматы", "label_kk": "Алматы",
                                "label_en": "Almaty"}], is_public=True),
            FormField(key="eco_proof", type=FieldType.FILE, label_ru="Документы", position=3,
                      category=eco, nominator_kinds=["organisation"], file_types=["pdf"],
                      file_max_bytes=5 * 1024 * 1024, file_max_count=2),
        ])
        rubric = Rubric(name="Экспертная оценка", total_method=TotalMethod.MEAN)
        rubric.criteria = [
            Criterion(key="impact", title_ru="Влияние", max_score=10, weight=2, position=1),
            Criterion(key="scale", title_ru="Масштаб", max_score=5, step=0.5, position=2),
        ]
        call.rubrics.append(rubric)
        panel = Panel(name="Жюри 2026")
        call.panels.append(panel)
        call.rounds.extend([
            Round(position=1, name_ru="Экспертный этап", kind=RoundKind.SCORING, rubric=rubric,
                  panel=panel, opens_at=almaty(2026, 12, 1, 9, 0),
                  closes_at=almaty(2026, 12, 10, 18, 0), status=RoundStatus.CLOSED, blind=True,
                  reviews_per_entry=5),
            Round(position=2, name_ru="Голосование комиссии", kind=RoundKind.VOTE,
                  vote_quorum=0.66, vote_threshold=0.5),
        ])
        db.add(call)
        db.commit()
        return call.id


def _clone(app, source_id, *, year=2027, slug="voy-2027", actor=None, **kwargs) -> int:
    with in_db(app) as db:
        new = clone_call(session=db, call=db.get(Call, source_id), year=year, slug=slug,
                         actor=actor, **kwargs)
        db.commit()
        return new.id


def test_clone_call_copies_settings_as_a_draft_of_the_new_year(app, source):
    new_id = _clone(app, source)
    with in_db(app) as db:
        old, new = db.get(Call, source), db.get(Call, new_id)
        assert new.id != old.id
        assert (new.slug, new.year, new.status, new.cloned_from_id, new.version_id) == (
            "voy-2027", 2027, CallStatus.DRAFT, source, 1)
        assert (new.title_kk, new.title_ru, new.title_en) == (
            "Жыл волонтері — 2027", "Волонтёр года — 2027", "Volunteer of the Year 2027")
        assert (new.programme_id, new.reference_prefix, new.rules_ru, new.consent_text_en,
                new.timezone) == (old.programme_id, "VOY", "Правила 2026", "I agree",
                                  "Asia/Almaty")
        assert (new.requires_nominee_consent, new.allowed_nominator_kinds, new.has_public_stage,
                new.trim_k, new.tiebreak) == (True, ["self", "organisation"], True, 2,
                                              ["spread"])


def test_clone_call_shifts_call_and_round_dates_by_the_year_difference(app, source):
    new_id = _clone(app, source)
    with in_db(app) as db:
        new = db.get(Call, new_id)
        assert new.opens_at == almaty(2027, 10, 1, 0, 0)
        assert new.closes_at == almaty(2027, 11, 30, 23, 59, 59)
        assert new.closes_at == datetime(2027, 11, 30, 18, 59, 59, tzinfo=UTC)
        assert [(r.opens_at, r.closes_at) for r in new.rounds] == [
            (almaty(2027, 12, 1, 9, 0), almaty(2027, 12, 10, 18, 0)),
            (None, None),
        ]


def test_clone_call_copies_categories_and_award_levels_with_new_ids(app, source):
    new_id = _clone(app, source)
    with in_db(app) as db:
        old, new = db.get(Call, source), db.get(Call, new_id)

        def shape(call):
            return [(c.code, c.name_ru, c.position, c.winners_count,
                     [(lv.key, lv.name_ru, lv.count, lv.position) for lv in c.award_levels])
                    for c in call.categories]

        assert shape(new) == shape(old)
        assert {c.id for c in new.categories}.isdisjoint({c.id for c in old.categories})
        assert all(c.call_id == new_id for c in new.categories)
        assert db.scalar(select(func.count(AwardLevel.id))) == 4


def test_clone_call_copies_form_fields_mapping_their_categories(app, source):
    new_id = _clone(app, source)
    with in_db(app) as db:
        old, new = db.get(Call, source), db.get(Call, new_id)

        def shape(call):
            return [(f.key, f.type, f.label_ru, f.position, f.required, f.max_length,
                     f.options, f.file_types, f.file_max_bytes, f.file_max_count,
                     f.nominator_kinds, f.is_identifying, f.is_public,
                     f.category.code if f.category else None) for f in call.fields]

        assert shape(new) == shape(old)
        new_eco = next(c for c in new.categories if c.code == "environment")
        assert [f.category_id for f in new.fields] == [None, None, new_eco.id]
        assert {f.id for f in new.fields}.isdisjoint({f.id for f in old.fields})


def test_clone_call_copies_rubrics_criteria_and_rounds_mapping_the_rubric(app, source):
    new_id = _clone(app, source)
    with in_db(app) as db:
        old, new = db.get(Call, source), db.get(Call, new_id)
        [old_rubric], [new_rubric] = old.rubrics, new.rubrics
        assert new_rubric.id != old_rubric.id
        assert (new_rubric.name, new_rubric.total_method) == ("Экспертная оценка",
                                                              TotalMethod.MEAN)
        assert [(c.key, c.title_ru, c.min_score, c.max_score, c.step, c.weight, c.position)
                for c in new_rubric.criteria] == [
            ("impact", "Влияние", 0, 10, 1, 2, 1), ("scale", "Масштаб", 0, 5, 0.5, 1, 2)]
        assert [(r.position, r.name_ru, r.kind, r.rubric_id, r.panel_id, r.status, r.blind,
                 r.reviews_per_entry, r.vote_quorum, r.vote_threshold) for r in new.rounds] == [
            (1, "Экспертный этап", RoundKind.SCORING, new_rubric.id, None, RoundStatus.DRAFT,
             True, 5, None, None),
            (2, "Голосование комиссии", RoundKind.VOTE, None, None, RoundStatus.DRAFT, False,
             3, 0.66, 0.5),
        ]
        assert new.panels == []


def test_clone_call_leaves_the_source_untouched(app, source):
    with in_db(app) as db:
        before = (db.get(Call, source).version_id, db.scalar(select(func.count(Category.id))))
    _clone(app, source)
    with in_db(app) as db:
        old = db.get(Call, source)
        assert (old.version_id, old.slug, old.status, len(old.categories), len(old.fields),
                len(old.rounds)) == (before[0], "voy-2026", CallStatus.JUDGING, 2, 3, 2)
        assert db.scalar(select(func.count(Category.id))) == before[1] * 2
        assert db.scalar(select(func.count(Panel.id))) == 1


def test_clone_call_is_audited_with_source_and_mapping(app, source, admin):
    new_id = _clone(app, source, actor=admin)
    with in_db(app) as db:
        [ev] = db.scalars(select(AuditEvent).where(AuditEvent.action == "call.clone")).all()
        new = db.get(Call, new_id)
        old = db.get(Call, source)
        assert (ev.actor_id, ev.object_type, ev.object_id, ev.call_id) == (
            admin.id, "call", str(new_id), new_id)
        assert ev.before_data() == {"source_call_id": source, "source_slug": "voy-2026"}
        after = ev.after_data()
        assert (after["slug"], after["year"], after["status"], after["cloned_from_id"]) == (
            "voy-2027", 2027, "draft", source)
        assert after["categories"] == {str(o.id): n.id for o, n in zip(old.categories,
                                                                        new.categories,
                                                                        strict=True)}
        assert (after["form_fields"], after["rounds"]) == (3, 2)
        assert after["rubrics"] == {str(old.rubrics[0].id): new.rubrics[0].id}


def test_clone_call_with_taken_slug_is_refused(app, source):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        db = get_db()
        with pytest.raises(CallSetupError) as info:
            clone_call(session=db, call=db.get(Call, source), year=2027, slug="voy-2026",
                       actor=None)
        assert (info.value.field, str(info.value.message)) == (
            "slug", "Another call already uses this address name.")
        db.rollback()
        assert db.scalar(select(func.count(Call.id))) == 1


@pytest.mark.parametrize(("value", "years", "expected"), [
    (almaty(2026, 11, 30, 23, 59), 1, almaty(2027, 11, 30, 23, 59)),
    (almaty(2028, 2, 29, 12, 0), 1, almaty(2029, 2, 28, 12, 0)),
    (almaty(2026, 3, 1, 0, 0), -2, almaty(2024, 3, 1, 0, 0)),
    (None, 1, None),
])
def test_shift_years_keeps_the_local_wall_clock_time(value, years, expected):
    assert shift_years(value, years, "Asia/Almaty") == expected


# ---- through the admin page -------------------------------------------------------------------


def test_clone_page_suggests_next_year(app, client, admin, login_as, source):
    login_as(admin)
    page = html.unescape(client.get(f"/admin/calls/{source}/clone").get_data(as_text=True))
    assert re.search(r'name="year"[^>]*value="2027"', page)
    assert re.search(r'name="slug"[^>]*value="voy-2027"', page)
    assert re.search(r'name="title_ru"[^>]*value="Волонтёр года — 2027"', page)


def test_clone_page_post_creates_the_edition_and_shows_it(app, client, admin, login_as, source):
    login_as(admin)
    url = f"/admin/calls/{source}/clone"
    response = post_form(client, url, {"year": "2028", "slug": "voy-2028",
                                       "title_ru": "Волонтёр года — 2028", "title_en": ""})
    assert response.status_code == 302
    with in_db(app) as db:
        new = db.scalar(select(Call).where(Call.slug == "voy-2028"))
        assert (new.title_ru, new.title_en, new.title_kk, new.cloned_from_id) == (
            "Волонтёр года — 2028", "", "", source)
        assert new.closes_at == almaty(2028, 11, 30, 23, 59, 59)
        new_id = new.id
    assert response.headers["Location"] == f"/admin/calls/{new_id}"
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "30 November 2028, 23:59 (Almaty, UTC+5)" in page
    assert "Copied from" in page
    with in_db(app) as db:
        [ev] = db.scalars(select(AuditEvent).where(AuditEvent.action == "call.clone")).all()
        assert ev.actor_id == admin.id


def test_clone_page_taken_slug_shows_error_and_creates_nothing(app, client, admin, login_as,
                                                               source):
    login_as(admin)
    response = post_form(client, f"/admin/calls/{source}/clone",
                         {"year": "2027", "slug": "voy-2026", "title_ru": "Копия"})
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert re.search(r'<p class="error" id="slug-error">Another call already uses this address '
                     r'name\.</p>', page)
    assert re.search(r'name="title_ru"[^>]*value="Копия"', page)
    with in_db(app) as db:
        assert db.scalar(select(func.count(Call.id))) == 1


def test_clone_page_without_csrf_returns_400(app, client, admin, login_as, source):
    login_as(admin)
    response = client.post(f"/admin/calls/{source}/clone",
                           data={"year": "2027", "slug": "voy-2027", "title_ru": "Копия"})
    assert response.status_code == 400
    with in_db(app) as db:
        assert db.scalar(select(func.count(Call.id))) == 1


def test_clone_page_applicant_gets_403(client, make_user, login_as, source):
    login_as(make_user("applicant@example.com"))
    response = client.post(f"/admin/calls/{source}/clone",
                           data={"year": "2027", "slug": "voy-2027", "title_ru": "Копия"})
    assert response.status_code == 403
