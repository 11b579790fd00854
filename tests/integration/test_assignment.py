"""Assigning jurors to entries through the administrator's pages: the automatic preview and
save, assignments by hand and their refusals, a juror leaving, an administrator's block."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from awards.enums import AssignmentStatus, ConflictSource, JurorStatus, ReviewStatus, RoundStatus
from awards.jury.models import Assignment, Conflict, JuryMember, Round
from tests.factories import arrange, read
from tests.integration.test_jury_setup import (  # noqa: F401  (english_client is the client fixture)
    account,
    active_pairs,
    as_admin,
    assign_rows,
    audit_actions,
    audit_events,
    english_client,
    flashes,
    follow,
    input_value,
    make_world,
    post,
    text_of,
)


def all_rows(app, round_id: int) -> list[tuple[int, int, AssignmentStatus]]:
    return read(app, lambda s: sorted(tuple(row) for row in s.execute(
        select(Assignment.juror_id, Assignment.nomination_id, Assignment.status)
        .where(Assignment.round_id == round_id))))


# ---- automatic ----------------------------------------------------------------------------------


def _auto_world(app):
    # Jurors 0-3 judge every category, juror 4 only "ecology" (odd entries).
    w = make_world(app, entries=12, jurors=5, reviews_per_entry=2,
                   juror_categories={4: ["ecology"]})
    arrange(app, lambda s: s.add(Conflict(user_id=w.jurors[4], nomination_id=w.entries[1],
                                          source=ConflictSource.DECLARED, reason="Friend")))
    assign_rows(app, w.round_id, [(w.jurors[0], w.entries[0])])
    return w


def test_auto_assign_preview_changes_nothing(app, client):
    w = _auto_world(app)
    as_admin(client)
    page = client.get(f"/admin/jury/rounds/{w.round_id}/auto-assign")
    assert page.status_code == 200
    body = text_of(page)
    assert '<dd id="new-count">23</dd>' in body
    assert '<dd id="shortfall-count">0</dd>' in body
    assert active_pairs(app, w.round_id) == {(w.jurors[0], w.entries[0])}
    assert audit_actions(app) == []


def test_auto_assign_save_applies_the_preview(app, client):
    w = _auto_world(app)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/auto-assign"
    page = client.get(url)
    response = post(client, url, {"seed": input_value(page, "seed"),
                                  "digest": input_value(page, "digest")}, csrf_url=url)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/jury/rounds/{w.round_id}/progress"
    assert flashes(follow(client, response)) == [("success", "Assignments saved: 23 new.")]

    pairs = active_pairs(app, w.round_id)
    per_entry = Counter(entry for _j, entry in pairs)
    assert per_entry == dict.fromkeys(w.entries, 2)
    assert (w.jurors[0], w.entries[0]) in pairs  # existing kept
    assert (w.jurors[4], w.entries[1]) not in pairs  # conflicted pair never made
    social = set(w.entries[0::2])
    assert {e for j, e in pairs if j == w.jurors[4]} & social == set()  # category limit
    loads = Counter(j for j, _e in pairs)
    open_loads = [loads[j] for j in w.jurors[:4]]
    assert max(open_loads) - min(open_loads) <= 1
    assert sum(loads.values()) == 24
    assert audit_events(app, "jury.assign_auto") == [(None, {
        "new": 23, "entries": 12, "jurors": 5, "kept": 1, "shortfalls": 0,
        "reviews_per_entry": 2, "seed": w.round_id})]
    assert audit_actions(app) == ["jury.assign_auto"]


def test_auto_assign_save_refused_when_something_changed(app, client):
    w = _auto_world(app)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/auto-assign"
    page = client.get(url)
    # Meanwhile a juror declares a conflict.
    arrange(app, lambda s: s.add(Conflict(user_id=w.jurors[2], nomination_id=w.entries[5],
                                          source=ConflictSource.DECLARED, reason="Neighbour")))
    response = post(client, url, {"seed": input_value(page, "seed"),
                                  "digest": input_value(page, "digest")}, csrf_url=url)
    assert response.status_code == 409
    assert flashes(response) == [("error", "Entries, jurors, conflicts or assignments changed "
                                           "since the preview, so nothing was saved. Check the "
                                           "new preview and save again.")]
    assert active_pairs(app, w.round_id) == {(w.jurors[0], w.entries[0])}
    assert input_value(response, "digest") != input_value(page, "digest")
    assert audit_actions(app) == []


def test_auto_assign_shows_shortfalls(app, client):
    w = make_world(app, entries=3, jurors=1, reviews_per_entry=2)
    as_admin(client)
    page = client.get(f"/admin/jury/rounds/{w.round_id}/auto-assign")
    body = text_of(page)
    assert '<dd id="shortfall-count">3</dd>' in body
    shortfalls = body.split('<table id="shortfalls">')[1].split("</table>")[0]
    assert shortfalls.count("<tr>") == 4  # header + three entries
    assert "VOY-2026-00001" in shortfalls


def test_auto_assign_keeps_removed_and_recused_pairs_out(app, client):
    w = make_world(app, entries=1, jurors=3, reviews_per_entry=2)
    ids = assign_rows(app, w.round_id, [(w.jurors[0], w.entries[0]), (w.jurors[1], w.entries[0])])

    def _end(session):
        session.get(Assignment, ids[0]).status = AssignmentStatus.REMOVED
        session.get(Assignment, ids[1]).status = AssignmentStatus.RECUSED
    arrange(app, _end)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/auto-assign"
    page = client.get(url)
    post(client, url, {"seed": input_value(page, "seed"), "digest": input_value(page, "digest")},
         csrf_url=url)
    assert active_pairs(app, w.round_id) == {(w.jurors[2], w.entries[0])}


# ---- by hand ------------------------------------------------------------------------------------


def test_manual_assignment_added_and_audited(app, client):
    w = make_world(app, entries=2, jurors=2)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/entries"
    response = post(client, f"/admin/jury/rounds/{w.round_id}/assignments/add",
                    {"nomination_id": str(w.entries[0]), "juror_id": str(w.jurors[1])},
                    csrf_url=url)
    page = follow(client, response)
    assert flashes(page) == [("success", "The juror is assigned.")]
    row = text_of(page).split(f'id="entry-{w.entries[0]}"')[1].split("</tr>")[0]
    assert "Juror 1" in row
    assert active_pairs(app, w.round_id) == {(w.jurors[1], w.entries[0])}
    [(before, after)] = audit_events(app, "jury.assignment_add")
    assert (before, after) == (None, {"round_id": w.round_id, "nomination_id": w.entries[0],
                                      "juror_id": w.jurors[1], "status": "active"})


def _refusal_setup(app, w, case):
    j0, e0 = w.jurors[0], w.entries[0]
    if case == "declared":
        arrange(app, lambda s: s.add(Conflict(user_id=j0, nomination_id=e0,
                                              source=ConflictSource.DECLARED, reason="x")))
    elif case == "blocked":
        arrange(app, lambda s: s.add(Conflict(user_id=j0, nomination_id=e0,
                                              source=ConflictSource.ADMIN, reason="x")))
    elif case == "category":
        def _limit(session):
            member = session.get(JuryMember, w.members[0])
            member.categories = [c for c in member.panel.call.categories if c.code == "ecology"]
        arrange(app, _limit)
    elif case == "already":
        assign_rows(app, w.round_id, [(j0, e0)])
    elif case == "recused":
        [a] = assign_rows(app, w.round_id, [(j0, e0)])
        arrange(app, lambda s: setattr(s.get(Assignment, a), "status", AssignmentStatus.RECUSED))
    elif case == "invited":
        arrange(app, lambda s: setattr(s.get(JuryMember, w.members[0]), "status",
                                       JurorStatus.INVITED))
    elif case == "closed":
        arrange(app, lambda s: setattr(s.get(Round, w.round_id), "status", RoundStatus.CLOSED))


@pytest.mark.parametrize("case, message", [
    ("declared", "Juror 0 declared a conflict of interest with this entry."),
    ("blocked", "An administrator has blocked Juror 0 from this entry."),
    ("category", "Juror 0 does not judge the category “Social Helper”."),
    ("already", "Juror 0 is already assigned to this entry."),
    ("recused", "Juror 0 recused themselves from this entry."),
    ("closed", "The round is closed; assignments can no longer change."),
    ("not_in_round", "This entry is not in the round."),
])
def test_manual_assignment_refused(app, client, case, message):
    w = make_world(app, entries=2, jurors=2)
    _refusal_setup(app, w, case)
    before = all_rows(app, w.round_id)
    entry = w.entries[0]
    if case == "not_in_round":
        def _remove(session):
            from awards.jury.models import RoundEntry

            session.delete(session.scalar(select(RoundEntry).where(
                RoundEntry.nomination_id == entry)))
        arrange(app, _remove)
    as_admin(client)
    response = post(client, f"/admin/jury/rounds/{w.round_id}/assignments/add",
                    {"nomination_id": str(entry), "juror_id": str(w.jurors[0])},
                    csrf_url=f"/admin/jury/rounds/{w.round_id}/entries")
    assert response.status_code == 400
    assert flashes(response) == [("error", message)]
    assert all_rows(app, w.round_id) == before
    assert audit_actions(app) == []


def test_manual_assignment_refuses_juror_outside_panel(app, client):
    w = make_world(app, entries=1, jurors=1)
    outsider = arrange(app, lambda s: account(s, "outsider@example.com").id)
    as_admin(client)
    response = post(client, f"/admin/jury/rounds/{w.round_id}/assignments/add",
                    {"nomination_id": str(w.entries[0]), "juror_id": str(outsider)},
                    csrf_url=f"/admin/jury/rounds/{w.round_id}/entries")
    assert response.status_code == 400
    assert flashes(response) == [("error", "Choose a juror of this round's panel.")]
    assert all_rows(app, w.round_id) == []


def test_manual_assignment_reactivates_a_removed_one(app, client):
    w = make_world(app, entries=1, jurors=1)
    [a] = assign_rows(app, w.round_id, [(w.jurors[0], w.entries[0])])
    arrange(app, lambda s: setattr(s.get(Assignment, a), "status", AssignmentStatus.REMOVED))
    as_admin(client)
    post(client, f"/admin/jury/rounds/{w.round_id}/assignments/add",
         {"nomination_id": str(w.entries[0]), "juror_id": str(w.jurors[0])},
         csrf_url=f"/admin/jury/rounds/{w.round_id}/entries")
    assert all_rows(app, w.round_id) == [(w.jurors[0], w.entries[0], AssignmentStatus.ACTIVE)]
    assert audit_events(app, "jury.assignment_add")[0][0] == {"status": "removed"}


def test_manual_removal_and_refusal_when_submitted(app, client):
    w = make_world(app, entries=2, jurors=1)
    [open_id] = assign_rows(app, w.round_id, [(w.jurors[0], w.entries[0])])
    [done_id] = assign_rows(app, w.round_id, [(w.jurors[0], w.entries[1])],
                            review=ReviewStatus.SUBMITTED)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/entries"
    ok = follow(client, post(client, f"/admin/jury/assignments/{open_id}/remove", csrf_url=url))
    assert flashes(ok) == [("success", "The assignment is removed.")]
    refused = follow(client, post(client, f"/admin/jury/assignments/{done_id}/remove",
                                  csrf_url=url))
    assert flashes(refused) == [("error", "The juror has already submitted this review; block "
                                          "the juror from the entry as a conflict of interest "
                                          "if it must not count.")]
    assert all_rows(app, w.round_id) == [
        (w.jurors[0], w.entries[0], AssignmentStatus.REMOVED),
        (w.jurors[0], w.entries[1], AssignmentStatus.ACTIVE)]
    assert audit_events(app, "jury.assignment_remove") == [(
        {"status": "active"},
        {"status": "removed", "round_id": w.round_id, "nomination_id": w.entries[0],
         "juror_id": w.jurors[0]})]


# ---- a juror leaves -----------------------------------------------------------------------------


def test_juror_leaving_previews_then_moves_unfinished_work(app, client):
    w = make_world(app, entries=6, jurors=4, reviews_per_entry=2)
    j0, j1, j2, j3 = w.jurors
    e = w.entries
    assign_rows(app, w.round_id, [(j0, e[0])], review=ReviewStatus.SUBMITTED)
    assign_rows(app, w.round_id, [(j0, e[1])], review=ReviewStatus.DRAFT)
    assign_rows(app, w.round_id, [(j0, e[2]), (j0, e[3]), (j1, e[1]), (j2, e[2]), (j3, e[3])])
    arrange(app, lambda s: s.add(Conflict(user_id=j1, nomination_id=e[2],
                                          source=ConflictSource.DECLARED, reason="x")))
    as_admin(client)
    url = f"/admin/jury/members/{w.members[0]}/remove"
    preview = client.get(url)
    body = text_of(preview)
    assert '<dd class="moved">3</dd>' in body
    assert '<dd class="short">0</dd>' in body
    assert all_rows(app, w.round_id).count((j0, e[2], AssignmentStatus.ACTIVE)) == 1

    response = post(client, url, {"digest": input_value(preview, "digest")}, csrf_url=url)
    page = follow(client, response)
    assert flashes(page) == [("success", "juror0@example.com has left the panel; assignments "
                                         "moved to other jurors: 3.")]
    member = read(app, lambda s: s.get(JuryMember, w.members[0]))
    assert (member.status, member.left_at is not None) == (JurorStatus.LEFT, True)
    pairs = active_pairs(app, w.round_id)
    assert {p for p in pairs if p[0] == j0} == {(j0, e[0])}  # the submitted review stays
    per_entry = Counter(entry for _j, entry in pairs)
    assert (per_entry[e[1]], per_entry[e[2]], per_entry[e[3]]) == (2, 2, 2)
    assert (j1, e[2]) not in pairs
    rows = all_rows(app, w.round_id)
    assert [r for r in rows if r[0] == j0] == [
        (j0, e[0], AssignmentStatus.ACTIVE), (j0, e[1], AssignmentStatus.REMOVED),
        (j0, e[2], AssignmentStatus.REMOVED), (j0, e[3], AssignmentStatus.REMOVED)]
    assert audit_actions(app) == ["jury.member_leave", "jury.reassign"]
    [(before, after)] = audit_events(app, "jury.member_leave")
    assert (before["status"], after["status"]) == ("active", "left")
    [(moved_before, moved_after)] = audit_events(app, "jury.reassign")
    assert sorted(map(tuple, moved_before["removed"])) == [(j0, e[1]), (j0, e[2]), (j0, e[3])]
    assert (len(moved_after["new"]), moved_after["reason"]) == (3, "juror_left")


def test_juror_leaving_refused_when_preview_is_stale(app, client):
    w = make_world(app, entries=2, jurors=3, reviews_per_entry=1)
    assign_rows(app, w.round_id, [(w.jurors[0], w.entries[0])])
    as_admin(client)
    url = f"/admin/jury/members/{w.members[0]}/remove"
    preview = client.get(url)
    assign_rows(app, w.round_id, [(w.jurors[0], w.entries[1])])
    response = post(client, url, {"digest": input_value(preview, "digest")}, csrf_url=url)
    assert response.status_code == 409
    assert read(app, lambda s: s.get(JuryMember, w.members[0]).status) == JurorStatus.ACTIVE
    assert audit_actions(app) == []


# ---- an administrator's block -------------------------------------------------------------------


def test_conflict_block_ends_assignment_and_reassigns(app, client):
    w = make_world(app, entries=2, jurors=3, reviews_per_entry=2)
    j0, j1, j2 = w.jurors
    e0 = w.entries[0]
    assign_rows(app, w.round_id, [(j0, e0), (j1, e0)])
    as_admin(client)
    url = f"/admin/jury/calls/{w.call_id}/conflicts"
    response = post(client, url, {"juror_id": str(j0), "reference": "voy-2026-00001",
                                  "reason": "Works for the nominee"}, csrf_url=url)
    page = follow(client, response)
    assert flashes(page) == [("success", "The juror is blocked from this entry."),
                             ("success", "Assignments ended and given to other jurors: 1.")]
    conflict = read(app, lambda s: s.scalar(select(Conflict)))
    assert (conflict.user_id, conflict.nomination_id, conflict.source, conflict.reason,
            conflict.created_by_id) == (j0, e0, ConflictSource.ADMIN, "Works for the nominee",
                                        w.admin_id)
    assert active_pairs(app, w.round_id) == {(j1, e0), (j2, e0)}
    assert (j0, e0, AssignmentStatus.REMOVED) in all_rows(app, w.round_id)
    assert audit_actions(app) == ["jury.conflict_add", "jury.reassign"]
    # A later automatic run never gives the entry back to the blocked juror.
    auto = client.get(f"/admin/jury/rounds/{w.round_id}/auto-assign")
    post(client, f"/admin/jury/rounds/{w.round_id}/auto-assign",
         {"seed": input_value(auto, "seed"), "digest": input_value(auto, "digest")},
         csrf_url=url)
    assert (j0, e0) not in active_pairs(app, w.round_id)


@pytest.mark.parametrize("data, errors", [
    ({"reference": "VOY-2026-99999"},
     {"reference": "No nomination of this call has this reference."}),
    ({"reason": ""}, {"reason": "This field is required."}),
])
def test_conflict_block_invalid(app, client, data, errors):
    from tests.integration.test_jury_setup import field_errors

    w = make_world(app, entries=1, jurors=1)
    as_admin(client)
    url = f"/admin/jury/calls/{w.call_id}/conflicts"
    form = {"juror_id": str(w.jurors[0]), "reference": "VOY-2026-00001", "reason": "x", **data}
    response = post(client, url, form, csrf_url=url)
    assert response.status_code == 400
    assert field_errors(response) == errors
    assert read(app, lambda s: s.scalar(select(func.count(Conflict.id)))) == 0


def test_conflict_block_twice_is_refused(app, client):
    from tests.integration.test_jury_setup import field_errors

    w = make_world(app, entries=1, jurors=1)
    arrange(app, lambda s: s.add(Conflict(user_id=w.jurors[0], nomination_id=w.entries[0],
                                          source=ConflictSource.DECLARED, reason="x")))
    as_admin(client)
    url = f"/admin/jury/calls/{w.call_id}/conflicts"
    response = post(client, url, {"juror_id": str(w.jurors[0]), "reference": "VOY-2026-00001",
                                  "reason": "y"}, csrf_url=url)
    assert response.status_code == 400
    assert field_errors(response) == {"juror_id": "A conflict of interest between this juror "
                                                  "and this entry is already recorded."}
