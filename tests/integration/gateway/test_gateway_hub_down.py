"""With RabbitMQ unreachable the gateway answers at once: a submitted envelope is stored
(202) and published once the hub is back; the mailbox lists what it already holds; the
gateway stays ready (a router replica does not). Liveness and metrics answer regardless."""

import time
from pathlib import Path

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from broker.app import Container
from tests.integration.gateway.world import GatewayWorld, serving
from tests.integration.hub_harness import LA, SCHOOL, Hub, eventually

CLOSED_PORT_URL = "amqp://guest:guest@127.0.0.1:9/"  # discard port: nothing listens


async def test_an_envelope_accepted_while_the_hub_is_down_is_published_when_it_is_back(
    tmp_path: Path, rabbitmq_url: str
) -> None:
    hub = Hub(tmp_path, rabbitmq_url)
    hub.add_agencies()
    down = Container(
        hub.container.settings.model_copy(update={"rabbitmq_url": SecretStr(CLOSED_PORT_URL)})
    )
    down_app = down.gateway_app()
    try:
        async with serving(down_app) as http:
            world = GatewayWorld(hub, down_app, http)
            sealed = world.seal(SCHOOL, LA, "school.deletion_return")
            started = time.monotonic()
            response = await world.submit(SCHOOL, sealed)
            elapsed = time.monotonic() - started
            assert response.status_code == 202, response.text
            assert response.json()["status"] == "queued"
            assert elapsed < 2 * down.settings.gateway_hub_timeout_s
            inbox = await http.get("/v1/inbox", headers=world.auth(SCHOOL))
            assert inbox.json() == {"messages": [], "hub_reachable": False}
            # Still ready: with its database the gateway does its job (202, the mailbox), so
            # an orchestrator must keep agencies coming to it; RabbitMQ's state is reported.
            ready = await http.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"database": True, "rabbitmq": False}
            router_ready = await _get(down.health_app(), "/readyz")
            assert router_ready.status_code == 503  # a router replica is no use without it
            assert (await http.get("/healthz")).status_code == 200
            metrics = await http.get("/metrics")
            assert 'cme_gateway_requests_total{route="/v1/messages",status="202"}' in metrics.text

        # The hub comes back: the next gateway process publishes what was stored.
        await hub.start(clients=[LA])
        async with serving(hub.container.gateway_app()) as http:
            message_id = str(sealed.claims.jti)
            await eventually(lambda: hub.handled[f"{LA}/{message_id}"] == 1)
            assert (await http.get("/readyz")).json()["checks"]["rabbitmq"] is True
    finally:
        await hub.stop()


async def _get(app: FastAPI, path: str) -> httpx.Response:
    async with serving(app) as http:
        return await http.get(path)
