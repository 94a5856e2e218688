"""The published OpenAPI document: stable operationIds, documented responses that real answers match, and
/docs and /redoc that load without a CDN."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jsonschema
import pytest

from tests.legato_server import Api

STABLE = {"createLeg", "listLegs", "getLeg", "legAction", "getRecording", "listLegEvents", "redeliverLegEvent",
          "sandboxIncoming", "getCall", "getCallLog", "getAccount", "createBridge", "getBridge", "bridgeAction",
          "listBridgeEvents", "getHealth", "getReadiness", "getMetrics"}


@pytest.fixture(scope="module")
def document(api: Api) -> dict[str, Any]:
    return httpx.get(api.server.url + "/openapi.json", timeout=10).json()


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for path in document["paths"].values() for op in path.values()}


def check(document: dict[str, Any], operation: str, response: httpx.Response) -> None:
    """The response validates against what the document says of its status code."""
    documented = operations(document)[operation]["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    jsonschema.validate(response.json(), {**schema, "components": document["components"]})


def test_operation_ids_are_stable_names(document: dict[str, Any]) -> None:
    assert set(operations(document)) >= STABLE
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", op_id) for op_id in operations(document))


def test_every_response_has_a_schema_and_errors_use_the_envelope(document: dict[str, Any]) -> None:
    for op_id, op in operations(document).items():
        for status, response in op["responses"].items():
            assert response.get("content"), f"{op_id} {status} has no content"
            for media in response["content"].values():
                assert media["schema"], f"{op_id} {status} has an empty schema"
            if int(status) >= 400 and op_id != "getReadiness":
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorEnvelope"}
            if "application/json" in response["content"]:
                assert "example" in response["content"]["application/json"], f"{op_id} {status} has no example"
    assert "422" not in str([op["responses"].keys() for op in operations(document).values()])


def test_examples_match_their_schemas(document: dict[str, Any]) -> None:
    for op_id, op in operations(document).items():
        for status, response in op["responses"].items():
            media = response["content"].get("application/json")
            if media is not None:
                schema = {**media["schema"], "components": document["components"]}
                jsonschema.validate(media["example"], schema), f"{op_id} {status}"


def test_real_answers_match_the_documented_schemas(api: Api, document: dict[str, Any]) -> None:
    created = api.create_leg("09163816621")
    check(document, "createLeg", created)
    leg_sid = created.json()["response"]["data"]["leg_sid"]
    check(document, "getLeg", api.http.get(f"{api.base}/legs/{leg_sid}"))
    check(document, "listLegs", api.http.get(f"{api.base}/legs"))
    check(document, "listLegEvents", api.http.get(f"{api.base}/legs/{leg_sid}/external-events"))
    check(document, "getAccount", api.http.get(api.base))
    check(document, "createLeg", api.create_leg("09163816621", exophone=None))  # 400
    check(document, "getLeg", api.http.get(f"{api.base}/legs/0ERnNUi0yWCJDlVdMw1xNzIrmSA99999"))  # 404
    check(document, "getHealth", api.http.get("/healthz"))
    check(document, "getReadiness", api.http.get("/readyz"))


def test_docs_and_redoc_load_bundled_assets_only(api: Api) -> None:
    for page in ("/docs", "/redoc"):
        html = api.http.get(page).text
        assets = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html) + re.findall(r"url: ?'([^']+)'", html)
        assert assets, html
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
            assert api.http.get(asset).status_code == 200, asset
