"""Certificates: the public verification page, the PDF download and who may have it."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from awards import create_app
from awards.db import utcnow
from tests.certificate_factories import (
    ADMIN,
    CODE,
    OTHER,
    OWNER,
    RECIPIENT,
    SHOWN_CODE,
    certified_winner,
    corrected,
)
from tests.factories import arrange, english

PAGE = f"/certificates/{SHOWN_CODE}"
PDF_URL = f"/certificates/{SHOWN_CODE}.pdf"
NOT_FOUND = ("No certificate has this code. Check it against the certificate: a code has "
             "12 letters and digits, like K7Q2-M9XD-4HTR.")


def text_of(response) -> str:
    return response.get_data(as_text=True)


def main_of(response) -> str:
    html = text_of(response)
    return html[html.index("<main"):html.index("</main>")]


def pdf_text(response) -> str:
    return PdfReader(io.BytesIO(response.data)).pages[0].extract_text()


@pytest.fixture
def world(app):
    return arrange(app, lambda s: certified_winner(s))


# ---- the verification form -----------------------------------------------------------------


def test_verify_form_asks_for_the_code(client):
    response = english(client).get("/certificates/verify")

    assert response.status_code == 200
    html = text_of(response)
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert '<label class="label" for="code">Verification code</label>' in html
    assert 'name="code" type="text" value=""' in html


@pytest.mark.parametrize("typed", [
    SHOWN_CODE, CODE, "k7q2-m9xd-4htr", "  k7q2 m9xd 4htr ", "K7Q2–M9XD–4HTR",
])
def test_verify_code_redirects_to_its_certificate(client, world, typed):
    response = client.get("/certificates/verify", query_string={"code": typed})

    assert response.status_code == 303
    assert response.headers["Location"] == PAGE


def test_verify_lookalike_letters_find_the_certificate(app, client):
    # Crockford reads O as 0 and I or L as 1; the code printed has the digits.
    arrange(app, lambda s: certified_winner(s, code="K0Q1M9XD4HTR"))

    response = client.get("/certificates/verify", query_string={"code": "koqi-m9xd-4htr"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/certificates/K0Q1-M9XD-4HTR"


@pytest.mark.parametrize("typed", ["ZZZZ-ZZZZ-ZZZZ", "K7Q2-M9XD", "not a code at all"])
def test_verify_unknown_code_says_so_with_404(client, world, typed):
    response = english(client).get("/certificates/verify", query_string={"code": typed})

    assert response.status_code == 404
    html = text_of(response)
    assert f'<p class="error" id="code-error">{NOT_FOUND}</p>' in html
    assert f'value="{typed}"' in html


def test_verify_empty_code_asks_for_one_with_400(client):
    response = english(client).get("/certificates/verify", query_string={"code": "  "})

    assert response.status_code == 400
    assert ('<p class="error" id="code-error">Enter the code printed on the certificate.</p>'
            in text_of(response))


# ---- the public page -----------------------------------------------------------------------


def test_certificate_page_shows_a_valid_certificate(client, world):
    response = english(client).get(PAGE)

    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    html = text_of(response)
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "<h1>Certificate K7Q2-M9XD-4HTR</h1>" in html
    assert "Valid certificate</p>" in html
    assert f'<dd class="recipient">{RECIPIENT}</dd>' in html
    assert "<dt>Award</dt><dd>Winner</dd>" in html
    assert "<dt>Category</dt><dd>Social Helper</dd>" in html
    assert "<dd>Volunteer of the Year 2025" in html
    # Published at 20:00 UTC on 4 December: 5 December in Almaty, the call's time zone.
    assert "<dt>Date</dt><dd>5 December 2025</dd>" in html
    assert f'<dd class="code">{SHOWN_CODE}</dd>' in html
    assert "Revoked" not in html


def test_certificate_page_in_russian_by_default(client, world):
    html = text_of(client.get(PAGE))

    assert "Победитель" in html
    assert "Социальный помощник" in html
    assert "Волонтёр года — 2025" in html
    assert "5 декабря 2025\u202fг." in html


def test_certificate_page_in_kazakh(client, world):
    with client.session_transaction() as sess:
        sess["lang"] = "kk"

    html = text_of(client.get(PAGE))

    assert '<html lang="kk">' in html
    assert "Жеңімпаз" in html
    assert "Әлеуметтік көмекші" in html
    assert "Жыл волонтері — 2025" in html
    assert "2025\u202fж. 5 желтоқсан" in html


@pytest.mark.parametrize("typed", [CODE, "k7q2-m9xd-4htr", "K7Q2M9XD-4HTR"])
def test_certificate_page_moves_a_typed_code_to_its_grouped_address(client, world, typed):
    response = client.get(f"/certificates/{typed}")

    assert response.status_code == 301
    assert response.headers["Location"] == PAGE


def test_certificate_page_unknown_code_is_404(client, world):
    response = english(client).get("/certificates/ZZZZ-ZZZZ-ZZZZ")

    assert response.status_code == 404
    assert NOT_FOUND in text_of(response)


def test_certificate_page_embargoed_looks_exactly_like_unknown(app, client):
    arrange(app, lambda s: certified_winner(s, embargoed=True))
    english(client)

    embargoed = client.get(PAGE)
    unknown = client.get("/certificates/ZZZZ-ZZZZ-ZZZZ")
    via_form = client.get("/certificates/verify", query_string={"code": SHOWN_CODE})

    assert embargoed.status_code == unknown.status_code == via_form.status_code == 404
    assert main_of(embargoed) == main_of(unknown).replace("ZZZZ-ZZZZ-ZZZZ", SHOWN_CODE)
    assert main_of(via_form) == main_of(embargoed)
    assert RECIPIENT not in text_of(embargoed)


def test_certificate_page_embargoed_typed_differently_is_not_redirected(app, client):
    arrange(app, lambda s: certified_winner(s, embargoed=True))

    response = client.get(f"/certificates/{CODE.lower()}")

    assert response.status_code == 404


def test_certificate_page_visible_once_embargo_passes(app, client, world):
    from awards.enums import PublicationStatus
    from awards.results.models import Publication

    def _schedule(session):
        publication = session.get(Publication, world.publication_id)
        publication.status = PublicationStatus.SCHEDULED
        publication.scheduled_for = utcnow() - timedelta(minutes=1)

    arrange(app, _schedule)

    assert client.get(PAGE).status_code == 200


def test_certificate_page_revoked_says_when_and_why(app, client):
    from datetime import UTC, datetime

    revoked = datetime(2025, 12, 20, 6, 0, tzinfo=UTC)
    arrange(app, lambda s: certified_winner(s, revoked_at=revoked))

    response = english(client).get(PAGE)

    assert response.status_code == 200
    html = text_of(response)
    assert "Revoked</p>" in html
    assert "This certificate was revoked by a correction on 20 December 2025." in html
    assert "Valid certificate" not in html
    assert "The correction issued a new certificate" not in html


def test_certificate_page_revoked_links_to_the_corrected_certificate(app, client, world):
    arrange(app, lambda s: corrected(s, world, code="M4N8P2R6T9VX",
                                     when=utcnow() - timedelta(days=1)))

    html = text_of(english(client).get(PAGE))

    assert "Revoked</p>" in html
    assert ('<a href="/certificates/M4N8-P2R6-T9VX" class="code">M4N8-P2R6-T9VX</a>'
            in html)
    assert "Valid certificate" in text_of(client.get("/certificates/M4N8-P2R6-T9VX"))


def test_certificate_page_revocation_in_the_future_is_still_valid(app, client):
    arrange(app, lambda s: certified_winner(s, revoked_at=utcnow() + timedelta(days=2)))

    html = text_of(english(client).get(PAGE))

    assert "Valid certificate</p>" in html
    assert "Revoked" not in html


def test_certificate_page_offers_pdf_to_its_owner_only(client, world, login_as):
    anonymous = text_of(client.get(PAGE))
    login_as(OWNER)
    owner = text_of(client.get(PAGE))

    assert ".pdf" not in anonymous
    for lang in ("kk", "ru", "en"):
        assert f'href="{PDF_URL}?lang={lang}"' in owner


def test_certificate_page_offers_no_pdf_once_revoked(app, client, login_as):
    arrange(app, lambda s: certified_winner(s, revoked_at=utcnow() - timedelta(hours=1)))
    login_as(OWNER)

    assert ".pdf" not in text_of(client.get(PAGE))


def test_certificate_page_links_to_published_results_when_there_are_some(app, client, world):
    if "results.show" not in app.view_functions:
        app.add_url_rule("/results/<slug>", endpoint="results.show",
                         view_func=lambda slug: slug)

    html = text_of(english(client).get(PAGE))

    assert '<a href="/results/voy-2025">Published results</a>' in html


# ---- the PDF -------------------------------------------------------------------------------


def test_certificate_pdf_downloads_for_its_owner(client, world, login_as):
    login_as(OWNER)

    response = client.get(PDF_URL)

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-cache"
    text = pdf_text(response)
    assert RECIPIENT in text
    assert "Winner" in text  # the owner reads English (their preferred language)
    assert "http://localhost/certificates/K7Q2-M9XD-4HTR" in text


def test_certificate_pdf_filename_is_safe_and_readable(client, world, login_as):
    login_as(OWNER)

    response = client.get(PDF_URL, query_string={"lang": "en"})

    assert response.headers["Content-Disposition"] == (
        'attachment; filename="certificate-K7Q2-M9XD-4HTR.pdf"; '
        "filename*=UTF-8''Diploma%20%D0%93%D2%AF%D0%BB%D0%BD%D2%B1%D1%80%20"
        "%D0%94%D3%99%D1%83%D0%BB%D0%B5%D1%82%D2%9B%D1%8B%D0%B7%D1%8B%20"
        "%D0%A8%D0%B0%D2%BB%D0%B0%D2%93%D0%B0%D0%BB%D0%B8%D0%B5%D0%B2%D0%B0%20"
        "K7Q2-M9XD-4HTR.pdf"
    )


@pytest.mark.parametrize(("lang", "award"), [("kk", "Жеңімпаз"), ("ru", "Победитель"),
                                              ("en", "Winner")])
def test_certificate_pdf_in_the_language_asked_for(client, world, login_as, lang, award):
    login_as(OWNER)

    text = pdf_text(client.get(PDF_URL, query_string={"lang": lang}))

    assert award in text.splitlines()


def test_certificate_pdf_unknown_language_falls_back_to_the_users(client, world, login_as):
    login_as(OWNER)

    response = client.get(PDF_URL, query_string={"lang": "de"})

    assert response.status_code == 200
    assert "Winner" in pdf_text(response).splitlines()


def test_certificate_pdf_downloads_for_an_administrator(client, world, login_as):
    login_as(ADMIN)

    response = client.get(PDF_URL, query_string={"lang": "ru"})

    assert response.status_code == 200
    assert "Победитель" in pdf_text(response)


def test_certificate_pdf_refused_to_another_applicant(client, world, login_as):
    login_as(OTHER)

    assert client.get(PDF_URL).status_code == 403


def test_certificate_pdf_sends_anonymous_visitor_to_log_in(client, world):
    response = client.get(PDF_URL)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


def test_certificate_pdf_unknown_code_is_404(client, world, login_as):
    login_as(ADMIN)

    assert client.get("/certificates/ZZZZ-ZZZZ-ZZZZ.pdf").status_code == 404
    assert client.get("/certificates/nonsense.pdf").status_code == 404


def test_certificate_pdf_embargoed_is_404_for_its_owner(app, client, login_as):
    arrange(app, lambda s: certified_winner(s, embargoed=True))
    login_as(OWNER)

    assert client.get(PDF_URL).status_code == 404


def test_certificate_pdf_embargoed_previews_for_an_administrator(app, client, login_as):
    arrange(app, lambda s: certified_winner(s, embargoed=True))
    login_as(ADMIN)

    response = client.get(PDF_URL)

    assert response.status_code == 200
    assert RECIPIENT in pdf_text(response)


def test_certificate_pdf_revoked_is_gone(app, client, login_as):
    arrange(app, lambda s: certified_winner(s, revoked_at=utcnow() - timedelta(hours=1)))
    login_as(OWNER)

    response = client.get(PDF_URL)

    assert response.status_code == 410
    assert response.mimetype == "text/html"
    assert ("This certificate has been revoked, so its PDF is no longer available."
            in text_of(response))


# ---- brute force ---------------------------------------------------------------------------


@pytest.fixture
def limited_client(app, app_config):
    """The limiter object is shared by the process and set up by whichever app was created last,
    so this app is created after ``app``; both use the same database."""
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True})
    yield english(limited.test_client())
    limited.extensions["awards_db"]["engine"].dispose()


def test_certificate_lookups_are_limited_to_30_a_minute(limited_client, world):
    statuses = [limited_client.get(f"/certificates/ZZZZ-ZZZZ-{n:04d}").status_code
                for n in range(30)]
    statuses.append(limited_client.get("/certificates/verify",
                                       query_string={"code": SHOWN_CODE}).status_code)
    statuses.append(limited_client.get(PAGE).status_code)

    assert statuses == [404] * 30 + [429, 429]
    assert "Too many requests" in text_of(limited_client.get(PAGE))


def test_certificate_form_itself_is_not_limited(limited_client):
    statuses = {limited_client.get("/certificates/verify").status_code for _ in range(35)}

    assert statuses == {200}


def test_certificate_lookups_by_administrators_are_not_limited(limited_client, world):
    from tests.conftest import login

    login(limited_client, ADMIN)
    statuses = {limited_client.get(PAGE).status_code for _ in range(35)}

    assert statuses == {200}


def test_certificate_page_title_is_the_code(client, world):
    html = text_of(english(client).get(PAGE))

    assert re.search(r"<title>Certificate K7Q2-M9XD-4HTR · ", html)
