"""End-to-end pipeline throughput and latency on the real RabbitMQ, against raw aio-pika.

    .venv/bin/python bench/pipeline.py [--messages N] [--rate 200] [--seconds 10] [--warmup 2]
        [--json]

Raw baseline: persistent messages of the same size as a sealed deletion return, published
with confirms to a quorum queue; a second process consumes, republishes with confirms to a
second quorum queue and acks (the hub's hop); a final consumer acks. Secure pipeline: the
school's client seals and publishes (outbox) -> a router process verifies, checks replay and
agreements, appends to the ledger and routes -> the LA's client opens, verifies, records in
its inbox and sends a signed receipt (which the router routes back). Both use the same shape:
producer and final consumer in this process, the middle hop in another process. Latency is
measured first, at a fixed offered rate after a warm-up, with its two legs (to the hub's
ledger entry, then to the LA's inbox); then throughput, from a backlog. Last, a 100,000-entry
ledger is built and verified (bench/ledger.py), and the run's own ledger must verify.
Each process's CPU time per message is printed for both phases (RabbitMQ's too when it runs
on this machine), with the cores that CPU demands at the offered rate and the machine's idle
and steal time: a p99 far above target with the demand near the cores is a saturated machine.
Targets (issue 3, 2 cores): secure/raw >= 0.5; p99 < 100 ms at 200 messages/s offered;
100,000 ledger entries verify in under 10 s.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing as mp
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aio_pika
import ledger as ledger_bench  # bench/ledger.py, beside this script
from aio_pika import DeliveryMode, Message
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from broker.app import Container
from broker.client.tables import InboxRow
from broker.db import make_engine
from broker.directory.tables import as_utc
from broker.envelope import Draft
from broker.ledger import LedgerEvent
from broker.ledger.tables import LedgerEntryRow
from broker.logconfig import configure_logging
from broker.runtime import settle_heap
from broker.settings import Settings
from schemas.examples import example_justification, example_payload

SCHOOL, LA = "school:3304000", "la:330"
ROLES = ("router", "la")
"""The processes besides this one (the school's)."""
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
        try:
            return await _raw_run(connection, channel, url, (q1, q2), size, count)
        finally:  # also after a failed run: quorum queues left behind cost the broker
            for name in (q1, q2):
                await channel.queue_delete(name)


async def _raw_run(
    connection: aio_pika.abc.AbstractConnection,
    channel: aio_pika.abc.AbstractChannel,
    url: str,
    queues: tuple[str, str],
    size: int,
    count: int,
) -> float:
    """Time `count` messages through q1 -> a hop process -> q2 (the queues exist)."""
    q1, q2 = queues
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
    return count / elapsed


# -- secure pipeline -------------------------------------------------------------------------


def _cpu_seconds(pids: dict[str, int | None]) -> dict[str, float]:
    """User + system CPU time of each (started) process so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    times = {}
    for role, pid in pids.items():
        assert pid is not None
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        times[role] = (int(fields[11]) + int(fields[12])) / tick
    return times


def _per_message(
    before: dict[str, float], after: dict[str, float], messages: int, phase: str
) -> dict[str, float]:
    """CPU milliseconds per message of each process over a phase: where the time goes."""
    return {
        f"cpu_{phase}_{role}_ms_per_msg": (after[role] - before[role]) * 1000 / messages
        for role in before
    }


def _local_broker_pid(url: str) -> int | None:
    """RabbitMQ's server process when it runs on this machine (its CPU competes for the same
    cores), else None. Its Erlang VM boots `rabbit`; rabbitmqctl and friends run in Erlang
    VMs of their own, which come and go."""
    if urlparse(url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        return None
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if b"\0-s\0rabbit\0boot\0" in cmdline.read_bytes():
                return int(cmdline.parent.name)
    return None


def _machine_ticks() -> list[int]:
    """The whole machine's CPU time so far by state: user, nice, system, idle, iowait, irq,
    softirq, steal (the first line of /proc/stat; guest time is already in user and nice)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    return [int(field) for field in fields]


def _machine_share(before: list[int], after: list[int]) -> dict[str, float]:
    """Percent of the machine's CPU time that was idle, waiting for the disk (idle too, but
    with I/O outstanding: fsyncs), and taken by the hypervisor (steal) between two readings:
    how close to saturation a phase ran."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(spent) or 1
    idle, iowait, steal = (100 * spent[i] / total for i in (3, 4, 7))
    return {"machine_idle_pct": idle, "machine_iowait_pct": iowait, "machine_steal_pct": steal}


def _run_process(role: str, settings: dict[str, Any], ready: Any, stop: Any) -> None:
    """A router replica or the LA's client, in its own process (as in production, where
    the hub and each agency run their own)."""
    configure_logging(level=logging.WARNING)
    container = Container(Settings(**settings))
    settle_heap()  # as `run_until_signalled` does for every long-lived process

    async def main() -> None:
        stopping = asyncio.Event()
        if role == "router":
            task = asyncio.create_task(container.router_service("bench-router").run(stopping))
        else:
            client = container.agency_client(LA, lambda _session, _opened: None)
            await client.start()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        stopping.set()
        if role == "router":
            await task
        else:
            await client.stop()

    asyncio.run(main())


class SecurePipeline:
    """A hub with a school and an LA: the router and the LA's client each in a process of
    their own, the school's client here. Latency is from `send` (seal, outbox) to the LA's
    inbox commit (`InboxRow.received_at`), on this machine's clock."""

    def __init__(self, url: str, database_url: str | None) -> None:
        data_dir = Path(tempfile.mkdtemp(prefix="cme-pipeline-"))
        self.settings = Settings(
            data_dir=data_dir,
            rabbitmq_url=url,  # type: ignore[arg-type]
            topology_prefix=f"bench{uuid.uuid4().hex[:8]}",
            database_url=database_url,
        )
        self.container = Container(self.settings)
        for agency in (SCHOOL, LA):
            self.container.directory_store.add_agency(agency, agency, "330")
        self.container.hub_signing_key()  # registers the hub before the databases part ways
        self.urls = {role: self._database_for(role) for role in ("router", "la")}
        self.payload = example_payload("school.deletion_return")

    def _database_for(self, role: str) -> str:
        """Each party's own database, as in production (the hub's, each agency's). On the
        default SQLite, a copy of the set-up database per process; a shared PostgreSQL URL
        is used by all."""
        if self.settings.database_url:
            return self.settings.database_url
        target = self.settings.data_dir / f"{role}.db"
        with (
            sqlite3.connect(self.settings.data_dir / "cme.db") as source,
            sqlite3.connect(target) as copy,
        ):
            source.backup(copy)
        return f"sqlite:///{target}"

    @cached_property
    def _la_engine(self) -> Engine:
        return make_engine(self.urls["la"])

    @cached_property
    def _hub_engine(self) -> Engine:
        return make_engine(self.urls["router"])

    def draft(self) -> Draft:
        reason = example_justification("school.deletion_return", sender=SCHOOL, recipient=LA)
        return Draft(LA, "school.deletion_return", self.payload, reason)

    def _child_settings(self, role: str) -> dict[str, Any]:
        """Settings for the other processes (secrets in clear: `model_dump` masks them)."""
        return {
            "data_dir": str(self.settings.data_dir),
            "rabbitmq_url": self.settings.rabbitmq_url.get_secret_value(),
            "topology_prefix": self.settings.topology_prefix,
            "database_url": self.urls[role],
        }

    def received(self) -> dict[str, datetime]:
        """Message id -> when the LA's inbox committed it."""
        with Session(self._la_engine) as session:
            query = select(InboxRow.message_id, InboxRow.received_at).where(
                InboxRow.agency_id == LA
            )
            return {m: as_utc(at) for m, at in session.exec(query)}

    async def run(self, count: int, rate: float, seconds: float, warmup: float) -> dict[str, float]:
        await self.container.declare_topology()
        spawn = mp.get_context("spawn")
        stop = spawn.Event()
        children = []
        for role in ROLES:
            ready = spawn.Event()
            child = spawn.Process(
                target=_run_process, args=(role, self._child_settings(role), ready, stop)
            )
            child.start()
            children.append(child)
            ready.wait(60)
        school = self.container.agency_client(SCHOOL, lambda _s, _o: None)
        await school.start()
        settle_heap()
        try:
            # Latency first, on an idle pipeline: a backlog left by the throughput run would
            # otherwise be measured as latency. The warm-up is not measured: the processes
            # have just started (first connections, first snapshot, first of every query).
            await self._latency(school, rate, warmup)
            roles = zip(ROLES, children, strict=True)
            pids = {"school": os.getpid(), **{role: c.pid for role, c in roles}}
            if broker := _local_broker_pid(self.settings.rabbitmq_url.get_secret_value()):
                pids["rabbitmq"] = broker
            before, machine = _cpu_seconds(pids), _machine_ticks()
            latency = await self._latency(school, rate, seconds)
            during_latency = _cpu_seconds(pids)
            latency |= _machine_share(machine, _machine_ticks())
            throughput = await self._throughput(school, count)
            cpu = {
                **_per_message(before, during_latency, int(rate * seconds), "latency"),
                **_per_message(during_latency, _cpu_seconds(pids), count, "throughput"),
            }
        finally:
            await school.stop()
            stop.set()
            for child in children:
                child.join(30)
            await self.container.delete_topology()  # quorum queues left behind cost the broker
        return {"secure_per_s": throughput, **latency, **cpu}

    def received_count(self) -> int:
        """How many messages the LA's inbox holds (a cheap poll: no rows are fetched)."""
        with Session(self._la_engine) as session:
            query = select(func.count()).select_from(InboxRow).where(InboxRow.agency_id == LA)
            return int(session.exec(query).one())

    async def _wait_for_count(self, target: int, timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while self.received_count() < target:
                await asyncio.sleep(0.05)

    async def _throughput(self, school: Any, count: int, chunk: int = 50) -> float:
        """A backlog, as from a school's export: staged in transactions of `chunk` returns,
        yielding between them so the pump publishes while the rest are sealed."""
        before = self.received_count()
        start = time.perf_counter()
        for done in range(0, count, chunk):
            school.send_many([self.draft() for _ in range(min(chunk, count - done))])
            await asyncio.sleep(0)
        await self._wait_for_count(before + count, 600)
        return count / (time.perf_counter() - start)

    def routed(self) -> dict[str, datetime]:
        """Message id -> when the router recorded it as routed (in the hub's ledger)."""
        with Session(self._hub_engine) as session:
            query = select(LedgerEntryRow.message_id, LedgerEntryRow.recorded_at).where(
                LedgerEntryRow.event == LedgerEvent.ROUTED.value
            )
            return {m: as_utc(at) for m, at in session.exec(query)}

    async def _latency(self, school: Any, rate: float, seconds: float) -> dict[str, float]:
        """Percentiles (ms) from `send` to the LA's inbox, and of its two legs: to the hub's
        ledger entry, and from there to the inbox."""
        interval, total = 1.0 / rate, int(rate * seconds)
        sent: dict[str, datetime] = {}
        before = self.received_count()
        start = time.perf_counter()
        for i in range(total):
            await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
            at = datetime.now(UTC)
            sent[str(school.send(self.draft()).claims.jti)] = at
        await self._wait_for_count(before + total, 120)
        received, routed = self.received(), self.routed()
        legs = {
            "": [received[i] - at for i, at in sent.items()],
            "to_hub_": [routed[i] - at for i, at in sent.items()],
            "hub_to_la_": [received[i] - routed[i] for i in sent],
        }
        figures = {}
        for leg, times in legs.items():
            ms = sorted(t.total_seconds() * 1000 for t in times)
            figures[f"{leg}p50_ms"] = statistics.median(ms)
            figures[f"{leg}p99_ms"] = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        return figures

    def envelope_size(self) -> int:
        return len(self.container.sealer(SCHOOL).seal(self.draft()).to_json())

    def verify_ledger(self) -> int:
        """Verify the hub's ledger after the run (every entry this run made); its size."""
        hub = Container(Settings(**{**self._child_settings("router"), "rabbitmq_url": "amqp://x/"}))
        report = hub.ledger(signing=False).verify(hub.snapshot())
        if not report.ok:
            raise SystemExit(f"the pipeline's ledger does not verify: {report.message}")
        return report.entries_checked


def _cores_needed(secure: dict[str, float], rate: float) -> float:
    """Cores the measured processes need to keep up with the offered rate (their CPU per
    message in the latency phase, summed, times the rate): near or above this machine's
    cores, queues build up and p99 grows with them."""
    spent = sum(v for k, v in secure.items() if k.startswith("cpu_latency_"))
    return spent * rate / 1000


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    pipeline = SecurePipeline(args.url, args.database_url)
    size = pipeline.envelope_size()
    raw = await raw_baseline(args.url, size, args.messages)
    secure = await pipeline.run(args.messages, args.rate, args.seconds, args.warmup)
    ratio = secure["secure_per_s"] / raw
    ledger = ledger_bench.run(args.ledger_entries, appends=0)
    return {
        "messages": args.messages,
        "envelope_bytes": size,
        "raw_per_s": round(raw),
        "secure_per_s": round(secure["secure_per_s"]),
        "ratio": round(ratio, 3),
        "offered_rate_per_s": args.rate,
        "warmup_s": args.warmup,
        **{k: round(v, 1) for k, v in secure.items() if k.endswith("_ms")},
        **{k: round(v, 2) for k, v in secure.items() if k.startswith("cpu_")},
        "cores_needed_at_offered_rate": round(_cores_needed(secure, args.rate), 2),
        **{k: round(v, 1) for k, v in secure.items() if k.startswith("machine_")},
        "pipeline_ledger_entries_verified": pipeline.verify_ledger(),
        "ledger_entries": args.ledger_entries,
        "ledger_verify_s": ledger["verify_seconds"],
        "ledger_verify_100k_s": ledger["verify_100k_seconds"],
        "targets_met": {
            "ratio>=0.5": ratio >= 0.5,
            "p99<100ms": secure["p99_ms"] < 100,
            "ledger_100k<10s": ledger["target_met"],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds at the offered rate, not measured"
    )
    parser.add_argument(
        "--ledger-entries",
        type=int,
        default=ledger_bench.TARGET_ENTRIES,
        help="size of the ledger whose verification is timed (fewer: projected to 100,000)",
    )
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument(
        "--database-url",
        default=None,
        help="shared by the hub and both clients (default: a SQLite file; PostgreSQL lets "
        "the three processes write concurrently)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    configure_logging(level=logging.WARNING)
    figures = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(figures))
        return
    print(f"envelope {figures['envelope_bytes']} bytes, {args.messages} messages")
    print(f"raw aio-pika, two hops:  {figures['raw_per_s']:>6} messages/s")
    print(f"secure pipeline:         {figures['secure_per_s']:>6} messages/s")
    print(f"ratio secure/raw:        {figures['ratio']:>6}  (target >= 0.5)")
    print(
        f"latency at {args.rate:.0f}/s offered: p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms (target p99 < 100 ms; after {args.warmup:.0f} s warm-up)"
    )
    print(
        f"  school -> hub ledger:    p50 {figures['to_hub_p50_ms']} ms, "
        f"p99 {figures['to_hub_p99_ms']} ms"
    )
    print(
        f"  hub ledger -> LA inbox:  p50 {figures['hub_to_la_p50_ms']} ms, "
        f"p99 {figures['hub_to_la_p99_ms']} ms"
    )
    for phase in ("latency", "throughput"):
        spent = ", ".join(
            f"{key.split('_')[2]} {value}"
            for key, value in figures.items()
            if key.startswith(f"cpu_{phase}_")
        )
        print(f"  CPU ms per message, {phase} phase: {spent}")
    print(
        f"  latency phase: these processes need {figures['cores_needed_at_offered_rate']} cores "
        f"at {args.rate:.0f}/s (this machine has {os.cpu_count()}"
        + ("" if "cpu_latency_rabbitmq_ms_per_msg" in figures else "; RabbitMQ not counted")
        + f"); machine idle {figures['machine_idle_pct']}%, "
        f"iowait {figures['machine_iowait_pct']}%, steal {figures['machine_steal_pct']}%"
    )
    print(
        f"ledger verify, {args.ledger_entries:,} entries: {figures['ledger_verify_s']} s "
        f"(100,000: {figures['ledger_verify_100k_s']} s; target < 10 s)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
