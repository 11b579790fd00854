"""Corrections publish a new version: the old one stays readable and marked, the note is
shown, certificates are kept, revoked or issued per award, and the e-mails to applicants
(in their language, at the publication time, delivered through SMTP)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from awards.db import utcnow
from awards.enums import PublicationStatus
from awards.results.models import Certificate, Publication
from tests.conftest import csrf_from, login
from tests.factories import arrange, english, read
from tests.integration.test_results_publication import (
    audit_actions,
    call_status,
    logout,
    overview_url,
    publish,
    schedule,
    state_of,
)
from tests.results_factories import award, decided_call

NOTES = {"note_kk": "Түзету: D орнына B.", "note_ru": "Исправление: B вместо D.",
         "note_en": "Correction: B instead of D."}


@pytest.fixture
def world(app):
    return arrange(app, decided_call)


def open_correction(client, world, reason="Counting error in the laureates"):
    html = client.get(overview_url(world)).get_data(as_text=True)
    return client.post(f"{overview_url(world)}/correction", data={
        "csrf_token": csrf_from(html), "state": state_of(html), "reason": reason})


def revoke_and_award(app, world, remove: str, add: str, level: str):
    from awards.ranking.models import Decision

    def change(s):
        decision = s.scalar(select(Decision).where(
            Decision.nomination_id == world.entries[remove], Decision.revoked_at.is_(None)))
        decision.revoked_at = utcnow()
        s.flush()
        award(s, world, add, level)
    arrange(app, change)


def certificates(app) -> dict[tuple[int, int], tuple[str, bool]]:
    """(publication version, nomination id) -> (code, revoked?)"""
    def q(s):
        rows = s.execute(select(Publication.version, Certificate.nomination_id,
                                Certificate.code, Certificate.revoked_at)
                         .join(Publication, Publication.id == Certificate.publication_id))
        return {(r.version, r.nomination_id): (r.code, r.revoked_at is not None) for r in rows}
    return read(app, q)


def corrected(client, app, world, *, first: bool = True):
    """Publish (unless ``first`` is False: already published), open a correction, give D's
    laureate to B and publish version 2. Signs the administrator in."""
    if first:
        login(client, world.admin_email)
        assert publish(client, world).status_code == 303
    assert open_correction(client, world).status_code == 303
    revoke_and_award(app, world, "D", "B", "laureate")
    response = publish(client, world, notes=NOTES)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]


def test_first_publication_issues_one_certificate_per_award(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    certs = certificates(app)
    assert set(certs) == {(1, world.entries["C"]), (1, world.entries["D"])}
    for code, revoked in certs.values():
        assert re.fullmatch(r"[0-9ABCDEFGHJKMNPQRSTVWXYZ]{12}", code)
        assert not revoked
    names = read(app, lambda s: sorted((c.recipient_name, c.award_name["en"])
                                       for c in s.scalars(select(Certificate))))
    assert names == [("Nominee C", "Winner"), ("Nominee D", "Laureate")]


def test_correction_needs_an_open_correction(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    english(client)
    response = publish(client, world, notes=NOTES)
    assert response.status_code == 409
    assert "open a correction first" in response.get_data(as_text=True)


def test_open_correction_unfreezes_and_is_audited(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    assert open_correction(client, world).status_code == 303
    assert call_status(app, world) == "correcting"
    assert audit_actions(app) == ["results.publish", "results.correction_open"]
    assert audit_actions(app, "call.") == ["call.phase_changed", "call.phase_changed"]
    # the published version stays public meanwhile
    logout(client)
    assert client.get(f"/results/{world.call_slug}").status_code == 200


def test_open_correction_without_reason_is_refused(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    english(client)
    response = open_correction(client, world, reason="")
    assert response.status_code == 400
    assert "Say why the results need a correction." in response.get_data(as_text=True)
    assert call_status(app, world) == "published"


def test_correction_without_notes_is_refused(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    open_correction(client, world)
    english(client)
    response = publish(client, world, notes={"note_en": "Only English"})
    assert response.status_code == 400
    assert "in Kazakh, Russian and English" in response.get_data(as_text=True)
    assert "Only English" in response.get_data(as_text=True)


def test_correction_publishes_version_two_and_keeps_version_one(client, app, world):
    corrected(client, app, world)
    logout(client)
    english(client)
    current = client.get(f"/results/{world.call_slug}").get_data(as_text=True)
    assert "Nominee B" in current and "Nominee D" not in current
    assert NOTES["note_en"] in current
    old = client.get(f"/results/{world.call_slug}/v1")
    assert old.status_code == 200
    old_html = old.get_data(as_text=True)
    assert "Nominee D" in old_html and "Nominee B" not in old_html
    assert "This version was corrected." in old_html
    assert f'href="/results/{world.call_slug}/v1"' in current
    # The current version read at its own address names the call's results page as the
    # original; an older version is its own original.
    canonical = re.compile(r'<link rel="canonical" href="([^"]+)"')
    base = f"http://localhost/results/{world.call_slug}"
    assert canonical.findall(client.get(f"{base}/v2").get_data(as_text=True)) == [base]
    assert canonical.findall(current) == [base]
    assert canonical.findall(old_html) == [f"{base}/v1"]
    statuses = read(app, lambda s: [p.status for p in s.scalars(
        select(Publication).order_by(Publication.version))])
    assert statuses == [PublicationStatus.SUPERSEDED, PublicationStatus.PUBLISHED]


def test_correction_note_in_reader_language(client, app, world):
    corrected(client, app, world)
    logout(client)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "kk"
    assert NOTES["note_kk"] in client.get(f"/results/{world.call_slug}").get_data(as_text=True)


def test_correction_certificates_kept_revoked_and_issued(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    before = certificates(app)
    corrected(client, app, world, first=False)
    after = certificates(app)
    c, d, b = world.entries["C"], world.entries["D"], world.entries["B"]
    assert after[(1, c)] == (before[(1, c)][0], False)  # unchanged award: same certificate
    assert after[(1, d)] == (before[(1, d)][0], True)  # removed award: revoked
    assert (2, b) in after and after[(2, b)][1] is False  # new award: new certificate
    assert (2, c) not in after
    revoked_at, issued_at = read(app, lambda s: (
        s.scalar(select(Certificate.revoked_at).where(Certificate.nomination_id == d)),
        s.scalar(select(Publication.scheduled_for).where(Publication.version == 2))))
    assert revoked_at == issued_at


def test_correction_mails_only_changed_outcomes(client, app, world, outbox):
    login(client, world.admin_email)
    publish(client, world)
    first = len(outbox())
    corrected(client, app, world, first=False)
    new = outbox()[first:]
    # B's applicant (kk) won; D's applicant (en) lost an award; C is unchanged.
    assert sorted(m.to_address for m in new) == ["aliya@example.com", "applicant@example.com"]
    kk = next(m for m in new if m.to_address == "aliya@example.com")
    assert kk.language == "kk"
    assert NOTES["note_kk"] in kk.body_text


def test_scheduled_correction_keeps_old_certificate_valid_until_the_time(client, app, world):
    login(client, world.admin_email)
    publish(client, world)
    open_correction(client, world)
    revoke_and_award(app, world, "D", "B", "laureate")
    when = (utcnow() + timedelta(days=1)).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Almaty")).replace(second=0, microsecond=0)
    response = publish(client, world, mode="schedule", when=when.strftime("%Y-%m-%dT%H:%M"),
                       notes=NOTES)
    assert response.status_code == 303
    assert call_status(app, world) == "results_scheduled"
    from awards.results import services

    def valid(s):
        return services.valid_certificate(s, world.entries["D"], utcnow()) is not None
    assert read(app, valid) is True
    logout(client)
    english(client)
    html = client.get(f"/results/{world.call_slug}").get_data(as_text=True)
    assert "Nominee D" in html and NOTES["note_en"] not in html
    assert client.get(f"/results/{world.call_slug}/v2").status_code == 404
    # withdrawn before its time: the old certificate is not revoked at all
    login(client, world.admin_email)
    html = client.get(overview_url(world)).get_data(as_text=True)
    client.post(f"{overview_url(world)}/versions/2/withdraw",
                data={"csrf_token": csrf_from(html), "state": state_of(html)})
    assert read(app, lambda s: s.scalar(select(Certificate.revoked_at).where(
        Certificate.nomination_id == world.entries["D"]))) is None
    assert call_status(app, world) == "correcting"  # the correction is open again


# ---- e-mails ----------------------------------------------------------------------------------


def test_outcome_mail_per_applicant_in_their_language(client, app, world, outbox):
    login(client, world.admin_email)
    publish(client, world)
    mails = {m.to_address: m for m in outbox()}
    assert set(mails) == {"aliya@example.com", "boris@example.com", "applicant@example.com"}
    assert mails["boris@example.com"].language == "ru"
    assert mails["boris@example.com"].kind.endswith(":winner")
    assert mails["boris@example.com"].subject == (
        "Поздравляем! Ваша заявка награждена в конкурсе «Волонтёр года — 2026»")
    assert "Winner" in mails["boris@example.com"].body_text
    assert mails["aliya@example.com"].language == "kk"
    assert mails["aliya@example.com"].kind.endswith(":other")
    en = mails["applicant@example.com"]
    assert en.subject == ("Congratulations! Your nomination is awarded in "
                          "“Volunteer of the Year 2026”")
    assert "awarded “Laureate”" in en.body_text
    assert "not among the winners this time" in en.body_text  # entries A and E


def test_outcome_mail_other_text_in_english(client, app, world, outbox, make_user):
    def english_loser(s):
        from awards.auth.models import User

        s.scalar(select(User).where(User.email == "aliya@example.com")).preferred_language = "en"
    arrange(app, english_loser)
    login(client, world.admin_email)
    publish(client, world)
    mail = outbox("aliya@example.com")[0]
    assert mail.subject == "The results of “Volunteer of the Year 2026” are published"
    assert "this time your nomination is not among the winners" in mail.body_text


def test_scheduled_mail_waits_for_the_publication_time(client, app, world, outbox,
                                                      smtp_server):
    login(client, world.admin_email)
    _, when = schedule(client, world)
    assert {m.next_attempt_at for m in outbox()} == {when}
    result = app.test_cli_runner().invoke(args=["awards", "mail", "send"])
    assert result.exit_code == 0, result.output
    assert smtp_server.messages == []


def test_outcome_mail_delivered_through_smtp(client, app, world, smtp_server):
    login(client, world.admin_email)
    publish(client, world)
    result = app.test_cli_runner().invoke(args=["awards", "mail", "send"])
    assert result.exit_code == 0, result.output
    messages = smtp_server.wait_for(3)
    assert sorted(m["To"] for m in messages) == ["aliya@example.com", "applicant@example.com",
                                                  "boris@example.com"]
    boris = next(m for m in messages if m["To"] == "boris@example.com")
    assert "Winner" in boris.get_body(("plain",)).get_content()


def test_cli_status_lists_versions(client, app, world):
    corrected(client, app, world)
    result = app.test_cli_runner().invoke(args=["awards", "results", "status", world.call_slug])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{world.call_slug}: call status published"
    assert lines[1].startswith("v1\tsuperseded\t")
    assert lines[2].startswith("v2\tcurrent\t")


def test_cli_publish_due_records_went_live(client, app, world):
    login(client, world.admin_email)
    schedule(client, world)

    def go_live(s):
        s.scalar(select(Publication)).scheduled_for = utcnow() - timedelta(minutes=1)
    arrange(app, go_live)
    result = app.test_cli_runner().invoke(args=["awards", "results", "publish-due"])
    assert result.exit_code == 0, result.output
    assert read(app, lambda s: s.scalar(select(Publication.status))) == \
        PublicationStatus.PUBLISHED
    assert "results.went_live" in audit_actions(app)
