"""The administrator's desk (``/admin/``): per active call, what needs doing now, with counts
and links into the step that does it; nothing shown that the call's phase does not allow; a
fixed number of queries whatever the number of calls."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import event, select

from awards.calls.models import Call
from awards.db import get_engine, utcnow
from awards.enums import CallStatus, PublicationStatus, RoundKind, RoundStatus
from awards.jury.models import Round
from awards.public_stage.models import PublicStage
from awards.ranking.models import Decision
from awards.results.models import Citation, Publication
from tests.admin_factories import desk_world
from tests.conftest import login, post_form
from tests.factories import arrange, english, read


def _items(page: str) -> dict[str, dict]:
    """Each to-do item of the page by call id and kind: its count, link and text."""
    out: dict[str, dict] = {}
    for call_id, body in re.findall(r'<section class="card todo-call" id="todo-call-(\d+)"'
                                    r'(.*?)</section>', page, re.S):
        for kind, count, inner in re.findall(
                r'<li class="todo-item[^"]*" data-kind="(\w+)" data-count="(\d+)">(.*?)</li>',
                body, re.S):
            href = re.search(r'href="([^"]+)"', inner).group(1)
            text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inner)).split())
            out[f"{call_id}:{kind}"] = {"count": int(count), "href": html.unescape(href),
                                        "text": text}
    return out


def _desk(client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_desk_says_what_needs_doing_in_each_call_with_links(app, client):
    world = arrange(app, desk_world)
    login(english(client), world.admin_email)
    items = _items(_desk(client))
    judged, screening = world.judged_call_id, world.screening_call_id

    screen = items[f"{screening}:screen"]
    assert screen["count"] == 3 and screen["text"] == "3 entries to screen"
    assert screen["href"] == f"/admin/screening/{screening}/?status=submitted"
    assert client.get(screen["href"]).status_code == 200
    assert items[f"{screening}:consent"]["text"] == "1 nominee's consent missing"

    behind = items[f"{judged}:jurors_behind"]
    assert behind["count"] == 2
    assert behind["text"].startswith("2 assigned reviews not submitted (2 jurors behind)")
    assert "the round closes" in behind["text"]
    assert behind["href"] == f"/admin/jury/rounds/{world.open_round_id}/progress"
    conflict = items[f"{judged}:conflicts"]
    assert conflict["count"] == 1 and conflict["href"] == f"/admin/jury/calls/{judged}/conflicts"
    # The judged call decides in its judging phase; screening is not this phase's business.
    assert f"{judged}:screen" not in items and f"{screening}:jurors_behind" not in items
    # Nothing decided yet in the judging phase: no nagging about winners or citations.
    assert not [k for k in items if k.endswith((":citations", ":publish", ":no_winner"))]


def test_screening_waits_for_the_screening_phase(app, client):
    """Submitted entries of a call still open for nominations are not "to screen" yet: the
    policy allows screening only in the screening phase."""
    world = arrange(app, desk_world)
    arrange(app, lambda s: setattr(s.get(Call, world.screening_call_id), "status",
                                   CallStatus.OPEN))
    login(english(client), world.admin_email)
    items = _items(_desk(client))
    assert f"{world.screening_call_id}:screen" not in items
    assert f"{world.screening_call_id}:consent" in items  # the consent is still awaited


def test_a_decided_winner_without_citation_shows_until_written_then_results_are_ready(
        app, client):
    world = arrange(app, lambda s: desk_world(s, conflict=False, late_reviews=0, to_screen=0))
    login(english(client), world.admin_email)
    url = f"/admin/ranking/rounds/{world.round_id}"
    page = client.get(url).get_data(as_text=True)
    entry = world.entries["A"]
    digest = re.search(rf'name="nomination_id" value="{entry}">\s*<input type="hidden" '
                       r'name="digest" value="(\w+)"', page).group(1)
    response = post_form(client, f"{url}/decisions", {
        "nomination_id": entry, "award_level_id": world.levels["gold"], "digest": digest},
        csrf_url=url)
    assert response.status_code in (302, 303)

    items = _items(_desk(client))
    judged = world.judged_call_id
    citation = items[f"{judged}:citations"]
    assert citation["text"] == "1 citation missing for a decided winner"
    assert citation["href"] == f"/admin/results/calls/{judged}"

    def write_citation_and_deliberate(session):
        session.add(Citation(nomination_id=entry, text_kk="Мәтін", text_ru="Текст",
                             text_en="Text"))
        session.get(Call, judged).status = CallStatus.DELIBERATION
        for r in session.scalars(select(Round).where(Round.call_id == judged)):
            r.status = RoundStatus.CLOSED

    arrange(app, write_citation_and_deliberate)
    items = _items(_desk(client))
    assert f"{judged}:citations" not in items
    assert items[f"{judged}:publish"]["text"] == "Results ready to publish"


def test_deliberation_without_a_decision_points_to_the_ranking(app, client):
    world = arrange(app, lambda s: desk_world(s, conflict=False, late_reviews=0, to_screen=0))
    arrange(app, lambda s: setattr(s.get(Call, world.judged_call_id), "status",
                                   CallStatus.DELIBERATION))
    login(english(client), world.admin_email)
    item = _items(_desk(client))[f"{world.judged_call_id}:decide"]
    assert item["href"] == f"/admin/ranking/rounds/{world.open_round_id}"  # the last round


def test_scheduled_results_show_their_embargo_and_open_stages_show(app, client):
    world = arrange(app, lambda s: desk_world(s, conflict=False, late_reviews=0, to_screen=0))
    when = utcnow() + timedelta(days=2)

    def schedule(session):
        call = session.get(Call, world.judged_call_id)
        call.status = CallStatus.RESULTS_SCHEDULED
        admin_id = session.scalar(select(Decision.decided_by_id)) or 1
        session.add(Publication(call_id=call.id, version=1, status=PublicationStatus.SCHEDULED,
                                scheduled_for=when, created_by_id=admin_id, snapshot={}))
        other = session.get(Call, world.screening_call_id)
        other.status = CallStatus.PUBLIC_STAGE
        session.add(PublicStage(call_id=other.id, opens_at=utcnow() - timedelta(days=1),
                                closes_at=utcnow() + timedelta(days=5)))
        r = session.get(Round, world.open_round_id)
        r.kind = RoundKind.COMMISSION

    from awards.auth.models import User

    arrange(app, lambda s: s.scalar(select(User)))  # the admin exists
    arrange(app, schedule)
    login(english(client), world.admin_email)
    items = _items(_desk(client))
    scheduled = items[f"{world.judged_call_id}:scheduled"]
    assert scheduled["text"].startswith("Results scheduled for publication embargo until ")
    assert items[f"{world.screening_call_id}:public_stage"]["text"].startswith(
        "The people's vote is open until ")
    commission = items[f"{world.judged_call_id}:commission"]
    assert commission["href"] == f"/admin/commission/rounds/{world.open_round_id}"


def test_nothing_due_says_so(app, client):
    world = arrange(app, lambda s: desk_world(s, conflict=False, late_reviews=0, to_screen=0))
    login(english(client), world.admin_email)
    arrange(app, lambda s: [setattr(c, "status", CallStatus.DRAFT)
                            for c in s.scalars(select(Call))])
    page = _desk(client)
    assert _items(page) == {}
    assert 'id="todo-empty"' in page
    assert "Nothing needs doing right now" in html.unescape(page)


def _statements(app, client, url: str, seen: list | None = None) -> int:
    seen = [] if seen is None else seen

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = get_engine()
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen)


def test_the_desk_reads_a_fixed_number_of_queries_whatever_the_calls(app, client):
    world = arrange(app, desk_world)
    login(english(client), world.admin_email)
    _desk(client)
    seen: list[str] = []
    few = _statements(app, client, "/admin/", seen)
    # The page reads the list of calls once; the desk takes it from there.
    assert len([s for s in seen if re.search(r"\bFROM calls\b", s)
                and "JOIN" in s and "programmes" in s]) == 1

    def more_calls(session):
        from tests.screening_factories import make_call, make_nomination

        for n in range(3):
            call = make_call(session, slug=f"more-{n}", prefix=f"M{n}",
                             status=CallStatus.SCREENING, requires_consent=True)
            for i in range(4):
                make_nomination(session, call=call, reference=f"M{n}-2026-{i:05d}",
                                consent="pending")

    arrange(app, more_calls)
    items = _items(_desk(client))
    assert len([k for k in items if k.endswith(":screen")]) == 4
    assert _statements(app, client, "/admin/") == few
    assert read(app, lambda s: s.scalar(select(Call.id).where(Call.slug == "more-2")))
