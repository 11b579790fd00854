"""What a juror may see: blind rounds, other jurors' entries and scores, conflicts, the chair's
panel view, rounds not started, seats left."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.enums import JurorStatus, RoundStatus
from awards.jury import access
from awards.jury.models import Assignment, JuryMember, Round
from awards.nominations.models import Attachment
from tests.conftest import csrf_from
from tests.factories import arrange, english, read
from tests.jury_factories import (
    NOMINEE,
    ORGANISATION,
    SECRET_CITY_ANSWER,
    add_conflict,
    add_review,
    jury_setup,
)

IDENTITY = (NOMINEE, ORGANISATION, SECRET_CITY_ANSWER, "aigerim@example.org", "face.pdf",
            "Applicant Person")


def attachments_of(app, nomination_id: int) -> dict[str, int]:
    return read(app, lambda s: {a.original_name: a.id for a in s.scalars(
        select(Attachment).where(Attachment.nomination_id == nomination_id))})


def forbidden_attempts(app) -> list[tuple[str, int | None, str]]:
    return read(app, lambda s: [
        (e.object_id, e.actor_id, e.after_data()["path"]) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "security.forbidden_attempt")
            .order_by(AuditEvent.id))])


def logged_in(client, login_as, email):
    english(client)
    login_as(email)
    return client


# ---- blind rounds ---------------------------------------------------------------------------


def test_blind_round_hides_identity_on_page_and_downloads(app, client, login_as):
    world = arrange(app, lambda s: jury_setup(s, blind=True))
    logged_in(client, login_as, world.juror_email)
    target = world.mine[0]
    files = attachments_of(app, world.entry_ids[0])

    body = client.get(f"/jury/assignments/{target}").get_data(as_text=True)
    for secret in IDENTITY:
        assert secret not in body, secret
    assert "Clean rivers" in body  # the entry itself is there
    # Files keep their extension only: "report.pdf" could have been "Aigerim_Sadykova.pdf".
    assert (f'/jury/assignments/{target}/attachments/{files["report.pdf"]}">Attachment 1.pdf</a>'
            in body)
    assert "report.pdf" not in body
    dashboard = client.get("/jury/").get_data(as_text=True)
    assert NOMINEE not in dashboard

    photo = client.get(f"/jury/assignments/{target}/attachments/{files['face.pdf']}")
    document = client.get(f"/jury/assignments/{target}/attachments/{files['report.pdf']}")
    assert (photo.status_code, document.status_code) == (404, 200)
    assert document.headers["Cache-Control"] == "private, no-store"
    assert document.headers["Content-Disposition"] == 'attachment; filename="Attachment 1.pdf"'


def test_open_round_shows_identity_and_identifying_answers(app, client, login_as):
    world = arrange(app, lambda s: jury_setup(s, blind=False))
    logged_in(client, login_as, world.juror_email)
    target = world.mine[0]
    files = attachments_of(app, world.entry_ids[0])
    body = client.get(f"/jury/assignments/{target}").get_data(as_text=True)
    for shown in (NOMINEE, SECRET_CITY_ANSWER, "face.pdf"):
        assert shown in body, shown
    photo = client.get(f"/jury/assignments/{target}/attachments/{files['face.pdf']}")
    assert photo.status_code == 200


def test_attachment_of_another_entry_is_404(app, client, login_as):
    world = arrange(app, lambda s: jury_setup(s))
    logged_in(client, login_as, world.juror_email)
    other_file = attachments_of(app, world.entry_ids[1])["report.pdf"]
    response = client.get(f"/jury/assignments/{world.mine[0]}/attachments/{other_file}")
    assert response.status_code == 404


# ---- other jurors' assignments and scores -----------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/recuse", "/panel", "/attachments/1"])
def test_other_jurors_assignment_get_is_404(app, client, login_as, suffix):
    world = arrange(app, lambda s: jury_setup(s))
    logged_in(client, login_as, world.juror_email)
    response = client.get(f"/jury/assignments/{world.others[0]}{suffix}")
    assert response.status_code == 404
    assert NOMINEE not in response.get_data(as_text=True)
    assert forbidden_attempts(app) == []  # a look is not an attempt to change anything


@pytest.mark.parametrize("suffix", ["", "/reopen", "/recuse"])
@pytest.mark.parametrize("whose", ["others", "missing"])
def test_other_jurors_assignment_post_is_404_and_audited(app, client, login_as, suffix, whose):
    world = arrange(app, lambda s: jury_setup(s))
    logged_in(client, login_as, world.juror_email)
    target = world.others[0] if whose == "others" else 9999
    csrf = csrf_from(client.get("/jury/").get_data(as_text=True))
    path = f"/jury/assignments/{target}{suffix}"
    response = client.post(path, data={
        "csrf_token": csrf, "action": "submit", "version": "0", "reason": "x", "confirm": "y",
        **{f"score_{cid}": "5" for cid in world.criterion_ids.values()}})
    assert response.status_code == 404
    assert forbidden_attempts(app) == [(str(target), world.juror_id, path)]
    if whose == "others":
        assert read(app, lambda s: s.get(Assignment, target).review) is None


def test_other_jurors_scores_absent_before_close(app, client, login_as):
    world = arrange(app, lambda s: jury_setup(s))

    def other_reviews(s):
        add_review(s, s.get(Assignment, world.others[0]),
                   {"impact": 3, "originality": 9.5, "scale": 2}, total=17.5,
                   comment="OTHER-JUROR-COMMENT", note="OTHER-PRIVATE-NOTE")
    arrange(app, other_reviews)
    logged_in(client, login_as, world.juror_email)
    body = client.get(f"/jury/assignments/{world.mine[0]}").get_data(as_text=True)
    for secret in ("OTHER-JUROR-COMMENT", "OTHER-PRIVATE-NOTE", "9.5", "17.5", "Juror Two"):
        assert secret not in body, secret
    assert f"/jury/assignments/{world.mine[0]}/panel" not in body
    assert client.get(f"/jury/assignments/{world.mine[0]}/panel").status_code == 404


# ---- conflicts ------------------------------------------------------------------------------


def test_conflicted_juror_gets_404_everywhere(app, client, login_as):
    world = arrange(app, lambda s: jury_setup(s))
    arrange(app, lambda s: add_conflict(s, s.get(Assignment, world.mine[0]).juror,
                                        s.get(Assignment, world.mine[0]).nomination))
    logged_in(client, login_as, world.juror_email)
    target = world.mine[0]
    report = attachments_of(app, world.entry_ids[0])["report.pdf"]
    for url in (f"/jury/assignments/{target}", f"/jury/assignments/{target}/recuse",
                f"/jury/assignments/{target}/attachments/{report}"):
        assert client.get(url).status_code == 404, url
    dashboard = client.get("/jury/").get_data(as_text=True)
    assert f'data-assignment="{target}"' not in dashboard
    assert f'data-assignment="{world.mine[1]}"' in dashboard
    assert read(app, lambda s: access.has_conflict(s, world.juror_id, world.entry_ids[0]))


# ---- the chair's panel view -------------------------------------------------------------------


@pytest.mark.parametrize(("round_flag", "call_flag", "status"), [
    (True, True, 200),
    (False, True, 404),
    (True, False, 404),
])
def test_chair_panel_view_follows_the_setting(app, client, login_as, round_flag, call_flag,
                                              status):
    world = arrange(app, lambda s: jury_setup(s))

    def arrange_reviews(s):
        s.get(Round, world.round_id).show_scores_to_chairs = round_flag
        s.get(Round, world.round_id).call.show_scores_to_chairs = call_flag
        add_review(s, s.get(Assignment, world.others[0]),
                   {"impact": 3, "originality": 9.5, "scale": 2}, total=17.5,
                   comment="OTHER-JUROR-COMMENT", note="OTHER-PRIVATE-NOTE")
        add_review(s, s.get(Assignment, world.mine[0]), {"impact": 4}, submitted=False,
                   comment="DRAFT-COMMENT")
    arrange(app, arrange_reviews)
    logged_in(client, login_as, world.chair_email)
    response = client.get(f"/jury/assignments/{world.chairs[0]}/panel")
    assert response.status_code == status
    page = client.get(f"/jury/assignments/{world.chairs[0]}").get_data(as_text=True)
    assert (f"/jury/assignments/{world.chairs[0]}/panel" in page) == (status == 200)
    if status == 200:
        body = response.get_data(as_text=True)
        assert "OTHER-JUROR-COMMENT" in body
        assert '<td class="num">17.5</td>' in body
        assert '<td class="num">9.5</td>' in body
        assert "OTHER-PRIVATE-NOTE" not in body
        assert "DRAFT-COMMENT" not in body  # drafts show no scores or comments


def test_chair_panel_view_forbidden_when_conflicted(app, client, login_as):
    world = arrange(app, lambda s: jury_setup(s))
    arrange(app, lambda s: add_conflict(s, s.get(Assignment, world.chairs[0]).juror,
                                        s.get(Assignment, world.chairs[0]).nomination))
    logged_in(client, login_as, world.chair_email)
    assert client.get(f"/jury/assignments/{world.chairs[0]}/panel").status_code == 404
    assert client.get(f"/jury/assignments/{world.chairs[1]}/panel").status_code == 200


def test_access_predicates_for_jurors_and_chairs(app):
    world = arrange(app, lambda s: jury_setup(s))

    def check(s):
        from awards.auth.models import User

        juror, chair = s.get(User, world.juror_id), s.get(User, world.chair_id)
        call = s.get(Round, world.round_id).call
        outsider = s.get(User, 1)  # the applicant
        return (access.is_juror(s, juror, call), access.is_chair(s, juror, call),
                access.is_juror(s, chair, call), access.is_chair(s, chair, call),
                access.is_juror(s, outsider, call),
                access.visible_assignment(s, juror, world.mine[0]) is not None,
                access.visible_assignment(s, juror, world.others[0]) is None)
    assert read(app, check) == (True, False, True, True, False, True, True)


# ---- rounds not started, seats left -----------------------------------------------------------


def _draft_round(s, world):
    s.get(Round, world.round_id).status = RoundStatus.DRAFT


def _seat_left(s, world):
    member = s.scalar(select(JuryMember).where(JuryMember.user_id == world.juror_id))
    member.status = JurorStatus.LEFT


@pytest.mark.parametrize("change", [_draft_round, _seat_left], ids=["draft-round", "seat-left"])
def test_assignment_hidden_when_round_not_started_or_seat_left(app, client, login_as, change):
    world = arrange(app, lambda s: jury_setup(s))
    arrange(app, lambda s: change(s, world))
    logged_in(client, login_as, world.juror_email)
    assert client.get(f"/jury/assignments/{world.mine[0]}").status_code == 404
    assert "You have no entries to judge." in client.get("/jury/").get_data(as_text=True)
