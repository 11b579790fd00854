"""Public discussion: pre-moderated comments by verified voters, moderation with reasons
(audited), report abuse once per voter, back to the queue after enough reports."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.enums import CommentStatus, StageKind
from awards.public_stage.models import StageComment
from tests.conftest import get_csrf, post_form
from tests.factories import arrange, english, read
from tests.public_stage_factories import SLUG, act_as_voter, make_voter, public_world


@pytest.fixture
def world(app):
    return arrange(app, lambda s: public_world(s, kind=StageKind.DISCUSSION))


def _comment(client, ref, **data):
    url = f"/public/{SLUG}/{ref}"
    return post_form(client, f"{url}/comment", {"author_name": "Dana", "body": "A fine work.",
                                                 **data}, csrf_url=url)


def _status(app):
    return read(app, lambda s: [(c.status, c.report_count) for c in s.scalars(
        select(StageComment).order_by(StageComment.id))])


def _approved_comment(app, world, voter_email="author@example.org"):
    def build(s):
        voter = make_voter(s, voter_email)
        comment = StageComment(stage_id=world.stage_id, nomination_id=world.refs[
            world.references[0]], voter_id=voter.id, author_name="Erlan",
            body="Shameful nonsense", status=CommentStatus.APPROVED)
        s.add(comment)
        s.flush()
        return comment.id
    return arrange(app, build)


def test_comment_waits_for_moderation_before_it_is_shown(app, client, world, login_as):
    act_as_voter(english(client), arrange(app, lambda s: make_voter(s, "d@example.org").id))
    ref = world.references[0]
    response = _comment(client, ref)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your comment will appear once a moderator approves it." in page
    assert "A fine work." not in page
    comment_id = read(app, lambda s: s.scalar(select(StageComment.id)))
    login_as(world.admin_email)
    queue_url = f"/admin/public-stage/{world.call_id}/comments"
    assert "A fine work." in client.get(queue_url).get_data(as_text=True)
    approved = post_form(client, f"/admin/public-stage/{world.call_id}/comments/{comment_id}",
                         {"decision": "approve"}, csrf_url=queue_url)
    assert approved.status_code == 303
    assert "A fine work." in client.get(f"/public/{SLUG}/{ref}").get_data(as_text=True)
    event = read(app, lambda s: s.scalar(select(AuditEvent).where(
        AuditEvent.action == "public_stage.comment_approve")))
    assert event.object_id == str(comment_id)


def test_rejection_needs_a_reason_and_is_audited(app, client, world, login_as):
    act_as_voter(english(client), arrange(app, lambda s: make_voter(s, "d@example.org").id))
    _comment(client, world.references[0], body="Spam spam")
    comment_id = read(app, lambda s: s.scalar(select(StageComment.id)))
    login_as(world.admin_email)
    url = f"/admin/public-stage/{world.call_id}/comments/{comment_id}"
    queue_url = f"/admin/public-stage/{world.call_id}/comments"
    refused = post_form(client, url, {"decision": "reject", "reason": ""}, csrf_url=queue_url)
    assert refused.status_code == 400
    assert "Give the reason for rejecting the comment." in refused.get_data(as_text=True)
    done = post_form(client, url, {"decision": "reject", "reason": "Advertising"},
                     csrf_url=queue_url)
    assert done.status_code == 303
    assert _status(app) == [(CommentStatus.REJECTED, 0)]
    event = read(app, lambda s: s.scalar(select(AuditEvent).where(
        AuditEvent.action == "public_stage.comment_reject")))
    assert '"Advertising"' in event.after


def test_comment_without_text_is_refused_and_typed_name_kept(app, client, world):
    act_as_voter(english(client), arrange(app, lambda s: make_voter(s, "d@example.org").id))
    response = _comment(client, world.references[0], author_name="Dana K", body="  ")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Write your comment." in page
    assert 'value="Dana K"' in page
    assert _status(app) == []


def test_comment_too_long_is_refused(app, client, world):
    act_as_voter(english(client), arrange(app, lambda s: make_voter(s, "d@example.org").id))
    response = _comment(client, world.references[0], body="x" * 2001)
    assert response.status_code == 400
    assert _status(app) == []


def test_comment_needs_a_verified_address(app, client, world):
    response = _comment(english(client), world.references[0])
    assert response.status_code == 303
    assert "/verify" in response.headers["Location"]
    assert _status(app) == []


def test_report_abuse_once_per_voter_and_requeue_after_three(app, client, world):
    comment_id = _approved_comment(app, world)
    ref = world.references[0]
    url = f"/public/{SLUG}/comments/{comment_id}/report"
    ids = arrange(app, lambda s: [make_voter(s, f"r{i}@example.org").id for i in range(3)])
    clients = []
    for voter_id in ids:
        c = english(app.test_client())
        act_as_voter(c, voter_id)
        clients.append(c)
    first = post_form(clients[0], url, {"reason": "insult"}, csrf_url=f"/public/{SLUG}/{ref}")
    assert first.status_code == 303
    again = post_form(clients[0], url, {}, csrf_url=f"/public/{SLUG}/{ref}")
    assert again.status_code == 409
    assert "You have already reported this comment." in again.get_data(as_text=True)
    assert _status(app) == [(CommentStatus.APPROVED, 1)]
    for c in clients[1:]:
        post_form(c, url, {}, csrf_url=f"/public/{SLUG}/{ref}")
    assert _status(app) == [(CommentStatus.PENDING, 3)]
    assert "Shameful nonsense" not in clients[0].get(f"/public/{SLUG}/{ref}").get_data(
        as_text=True)
    assert read(app, lambda s: s.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "public_stage.comment_requeue"))) == "public_stage.comment_requeue"


def test_report_of_unpublished_comment_is_refused(app, client, world):
    comment_id = _approved_comment(app, world)

    def hide(s):
        s.get(StageComment, comment_id).status = CommentStatus.REJECTED
    arrange(app, hide)
    act_as_voter(english(client), arrange(app, lambda s: make_voter(s, "q@example.org").id))
    token = get_csrf(client, f"/public/{SLUG}/")
    response = client.post(f"/public/{SLUG}/comments/{comment_id}/report",
                           data={"csrf_token": token})
    assert response.status_code == 404


def test_vote_in_a_discussion_stage_is_refused(app, client, world):
    act_as_voter(english(client), arrange(app, lambda s: make_voter(s, "d@example.org").id))
    ref = world.references[0]
    token = get_csrf(client, f"/public/{SLUG}/{ref}")
    response = client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": token})
    assert response.status_code == 404
    assert "This call has no public vote." in response.get_data(as_text=True)
