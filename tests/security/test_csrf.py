"""Every form that changes something refuses a post without a valid CSRF token, and changes
nothing: a sweep over all POST routes of the application, posted by a logged-in administrator
(who may do the most), with ids that exist."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from awards.db import Base
from tests.conftest import login
from tests.factories import arrange
from tests.ranking_factories import scored_round

# The JSON API authenticates with bearer tokens, not the session cookie: a cross-site form
# cannot carry the token, so it has no CSRF token to check.
NOT_COOKIE_AUTHENTICATED = ("/api/",)


def everything(app) -> dict[str, list[tuple]]:
    engine = app.extensions["awards_db"]["engine"]
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t))]
                for t in Base.metadata.sorted_tables}


def post_routes(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith(NOT_COOKIE_AUTHENTICATED):
            continue
        values = {}
        for arg in rule.arguments:
            converter = rule._converters[arg]
            kind = type(converter).__name__
            if kind == "IntegerConverter":
                values[arg] = 1
            elif kind == "AnyConverter":
                values[arg] = sorted(converter.items)[0] if hasattr(converter, "items") else \
                    re.search(r"\(([^,)]+)", rule.rule).group(1)
            else:
                values[arg] = "voy-2026" if arg == "slug" else "x"
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(rule.endpoint, **values))
    return sorted(set(urls))


# Routes that answer before reading any form, so they have nothing to refuse (the database is
# checked unchanged all the same).
ANSWERED_WITHOUT_ACTING = {
    "/account/login": 302,  # already logged in: sent on
    "/account/register": 302,  # the same
    "/account/password/reset/x": 303,  # not a valid link
    "/nominations/start/voy-2026": 302,  # this call is closed
    # Reads only (the page's button posts, a link GETs the same file); a cross-site post
    # would hand the file to the user's own browser, which the other site cannot read.
    "/account/data/export": 200,
}


@pytest.fixture
def world(app):
    return arrange(app, scored_round)


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "wrong"])
def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(app, client, world, token):
    login(client, world.admin_email)
    client.get("/admin/")  # the session holds a CSRF secret, as after opening any form
    before = everything(app)
    urls = post_routes(app)
    assert len(urls) > 40

    answered = {}
    for url in urls:
        data = {"csrf_token": token} if token else {}
        response = client.post(url, data=data)
        answered[url] = response.status_code

    accepted = {url: code for url, code in answered.items() if code < 400}
    assert accepted == ANSWERED_WITHOUT_ACTING
    after = everything(app)
    # Trying a juror's score sheet is logged as a forbidden attempt before the form is read:
    # a record of the attempt, not a change.
    after["audit_events"] = [e for e in after["audit_events"]
                             if "security.forbidden_attempt" not in e]
    assert after == before
    assert client.get("/admin/").status_code == 200  # still logged in: logout refused too


def test_starting_a_nomination_without_csrf_token_is_refused(app, client, make_user):
    from awards.nominations.models import Nomination
    from tests.factories import make_call

    arrange(app, make_call)
    make_user("applicant@example.com")
    login(client, "applicant@example.com")
    client.get("/calls/voy-2026")

    response = client.post("/nominations/start/voy-2026",
                           data={"category": "social", "nominator_kind": "self"})

    assert response.status_code == 400
    assert everything(app)[Nomination.__tablename__] == []
