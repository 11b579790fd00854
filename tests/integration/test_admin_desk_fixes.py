"""What an administrator met trying the product: an award dropdown that preselected "Winner"
(an accidental save awarded everyone), a programme preselected on a new call (a call and its
diplomas went out under the wrong prize), no way to tick every entry for a bulk screening
decision, and statuses shown in English on Kazakh and Russian pages."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from awards.calls.models import Call, Programme
from awards.enums import CallStatus, DecisionKind, JurorStatus, NominationStatus, RoundStatus
from awards.ranking.models import Decision
from tests.admin_factories import desk_world
from tests.conftest import login, post_form
from tests.factories import arrange, english, read
from tests.ranking_factories import scored_round


def _select(page: str, select_id: str) -> list[tuple[str, str, bool]]:
    """(value, text, selected) of each option of a select."""
    body = re.search(rf'<select[^>]*id="{re.escape(select_id)}"[^>]*>(.*?)</select>',
                     page, re.S).group(1)
    return [(re.search(r'value="([^"]*)"', attrs).group(1),
             " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split()),
             re.search(r"\bselected\b", attrs) is not None)
            for attrs, text in re.findall(r"<option([^>]*)>(.*?)</option>", body, re.S)]


# ---- ranking: no award unless one was chosen ---------------------------------------------------


def test_award_dropdowns_start_at_none_and_show_a_decision_made(app, client):
    world = arrange(app, scored_round)
    login(english(client), world.admin_email)
    url = f"/admin/ranking/rounds/{world.round_id}"
    page = client.get(url).get_data(as_text=True)
    a, b = world.entries["A"], world.entries["B"]
    options = _select(page, f"level-{a}")
    assert options[0] == ("", "— none —", True)
    assert [o for o in options if o[2]] == [("", "— none —", True)]  # nothing else selected
    assert [text for _, text, _ in options[1:]] == ["Winner", "Laureate"]

    # Pressing "Award" on an untouched row awards nothing and says why.
    digest = re.search(rf'name="nomination_id" value="{b}">\s*<input type="hidden" '
                       r'name="digest" value="(\w+)"', page).group(1)
    response = post_form(client, f"{url}/decisions",
                         {"nomination_id": b, "award_level_id": "", "digest": digest},
                         csrf_url=url)
    assert response.status_code == 400
    assert "Choose an award level first" in html.unescape(response.get_data(as_text=True))
    assert read(app, lambda s: s.scalar(select(Decision.id))) is None

    response = post_form(client, f"{url}/decisions",
                         {"nomination_id": a, "award_level_id": world.levels["laureate"],
                          "digest": digest}, csrf_url=url)
    assert response.status_code in (302, 303)
    page = client.get(url).get_data(as_text=True)
    assert [o for o in _select(page, f"level-{a}") if o[2]] == [
        (str(world.levels["laureate"]), "Laureate", True)]
    assert [o for o in _select(page, f"level-{b}") if o[2]] == [("", "— none —", True)]


# ---- a new call: the programme is a choice, never a default ------------------------------------


def _programmes(session):
    for slug, name in (("abai", "Abai Prize"), ("voy", "Volunteer of the Year")):
        session.add(Programme(slug=slug, name_en=name, name_ru=name, name_kk=name))


def test_a_new_call_asks_for_its_programme(app, client, make_user):
    make_user("admin@example.com", admin=True, name="Admin")
    arrange(app, _programmes)
    login(english(client), "admin@example.com")
    page = client.get("/admin/calls/new").get_data(as_text=True)
    options = _select(page, "programme_id")
    assert options[0][0] == "" and options[0][2]
    assert [o for o in options if o[2]] == [options[0]]  # no programme preselected
    assert re.search(r'<select[^>]*id="programme_id"[^>]*required', page)

    data = {"slug": "new-2027", "reference_prefix": "NEW", "year": "2027",
            "title_ru": "Новый конкурс", "title_en": "A new call", "timezone": "Asia/Almaty",
            "opens_at": "2027-01-01T00:00", "closes_at": "2027-02-01T00:00",
            "allowed_nominator_kinds": ["self"]}
    response = post_form(client, "/admin/calls/new", data | {"programme_id": ""},
                         csrf_url="/admin/calls/new")
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "Choose the programme this call belongs to." in page
    assert 'value="A new call"' in page  # nothing typed is lost
    assert read(app, lambda s: s.scalar(select(Call.id))) is None

    abai = read(app, lambda s: s.scalar(select(Programme.id).where(Programme.slug == "abai")))
    # The id in other digits ("١" reads as 1 to int()) names no option.
    other_digits = "".join(chr(0x660 + int(d)) for d in str(abai))
    response = post_form(client, "/admin/calls/new", data | {"programme_id": other_digits},
                         csrf_url="/admin/calls/new")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert _select(page, "programme_id")[0][2]  # "choose" again
    assert "Choose the programme this call belongs to." in html.unescape(page)
    assert read(app, lambda s: s.scalar(select(Call.id))) is None

    response = post_form(client, "/admin/calls/new", data | {"programme_id": str(abai)},
                         csrf_url="/admin/calls/new")
    assert response.status_code == 302
    assert read(app, lambda s: s.scalar(select(Call.programme_id))) == abai


# ---- screening: tick every entry at once --------------------------------------------------------


def test_screening_list_offers_select_all_that_works_without_it(app, client):
    world = arrange(app, desk_world)
    login(english(client), world.admin_email)
    page = client.get(f"/admin/screening/{world.screening_call_id}/").get_data(as_text=True)
    # The control is made by the script (a checkbox that does nothing without it is a trap):
    # the page carries the script and the place the count is announced.
    assert re.search(r'<script[^>]+src="[^"]*js/screening\.[0-9a-f.]*js', page)
    assert re.search(r'id="selected-count"[^>]*aria-live="polite"', page)
    # Hidden until the script shows it: no dead control without JavaScript.
    assert re.search(r'<div class="select-all" id="select-all-bar" hidden>', page)
    assert re.search(r'<input type="checkbox" id="select-all">', page)
    boxes = re.findall(r'<input type="checkbox" name="selected" id="select-(\d+)"', page)
    assert {int(b) for b in boxes} >= set(world.to_screen)
    for box in boxes:  # each entry's own box has its label
        assert f'<label for="select-{box}"' in page


# ---- statuses in the page's language ------------------------------------------------------------


RAW = ({s.value for s in NominationStatus} | {s.value for s in CallStatus}
       | {s.value for s in JurorStatus} | {s.value for s in RoundStatus}
       | {k.value for k in DecisionKind} | {"pending", "given", "declined", "not_required"})


def _shown_texts(page: str) -> set[str]:
    """Every run of visible text between two tags (options included), scripts left out."""
    main = page[page.find("<main"):page.find("</main>")]
    main = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", main, flags=re.S)
    return {" ".join(html.unescape(t).split()) for t in re.findall(r">([^<]+)<", main)}


def test_admin_pages_show_statuses_in_kazakh_and_russian(app, client):
    world = arrange(app, desk_world)

    def every_state(session):
        from awards.auth.models import User
        from awards.jury.models import JuryMember, Panel
        from awards.nominations.models import Nomination, StatusChange

        admin = session.scalar(select(User).where(User.email == world.admin_email))
        nomination = session.get(Nomination, world.to_screen[1])
        for before, after in ((NominationStatus.SUBMITTED, NominationStatus.CHANGES_REQUESTED),
                              (NominationStatus.CHANGES_REQUESTED, NominationStatus.WITHDRAWN)):
            session.add(StatusChange(nomination=nomination, from_status=before,
                                     to_status=after, actor_id=admin.id))
        nomination.status = NominationStatus.WITHDRAWN
        session.add(JuryMember(panel=session.scalar(select(Panel)), email="new@example.com",
                               status=JurorStatus.INVITED))
        entry = session.get(Nomination, world.entries["A"])
        for kind, other in ((DecisionKind.ADVANCE, entry.id),
                            (DecisionKind.AWARD, world.entries["B"])):
            session.add(Decision(call_id=entry.call_id, category_id=entry.category_id,
                                 round_id=world.round_id, nomination_id=other, kind=kind,
                                 decided_by_id=admin.id,
                                 award_level_id=world.levels["gold"]
                                 if kind == DecisionKind.AWARD else None))

    arrange(app, every_state)
    login(client, world.admin_email)
    urls = ["/admin/", f"/admin/calls/{world.screening_call_id}",
            f"/admin/calls/{world.judged_call_id}", "/admin/screening/",
            f"/admin/screening/{world.screening_call_id}/",
            f"/admin/screening/{world.screening_call_id}/?status=withdrawn",
            f"/admin/screening/nomination/{world.to_screen[1]}",
            f"/admin/ranking/rounds/{world.round_id}"]
    for language in ("kk", "ru"):
        def prefer(session, language=language):
            from awards.auth.models import User

            session.scalar(select(User).where(User.email == world.admin_email)) \
                .preferred_language = language

        arrange(app, prefer)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            raw = _shown_texts(response.get_data(as_text=True)) & RAW
            assert raw == set(), f"{language} {url}: {sorted(raw)}"
