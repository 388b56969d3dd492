"""A hub with its HTTPS gateway for integration tests: the real RabbitMQ and router, the LA
as an AMQP client, and agencies that use only HTTPS (through an in-process ASGI client)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from broker.directory.model import KeyUse
from broker.envelope import Sealed
from broker.gateway.auth import make_assertion
from tests.integration.hub_harness import Hub, example_draft


class GatewayWorld:
    """`hub` plus an HTTP client on its gateway app."""

    def __init__(self, hub: Hub, app: FastAPI, http: httpx.AsyncClient) -> None:
        self.hub = hub
        self.app = app
        self.http = http

    @property
    def container(self) -> Any:
        return self.hub.container

    def assertion(self, agency: str, **claims: Any) -> str:
        """A fresh client assertion signed with the agency's current signing key."""
        container = self.hub.container
        kid = container.snapshot().current_key(agency, KeyUse.SIG, container.clock()).kid
        key = container.keystore.load(agency, kid)
        audience = claims.pop("audience", container.settings.resolved_gateway_audience)
        lifetime = claims.pop("lifetime", timedelta(minutes=2))
        now = claims.pop("now", container.clock())
        return make_assertion(agency, key, audience, now, lifetime)

    def auth(self, agency: str) -> dict[str, str]:
        """Headers for one authenticated request."""
        return {"Authorization": f"Bearer {self.assertion(agency)}"}

    def seal(self, sender: str, recipient: str, message_type: str) -> Sealed:
        """An envelope from `sender` (whose keys are in the hub's keystore in tests)."""
        draft = example_draft(sender, recipient, message_type)
        return self.hub.container.sealer(sender).seal(draft)

    async def submit(self, sender: str, sealed: Sealed) -> httpx.Response:
        return await self.http.post(
            "/v1/messages",
            content=sealed.to_json(),
            headers={**self.auth(sender), "Content-Type": "application/json"},
        )


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (the outbox pump) running, and a client on it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http
