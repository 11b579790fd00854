"""Setting up the public stage (times in the call's zone, entries, rules), and the public
profile pages with their photo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.db import utcnow
from awards.enums import StageKind, VoteTieRule
from awards.public_stage.models import PublicStage, StageEntry
from tests.conftest import post_form
from tests.factories import arrange, english, read
from tests.jury_factories import make_account, make_entry
from tests.public_stage_factories import SLUG, public_world, stage_call


def _setup_world(s):
    make_account(s, "admin@example.com", admin=True)
    applicant = make_account(s, "applicant@example.com")
    call = stage_call(s)
    ids = [make_entry(s, call, applicant=applicant, with_files=False,
                      nominee_name=f"Nominee {i}").id for i in range(3)]
    return call.id, ids


FORM = {"kind": "vote", "opens_at": "2030-03-01T09:00", "closes_at": "2030-03-10T18:00",
        "advance_per_category": "10", "tie_rule": "earlier_submission",
        "votes_changeable": "y", "show_counts_to_jury": ""}


def test_admin_creates_stage_with_local_times_and_all_eligible_entries(app, client, login_as):
    call_id, ids = arrange(app, _setup_world)
    login_as("admin@example.com")
    url = f"/admin/public-stage/{call_id}"
    assert client.get(url).status_code == 200
    response = post_form(english(client), url, FORM)
    assert response.status_code == 303
    stage = read(app, lambda s: s.scalar(select(PublicStage)))
    # Asia/Almaty is UTC+5.
    assert stage.opens_at == datetime(2030, 3, 1, 4, 0, tzinfo=UTC)
    assert stage.closes_at == datetime(2030, 3, 10, 13, 0, tzinfo=UTC)
    assert (stage.kind, stage.tie_rule, stage.advance_per_category) == (
        StageKind.VOTE, VoteTieRule.EARLIER_SUBMISSION, 10)
    assert (stage.votes_changeable, stage.show_counts_to_jury) == (True, False)
    assert read(app, lambda s: sorted(s.scalars(select(StageEntry.nomination_id)))) == ids
    assert read(app, lambda s: s.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "public_stage.create"))) == "public_stage.create"


def test_stage_with_close_before_opening_is_refused_and_input_kept(app, client, login_as):
    call_id, _ids = arrange(app, _setup_world)
    login_as("admin@example.com")
    response = post_form(english(client), f"/admin/public-stage/{call_id}",
                         {**FORM, "closes_at": "2030-02-01T09:00"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The close must come after the opening." in page
    assert 'value="2030-02-01T09:00"' in page
    assert read(app, lambda s: s.scalar(select(PublicStage))) is None


def test_admin_chooses_entries_before_opening(app, client, login_as):
    call_id, ids = arrange(app, _setup_world)
    login_as("admin@example.com")
    post_form(english(client), f"/admin/public-stage/{call_id}", FORM)
    url = f"/admin/public-stage/{call_id}/entries"
    response = post_form(client, url, {"nomination_id": [str(ids[0]), str(ids[2])]})
    assert response.status_code == 303
    assert read(app, lambda s: sorted(s.scalars(select(StageEntry.nomination_id)))) == [
        ids[0], ids[2]]


def test_entries_cannot_change_once_open(app, client, login_as):
    world = arrange(app, public_world)
    login_as(world.admin_email)
    response = post_form(english(client), f"/admin/public-stage/{world.call_id}/entries",
                         {"nomination_id": [str(world.refs[world.references[0]])]})
    assert response.status_code == 409
    assert read(app, lambda s: len(s.scalars(select(StageEntry)).all())) == 5


def test_admin_pages_are_for_admins_only(app, client, make_user, login_as):
    world = arrange(app, public_world)
    assert client.get(f"/admin/public-stage/{world.call_id}").status_code == 302
    make_user("someone@example.com")
    login_as("someone@example.com")
    assert client.get(f"/admin/public-stage/{world.call_id}").status_code == 403


def test_profile_shows_public_answers_and_photo_only(app, client):
    world = arrange(app, lambda s: public_world(s, photo=True))
    ref = world.references[0]
    page = english(client).get(f"/public/{SLUG}/{ref}").get_data(as_text=True)
    assert "Aigerim Sadykova" in page
    assert "Clean rivers" in page and "We cleaned 12 rivers." in page
    assert "Known in Shymkent" not in page  # contact_email is not public
    assert f'src="/public/{SLUG}/{ref}/photo"' in page
    photo = client.get(f"/public/{SLUG}/{ref}/photo")
    assert (photo.status_code, photo.mimetype) == (200, "image/png")


def test_pages_and_photo_hidden_before_the_stage_opens(app, client):
    world = arrange(app, lambda s: public_world(s, photo=True,
                                                opens_at=utcnow() + timedelta(days=1)))
    ref = world.references[0]
    assert client.get(f"/public/{SLUG}/").status_code == 404
    assert client.get(f"/public/{SLUG}/{ref}").status_code == 404
    assert client.get(f"/public/{SLUG}/{ref}/photo").status_code == 404


def test_candidate_list_groups_entries_by_category(app, client):
    world = arrange(app, public_world)
    page = english(client).get(f"/public/{SLUG}/").get_data(as_text=True)
    assert page.index("Social Helper") < page.index("Bolat Nurlanov") < page.index(
        "Environmental Volunteering") < page.index("Clean Lakes")
    assert all(ref in page for ref in world.references)


@pytest.mark.parametrize(("lang", "category"), [("ru", "Социальный помощник"),
                                               ("kk", "Әлеуметтік көмекші")])
def test_candidate_list_shows_categories_in_the_readers_language(app, client, lang, category):
    arrange(app, public_world)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    page = client.get(f"/public/{SLUG}/").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert category in page
