"""The demo (``flask awards seed``) is always "now": whenever it is loaded, its dates stand
around that moment, so a newcomer finds a call open for nominations with the demo applicant's
entries in it, a people's vote in progress, a jury round being scored, a commission ready to
vote and last year's published results. Checked through the pages, with the clock pinned."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from awards.auth.models import User
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.commission import demo as commission_demo
from awards.commission.models import BallotBox
from awards.demo import (
    ABAI_SLUG,
    ADMIN,
    APPLICANT,
    DEMO_PASSWORD,
    JURORS,
    NOW_VARIABLE,
    VOY_SLUG,
    abai_slug,
    demo_now,
    flagship_slug,
    seed_demo,
    voy_slug,
)
from awards.enums import CallStatus, NominatorKind
from awards.jury.models import JuryMember, Round
from awards.nominations.models import Nomination
from awards.public_stage.models import PublicStage
from awards.results.models import Certificate
from tests.conftest import login, post_form
from tests.factories import english
from tests.public_stage_factories import act_as_voter, make_voter

ALMATY = ZoneInfo("Asia/Almaty")
# Early in the winter (the day this was written), in the spring and in the summer.
NOWS = [datetime(2026, 12, 6, 11, 0, tzinfo=ALMATY), datetime(2027, 3, 15, 9, 30, tzinfo=ALMATY),
        datetime(2027, 8, 1, 18, 0, tzinfo=ALMATY)]


def _counts(session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (User, Programme, Call, Category, AwardLevel, FormField, Round, JuryMember)
    }


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _as(app, email: str):
    """A browser of its own, logged in as ``email``, reading English."""
    client = english(app.test_client())
    assert login(client, email, DEMO_PASSWORD).status_code == 302
    # The demo accounts prefer Russian; the visitor switches, as the page's menu does.
    assert post_form(client, "/language/en", {}, csrf_url="/").status_code == 302
    return client


@pytest.mark.parametrize("now", NOWS, ids=lambda d: d.date().isoformat())
def test_the_demo_shows_every_state_whenever_it_is_loaded(app, db, client, now):
    year = now.year
    with time_machine.travel(now, tick=False):
        assert seed_demo(db) is True
        db.commit()
        english(client)

        # A call open for nominations: the flagship, this year's, listed and open.
        listing = _text(client.get("/calls/"))
        assert f'href="/calls/{voy_slug(year)}"' in listing
        assert f"Volunteer of the Year {year}" in listing
        call_page = _text(client.get(f"/calls/{voy_slug(year)}"))
        assert 'href="/nominations/' in call_page  # the way to nominate is offered

        # The demo applicant holds a draft, a submitted entry and one sent back for changes.
        mine = _text(_as(app, APPLICANT).get("/nominations/"))
        assert mine.count(f"Volunteer of the Year {year}") >= 3
        for state in ("Draft", "Submitted", "Changes requested"):
            assert state in mine, state
        assert re.search(rf"VOY-{year}-0000[12]", mine)

        # A people's vote in progress: a verified voter's vote is counted.
        vote_slug = f"young-volunteer-{year}"
        vote_page = _text(client.get(f"/public/{vote_slug}/"))
        reference = re.search(rf"/public/{vote_slug}/(YVY-{year}-\d{{5}})", vote_page).group(1)
        voter = make_voter(db, "visitor@example.org")
        db.commit()
        act_as_voter(client, voter.id)
        entry = _text(client.get(f"/public/{vote_slug}/{reference}"))
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', entry).group(1)
        voted = client.post(f"/public/{vote_slug}/{reference}/vote", data={"csrf_token": token})
        assert voted.status_code == 303
        assert "Your vote is counted." in _text(client.get(voted.headers["Location"]))

        # A jury round being scored: jury1 has reviews submitted, a draft and work to do.
        dashboard = _text(_as(app, JURORS[0]).get("/jury/"))
        assert f"Volunteer Project of the Year {year}" in dashboard
        progress = re.findall(r'class="progress-count"[^>]*>\s*(\d+)/(\d+)', dashboard)
        assert progress and all(0 < int(done) < int(total) for done, total in progress)
        assert 'id="next-unscored"' in dashboard
        assert "Draft" in dashboard

        # A commission ready to vote: the ballot is open to its members.
        member = _as(app, "commission1@example.com")
        commission = _text(member.get("/commission/"))
        # Last year's edition: the one before this year's call, open for nominations.
        assert f"Abai State Prize {year - 1} · Commission" in commission
        ballot = re.search(r'href="(/commission/rounds/\d+)"', commission).group(1)
        assert 'type="submit"' in _text(member.get(ballot))

        # Last year's published results, with winners, citations and verifiable diplomas.
        last = f"volunteer-of-the-year-{year - 1}"
        assert f'href="/results/{last}"' in _text(client.get("/results/"))
        results = _text(client.get(f"/results/{last}"))
        assert f"Volunteer of the Year {year - 1}" in results
        assert "For cleaning 40 kilometres of the Ili river bank." in results
        code, recipient = db.execute(select(Certificate.code, Certificate.recipient_name)
                                     .order_by(Certificate.id).limit(1)).one()
        diploma = _text(client.get(f"/certificates/{code}", follow_redirects=True))
        assert recipient in diploma
        assert f"Volunteer of the Year {year - 1}" in diploma


@pytest.mark.parametrize("now", NOWS, ids=lambda d: d.date().isoformat())
def test_the_calls_dates_stand_around_the_demos_now(db, now):
    seed_demo(db, now=now)
    db.commit()
    calls = {c.slug: c for c in db.scalars(select(Call))}
    voy, abai = calls[voy_slug(now.year)], calls[abai_slug(now.year)]
    assert voy.status == CallStatus.OPEN and voy.opens_at < now < voy.closes_at
    assert (voy.closes_at - now).days >= 14  # some weeks to nominate
    assert voy.is_open_at(now)
    assert abai.is_open_at(now)
    assert all(r.opens_at > voy.closes_at for r in voy.rounds)
    assert calls[f"volunteer-of-the-year-{now.year - 1}"].status == CallStatus.PUBLISHED
    assert calls[f"volunteer-project-{now.year}"].rounds[0].closes_at > now
    # The rules name the real dates of the call.
    assert voy.closes_at.astimezone(ALMATY).strftime("%-d %B %Y") in voy.rules_en
    assert flagship_slug(db) == voy_slug(now.year)


@pytest.mark.parametrize("now", NOWS, ids=lambda d: d.date().isoformat())
def test_the_abai_edition_before_the_open_call_is_at_its_commission_stage(db, now):
    seed_demo(db, now=now)
    db.commit()
    editions = {c.year: c for c in db.scalars(
        select(Call).join(Programme).where(Programme.slug == "abai-state-prize"))}
    # This year's call takes nominations, last year's is before its commission: no year skipped.
    assert sorted(editions) == [now.year - 1, now.year]
    assert editions[now.year].is_open_at(now)
    final = editions[now.year - 1]
    assert (final.slug, final.title_en) == (commission_demo.slug(now.year - 1),
                                            f"Abai State Prize {now.year - 1}")
    assert f"— {now.year - 1}" in final.title_kk and f"— {now.year - 1}" in final.title_ru
    assert final.status == CallStatus.JUDGING
    # Its nominations closed months ago, within its own year; the works were sent in time.
    closed = final.closes_at.astimezone(ALMATY)
    assert closed.year == now.year - 1
    assert (now - final.closes_at).days >= 120
    assert final.opens_at < final.closes_at
    entries = db.scalars(select(Nomination).where(Nomination.call_id == final.id)
                         .order_by(Nomination.reference)).all()
    assert [n.reference for n in entries] == [
        f"ABAI-{now.year - 1}-{n:05d}" for n in range(1, 7)]
    assert all(final.opens_at <= n.submitted_at <= final.closes_at for n in entries)
    # The public discussion was held after that, and is over.
    stage = db.scalar(select(PublicStage).where(PublicStage.call_id == final.id))
    assert final.closes_at < stage.opens_at < stage.closes_at < stage.closed_at < now
    # The commission's ballot is open now, and was not before the discussion ended.
    round_ = final.rounds[0]
    box = db.scalar(select(BallotBox).where(BallotBox.round_id == round_.id))
    assert round_.is_open_at(now)
    assert stage.closed_at < round_.opens_at < now and stage.closed_at < box.opened_at <= now
    # The authors' consents were asked for after the works were sent in.
    asked = [a.consent_requested_at for n in entries for a in n.authors if a.email]
    assert asked and all(final.closes_at < when < now for when in asked)


def test_seed_demo_twice_creates_the_data_once_even_a_year_later(db):
    assert seed_demo(db, now=NOWS[0]) is True
    db.commit()
    first = _counts(db)

    assert seed_demo(db) is False
    db.commit()
    # The demo keeps the moment it was loaded at: a later load adds no new editions.
    assert seed_demo(db, now=NOWS[2]) is False
    db.commit()

    assert _counts(db) == first
    # The two demo calls, last year's edition with published results, a small call in its
    # public vote, a call whose jury is scoring, and the Abai prize's final stage with its
    # commission of nine.
    assert first == {"User": 16, "Programme": 2, "Call": 6, "Category": 31, "AwardLevel": 47,
                     "FormField": 20, "Round": 4, "JuryMember": 19}


def test_demo_now_comes_from_the_argument_the_variable_or_the_clock(monkeypatch):
    monkeypatch.setenv(NOW_VARIABLE, "2027-03-15")
    assert demo_now() == datetime(2027, 3, 14, 19, 0, tzinfo=UTC)  # midnight in Almaty
    assert demo_now(NOWS[2]) == NOWS[2]
    monkeypatch.setenv(NOW_VARIABLE, "2027-03-15T10:00:00+00:00")
    assert demo_now() == datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
    monkeypatch.setenv(NOW_VARIABLE, "next tuesday")
    with pytest.raises(ValueError, match=NOW_VARIABLE):
        demo_now()
    monkeypatch.delenv(NOW_VARIABLE)
    with time_machine.travel(NOWS[1], tick=False):
        assert demo_now() == NOWS[1]


def test_seed_demo_volunteer_call_is_open_until_the_end_of_its_last_day_in_almaty(db):
    seed_demo(db, now=NOWS[0])
    db.commit()
    db.expire_all()
    call = db.scalar(select(Call).where(Call.slug == voy_slug(2026)))

    assert call.status == CallStatus.OPEN
    assert call.reference_prefix == "VOY"
    assert call.year == 2026
    assert call.title_en == "Volunteer of the Year 2026"
    # 45 days before 6 December, at midnight, to 25 days after it, at 23:59:59 (Almaty, +5).
    assert call.opens_at == datetime(2026, 10, 21, 19, 0, 0, tzinfo=UTC)
    assert call.closes_at == datetime(2026, 12, 31, 18, 59, 59, tzinfo=UTC)
    assert call.opens_at.tzinfo == UTC
    assert call.is_open_at(call.closes_at) is True
    assert call.has_closed_at(call.closes_at) is False
    assert sorted(call.allowed_nominator_kinds) == ["organisation", "other", "self"]
    assert [c.position for c in call.categories] == list(range(1, 16))
    assert [level.key for level in call.categories[0].award_levels] == ["winner",
                                                                        "special-mention"]
    assert [r.name_en for r in call.rounds] == ["Long list", "Final"]
    rubric = call.rounds[0].rubric
    assert [(c.key, c.weight) for c in rubric.criteria] == [
        ("impact", 0.4), ("scale", 0.2), ("innovation", 0.2), ("sustainability", 0.2)]
    members = call.panels[0].members
    assert next((m.email, m.is_chair, m.is_active) for m in members) == (
        "jury1@example.com", True, True)
    assert all(m.user_id is not None for m in members)


def test_seed_demo_abai_call_takes_organisation_nominations_only(db):
    seed_demo(db)
    db.commit()
    call = db.scalar(select(Call).where(Call.slug == ABAI_SLUG))

    assert call.allowed_nominator_kinds == [NominatorKind.ORGANISATION]
    assert call.accepts_nominator(NominatorKind.SELF) is False
    assert [c.code for c in call.categories] == [
        "literature", "cinema", "music", "theatre", "architecture", "fine-arts"]
    assert [f.key for f in call.fields] == [
        "work_title", "authors", "publisher", "year", "description", "works"]


def test_seed_demo_admin_can_log_in(app, db, client):
    seed_demo(db)
    db.commit()

    response = login(client, ADMIN, DEMO_PASSWORD)

    assert response.status_code == 302


def test_the_screenshots_work_in_progress_builds_on_the_demo(app, client):
    """tests/ui_factories.busy_demo (the browser tests' and README screenshots' world) adds its
    entries after the demo applicant's own, in the flagship call."""
    from tests.factories import arrange
    from tests.ui_factories import busy_demo

    world = arrange(app, busy_demo)

    assert world.call_slug == VOY_SLUG
    with app.app_context():
        from awards.db import get_db
        from awards.nominations.models import Nomination

        references = get_db().scalars(select(Nomination.reference).where(
            Nomination.call_id == world.call_id, Nomination.reference.is_not(None))).all()
    assert len(references) == len(set(references)) == 14
    assert client.get(f"/calls/{world.call_slug}").status_code == 200


@pytest.mark.parametrize("raw", ["next tuesday", "2027-13-01", "01.08.2027"])
def test_flask_awards_seed_reports_a_mistyped_demo_now_in_one_line(app, db, monkeypatch, raw):
    monkeypatch.setenv(NOW_VARIABLE, raw)

    result = app.test_cli_runner().invoke(args=["awards", "seed"])

    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert NOW_VARIABLE in lines[0] and repr(raw) in lines[0] and "2027-03-15" in lines[0]
    assert "Traceback" not in result.output
    assert db.scalar(select(func.count()).select_from(User)) == 0  # nothing half-loaded


def test_flask_awards_seed_builds_the_demo_around_the_demo_now_given(app, db, monkeypatch):
    monkeypatch.setenv(NOW_VARIABLE, "2027-08-01")

    result = app.test_cli_runner().invoke(args=["awards", "seed"])

    assert (result.exit_code, result.output) == (0, "demo data loaded\n")
    titles = db.scalars(select(Call.title_en).where(Call.title_en.like("Abai%"))
                        .order_by(Call.year)).all()
    assert titles == ["Abai State Prize 2026", "Abai State Prize 2027"]
    again = app.test_cli_runner().invoke(args=["awards", "seed"])
    assert (again.exit_code, again.output) == (0, "demo data already present\n")
