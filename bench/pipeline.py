"""End-to-end pipeline throughput and latency on the real RabbitMQ, against raw aio-pika.

    .venv/bin/python bench/pipeline.py [--messages N] [--rate 200] [--seconds 10] [--json]

Raw baseline: persistent messages of the same size as a sealed deletion return, published
with confirms to a quorum queue; a second process consumes, republishes with confirms to a
second quorum queue and acks (the hub's hop); a final consumer acks. Secure pipeline: the
school's client seals and publishes (outbox) -> a router process verifies, checks replay and
agreements, appends to the ledger and routes -> the LA's client opens, verifies, records in
its inbox and sends a signed receipt (which the router routes back). Both use the same shape:
producer and final consumer in this process, the middle hop in another process.
Targets (issue 3, 2 cores): secure/raw >= 0.5; p99 < 100 ms at 200 messages/s offered.
"""

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika import DeliveryMode, Message
from sqlmodel import Session

from broker.app import Container
from broker.envelope import Draft, Opened
from broker.settings import Settings
from schemas.examples import example_justification, example_payload

SCHOOL, LA = "school:3304000", "la:330"
QUORUM = {"x-queue-type": "quorum"}
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"


# -- raw baseline ----------------------------------------------------------------------------


def _raw_hop(url: str, source: str, target: str, count: int) -> None:
    asyncio.run(_raw_hop_async(url, source, target, count))


async def _raw_hop_async(url: str, source: str, target: str, count: int) -> None:
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=64)
        queue = await channel.get_queue(source)
        done = asyncio.Event()
        seen = 0

        async def forward(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            out = Message(message.body, delivery_mode=DeliveryMode.PERSISTENT)
            await channel.default_exchange.publish(out, target, timeout=30)
            await message.ack()
            seen += 1
            if seen >= count:
                done.set()

        await queue.consume(forward)
        await done.wait()


async def raw_baseline(url: str, size: int, count: int) -> float:
    """Messages per second through producer -> Q1 -> hop process -> Q2 -> consumer."""
    q1, q2 = f"bench.raw.{uuid.uuid4().hex}.1", f"bench.raw.{uuid.uuid4().hex}.2"
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        for name in (q1, q2):
            await channel.declare_queue(name, durable=True, arguments=QUORUM)
        hop = mp.get_context("spawn").Process(target=_raw_hop, args=(url, q1, q2, count))
        hop.start()
        received = asyncio.Event()
        got = 0

        async def final(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal got
            await message.ack()
            got += 1
            if got >= count:
                received.set()

        consumer_channel = await connection.channel()
        await consumer_channel.set_qos(prefetch_count=64)
        await (await consumer_channel.get_queue(q2)).consume(final)
        body = b"x" * size
        start = time.perf_counter()
        for batch in range(0, count, 100):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        Message(body, delivery_mode=DeliveryMode.PERSISTENT), q1, timeout=30
                    )
                    for _ in range(min(100, count - batch))
                )
            )
        await asyncio.wait_for(received.wait(), 600)
        elapsed = time.perf_counter() - start
        hop.join(30)
        for name in (q1, q2):
            await channel.queue_delete(name)
    return count / elapsed


# -- secure pipeline -------------------------------------------------------------------------


def _run_router(settings: dict[str, Any], ready: Any, stop_after: float) -> None:
    container = Container(Settings(**settings))

    async def main() -> None:
        stop = asyncio.Event()
        service = container.router_service("bench-router")
        task = asyncio.create_task(service.run(stop))
        ready.set()
        await asyncio.sleep(stop_after)
        stop.set()
        await task

    asyncio.run(main())


class SecurePipeline:
    """A hub with a school and an LA, its router in a separate process."""

    def __init__(self, url: str) -> None:
        data_dir = Path(tempfile.mkdtemp(prefix="cme-pipeline-"))
        self.settings = Settings(
            data_dir=data_dir,
            rabbitmq_url=url,  # type: ignore[arg-type]
            topology_prefix=f"bench{uuid.uuid4().hex[:8]}",
        )
        self.container = Container(self.settings)
        for agency in (SCHOOL, LA):
            self.container.directory_store.add_agency(agency, agency, "330")
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self.handled = 0
        self.payload = example_payload("school.deletion_return")

    def handler(self, _session: Session, opened: Opened) -> None:
        sent = self.sent_at.pop(str(opened.claims.jti), None)
        if sent is not None:
            self.latencies.append(time.perf_counter() - sent)
        self.handled += 1

    def draft(self) -> Draft:
        reason = example_justification("school.deletion_return", sender=SCHOOL, recipient=LA)
        return Draft(LA, "school.deletion_return", self.payload, reason)

    async def run(self, count: int, rate: float, seconds: float) -> dict[str, float]:
        await self.container.declare_topology()
        ready = mp.get_context("spawn").Event()
        router = mp.get_context("spawn").Process(
            target=_run_router,
            args=(self._settings_for_child(), ready, 10_000.0),
        )
        router.start()
        ready.wait(60)
        school = self.container.agency_client(SCHOOL, lambda _s, _o: None)
        la = self.container.agency_client(LA, self.handler)
        await school.start(consume=True)
        await la.start()
        try:
            throughput = await self._throughput(school, count)
            p50, p99 = await self._latency(school, rate, seconds)
        finally:
            await school.stop()
            await la.stop()
            router.kill()
            router.join(10)
        return {"secure_per_s": throughput, "p50_ms": p50, "p99_ms": p99}

    def _settings_for_child(self) -> dict[str, Any]:
        """The router process's settings (secrets in clear: `model_dump` would mask them)."""
        return {
            "data_dir": str(self.settings.data_dir),
            "rabbitmq_url": self.settings.rabbitmq_url.get_secret_value(),
            "topology_prefix": self.settings.topology_prefix,
        }

    async def _throughput(self, school: Any, count: int) -> float:
        before = self.handled
        start = time.perf_counter()
        for _ in range(count):
            school.send(self.draft())
        async with asyncio.timeout(600):
            while self.handled - before < count:
                await asyncio.sleep(0.01)
        return count / (time.perf_counter() - start)

    async def _latency(self, school: Any, rate: float, seconds: float) -> tuple[float, float]:
        self.latencies.clear()
        interval, total = 1.0 / rate, int(rate * seconds)
        start = time.perf_counter()
        for i in range(total):
            await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
            draft = self.draft()
            self.sent_at[str(draft.message_id)] = time.perf_counter()
            school.send(draft)
        async with asyncio.timeout(120):
            while len(self.latencies) < total:
                await asyncio.sleep(0.01)
        ordered = sorted(self.latencies)
        return (
            statistics.median(ordered) * 1000,
            ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        )

    def envelope_size(self) -> int:
        return len(self.container.sealer(SCHOOL).seal(self.draft()).to_json())

    def ledger_verify_seconds(self) -> float:
        ledger = self.container.ledger(signing=False)
        start = time.perf_counter()
        assert ledger.verify(self.container.snapshot()).ok
        return time.perf_counter() - start


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    pipeline = SecurePipeline(args.url)
    size = pipeline.envelope_size()
    raw = await raw_baseline(args.url, size, args.messages)
    secure = await pipeline.run(args.messages, args.rate, args.seconds)
    ratio = secure["secure_per_s"] / raw
    return {
        "messages": args.messages,
        "envelope_bytes": size,
        "raw_per_s": round(raw),
        "secure_per_s": round(secure["secure_per_s"]),
        "ratio": round(ratio, 3),
        "offered_rate_per_s": args.rate,
        "p50_ms": round(secure["p50_ms"], 1),
        "p99_ms": round(secure["p99_ms"], 1),
        "ledger_entries": pipeline.container.ledger(signing=False).history and None,
        "targets_met": {"ratio>=0.5": ratio >= 0.5, "p99<100ms": secure["p99_ms"] < 100},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    figures = asyncio.run(main_async(args))
    figures.pop("ledger_entries")
    if args.json:
        print(json.dumps(figures))
        return
    print(f"envelope {figures['envelope_bytes']} bytes, {args.messages} messages")
    print(f"raw aio-pika, two hops:  {figures['raw_per_s']:>6} messages/s")
    print(f"secure pipeline:         {figures['secure_per_s']:>6} messages/s")
    print(f"ratio secure/raw:        {figures['ratio']:>6}  (target >= 0.5)")
    print(f"latency at {args.rate:.0f}/s offered: p50 {figures['p50_ms']} ms, "
          f"p99 {figures['p99_ms']} ms (target p99 < 100 ms)")  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
