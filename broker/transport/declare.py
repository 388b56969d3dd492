"""Declare the topology on a channel (idempotent: safe at every start-up)."""

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel

from broker.transport.topology import Topology, routing_word


async def declare_topology(
    channel: AbstractChannel, topology: Topology, agencies: list[str]
) -> None:
    """Declare exchanges, queues and bindings for the hub and the given agencies."""
    ingress = await channel.declare_exchange(topology.ingress, ExchangeType.TOPIC, durable=True)
    deliver = await channel.declare_exchange(topology.deliver, ExchangeType.DIRECT, durable=True)
    dlx = await channel.declare_exchange(topology.dlx, ExchangeType.DIRECT, durable=True)
    retry = await channel.declare_exchange(topology.retry, ExchangeType.TOPIC, durable=True)
    requeue = await channel.declare_exchange(topology.requeue, ExchangeType.TOPIC, durable=True)

    for delay in topology.retry_delays_s:
        wait = await channel.declare_queue(
            topology.wait_queue(delay), durable=True, arguments=topology.wait_queue_arguments(delay)
        )
        await wait.bind(retry, f"{delay}s.#")

    await channel.declare_queue(
        topology.refused_queue, durable=True, arguments=topology.dead_letter_arguments()
    )
    dead_letter_log = await channel.declare_queue(
        topology.dead_letter_log, durable=True, arguments=topology.dead_letter_log_arguments()
    )
    for queue_name in topology.work_queues(agencies):
        queue = await channel.declare_queue(
            queue_name, durable=True, arguments=topology.queue_arguments(queue_name)
        )
        await queue.bind(requeue, f"*.{queue_name}")
        dead = await channel.declare_queue(
            topology.dead_letter_queue(queue_name),
            durable=True,
            arguments=topology.dead_letter_arguments(),
        )
        await dead.bind(dlx, queue_name)
        await dead_letter_log.bind(dlx, queue_name)
        if queue_name == topology.router_queue:
            await queue.bind(ingress, "in.#")
    for agency in agencies:
        queue = await channel.get_queue(topology.agency_queue(agency), ensure=False)
        await queue.bind(deliver, routing_word(agency))


async def delete_topology(
    channel: AbstractChannel, topology: Topology, agencies: list[str]
) -> None:
    """Delete every queue and exchange of a topology (demo and test clean-up)."""
    queues = [topology.refused_queue, topology.dead_letter_log]
    queues += [topology.wait_queue(d) for d in topology.retry_delays_s]
    for name in topology.work_queues(agencies):
        queues += [name, topology.dead_letter_queue(name)]
    for name in queues:
        await channel.queue_delete(name)
    exchanges = (topology.ingress, topology.deliver, topology.dlx, topology.retry, topology.requeue)
    for exchange in exchanges:
        await channel.exchange_delete(exchange)
