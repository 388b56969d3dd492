"""The definitions the deployment loads, imported into a real RabbitMQ (issue 6, section 3).

`cme-broker topology export` runs exactly as deploy/compose.yml's `topology-export` service runs
it (its command and settings, production mode) for a directory with a few agencies, except
that it writes a throwaway virtual host; `rabbitmqctl import_definitions` loads the file. The
users (no passwords), their permissions and topic permissions, and the quorum queues must all
be there, and the gateway's user must be able to do what it is for (publish any sender's
ingress key, read agency inboxes) and nothing else. The virtual host and every imported user
are deleted afterwards, even when the test fails.

rabbitmq.conf, and the RabbitmqCluster's additionalConfig, also go through the installed
RabbitMQ's own configuration schema (cuttlefish, as a node does at boot): every key must be
known, every value valid, and the translation what we mean. The installed RabbitMQ may be older
than the 3.13 the deployment runs: keys newer than it are left out of that check and named.

RabbitMQ users are global: the rabbitmqctl helpers of test_isolation refuse to touch a user
that exists with permissions outside these tests' throwaway virtual hosts ("cme-defs-...").
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import pytest
import yaml
from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, AbstractConnection
from pydantic import SecretStr

from broker.app import Container
from broker.settings import Environment, Settings
from broker.transport.definitions import GATEWAY_USER, ROUTER_USER, gateway_permissions
from broker.transport.topology import Topology, routing_word
from tests.integration.test_isolation import (
    Broker,
    _argument_map,
    _best_effort,
    claim_users,
    ctl,
    ctl_all,
    rabbitmqctl,
    refused,
)
from tests.services import in_ci

pytestmark = pytest.mark.rabbitmq

__all__ = ["rabbitmqctl"]  # the fixture, shared with test_isolation

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 10.0


def export_service() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yml").read_text())
    service: dict[str, Any] = compose["services"]["topology-export"]
    return service


@dataclass(frozen=True)
class Imported:
    """The exported document, as imported into `vhost`."""

    vhost: str
    agencies: list[str]
    document: dict[str, Any]
    topology: Topology


def export_like_compose(data_dir: Path, agencies: list[str], vhost: str, out: Path) -> None:
    """Register `agencies` in a fresh directory, then run the compose service's command."""
    service = export_service()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CME_")}
    env.update(service["environment"])
    env.update(
        CME_DATA_DIR=str(data_dir),
        CME_KEYSTORE_DIR=str(data_dir / "keystore"),
        CME_DATABASE_URL=f"sqlite:///{data_dir / 'cme.db'}",  # PostgreSQL in the stack
        CME_PSEUDONYM_KEY=secrets.token_urlsafe(48),
    )
    settings = Settings(
        environment=Environment(env["CME_ENVIRONMENT"]),
        data_dir=data_dir,
        database_url=env["CME_DATABASE_URL"],
        keystore_dir=data_dir / "keystore",
        pseudonym_key=SecretStr(env["CME_PSEUDONYM_KEY"]),
        rabbitmq_url=SecretStr(env["CME_RABBITMQ_URL"]),
        topology_prefix=env["CME_TOPOLOGY_PREFIX"],
    )
    store = Container(settings).directory_store
    for agency in agencies:
        store.add_agency(agency, f"test agency {agency}", home_la="331")
    command = list(service["command"])
    command[command.index("--vhost") + 1] = vhost
    command[command.index("--out") + 1] = str(out)
    cli = Path(sys.executable).parent / "cme-broker"
    result = subprocess.run(
        [str(cli), *command], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture(scope="module")
def imported(rabbitmqctl: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    vhost = f"cme-defs-deploy-{uuid.uuid4().hex[:12]}"
    # Agency users are global: codes unique to this run, so nothing real is overwritten.
    agencies = [
        "la:331",
        f"school:331{secrets.randbelow(9000) + 1000}",
        f"health:D{secrets.token_hex(3).upper()}",
    ]
    # rabbitmqctl runs as the broker's OS user: a world-readable file outside pytest's private
    # directories (no secret in it: users without password hashes).
    handle, name = tempfile.mkstemp(prefix="cme-deploy-definitions-", suffix=".json")
    os.close(handle)
    out = Path(name)
    users: list[str] = []
    try:
        export_like_compose(tmp_path_factory.mktemp("hub"), agencies, vhost, out)
        out.chmod(0o644)
        document = json.loads(out.read_text())
        users = [u["name"] for u in document["users"]]
        claim_users(users)  # leftovers of an earlier run are imported over and deleted below
        ctl("import_definitions", str(out))
        prefix = export_service()["environment"]["CME_TOPOLOGY_PREFIX"]
        yield Imported(vhost, agencies, document, Topology(prefix=prefix))
    finally:
        out.unlink(missing_ok=True)
        _best_effort([*(["delete_user", u] for u in users), ["delete_vhost", vhost]])


def listing(*command: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ctl(*command, "--formatter", "json") or "[]")
    return rows


def test_the_export_has_the_hub_users_and_one_per_agency(imported: Imported) -> None:
    users = [u["name"] for u in imported.document["users"]]
    assert users[:2] == [ROUTER_USER, GATEWAY_USER]
    assert sorted(users[2:]) == sorted(routing_word(a) for a in imported.agencies)
    assert {u["password_hash"] for u in imported.document["users"]} == {""}
    assert imported.document["vhosts"] == [{"name": imported.vhost}]


def test_users_and_permissions_landed(imported: Imported) -> None:
    on_broker = {row["user"]: row for row in listing("list_users")}
    for user in imported.document["users"]:
        assert on_broker[user["name"]]["tags"] == [], user["name"]
    permissions, topic_permissions = (
        json.loads(out or "[]")
        for out in ctl_all(
            [
                ["list_permissions", "-p", imported.vhost, "--formatter", "json"],
                ["list_topic_permissions", "-p", imported.vhost, "--formatter", "json"],
            ]
        )
    )
    keys = ("user", "configure", "write", "read")
    assert {tuple(r[k] for k in keys) for r in permissions} == {
        tuple(p[k] for k in keys) for p in imported.document["permissions"]
    }
    keys = ("user", "exchange", "write", "read")
    assert {tuple(r[k] for k in keys) for r in topic_permissions} == {
        tuple(t[k] for k in keys) for t in imported.document["topic_permissions"]
    }
    gateway = gateway_permissions(imported.topology, imported.vhost)
    assert (GATEWAY_USER, gateway["configure"], gateway["write"], gateway["read"]) in {
        tuple(r[k] for k in ("user", "configure", "write", "read")) for r in permissions
    }


def test_every_queue_is_a_durable_quorum_queue(imported: Imported) -> None:
    rows = listing("list_queues", "-p", imported.vhost, "name", "type", "durable", "arguments")
    queues = {row["name"]: row for row in rows}
    assert set(queues) == {q["name"] for q in imported.document["queues"]}
    for name, row in queues.items():
        assert row["type"] == "quorum", name
        assert row["durable"], name
    for agency in imported.agencies:
        inbox = imported.topology.agency_queue(agency)
        arguments = _argument_map(queues[inbox]["arguments"])
        assert arguments == imported.topology.queue_arguments(inbox)


@pytest.fixture
async def as_gateway(imported: Imported, rabbitmq_url: str) -> AsyncIterator[AbstractConnection]:
    """A connection as the imported gateway user. Production authenticates it by client
    certificate (EXTERNAL); here a password set for the test, on the plain listener."""
    password = secrets.token_hex(16)
    ctl("change_password", GATEWAY_USER, password)
    url = Broker.from_url(rabbitmq_url).url(GATEWAY_USER, password, imported.vhost)
    connection = await aio_pika.connect(url, timeout=15)
    async with connection:
        yield connection


def message() -> Message:
    return Message(
        f"deploy-{uuid.uuid4().hex}".encode(),
        delivery_mode=DeliveryMode.PERSISTENT,
        user_id=GATEWAY_USER,
    )


async def get(channel: AbstractChannel, queue: str) -> object:
    return await (await channel.get_queue(queue, ensure=False)).get(fail=False, timeout=TIMEOUT_S)


async def publish(channel: AbstractChannel, exchange: str, key: str) -> object:
    target = await channel.get_exchange(exchange, ensure=False)
    return await target.publish(message(), key, mandatory=True, timeout=TIMEOUT_S)


async def test_the_gateway_relays_for_any_agency(
    imported: Imported, as_gateway: AbstractConnection
) -> None:
    """Any sender's ingress key, under its own user_id (the router decides, on the signed
    envelope); every agency's inbox is readable."""
    t = imported.topology
    channel = await as_gateway.channel(publisher_confirms=True)
    for agency in imported.agencies:
        await publish(channel, t.ingress, t.ingress_key(agency))
        assert await get(channel, t.agency_queue(agency)) is None  # readable, and empty


async def test_the_gateway_can_do_nothing_else(
    imported: Imported, as_gateway: AbstractConnection
) -> None:
    t = imported.topology
    school = imported.agencies[1]
    queues = (t.dead_letter_queue(t.agency_queue(school)), t.router_queue, t.refused_queue)
    for queue in (*queues, t.dead_letter_log):
        await refused(as_gateway, lambda c, q=queue: get(c, q))  # type: ignore[misc]
    around = ((t.deliver, routing_word(school)), (t.retry, f"1s.{t.agency_queue(school)}"))
    for exchange, key in around:
        await refused(as_gateway, lambda c, e=exchange, k=key: publish(c, e, k))  # type: ignore[misc]
    await refused(as_gateway, lambda c: publish(c, t.ingress, "in.#"))  # topic permission
    await refused(
        as_gateway,
        lambda c: c.declare_queue(f"{t.prefix}.q.school.{uuid.uuid4().hex[:6]}", durable=True),
    )


# -- rabbitmq.conf through RabbitMQ's own configuration schema --------------------------------

RABBITMQ_LIBS = "/usr/lib/rabbitmq/lib"
NEWER_KEYS = {"default_queue_type": (3, 13, 3)}
"""rabbitmq.conf keys and the first RabbitMQ release that knows them."""
TRANSLATE = """
Schemas = filelib:wildcard(os:getenv("CME_SCHEMAS")),
Conf = cuttlefish_conf:files([os:getenv("CME_CONF")]),
case cuttlefish_generator:map(cuttlefish_schema:files(Schemas), Conf) of
  {error, Phase, Errors} -> io:format("error ~w ~0p~n", [Phase, Errors]);
  Config -> [io:format("~w.~w = ~0p~n", [App, Key, Value]) || {App, Values} <- Config,
             lists:member(App, [rabbit, rabbitmq_management, rabbitmq_prometheus]),
             {Key, Value} <- Values]
end,
halt().
"""


@dataclass(frozen=True)
class InstalledRabbitmq:
    plugins: Path
    version: tuple[int, ...]


@pytest.fixture(scope="module")
def installed_rabbitmq() -> InstalledRabbitmq:
    found = sorted(Path(RABBITMQ_LIBS).glob("rabbitmq_server-*/plugins"))
    if not found or shutil.which("erl") is None:
        message = f"no RabbitMQ installation under {RABBITMQ_LIBS} (and erl) to check the config"
        if in_ci():
            pytest.fail(f"{message} (CI is set, so this is a failure)", pytrace=False)
        pytest.skip(message)
    plugins = found[-1]
    version = tuple(int(n) for n in re.findall(r"\d+", plugins.parent.name.split("-", 1)[1]))
    return InstalledRabbitmq(plugins, version)


def translate(rabbitmq: InstalledRabbitmq, conf: str, folder: Path) -> dict[str, str]:
    """`app.key` -> Erlang term, as the installed RabbitMQ's schema translates `conf`."""
    path = folder / "rabbitmq.conf"
    path.write_text(conf)
    paths = [arg for ebin in sorted(rabbitmq.plugins.glob("*/ebin")) for arg in ("-pa", str(ebin))]
    schemas = "{rabbit,rabbitmq_management,rabbitmq_prometheus}-*/priv/schema/*.schema"
    env = {
        **os.environ,
        "CME_SCHEMAS": str(rabbitmq.plugins / schemas),
        "CME_CONF": str(path),
        "ERL_CRASH_DUMP_SECONDS": "0",
    }
    result = subprocess.run(
        ["erl", "-noshell", *paths, "-eval", TRANSLATE],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    # An unknown key or an invalid value: cuttlefish reports it and maps nothing.
    assert not result.stdout.startswith("error "), output[-3000:]
    assert "ERROR REPORT" not in output, output[-3000:]
    return dict(line.split(" = ", 1) for line in result.stdout.splitlines() if " = " in line)


def for_installed(rabbitmq: InstalledRabbitmq, conf: str, files: Path) -> str:
    """`conf` with the keys the installed RabbitMQ does not know yet left out, and the TLS and
    definitions paths pointed at real files (the schema checks they are readable)."""
    kept = []
    for line in conf.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in NEWER_KEYS and rabbitmq.version < NEWER_KEYS[key]:
            continue
        kept.append(line)
    text = "\n".join(kept) + "\n"
    text = text.replace("/etc/rabbitmq/tls/", f"{files}/rabbitmq/")
    return text.replace("/etc/rabbitmq/definitions/", f"{files}/")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev CA's files and an empty definitions file, where the config can point."""
    folder = tmp_path_factory.mktemp("rabbitmq-files")
    tool = ROOT / "deploy" / "tls" / "make_dev_ca.py"
    result = subprocess.run(
        [sys.executable, str(tool), "--out", str(folder / "rabbitmq-tls")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (folder / "rabbitmq-tls" / "definitions.json").write_text("{}")
    return folder / "rabbitmq-tls"


def test_rabbitmq_conf_passes_rabbitmqs_own_schema(
    installed_rabbitmq: InstalledRabbitmq, tls_files: Path, tmp_path: Path
) -> None:
    conf = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text()
    config = translate(
        installed_rabbitmq, for_installed(installed_rabbitmq, conf, tls_files), tmp_path
    )
    assert config["rabbit.tcp_listeners"] == "[]"
    assert config["rabbit.ssl_listeners"] == "[5671]"
    for option in ("{verify,verify_peer}", "{fail_if_no_peer_cert,true}", f"{tls_files}/rabbitmq/"):
        assert option in config["rabbit.ssl_options"], option
    assert config["rabbit.auth_mechanisms"] == "['EXTERNAL']"
    assert config["rabbit.ssl_cert_login_from"] == "common_name"
    assert config["rabbit.max_message_size"] == "524288"
    assert config["rabbit.cluster_partition_handling"] == "pause_minority"
    nodes = re.findall(r"'rabbit@(rabbitmq-\d)'", config["rabbit.cluster_nodes"])
    assert sorted(nodes) == ["rabbitmq-1", "rabbitmq-2", "rabbitmq-3"]
    assert config["rabbit.load_definitions"] == f'"{tls_files}/definitions.json"'
    assert "{port,15671}" in config["rabbitmq_management.ssl_config"]
    assert "{port,15691}" in config["rabbitmq_prometheus.ssl_config"]
    assert "rabbitmq_management.tcp_config" not in config
    if installed_rabbitmq.version >= NEWER_KEYS["default_queue_type"]:
        assert config["rabbit.default_queue_type"] == "rabbit_quorum_queue"


def test_the_operators_additional_config_passes_rabbitmqs_own_schema(
    installed_rabbitmq: InstalledRabbitmq, tls_files: Path, tmp_path: Path
) -> None:
    manifests = yaml.safe_load_all((ROOT / "deploy" / "k8s" / "rabbitmq.yaml").read_text())
    (cluster,) = [m for m in manifests if m["kind"] == "RabbitmqCluster"]
    conf = for_installed(
        installed_rabbitmq, cluster["spec"]["rabbitmq"]["additionalConfig"], tls_files
    )
    config = translate(installed_rabbitmq, conf, tmp_path)
    assert config["rabbit.auth_mechanisms"] == "['EXTERNAL']"
    assert config["rabbit.max_message_size"] == "524288"
