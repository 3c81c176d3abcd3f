"""The control API's OpenAPI document (``simulator/control/openapi.json``, served at ``GET /_control/openapi.json``):
valid, complete (every ``/_control/`` route of the app is documented and every documented operation exists), and
true: real requests through Flask's test client, happy paths and errors, are validated against it with
openapi-core, the request and the response."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

import flask
import pytest
from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.validation.request.exceptions import RequestValidationError
from openapi_spec_validator import validate
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from simulator.control.openapi_api import openapi_document
from tests.sim_callback_fakes import Receiver, build, register

METHODS = ("get", "put", "post", "delete", "patch")
DASHBOARD = "/_control/dashboard"


def _shape(path: str) -> str:
    """A path with its parameters blanked: ``/a/<int:x>/b`` and ``/a/{x}/b`` both read ``/a/{}/b``."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), _shape(path))
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def app_operations(app: flask.Flask) -> set[tuple[str, str]]:
    return {
        (method, _shape(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/_control/") and not rule.rule.startswith(DASHBOARD)
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


@pytest.fixture
def app() -> flask.Flask:
    return build(Receiver())


class CheckedClient:
    """Flask's test client whose every call is validated against the document: the request (valid, or with
    ``request_valid=False`` one the document must refuse) and the response; it notes the statuses seen per
    documented operation."""

    def __init__(self, client: FlaskClient, document: dict[str, Any]) -> None:
        self.client = client
        self.openapi = OpenAPI.from_dict(document)
        self.seen: dict[tuple[str, str], set[int]] = defaultdict(set)
        self._adapter = client.application.url_map.bind("localhost")

    def call(
        self,
        method: str,
        path: str,
        status: int,
        *,
        json: Any = None,
        data: str | None = None,
        request_valid: bool = True,
    ) -> Any:
        sent: dict[str, Any] = (
            {"data": data, "content_type": "application/json"} if data is not None else {"json": json}
        )
        response = self.client.open(path, method=method, **sent)
        assert response.status_code == status, (method, path, response.get_json())
        # the app has read the request's body: validate a twin built from the same arguments
        request = WerkzeugOpenAPIRequest(Request(EnvironBuilder(path, method=method, **sent).get_environ()))
        if request_valid:
            self.openapi.validate_request(request)
        else:
            with pytest.raises(RequestValidationError):  # the document refuses it too (not just "no such path")
                self.openapi.validate_request(request)
        self.openapi.validate_response(request, WerkzeugOpenAPIResponse(response))
        rule, _ = self._adapter.match(path.split("?")[0], method=method, return_rule=True)
        self.seen[(method, _shape(rule.rule))].add(status)
        return response.get_json()

    def get(self, path: str, status: int = 200, **kwargs: Any) -> Any:
        return self.call("GET", path, status, **kwargs)

    def post(self, path: str, status: int = 200, **kwargs: Any) -> Any:
        return self.call("POST", path, status, **kwargs)

    def put(self, path: str, status: int = 200, **kwargs: Any) -> Any:
        return self.call("PUT", path, status, **kwargs)

    def delete(self, path: str, status: int = 200, **kwargs: Any) -> Any:
        return self.call("DELETE", path, status, **kwargs)


# -- the document -------------------------------------------------------------------------------------------------


def test_document_is_valid_openapi() -> None:
    document = openapi_document()
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_document_is_served(app: flask.Flask) -> None:
    response = app.test_client().get("/_control/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == openapi_document()


def test_every_control_route_is_documented(app: flask.Flask) -> None:
    missing = app_operations(app) - documented_operations(openapi_document())
    assert not missing, f"add these /_control/ operations to simulator/control/openapi.json: {sorted(missing)}"


def test_every_documented_operation_exists(app: flask.Flask) -> None:
    unknown = documented_operations(openapi_document()) - app_operations(app)
    assert not unknown, f"documented but not served: {sorted(unknown)}"


def test_integer_path_parameters_match_the_routes(app: flask.Flask) -> None:
    """``<int:...>`` in a route is an integer in the document, anything else a string, in the same order."""
    document = openapi_document()
    by_shape = {_shape(path): (path, item) for path, item in document["paths"].items()}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/_control/") or rule.rule.startswith(DASHBOARD):
            continue
        path, item = by_shape[_shape(rule.rule)]
        names = re.findall(r"\{([^}]+)\}", path)
        kinds = ["integer" if spec.startswith("int:") else "string" for spec in re.findall(r"<([^>]+)>", rule.rule)]
        params = {p["name"]: p for p in _resolved(document, item.get("parameters", [])) if p["in"] == "path"}
        assert [params[name]["schema"]["type"] for name in names] == kinds, path


def _resolved(document: dict[str, Any], params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    resolved = []
    for param in params:
        if "$ref" in param:
            name = param["$ref"].rsplit("/", 1)[-1]
            param = document["components"]["parameters"][name]
        resolved.append(param)
    return resolved


def test_document_file_is_formatted_json() -> None:
    """The file stays diff-friendly: what ``json.dumps(indent=2)`` writes."""
    from importlib import resources

    text = resources.files("simulator.control").joinpath("openapi.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


# -- real requests against the document ---------------------------------------------------------------------------


def test_real_requests_and_answers_match_the_document(app: flask.Flask) -> None:
    document = openapi_document()
    api = CheckedClient(app.test_client(), document)

    _simulator(api)
    _ecwid(api)
    _bank(api)
    _callbacks(api)
    _faults_and_shapes(api)
    _journal_and_runs(api)
    api.post("/_control/reset")

    documented = documented_operations(document)
    assert set(api.seen) == documented, f"not exercised: {sorted(documented - set(api.seen))}"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            statuses = {int(code) for code in operation["responses"]}
            seen = api.seen[(method.upper(), _shape(path))]
            assert statuses == seen, f"{method.upper()} {path}: documented {sorted(statuses)}, exercised {sorted(seen)}"


def _simulator(api: CheckedClient) -> None:
    assert api.get("/_control/openapi.json")["openapi"].startswith("3.1")
    assert api.get("/_control/health") == {"status": "ok"}
    assert api.get("/_control/config")["callbackSigned"] is True
    assert api.put("/_control/config", json={"callbackMethod": "POST"})["callbackMethod"] == "POST"
    api.put("/_control/config", 400, json={"unknown": 1}, request_valid=False)
    assert api.put("/_control/clock", json={"mode": "manual"})["mode"] == "manual"
    api.put("/_control/clock", 400, json={"mode": "fast"}, request_valid=False)
    assert api.get("/_control/clock")["offsetSeconds"] == 0
    assert api.post("/_control/clock/advance", json={"seconds": 1.5})["ranJobs"] >= 0
    api.post("/_control/clock/advance", 400, json={"seconds": -1}, request_valid=False)


def _ecwid(api: CheckedClient) -> None:
    order = api.post(
        "/_control/ecwid/orders",
        201,
        json={"storeId": 1003, "total": 12.5, "id": "E-1", "items": [{"name": "Tea", "price": 12.5, "quantity": 1}]},
    )
    assert order["id"] == "E-1"
    api.post("/_control/ecwid/orders", 400, json={"storeId": 1003, "total": 0}, request_valid=False)
    api.post("/_control/ecwid/orders", 400, data="[1]", request_valid=False)
    api.post("/_control/ecwid/orders", 404, json={"storeId": 9, "total": 1})
    api.post("/_control/ecwid/orders", 409, json={"storeId": 1003, "total": 1, "id": "E-1"})
    assert len(api.get("/_control/ecwid/orders?storeId=1003")["orders"]) == 1
    api.get("/_control/ecwid/orders?storeId=x", 400, request_valid=False)
    assert api.get("/_control/ecwid/orders/1003/E-1")["storeId"] == 1003
    api.get("/_control/ecwid/orders/1003/nope", 404)
    assert api.post("/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": "E-1"})["enc_data"]
    api.post("/_control/ecwid/payment-request", 400, json={"storeId": 1003}, request_valid=False)
    api.post("/_control/ecwid/payment-request", 404, json={"storeId": 1003, "orderId": "nope"})
    _ecwid_failures_and_history(api)


def _ecwid_failures_and_history(api: CheckedClient) -> None:
    fault = api.post("/_control/ecwid/faults", 201, json={"fault": "http_503", "times": 2})
    assert fault["remaining"] == 2
    api.post("/_control/ecwid/faults", 400, json={"fault": "explode"}, request_valid=False)
    api.post("/_control/ecwid/faults", 404, json={"fault": "http_500", "storeId": 9})
    assert len(api.get("/_control/ecwid/faults")["faults"]) == 1
    assert api.delete(f"/_control/ecwid/faults/{fault['id']}") == {"deleted": 1}
    api.delete(f"/_control/ecwid/faults/{fault['id']}", 404)
    api.post("/_control/ecwid/faults", 201, json={"fault": "rate_limited", "retryAfterSeconds": 3})
    assert api.delete("/_control/ecwid/faults") == {"deleted": 1}
    assert api.put("/_control/ecwid/faults/settings", json={"maxSleepSeconds": 3})["maxSleepSeconds"] == 3
    api.put("/_control/ecwid/faults/settings", 400, json={}, request_valid=False)

    assert api.get("/_control/ecwid/rate-limit")["requestsPerMinute"] == 600
    assert api.put("/_control/ecwid/rate-limit", json={"requestsPerMinute": 5})["requestsPerMinute"] == 5
    api.put("/_control/ecwid/rate-limit", 400, json={"requestsPerMinute": 0}, request_valid=False)

    assert api.get("/_control/ecwid/webhooks")["enabled"] is False
    assert api.put("/_control/ecwid/webhooks", json={"url": "http://merchant.test/hook"})["enabled"] is True
    api.put("/_control/ecwid/webhooks", 400, json={"url": "not a url"}, request_valid=False)
    api.put("/_control/ecwid/webhooks", 404, json={"url": "http://merchant.test/hook", "storeId": 9})
    assert api.delete("/_control/ecwid/webhooks")["enabled"] is False

    fake = api.post("/_control/ecwid/orders/fake", 201, json={"storeId": 1003, "currency": "EUR", "idStyle": "odd"})
    order_id = fake["order"]["id"]
    api.post("/_control/ecwid/orders/fake", 400, json={"storeId": 1003, "currency": "GBP"}, request_valid=False)
    api.post("/_control/ecwid/orders/fake", 404, json={"storeId": 9})
    api.post("/_control/ecwid/orders/fake", 409, json={"storeId": 1003, "id": order_id})
    history = api.get(f"/_control/ecwid/orders/1003/{fake['order']['internalId']}/history")
    assert history["history"] == []
    api.get("/_control/ecwid/orders/1003/nope/history", 404)


def _bank(api: CheckedClient) -> None:
    client = api.client
    paid = register(client, "B-1")
    api.put(f"/_control/vpos/orders/{paid}/callbacks", json={"mode": "hold"})
    assert api.get("/_control/vpos/orders?orderNumber=B-1")["orders"][0]["mdOrder"] == paid
    assert api.get(f"/_control/vpos/orders/{paid}")["orderStatus"] == 0
    api.get("/_control/vpos/orders/nope", 404)
    card = {"pan": "4000000000003220", "expiry": "12/39", "cvc": "123"}
    api.post("/_control/vpos/orders/nope/pay", 404, json=card)
    api.post(f"/_control/vpos/orders/{paid}/pay", 400, json={"pan": ""}, request_valid=False)
    at_acs = api.post(f"/_control/vpos/orders/{paid}/pay", json=card)
    assert at_acs["orderStatus"] == 5
    assert api.post(f"/_control/vpos/orders/{paid}/pay", 409, json=card)["alreadyProcessed"] is True
    decided = api.post(f"/_control/vpos/orders/{paid}/outcome", json={"outcome": "pay", "eci": "05"})
    assert decided["orderStatus"] == 2
    assert decided["order"]["cardAuthInfo"]["secureAuthInfo"] == {"eci": 5}
    api.post(f"/_control/vpos/orders/{paid}/outcome", 409, json={"outcome": "decline"})
    api.post(
        f"/_control/vpos/orders/{paid}/outcome", 400, json={"outcome": "decline", "actionCode": 0}, request_valid=False
    )
    api.post("/_control/vpos/orders/nope/outcome", 404, json={"outcome": "pay"})
    pending = register(client, "B-2")
    result = api.post(
        f"/_control/vpos/orders/{pending}/outcome",
        json={"outcome": "pending", "resolveAfterSeconds": 600, "resolveTo": "declined", "actionCode": 151019},
    )
    assert result["resolvesAt"] is not None
    assert result["order"]["pending"]["resolveTo"] == "declined"
    assert api.get("/_control/vpos/cards")["otp"]
    assert api.get("/_control/vpos/bank")["pendingSeconds"] == 60
    assert api.put("/_control/vpos/bank", json={"pendingSeconds": 5})["pendingSeconds"] == 5
    api.put("/_control/vpos/bank", 400, json={"pendingSeconds": 0}, request_valid=False)


def _callbacks(api: CheckedClient) -> None:
    client = api.client
    assert api.get("/_control/vpos/callbacks")["mode"] == "immediate"
    assert api.put("/_control/vpos/callbacks", json={"delaySeconds": 1, "retry": {"times": 2}})["maxRetries"] == 2
    api.put("/_control/vpos/callbacks", 400, json={}, request_valid=False)

    md_order = register(client, "C-1")
    rules = api.put(f"/_control/vpos/orders/{md_order}/callbacks", json={"mode": "hold", "method": None})
    assert rules["rules"] == {"mode": "hold"}
    api.put(f"/_control/vpos/orders/{md_order}/callbacks", 400, json={"mode": "never"}, request_valid=False)
    api.put("/_control/vpos/orders/nope/callbacks", 404, json={"mode": "hold"})
    paid = api.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": "4242424242424242", "expiry": "12/39"})
    (held,) = paid["callback"]["callbackIds"]
    assert api.get(f"/_control/vpos/orders/{md_order}/callbacks")["callbacks"][0]["state"] == "held"
    api.get("/_control/vpos/orders/nope/callbacks", 404)

    injected = api.post(
        f"/_control/vpos/orders/{md_order}/callbacks", 201, json={"operation": "declinedByTimeout", "status": 0}
    )
    (timeout,) = injected["callbackIds"]
    api.post(
        f"/_control/vpos/orders/{md_order}/callbacks", 400, json={"operation": "paid", "status": 1}, request_valid=False
    )
    api.post("/_control/vpos/orders/nope/callbacks", 404, json={"operation": "deposited", "status": 1})
    api.put("/_control/config", json={"callbackUrl": None})
    api.post(f"/_control/vpos/orders/{md_order}/callbacks", 409, json={"operation": "deposited", "status": 1})
    api.put("/_control/config", json={"callbackUrl": "http://merchant.test/bank/callback"})

    queue = api.get(f"/_control/vpos/callbacks/pending?mdOrder={md_order}")["orders"][0]["callbacks"]
    assert [callback["id"] for callback in queue] == [held, timeout]
    assert api.get(f"/_control/vpos/callbacks/{held}")["id"] == held
    api.get("/_control/vpos/callbacks/9999", 404)

    assert api.post(f"/_control/vpos/callbacks/{timeout}/move", json={"position": 0})["position"] == 0
    api.post(f"/_control/vpos/callbacks/{timeout}/move", 400, json={}, request_valid=False)
    api.post("/_control/vpos/callbacks/9999/move", 404, json={"position": 0})

    (copy,) = api.post(f"/_control/vpos/callbacks/{held}/duplicate", 201, json={"times": 1})["callbacks"]
    api.post(f"/_control/vpos/callbacks/{held}/duplicate", 400, json={"times": 0}, request_valid=False)
    api.post("/_control/vpos/callbacks/9999/duplicate", 404)
    assert api.post(f"/_control/vpos/callbacks/{copy['id']}/drop")["state"] == "dropped"
    api.post(f"/_control/vpos/callbacks/{copy['id']}/drop", 409)
    api.post("/_control/vpos/callbacks/9999/drop", 404)
    api.post(f"/_control/vpos/callbacks/{copy['id']}/duplicate", 409)
    api.post(f"/_control/vpos/callbacks/{copy['id']}/move", 409, json={"position": 0})

    assert api.post(f"/_control/vpos/callbacks/{timeout}/deliver")["state"] == "delivered"
    api.post(f"/_control/vpos/callbacks/{timeout}/deliver", 409)
    api.post("/_control/vpos/callbacks/9999/deliver", 404)

    api.post(f"/_control/vpos/orders/{md_order}/callbacks/release", 400, json={"ids": []}, request_valid=False)
    api.post("/_control/vpos/orders/nope/callbacks/release", 404)
    released = api.post(f"/_control/vpos/orders/{md_order}/callbacks/release", json={"ids": [held]})
    assert [callback["state"] for callback in released["callbacks"]] == ["delivered"]
    api.post(f"/_control/vpos/orders/{md_order}/callbacks/release")

    assert len(api.get("/_control/vpos/callbacks/sent?orderNumber=C-1")["callbacks"]) == 2
    assert api.post(f"/_control/vpos/callbacks/{held}/replay", 201)["replayOf"] == held
    api.post("/_control/vpos/callbacks/9999/replay", 404)

    assert api.delete(f"/_control/vpos/orders/{md_order}/callbacks")["rules"] == {}
    api.delete("/_control/vpos/orders/nope/callbacks", 404)


def _faults_and_shapes(api: CheckedClient) -> None:
    fault = api.post("/_control/vpos/faults", 201, json={"method": "register.do", "fault": "http_503", "times": 1})
    api.post("/_control/vpos/faults", 201, json={"method": "*", "fault": "malformed_json", "orderNumber": "X"})
    api.post("/_control/vpos/faults", 400, json={"method": "register", "fault": "drop"}, request_valid=False)
    assert len(api.get("/_control/vpos/faults")["faults"]) == 2
    assert api.get(f"/_control/vpos/faults/{fault['id']}")["remaining"] == 1
    api.get("/_control/vpos/faults/9999", 404)
    assert api.delete(f"/_control/vpos/faults/{fault['id']}") == {"deleted": 1}
    api.delete(f"/_control/vpos/faults/{fault['id']}", 404)
    assert api.delete("/_control/vpos/faults") == {"deleted": 1}
    assert api.put("/_control/vpos/faults/settings", json={"maxSleepSeconds": 3}) == {"maxSleepSeconds": 3}
    api.put("/_control/vpos/faults/settings", 400, json={}, request_valid=False)

    assert api.get("/_control/vpos/shapes")["merchants"] == {}
    change = {"merchant": "shop_amd", "errorCodeType": {"*": "number"}, "omitErrorCodeOnSuccess": {"register.do": True}}
    shapes = api.put("/_control/vpos/shapes", json={**change, "statusVersion": 30, "declinedErrorCode": 2})
    assert shapes["merchants"]["shop_amd"]["statusVersion"] == 30
    api.put("/_control/vpos/shapes", 404, json={"merchant": "nobody", "statusVersion": 3})
    api.put("/_control/vpos/shapes", 400, json={"merchant": "shop_amd"}, request_valid=False)
    assert api.delete("/_control/vpos/shapes")["merchants"] == {}


def _journal_and_runs(api: CheckedClient) -> None:
    run = api.post("/_control/runs", 201, json={"name": "openapi"})
    api.post("/_control/runs", 400, json={"name": " "}, request_valid=False)
    register(api.client, "J-1")
    entries = api.get(f"/_control/journal?service=vpos&order=J-1&order=other&run={run['runId']}")["entries"]
    assert [entry["operation"] for entry in entries] == ["register.do"]
    api.get("/_control/journal?since=x", 400, request_valid=False)
    api.get("/_control/journal?run=nope", 404)
    assert api.get("/_control/runs")["runs"] == [{"runId": run["runId"], "name": "openapi"}]
    assert api.post("/_control/runs/end") == {"runId": run["runId"]}
