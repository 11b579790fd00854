"""Who may call what: one table of role × endpoint × expected status, the same rules as the
pages (someone else's nomination or assignment is a 404; administrator-only areas are a 403;
no or a bad token is a 401)."""

from __future__ import annotations

import pytest

from tests.api_factories import ROLES, api_world
from tests.factories import arrange

ANON, APP, OTHER, JUROR, CONFL, CHAIR, ADMIN, EXPIRED, REVOKED = ROLES


def _row(default: int, **overrides: int) -> dict[str, int]:
    """Expected status per role: ``default`` for the token holders, 401 without a usable
    token unless overridden."""
    row = dict.fromkeys(ROLES, default)
    row[ANON] = 401
    row[EXPIRED] = row[REVOKED] = 401
    row.update({k.replace("__", "_"): v for k, v in overrides.items()})
    return row


PUBLIC = _row(200, anonymous=200)
# (method, path template, JSON body, expected status by role)
TABLE = [
    ("GET", "/api/v1/calls", None, PUBLIC),
    ("GET", "/api/v1/calls/{jury_slug}/categories", None, PUBLIC),
    ("GET", "/api/v1/results/{jury_slug}", None, PUBLIC),
    ("GET", "/api/v1/announcements/{announcement_slug}", None, PUBLIC),
    ("GET", "/api/v1/me", None, _row(200)),
    ("GET", "/api/v1/nominations", None, _row(200)),
    ("GET", "/api/v1/nominations/{own_nomination_id}", None,
     _row(404, applicant=200, admin=200)),
    ("POST", "/api/v1/nominations", {"call": "voy-2026", "category": "social",
                                     "nominator_kind": "self"}, _row(201)),
    ("PATCH", "/api/v1/nominations/{own_nomination_id}", {"answers": {"title": "New title"}},
     _row(404, applicant=200)),
    ("POST", "/api/v1/nominations/{own_nomination_id}/withdraw", {},
     _row(404, applicant=200)),
    ("GET", "/api/v1/assignments/{juror_assignment_id}", None, _row(404, juror=200)),
    ("GET", "/api/v1/assignments/{conflicted_assignment_id}", None, _row(404)),
    ("PUT", "/api/v1/assignments/{juror_assignment_id}/review", {"scores": {"impact": 7}},
     _row(404, juror=200)),
    ("POST", "/api/v1/assignments/{conflicted_assignment_id}/review/submit", {}, _row(404)),
    ("GET", "/api/v1/rounds/{round_id}/ranking", None, _row(403, chair=200, admin=200)),
    ("GET", "/api/v1/calls/{jury_slug}/decisions", None, _row(403, admin=200)),
    ("POST", "/api/v1/calls/{jury_slug}/decisions",
     {"kind": "award", "round_id": "{round_id}", "nomination_id": "{entry_id}",
      "award_level_id": "{level_id}"}, _row(403, admin=201)),
]

CASES = [
    pytest.param(role, method, path, body, expected[role],
                 id=f"{role}-{method}-{path.removeprefix('/api/v1')}")
    for method, path, body, expected in TABLE for role in ROLES
]


def _fill(value, world):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return getattr(world, value[1:-1])
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("role", "method", "path", "body", "expected"), CASES)
def test_api_permissions_by_role(app, client, role, method, path, body, expected):
    world = arrange(app, api_world)
    url = path.format(**vars(world))
    response = client.open(url, method=method, headers=world.headers(role),
                           json=_fill(body, world) if body is not None else None)
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if expected >= 400:
        assert response.mimetype == "application/problem+json"
    if expected == 401:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="awards"'
