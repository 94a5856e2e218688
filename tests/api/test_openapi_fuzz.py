"""schemathesis against /openapi.json on a running server: no 500s and no undocumented status codes."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.legato_server import Api

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_schema(api: Api) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(api.server.url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_only_documented_statuses(case: schemathesis.Case, api: Api) -> None:
    if "account_sid" in (case.path_parameters or {}):
        case.path_parameters["account_sid"] = api.account.account_sid
    response = case.call(auth=api.account.auth, timeout=10)
    case.validate_response(response, checks=[checks.not_a_server_error, checks.status_code_conformance])
