"""Publishing a call's results: now or at a set time, what the public page shows, frozen
decisions, the administrators' page and its refusals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import CallStatus, PublicationStatus
from awards.results.models import Certificate, Publication
from tests.conftest import csrf_from, login
from tests.factories import arrange, english, read
from tests.results_factories import CITATION, decided_call, give_citation


@pytest.fixture
def world(app):
    return arrange(app, decided_call)


def overview_url(world) -> str:
    return f"/admin/results/calls/{world.call_id}"


def state_of(html: str) -> str:
    match = re.search(r'name="state" type="hidden" value="([0-9a-f]+)"', html)
    assert match, "no state field"
    return match.group(1)


def confirm_page(client, world, *, mode="now", when="", notes=None):
    """The confirmation page the overview's publish form leads to (a GET: changes nothing)."""
    query = {"mode": mode, "scheduled_for": when, **(notes or {})}
    return client.get(f"{overview_url(world)}/publish", query_string=query)


def publish(client, world, *, mode="now", when="", notes=None, html=None):
    """Publish as the administrator does: the overview's form, then the confirmation page's
    button. ``html``: a confirmation page already shown (to send its form twice)."""
    if html is None:
        page = confirm_page(client, world, mode=mode, when=when, notes=notes)
        html = page.get_data(as_text=True)
        if page.status_code != 200 or 'name="state"' not in html:
            return page
    data = {"csrf_token": csrf_from(html), "state": state_of(html), "mode": mode,
            "scheduled_for": when}
    data.update(notes or {})
    return client.post(f"{overview_url(world)}/publish", data=data)


def audit_actions(app, prefix="results.") -> list[str]:
    return read(app, lambda s: list(s.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like(prefix + "%"))
        .order_by(AuditEvent.id))))


def current_token(app, world) -> str:
    from awards.results import services

    return read(app, lambda s: services.state_token(s, s.get(Call, world.call_id)))


def call_status(app, world) -> str:
    return read(app, lambda s: str(s.get(Call, world.call_id).status))


def test_publish_now_shows_winners_citation_and_photo(client, app, world):
    login(client, world.admin_email)
    response = publish(client, world)
    assert response.status_code == 303
    client.post("/account/logout", data={"csrf_token": csrf_from(client.get("/").get_data(
        as_text=True))})
    english(client)
    page = client.get(f"/results/{world.call_slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nominee C" in html and "Nominee D" in html
    assert "Nominee A" not in html
    assert CITATION["en"] in html
    assert f'/results/{world.call_slug}/photos/{world.photo_name}' in html
    assert f'id="winner-{world.entries["C"]}"' in html
    assert html.index("Winner") < html.index("Nominee C") < html.index("Laureate")
    photo = client.get(f"/results/{world.call_slug}/photos/{world.photo_name}")
    assert photo.status_code == 200
    assert photo.mimetype == "image/png"
    assert call_status(app, world) == "published"
    assert audit_actions(app) == ["results.publish"]


def logout(client):
    client.post("/account/logout", data={"csrf_token": csrf_from(client.get("/").get_data(
        as_text=True))})


def schedule(client, world, hours=5):
    """Schedule the publication ``hours`` from now, typed in Almaty time (UTC+5)."""
    when = (utcnow() + timedelta(hours=hours)).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Almaty")).replace(second=0, microsecond=0)
    response = publish(client, world, mode="schedule", when=when.strftime("%Y-%m-%dT%H:%M"))
    return response, when


def test_schedule_stores_time_typed_in_call_zone(client, app, world):
    login(client, world.admin_email)
    response, when = schedule(client, world)
    assert response.status_code == 303
    assert call_status(app, world) == "results_scheduled"
    stored = read(app, lambda s: s.scalar(select(Publication.scheduled_for)))
    assert stored == when
    assert read(app, lambda s: s.scalar(select(Publication.status))) == \
        PublicationStatus.SCHEDULED


@pytest.mark.parametrize("who", ["anonymous", "applicant", "juror"])
def test_scheduled_results_are_invisible_before_the_time(client, app, world, who):
    login(client, world.admin_email)
    schedule(client, world)
    logout(client)
    if who == "applicant":
        login(client, world.applicants["C"])
    elif who == "juror":
        login(client, world.juror_email)
    english(client)
    assert client.get(f"/results/{world.call_slug}").status_code == 404
    assert client.get(f"/results/{world.call_slug}/v1").status_code == 404
    assert client.get(f"/results/{world.call_slug}/photos/{world.photo_name}").status_code == 404
    archive = client.get("/results/").get_data(as_text=True)
    assert world.call_slug not in archive
    gallery = client.get("/results/gallery").get_data(as_text=True)
    assert "Nominee C" not in gallery
    call_page = client.get(f"/calls/{world.call_slug}").get_data(as_text=True)
    assert f"/results/{world.call_slug}" not in call_page
    if who == "applicant":
        mine = client.get("/nominations/").get_data(as_text=True)
        assert "Winner" not in mine
        assert "Not awarded" not in mine
    if who == "juror":
        jury = client.get("/jury/").get_data(as_text=True)
        assert "Winner" not in jury


def test_scheduled_results_appear_at_the_time(client, app, world):
    login(client, world.admin_email)
    schedule(client, world)
    logout(client)

    def go_live(s):
        publication = s.scalar(select(Publication))
        publication.scheduled_for = utcnow() - timedelta(minutes=1)
    arrange(app, go_live)
    english(client)
    html = client.get(f"/results/{world.call_slug}").get_data(as_text=True)
    assert "Nominee C" in html
    assert client.get(f"/results/{world.call_slug}/photos/{world.photo_name}").status_code == 200
    assert world.call_slug in client.get("/results/").get_data(as_text=True)
    assert "Nominee C" in client.get("/results/gallery").get_data(as_text=True)


def test_admin_previews_scheduled_results(client, app, world):
    login(client, world.admin_email)
    schedule(client, world)
    english(client)
    html = client.get(f"/results/{world.call_slug}").get_data(as_text=True)
    assert "Preview for administrators" in html
    assert "Nominee C" in html
    assert f"/admin/results/photos/{world.photo_name}" in html
    assert client.get(f"/admin/results/photos/{world.photo_name}").status_code == 200


def test_unknown_call_and_version_are_404(client, world):
    assert client.get("/results/no-such-call").status_code == 404
    assert client.get(f"/results/{world.call_slug}/v7").status_code == 404


def test_photo_not_in_a_publication_is_404(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    logout(client)
    from tests.results_factories import store_photo

    other = arrange(app, lambda s: store_photo())
    assert client.get(f"/results/{world.call_slug}/photos/{other}").status_code == 404


def test_decisions_frozen_after_publication(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    ranking = client.get(f"/admin/ranking/rounds/{world.round_id}").get_data(as_text=True)
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', ranking).group(1)
    response = client.post(f"/admin/ranking/rounds/{world.round_id}/decisions", data={
        "csrf_token": csrf_from(ranking), "nomination_id": world.entries["A"],
        "award_level_id": world.levels["laureate"], "digest": digest})
    assert response.status_code == 409


def test_decisions_frozen_while_scheduled(client, app, world):
    login(client, world.admin_email)
    schedule(client, world)
    ranking = client.get(f"/admin/ranking/rounds/{world.round_id}").get_data(as_text=True)
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', ranking).group(1)
    response = client.post(f"/admin/ranking/rounds/{world.round_id}/decisions", data={
        "csrf_token": csrf_from(ranking), "nomination_id": world.entries["A"],
        "award_level_id": world.levels["laureate"], "digest": digest})
    assert response.status_code == 409


def test_double_submit_publishes_once(client, app, world):
    login(client, world.admin_email)
    html = confirm_page(client, world).get_data(as_text=True)
    assert publish(client, world, html=html).status_code == 303
    english(client)
    second = publish(client, world, html=html)
    assert second.status_code == 409
    assert "changed after you opened the page" in second.get_data(as_text=True)
    assert read(app, lambda s: len(list(s.scalars(select(Publication))))) == 1


def test_schedule_in_the_past_is_refused(client, app, world):
    login(client, world.admin_email)
    english(client)
    response, _ = schedule(client, world, hours=-2)
    assert response.status_code == 400
    assert "must be in the future" in response.get_data(as_text=True)
    assert read(app, lambda s: s.scalar(select(Publication.id))) is None
    assert call_status(app, world) == "decided"  # still in deliberation


def test_schedule_without_time_is_refused_and_keeps_notes(client, world):
    login(client, world.admin_email)
    english(client)
    response = publish(client, world, mode="schedule", when="")
    assert response.status_code == 400
    assert "Enter the date and time of publication." in response.get_data(as_text=True)


def test_publish_without_decisions_is_refused(client, app):
    from tests.ranking_factories import scored_round

    def deliberating(s):
        world = scored_round(s)
        s.get(Call, world.call_id).status = CallStatus.DELIBERATION
        return world
    rank = arrange(app, deliberating)
    login(client, rank.admin_email)
    english(client)
    html = client.get(f"/admin/results/calls/{rank.call_id}/publish",
                      query_string={"mode": "now"}).get_data(as_text=True)
    assert "Nothing is decided yet" in html and "has no winner" in html
    assert 'name="state"' not in html  # blocked: the page offers no button
    response = client.post(f"/admin/results/calls/{rank.call_id}/publish", data={
        "csrf_token": csrf_from(html), "state": current_token(app, rank), "mode": "now"})
    assert response.status_code == 400
    assert "Nothing is decided yet" in response.get_data(as_text=True)


def test_withdraw_scheduled_unfreezes_and_cancels_mail(client, app, world, outbox):
    login(client, world.admin_email)
    schedule(client, world)
    assert len(outbox()) == 3
    html = client.get(overview_url(world)).get_data(as_text=True)
    response = client.post(f"{overview_url(world)}/versions/1/withdraw", data={
        "csrf_token": csrf_from(html), "state": state_of(html)})
    assert response.status_code == 303
    assert outbox() == []
    assert read(app, lambda s: s.scalar(select(Publication.id))) is None
    assert read(app, lambda s: s.scalar(select(Certificate.id))) is None
    assert call_status(app, world) == "decided"
    assert audit_actions(app) == ["results.publish", "results.withdraw"]


def test_withdraw_public_version_is_refused(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    html = client.get(overview_url(world)).get_data(as_text=True)
    response = client.post(f"{overview_url(world)}/versions/1/withdraw", data={
        "csrf_token": csrf_from(html), "state": state_of(html)})
    assert response.status_code == 400
    assert read(app, lambda s: s.scalar(select(Publication.version))) == 1


def test_reschedule_moves_mail_and_certificates(client, app, world, outbox):
    login(client, world.admin_email)
    _, first = schedule(client, world)
    html = client.get(overview_url(world)).get_data(as_text=True)
    later = first + timedelta(days=1)
    response = client.post(f"{overview_url(world)}/versions/1/reschedule", data={
        "csrf_token": csrf_from(html), "state": state_of(html),
        "scheduled_for": later.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 303
    assert {m.next_attempt_at for m in outbox()} == {later}
    assert set(read(app, lambda s: list(s.scalars(select(Certificate.issued_at))))) == {later}
    assert "results.reschedule" in audit_actions(app)


@pytest.mark.parametrize("url", ["/admin/results/calls/{call}",
                                 "/admin/results/calls/{call}/citations/{entry}"])
def test_admin_pages_refuse_non_admins(client, app, world, url):
    target = url.format(call=world.call_id, entry=world.entries["C"])
    assert client.get(target).status_code == 302  # to the login page
    login(client, world.applicants["C"])
    assert client.get(target).status_code == 403


def test_admin_posts_refuse_non_admins(client, app, world):
    login(client, world.applicants["C"])
    token = csrf_from(client.get("/").get_data(as_text=True))
    response = client.post(f"{overview_url(world)}/publish",
                           data={"csrf_token": token, "state": "x", "mode": "now"})
    assert response.status_code == 403
    assert read(app, lambda s: s.scalar(select(Publication.id))) is None


def test_publish_without_csrf_is_refused(client, app, world):
    login(client, world.admin_email)
    html = confirm_page(client, world).get_data(as_text=True)
    response = client.post(f"{overview_url(world)}/publish",
                           data={"state": state_of(html), "mode": "now"})
    assert response.status_code == 400
    assert read(app, lambda s: s.scalar(select(Publication.id))) is None


def test_published_results_on_call_page_and_my_nominations(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    logout(client)
    login(client, world.applicants["C"])
    english(client)
    call_page = client.get(f"/calls/{world.call_slug}").get_data(as_text=True)
    assert f'href="/results/{world.call_slug}"' in call_page
    mine = client.get("/nominations/").get_data(as_text=True)
    assert "Winner" in mine
    logout(client)
    login(client, world.applicants["A"])
    english(client)
    mine = client.get("/nominations/").get_data(as_text=True)
    assert "Not awarded" in mine
    assert "Laureate" in mine  # entry D of the same applicant


def test_publication_snapshot_is_frozen(client, app, world):
    login(client, world.admin_email)
    publish(client, world)

    def rename(s):
        from awards.nominations.models import Nomination

        s.get(Nomination, world.entries["C"]).nominee_name = "Renamed Later"
    arrange(app, rename)
    english(client)
    html = client.get(f"/results/{world.call_slug}").get_data(as_text=True)
    assert "Nominee C" in html
    assert "Renamed Later" not in html


def test_opengraph_and_canonical(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    logout(client)
    html = client.get(f"/results/{world.call_slug}").get_data(as_text=True)
    assert f'<link rel="canonical" href="http://localhost/results/{world.call_slug}">' in html
    assert '<meta property="og:title"' in html
    assert (f'<meta property="og:image" content="http://localhost/results/{world.call_slug}'
            f'/photos/{world.photo_name}">') in html


def test_citation_editor_saves_text_and_photo(client, app, world):
    import io

    from awards.results.models import Citation
    from tests.factories import png_bytes

    login(client, world.admin_email)
    url = f"/admin/results/calls/{world.call_id}/citations/{world.entries['D']}"
    html = client.get(url).get_data(as_text=True)
    response = client.post(url, data={
        "csrf_token": csrf_from(html), "text_kk": "Қ", "text_ru": "Р", "text_en": "E",
        "photo": (io.BytesIO(png_bytes()), "face.png")}, content_type="multipart/form-data")
    assert response.status_code == 303
    saved = read(app, lambda s: s.scalar(select(Citation).where(
        Citation.nomination_id == world.entries["D"])))
    assert (saved.text_kk, saved.text_ru, saved.text_en) == ("Қ", "Р", "E")
    assert saved.photo_content_type == "image/png"
    assert "results.citation" in audit_actions(app)


def test_citation_editor_refuses_non_image_and_keeps_text(client, app, world):
    import io

    from tests.factories import PDF

    login(client, world.admin_email)
    english(client)
    url = f"/admin/results/calls/{world.call_id}/citations/{world.entries['D']}"
    html = client.get(url).get_data(as_text=True)
    response = client.post(url, data={
        "csrf_token": csrf_from(html), "text_en": "Kept text",
        "photo": (io.BytesIO(PDF), "face.png")}, content_type="multipart/form-data")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "is not an allowed type" in body
    assert "Kept text" in body


def test_citation_editor_404_for_entry_not_awarded(client, world):
    login(client, world.admin_email)
    url = f"/admin/results/calls/{world.call_id}/citations/{world.entries['A']}"
    assert client.get(url).status_code == 404


def test_pre_publication_checklist_blocks_until_citations_are_written(client, app, world):
    def drop_citation(s):
        from awards.results.models import Citation

        s.delete(s.scalar(select(Citation).where(Citation.nomination_id == world.entries["D"])))
    arrange(app, drop_citation)
    login(client, world.admin_email)
    english(client)
    missing = "Nominee D (Social Helper): the citation is missing in KK, RU, EN."
    overview = client.get(overview_url(world)).get_data(as_text=True)
    assert "Check before publishing:" in overview and missing in overview
    page = confirm_page(client, world)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "The results cannot be published yet:" in html and missing in html
    assert 'name="state"' not in html  # no button to publish
    forced = client.post(f"{overview_url(world)}/publish", data={
        "csrf_token": csrf_from(html), "state": current_token(app, world), "mode": "now"})
    assert forced.status_code == 409
    assert missing in forced.get_data(as_text=True)
    assert read(app, lambda s: s.scalar(select(Publication.id))) is None

    arrange(app, lambda s: give_citation(s, world, "D"))
    assert publish(client, world).status_code == 303
    assert "Check before publishing:" not in client.get(overview_url(world)).get_data(
        as_text=True)
