"""`cme-broker serve` as operators run it: a separate process with the router and the
gateway on one port, ready when RabbitMQ and the database answer, routing what the gateway
accepts, and stopping cleanly on SIGTERM."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from broker.app import Container
from broker.directory.model import KeyUse
from broker.gateway.auth import make_assertion
from broker.settings import Settings
from tests.integration.hub_harness import example_draft

SCHOOL, LA = "school:3304000", "la:330"
CME_BROKER = Path(sys.executable).parent / "cme-broker"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def container(tmp_path: Path, rabbitmq_url: str) -> Iterator[Container]:
    settings = Settings(
        data_dir=tmp_path,
        rabbitmq_url=rabbitmq_url,  # type: ignore[arg-type]
        topology_prefix=f"t{uuid.uuid4().hex[:12]}",
    )
    container = Container(settings)
    for agency in (SCHOOL, LA):
        container.directory_store.add_agency(agency, f"Synthetic {agency}", "330")
    # Declared first, as the topology job does in a deployment: `/readyz` says RabbitMQ and
    # the database answer, not that serve's router has declared the ingress yet, so a
    # submission right after ready could otherwise be queued (202) instead of published.
    asyncio.run(container.declare_topology())
    yield container
    asyncio.run(container.delete_topology())


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "cme-broker serve exited early"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("cme-broker serve did not become ready in 60 s")


def _start(container: Container, rabbitmq_url: str) -> tuple[subprocess.Popen[bytes], str]:
    settings = container.settings
    port = _free_port()
    env = {
        **os.environ,
        "CME_DATA_DIR": str(settings.data_dir),
        "CME_RABBITMQ_URL": rabbitmq_url,
        "CME_TOPOLOGY_PREFIX": settings.topology_prefix,
    }
    env.pop("CME_DATABASE_URL", None)
    process = subprocess.Popen(
        [str(CME_BROKER), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


def _submit(container: Container, url: str) -> tuple[str, httpx.Response]:
    """A deletion return from the school, over HTTPS; its message id and the answer."""
    sealed = container.sealer(SCHOOL).seal(example_draft(SCHOOL, LA, "school.deletion_return"))
    kid = container.snapshot().current_key(SCHOOL, KeyUse.SIG, container.clock()).kid
    key = container.keystore.load(SCHOOL, kid)
    token = make_assertion(SCHOOL, key, container.settings.hub_id, container.clock())
    response = httpx.post(
        f"{url}/v1/messages",
        content=sealed.to_json(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )
    return str(sealed.claims.jti), response


def _stop(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=60)[0].decode()


def test_serve_routes_what_the_gateway_accepts_and_stops_on_sigterm(
    container: Container, rabbitmq_url: str
) -> None:
    process, url = _start(container, rabbitmq_url)
    try:
        _wait_ready(url, process)
        message_id, response = _submit(container, url)
        assert response.status_code == 201, response.text
        ledger = container.ledger(signing=False)
        deadline = time.monotonic() + 30
        while not ledger.history(message_id):
            assert time.monotonic() < deadline, "the router in `serve` did not route it"
            time.sleep(0.1)
        assert [e.event for e in ledger.history(message_id)] == ["routed"]
        metrics = httpx.get(f"{url}/metrics", timeout=5).text
        assert 'cme_gateway_requests_total{route="/v1/messages",status="201"} 1.0' in metrics
    finally:
        output = _stop(process)
    assert process.returncode == 0, output
    assert "router.stopped" in output


def test_serve_without_rabbitmq_answers_at_once_and_still_stops_cleanly(
    container: Container,
) -> None:
    process, url = _start(container, "amqp://guest:guest@127.0.0.1:9/")  # nothing listens
    try:
        _wait_ready(url, process)  # the gateway is useful with its database alone
        ready = httpx.get(f"{url}/readyz", timeout=5).json()
        assert ready["checks"] == {"database": True, "rabbitmq": False}
        started = time.monotonic()
        _message_id, response = _submit(container, url)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "queued"
        assert time.monotonic() - started < 2 * container.settings.gateway_hub_timeout_s
    finally:
        stopping = time.monotonic()
        output = _stop(process)
    assert process.returncode == 0, output
    assert time.monotonic() - stopping < 20, output
    assert "serve.router_waiting_for_rabbitmq" in output
