"""The administrator's side of calls and nominations, through the real pages: programmes, call
settings with time zones and the optimistic lock, categories with award levels, the application
form builder, permissions and CSRF.

Data is arranged and checked in short app contexts of their own (``in_db``): a context held open
across requests would share its ``g`` (the session and the cached user) with them."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, func, select
from werkzeug.datastructures import MultiDict

from awards.audit import AuditEvent
from awards.calls.forms import FIELD_TYPE_LABELS
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.db import get_db, get_engine
from awards.enums import CallStatus, FieldType, NominatorKind
from awards.nominations.models import Answer, Nomination
from awards.timeutil import local_to_utc
from tests.conftest import get_csrf, post_form

ALMATY_CLOSE = "2026-11-30T23:59"


@contextmanager
def in_db(app):
    with app.app_context():
        yield get_db()


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def audit_events(app, action: str | None = None) -> list[AuditEvent]:
    with in_db(app) as db:
        q = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            q = q.where(AuditEvent.action == action)
        return list(db.scalars(q))


def error_of(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', page)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


def row_cells(page: str, row_id: str) -> list[str]:
    """The text of each cell of a table row, tags and extra white space removed."""
    row = re.search(rf'<tr id="{re.escape(row_id)}">(.*?)</tr>', page, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]


def input_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    assert match, f"no value for {name}"
    return match.group(1)


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", admin=True, name="Admin")


@pytest.fixture
def admin_client(client, admin, login_as):
    login_as(admin)
    return client


@pytest.fixture
def seeded(app):
    """A programme with one draft call, one category with one award level and one question."""
    with in_db(app) as db:
        programme = Programme(slug="volunteer-of-the-year", name_ru="Волонтёр года",
                              name_en="Volunteer of the Year")
        call = Call(programme=programme, slug="voy-2026", reference_prefix="VOY", year=2026,
                    title_ru="Волонтёр года — 2026", title_en="Volunteer of the Year 2026",
                    opens_at=local_to_utc(datetime(2026, 10, 1, 0, 0)),
                    closes_at=local_to_utc(datetime(2026, 11, 30, 23, 59)))
        category = Category(code="social", name_ru="Социальный помощник",
                            name_en="Social Helper", position=1)
        category.award_levels = [AwardLevel(key="winner", name_en="Winner", name_ru="Победитель",
                                            count=1, position=1)]
        call.categories.append(category)
        call.fields.append(FormField(key="bio", type=FieldType.LONG_TEXT, label_en="Biography",
                                     label_ru="Биография", position=1))
        db.add(call)
        db.commit()
        return {"programme": programme.id, "call": call.id, "category": category.id,
                "level": category.award_levels[0].id, "field": call.fields[0].id}


def call_form_data(**overrides) -> dict:
    data = {
        "programme_id": "1", "slug": "voy-2026", "reference_prefix": "voy", "year": "2026",
        "title_kk": "", "title_ru": "Волонтёр года — 2026", "title_en": "Volunteer of the Year",
        "rules_kk": "", "rules_ru": "Правила", "rules_en": "",
        "consent_text_kk": "", "consent_text_ru": "Согласие", "consent_text_en": "",
        "timezone": "Asia/Almaty", "opens_at": "2026-10-01T00:00", "closes_at": ALMATY_CLOSE,
        "allowed_nominator_kinds": ["self", "other"], "requires_nominee_consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def edit_data(app, call_id: int, **overrides) -> dict:
    """The edit form as the browser would send it back unchanged, with ``overrides``."""
    from awards.calls.forms import CallForm

    with in_db(app) as db:
        call = db.get(Call, call_id)
        initial = CallForm.initial(call)
    data = {k: v for k, v in initial.items() if v is not None}
    data["opens_at"] = initial["opens_at"].strftime("%Y-%m-%dT%H:%M")
    data["closes_at"] = initial["closes_at"].strftime("%Y-%m-%dT%H:%M")
    data["programme_id"] = str(initial["programme_id"])
    for flag in ("requires_nominee_consent", "has_public_stage", "organisation_certificate"):
        if data.pop(flag):
            data[flag] = "y"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# ---- permissions ------------------------------------------------------------------------------

PAGES = [
    "/admin/",
    "/admin/programmes",
    "/admin/programmes/new",
    "/admin/programmes/{programme}/edit",
    "/admin/calls/new",
    "/admin/calls/{call}",
    "/admin/calls/{call}/edit",
    "/admin/calls/{call}/clone",
    "/admin/calls/{call}/categories",
    "/admin/calls/{call}/categories/new",
    "/admin/calls/{call}/categories/{category}/edit",
    "/admin/calls/{call}/categories/{category}/levels/new",
    "/admin/calls/{call}/categories/{category}/levels/{level}/edit",
    "/admin/calls/{call}/form",
    "/admin/calls/{call}/form/new/short_text",
    "/admin/calls/{call}/form/{field}/edit",
]

ACTIONS = [
    "/admin/calls/{call}/categories/{category}/delete",
    "/admin/calls/{call}/categories/{category}/move/up",
    "/admin/calls/{call}/categories/{category}/levels/{level}/delete",
    "/admin/calls/{call}/categories/{category}/levels/{level}/move/down",
    "/admin/calls/{call}/form/{field}/delete",
    "/admin/calls/{call}/form/{field}/move/up",
]


@pytest.mark.parametrize("url", PAGES)
def test_admin_page_anonymous_is_sent_to_login(client, seeded, url):
    response = client.get(url.format(**seeded))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


@pytest.mark.parametrize("url", PAGES)
def test_admin_page_applicant_gets_403(client, make_user, login_as, seeded, url):
    login_as(make_user("applicant@example.com"))
    assert client.get(url.format(**seeded)).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_admin_page_administrator_gets_200(admin_client, seeded, url):
    assert admin_client.get(url.format(**seeded)).status_code == 200


@pytest.mark.parametrize("url", ACTIONS)
def test_admin_action_anonymous_is_sent_to_login(client, seeded, url):
    response = client.post(url.format(**seeded), data={"csrf_token": get_csrf(client)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


@pytest.mark.parametrize("url", ACTIONS)
def test_admin_action_applicant_gets_403_and_nothing_changes(app, client, make_user, login_as,
                                                             seeded, url):
    login_as(make_user("applicant@example.com"))
    response = client.post(url.format(**seeded), data={"csrf_token": get_csrf(client)})
    assert response.status_code == 403
    assert audit_events(app) == []


@pytest.mark.parametrize("url", ACTIONS)
def test_admin_action_get_is_not_allowed(admin_client, seeded, url):
    assert admin_client.get(url.format(**seeded)).status_code == 405


@pytest.mark.parametrize("url", [
    "/admin/programmes/new",
    "/admin/calls/new",
    "/admin/calls/{call}/edit",
    "/admin/calls/{call}/clone",
    "/admin/calls/{call}/categories/new",
    "/admin/calls/{call}/form/new/short_text",
    *ACTIONS,
])
def test_admin_post_without_csrf_returns_400_and_changes_nothing(app, admin_client, seeded, url):
    response = admin_client.post(url.format(**seeded), data=call_form_data(slug="other"))
    assert response.status_code == 400
    assert audit_events(app) == []


def test_admin_unknown_call_is_404(admin_client, seeded):
    assert admin_client.get("/admin/calls/999/edit").status_code == 404


def test_admin_category_of_another_call_is_404(app, admin_client, seeded):
    with in_db(app) as db:
        other = Call(programme_id=seeded["programme"], slug="other", reference_prefix="OT",
                     year=2026, title_ru="Другой", opens_at=datetime(2026, 1, 1, tzinfo=UTC),
                     closes_at=datetime(2026, 2, 1, tzinfo=UTC))
        db.add(other)
        db.commit()
        other_id = other.id
    url = f"/admin/calls/{other_id}/categories/{seeded['category']}/edit"
    assert admin_client.get(url).status_code == 404


# ---- dashboard --------------------------------------------------------------------------------


def test_dashboard_without_calls_shows_empty_state(admin_client):
    page = text_of(admin_client.get("/admin/"))
    assert "No calls yet — create the first one." in page


def test_dashboard_lists_call_with_status_local_dates_and_counts(app, admin_client, seeded):
    with in_db(app) as db:
        db.add_all([
            Nomination(call_id=seeded["call"], category_id=seeded["category"],
                       nominator_kind=NominatorKind.SELF, status="submitted",
                       submitted_at=datetime(2026, 10, 5, tzinfo=UTC)),
            Nomination(call_id=seeded["call"], category_id=seeded["category"],
                       nominator_kind=NominatorKind.SELF),
        ])
        db.commit()
    page = text_of(admin_client.get("/admin/"))
    assert row_cells(page, f"call-{seeded['call']}") == [
        "Volunteer of the Year 2026 Volunteer of the Year · 2026 · voy-2026",
        "Draft",
        "1 October 2026, 00:00 Almaty, UTC+5",
        "30 November 2026, 23:59 Almaty, UTC+5",
        "1",
        "1",
        "1",
    ]


def _count_queries(app, client, url: str) -> int:
    statements = []

    def _note(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = get_engine()
    event.listen(engine, "before_cursor_execute", _note)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", _note)
    return len(statements)


def test_dashboard_query_count_does_not_grow_with_calls(app, admin_client, seeded):
    one = _count_queries(app, admin_client, "/admin/")
    with in_db(app) as db:
        for n in range(3):
            call = Call(programme_id=seeded["programme"], slug=f"extra-{n}",
                        reference_prefix="EX", year=2027 + n, title_ru=f"Ещё {n}",
                        opens_at=datetime(2027, 1, 1, tzinfo=UTC),
                        closes_at=datetime(2027, 2, 1, tzinfo=UTC))
            call.categories.append(Category(code="a", name_ru="А"))
            db.add(call)
        db.commit()
    assert _count_queries(app, admin_client, "/admin/") == one


# ---- programmes -------------------------------------------------------------------------------


def test_programme_create_is_listed_stored_and_audited(app, admin_client, admin):
    response = post_form(admin_client, "/admin/programmes/new", {
        "slug": "abai-state-prize", "name_kk": "Абай атындағы сыйлық",
        "name_ru": "Премия имени Абая", "name_en": "Abai State Prize",
        "description_ru": "Литература и искусство",
    })
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/programmes"
    page = text_of(admin_client.get("/admin/programmes"))
    assert "Abai State Prize" in page
    with in_db(app) as db:
        programme = db.scalar(select(Programme))
        assert (programme.slug, programme.name_kk, programme.description_ru) == (
            "abai-state-prize", "Абай атындағы сыйлық", "Литература и искусство")
    [ev] = audit_events(app, "programme.create")
    assert (ev.actor_id, ev.object_type, ev.object_id) == (admin.id, "programme",
                                                           str(programme.id))
    assert ev.after_data()["name_en"] == "Abai State Prize"


def test_programme_edit_changes_name_and_audits_before_after(app, admin_client, seeded):
    url = f"/admin/programmes/{seeded['programme']}/edit"
    page = text_of(admin_client.get(url))
    assert input_value(page, "name_en") == "Volunteer of the Year"
    response = post_form(admin_client, url, {
        "slug": "volunteer-of-the-year", "name_ru": "Волонтёр года", "name_en": "Volunteer Prize",
    })
    assert response.status_code == 302
    with in_db(app) as db:
        assert db.get(Programme, seeded["programme"]).name_en == "Volunteer Prize"
    [ev] = audit_events(app, "programme.update")
    assert (ev.before_data(), ev.after_data()) == ({"name_en": "Volunteer of the Year"},
                                                   {"name_en": "Volunteer Prize"})


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"slug": "Bad Slug", "name_ru": "X"}, "slug",
     "Use lower-case Latin letters, digits and hyphens, e.g. volunteer-of-the-year-2027."),
    ({"slug": "volunteer-of-the-year", "name_ru": "X"}, "slug",
     "Another programme already uses this address name."),
    ({"slug": "new-one"}, "name_ru", "Enter the name in at least one language."),
])
def test_programme_create_invalid_shows_error_on_field(admin_client, seeded, data, field,
                                                       message):
    response = post_form(admin_client, "/admin/programmes/new", data)
    assert response.status_code == 400
    assert error_of(text_of(response), field) == message


def test_call_new_without_programme_redirects_to_create_one(admin_client):
    response = admin_client.get("/admin/calls/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/programmes/new"


# ---- call settings and time zones -------------------------------------------------------------


def _programme(app) -> int:
    with in_db(app) as db:
        programme = Programme(slug="voy", name_ru="Волонтёр года")
        db.add(programme)
        db.commit()
        return programme.id


def test_call_create_stores_almaty_time_as_utc_and_shows_it_back(app, admin_client, admin):
    programme_id = _programme(app)
    response = post_form(admin_client, "/admin/calls/new",
                         call_form_data(programme_id=str(programme_id)),
                         csrf_url="/admin/calls/new")
    assert response.status_code == 302
    with in_db(app) as db:
        call = db.scalar(select(Call))
        assert call.closes_at == datetime(2026, 11, 30, 18, 59, tzinfo=UTC)
        assert call.opens_at == datetime(2026, 9, 30, 19, 0, tzinfo=UTC)
        assert (call.timezone, call.status, call.reference_prefix) == (
            "Asia/Almaty", CallStatus.DRAFT, "VOY")
        assert call.allowed_nominator_kinds == ["self", "other"]
        assert call.requires_nominee_consent is True
        assert (call.title_ru, call.rules_ru, call.consent_text_ru) == (
            "Волонтёр года — 2026", "Правила", "Согласие")
        call_id = call.id
    assert response.headers["Location"] == f"/admin/calls/{call_id}"
    page = text_of(admin_client.get(f"/admin/calls/{call_id}/edit"))
    assert input_value(page, "closes_at") == "2026-11-30T23:59"
    assert input_value(page, "opens_at") == "2026-10-01T00:00"
    overview = text_of(admin_client.get(f"/admin/calls/{call_id}"))
    assert "30 November 2026, 23:59 (Almaty, UTC+5)" in overview
    [ev] = audit_events(app, "call.create")
    assert (ev.actor_id, ev.object_type, ev.object_id, ev.call_id) == (
        admin.id, "call", str(call_id), call_id)
    assert ev.after_data()["closes_at"] == "2026-11-30T18:59:00+00:00"
    assert ev.after_data()["status"] == "draft"


@pytest.mark.parametrize(("zone", "utc_hour"), [
    ("Asia/Almaty", 18), ("Europe/Moscow", 20), ("Asia/Tashkent", 18), ("UTC", 23),
])
def test_call_create_reads_closing_time_in_chosen_zone(app, admin_client, zone, utc_hour):
    programme_id = _programme(app)
    response = post_form(admin_client, "/admin/calls/new",
                         call_form_data(programme_id=str(programme_id), timezone=zone))
    assert response.status_code == 302
    with in_db(app) as db:
        call = db.scalar(select(Call))
        assert call.closes_at == datetime(2026, 11, 30, utc_hour, 59, tzinfo=UTC)
        call_id = call.id
    page = text_of(admin_client.get(f"/admin/calls/{call_id}/edit"))
    assert input_value(page, "closes_at") == ALMATY_CLOSE


def test_call_create_closing_before_opening_keeps_typed_values(app, admin_client):
    programme_id = _programme(app)
    response = post_form(admin_client, "/admin/calls/new", call_form_data(
        programme_id=str(programme_id), opens_at="2026-12-01T10:00",
        closes_at="2026-11-30T23:59", slug="typed-slug"))
    assert response.status_code == 400
    page = text_of(response)
    assert error_of(page, "closes_at") == "The closing time must be after the opening time."
    assert 'aria-describedby="closes_at-hint closes_at-error"' in page
    assert input_value(page, "closes_at") == "2026-11-30T23:59"
    assert input_value(page, "opens_at") == "2026-12-01T10:00"
    assert input_value(page, "slug") == "typed-slug"
    with in_db(app) as db:
        assert db.scalar(select(func.count(Call.id))) == 0


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title_ru": "", "title_en": ""}, "title_ru",
     "Enter the title in at least one language (Russian is the default)."),
    ({"allowed_nominator_kinds": None}, "allowed_nominator_kinds",
     "Allow at least one kind of nominator."),
    ({"reference_prefix": "VO-Y"}, "reference_prefix", "Use Latin letters and digits only."),
    ({"closes_at": ""}, "closes_at", "Enter the closing date and time."),
    ({"timezone": "Mars/Olympus"}, "timezone", "Not a valid choice."),
])
def test_call_create_invalid_shows_error_on_field(app, admin_client, overrides, field, message):
    programme_id = _programme(app)
    response = post_form(admin_client, "/admin/calls/new",
                         call_form_data(programme_id=str(programme_id), **overrides))
    assert response.status_code == 400
    assert error_of(text_of(response), field) == message


def test_call_create_duplicate_slug_shows_error(app, admin_client, seeded):
    response = post_form(admin_client, "/admin/calls/new", call_form_data(
        programme_id=str(seeded["programme"]), slug="voy-2026"))
    assert response.status_code == 400
    assert error_of(text_of(response), "slug") == "Another call already uses this address name."


def test_call_edit_saves_settings_and_audits_before_after(app, admin_client, admin, seeded):
    url = f"/admin/calls/{seeded['call']}/edit"
    response = post_form(admin_client, url, edit_data(
        app, seeded["call"], title_en="VOY 2026", closes_at="2026-12-05T18:00",
        allowed_nominator_kinds=["organisation"], has_public_stage="y"))
    assert response.status_code == 302
    with in_db(app) as db:
        call = db.get(Call, seeded["call"])
        assert call.title_en == "VOY 2026"
        assert call.closes_at == datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
        assert call.allowed_nominator_kinds == ["organisation"]
        assert call.has_public_stage is True
        assert call.version_id == 2
    [ev] = audit_events(app, "call.update")
    assert (ev.actor_id, ev.call_id) == (admin.id, seeded["call"])
    assert ev.before_data() == {
        "title_en": "Volunteer of the Year 2026",
        "closes_at": "2026-11-30T18:59:00+00:00",
        "allowed_nominator_kinds": ["self", "other", "organisation"],
        "has_public_stage": False,
    }
    assert ev.after_data() == {
        "title_en": "VOY 2026",
        "closes_at": "2026-12-05T13:00:00+00:00",
        "allowed_nominator_kinds": ["organisation"],
        "has_public_stage": True,
    }


def test_call_edit_keeps_deadline_seconds(app, admin_client, seeded):
    with in_db(app) as db:
        db.get(Call, seeded["call"]).closes_at = local_to_utc(datetime(2026, 11, 30, 23, 59, 59))
        db.commit()
    page = text_of(admin_client.get(f"/admin/calls/{seeded['call']}/edit"))
    assert input_value(page, "closes_at") == "2026-11-30T23:59:59"


def test_call_edit_with_stale_version_returns_409_and_changes_nothing(app, admin_client, seeded):
    url = f"/admin/calls/{seeded['call']}/edit"
    form = edit_data(app, seeded["call"], title_en="Mine")
    assert form["version_id"] == 1
    with in_db(app) as db:  # another administrator saves first
        db.get(Call, seeded["call"]).title_en = "Theirs"
        db.commit()
    response = post_form(admin_client, url, form)
    assert response.status_code == 409
    page = text_of(response)
    assert ("Someone else changed this call while you were editing it. Reload the page to see "
            "their changes, then make yours again.") in page
    assert input_value(page, "title_en") == "Mine"
    with in_db(app) as db:
        call = db.get(Call, seeded["call"])
        assert (call.title_en, call.version_id) == ("Theirs", 2)
    assert audit_events(app, "call.update") == []


def test_update_call_saved_by_another_between_check_and_write_raises_stale(app, seeded):
    from awards.calls.services import StaleCallError, update_call

    with app.test_request_context(headers={"Accept-Language": "en"}):
        db = get_db()
        call = db.get(Call, seeded["call"])
        with app.app_context():  # another administrator, in a session of their own
            other = get_db()
            other.get(Call, seeded["call"]).title_en = "Theirs"
            other.commit()
        with pytest.raises(StaleCallError):
            update_call(session=db, actor=None, call=call, values={"title_en": "Mine"},
                        expected_version=1)
        db.rollback()
    with in_db(app) as db:
        assert db.get(Call, seeded["call"]).title_en == "Theirs"
    assert audit_events(app) == []


def test_call_edit_form_has_no_status_dropdown(admin_client, seeded):
    page = text_of(admin_client.get(f"/admin/calls/{seeded['call']}/edit"))
    assert re.search(r'<select[^>]*name="status"', page) is None
    assert ("The phase of the call (open, closed, screening, judging…) is not a setting: it "
            "moves one step at a time on the call's page, where each step says what it "
            "needs.") in page


@pytest.mark.parametrize("status", ["open", "judging", "published"])
def test_call_edit_posting_a_status_does_not_move_the_call(app, admin_client, seeded, status):
    """The old dropdown's field, sent by hand: the settings are saved, the phase stays."""
    response = post_form(admin_client, f"/admin/calls/{seeded['call']}/edit",
                         edit_data(app, seeded["call"], status=status, title_en="Renamed"))
    assert response.status_code == 302
    with in_db(app) as db:
        call = db.get(Call, seeded["call"])
        assert (call.status, call.title_en) == (CallStatus.DRAFT, "Renamed")
    assert audit_events(app, "call.phase_changed") == []
    assert audit_events(app, "call.status") == []


# ---- categories and award levels --------------------------------------------------------------


def category_data(**overrides) -> dict:
    data = {"code": "environment", "name_kk": "Экология", "name_ru": "Экология",
            "name_en": "Environment", "description_ru": "", "winners_count": "3"}
    data.update(overrides)
    return data


def test_categories_empty_state(app, admin_client):
    programme_id = _programme(app)
    post_form(admin_client, "/admin/calls/new", call_form_data(programme_id=str(programme_id)))
    with in_db(app) as db:
        call_id = db.scalar(select(Call.id))
    page = text_of(admin_client.get(f"/admin/calls/{call_id}/categories"))
    assert "No categories yet — add the first one." in page


def test_category_create_is_listed_last_stored_and_audited(app, admin_client, admin, seeded):
    url = f"/admin/calls/{seeded['call']}/categories/new"
    response = post_form(admin_client, url, category_data())
    assert response.status_code == 302
    with in_db(app) as db:
        category = db.scalar(select(Category).where(Category.code == "environment"))
        assert (category.name_en, category.winners_count, category.position) == (
            "Environment", 3, 2)
        new_id = category.id
    assert response.headers["Location"] == (
        f"/admin/calls/{seeded['call']}/categories/{new_id}/edit")
    page = text_of(admin_client.get(f"/admin/calls/{seeded['call']}/categories"))
    assert re.findall(r'<tr id="category-(\d+)">', page) == [str(seeded["category"]),
                                                              str(new_id)]
    [ev] = audit_events(app, "category.create")
    assert (ev.actor_id, ev.object_id, ev.call_id) == (admin.id, str(new_id), seeded["call"])
    assert ev.after_data()["code"] == "environment"


def test_category_edit_changes_winners_count(app, admin_client, seeded):
    url = f"/admin/calls/{seeded['call']}/categories/{seeded['category']}/edit"
    page = text_of(admin_client.get(url))
    assert input_value(page, "code") == "social"
    response = post_form(admin_client, url, category_data(
        code="social", name_ru="Социальный помощник", name_en="Social Helper", name_kk="",
        winners_count="2"))
    assert response.status_code == 302
    with in_db(app) as db:
        assert db.get(Category, seeded["category"]).winners_count == 2
    [ev] = audit_events(app, "category.update")
    assert (ev.before_data(), ev.after_data()) == ({"winners_count": 1}, {"winners_count": 2})


def test_category_duplicate_code_shows_error(admin_client, seeded):
    response = post_form(admin_client, f"/admin/calls/{seeded['call']}/categories/new",
                         category_data(code="social"))
    assert response.status_code == 400
    assert error_of(text_of(response), "code") == (
        "This call already has a category with this code.")


def test_category_delete_removes_it_with_award_levels_and_audits(app, admin_client, seeded):
    url = f"/admin/calls/{seeded['call']}/categories"
    page = text_of(admin_client.get(url))
    assert 'data-confirm="Delete the category “Social Helper” and its award levels?"' in page
    response = post_form(admin_client, f"{url}/{seeded['category']}/delete", csrf_url=url)
    assert response.status_code == 302
    assert "The category “Social Helper” is deleted." in text_of(
        admin_client.get(response.headers["Location"]))
    with in_db(app) as db:
        assert db.get(Category, seeded["category"]) is None
        assert db.scalar(select(func.count(AwardLevel.id))) == 0
    [ev] = audit_events(app, "category.delete")
    assert ev.before_data()["code"] == "social"
    assert ev.before_data()["award_levels"] == [
        {"key": "winner", "name_kk": "", "name_ru": "Победитель", "name_en": "Winner",
         "count": 1}]


def test_category_delete_takes_questions_limited_to_it(app, admin_client, seeded):
    with in_db(app) as db:
        db.add(FormField(call_id=seeded["call"], category_id=seeded["category"], key="social_q",
                         type=FieldType.SHORT_TEXT, label_ru="Вопрос", position=2))
        db.commit()
    url = f"/admin/calls/{seeded['call']}/categories"
    post_form(admin_client, f"{url}/{seeded['category']}/delete", csrf_url=url)
    with in_db(app) as db:
        assert db.scalars(select(FormField.key)).all() == ["bio"]
    [ev] = audit_events(app, "category.delete")
    assert ev.before_data()["form_fields"] == ["social_q"]


def test_category_delete_with_nominations_is_refused(app, admin_client, seeded):
    with in_db(app) as db:
        db.add(Nomination(call_id=seeded["call"], category_id=seeded["category"],
                          nominator_kind=NominatorKind.SELF))
        db.commit()
    url = f"/admin/calls/{seeded['call']}/categories"
    response = post_form(admin_client, f"{url}/{seeded['category']}/delete", csrf_url=url,
                         follow_redirects=True)
    assert response.status_code == 200
    assert "This category has nominations, so it cannot be deleted." in text_of(response)
    with in_db(app) as db:
        assert db.get(Category, seeded["category"]) is not None
    assert audit_events(app, "category.delete") == []


def test_category_reorder_moves_up_and_down(app, admin_client, seeded):
    base = f"/admin/calls/{seeded['call']}/categories"
    for code in ("environment", "events"):
        post_form(admin_client, f"{base}/new", category_data(code=code, name_en=code.title()))
    with in_db(app) as db:
        ids = {c.code: c.id for c in db.scalars(select(Category))}

    def order():
        with in_db(app) as db:
            return db.scalars(select(Category.code).order_by(Category.position)).all()

    assert order() == ["social", "environment", "events"]
    response = post_form(admin_client, f"{base}/{ids['events']}/move/up", csrf_url=base)
    assert response.status_code == 302
    assert order() == ["social", "events", "environment"]
    post_form(admin_client, f"{base}/{ids['social']}/move/down", csrf_url=base)
    assert order() == ["events", "social", "environment"]
    post_form(admin_client, f"{base}/{ids['events']}/move/up", csrf_url=base)  # already first
    assert order() == ["events", "social", "environment"]
    page = text_of(admin_client.get(base))
    assert re.findall(r'<tr id="category-(\d+)">', page) == [
        str(ids["events"]), str(ids["social"]), str(ids["environment"])]
    moves = audit_events(app, "category.move")
    assert [(e.before_data(), e.after_data()) for e in moves] == [
        ({"order": ["social", "environment", "events"]},
         {"order": ["social", "events", "environment"]}),
        ({"order": ["social", "events", "environment"]},
         {"order": ["events", "social", "environment"]}),
    ]


def level_data(**overrides) -> dict:
    data = {"key": "special_mention", "name_kk": "Арнайы атау", "name_ru": "Особое упоминание",
            "name_en": "Special mention", "count": "2"}
    data.update(overrides)
    return data


def test_award_level_create_edit_reorder_delete(app, admin_client, seeded):
    category_url = f"/admin/calls/{seeded['call']}/categories/{seeded['category']}"
    response = post_form(admin_client, f"{category_url}/levels/new", level_data())
    assert response.status_code == 302
    assert response.headers["Location"] == f"{category_url}/edit"
    with in_db(app) as db:
        level = db.scalar(select(AwardLevel).where(AwardLevel.key == "special_mention"))
        assert (level.name_kk, level.count, level.position) == ("Арнайы атау", 2, 2)
        level_id = level.id
    page = text_of(admin_client.get(f"{category_url}/edit"))
    assert "Special mention" in page

    response = post_form(admin_client, f"{category_url}/levels/{level_id}/edit",
                         level_data(count="3"))
    assert response.status_code == 302
    with in_db(app) as db:
        assert db.get(AwardLevel, level_id).count == 3

    post_form(admin_client, f"{category_url}/levels/{level_id}/move/up",
              csrf_url=f"{category_url}/edit")
    with in_db(app) as db:
        keys = db.scalars(select(AwardLevel.key).order_by(AwardLevel.position)).all()
    assert keys == ["special_mention", "winner"]

    post_form(admin_client, f"{category_url}/levels/{level_id}/delete",
              csrf_url=f"{category_url}/edit")
    with in_db(app) as db:
        assert db.scalars(select(AwardLevel.key)).all() == ["winner"]
        assert db.get(AwardLevel, seeded["level"]).position == 1
    assert [e.action for e in audit_events(app)] == [
        "award_level.create", "award_level.update", "award_level.move", "award_level.delete"]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"key": "winner"}, "key", "This category already has an award level with this key."),
    ({"count": "0"}, "count", "Number must be between 1 and 1000."),
    ({"name_kk": "", "name_ru": "", "name_en": ""}, "name_ru",
     "Enter the name in at least one language."),
])
def test_award_level_invalid_shows_error_on_field(admin_client, seeded, overrides, field,
                                                  message):
    url = f"/admin/calls/{seeded['call']}/categories/{seeded['category']}/levels/new"
    response = post_form(admin_client, url, level_data(**overrides))
    assert response.status_code == 400
    assert error_of(text_of(response), field) == message


def test_award_levels_empty_state(app, admin_client, seeded):
    post_form(admin_client, f"/admin/calls/{seeded['call']}/categories/new", category_data())
    with in_db(app) as db:
        new_id = db.scalar(select(Category.id).where(Category.code == "environment"))
    page = text_of(admin_client.get(f"/admin/calls/{seeded['call']}/categories/{new_id}/edit"))
    assert "No award levels yet — add the first one (for example “Winner”)." in page


# ---- the application form ---------------------------------------------------------------------


def question(**overrides) -> dict:
    data = {"key": "answer", "label_kk": "Сұрақ", "label_ru": "Вопрос", "label_en": "Question",
            "help_ru": "Подсказка", "category_id": ""}
    data.update(overrides)
    return data


MB = 1024 * 1024

# (type, settings posted, attributes the database must then hold)
FIELD_TYPES = [
    (FieldType.SHORT_TEXT, {"max_length": "300"}, {"max_length": 300}),
    (FieldType.LONG_TEXT, {"max_length": "3000"}, {"max_length": 3000}),
    (FieldType.NUMBER, {"min_value": "1900", "max_value": "2027"},
     {"min_value": 1900.0, "max_value": 2027.0}),
    (FieldType.DATE, {}, {}),
    (FieldType.EMAIL, {"max_length": "254"}, {"max_length": 254}),
    (FieldType.URL, {"max_length": "500"}, {"max_length": 500}),
    (FieldType.PHONE, {"max_length": "40"}, {"max_length": 40}),
    (FieldType.SINGLE_CHOICE, {"options": "almaty | Алматы | Алматы | Almaty\nabroad | За рубежом"},
     {"options": [
         {"value": "almaty", "label_ru": "Алматы", "label_kk": "Алматы", "label_en": "Almaty"},
         {"value": "abroad", "label_ru": "За рубежом", "label_kk": "За рубежом",
          "label_en": "За рубежом"},
     ]}),
    (FieldType.MULTIPLE_CHOICE, {"options": "sdg1\nsdg2 | ЦУР 2 | ТДМ 2 | SDG 2"},
     {"options": [
         {"value": "sdg1", "label_ru": "sdg1", "label_kk": "sdg1", "label_en": "sdg1"},
         {"value": "sdg2", "label_ru": "ЦУР 2", "label_kk": "ТДМ 2", "label_en": "SDG 2"},
     ]}),
    (FieldType.CHECKBOX, {}, {}),
    (FieldType.FILE, {"file_types": ["pdf", "png"], "file_max_mb": "5", "file_max_count": "3"},
     {"file_types": ["pdf", "png"], "file_max_bytes": 5 * MB, "file_max_count": 3}),
    (FieldType.AUTHORS,
     {"max_authors": "4", "options": "director | Режиссёр | Режиссер | Director"},
     {"max_value": 4.0, "options": [{"value": "director", "label_ru": "Режиссёр",
                                     "label_kk": "Режиссер", "label_en": "Director"}]}),
]


@pytest.mark.parametrize(("kind", "settings", "stored"), FIELD_TYPES,
                         ids=[t[0].value for t in FIELD_TYPES])
def test_form_field_create_each_type_with_its_settings(app, admin_client, admin, seeded, kind,
                                                       settings, stored):
    url = f"/admin/calls/{seeded['call']}/form/new/{kind.value}"
    response = post_form(admin_client, url, question(
        required="y", is_identifying="y", is_public="y", **settings))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/calls/{seeded['call']}/form"
    with in_db(app) as db:
        form_field = db.scalar(select(FormField).where(FormField.key == "answer"))
        assert form_field.type == kind
        assert (form_field.label_kk, form_field.label_ru, form_field.label_en,
                form_field.help_ru) == ("Сұрақ", "Вопрос", "Question", "Подсказка")
        assert (form_field.required, form_field.is_identifying, form_field.is_public) == (
            True, True, True)
        assert (form_field.category_id, form_field.nominator_kinds, form_field.position) == (
            None, None, 2)
        for name, value in stored.items():
            assert getattr(form_field, name) == value
        field_id = form_field.id
    page = text_of(admin_client.get(f"/admin/calls/{seeded['call']}/form"))
    assert row_cells(page, f"field-{field_id}")[:6] == [
        "2", "Question", "answer", str(FIELD_TYPE_LABELS[kind]),
        "All categories all nominators", "required identifying public"]
    [ev] = audit_events(app, "form_field.create")
    assert (ev.actor_id, ev.object_id, ev.call_id) == (admin.id, str(field_id), seeded["call"])
    assert ev.after_data()["type"] == kind.value


# What the edit page shows again for the settings posted in FIELD_TYPES.
SHOWN_SETTINGS = {
    FieldType.SHORT_TEXT: {"max_length": "300"},
    FieldType.LONG_TEXT: {"max_length": "3000"},
    FieldType.NUMBER: {"min_value": "1900", "max_value": "2027"},
    FieldType.EMAIL: {"max_length": "254"},
    FieldType.URL: {"max_length": "500"},
    FieldType.PHONE: {"max_length": "40"},
    FieldType.SINGLE_CHOICE: {"options": "almaty | Алматы | Алматы | Almaty\n"
                                         "abroad | За рубежом | За рубежом | За рубежом"},
    FieldType.MULTIPLE_CHOICE: {"options": "sdg1 | sdg1 | sdg1 | sdg1\n"
                                           "sdg2 | ЦУР 2 | ТДМ 2 | SDG 2"},
    FieldType.FILE: {"file_types": ["pdf", "png"], "file_max_mb": "5", "file_max_count": "3"},
    FieldType.AUTHORS: {"options": "director | Режиссёр | Режиссер | Director"},
}


def shown_settings(page: str) -> dict:
    shown = {}
    for name in ("max_length", "min_value", "max_value", "file_max_mb", "file_max_count"):
        if f'name="{name}"' in page:
            shown[name] = input_value(page, name)
    match = re.search(r'<textarea[^>]*name="options"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    if match:
        shown["options"] = match.group(1)
    if 'name="file_types"' in page:
        shown["file_types"] = re.findall(
            r'<input checked id="file_types-\d" name="file_types" type="checkbox" value="(\w+)">',
            page)
    return shown


@pytest.mark.parametrize(("kind", "settings"), [(t[0], t[1]) for t in FIELD_TYPES],
                         ids=[t[0].value for t in FIELD_TYPES])
def test_form_field_edit_page_shows_saved_settings(app, admin_client, seeded, kind, settings):
    post_form(admin_client, f"/admin/calls/{seeded['call']}/form/new/{kind.value}",
              question(**settings))
    with in_db(app) as db:
        field_id = db.scalar(select(FormField.id).where(FormField.key == "answer"))
    response = admin_client.get(f"/admin/calls/{seeded['call']}/form/{field_id}/edit")
    assert response.status_code == 200
    page = text_of(response)
    assert input_value(page, "key") == "answer"
    assert shown_settings(page) == SHOWN_SETTINGS.get(kind, {})


def test_form_field_limited_to_category_and_nominator_kinds(app, admin_client, seeded):
    url = f"/admin/calls/{seeded['call']}/form/new/short_text"
    response = post_form(admin_client, url, question(
        category_id=str(seeded["category"]), nominator_kinds=["organisation", "other"]))
    assert response.status_code == 302
    with in_db(app) as db:
        form_field = db.scalar(select(FormField).where(FormField.key == "answer"))
        assert form_field.category_id == seeded["category"]
        assert form_field.nominator_kinds == ["other", "organisation"]
    page = text_of(admin_client.get(f"/admin/calls/{seeded['call']}/form"))
    assert row_cells(page, f"field-{form_field.id}")[4] == (
        "Social Helper Another person nominates, An organisation nominates")


def test_form_field_category_of_another_call_is_refused(app, admin_client, seeded):
    with in_db(app) as db:
        other = Call(programme_id=seeded["programme"], slug="other", reference_prefix="OT",
                     year=2026, title_ru="Другой", opens_at=datetime(2026, 1, 1, tzinfo=UTC),
                     closes_at=datetime(2026, 2, 1, tzinfo=UTC))
        other.categories.append(Category(code="x", name_ru="X"))
        db.add(other)
        db.commit()
        foreign = other.categories[0].id
    response = post_form(admin_client, f"/admin/calls/{seeded['call']}/form/new/short_text",
                         question(category_id=str(foreign)))
    assert response.status_code == 400
    assert error_of(text_of(response), "category_id") == "Not a valid choice."


def test_form_field_duplicate_key_shows_error(app, admin_client, seeded):
    response = post_form(admin_client, f"/admin/calls/{seeded['call']}/form/new/date",
                         question(key="bio"))
    assert response.status_code == 400
    assert error_of(text_of(response), "key") == (
        "This form already has a question with this key.")
    with in_db(app) as db:
        assert db.scalar(select(func.count(FormField.id))) == 1


@pytest.mark.parametrize(("kind", "settings", "field", "message"), [
    ("number", {"min_value": "10", "max_value": "5"}, "max_value",
     "The maximum must not be below the minimum."),
    ("single_choice", {"options": ""}, "options", "Enter at least one option."),
    ("multiple_choice", {"options": "a | A\na | B"}, "options", "The value “a” appears twice."),
    ("single_choice", {"options": " | Без значения"}, "options",
     "Line 1 has no value before the first |."),
    ("file", {"file_max_mb": "5", "file_max_count": "1"}, "file_types",
     "Allow at least one file type."),
    ("file", {"file_types": ["pdf"], "file_max_mb": "500", "file_max_count": "1"},
     "file_max_mb", "Enter a size above 0 and at most 50 MB."),
    ("file", {"file_types": ["exe"], "file_max_mb": "5", "file_max_count": "1"}, "file_types",
     "'exe' is not a valid choice for this field."),
    ("short_text", {"key": "Bad Key"}, "key",
     "Start with a Latin letter; then use lower-case Latin letters, digits and underscores."),
    ("email", {"label_kk": "", "label_ru": "", "label_en": ""}, "label_ru",
     "Enter the question in at least one language."),
])
def test_form_field_invalid_settings_show_error_on_field(app, admin_client, seeded, kind,
                                                         settings, field, message):
    response = post_form(admin_client, f"/admin/calls/{seeded['call']}/form/new/{kind}",
                         question(**settings))
    assert response.status_code == 400
    assert error_of(text_of(response), field) == message


def test_form_field_unknown_type_is_404(admin_client, seeded):
    assert admin_client.get(f"/admin/calls/{seeded['call']}/form/new/signature").status_code == 404


def test_form_field_edit_keeps_type_and_audits_change(app, admin_client, seeded):
    url = f"/admin/calls/{seeded['call']}/form/{seeded['field']}/edit"
    response = post_form(admin_client, url, question(key="bio", label_en="Life story",
                                                     label_ru="Биография", label_kk="",
                                                     help_ru="", max_length="2000"))
    assert response.status_code == 302
    with in_db(app) as db:
        form_field = db.get(FormField, seeded["field"])
        assert (form_field.type, form_field.label_en, form_field.max_length) == (
            FieldType.LONG_TEXT, "Life story", 2000)
    [ev] = audit_events(app, "form_field.update")
    assert ev.before_data() == {"label_en": "Biography", "max_length": None}
    assert ev.after_data() == {"label_en": "Life story", "max_length": 2000}


def test_form_field_delete_without_answers_removes_it(app, admin_client, seeded):
    url = f"/admin/calls/{seeded['call']}/form"
    page = text_of(admin_client.get(url))
    assert 'data-confirm="Delete the question “Biography”?"' in page
    response = post_form(admin_client, f"{url}/{seeded['field']}/delete", csrf_url=url)
    assert response.status_code == 302
    with in_db(app) as db:
        assert db.get(FormField, seeded["field"]) is None
    assert "No questions yet — add the first one." in text_of(admin_client.get(url))
    [ev] = audit_events(app, "form_field.delete")
    assert ev.before_data()["key"] == "bio"


def test_form_field_delete_with_answers_is_refused(app, admin_client, seeded):
    with in_db(app) as db:
        nomination = Nomination(call_id=seeded["call"], category_id=seeded["category"],
                                nominator_kind=NominatorKind.SELF)
        nomination.answers.append(Answer(field_id=seeded["field"], value="Я волонтёр"))
        db.add(nomination)
        db.commit()
    url = f"/admin/calls/{seeded['call']}/form"
    response = post_form(admin_client, f"{url}/{seeded['field']}/delete", csrf_url=url,
                         follow_redirects=True)
    assert response.status_code == 200
    assert ("Nominations already answer this question, so it cannot be deleted. You can make it "
            "optional or limit it to a category instead.") in text_of(response)
    with in_db(app) as db:
        assert db.get(FormField, seeded["field"]) is not None
    assert audit_events(app, "form_field.delete") == []


def test_form_field_reorder(app, admin_client, seeded):
    url = f"/admin/calls/{seeded['call']}/form"
    post_form(admin_client, f"{url}/new/email", question(key="email"))
    with in_db(app) as db:
        email_id = db.scalar(select(FormField.id).where(FormField.key == "email"))
    response = post_form(admin_client, f"{url}/{email_id}/move/up", csrf_url=url)
    assert response.status_code == 302
    with in_db(app) as db:
        assert db.scalars(select(FormField.key).order_by(FormField.position)).all() == [
            "email", "bio"]
    page = text_of(admin_client.get(url))
    assert re.findall(r'<tr id="field-(\d+)">', page) == [str(email_id), str(seeded["field"])]
    [ev] = audit_events(app, "form_field.move")
    assert ev.after_data() == {"order": ["email", "bio"]}


def test_form_builder_page_offers_every_type(admin_client, seeded):
    page = text_of(admin_client.get(f"/admin/calls/{seeded['call']}/form"))
    offered = re.findall(rf'/admin/calls/{seeded["call"]}/form/new/(\w+)"', page)
    assert offered == [kind.value for kind in FieldType]


# ---- the demo's real calls --------------------------------------------------------------------


class _FormReader(HTMLParser):
    """Collects what a browser would submit from the first POST form with a submit button."""

    def __init__(self):
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self._in_form = self._done = False
        self._select = self._textarea = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and a.get("method") == "post" and "action" not in a:
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.data.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.data.append((self._textarea, self._text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def browser_payload(page: str) -> MultiDict:
    reader = _FormReader()
    reader.feed(page)
    return MultiDict(reader.data)


@pytest.fixture
def demo(app):
    from awards.demo import seed_demo

    with in_db(app) as db:
        seed_demo(db)
        db.commit()
        return db.scalars(select(Call.id).order_by(Call.id)).all()


def test_demo_call_pages_render_and_saving_them_unchanged_changes_nothing(app, admin_client, demo):
    for call_id in demo:
        with in_db(app) as db:
            call = db.get(Call, call_id)
            category_ids = [c.id for c in call.categories]
            field_ids = [f.id for f in call.fields]
        urls = [f"/admin/calls/{call_id}", f"/admin/calls/{call_id}/categories",
                f"/admin/calls/{call_id}/form", f"/admin/calls/{call_id}/clone"]
        urls += [f"/admin/calls/{call_id}/categories/{c}/edit" for c in category_ids]
        assert [admin_client.get(url).status_code for url in urls] == [200] * len(urls)
        for url in [f"/admin/calls/{call_id}/edit",
                    *(f"/admin/calls/{call_id}/form/{f}/edit" for f in field_ids)]:
            page = admin_client.get(url).get_data(as_text=True)
            response = admin_client.post(url, data=browser_payload(page))
            assert response.status_code == 302, url

    # The one difference: the photo question's "jpg" is the "jpeg" uploads already meant.
    with in_db(app) as db:
        photo = db.scalar(select(FormField.id).where(FormField.key == "photo"))
    assert [(e.object_id, e.before_data(), e.after_data()) for e in audit_events(app)] == [
        (str(photo), {"file_types": ["jpg", "jpeg", "png"]}, {"file_types": ["jpeg", "png"]}),
    ]
