"""Shared fixtures: real RabbitMQ and PostgreSQL for integration tests, unique names.

Where a service comes from, in order:

1. the URL in ``CME_RABBITMQ_URL`` / ``CME_TEST_POSTGRES_URL`` (or the local default), if it
   accepts a TCP connection (``make test`` starts the local services first);
2. when no URL was configured and a Docker engine answers, a throwaway testcontainers container;
3. otherwise the test fails in CI (``CI`` set: a missing service is a broken pipeline) and is
   skipped elsewhere, with a message saying how to provide the service.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from tests.services import (
    DEFAULT_POSTGRES_URL,
    DEFAULT_RABBITMQ_URL,
    docker_available,
    host_port,
    in_ci,
    plain_postgres_url,
    postgres_container,
    rabbitmq_container,
    redact,
    tcp_reachable,
    with_database,
)

RABBITMQ_ENV = "CME_RABBITMQ_URL"
POSTGRES_ENV = "CME_TEST_POSTGRES_URL"
CONNECT_TIMEOUT_S = 2.0


def _configured(env: str) -> str | None:
    value = os.environ.get(env, "").strip()
    return value or None


def _unavailable(message: str) -> None:
    """Fail in CI (never skip there), skip elsewhere."""
    if in_ci():
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def _service_url(
    *,
    name: str,
    env: str,
    default: str,
    container: Callable[[], Iterator[str]],
) -> Iterator[str]:
    configured = _configured(env)
    url = configured or default
    host, port = host_port(url)
    if tcp_reachable(host, port, timeout=CONNECT_TIMEOUT_S):
        yield url
        return
    hint = (
        f"{name} is not reachable at {host}:{port} ({env}={redact(url)}): run `make services`, "
        f"or `docker compose -f deploy/compose.dev.yml up -d` where a Docker engine exists, "
        f"or set {env}"
    )
    if configured is None and docker_available():
        yield from container()
        return
    _unavailable(hint)


def _rabbitmq_from_container() -> Iterator[str]:
    with rabbitmq_container() as url:
        yield url


def _postgres_from_container() -> Iterator[str]:
    with postgres_container() as url:
        yield url


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """An AMQP URL for a reachable RabbitMQ (see the module docstring for where it comes from)."""
    yield from _service_url(
        name="RabbitMQ",
        env=RABBITMQ_ENV,
        default=DEFAULT_RABBITMQ_URL,
        container=_rabbitmq_from_container,
    )


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A ``postgresql://`` URL for the server's maintenance database (not for tests' data)."""
    for url in _service_url(
        name="PostgreSQL",
        env=POSTGRES_ENV,
        default=DEFAULT_POSTGRES_URL,
        container=_postgres_from_container,
    ):
        yield plain_postgres_url(url)


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A ``postgresql://`` URL for a fresh database ``cme_test_<hex>``, dropped at session end."""
    dbname = f"cme_test_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(
            postgres_server_url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT_S) + 3
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        # Reachable but unusable (credentials, permissions) is a configuration error: say so.
        pytest.fail(
            f"PostgreSQL at {redact(postgres_server_url)} is reachable but CREATE DATABASE "
            f"failed: {exc}",
            pytrace=False,
        )
    yield with_database(postgres_server_url, dbname)
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


@pytest.fixture
def unique_name() -> Callable[..., str]:
    """A function returning uuid-unique names (queues, exchanges, agencies in tests).

    ``unique_name()`` gives ``test.<32 hex>``; ``unique_name("inbox")`` gives ``inbox.<32 hex>``.
    """

    def make(prefix: str = "test") -> str:
        return f"{prefix}.{uuid.uuid4().hex}"

    return make
