"""Property-based tests over the gateway's OpenAPI document (schemathesis), against a real
gateway process state: uvicorn on a local port, the real RabbitMQ and database.

Every operation, authenticated with fresh client assertions, never answers 5xx and always
answers what its documentation says (status, headers, body schema); every protected
operation refuses anonymous calls."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import ignored_auth

from tests.integration.gateway.world import GatewayWorld
from tests.integration.hub_harness import SCHOOL, Hub

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    ignored_auth,
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _ThreadedServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # not the main thread: no signals here
        pass


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory, rabbitmq_url: str) -> Iterator[str]:
    """A gateway on a local port for the whole module (its topology deleted afterwards)."""
    hub = Hub(tmp_path_factory.mktemp("gateway"), rabbitmq_url, gateway_rate_limit="100000/minute")
    hub.add_agencies()
    asyncio.run(hub.container.declare_topology())
    port = _free_port()
    server = _ThreadedServer(
        uvicorn.Config(hub.container.gateway_app(), port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    _hubs[url] = hub
    yield url
    server.should_exit = True
    thread.join(20)
    asyncio.run(hub.delete_topology())


_hubs: dict[str, Hub] = {}


@pytest.fixture(scope="module")
def api_schema(gateway_url: str) -> Any:
    """The gateway's own OpenAPI document, with fresh client assertions for every call."""
    loaded = schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")
    world = GatewayWorld(_hubs[gateway_url], None, None)  # type: ignore[arg-type]

    @loaded.auth(refresh_interval=None)
    class Assertions:
        def get(self, case: Any, context: Any) -> str:
            return world.assertion(SCHOOL)

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return loaded


def test_every_operation_answers_as_documented(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 8  # six /v1 operations, /healthz and /readyz
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        answers_as_documented()


def test_every_protected_operation_refuses_anonymous_calls(gateway_url: str) -> None:
    document = httpx.get(f"{gateway_url}/openapi.json").json()
    protected = [
        (method, path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("security")
    ]
    assert len(protected) == 6
    for method, path in protected:
        concrete = path.replace("{message_id}", "0b6d2d0e-6f1c-4d43-9a53-3f0d1d6b8e51")
        response = httpx.request(method, f"{gateway_url}{concrete}", json={})
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthenticated"
