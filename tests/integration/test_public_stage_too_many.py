"""A rate limit met on the public stage's vote or comment answers the site's own translated
"Too many requests" page, saying when to come back (one Retry-After header)."""

from __future__ import annotations

import pytest

from awards import create_app
from awards.enums import StageKind
from tests.conftest import get_csrf, post_form
from tests.factories import arrange
from tests.public_stage_factories import SLUG, act_as_voter, make_voter, public_world


def _russian(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    return client


@pytest.fixture
def limited(app_config):
    made = []

    def build(**limits):
        made.append(create_app({**app_config, "RATELIMIT_ENABLED": True, **limits}))
        return made[-1]
    yield build
    for one in made:
        one.extensions["awards_db"]["engine"].dispose()


def _assert_translated_wait(answer):
    assert answer.status_code == 429
    waits = answer.headers.getlist("Retry-After")
    assert len(waits) == 1 and 1 <= int(waits[0]) <= 60
    page = answer.get_data(as_text=True)
    assert "Слишком много запросов" in page
    assert answer.mimetype == "text/html"


def test_comment_over_the_limit_answers_the_translated_page_with_the_wait(app, limited):
    world = arrange(app, lambda s: public_world(s, kind=StageKind.DISCUSSION))
    voter_id = arrange(app, lambda s: make_voter(s, "talker@example.org").id)
    site = limited(RATELIMIT_PUBLIC_COMMENT="1 per minute")
    client = _russian(site.test_client())
    act_as_voter(client, voter_id)
    url = f"/public/{SLUG}/{world.references[0]}"
    answers = [post_form(client, f"{url}/comment", {"author_name": "Dana",
                                                     "body": f"Comment {i}"}, csrf_url=url)
               for i in range(2)]
    assert answers[0].status_code == 303
    _assert_translated_wait(answers[1])


def test_vote_over_the_limit_answers_the_translated_page_with_the_wait(app, limited):
    world = arrange(app, public_world)
    ids = arrange(app, lambda s: [make_voter(s, f"w{i}@example.org").id for i in range(2)])
    site = limited(RATELIMIT_PUBLIC_VOTE="1 per minute")
    answers = []
    for voter_id in ids:
        client = _russian(site.test_client())
        act_as_voter(client, voter_id)
        page = f"/public/{SLUG}/{world.references[0]}"
        answers.append(client.post(f"{page}/vote", data={"csrf_token": get_csrf(client, page)},
                                   environ_base={"REMOTE_ADDR": "203.0.113.9"}))
    assert answers[0].status_code == 303
    _assert_translated_wait(answers[1])
