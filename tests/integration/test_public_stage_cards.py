"""The people's vote as a list of candidate cards: photo (or a neutral placeholder), the work's
title, the name, the reference on its own line, and a vote button on each card: one tap for a
confirmed voter, the way to confirming the e-mail (and back) for anyone else. A voter sees whom
they voted for in each category, on the list and on the candidate's page; a page with a voter
is never shared by the page cache. Candidates' pages carry a share card (Open Graph / Twitter)
and share links."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import func, select

from awards.calls.models import FormField
from awards.nominations.models import Answer
from awards.public_stage.models import PublicVote
from tests.conftest import csrf_from
from tests.factories import arrange, english, read
from tests.public_stage_factories import SLUG, act_as_voter, make_voter, public_world

LIST = f"/public/{SLUG}/"
TITLES = ["Rivers without plastic", "Warm meals for elders", "Reading to children",
          "The steppe patrol", "Lakes we swim in"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CACHE_URL": "simple://"}


def titled_world(session):
    """The public world (a photo for the first entry), each work with its own title."""
    world = public_world(session, photo=True)
    for nomination_id, title in zip(world.refs.values(), TITLES, strict=True):
        answer = session.scalar(
            select(Answer).join(FormField, FormField.id == Answer.field_id)
            .where(Answer.nomination_id == nomination_id, FormField.key == "title"))
        answer.value = title
    session.flush()
    return world


@pytest.fixture
def world(app):
    return arrange(app, titled_world)


def cards(page: str) -> dict[str, str]:
    """{reference: the card's HTML} of a list page."""
    return dict(re.findall(r'<li class="card candidate[^"]*" id="entry-([^"]+)"(.*?)</li>',
                           page, re.S))


def text(fragment: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


def meta_of(page: str, name: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


def test_cards_show_photo_title_name_reference_and_a_way_to_vote(client, world):
    response = english(client).get(LIST)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = cards(page)
    assert list(found) == world.references[:3] + world.references[3:]  # every entry has a card
    first, second = world.references[0], world.references[1]

    card = found[first]
    assert f'<img class="candidate-photo" src="/public/{SLUG}/{first}/photo"' in card
    assert '<p class="candidate-work">Rivers without plastic</p>' in card
    assert re.search(rf'<h3 class="candidate-name"[^>]*><a href="/public/{SLUG}/{first}">'
                     r"Aigerim Sadykova</a></h3>", card)
    # The reference on its own line, not inside the name's line.
    assert f'<p class="reference">{first}</p>' in card
    assert "candidate-photo placeholder" in found[second]  # no photo: a neutral placeholder
    assert "Warm meals for elders" in found[second]

    # Not confirmed yet: the card's vote button leads to confirming the e-mail, then back here.
    link = re.search(r'<a class="button primary vote-link" href="([^"]+)"', card).group(1)
    target = urlsplit(html.unescape(link))
    assert target.path == f"/public/{SLUG}/verify"
    assert unquote(parse_qs(target.query)["next"][0]) == f"{LIST}#entry-{first}"
    # Anonymous: the same page for everyone, from the shared cache, without a form token.
    assert 'name="csrf_token"' not in page
    assert client.get(LIST).headers["X-Page-Cache"] == "hit"


def test_one_tap_vote_from_a_card_comes_back_to_the_list_and_says_whom(app, client, world):
    voter_id = arrange(app, lambda s: make_voter(s, "card@example.org").id)
    act_as_voter(english(client), voter_id)
    first, second = world.references[0], world.references[1]

    response = client.get(LIST)
    assert response.headers["X-Page-Cache"] == "bypass"  # a voter's page is their own
    page = response.get_data(as_text=True)
    card = cards(page)[first]
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*data-vote>(.*?)</form>', card,
                     re.S)
    assert form.group(1) == f"/public/{SLUG}/{first}/vote"
    assert text(form.group(2)) == "Vote"
    next_url = re.search(r'name="next" value="([^"]+)"', form.group(2)).group(1)

    voted = client.post(form.group(1), data={"csrf_token": csrf_from(page), "next": next_url})
    assert voted.status_code == 303
    assert voted.headers["Location"] == f"{LIST}#entry-{first}"
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(PublicVote))) == 1

    page = client.get(LIST).get_data(as_text=True)
    assert "Thank you! Your vote is counted." in page
    social = page.split('aria-labelledby="cat-social"')[1].split("</section>")[0]
    status = re.search(r"<p class=\"vote-status[^\"]*\"[^>]*>(.*?)</p>", social, re.S).group(1)
    assert text(status).startswith("You voted for Aigerim Sadykova in this category.")
    assert "To change your vote, choose another entry below." in text(status)
    found = cards(page)
    assert "is-chosen" not in found[second]
    assert 'data-chosen-badge hidden' not in found[first]  # "Your vote" shows on her card
    assert "<form" not in found[first]  # no button to vote for her again
    assert text(re.search(r"<button[^>]*>(.*?)</button>", found[second], re.S).group(1)) \
        == "Move my vote here"
    # The other category knows no vote yet.
    ecology = page.split('aria-labelledby="cat-ecology"')[1].split("</section>")[0]
    assert "You voted for" not in text(ecology)

    # Another visitor gets the shared page: nobody's vote, nobody's form token.
    shared = english(app.test_client()).get(LIST)
    assert shared.headers["X-Page-Cache"] in ("hit", "miss")
    assert "You voted for" not in shared.get_data(as_text=True)
    assert 'name="csrf_token"' not in shared.get_data(as_text=True)

    entry = client.get(f"/public/{SLUG}/{first}").get_data(as_text=True)
    assert "You voted for Aigerim Sadykova in this category." in text(entry)
    assert "Change my vote" in entry
    other = client.get(f"/public/{SLUG}/{second}").get_data(as_text=True)
    status = re.search(r'<p class="notice notice-ok" id="vote-status">(.*?)</p>', other,
                       re.S).group(1)
    assert text(status) == "You voted for Aigerim Sadykova in this category."
    assert f'href="/public/{SLUG}/{first}"' in status
    assert "Change my vote to this entry" in other


def test_a_vote_that_cannot_change_shows_no_buttons_for_the_others(app, client):
    world = arrange(app, lambda s: public_world(s, votes_changeable=False))
    voter_id = arrange(app, lambda s: make_voter(s, "fixed@example.org").id)
    act_as_voter(english(client), voter_id)
    first = world.references[0]
    page = client.get(LIST).get_data(as_text=True)
    client.post(f"/public/{SLUG}/{first}/vote",
                data={"csrf_token": csrf_from(page), "next": LIST})
    page = client.get(LIST).get_data(as_text=True)
    social = page.split('aria-labelledby="cat-social"')[1].split("</section>")[0]
    assert "You voted for Aigerim Sadykova in this category." in text(social)
    assert "To change your vote" not in text(social)
    assert "<form" not in social
    assert "<form" in page.split('aria-labelledby="cat-ecology"')[1]  # still open there
    entry = client.get(f"/public/{SLUG}/{world.references[1]}").get_data(as_text=True)
    assert "Votes cannot be changed in this call." in entry
    assert "vote-form" not in entry


def test_an_unconfirmed_post_from_a_card_is_sent_to_confirm_and_back_to_the_list(client, world):
    first = world.references[0]
    english(client).get(LIST)
    page = client.get(f"/public/{SLUG}/verify").get_data(as_text=True)
    response = client.post(f"/public/{SLUG}/{first}/vote",
                           data={"csrf_token": csrf_from(page), "next": f"{LIST}#entry-{first}"})
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert target.path == f"/public/{SLUG}/verify"
    assert parse_qs(target.query)["next"] == [f"{LIST}#entry-{first}"]


def test_a_next_address_off_the_site_is_ignored(app, client, world):
    voter_id = arrange(app, lambda s: make_voter(s, "safe@example.org").id)
    act_as_voter(english(client), voter_id)
    first = world.references[0]
    page = client.get(LIST).get_data(as_text=True)
    response = client.post(f"/public/{SLUG}/{first}/vote",
                           data={"csrf_token": csrf_from(page), "next": "//evil.example/"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/public/{SLUG}/{first}"


def test_a_candidate_page_carries_its_share_card_and_links(client, world):
    first = world.references[0]
    page = english(client).get(f"/public/{SLUG}/{first}").get_data(as_text=True)

    def meta(name: str) -> str:
        return meta_of(page, name)

    assert meta("og:title") == "Aigerim Sadykova · Volunteer of the Year 2026"
    assert meta("og:image") == f"http://localhost/public/{SLUG}/{first}/photo"
    assert meta("twitter:image") == meta("og:image")
    assert meta("twitter:card") == "summary_large_image"
    assert meta("og:url") == f"http://localhost/public/{SLUG}/{first}"
    assert "Volunteer of the Year 2026" in meta("og:description")
    assert meta("og:locale") == "en_GB"
    # Share links: plain addresses, no third-party script on the page.
    shared = f"http%3A%2F%2Flocalhost%2Fpublic%2F{SLUG}%2F{first}"
    for start in ("https://t.me/share/url?url=", "https://www.facebook.com/sharer/sharer.php?u=",
                  "https://x.com/intent/post?url="):
        assert f'href="{start}{shared}' in page, start
    assert 'href="https://wa.me/?text=' in page
    assert re.findall(r'<script src="([^"]+)"', page) == [
        s for s in re.findall(r'<script src="([^"]+)"', page) if s.startswith("/static/")]
    assert f'value="http://localhost/public/{SLUG}/{first}" readonly' in page

    # Without a photo: the card has no image, and says so to the messenger.
    second = world.references[1]
    page = client.get(f"/public/{SLUG}/{second}").get_data(as_text=True)
    assert 'property="og:image"' not in page
    assert '<meta name="twitter:card" content="summary">' in page


def test_the_list_carries_its_share_card_and_links(client, world):
    page = english(client).get(LIST).get_data(as_text=True)
    assert meta_of(page, "og:title") == "People's vote · Volunteer of the Year 2026"
    assert meta_of(page, "og:url") == f"http://localhost{LIST}"
    assert meta_of(page, "og:locale") == "en_GB"
    listed = f"http://localhost{LIST}".replace(":", "%3A").replace("/", "%2F")
    assert f'href="https://t.me/share/url?url={listed}' in page


def test_a_title_the_form_does_not_mark_public_never_shows(app, client, world):
    def hide(session):
        field = session.scalar(select(FormField).where(FormField.key == "title"))
        field.is_public = False
    arrange(app, hide)
    page = english(client).get(LIST).get_data(as_text=True)
    assert "Rivers without plastic" not in page
    assert 'class="candidate-work"' not in page


def test_a_public_short_answer_that_is_not_the_title_question_never_shows_as_the_work(
        app, client, world):
    # The first public short answer is often the nominee's name: the card shows a work only
    # from the title question, never another answer in its place (as the results do).
    def rename(session):
        field = session.scalar(select(FormField).where(FormField.key == "title"))
        field.key = "slogan"
    arrange(app, rename)
    page = english(client).get(LIST).get_data(as_text=True)
    assert 'class="candidate-work"' not in page
