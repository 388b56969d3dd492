"""Fixtures: a hub whose LA uses AMQP and whose other agencies use the HTTPS gateway."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.gateway.world import GatewayWorld, serving
from tests.integration.hub_harness import LA, Hub


@pytest.fixture
async def world(tmp_path: Path, rabbitmq_url: str) -> AsyncIterator[GatewayWorld]:
    """SQLite; the LA is an AMQP client, every other agency talks HTTPS."""
    async for world in _world(tmp_path, rabbitmq_url, None):
        yield world


@pytest.fixture
async def world_on(tmp_path: Path, rabbitmq_url: str, db_url: str) -> AsyncIterator[GatewayWorld]:
    """`world` on SQLite and on PostgreSQL."""
    async for world in _world(tmp_path, rabbitmq_url, db_url):
        yield world


async def _world(
    tmp_path: Path, rabbitmq_url: str, database_url: str | None
) -> AsyncIterator[GatewayWorld]:
    hub = Hub(tmp_path, rabbitmq_url, database_url, gateway_rate_limit="1000/minute")
    hub.add_agencies()
    await hub.start(clients=[LA])
    app = hub.container.gateway_app()
    try:
        async with serving(app) as http:
            yield GatewayWorld(hub, app, http)
    finally:
        await hub.stop()
