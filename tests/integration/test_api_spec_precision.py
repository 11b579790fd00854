"""The OpenAPI document is as precise as the code: the limits the views enforce are
declared, and the refusals a schema-valid request can still get are documented outcomes."""

from __future__ import annotations

import re

import pytest

from awards.api.http import MAX_BODY_BYTES, MAX_DEPTH
from tests.api_factories import api_world
from tests.factories import arrange


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_nomination_list_declares_the_category_limit(app, document, client):
    params = {p["name"]: p for p in document["paths"]["/nominations"]["get"]["parameters"]}
    schema = params["category"]["schema"]
    assert schema["maxLength"] == 40
    assert re.fullmatch(schema["pattern"], "a" * 40)
    assert not re.fullmatch(schema["pattern"], "a\x00b")
    # The limit is the code's: 40 characters pass the parameter check, 41 do not.
    headers = arrange(app, api_world).headers("admin")
    assert client.get("/api/v1/nominations?category=" + "a" * 40,
                      headers=headers).status_code == 200
    refused = client.get("/api/v1/nominations?category=" + "a" * 41, headers=headers)
    assert refused.status_code == 400
    assert refused.get_json()["errors"][0]["field"] == "category"


def _json_body_operations(document):
    return [(path, method, op) for path, methods in document["paths"].items()
            for method, op in methods.items() if "requestBody" in op]


def test_every_json_body_declares_its_size_and_depth_refusals(document):
    operations = _json_body_operations(document)
    assert len(operations) >= 6
    for path, method, op in operations:
        responses = op["responses"]
        assert "payload-too-large" in responses["413"]["description"], (method, path)
        assert str(MAX_BODY_BYTES) in responses["413"]["description"], (method, path)
        assert f"deeper than {MAX_DEPTH} levels" in responses["400"]["description"]
        assert "not valid JSON" in responses["400"]["description"]
        assert "control character" in responses["422"]["description"]
        assert op["requestBody"]["x-max-bytes"] == MAX_BODY_BYTES
        assert op["requestBody"]["x-max-depth"] == MAX_DEPTH
    # Declared once, in the builder: endpoints without a body do not claim them.
    assert "413" not in document["paths"]["/nominations"]["get"]["responses"]


@pytest.mark.parametrize("path, method, words", [
    ("/nominations", "post", ["no call open to applicants", "`nominator_kind`"]),
    ("/nominations/{nomination_id}/submit", "post", ["required answer is missing",
                                                     "consent is not given"]),
    ("/calls/{slug}/decisions", "post", ["not a round of this call",
                                         "award level is not one of the entry's category"]),
])
def test_business_rule_422s_are_documented_outcomes(document, path, method, words):
    description = document["paths"][path][method]["responses"]["422"]["description"]
    assert "validation-failed" in description
    for word in words:
        assert word in description
