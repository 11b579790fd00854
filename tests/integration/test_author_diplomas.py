"""One diploma per author of an awarded entry (and one for the nominating organisation when the
call says so): each with its own name and code, the verification page naming the person and the
work, a QR code on the PDF that opens that page."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from awards.calls.models import Call
from awards.nominations.models import Nomination
from awards.results import services as results
from awards.results.models import Certificate
from tests.author_factories import COLLECTIVE, authors_question, give_authors
from tests.factories import arrange, english, read
from tests.jury_factories import make_account
from tests.results_factories import decided_call

WORK = "Steppe Symphony"


def _publish_with_collective(session, *, organisation: str = "", diploma_for_org=False):
    world = decided_call(session)
    call = session.get(Call, world.call_id)
    call.organisation_certificate = diploma_for_org
    field = authors_question(session, call)
    entry = session.get(Nomination, world.entries["C"])
    entry.organisation_name = organisation
    title = next(f for f in call.fields if f.key == "title")
    title.is_public = True  # the results and diplomas name the work only when it is public
    answer = entry.answer_for(title.id)
    if answer is None:
        from awards.nominations.models import Answer

        entry.answers.append(Answer(field=title, value=WORK))
    else:
        answer.value = WORK
    give_authors(session, entry, field)
    admin = make_account(session, "results.admin@example.com", name="Results Admin", admin=True)
    results.publish(session=session, actor=admin, call=call, scheduled_for=None,
                    token=results.state_token(session, call))
    return world


def _certificates(app, nomination_id):
    return read(app, lambda s: [
        (c.recipient_kind, c.recipient_name, results.format_code(c.code), c.recipient_names)
        for c in s.scalars(select(Certificate).where(Certificate.nomination_id == nomination_id)
                           .order_by(Certificate.id))])


@pytest.fixture
def world(app):
    return arrange(app, _publish_with_collective)


def test_each_author_of_a_collective_gets_a_diploma_with_own_code(app, world):
    certs = _certificates(app, world.entries["C"])

    assert [(kind, name) for kind, name, _code, _names in certs] == [
        ("author", "Алия Нурлановна"), ("author", "Галым Сеитов"), ("author", "Даурен Омирбек")]
    assert len({code for _k, _n, code, _names in certs}) == 3
    assert certs[0][3] == {"kk": "Әлия Нұрланқызы", "ru": "Алия Нурлановна",
                           "en": "Aliya Nurlankyzy"}


def test_verification_page_shows_the_person_and_the_work(app, client, world):
    client = english(client)
    for (_kind, _name, code, names), author in zip(_certificates(app, world.entries["C"]),
                                                   COLLECTIVE, strict=True):
        html = client.get(f"/certificates/{code}").get_data(as_text=True)

        assert f'<dd class="recipient">{names["en"]}' in html
        assert f'<dd class="work">{WORK}</dd>' in html
        assert {"author": "Author", "director": "Director",
                "composer": "Composer"}[author["role"]] in html


def _qr_urls(pdf_bytes: bytes) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp")
    page = PdfReader(io.BytesIO(pdf_bytes)).pages[0]
    return [r.text for image in page.images for r in zxingcpp.read_barcodes(image.image)]


def test_diploma_pdf_has_the_authors_name_and_a_qr_code_of_its_verification_page(
        app, client, world):
    admin = english(client)
    from tests.conftest import login

    login(admin, "results.admin@example.com")
    for _kind, _name, code, names in _certificates(app, world.entries["C"]):
        response = admin.get(f"/certificates/{code}.pdf?lang=kk")
        assert response.status_code == 200
        text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
        assert names["kk"] in text
        assert WORK in text
        url = f"{app.config['BASE_URL'].rstrip('/')}/certificates/{code}"
        assert _qr_urls(response.data) == [url]


def test_the_nominating_organisation_gets_a_diploma_when_the_call_says_so(app):
    world = arrange(app, lambda s: _publish_with_collective(
        s, organisation="Kazakhfilm", diploma_for_org=True))

    kinds = [(kind, name) for kind, name, _c, _n in _certificates(app, world.entries["C"])]

    assert kinds[-1] == ("organisation", "Kazakhfilm")
    assert len(kinds) == 4


def test_results_page_and_gallery_name_every_author(app, client, world):
    client = english(client)
    results_page = client.get(f"/results/{world.call_slug}").get_data(as_text=True)
    gallery = client.get("/results/gallery").get_data(as_text=True)

    for author in COLLECTIVE:
        assert author["name_en"] in results_page
    assert "<span class=\"muted\">(Director)</span>" in results_page
    assert f"«{WORK}»" in results_page
    assert "Aliya Nurlankyzy, Galym Seitov, Dauren Omirbek" in gallery


def test_the_applicant_downloads_each_authors_diploma(app, client, world):
    from awards.auth.models import User
    from tests.conftest import login

    def prefers_english(session):
        # The applicant of entry C prefers Russian in the shared world; this test reads English.
        user = session.scalar(select(User).where(User.email == world.applicants["C"]))
        user.preferred_language = "en"

    arrange(app, prefers_english)
    client = english(client)
    login(client, world.applicants["C"])
    page = client.get("/nominations/").get_data(as_text=True)

    for _kind, name, code, _names in _certificates(app, world.entries["C"]):
        link = f'href="/certificates/{code.replace("-", "")}.pdf"'
        assert f"{link}>Download the certificate of {name}</a>" in page
