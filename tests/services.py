"""Helpers for finding the real services the integration tests need.

The fixtures in ``tests/conftest.py`` use these to decide, for RabbitMQ and PostgreSQL, whether
to use a local service, start a throwaway container (only where a Docker engine is reachable),
fail (in CI, where a missing service is a broken pipeline, not a reason to skip) or skip.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

RABBITMQ_IMAGE = "rabbitmq:3.13-management"
POSTGRES_IMAGE = "postgres:15"

_DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671, "postgresql": 5432, "postgres": 5432}
_FALSE_WORDS = {"", "0", "false", "no", "off"}


def in_ci() -> bool:
    """True when the CI variable is set to anything but an explicit false."""
    return os.environ.get("CI", "").strip().lower() not in _FALSE_WORDS


def host_port(url: str) -> tuple[str, int]:
    """The host and port a service URL points at, with the scheme's default port."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    host = parts.hostname or "127.0.0.1"
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    if port is None:
        raise ValueError(f"no port in {redact(url)} and no default for scheme {scheme!r}")
    return host, port


def tcp_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a TCP connection to host:port opens within the timeout."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_tcp(host: str, port: int, timeout: float = 60.0, interval: float = 0.5) -> bool:
    """Poll host:port until it accepts a TCP connection or the timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        if tcp_reachable(host, port, timeout=min(1.0, timeout)):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def docker_available(timeout: float = 3.0) -> bool:
    """True when a Docker engine answers a ping (a docker client alone is not enough)."""
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # no socket, refused, bad DOCKER_HOST: all mean "no engine"
        return False


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo = f"{parts.username or ''}:***@"
    hostinfo = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=userinfo + hostinfo))


def plain_postgres_url(url: str) -> str:
    """Drop a SQLAlchemy driver suffix: ``postgresql+psycopg://`` becomes ``postgresql://``."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit(parts._replace(scheme=scheme))


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(dbname)))


def _rabbitmq_container_class() -> type | None:
    """testcontainers' RabbitMqContainer, or None where it cannot be imported.

    Its readiness probe needs pika, which is not one of our dependencies.
    """
    try:
        from testcontainers.community.rabbitmq import RabbitMqContainer
    except ImportError:
        try:
            from testcontainers.rabbitmq import RabbitMqContainer
        except ImportError:
            return None
    return RabbitMqContainer


@contextmanager
def rabbitmq_container() -> Iterator[str]:
    """Start a throwaway RabbitMQ container and yield its AMQP URL (needs a Docker engine)."""
    container_class = _rabbitmq_container_class()
    if container_class is not None:
        with container_class(RABBITMQ_IMAGE) as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(container.port)
            yield f"amqp://{container.username}:{container.password}@{host}:{port}/"
        return

    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    with DockerContainer(RABBITMQ_IMAGE).with_exposed_ports(5672) as container:
        wait_for_logs(container, "Server startup complete", timeout=120)
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(5672))
        if not wait_for_tcp(host, port, timeout=30):
            raise RuntimeError(f"RabbitMQ container started but {host}:{port} is not reachable")
        yield f"amqp://guest:guest@{host}:{port}/"


@contextmanager
def postgres_container() -> Iterator[str]:
    """Start a throwaway PostgreSQL container and yield a ``postgresql://`` URL."""
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        from testcontainers.postgres import PostgresContainer

    with PostgresContainer(
        POSTGRES_IMAGE, username="postgres", password="postgres", dbname="postgres", driver=None
    ) as container:
        yield plain_postgres_url(container.get_connection_url())
