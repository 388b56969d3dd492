"""The real services the integration tests rely on are there and behave as expected."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aio_pika
import psycopg
import pytest
from pamqp.commands import Basic

TIMEOUT_S = 10.0


@pytest.mark.rabbitmq
async def test_rabbitmq_confirmed_publish_round_trips(
    rabbitmq_url: str, unique_name: Callable[..., str]
) -> None:
    body = f"ping {unique_name('body')}".encode()
    connection = await asyncio.wait_for(aio_pika.connect_robust(rabbitmq_url), TIMEOUT_S)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(unique_name("cme-test.services"), exclusive=True)

        confirmation = await channel.default_exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue.name,
            mandatory=True,
            timeout=TIMEOUT_S,
        )
        assert isinstance(confirmation, Basic.Ack), confirmation

        async with queue.iterator() as messages:
            message = await asyncio.wait_for(anext(messages), TIMEOUT_S)
            async with message.process():
                assert message.body == body


@pytest.mark.postgres
def test_postgres_fresh_database_answers(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql://")
    with psycopg.connect(postgres_url, connect_timeout=5) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        row = conn.execute("select current_database()").fetchone()
    assert row is not None
    assert row[0].startswith("cme_test_")
