"""The published results as a visitor shares them: each winner's own page (photo, the work's
title when the form makes it public, the nominee or the authors, the award, the citation in
the page's language, plain share links), the gallery's cards, and the Open Graph / Twitter
card of each page, with its photo at an absolute address. Before publication none of it
exists, card included."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from awards.calls.models import Call
from awards.nominations.models import Answer, Nomination
from tests.author_factories import authors_question, give_authors
from tests.conftest import login
from tests.factories import arrange, english
from tests.integration.test_results_publication import logout, publish, schedule
from tests.results_factories import CITATION, decided_call

WORK = "Clean rivers"  # the "title" answer of every entry (tests.jury_factories.make_entry)


def _world(session, *, title_public: bool):
    world = decided_call(session)
    call = session.get(Call, world.call_id)
    title = next(f for f in call.fields if f.key == "title")
    title.is_public = title_public
    entry = session.get(Nomination, world.entries["C"])
    if entry.answer_for(title.id) is None:
        entry.answers.append(Answer(field=title, value=WORK))
    return world


def _published(client, app, *, title_public: bool = True, collective: bool = False):
    def build(session):
        world = _world(session, title_public=title_public)
        if collective:
            call = session.get(Call, world.call_id)
            give_authors(session, session.get(Nomination, world.entries["D"]),
                         authors_question(session, call))
        return world
    world = arrange(app, build)
    login(client, world.admin_email)
    assert publish(client, world).status_code == 303
    logout(client)
    english(client)
    return world


def meta(html: str, key: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    return html_lib.unescape(match.group(1)) if match else None


def text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_public_title_shows_on_results_gallery_and_winner_page(client, app):
    world = _published(client, app, title_public=True)
    winner_url = f"/results/{world.call_slug}/{world.refs['C']}"
    for url in (f"/results/{world.call_slug}", "/results/gallery", winner_url):
        assert f"«{WORK}»" in text(client, url), url


def test_a_title_the_form_keeps_private_is_not_published(client, app):
    world = _published(client, app, title_public=False)
    winner_url = f"/results/{world.call_slug}/{world.refs['C']}"
    for url in (f"/results/{world.call_slug}", "/results/gallery", winner_url):
        page = text(client, url)
        assert "Nominee C" in page
        assert WORK not in page, url


def test_winner_page_shows_the_winner_and_share_links(client, app):
    world = _published(client, app)
    url = f"/results/{world.call_slug}/{world.refs['C']}"
    page = text(client, url)
    assert '<h1 id="winner-name" class="winner-name">Nominee C</h1>' in page
    assert "Winner" in page  # the award level
    assert CITATION["en"] in page
    assert f'src="/results/{world.call_slug}/photos/{world.photo_name}"' in page
    absolute = f"http://localhost{url}"
    assert f'value="{absolute}"' in page  # the link to copy
    quoted = absolute.replace(":", "%3A").replace("/", "%2F")
    for share in ("https://t.me/share/url?url=", "https://wa.me/?text=",
                  "https://www.facebook.com/sharer/sharer.php?u=",
                  "https://x.com/intent/post?url="):
        assert share in page
    assert f"https://t.me/share/url?url={quoted}" in html_lib.unescape(page)
    # no third-party script
    assert not re.search(r'<script[^>]+src="https?://', page)
    # the card: the winner's photo, absolute, and the citation
    assert meta(page, "og:image") == (f"http://localhost/results/{world.call_slug}/photos/"
                                      f"{world.photo_name}")
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "og:title").startswith("Nominee C — Winner")
    assert meta(page, "og:description") == CITATION["en"]
    assert meta(page, "og:url") == absolute
    assert meta(page, "og:locale") == "en_GB"  # the card speaks the page's language
    # Russian reader: the citation in Russian
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    assert CITATION["ru"] in text(client, url)
    # the results page links to it
    english(client)
    assert f'href="{url}"' in text(client, f"/results/{world.call_slug}")


def test_winner_page_names_each_author_of_a_collective(client, app):
    world = _published(client, app, collective=True)
    page = text(client, f"/results/{world.call_slug}/{world.refs['D']}")
    authors = page[page.index('class="winner-authors winner-authors-list"'):]
    authors = authors[:authors.index("</ul>")]
    assert authors.count("<li>") == 3
    gallery = text(client, "/results/gallery")
    assert "Nominee D" in gallery
    assert "Aliya Nurlankyzy, Galym Seitov, Dauren Omirbek" in gallery


def test_unknown_or_not_awarded_reference_is_404(client, app):
    world = _published(client, app)
    assert client.get(f"/results/{world.call_slug}/{world.refs['A']}").status_code == 404
    assert client.get(f"/results/{world.call_slug}/NOPE-1").status_code == 404
    assert client.get(f"/results/no-such-call/{world.refs['C']}").status_code == 404
    assert client.get(f"/results/{world.call_slug}/{'X' * 200}").status_code == 404
    # the version pages are not taken for references
    assert client.get(f"/results/{world.call_slug}/v1").status_code == 200


def test_gallery_cards_link_to_winner_pages_and_carry_a_card(client, app):
    world = _published(client, app)
    page = text(client, "/results/gallery")
    assert f'href="/results/{world.call_slug}/{world.refs["C"]}"' in page
    assert meta(page, "og:title") == "Winners gallery"
    assert meta(page, "og:image") == (f"http://localhost/results/{world.call_slug}/photos/"
                                      f"{world.photo_name}")
    assert meta(page, "og:url") == "http://localhost/results/gallery"


def test_results_page_card_has_the_photo_and_twitter_tags(client, app):
    world = _published(client, app)
    page = text(client, f"/results/{world.call_slug}")
    assert meta(page, "og:image") == (f"http://localhost/results/{world.call_slug}/photos/"
                                      f"{world.photo_name}")
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "twitter:image") == meta(page, "og:image")
    assert "Nominee C" in meta(page, "og:description")
    assert page.count('<link rel="canonical"') == 1
    assert page.count('property="og:title"') == 1


@pytest.fixture
def scheduled(client, app):
    world = arrange(app, lambda s: _world(s, title_public=True))
    login(client, world.admin_email)
    schedule(client, world)
    return world


def test_before_publication_the_winner_page_and_its_card_do_not_exist(client, app, scheduled):
    world = scheduled
    url = f"/results/{world.call_slug}/{world.refs['C']}"
    english(client)
    preview = text(client, url)  # the administrator previews it
    assert "Preview for administrators" in preview
    assert meta(preview, "og:image") is None and meta(preview, "og:title") is None
    logout(client)
    response = client.get(url)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Nominee C" not in body and "og:image" not in body
    assert world.photo_name not in text(client, "/results/gallery")
    assert meta(text(client, "/results/gallery"), "og:image") is None
